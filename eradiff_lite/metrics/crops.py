"""Square crops around the erased object's box: what the local metrics look at.

Local FID (SmartBrush, and the paper's Table 3) compares crops around the mask instead of whole images,
so a small hole is not drowned by the untouched rest of the picture. The presence classifier and the
local FID both use `box_crops`: a square ``context`` times the box's longer side, centred on the box,
shifted (not shrunk) to stay inside the image, resized to ``out`` pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

CROP_SIZE = 32  # side of every crop fed to the course's networks (pixels)
CROP_CONTEXT = 2.0  # crop side = CROP_CONTEXT x the box's longer side


def crop_window(box: Sequence[int], image_size: tuple[int, int], context: float = CROP_CONTEXT,
                min_side: int = 8) -> tuple[int, int, int]:
    """``(top, left, side)`` of the square window around ``box = (x0, y0, x1, y1)``, inside the image."""
    x0, y0, x1, y1 = (int(v) for v in box)
    h, w = image_size
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError(f"box {tuple(box)} is not a non-empty (x0, y0, x1, y1) box inside a {w}x{h} image")
    side = int(round(context * max(x1 - x0, y1 - y0)))
    side = min(max(side, min_side), h, w)
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    top = int(np.clip(round(cy - side / 2), 0, h - side))
    left = int(np.clip(round(cx - side / 2), 0, w - side))
    return top, left, side


def box_crops(images: torch.Tensor, boxes: Sequence[Sequence[int]], out: int = CROP_SIZE,
              context: float = CROP_CONTEXT) -> torch.Tensor:
    """``B x C x out x out`` crops of ``images`` (``B x C x H x W``) around each image's box (bilinear)."""
    if images.ndim != 4 or len(boxes) != images.shape[0]:
        raise ValueError(f"need B x C x H x W images and one box per image, got {tuple(images.shape)} and "
                         f"{len(boxes)} boxes")
    crops = []
    for image, box in zip(images, boxes):
        top, left, side = crop_window(box, image.shape[-2:], context)
        patch = image[None, :, top:top + side, left:left + side]
        crops.append(F.interpolate(patch, size=(out, out), mode="bilinear", align_corners=False,
                                   antialias=side > out))
    return torch.cat(crops)
