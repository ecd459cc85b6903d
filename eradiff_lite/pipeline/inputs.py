"""Checking and preparing what the erase pipeline is given: images, masks, sizes.

Images may be paths, PIL images or ``H x W x 3`` float arrays in [0, 1]; grayscale, palette and RGBA
images are converted by `eradiff_lite.data.load_image` (transparency over white). Masks are `EraseMask`s, which
pass as they are, or anything `eradiff_lite.data.as_erase_mask` takes (an ``H x W`` bool array or tensor, a mask
picture), converted and checked once here, at the pipeline's entry (white/True = erase; wrong size, empty and
full masks are refused, as is a mask of another kind). A batch is a list (or tuple) of images and one of masks, of
the same length; an empty batch, unequal lengths or an image that is missing (``None``) or of another kind is
refused with a `ValueError` that says what is needed (`check_batch`).
"""

from __future__ import annotations

import io
import os

import numpy as np
import torch
from PIL import Image

from ..data import EraseMask, ImageError, as_erase_mask, load_image, to_tensor, unet_mask
from ..models.lite import unet_levels


def check_size(height: int, width: int, unet) -> None:
    """Refuse a size the UNet cannot take: not divisible by ``2 ** (levels - 1)``, or not its sample size."""
    factor = 2 ** (unet_levels(unet) - 1)
    if height % factor or width % factor:
        raise ImageError(f"image is {width}x{height} pixels but this UNet halves the size {unet_levels(unet) - 1} "
                         f"times, so both sides must be divisible by {factor}: resize or crop it")
    side = unet.config.sample_size
    if (height, width) != (side, side):
        raise ImageError(f"image is {width}x{height} pixels but this model was trained at {side}x{side}: resize the "
                         f"image and its mask to {side}x{side} (masks with nearest-neighbour interpolation)")


IMAGE_NEEDS = "a path, encoded bytes, a PIL image or an H x W x 3 array in [0, 1]"
_KINDS = (str, os.PathLike, bytes, bytearray, io.IOBase, Image.Image, np.ndarray)


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _where(kind: str, i: int, n: int) -> str:
    return f"{kind} {i} of the batch" if n > 1 else f"the {kind}"


def check_batch(images: list, masks: list) -> None:
    """Refuse an empty batch, unequal lengths, and images that are not pictures (`ValueError`); what a mask may be
    is `as_erase_mask`'s to say."""
    if not images:
        raise ValueError(f"the batch is empty: the pipeline needs at least one image ({IMAGE_NEEDS}) and one mask "
                         f"per image")
    if len(masks) != len(images):
        raise ValueError(f"got {len(images)} image(s) but {len(masks)} mask(s): give one mask per image")
    for i, item in enumerate(images):
        if not isinstance(item, _KINDS):
            what = "None" if item is None else f"a {type(item).__name__}"
            raise ValueError(f"{_where('image', i, len(images))} is {what}: each image must be {IMAGE_NEEDS}")


def prepare_inputs(image, mask, unet) -> tuple[list[np.ndarray], list[EraseMask], torch.Tensor, torch.Tensor]:
    """(images, masks as `EraseMask`s, image tensor B x 3 x H x W in [-1, 1], mask tensor B x 1 x H x W, 1 = erase).

    The pipeline's entry: each mask is converted (and checked) here once, or passes as it is if it is an
    `EraseMask` (its size checked against its image's); the mask tensor is `unet_mask` of them."""
    images_in, masks_in = _as_list(image), _as_list(mask)
    check_batch(images_in, masks_in)
    images = [load_image(im) for im in images_in]
    masks = [as_erase_mask(m, im.shape, name=_where("mask", i, len(images)))
             for i, (im, m) in enumerate(zip(images, masks_in))]
    for im in images:
        check_size(*im.shape[:2], unet)
    return images, masks, torch.stack([to_tensor(im) for im in images]), unet_mask(masks)
