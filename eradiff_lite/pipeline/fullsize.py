"""Erasing a picture of any size with a model trained at one small size (64 px for the reference models).

The model sees a square window around the hole (`metrics.crops.crop_window`: twice the hole's longer side, at
least the model's own side when the picture is that large), resized to the model's side; the erased window is
resized back, and only the hole's pixels of the full-size picture are replaced. This is the "inpaint only the
masked area" mode of Stable Diffusion front-ends: everything outside the mask stays bit for bit.

A mask can be a picture of the same size (white = erase) or a box (`box_mask`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data import MaskError, check_mask, load_image, load_mask, mask_to_tensor, to_image, to_tensor
from ..metrics.crops import crop_window
from .inputs import check_batch

CONTEXT = 2.0  # window side = CONTEXT x the hole's longer side (at least the model's side)


def box_mask(shape: tuple[int, int], box) -> np.ndarray:
    """An ``H x W`` bool mask, True inside ``box = (x0, y0, x1, y1)`` (pixels, x1 and y1 excluded)."""
    h, w = shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise MaskError(f"box {x0} {y0} {x1} {y1} is not inside the {w}x{h} picture with x0 < x1 and y0 < y1: "
                        f"give --box x0 y0 x1 y1 in pixels of the picture")
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _resize(x: torch.Tensor, side: int, mode: str) -> torch.Tensor:
    if mode == "area":  # antialiased when shrinking, plain bilinear when enlarging
        return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=x.shape[-1] > side)
    return F.interpolate(x, size=(side, side), mode="bicubic", align_corners=False)


def erase_window(image: np.ndarray, mask: np.ndarray, side: int) -> tuple[int, int, int]:
    """``(top, left, size)`` of the square window the model erases for this hole."""
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return crop_window(box, image.shape[:2], context=CONTEXT, min_side=side)


def model_view(picture: np.ndarray, hole: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """What the model sees of a picture: the window around the hole resized to ``side`` pixels, the hole at
    that size (a model pixel is a hole if any of its pixels is), and the window ``(top, left, size)``."""
    check_mask(hole, picture.shape[:2], name="mask")
    top, left, size = erase_window(picture, hole, side)
    crop = picture[top:top + size, left:left + size]
    small = to_image(_resize(to_tensor(crop)[None], side, "area")[0])  # resizing is linear: [-1, 1] is fine
    m = mask_to_tensor(hole[top:top + size, left:left + size])[None]
    return small, _resize(m, side, "area")[0, 0].numpy() > 0, (top, left, size)


def paste_back(picture: np.ndarray, hole: np.ndarray, erased_view: np.ndarray, window: tuple) -> np.ndarray:
    """``picture`` with its hole's pixels taken from ``erased_view`` (the model's output) resized to the window."""
    top, left, size = window
    big = to_image(_resize(to_tensor(erased_view)[None], size, "bicubic")[0])
    result = picture.copy()
    region, region_hole = result[top:top + size, left:left + size], hole[top:top + size, left:left + size]
    region[region_hole] = big[region_hole]
    return result


def erase_full_size(pipe, image, mask, *, num_inference_steps: int = 25, strength: float = 1.0, sra: bool = False,
                    seed: int = 0, threshold: float = 0.5) -> np.ndarray:
    """``image`` (a path, PIL image or ``H x W x 3`` array, any size and mode) with ``mask`` erased by ``pipe``,
    at the picture's own size; pixels outside the mask are returned unchanged."""
    check_batch([image], [mask])  # one picture and its mask: anything else is a ValueError saying what is needed
    picture = load_image(image)
    hole = mask if isinstance(mask, np.ndarray) and mask.dtype == bool else load_mask(mask, threshold=threshold)
    small, small_hole, window = model_view(picture, hole, int(pipe.unet.config.sample_size))
    out = pipe(small, small_hole, num_inference_steps=num_inference_steps, strength=strength, sra=sra,
               generator=torch.Generator().manual_seed(seed)).images[0]
    return paste_back(picture, hole, out, window)
