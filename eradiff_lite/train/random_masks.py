"""Random masks for the baseline inpainter: strokes, boxes and object shapes (1 = erase).

SD2-Inpaint learned on random masks over whole photos; the lite baseline does the same on the scenes,
with three kinds in equal parts so that it also meets object-shaped holes. Half of the object-shaped
masks cover the scene's own object (as masks from segmentations cover real objects in inpainting data),
so the baseline learns what SD2-Inpaint learns: rebuild what is under the mask, objects included.
"""

from __future__ import annotations

import numpy as np

from ..data.drawing import ellipse_alpha

MASK_KINDS = ("strokes", "box", "object")


def stroke_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """One to three thick brush strokes (chains of discs along a random walk)."""
    mask = np.zeros((size, size), bool)
    for _ in range(int(rng.integers(1, 4))):
        y, x = rng.uniform(0, size, 2)
        radius = rng.uniform(0.04, 0.09) * size
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(4, 10))):
            angle += rng.normal(0, 0.6)
            y = float(np.clip(y + np.sin(angle) * radius, 0, size - 1))
            x = float(np.clip(x + np.cos(angle) * radius, 0, size - 1))
            mask |= ellipse_alpha((size, size), y, x, radius, radius) > 0.5
    return mask


def box_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """An axis-aligned box covering 2 % to 25 % of the image."""
    h, w = (rng.uniform(0.15, 0.5, 2) * size).astype(int) + 1
    y, x = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
    mask = np.zeros((size, size), bool)
    mask[y:y + h, x:x + w] = True
    return mask


def object_mask(object_masks: np.ndarray, rng: np.random.Generator, own: np.ndarray | None = None) -> np.ndarray:
    """The scene's ``own`` object mask (half the time, when given), else one of ``object_masks`` rolled to a
    random place."""
    if own is not None and rng.random() < 0.5:
        return own
    mask = object_masks[int(rng.integers(len(object_masks)))]
    return np.roll(mask, tuple(int(v) for v in rng.integers(0, mask.shape[0], 2)), axis=(0, 1))


def random_mask(size: int, rng: np.random.Generator, object_masks: np.ndarray,
                own: np.ndarray | None = None) -> np.ndarray:
    """One mask of a random kind (`MASK_KINDS`, equal odds), never empty and never full; ``own`` is the
    scene's object mask (see `object_mask`)."""
    kind = MASK_KINDS[int(rng.integers(len(MASK_KINDS)))]
    mask = {"strokes": lambda: stroke_mask(size, rng), "box": lambda: box_mask(size, rng),
            "object": lambda: object_mask(object_masks, rng, own)}[kind]()
    if not mask.any() or mask.all():
        return box_mask(size, rng)
    return mask
