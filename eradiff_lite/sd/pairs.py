"""Training pairs for the SD2 fine-tune: each photo gets a moved, rescaled copy of its own object.

The paper builds (x_obj, x_ori) pairs from OpenImages photos by cutting objects out with a matting
network and pasting transformed copies back (EraDiff Sec. 4.1). The course does the same two ways:

- `photo_triplets`: its few shipped photos (`data/photos`) and the cut-outs listed in ``data/cutouts/index.json``.
  ``backend="shipped"`` reads the stored cut-outs (made offline by classical matting); ``"auto"`` / ``"rembg"`` /
  ``"classical"`` matte each object's box again with `eradiff_lite.data.matte` (on Colab, "auto" means rembg's u2net).
- `real_photo_triplets`: any photos, from a folder (the learner's own) or a public image set on the Hugging Face
  Hub (through ``datasets``, streamed: only the photos used are downloaded). Each photo is centre-cropped to a
  square, its main object is cut out by matting the whole photo (rembg's salient object on Colab), photos whose
  object is missing or fills the frame are skipped, and a transformed copy is pasted back away from the original.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data import PhotoTripletDataset, cut_out, image_files, load_cutout, load_image, load_mask, matte
from ..paths import data_dir

#: A public photo set on the Hugging Face Hub (Imagenette: ten ImageNet classes, real photos, parquet), for Colab.
PUBLIC_PHOTOS = "frgfm/imagenette"
PUBLIC_PHOTOS_CONFIG = "full_size"

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


def square_crop(photo: np.ndarray) -> np.ndarray:
    """The largest centred square of ``photo`` (a training pair is square; resizing a whole photo would squash it)."""
    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return photo[top:top + side, left:left + side]


def load_photos(source: str, count: int, *, skip: int = 0, split: str = "train", config: str | None = None,
                min_side: int = 64) -> list[np.ndarray]:
    """Up to ``count`` square RGB photos (float ``H x W x 3``) from ``source``: a folder of pictures, or the id of
    an image data set on the Hugging Face Hub (its first image column; ``datasets`` streams only what is read).
    The first ``skip`` usable photos are passed over (held-out photos for evaluation); photos smaller than
    ``min_side`` pixels are skipped."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if Path(source).is_dir():
        files = image_files(source)
        if not files:
            raise FileNotFoundError(f"photo folder {source} holds no pictures")
        images = iter(files)
    else:
        images = _hub_images(source, split, config)
    photos, passed = [], 0
    for image in images:  # a file or a data set's PIL image: decoded once, here
        photo = square_crop(load_image(image))
        if photo.shape[0] < min_side:
            continue
        if passed < skip:
            passed += 1
            continue
        photos.append(photo)
        if len(photos) == count:
            break
    if not photos:
        raise ValueError(f"{source}: no photo of at least {min_side} px (after skipping {skip})")
    return photos


def _hub_images(name: str, split: str, config: str | None):
    try:
        from datasets import load_dataset
    except ImportError as err:
        raise ImportError(f"reading {name!r} from the Hugging Face Hub needs the datasets package (pip install "
                          f"datasets), or give a folder of photos instead") from err
    stream = load_dataset(name, config, split=split, streaming=True)
    column = next((k for k, v in stream.features.items() if type(v).__name__ == "Image"), None)
    if column is None:
        raise ValueError(f"{name}: no image column in {list(stream.features)}")
    return (row[column] for row in stream)


def main_object(photo: np.ndarray, *, backend: str = "auto", min_area: float = 0.02,
                max_area: float = 0.45) -> tuple[np.ndarray, np.ndarray] | None:
    """``(cut-out, object mask)`` of the photo's main object (matting the whole photo), or None when the matte
    holds no object (under ``min_area`` of the picture, or classical matting finds the photo uniform) or fills the
    frame (over ``max_area``: no room to paste a copy)."""
    try:
        alpha = matte(photo, backend=backend).alpha
    except ValueError:  # classical matting's "uniform box": nothing stands out
        return None
    area = float((alpha > 0.5).mean())
    if not min_area <= area <= max_area:
        return None
    return cut_out(photo, alpha), alpha > 0.5


def real_photo_triplets(source: str, size: int, length: int, *, photos: int = 64, skip: int = 0, seed: int = 0,
                        backend: str = "auto", split: str = "train", config: str | None = None) -> PhotoTripletDataset:
    """``length`` (x_obj, x_ori, mask) pairs at ``size`` px from up to ``photos`` photos of ``source`` (a folder or a
    Hub data set id, `load_photos`; ``skip`` passes over the first ones), each pasted with a copy of its own main
    object (`main_object`)."""
    kept = []
    for photo in load_photos(source, photos, skip=skip, split=split, config=config):
        found = main_object(photo, backend=backend)
        if found is not None:
            kept.append((photo, *found))
    if not kept:
        raise ValueError(f"{source}: no photo with a clear main object (matting found none between 2 % and 45 % of "
                         f"the picture); try other photos or backend='rembg'")
    shots, cutouts, masks = (list(v) for v in zip(*kept))
    return PhotoTripletDataset(shots, cutouts, length, size, seed=seed, avoid=masks)
