"""The classical, non-learned row: biharmonic inpainting (scikit-image).

It fills the hole with the smoothest surface (solution of the biharmonic equation Delta^2 u = 0) that
matches the image around it. No training, no randomness: a floor any learned eraser should beat on
realism, and a strong opponent on PSNR/SSIM, which reward smooth averages.
"""

from __future__ import annotations

import numpy as np
from skimage.restoration import inpaint_biharmonic

from ..data import check_mask


def inpaint_classical(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` (``H x W x 3`` in [0, 1]) with the True pixels of ``mask`` filled biharmonically."""
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 in [0, 1], got shape {image.shape}")
    check_mask(mask, image.shape[:2])
    mask = np.asarray(mask, bool)
    filled = inpaint_biharmonic(image, mask, channel_axis=-1)
    return np.clip(filled, 0.0, 1.0).astype(np.float32)
