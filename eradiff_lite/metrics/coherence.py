"""Coherence: how close the erased region is to the true background ``x_ori``.

The procedural benchmark knows what lies under every object (``x_ori``), so unlike the paper (which
has only LPIPS on whole OpenImages photos) we can score the hole itself. Images are float ``H x W x 3``
arrays in [0, 1]; masks are bool ``H x W`` with True = erased (the course convention).

Blind spot shared by both metrics: a blurry average of the surroundings scores well (PSNR and SSIM
reward the mean, not a plausible texture), so a classical inpainter can beat a diffusion model here
while looking worse. Read them beside the realism and elimination scores.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

#: PSNR of identical regions is infinite; it is capped here so that means over scenes stay finite.
PSNR_CAP_DB = 100.0


def _check_pair(image: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    if image.shape != reference.shape or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image and reference must both be H x W x 3, got {image.shape} and {reference.shape}")
    mask = np.asarray(mask, bool)
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask must be H x W = {image.shape[:2]}, got {mask.shape}")
    if not mask.any():
        raise ValueError("mask is empty: the masked metrics need at least one erased pixel")
    return mask


def masked_psnr(image: np.ndarray, reference: np.ndarray, mask: np.ndarray, max_db: float = PSNR_CAP_DB) -> float:
    """Peak signal-to-noise ratio over the erased pixels only (all three channels), in dB.

    ``PSNR = 10 log10(1 / MSE)`` with ``MSE = mean over mask pixels and channels of (image - reference)^2``
    (data range 1). Identical regions give ``max_db``.
    Blind spot: pixel-exact; a correct texture shifted by one pixel scores as badly as noise.
    """
    mask = _check_pair(image, reference, mask)
    diff = image.astype(np.float64)[mask] - reference.astype(np.float64)[mask]
    mse = float(np.mean(diff ** 2))  # MSE over the |mask| x 3 erased values
    if mse == 0.0:
        return max_db
    return float(min(max_db, 10.0 * np.log10(1.0 / mse)))  # PSNR = 10 log10(MAX^2 / MSE), MAX = 1


def masked_ssim(image: np.ndarray, reference: np.ndarray, mask: np.ndarray, win_size: int = 7) -> float:
    """Structural similarity averaged over the erased pixels (the *masked average* of the SSIM map).

    The SSIM map is computed on the whole image (Gaussian-free 7 x 7 windows, data range 1, per channel,
    ``SSIM = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2))``), averaged over
    channels, then over the mask's pixels. Identical images give 1.
    Blind spot: windows at the hole's border also see kept pixels, so small holes are pulled towards 1.
    """
    mask = _check_pair(image, reference, mask)
    win = min(win_size, *[s - (1 - s % 2) for s in image.shape[:2]])  # odd, no larger than the image
    _, ssim_map = structural_similarity(image.astype(np.float64), reference.astype(np.float64), win_size=win,
                                        channel_axis=-1, data_range=1.0, full=True)
    return float(ssim_map.mean(axis=-1)[mask].mean())
