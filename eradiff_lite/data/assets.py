"""Builds the shipped assets in ``data/`` from scikit-image's bundled photos (all CC0 / public domain).

``python -m eradiff_lite build-assets`` rewrites ``data/photos``, ``data/textures`` and ``data/cutouts``.
The cut-outs are made by this package's own matting (the classical back-end, so the result is the
same on every machine); the box that guided each one is recorded in ``data/cutouts/index.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from ..paths import write_text_atomic
from .io import save_image, to_pil
from .matting import cut_out, matte

# name: (scikit-image loader, licence note, width to store)
PHOTOS = {
    "coffee": ("coffee", "CC0, photograph by Rachel Michetti (scikit-image data.coffee)", 300),
    "coins": ("coins", "no known copyright restrictions, Brooklyn Museum collection (scikit-image data.coins)", 384),
}
TEXTURES = {
    "brick": ("brick", "CC0 (CC0Textures), via scikit-image data.brick"),
    "grass": ("grass", "CC0, via scikit-image data.grass"),
    "gravel": ("gravel", "CC0 (CC0Textures), via scikit-image data.gravel"),
}
# cut-out name: (photo, box x0, y0, x1, y1 in the stored photo's pixels)
CUTOUTS = {
    "coffee_cup": ("coffee", (35, 4, 243, 196)),
    "coin_a": ("coins", (15, 28, 75, 82)),
    "coin_b": ("coins", (300, 8, 370, 80)),
    "coin_c": ("coins", (310, 150, 384, 225)),
}


def _skimage(name: str) -> np.ndarray:
    from skimage import data

    arr = getattr(data, name)()
    arr = np.dstack([arr] * 3) if arr.ndim == 2 else arr[..., :3]
    return arr.astype(np.float32) / 255.0


def _resize_width(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    pil = to_pil(image).resize((width, round(h * width / w)), Image.LANCZOS)
    return np.asarray(pil, dtype=np.float32) / 255.0


def build_assets(dest: str | Path) -> dict:
    """Write photos, textures and cut-outs under ``dest``; returns the cut-out index."""
    dest = Path(dest)
    for sub in ("photos", "textures", "cutouts"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    photos = {}
    for name, (loader, _, width) in PHOTOS.items():
        photos[name] = _resize_width(_skimage(loader), width)
        save_image(photos[name], dest / "photos" / f"{name}.png")
    for name, (loader, _) in TEXTURES.items():
        save_image(_resize_width(_skimage(loader), 256), dest / "textures" / f"{name}.png")
    index = {}
    for name, (photo, box) in CUTOUTS.items():
        result = matte(photos[photo], backend="classical", box=box, max_side=240)
        save_image(cut_out(photos[photo], result.alpha), dest / "cutouts" / f"{name}.png")
        save_image(result.alpha > 0.5, dest / "cutouts" / f"{name}_mask.png")
        index[name] = {"photo": f"photos/{photo}.png", "box": list(box), "backend": result.backend,
                       "mask": f"cutouts/{name}_mask.png"}
    write_text_atomic(dest / "cutouts" / "index.json", json.dumps(index, indent=1) + "\n")
    return index
