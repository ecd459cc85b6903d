"""Is the object gone, and did the model paint another one? A colour judge that needs no training.

A procedural scene knows its palettes: the *family* palette (the pixels of the context objects in
``x_ori`` and of the pasted object in ``x_obj``) and the *background* palette (the true background
under the hole and the non-object pixels of ``x_ori`` around it). Each pixel of the fill is given to the
palette whose nearest colour is closer (RGB, nearest neighbour); ``family_share`` is the share of the
hole painted in family colours. Then, per scene:

- ``recreated``: ``family_share > 0.5``: the hole is mostly an object of the context family (the
  pepperoni problem: the model painted a slice, the same one or a new one);
- ``eliminated``: not recreated, and the hole is at least ``3 dB`` closer to the true background than the
  object was (masked PSNR of the fill minus that of ``x_obj``): a fill that merely blurs the object into
  mud is not counted as erased.

`validate_judge` scores reference fills that must land at opposite ends: ``untouched`` (the object stays:
0 % eliminated), ``true background`` (100 %), a fresh object of the same family painted into the hole
(``repaint``: recreated ~100 %), and the true background shifted by 3 px (a plausible fill that is not
pixel-aligned). Colour alone cannot tell a family from a background of the same colour: scenes where the two
palettes overlap are where the judge is least sure, and it says so in ``ambiguous`` (palette overlap).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation
from scipy.spatial import cKDTree

from ..data.compose import stamp
from ..data.drawing import FAMILY_SPECS
from ..data.procedural import Scene
from .coherence import masked_psnr
from .fill import shifted_truth

ELIMINATION_MARGIN_DB = 3.0


def palettes(scene: Scene, ring: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(family colours, background colours) of ``scene`` as ``N x 3`` arrays."""
    t = scene.triplet
    context = scene.context_mask if scene.context_mask is not None else np.zeros_like(t.mask)
    family = np.concatenate([t.x_ori[context], t.x_obj[t.mask]])
    near = binary_dilation(t.mask, iterations=ring) & ~context
    background = np.concatenate([t.x_ori[t.mask], t.x_ori[near & ~t.mask]])
    return family, background


def family_share(fill: np.ndarray, scene: Scene) -> float:
    """Share of the hole's pixels of ``fill`` (``H x W x 3`` in [0, 1]) nearer to a family colour."""
    family, background = palettes(scene)
    pixels = fill[scene.triplet.mask]
    d_family = cKDTree(family).query(pixels)[0]
    d_background = cKDTree(background).query(pixels)[0]
    return float(np.mean(d_family < d_background))


def judge(fill: np.ndarray, scene: Scene) -> dict:
    """``{"family_share", "recreated", "eliminated", "gain_db"}`` of one erased image."""
    t = scene.triplet
    share = family_share(fill, scene)
    gain = masked_psnr(fill, t.x_ori, t.mask) - masked_psnr(t.x_obj, t.x_ori, t.mask)
    recreated = share > 0.5
    return {"family_share": share, "recreated": bool(recreated),
            "eliminated": bool(not recreated and gain >= ELIMINATION_MARGIN_DB), "gain_db": float(gain)}


def repaint(scene: Scene, seed: int = 0) -> np.ndarray:
    """``x_ori`` with a new object of the scene's family drawn over the hole (inside the hole only)."""
    t = scene.triplet
    rng = np.random.default_rng([2, scene.seed, seed])
    x0, y0, x1, y1 = scene.box
    radius = max(x1 - x0, y1 - y0) / 2
    patch = FAMILY_SPECS[scene.family].draw(rng, radius)
    side = patch.shape[0]
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    size = t.x_ori.shape[0]
    y, x = int(np.clip(cy - side // 2, 0, size - side)), int(np.clip(cx - side // 2, 0, size - side))
    img = t.x_ori.copy()
    stamp(img, patch, y, x)
    return np.where(t.mask[..., None], img, t.x_obj)


def validate_judge(scenes: list[Scene]) -> dict:
    """Shares eliminated / recreated of each reference fill (percent) on ``scenes``."""
    refs = {"untouched": lambda s: s.triplet.x_obj, "true background": lambda s: s.triplet.x_ori,
            "background shifted 3 px": lambda s: shifted_truth(s.triplet.x_ori, s.triplet.mask),
            "repaint (new object of the family)": repaint}
    out = {}
    for name, make in refs.items():
        verdicts = [judge(make(s), s) for s in scenes]
        out[name] = {"eliminated": 100 * float(np.mean([v["eliminated"] for v in verdicts])),
                     "recreated": 100 * float(np.mean([v["recreated"] for v in verdicts]))}
    return out
