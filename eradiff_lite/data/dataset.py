"""`torch.utils.data.Dataset`s of triplets, and saving/loading a triplet folder."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .compose import Triplet, make_triplet
from .erase_mask import load_mask
from .io import load_image, mask_to_tensor, save_image, to_pil, to_tensor
from .procedural import FAMILIES, make_scene


def triplet_to_tensors(triplet: Triplet) -> dict[str, torch.Tensor]:
    """``x_obj``, ``x_ori``: ``3 x H x W`` in [-1, 1]; ``mask``: ``1 x H x W`` in {0, 1} (1 = erase)."""
    return {"x_obj": to_tensor(triplet.x_obj), "x_ori": to_tensor(triplet.x_ori), "mask": mask_to_tensor(triplet.mask)}


class SceneDataset(Dataset):
    """``length`` procedural scenes of ``split``; item ``i`` is scene ``first_seed + i``.

    Items are dicts of tensors (see `triplet_to_tensors`) plus ``family`` (an index into
    `FAMILIES`) and ``box`` (x0, y0, x1, y1 of the object to erase).
    """

    def __init__(self, length: int, size: int = 64, *, split: str = "train", first_seed: int = 0,
                 family: str | None = None):
        if length < 1:
            raise ValueError(f"a dataset needs at least one scene, got length={length}")
        self.length, self.size, self.split, self.first_seed, self.family = length, size, split, first_seed, family

    def __len__(self) -> int:
        return self.length

    def scene(self, index: int):
        if not 0 <= index < self.length:
            raise IndexError(index)
        return make_scene(self.first_seed + index, self.size, split=self.split, family=self.family)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        scene = self.scene(index)
        item = triplet_to_tensors(scene.triplet)
        item["family"] = torch.tensor(FAMILIES.index(scene.family))
        item["box"] = torch.tensor(scene.box)
        return item


class PhotoTripletDataset(Dataset):
    """Triplets from real photos: each photo gets a transformed copy of its own cut-out pasted on it.

    ``photos`` and ``cutouts`` are paired lists (the cut-out of photo k is ``cutouts[k]``, made by
    `matte` + `cut_out`); ``avoid`` masks (optional) keep the copy off the original object. Photos are
    resized to ``size`` first and the copy keeps its natural size in the photo times a random factor in
    ``scale``, capped at ``max_fraction`` of the image side. Item ``i`` uses photo ``i % len(photos)``
    and its own random stream.
    """

    def __init__(self, photos: Sequence[np.ndarray], cutouts: Sequence[np.ndarray], length: int,
                 size: int = 64, *, seed: int = 0, avoid: Sequence[np.ndarray | None] | None = None,
                 scale: tuple[float, float] = (0.6, 1.0), max_fraction: float = 0.45):
        if len(photos) != len(cutouts) or not photos:
            raise ValueError("photos and cutouts must be non-empty lists of the same length")
        self.size, self.length, self.seed = size, length, seed
        self.scale, self.max_fraction = scale, max_fraction
        self.natural = [size / (0.5 * (p.shape[0] + p.shape[1])) for p in photos]
        self.photos = [_resize(p, size) for p in photos]
        self.cutouts = list(cutouts)
        self.avoid = [None if a is None else np.asarray(Image.fromarray(a).resize((size, size), Image.NEAREST))
                      for a in (avoid or [None] * len(photos))]

    def __len__(self) -> int:
        return self.length

    def triplet(self, index: int) -> Triplet:
        k = index % len(self.photos)
        rng = np.random.default_rng([2, self.seed, index])
        cut = self.cutouts[k]
        base = min(self.natural[k], self.max_fraction * self.size / max(cut.shape[:2]) / self.scale[1])
        return make_triplet(self.photos[k], cut, rng, scale=(self.scale[0] * base, self.scale[1] * base),
                            avoid=self.avoid[k])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return triplet_to_tensors(self.triplet(index))


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    pil = to_pil(image).resize((size, size), Image.LANCZOS)
    return np.asarray(pil, dtype=np.float32) / 255.0


def save_triplets(triplets: Sequence[Triplet], folder: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write ``NNNN_obj.png``, ``NNNN_ori.png``, ``NNNN_mask.png`` and ``index.json``; returns the folder.

    Files are written to a temporary folder first and moved into place, so an interrupted save
    leaves nothing half-written. An existing ``folder`` is replaced only when save_triplets wrote it (it holds
    nothing but its ``index.json`` and pictures); any other folder is refused with a `ValueError`, untouched.
    """
    import shutil

    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".partial")
    for existing in (folder, tmp):
        if existing.exists() and not _written_here(existing):
            raise ValueError(f"{existing} exists and was not written by save_triplets: it is never replaced; "
                             f"choose a new folder")
    shutil.rmtree(tmp, ignore_errors=True)  # an interrupted save's leftovers
    tmp.mkdir(parents=True)
    entries = []
    for i, t in enumerate(triplets):
        names = {k: f"{i:04d}_{k}.png" for k in ("obj", "ori", "mask")}
        save_image(t.x_obj, tmp / names["obj"])
        save_image(t.x_ori, tmp / names["ori"])
        save_image(t.mask, tmp / names["mask"])
        entries.append(names)
    (tmp / "index.json").write_text(json.dumps({"meta": meta or {}, "triplets": entries}, indent=1))
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def _written_here(folder: Path) -> bool:
    """Whether ``folder`` is a (possibly half-written) save_triplets folder: only its index and pictures."""
    if not folder.is_dir():
        return False
    names = [p.name for p in folder.iterdir()]
    if not all(n == "index.json" or re.fullmatch(r"\d{4}_(obj|ori|mask)\.png", n) for n in names):
        return False
    if "index.json" not in names:
        return folder.name.endswith(".partial") or not names
    try:
        return "triplets" in json.loads((folder / "index.json").read_text())
    except (OSError, ValueError):
        return False


def load_triplets(folder: str | os.PathLike) -> list[Triplet]:
    """Read a folder written by `save_triplets`."""
    folder = Path(folder)
    index = folder / "index.json"
    if not index.is_file():
        raise FileNotFoundError(f"{index} not found: is {folder} a folder written by save_triplets?")
    out = []
    for e in json.loads(index.read_text())["triplets"]:
        x_ori = load_image(folder / e["ori"])
        out.append(Triplet(load_image(folder / e["obj"]), x_ori, load_mask(folder / e["mask"], image=x_ori)))
    return out
