"""Perceptual distance to the true background: LPIPS where it loads, else a course-defined stand-in.

LPIPS (Zhang et al. 2018) compares unit-normalised deep features layer by layer,

    d(a, b) = sum_l  w_l . mean_hw || f_l(a) / |f_l(a)| - f_l(b) / |f_l(b)| ||^2

with AlexNet/VGG features and learned weights ``w_l``. The ``lpips`` package downloads those backbones,
which the offline machines cannot; there the course uses the *same formula* on the conv stages of its own
presence classifier with ``w_l = 1`` and calls it **PresenceNet-PD** (not LPIPS: other features, no learned
weights, numbers on another scale). Every table names which one it used.

Blind spots: the course's features were trained to tell objects from backgrounds, so they are sharp on
"is something object-like here" and dull on fine texture; both versions score the whole image, so a
small hole gives a small distance whatever fills it.
"""

from __future__ import annotations

import torch
from torch import nn

from .presence import PresenceNet


def _unit(f: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)  # f_l / |f_l| over channels


class PresencePerceptualDistance(nn.Module):
    """LPIPS's formula on `PresenceNet` stages with unit weights; images ``B x 3 x H x W`` in [-1, 1] -> ``B``."""

    name = "PresenceNet-PD (LPIPS formula on the course's presence-classifier features, unit weights)"

    def __init__(self, net: PresenceNet):
        super().__init__()
        self.net = net.eval().requires_grad_(False)

    @torch.no_grad()
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape != b.shape:
            raise ValueError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
        total = torch.zeros(a.shape[0])
        for fa, fb in zip(self.net.stages(a.float()), self.net.stages(b.float())):
            total += (_unit(fa) - _unit(fb)).pow(2).sum(dim=1).mean(dim=(1, 2))  # mean_hw ||.||^2, w_l = 1
        return total


class LpipsDistance(nn.Module):
    """The real LPIPS (``lpips`` package, AlexNet backbone, downloads weights): for Colab.

    Why not torchmetrics' LPIPS: it wraps the same package's weights but needs torchvision, which the course
    does not otherwise install (and must not make pip resolve beside Colab's torch)."""

    name = "LPIPS (AlexNet, lpips package)"

    def __init__(self, net: str = "alex"):
        super().__init__()
        import lpips  # noqa: PLC0415 - optional; only where it is installed and its weights can load

        self.model = lpips.LPIPS(net=net, verbose=False).eval().requires_grad_(False)

    @torch.no_grad()
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.model(a.float(), b.float()).flatten().cpu()


def perceptual_distance(kind: str, net: PresenceNet | None = None) -> nn.Module:
    """``"lpips"`` (the real one) or ``"presence"`` (the offline stand-in built on ``net``)."""
    if kind == "lpips":
        return LpipsDistance()
    if kind == "presence":
        if net is None:
            raise ValueError("the 'presence' perceptual distance needs the presence classifier (net=...)")
        return PresencePerceptualDistance(net)
    raise ValueError(f"perceptual distance must be 'lpips' or 'presence', got {kind!r}")
