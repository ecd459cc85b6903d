"""The build exercise of notebook 04 (reused in 07): Self-Rectifying Attention as a diffusers attention processor.

The learner writes a class with the constructor of `sra.SelfRectifyingAttnProcessor`, ``(state, fallback)``, whose
``__call__`` applies Eq. 10-11: the erase mask ``state.mask`` max-pooled to the layer's grid, hole queries barred
from hole keys, the rest plain attention. `TEMPLATE` holds the plumbing (projections, output, residual) with three
lines left to write; `source` fills them, so the notebook's first guess, the solution and the tests' wrong answers
are one class each. `grade_sra_processor` runs an answer beside the package's processor on a small diffusers
``Attention`` layer and names the first symptom it sees (which tokens differ, NaN rows, ...), never the code.
"""

from __future__ import annotations

import warnings

import torch

from .check import NotYet

TEMPLATE = '''class MySRAProcessor:
    """Eq. 10-11 as a diffusers attention processor: hole queries may not read hole keys."""

    def __init__(self, state, fallback):
        self.state, self.fallback = state, fallback  # state.mask: [B, 1, H, W], 1 = erase

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        import torch.nn.functional as F
        from eradiff_lite.sra import layer_grid, project_qkv

        if encoder_hidden_states is not None:  # cross-attention (text keys): not SRA's business
            return self.fallback(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)
        residual, shape = hidden_states, hidden_states.shape
        hw = tuple(shape[-2:]) if len(shape) == 4 else layer_grid(shape[1], self.state.sample_hw)
        q, k, v = project_qkv(attn, hidden_states)  # [B, heads, N, d]; token n = y * w + x
        scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5  # [B, heads, N, N]
        mask = self.state.mask.to(q.device)  # [B_mask, 1, H, W]
        # --- your part (Eq. 10-11) ---
        m = {m}  # [B_mask, N] bool: the hole's tokens at grid hw
        m = m.repeat(q.shape[0] // m.shape[0], 1)  # classifier-free guidance repeats the batch
        allowed = {allowed}  # [B, 1, N, N] bool, True = may attend
        out = {out}  # [B, heads, N, d]
        # --- back to the layer's shape ---
        out = attn.to_out[1](attn.to_out[0](out.transpose(1, 2).reshape(shape[0], -1, attn.heads * q.shape[-1])))
        if len(shape) == 4:
            out = out.transpose(1, 2).reshape(shape)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor
'''
RIGHT = {"m": "F.adaptive_max_pool2d(mask, hw).flatten(1) > 0.5",
         "allowed": "~(m[:, None, :, None] & m[:, None, None, :]) | m.all(dim=1)[:, None, None, None]",
         "out": "scores.masked_fill(~allowed, float('-inf')).softmax(dim=-1) @ v"}
FIRST_GUESS = {"m": "F.interpolate(mask, size=hw).flatten(1) > 0.5",
               "allowed": "~m[:, None, None, :].expand(-1, 1, m.shape[1], -1)",
               "out": "scores.masked_fill(~allowed, float('-inf')).softmax(dim=-1) @ v"}
TASK = ("Build `MySRAProcessor(state, fallback)`: a diffusers attention processor applying Eq. 10-11 to "
        "self-attention. The erase mask state.mask [B, 1, H, W] (1 = erase) at the layer's grid h x w marks the "
        "hole's tokens; a query in the hole may not read a key in the hole; every other pair attends as usual. "
        "Where the hole covers every token of a grid, that item reads plain attention there. Write the three lines "
        "m, allowed and out.")
HINTS = ("Start from plain attention and change only what a query inside the hole may read. Which tokens are the "
         "hole depends on the grid: a token is hole as soon as one pixel of its cell is (the mask_at exercise); a "
         "query is blocked from a key only when both lie in the hole (the eq10 exercise). If the hole covers every "
         "token of a grid, SRA has no background to offer: that item reads plain attention there.",
         "m = max-pool(mask to h x w) > 0.5, flattened row-major; allowed[b, i, j] = not (m[b, i] and m[b, j]), "
         "or True for every pair of an item whose m is all True; out = softmax(q k^T / sqrt(d) + B) v with "
         "B = -inf where not allowed (Eq. 11).")


def source(**lines: str) -> str:
    """The class `TEMPLATE` with its three lines (``m``, ``allowed``, ``out``); missing ones are the solution's."""
    return TEMPLATE.format(**{**RIGHT, **lines})


SOLUTION = source()
STUB = source(**FIRST_GUESS)


def _layer(channels: int = 16, heads: int = 2):
    """An attention layer built like the lite UNet's (``AttnDownBlock2D``), with fixed random weights."""
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    with torch.random.fork_rng():
        torch.manual_seed(4)
        attn = Attention(channels, heads=heads, dim_head=channels // heads, norm_num_groups=4, residual_connection=True,
                         bias=True, upcast_softmax=True, _from_deprecated_attn_block=True)
        for p in attn.parameters():
            p.data.normal_(0, 0.5)
    attn.set_processor(AttnProcessor2_0())
    return attn.eval()


def _state(mask: torch.Tensor, sample_hw: tuple[int, int], rule: str = "eq10"):
    from ..sra import SRAState

    state = SRAState(mask, rule=rule)
    state.begin(torch.zeros(mask.shape[0], 1, *sample_hw), 500)
    return state


def _run(cls, attn, mask, hidden, sample_hw, **kwargs):
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        return cls(_state(mask, sample_hw, kwargs.pop("rule", "eq10")), attn.processor)(attn, hidden.clone(), **kwargs)


def _cases():
    g = torch.Generator().manual_seed(7)
    stroke = torch.zeros(2, 1, 16, 16)
    stroke[0, 0, 3:9, 5] = 1  # one pixel wide: at 8 x 8 it covers a quarter or half of each cell
    stroke[1, 0, 9:15, 2:7] = 1  # a block low on the left
    dots = torch.zeros(1, 1, 16, 16)
    dots[..., 2, 3] = dots[..., 4, 12] = dots[..., 11, 1] = dots[..., 13, 14] = 1  # one dot in each quarter
    feature_map, coarse = torch.randn(2, 16, 8, 8, generator=g), torch.randn(1, 16, 2, 2, generator=g)
    return [("an 8 x 8 feature map (2 images: a one-pixel stroke, a block)", stroke, feature_map),
            ("a 2 x 2 grid where the hole, at grid size, covers every token", dots, coarse),
            ("tokens [B, N, C] as in Stable Diffusion (grid 8 x 8 from the mask's 16 x 16)", stroke,
             torch.randn(2, 64, 16, generator=g))]


def _diagnose(got, want, mask, hidden, attn, where: str):
    """Name the first symptom of ``got`` != ``want`` (both the layer's output for ``hidden``)."""
    from ..sra import SelfRectifyingAttnProcessor as Ref
    from ..sra import flat_mask, layer_grid

    tokens = (lambda x: x.flatten(2).transpose(1, 2)) if hidden.ndim == 4 else (lambda x: x)
    hw = tuple(hidden.shape[-2:]) if hidden.ndim == 4 else layer_grid(hidden.shape[1], tuple(mask.shape[-2:]))
    bad = ~torch.isclose(tokens(got), tokens(want), rtol=1e-4, atol=1e-5).all(dim=-1)  # [B, N] tokens that differ
    hole = flat_mask(mask, hw).repeat(hidden.shape[0] // mask.shape[0], 1)
    if torch.isnan(got).any():
        raise NotYet(f"{where}: {int(torch.isnan(tokens(got)).any(-1).sum())} tokens are NaN: a "
                     f"softmax over a row whose every pair is blocked has nothing to share out")
    same = lambda other: bool(torch.isclose(got, other, rtol=1e-4, atol=1e-5).all())  # noqa: E731
    if hole.all(dim=1).any():
        raise NotYet(f"{where}: {int(bad.sum())} of {bad.numel()} tokens differ. With no background "
                     f"token left, what does a hole query read? Re-read the task")
    sample_hw = tuple(mask.shape[-2:])
    plain = _run(Ref, attn, torch.zeros_like(mask), hidden, sample_hw)
    if same(plain):
        raise NotYet(f"{where}: the output equals plain attention's: nothing was blocked")
    if same(_run(Ref, attn, mask.transpose(-1, -2), hidden, sample_hw)):
        raise NotYet(f"{where}: the tokens you treat as the hole are the hole mirrored across the "
                     f"diagonal: check how a token's index n relates to its row y and column x")
    if bad.all():
        raise NotYet(f"{where}: every token differs, also the background ones that SRA leaves alone: your attention "
                     f"itself differs from the layer's plain attention (the scores' scale, the heads?)")
    if bad[~hole].any():
        raise NotYet(f"{where}: {int(bad[~hole].sum())} tokens OUTSIDE the hole give other "
                     f"outputs than the reference; which queries does Eq. 10 change, and which keys did yours block?")
    average = torch.nn.functional.adaptive_avg_pool2d(mask, hw)
    coarse = [(average > 0.5).float(), (average >= 0.5).float(), torch.nn.functional.interpolate(mask, size=hw)]
    if any(same(_run(Ref, attn, c, hidden, hw)) for c in coarse if not c.flatten(1).all(1).any()):
        raise NotYet(f"{where}: your processor treats the hole tokens whose cell is only PARTLY "
                     f"covered by the mask (the one-pixel stroke, the block's edges) as background: the hole shrank "
                     f"on its way to this grid")
    raise NotYet(f"{where}: {int(bad.sum())} hole tokens differ (the background agrees); do the "
                 f"blocked pairs really get no weight in the softmax?")


def grade_sra_processor(answer) -> None:
    """The answer beside `SelfRectifyingAttnProcessor` on three inputs, then a cross-attention call."""
    from ..sra import SelfRectifyingAttnProcessor as Ref

    if not isinstance(answer, type):
        raise NotYet(f"hand in the class itself (MySRAProcessor), got {type(answer).__name__}")
    attn = _layer()
    for where, mask, hidden in _cases():
        sample_hw = tuple(mask.shape[-2:])
        want = _run(Ref, attn, mask, hidden, sample_hw)
        try:
            got = _run(answer, attn, mask, hidden, sample_hw)
        except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
            raise NotYet(f"on {where}, your processor raised {type(error).__name__}: {error}") from None
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise NotYet(f"on {where}, return the layer's output, a tensor of shape "
                         f"{tuple(want.shape)} like its input; got {getattr(got, 'shape', type(got).__name__)}")
        if not torch.isclose(got, want, rtol=1e-4, atol=1e-5).all():
            _diagnose(got, want, mask, hidden, attn, f"on {where}")
    text = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(3))
    _, mask, hidden = _cases()[2]
    want = _run(Ref, attn, mask, hidden, (16, 16), encoder_hidden_states=text)
    try:
        got = _run(answer, attn, mask, hidden, (16, 16), encoder_hidden_states=text)
    except Exception as error:  # noqa: BLE001
        raise NotYet(f"a cross-attention call (encoder_hidden_states = text tokens) raised "
                     f"{type(error).__name__}: {error}") from None
    if not isinstance(got, torch.Tensor) or got.shape != want.shape or not torch.allclose(got, want, atol=1e-5):
        raise NotYet("a cross-attention call (encoder_hidden_states given) came out changed: SRA is "
                     "for self-attention; leave cross-attention to the layer's own processor")
