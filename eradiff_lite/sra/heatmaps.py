"""Heatmap capture: what each self-attention layer wrote during a forward pass (the paper's Fig. 8).

`capture_attention` hooks the self-attention modules of a UNet (the hooks are removed on exit) and keeps,
per layer and per call, the *attention branch* of the output: the block's output with the residual
taken out, ``out * rescale - x`` when the block adds its input back. Its channel norm over the token grid
is the heatmap. On request it also keeps the attention weights of a few query points, computed row by
row (`attention_weights`), under the same SRA mask the layer used, so no full N x N matrix is formed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from .context import select_layers, unet_sample_and_timestep
from .layer_masks import layer_grid
from .processor import attention_weights


@dataclass
class AttentionRecord:
    """One call of one layer: its attention branch [B, N, C], grid (h, w) and, if asked, query weights."""

    output: torch.Tensor
    hw: tuple[int, int]
    query_index: torch.Tensor | None = None  # [P] token index of each query point at this grid
    weights: torch.Tensor | None = None      # [B, heads, P, N]

    def heatmap(self) -> torch.Tensor:
        """Channel norm of the attention branch on the token grid: ``[B, h, w]``."""
        return self.output.norm(dim=-1).reshape(-1, *self.hw)


@dataclass
class AttentionCapture:
    """Records by layer name, one per forward call (e.g. one per sampling step)."""

    records: dict[str, list[AttentionRecord]] = field(default_factory=dict)
    sample_hw: tuple[int, int] | None = None

    def last(self) -> dict[str, AttentionRecord]:
        return {name: calls[-1] for name, calls in self.records.items() if calls}


def point_index(points: Sequence[tuple[int, int]], sample_hw: tuple[int, int], hw: tuple[int, int]) -> torch.Tensor:
    """Token index at grid ``hw`` of each ``(y, x)`` pixel of the UNet input (row-major, as tokens are)."""
    (big_h, big_w), (h, w) = sample_hw, hw
    return torch.tensor([(y * h // big_h) * w + (x * w // big_w) for y, x in points], dtype=torch.long)


def _tokens(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(2).transpose(1, 2) if x.ndim == 4 else x


@contextmanager
def capture_attention(unet: torch.nn.Module, layers: Sequence[str] | None = None,
                      points: Sequence[tuple[int, int]] | None = None):
    """Record the self-attention branch of every (chosen) layer during ``unet(...)`` calls in the block.

    ``points``: ``(y, x)`` pixels of the UNet input whose attention weights are also kept at every layer.
    Works with or without `self_rectifying_attention` around or inside it.
    """
    chosen = select_layers(unet, layers)
    capture = AttentionCapture(records={name: [] for name in chosen})

    def before_forward(module, args, kwargs):
        capture.sample_hw = tuple(unet_sample_and_timestep(args, kwargs)[0].shape[-2:])

    def recorder(name):
        def after_attention(module, args, kwargs, output):
            x = args[0] if args else kwargs["hidden_states"]
            hw = tuple(x.shape[-2:]) if x.ndim == 4 else layer_grid(x.shape[1], capture.sample_hw)
            branch = output * module.rescale_output_factor - (x if module.residual_connection else 0)
            record = AttentionRecord(_tokens(branch).detach().float().cpu(), hw)
            if points:
                allowed = getattr(module.processor, "last_allowed", None)
                record.query_index = point_index(points, capture.sample_hw or hw, hw)
                with torch.no_grad():
                    record.weights = attention_weights(module, x, record.query_index, allowed).float().cpu()
            capture.records[name].append(record)
        return after_attention

    handles = [unet.register_forward_pre_hook(before_forward, with_kwargs=True)]
    try:
        handles += [m.register_forward_hook(recorder(n), with_kwargs=True) for n, m in chosen.items()]
        yield capture
    finally:
        for handle in handles:
            handle.remove()


def heatmap_rgb(values: torch.Tensor | np.ndarray, vmin: float | None = None, vmax: float | None = None,
                cmap: str = "magma") -> np.ndarray:
    """A 2-D map as an ``H x W x 3`` colour image; give two maps the same ``vmin``/``vmax`` to compare them."""
    import matplotlib

    values = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float32)
    vmin = float(values.min()) if vmin is None else float(vmin)
    vmax = float(values.max()) if vmax is None else float(vmax)
    return matplotlib.colormaps[cmap](np.clip((values - vmin) / max(vmax - vmin, 1e-12), 0, 1))[..., :3]
