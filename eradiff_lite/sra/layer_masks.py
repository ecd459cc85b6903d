"""The erase mask at every self-attention resolution, and the attention rule of SRA.

A self-attention layer of a UNet sees its feature map as ``N = h * w`` tokens. SRA needs to know which
tokens lie in the hole, so the image-size erase mask (1 = erase) is shrunk to the layer's ``h x w``
grid by *max*-pooling: a token is "hole" as soon as one pixel of its cell is. Average pooling or
nearest-neighbour sampling would lose a one-pixel-wide object at coarse resolutions; max-pooling keeps it.
Then the paper's Eq. 10 decides which (query, key) pairs may attend. The mask arrives checked: `SRAState` takes it
through `eradiff_lite.data.mask_batch` (EraseMasks as they are, a ``[B, 1, H, W]`` tensor checked there once).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

RULES = ("eq10", "keys")


def layer_grid(n_tokens: int, sample_hw: tuple[int, int]) -> tuple[int, int]:
    """The ``(h, w)`` grid of a layer with ``n_tokens`` tokens in a UNet whose input is ``sample_hw``.

    Each UNet level halves the grid with a stride-2 convolution (``ceil(h / 2)``), so we walk down the
    levels until ``h * w`` matches; this also recovers non-square grids from their aspect ratio.
    """
    h, w = sample_hw
    for _ in range(16):
        if h * w == n_tokens:
            return h, w
        if h == 1 and w == 1:
            break
        h, w = (h + 1) // 2, (w + 1) // 2
    raise ValueError(f"{n_tokens} tokens are no power-of-two downsampling of the {sample_hw[0]} x {sample_hw[1]} "
                     f"UNet input: is the mask meant for this model?")


def mask_at(mask: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """The erase mask ``[B, 1, H, W]`` max-pooled to ``[B, 1, h, w]`` (any sizes, also non-divisible).

    ``adaptive_max_pool2d`` gives each output cell the pixels ``floor(i H / h) .. ceil((i + 1) H / h)``;
    these cells overlap rather than skip, so every erased pixel reaches at least one token.
    """
    return F.adaptive_max_pool2d(mask.float(), hw)


def flat_mask(mask: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """``m``: the mask at grid ``hw``, flattened row-major like the tokens, as bool ``[B, h * w]``."""
    return mask_at(mask, hw).flatten(1) > 0.5


def sra_allowed(m: torch.Tensor, rule: str = "eq10") -> torch.Tensor:
    """Which (query i, key j) pairs may attend: bool ``[B, N, N]``, True = allowed.

    - ``"eq10"`` (EraDiff, Eq. 10): blocked iff ``m_i and m_j``; a hole query reads only background keys,
      a background query reads everything.
    - ``"keys"`` (Attentive Eraser): blocked iff ``m_j``; no query reads a hole key.
    """
    if rule not in RULES:
        raise ValueError(f"unknown SRA rule {rule!r}: choose one of {RULES}")
    if m.ndim != 2:
        raise ValueError(f"m must be [B, N] (a flattened mask per batch item), got {tuple(m.shape)}")
    m = m.bool()
    hole_key = m[:, None, :]                    # [B, 1, N]: key j lies in the hole
    if rule == "keys":
        return ~hole_key.expand(-1, m.shape[1], -1)
    return ~(m[:, :, None] & hole_key)          # Eq. 10: blocked where m_i * m_j = 1
