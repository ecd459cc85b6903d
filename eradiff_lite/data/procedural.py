"""Procedural scenes: small, fast triplets whose context "screams" object.

Each scene is a textured background (wood grain, tiles, stripes, a gradient, or a crop of a shipped
photo), optionally a carrier (a pizza, a pan), a few *context* objects of one family, and one more
object of that family pasted on top: the one to erase. A model that merely continues the context
paints another object into the hole (the paper's pepperoni-on-pizza example); one that learned to
erase paints the carrier or the background.

Everything is deterministic from ``(split, seed)``. Seeds of the ``train`` and ``heldout`` splits come
from different random streams, and two families (``button``, ``egg``) never appear in ``train``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compose import Triplet, mask_from_alpha, stamp
from .drawing import FAMILY_SPECS, background, carrier

TRAIN_FAMILIES = ("pepperoni", "orange", "cookie", "coin")
HELDOUT_FAMILIES = ("button", "egg")
FAMILIES = TRAIN_FAMILIES + HELDOUT_FAMILIES
SPLITS = {"train": 0, "heldout": 1}
#: Names that lived here before the drawing moved to `drawing` (imported from here by the training data, the
#: judge, the benchmark, the widgets and the tests): still importable from this module.
__all__ = ["FAMILIES", "HELDOUT_FAMILIES", "SPLITS", "TRAIN_FAMILIES", "Scene", "make_scene"]


# --------------------------------------------------------------------------- scenes
@dataclass
class Scene:
    """A procedural triplet and what it is made of."""

    triplet: Triplet
    family: str
    background: str
    box: tuple[int, int, int, int]  # the pasted object's box (x0, y0, x1, y1)
    split: str
    seed: int
    context_mask: np.ndarray | None = None  # H x W bool: pixels of the context objects (same family) in x_ori

    def nearest_context_distance(self) -> float:
        """Pixels from the erase mask to the nearest context object (0 when they touch; inf when none)."""
        if self.context_mask is None or not self.context_mask.any():
            return float("inf")
        from scipy.ndimage import distance_transform_edt

        return float(distance_transform_edt(~self.triplet.mask)[self.context_mask].min())


def _place(rng, allowed: np.ndarray | None, occupied: np.ndarray, side: int, size: int, tries: int = 12):
    """Top-left of a ``side``-pixel patch: inside ``allowed`` (its centre), overlapping ``occupied`` least."""
    best, best_cost = None, np.inf
    for _ in range(tries):
        y, x = int(rng.integers(0, size - side + 1)), int(rng.integers(0, size - side + 1))
        cy, cx = y + side // 2, x + side // 2
        if allowed is not None and not allowed[cy, cx]:
            continue
        cost = occupied[y:y + side, x:x + side].mean()
        if cost < best_cost:
            best, best_cost = (y, x), cost
        if cost == 0:
            break
    if best is None:
        best = (int(rng.integers(0, size - side + 1)), int(rng.integers(0, size - side + 1)))
    return best


def make_scene(seed: int, size: int = 64, *, split: str = "train", family: str | None = None,
               dilate: int = 1, background_kind: str | None = None) -> Scene:
    """The procedural scene number ``seed`` of ``split`` (deterministic). ``family`` and ``background_kind`` force a
    choice (the background among the family's own, `FAMILY_SPECS`); unforced scenes are unchanged by them."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
    if size < 16:
        raise ValueError(f"scenes need at least 16 x 16 pixels, got {size}")
    rng = np.random.default_rng([SPLITS[split], int(seed)])
    families = TRAIN_FAMILIES if split == "train" else FAMILIES
    if family is None:
        family = families[int(rng.integers(len(families)))]
    elif family not in families:
        raise ValueError(f"family {family!r} is not in split {split!r} ({', '.join(families)})")
    spec = FAMILY_SPECS[family]
    bg_kind = spec.backgrounds[int(rng.integers(len(spec.backgrounds)))]  # drawn even when forced: same stream
    if background_kind is not None:
        if background_kind not in spec.backgrounds:
            raise ValueError(f"family {family!r} sits on {', '.join(spec.backgrounds)}, not {background_kind!r}")
        bg_kind = background_kind
    img = background(bg_kind, size, rng)
    allowed = carrier(spec.carrier, img, rng) if spec.carrier else None
    occupied = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(*spec.count))):
        patch = spec.draw(rng, rng.uniform(*spec.radius) * size)
        y, x = _place(rng, allowed, occupied, patch.shape[0], size)
        occupied = np.maximum(occupied, stamp(img, patch, y, x))
    x_ori = img.copy()
    patch = spec.draw(rng, rng.uniform(*spec.radius) * size)
    y, x = _place(rng, allowed, occupied, patch.shape[0], size, tries=24)
    alpha = stamp(img, patch, y, x)
    mask = mask_from_alpha(alpha, dilate=dilate)
    img = np.where(mask[..., None], img, x_ori)  # outside the mask, x_obj is exactly x_ori
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Scene(Triplet(x_obj=img, x_ori=x_ori, mask=mask), family, bg_kind, box, split, int(seed),
                 context_mask=occupied > 0.5)
