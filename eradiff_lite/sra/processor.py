"""A diffusers attention processor that applies Self-Rectifying Attention (SRA) to self-attention.

It follows diffusers' ``AttnProcessor2_0`` step by step (same projections, same
``F.scaled_dot_product_attention`` call) and changes only which keys a query may read, from the erase mask
at the layer's resolution (`SRAState.hole_tokens`). No N x N mask is formed: under Eq. 10 a background
query reads every key, exactly as in plain attention, and a hole query reads the background keys only, so

    out[background] = softmax(q_bg K^T / sqrt(d)) V              (plain attention, fused kernels)
    out[hole]       = softmax(q_hole K_bg^T / sqrt(d)) V_bg      (attention over the gathered background)

and under ``"keys"`` every query takes the second line (`gathered_attention`). Batch items with the same
mask (classifier-free guidance repeats the batch) share one call. Where nothing is blocked the call is
bit for bit diffusers' own. A caller's own additive ``attention_mask`` takes the dense path instead (the
boolean ``[B, 1, N, N]`` mask of `SRAState.allowed`, added as -inf). Cross-attention calls (text tokens
as keys) are handed to the layer's original processor untouched.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from ..data.erase_mask import mask_batch
from .layer_masks import flat_mask, layer_grid, sra_allowed


class SRAState:
    """What every SRA layer of one UNet shares: the mask, the rule, and the current forward pass. ``mask``: one
    `EraseMask` or a list of them (one per image), or a ``[B, 1, H, W]`` tensor (1 = erase) (`data.mask_batch`).

    `begin` is called before each UNet forward (by the hook `self_rectifying_attention` installs) with the
    UNet's input and timestep: it checks the mask against the input size and decides, per batch item,
    whether the timestep lies in ``timesteps`` (inclusive ``(low, high)``; None = always).
    """

    def __init__(self, mask, rule: str = "eq10", timesteps: tuple[int, int] | None = None):
        sra_allowed(torch.zeros(1, 1, dtype=torch.bool), rule)  # refuses an unknown rule early
        if timesteps is not None and (len(timesteps) != 2 or timesteps[0] > timesteps[1]):
            raise ValueError(f"timesteps must be an inclusive range (low, high) with low <= high, got {timesteps}")
        # EraseMasks as they are (checked where they entered), a [B, 1, H, W] tensor checked there once
        self.mask, self.rule, self.timesteps = mask_batch(mask), rule, timesteps
        self.sample_hw: tuple[int, int] | None = None
        self.active: torch.Tensor | None = None  # [B] bool: SRA on for this batch item at this timestep
        self._m: dict = {}        # (h, w, device) -> m [B_mask, N], kept across forwards
        self._allowed: dict = {}  # (N, batch, device) -> allowed, for the current forward only
        self._warned: set = set()

    def begin(self, sample: torch.Tensor, timestep) -> None:
        """Check the mask against the UNet input ``sample`` [B, C, h, w] and note which items are active."""
        (mh, mw), (h, w) = self.mask.shape[-2:], sample.shape[-2:]
        if mh % h or mw % w or mh // h != mw // w:
            raise ValueError(f"erase mask is {mh} x {mw} but the UNet input is {h} x {w}: pass the mask at the "
                             f"input size (or an integer multiple of it, e.g. pixels for a latent model)")
        self.check_batch(sample.shape[0])
        self.sample_hw, self._allowed = (h, w), {}
        self.active = None
        if self.timesteps is not None:
            t = torch.as_tensor(timestep).flatten().to(sample.device)
            t = t.expand(sample.shape[0]) if t.numel() == 1 else t
            self.active = (t >= self.timesteps[0]) & (t <= self.timesteps[1])

    def check_batch(self, batch: int) -> None:
        if batch % self.mask.shape[0]:
            raise ValueError(f"attention batch {batch} is not a multiple of the mask batch {self.mask.shape[0]}: "
                             f"give one mask per image (classifier-free guidance may repeat the batch k times)")

    def layer_mask(self, hw: tuple[int, int], device) -> torch.Tensor:
        """``m`` [B_mask, h * w] at grid ``hw``; items whose hole covers the whole grid get no SRA (warned)."""
        key = (*hw, str(device))
        if key not in self._m:
            m = flat_mask(self.mask.to(device), hw)
            full = m.all(dim=1)
            if full.any():
                if hw not in self._warned:
                    warnings.warn(f"at {hw[0]} x {hw[1]} the max-pooled hole covers every token of batch item(s) "
                                  f"{full.nonzero().flatten().tolist()}: plain attention there", stacklevel=3)
                    self._warned.add(hw)
                m = m & ~full[:, None]
            self._m[key] = m
        return self._m[key]

    def hole_tokens(self, hw: tuple[int, int], batch: int, device) -> torch.Tensor | None:
        """Bool ``[batch, N]``: the hole's tokens of each item on grid ``hw`` where SRA is active now, or None
        if nothing is blocked."""
        key = ("m", *hw, batch, str(device))
        if key not in self._allowed:
            self.check_batch(batch)
            m = self.layer_mask(hw, device).repeat(batch // self.mask.shape[0], 1)  # CFG: [uncond; cond]
            if self.active is not None:
                m = m & self.active.to(device)[:, None]
            self._allowed[key] = m if m.any() else None
        return self._allowed[key]

    def allowed(self, hw: tuple[int, int], batch: int, device) -> torch.Tensor | None:
        """Bool ``[batch, 1, N, N]`` (True = may attend) for a layer on grid ``hw``, or None if nothing is blocked.

        The dense form of the rule: for heatmaps and for a caller's own attention mask; the processor itself
        never builds it otherwise."""
        key = (*hw, batch, str(device))
        if key not in self._allowed:
            m = self.hole_tokens(hw, batch, device)
            self._allowed[key] = None if m is None else sra_allowed(m, self.rule)[:, None]
        return self._allowed[key]


def project_qkv(attn, hidden_states: torch.Tensor):
    """diffusers' ``AttnProcessor2_0`` up to the attention: tokens, group norm, q/k/v as [B, heads, N, d]."""
    if hidden_states.ndim == 4:
        batch, channel, height, width = hidden_states.shape
        hidden_states = hidden_states.view(batch, channel, height * width).transpose(1, 2)
    batch = hidden_states.shape[0]
    if attn.group_norm is not None:
        hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
    query, key, value = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
    head_dim = key.shape[-1] // attn.heads
    query, key, value = (x.view(batch, -1, attn.heads, head_dim).transpose(1, 2) for x in (query, key, value))
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    return query, key, value


def _attend(query, key, value):
    """Fused SDPA; 3-D ``[slices, N, d]`` inputs get a head axis (a 4-D call keeps the flash kernel)."""
    if query.ndim == 3:
        return F.scaled_dot_product_attention(query[:, None], key[:, None], value[:, None], dropout_p=0.0)[:, 0]
    return F.scaled_dot_product_attention(query, key, value, dropout_p=0.0, is_causal=False)


def gathered_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, hole: torch.Tensor,
                       rule: str = "eq10", chunk_bytes: int = 2**22) -> torch.Tensor:
    """SRA's attention without an N x N mask: ``query, key, value`` ``[B, heads, N, d]``, ``hole`` ``[B, N]`` bool.

    ``"eq10"``: plain attention for every query (one fused call), then the hole queries' rows are replaced
    by attention over the background keys only; ``"keys"``: every query attends to the background keys only.
    Equal to ``softmax(q k^T / sqrt(d) + B) v`` with ``B = -inf`` on the blocked pairs (`sra_allowed`).
    Items with the same mask are one group; the gathered keys and values of a group are copied a few
    (item, head) slices at a time, about ``chunk_bytes`` each, so the copy stays small beside q, k and v.
    An item whose hole covers every token reads plain attention (`SRAState.layer_mask` warned about it).
    """
    h, d = query.shape[1], query.shape[-1]
    out = _attend(query, key, value) if rule == "eq10" else torch.empty_like(query)
    if torch.is_grad_enabled() and (query.requires_grad or key.requires_grad or value.requires_grad):
        out = out.clone()  # the rows are replaced in place below; SDPA's backward needs its own output intact
    rows, group_of = torch.unique(hole, dim=0, return_inverse=True)  # items with one mask share the calls
    heads = torch.arange(h, device=query.device)
    for g, row in enumerate(rows):
        items = (group_of == g).nonzero().flatten()
        pairs = torch.cartesian_prod(items, heads) if items.numel() > 1 else torch.stack(
            [items.expand(h), heads], 1)  # (item, head) slices of this group
        if not row.any() or row.all():
            if rule != "eq10":
                i, j = pairs.T
                out[i, j] = _attend(query[i, j], key[i, j], value[i, j])
            continue
        background = (~row).nonzero().flatten()
        queries = row.nonzero().flatten() if rule == "eq10" else None  # the rows that change
        step = max(1, chunk_bytes // max(1, background.numel() * d * key.element_size()))
        for part in pairs.split(step):
            i, j = part.T
            k_bg = key[i[:, None], j[:, None], background]  # [chunk, N_bg, d], one gather
            v_bg = value[i[:, None], j[:, None], background]
            if queries is None:
                out[i, j] = _attend(query[i, j], k_bg, v_bg)
            else:  # hole queries read background keys only
                out[i[:, None], j[:, None], queries] = _attend(query[i[:, None], j[:, None], queries], k_bg, v_bg)
    return out


class SelfRectifyingAttnProcessor:
    """``AttnProcessor2_0`` with SRA's boolean mask on self-attention; cross-attention goes to ``fallback``."""

    def __init__(self, state: SRAState, fallback):
        self.state, self.fallback = state, fallback
        self._last: tuple | None = None  # (grid, batch, device) of the latest call

    @property
    def last_allowed(self) -> torch.Tensor | None:
        """The dense ``[B, 1, N, N]`` rule of the latest call (built on demand, for heatmap capture)."""
        return None if self._last is None else self.state.allowed(*self._last)

    def grid(self, hidden_states: torch.Tensor) -> tuple[int, int]:
        if hidden_states.ndim == 4:
            return tuple(hidden_states.shape[-2:])
        if self.state.sample_hw is None:
            raise RuntimeError("token layer called outside a UNet forward: use `with self_rectifying_attention(unet, "
                               "mask): unet(...)` so the layer knows the image grid")
        return layer_grid(hidden_states.shape[1], self.state.sample_hw)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 *args, **kwargs):
        if encoder_hidden_states is not None:  # cross-attention: never rectified
            return self.fallback(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)
        residual, input_ndim = hidden_states, hidden_states.ndim
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        if input_ndim == 4:
            _, channel, height, width = hidden_states.shape
        batch, hw = hidden_states.shape[0], self.grid(hidden_states)
        self._last = (hw, batch, hidden_states.device)
        hole = self.state.hole_tokens(hw, batch, hidden_states.device)
        query, key, value = project_qkv(attn, hidden_states)
        if attention_mask is not None:  # an additive mask from the caller: add -inf where SRA blocks (dense)
            attention_mask = attn.prepare_attention_mask(attention_mask, hw[0] * hw[1], batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
            allowed = self.state.allowed(hw, batch, hidden_states.device)
            if allowed is not None:
                attention_mask = attention_mask.masked_fill(~allowed, float("-inf"))
            # softmax(q k^T / sqrt(d) + B) v with B = -inf on blocked pairs (Eq. 11 as a mask)
            hidden_states = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask,
                                                           dropout_p=0.0, is_causal=False)
        elif hole is None:
            hidden_states = _attend(query, key, value)  # nothing blocked: diffusers' own call
        else:
            hidden_states = gathered_attention(query, key, value, hole, self.state.rule)
        hidden_states = hidden_states.transpose(1, 2).reshape(batch, -1, attn.heads * query.shape[-1])
        hidden_states = hidden_states.to(query.dtype)
        hidden_states = attn.to_out[1](attn.to_out[0](hidden_states))  # linear projection, dropout
        if input_ndim == 4:
            hidden_states = hidden_states.transpose(-1, -2).reshape(batch, channel, height, width)
        if attn.residual_connection:
            hidden_states = hidden_states + residual
        return hidden_states / attn.rescale_output_factor


def attention_weights(attn, hidden_states: torch.Tensor, queries, allowed: torch.Tensor | None = None):
    """softmax(q_i k^T / sqrt(d)) for the chosen query indices only: ``[B, heads, len(queries), N]``.

    ``allowed`` (``[B, 1, N, N]`` bool, as SRA uses) blocks pairs with -inf; the full N x N matrix is
    never formed, only the rows asked for.
    """
    queries = torch.as_tensor(queries, dtype=torch.long, device=hidden_states.device).flatten()
    query, key, _ = project_qkv(attn, hidden_states)
    scores = query[:, :, queries] @ key.transpose(-1, -2) * query.shape[-1] ** -0.5
    if allowed is not None:
        scores = scores.masked_fill(~allowed[:, :, queries], float("-inf"))
    return scores.softmax(dim=-1)
