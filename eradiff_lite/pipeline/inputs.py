"""Checking and preparing what the erase pipeline is given: images, masks, sizes.

Images may be paths, PIL images or ``H x W x 3`` float arrays in [0, 1]; grayscale, palette and RGBA
images are converted by `eradiff_lite.data.load_image` (transparency over white). Masks go through
`eradiff_lite.data.load_mask` (white/True = erase; wrong size, empty and full masks are refused).
"""

from __future__ import annotations

import numpy as np
import torch

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


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def prepare_inputs(image, mask, unet) -> tuple[list[np.ndarray], list[np.ndarray], torch.Tensor, torch.Tensor]:
    """(images, masks, image tensor B x 3 x H x W in [-1, 1], mask tensor B x 1 x H x W, 1 = erase)."""
    images = [load_image(im) for im in _as_list(image)]
    masks_in = _as_list(mask)
    if len(masks_in) != len(images):
        raise ValueError(f"got {len(images)} image(s) but {len(masks_in)} mask(s): give one mask per image")
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
