"""Training pairs for the SD2 fine-tune: each shipped photo gets a moved, rescaled copy of its own object.

The paper builds (x_obj, x_ori) pairs from OpenImages photos by cutting objects out with a matting
network and pasting transformed copies back (EraDiff Sec. 4.1). The course does the same with its few
shipped photos (`data/photos`) and the cut-outs listed in ``data/cutouts/index.json``. ``backend="shipped"``
reads the stored cut-outs (made offline by classical matting); ``"auto"`` / ``"rembg"`` / ``"classical"``
matte each object's box again with `eradiff_lite.data.matte` (on Colab, "auto" means rembg's u2net).
"""

from __future__ import annotations

import json

import numpy as np

from ..data import PhotoTripletDataset, cut_out, load_cutout, load_image, load_mask, matte
from ..paths import data_dir

BACKENDS = ("shipped", "auto", "rembg", "classical")


def photo_cutouts(backend: str = "shipped") -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """``(photos, cutouts, object_masks)``, one entry per cut-out in ``data/cutouts/index.json``.

    ``object_masks[k]`` marks where the object already sits in ``photos[k]``, so a pasted copy avoids it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown cut-out backend {backend!r}: choose one of {BACKENDS}")
    root = data_dir()
    index = json.loads((root / "cutouts" / "index.json").read_text())
    photos, cutouts, masks = [], [], []
    for name, entry in index.items():
        photo = load_image(root / entry["photo"])
        if backend == "shipped":
            cutout = load_cutout(root / "cutouts" / f"{name}.png")
            mask = load_mask(root / entry["mask"], image=photo)
        else:
            x0, y0, x1, y1 = entry["box"]
            crop = photo[y0:y1, x0:x1]
            alpha = matte(crop, backend=backend).alpha  # rembg sees the crop: one object, not the whole photo
            cutout = cut_out(crop, alpha)
            mask = np.zeros(photo.shape[:2], bool)
            mask[y0:y1, x0:x1] = alpha > 0.5
        photos.append(photo)
        cutouts.append(cutout)
        masks.append(mask)
    return photos, cutouts, masks


def photo_triplets(size: int, length: int, seed: int = 0, backend: str = "shipped") -> PhotoTripletDataset:
    """A `PhotoTripletDataset` of ``length`` (x_obj, x_ori, mask) items at ``size`` x ``size`` pixels."""
    photos, cutouts, masks = photo_cutouts(backend)
    return PhotoTripletDataset(photos, cutouts, length, size, seed=seed, avoid=masks)
