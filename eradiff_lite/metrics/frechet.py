"""Realism: Frechet distance between feature distributions (FID, and local FID on crops).

Fit a Gaussian to the features of real images (the true backgrounds ``x_ori``) and one to the features
of erased images, then

    FID = ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))

Whole images give FID; crops around the mask's box (`crops.box_crops`) give *local FID*, the number the
paper's ablation (Table 3) reports. The features come from an injectable extractor: Inception-v3 (2048
pool features, torchmetrics + torch-fidelity, weights downloaded) where that loads, e.g. on Colab; offline
the penultimate layer of the course's presence classifier (`presence.PresenceNet`, 64 numbers). The two
give numbers on different scales: a table must say which one produced it, and never compare across them.

Blind spots: a distance between *sets*; it says nothing about any one image and is biased upwards for
small sets (here 6 to 512 scenes), so compare rows measured on the same scenes only. Features learned
on procedural scenes see what separates objects from backgrounds, not every kind of artefact.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance

from .presence import PresenceNet


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The closed form ``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` (reference implementation)."""
    covmean = linalg.sqrtm(np.asarray(sigma1, np.float64) @ np.asarray(sigma2, np.float64))
    covmean = np.real(covmean)  # sqrtm may return tiny imaginary parts from rounding
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


class PresenceFeatures(nn.Module):
    """FID features from the presence classifier: images ``B x 3 x H x W`` in [0, 1] -> ``B x num_features``.

    Images are resized to ``size`` (the classifier's training crops are 32 x 32) and mapped to [-1, 1].
    torchmetrics reads ``num_features`` to size its running sums.
    """

    def __init__(self, net: PresenceNet, size: int = 32):
        super().__init__()
        self.net, self.size = net.eval().requires_grad_(False), size
        self.num_features = net.num_features

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] != self.size or images.shape[-2] != self.size:
            images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False,
                                   antialias=images.shape[-1] > self.size)
        return self.net.features(images.float() * 2 - 1)


def make_fid(features: str | nn.Module = "inception") -> FrechetInceptionDistance:
    """A torchmetrics FID whose ``update(images, real=...)`` takes float images in [0, 1].

    ``"inception"`` loads torchmetrics' Inception-v3 (needs ``torch-fidelity`` and downloads its weights:
    Colab, not the offline machines); an ``nn.Module`` (e.g. `PresenceFeatures`) is used as given.
    """
    if isinstance(features, str):
        if features != "inception":
            raise ValueError(f"features must be 'inception' or an nn.Module, got {features!r}")
        return FrechetInceptionDistance(feature=2048, normalize=True)
    return FrechetInceptionDistance(feature=features, normalize=True)


@torch.no_grad()
def fid_score(real: torch.Tensor, fake: torch.Tensor, features: str | nn.Module, batch_size: int = 64) -> float:
    """FID between two image sets (``N x 3 x H x W`` in [0, 1]); at least two images in each."""
    if len(real) < 2 or len(fake) < 2:
        raise ValueError(f"FID needs at least two real and two fake images, got {len(real)} and {len(fake)}")
    metric = make_fid(features)
    for i in range(0, len(real), batch_size):
        metric.update(real[i:i + batch_size].clamp(0, 1), real=True)
    for i in range(0, len(fake), batch_size):
        metric.update(fake[i:i + batch_size].clamp(0, 1), real=False)
    return max(0.0, float(metric.compute()))  # >= 0 in exact arithmetic; clip float round-off (-1e-6)
