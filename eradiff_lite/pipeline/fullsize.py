"""Erasing a picture of any size with a model trained at one small size (64 px for the reference models).

The model sees a square window around the hole (`metrics.crops.crop_window`: twice the hole's longer side, at
least the model's own side when the picture is that large), resized to the model's side; the erased window is
resized back, and only the hole's pixels of the full-size picture are replaced. This is the "inpaint only the
masked area" mode of Stable Diffusion front-ends: everything outside the mask stays bit for bit.

The mask comes in as an `EraseMask` (`EraseMask.from_file`, `from_box`, ...: checked there) or, at this public
function's entry only, as anything `as_erase_mask` takes; the window's mask at the model's size is a new mask, made
and checked by the same type (a hole that fills every model pixel is refused).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data import EraseMask, as_erase_mask, load_image, mask_to_tensor, to_image, to_tensor
from ..metrics.crops import crop_window
from .inputs import check_batch

CONTEXT = 2.0  # window side = CONTEXT x the hole's longer side (at least the model's side)


def box_mask(shape: tuple[int, int], box) -> np.ndarray:
    """An ``H x W`` bool array, True inside ``box = (x0, y0, x1, y1)`` (`EraseMask.from_box`, as a writable array)."""
    return EraseMask.from_box(shape, box).array.copy()


def _resize(x: torch.Tensor, side: int, mode: str) -> torch.Tensor:
    if mode == "area":  # antialiased when shrinking, plain bilinear when enlarging
        return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=x.shape[-1] > side)
    return F.interpolate(x, size=(side, side), mode="bicubic", align_corners=False)


def erase_window(image: np.ndarray, mask: EraseMask, side: int) -> tuple[int, int, int]:
    """``(top, left, size)`` of the square window the model erases for this hole (``mask``: an `EraseMask`, or
    its ``H x W`` array)."""
    ys, xs = np.nonzero(np.asarray(mask))
    return crop_window((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), image.shape[:2], context=CONTEXT,
                       min_side=side)


def model_view(picture: np.ndarray, hole: EraseMask, side: int) -> tuple[np.ndarray, EraseMask, tuple]:
    """What the model sees of a picture: the window around the hole resized to ``side`` pixels, the hole at
    that size (a model pixel is a hole if any of its pixels is; the same mask when nothing is resized), and the
    window ``(top, left, size)``. ``hole`` fits ``picture`` (checked where the two met)."""
    if picture.shape[:2] == (side, side):
        return picture, hole, (0, 0, side)  # the picture is what the model sees
    top, left, size = erase_window(picture, hole, side)
    crop = picture[top:top + size, left:left + size]
    small = to_image(_resize(to_tensor(crop)[None], side, "area")[0])  # resizing is linear: [-1, 1] is fine
    m = mask_to_tensor(hole.array[top:top + size, left:left + size])[None]
    small_hole = EraseMask(_resize(m, side, "area")[0, 0].numpy() > 0, f"{hole.name} at the model's {side} px",
                           hole.entry)
    return small, small_hole, (top, left, size)


def paste_back(picture: np.ndarray, hole: EraseMask, erased_view: np.ndarray, window: tuple) -> np.ndarray:
    """``picture`` with its hole's pixels taken from ``erased_view`` (the model's output) resized to the window."""
    top, left, size = window
    big = to_image(_resize(to_tensor(erased_view)[None], size, "bicubic")[0])
    result = picture.copy()
    region, region_hole = result[top:top + size, left:left + size], hole.array[top:top + size, left:left + size]
    region[region_hole] = big[region_hole]
    return result


def erase_full_size(pipe, image, mask, *, num_inference_steps: int = 25, strength: float = 1.0, sra: bool = False,
                    seed: int = 0, threshold: float = 0.5) -> np.ndarray:
    """``image`` (a path, PIL image or ``H x W x 3`` array, any size and mode) with ``mask`` (an `EraseMask`, or
    anything `as_erase_mask` takes, read with ``threshold``) erased by ``pipe``, at the picture's own size; pixels
    outside the mask are returned unchanged."""
    check_batch([image], [mask])  # one picture and its mask: anything else is a ValueError saying what is needed
    picture = load_image(image)
    hole = as_erase_mask(mask, picture.shape, threshold=threshold)  # the entry: an EraseMask passes as it is
    small, small_hole, window = model_view(picture, hole, int(pipe.unet.config.sample_size))
    out = pipe(small, small_hole, num_inference_steps=num_inference_steps, strength=strength, sra=sra,
               generator=torch.Generator().manual_seed(seed)).images[0]
    return paste_back(picture, hole, out, window)
