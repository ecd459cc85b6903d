"""Checking and preparing what the erase pipeline is given: images, masks, sizes.

Images may be paths, PIL images or ``H x W x 3`` float arrays in [0, 1]; grayscale, palette and RGBA
images are converted by `eradiff_lite.data.load_image` (transparency over white). Masks go through
`eradiff_lite.data.load_mask` (white/True = erase; wrong size, empty and full masks are refused).
A batch is a list (or tuple) of images and one of masks, of the same length; an empty batch, a missing item
(``None``) or an object of another kind is refused with a `ValueError` that says what is needed (`check_batch`).
"""

from __future__ import annotations

import io
import os

import numpy as np
import torch
from PIL import Image

from ..data import ImageError, load_image, load_mask, mask_to_tensor, to_tensor
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
MASK_NEEDS = "a path, a PIL image, or an H x W array or tensor (True / 1 / white = erase)"
_KINDS = (str, os.PathLike, bytes, bytearray, io.IOBase, Image.Image, np.ndarray)


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_batch(images: list, masks: list) -> None:
    """Refuse an empty batch, unequal lengths, and items that are neither pictures nor masks (`ValueError`)."""
    if not images:
        raise ValueError(f"the batch is empty: the pipeline needs at least one image ({IMAGE_NEEDS}) and one mask "
                         f"per image")
    if len(masks) != len(images):
        raise ValueError(f"got {len(images)} image(s) but {len(masks)} mask(s): give one mask per image")
    for kind, items, needs, kinds in (("image", images, IMAGE_NEEDS, _KINDS),
                                      ("mask", masks, MASK_NEEDS, (*_KINDS, torch.Tensor))):
        for i, item in enumerate(items):
            if not isinstance(item, kinds):
                what = "None" if item is None else f"a {type(item).__name__}"
                where = f"{kind} {i} of the batch" if len(items) > 1 else f"the {kind}"
                raise ValueError(f"{where} is {what}: each {kind} must be {needs}")


def prepare_inputs(image, mask, unet) -> tuple[list[np.ndarray], list[np.ndarray], torch.Tensor, torch.Tensor]:
    """(images, masks, image tensor B x 3 x H x W in [-1, 1], mask tensor B x 1 x H x W, 1 = erase)."""
    images_in, masks_in = _as_list(image), _as_list(mask)
    check_batch(images_in, masks_in)
    images = [load_image(im) for im in images_in]
    masks = []
    for i, (im, m) in enumerate(zip(images, masks_in)):
        if isinstance(m, torch.Tensor):
            m = m.detach().cpu().numpy()
        if isinstance(m, np.ndarray):
            m = np.squeeze(m)  # 1 x H x W or H x W x 1 -> H x W
        masks.append(load_mask(m, image=im, name=f"mask {i}"))
        check_size(*im.shape[:2], unet)
    image_t = torch.stack([to_tensor(im) for im in images])
    mask_t = torch.stack([mask_to_tensor(m) for m in masks])
    return images, masks, image_t, mask_t
