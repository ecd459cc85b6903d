"""Does the fill have the background's texture? A per-scene log ratio that cannot hide speckle or blur.

For a fill ``out`` and the true background ``truth`` on the hole ``mask``::

    E(img)        = mean over the hole's interior of sum_c (Laplacian of img_c)^2     (high-frequency energy)
    texture_log2  = log2((E(out) + f) / (E(truth) + f))

- The interior is the hole shrunk by ``margin`` pixels (default 1), so the step at the hole's edge, which
  every fill has and no texture is, does not count.
- The floor ``f`` (`FLOOR` = 1e-3, images in [0, 1]) is about the energy of Gaussian noise of one 8-bit grey
  level (sigma = 1/255 per channel gives 60 sigma^2 = 9.2e-4 with the 5-point Laplacian): grain below that
  reads as 0, so a smooth truth does not blow the ratio up (a mean of raw ratios does: the old ``hf_ratio``).
- 0 = the truth's texture energy; > 0 speckle or extra detail; < 0 blur. A fill is *texture-true* when
  ``|texture_log2| <= BAND`` (1.5, a factor of about 2.8).

It measures the amount of texture, not where it is: a shifted copy of the truth scores ~0, as a
plausible, unaligned texture should. Read it beside elimination and the pictures.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_erosion, laplace

FLOOR = 1e-3
BAND = 1.5
MARGIN = 1


def hole_interior(mask: np.ndarray, margin: int = MARGIN) -> np.ndarray:
    """The hole shrunk by ``margin`` pixels (the whole hole when shrinking would leave nothing)."""
    m = np.asarray(mask, bool)
    if margin <= 0:
        return m
    inner = binary_erosion(m, iterations=margin)
    return inner if inner.any() else m


def texture_energy(image: np.ndarray, mask: np.ndarray, margin: int = MARGIN) -> float:
    """Mean over the hole's interior of the squared Laplacian, summed over channels (``image`` H x W x C)."""
    if image.ndim != 3 or image.shape[:2] != np.shape(mask):
        raise ValueError(f"need an H x W x C image and an H x W mask, got {image.shape} and {np.shape(mask)}")
    inner = hole_interior(mask, margin)
    if not inner.any():
        raise ValueError("the mask is empty: there is no hole to measure")
    lap = np.stack([laplace(image[..., c].astype(np.float64)) for c in range(image.shape[2])], -1)
    return float((lap[inner] ** 2).sum(-1).mean())


def texture_log2(out: np.ndarray, truth: np.ndarray, mask: np.ndarray, floor: float = FLOOR,
                 margin: int = MARGIN) -> float:
    """``log2((E(out) + floor) / (E(truth) + floor))`` on the hole's interior (see the module doc)."""
    if floor <= 0:
        raise ValueError(f"the floor must be > 0, got {floor}")
    return float(np.log2((texture_energy(out, mask, margin) + floor) / (texture_energy(truth, mask, margin) + floor)))


def texture_summary(values, band: float = BAND) -> dict:
    """Median, share within the band (percent), share above (speckle) and below (blur), and the count."""
    v = np.asarray(values, float)
    if v.size == 0:
        return {"median": float("nan"), "within": float("nan"), "above": float("nan"), "below": float("nan"),
                "scenes": 0}
    return {"median": float(np.median(v)), "within": float(100 * (np.abs(v) <= band).mean()),
            "above": float(100 * (v > band).mean()), "below": float(100 * (v < -band).mean()),
            "scenes": int(v.size)}
