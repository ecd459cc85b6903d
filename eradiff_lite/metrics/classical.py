"""The classical, non-learned rows: biharmonic inpainting (scikit-image) and Telea's fast marching (OpenCV).

- Biharmonic fills the hole with the smoothest surface (solution of Delta^2 u = 0) that matches the image
  around it: a strong opponent on PSNR/SSIM, which reward smooth averages, and texture-free.
- Telea (2004) marches inward from the hole's border, filling each pixel from a weighted average of its known
  neighbours (``cv2.inpaint(..., cv2.INPAINT_TELEA)``, radius 3): fast, smears edges inward.

No training, no randomness: floors any learned eraser should beat on realism.
"""

from __future__ import annotations

import numpy as np
from skimage.restoration import inpaint_biharmonic

from ..data import as_erase_mask


def _check(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 in [0, 1], got shape {image.shape}")
    # an EraseMask as it is, an array checked here; a writable copy: scikit-image's Cython takes no read-only buffer
    return image, np.array(as_erase_mask(mask, image.shape))


def inpaint_classical(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` (``H x W x 3`` in [0, 1]) with the True pixels of ``mask`` filled biharmonically."""
    image, mask = _check(image, mask)
    filled = inpaint_biharmonic(image, mask, channel_axis=-1)
    return np.clip(filled, 0.0, 1.0).astype(np.float32)


def inpaint_telea(image: np.ndarray, mask: np.ndarray, radius: int = 3) -> np.ndarray:
    """``image`` with the True pixels of ``mask`` filled by OpenCV's Telea method (on 8-bit values)."""
    import cv2

    image, mask = _check(image, mask)
    eight_bit = np.round(image * 255).astype(np.uint8)
    filled = cv2.inpaint(eight_bit, mask.astype(np.uint8), radius, cv2.INPAINT_TELEA).astype(np.float32) / 255
    return np.where(mask[..., None], filled, image).astype(np.float32)  # known pixels kept exactly
