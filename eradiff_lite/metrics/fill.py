"""Fast fill-quality measures and the simple reference fills every table carries.

Images are ``H x W x 3`` float arrays in [0, 1], masks ``H x W`` bool (True = erased), as in `coherence`.

- ``erase_ratio = RMSE_hole(out, x_ori) / RMSE_hole(x_obj, x_ori)``: 1 = the object left in place, 0 = the
  true background; < 0.5 counts as "erased" in the recipe study. It rewards blur (a 3-px-shifted truth often
  fails it), so it is always read beside masked PSNR and the texture measure (`texture.py`).
- ``hf_ratio``: the hole's high-frequency energy (mean squared Laplacian) over the truth's: ~1 for a fill
  with the background's texture, << 1 for a blurry fill, >> 1 for speckle.
- reference fills: ``untouched`` (the object stays), ``flat`` (the mean colour of the hole's one-pixel
  border), ``biharmonic`` (`classical.inpaint_classical`), ``telea`` (`classical.inpaint_telea`); and
  ``shifted`` (`shifted_truth`: the true background moved 3 px, a plausible texture that is not pixel-aligned:
  what a good generative fill can hope for; it needs the truth, so it is not in `REFERENCE_FILLS`).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation, laplace

from .classical import inpaint_classical, inpaint_telea


def erase_ratio(out: np.ndarray, x_obj: np.ndarray, x_ori: np.ndarray, mask: np.ndarray) -> float:
    """RMSE of ``out`` to ``x_ori`` in the hole over that of the object itself (``inf`` if x_obj == x_ori)."""
    m = np.asarray(mask, bool)
    obj = np.sqrt(np.mean((x_obj[m] - x_ori[m]) ** 2))
    return float(np.sqrt(np.mean((out[m] - x_ori[m]) ** 2)) / obj) if obj > 0 else float("inf")


def hf_energy(image: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared Laplacian (per channel, summed) over the pixels of ``mask``."""
    lap = np.stack([laplace(image[..., c].astype(np.float64)) for c in range(image.shape[2])], -1)
    return float((lap[np.asarray(mask, bool)] ** 2).sum(-1).mean())


def hf_ratio(out: np.ndarray, x_ori: np.ndarray, mask: np.ndarray) -> float:
    """`hf_energy` of the fill over the true background's (a small floor keeps flat truths finite)."""
    return hf_energy(out, mask) / max(hf_energy(x_ori, mask), 1e-6)


def flat_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The hole filled with the mean colour of its one-pixel outer border."""
    m = np.asarray(mask, bool)
    border = binary_dilation(m) & ~m
    colour = image[border].mean(0) if border.any() else image[~m].mean(0)
    out = image.copy()
    out[m] = colour
    return out


def shifted_truth(x_ori: np.ndarray, mask: np.ndarray, px: int = 3) -> np.ndarray:
    """``x_ori`` with its hole filled by ``x_ori`` moved ``px`` pixels to the right (wrapping at the border)."""
    return np.where(np.asarray(mask, bool)[..., None], np.roll(x_ori, px, axis=1), x_ori)


REFERENCE_FILLS = {
    "untouched": lambda image, mask: image.copy(),
    "flat": flat_fill,
    "biharmonic": inpaint_classical,
    "telea": inpaint_telea,
}
