"""A diffusers attention processor that applies Self-Rectifying Attention (SRA) to self-attention.

It follows diffusers' ``AttnProcessor2_0`` step by step (same projections, same
``F.scaled_dot_product_attention`` call) and adds one thing: a boolean ``attn_mask`` built from the erase
mask at the layer's resolution (`SRAState.allowed`), broadcast over heads. Where nothing is blocked it
passes ``attn_mask=None``, so the result is bit for bit diffusers' own. Cross-attention calls (text
tokens as keys) are handed to the layer's original processor untouched.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from .masks import check_erase_mask, flat_mask, layer_grid, sra_allowed


class SRAState:
    """What every SRA layer of one UNet shares: the mask, the rule, and the current forward pass.

    `begin` is called before each UNet forward (by the hook `self_rectifying_attention` installs) with the
    UNet's input and timestep: it checks the mask against the input size and decides, per batch item,
    whether the timestep lies in ``timesteps`` (inclusive ``(low, high)``; None = always).
    """

    def __init__(self, mask: torch.Tensor, rule: str = "eq10", timesteps: tuple[int, int] | None = None):
        sra_allowed(torch.zeros(1, 1, dtype=torch.bool), rule)  # refuses an unknown rule early
        if timesteps is not None and (len(timesteps) != 2 or timesteps[0] > timesteps[1]):
            raise ValueError(f"timesteps must be an inclusive range (low, high) with low <= high, got {timesteps}")
        self.mask, self.rule, self.timesteps = check_erase_mask(mask), rule, timesteps
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

    def allowed(self, hw: tuple[int, int], batch: int, device) -> torch.Tensor | None:
        """Bool ``[batch, 1, N, N]`` (True = may attend) for a layer on grid ``hw``, or None if nothing is blocked."""
        key = (*hw, batch, str(device))
        if key not in self._allowed:
            self.check_batch(batch)
            m = self.layer_mask(hw, device).repeat(batch // self.mask.shape[0], 1)  # CFG: [uncond; cond]
            if self.active is not None:
                m = m & self.active.to(device)[:, None]
            self._allowed[key] = sra_allowed(m, self.rule)[:, None] if m.any() else None
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


class SelfRectifyingAttnProcessor:
    """``AttnProcessor2_0`` with SRA's boolean mask on self-attention; cross-attention goes to ``fallback``."""

    def __init__(self, state: SRAState, fallback):
        self.state, self.fallback = state, fallback
        self.last_allowed: torch.Tensor | None = None  # the mask of the latest call (read by heatmap capture)

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
        allowed = self.last_allowed = self.state.allowed(hw, batch, hidden_states.device)
        n_tokens = hw[0] * hw[1]
        if attention_mask is not None:  # an additive mask from the caller: add -inf where SRA blocks
            attention_mask = attn.prepare_attention_mask(attention_mask, n_tokens, batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
            if allowed is not None:
                attention_mask = attention_mask.masked_fill(~allowed, float("-inf"))
        else:
            attention_mask = allowed
        query, key, value = project_qkv(attn, hidden_states)
        # softmax(q k^T / sqrt(d) + B) v with B = -inf on blocked pairs (Eq. 11 as a boolean mask)
        hidden_states = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, dropout_p=0.0,
                                                       is_causal=False)
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
