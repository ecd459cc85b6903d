"""Object transforms and pasting: the paper's data synthesis (Sec. 4.1).

From a photo ``x_ori`` and a cut-out of its main object, paste a transformed copy of the object onto
the background. That gives the triplet ``(x_obj, x_ori, mask)``: the photo with the extra object, the
clean target, and the region to erase (True = erase), taken from the pasted alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage


@dataclass
class Triplet:
    """One training example: ``x_obj`` (with the pasted object), ``x_ori`` (clean target), ``mask``."""

    x_obj: np.ndarray  # H x W x 3 float in [0, 1]
    x_ori: np.ndarray  # H x W x 3 float in [0, 1]
    mask: np.ndarray  # H x W bool, True = erase

    def __post_init__(self):
        if self.x_obj.shape != self.x_ori.shape or self.mask.shape != self.x_ori.shape[:2]:
            raise ValueError(f"triplet shapes differ: x_obj {self.x_obj.shape}, x_ori {self.x_ori.shape}, "
                             f"mask {self.mask.shape}")


def transform_cutout(cutout: np.ndarray, *, scale: float = 1.0, angle: float = 0.0,
                     flip: bool = False) -> np.ndarray:
    """Scale, rotate (degrees, counter-clockwise, canvas grows to fit) and mirror an RGBA cut-out."""
    if cutout.ndim != 3 or cutout.shape[2] != 4:
        raise ValueError(f"a cut-out is H x W x 4 (RGBA), got {cutout.shape}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    # premultiplied alpha, so that resampling does not bleed the (invisible) colour of transparent pixels
    premult = np.dstack([cutout[..., :3] * cutout[..., 3:4], cutout[..., 3]])
    channels = [Image.fromarray(np.ascontiguousarray(premult[..., c], np.float32)) for c in range(4)]  # mode F
    h, w = cutout.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = []
    for ch in channels:
        ch = ch.resize(size, Image.BICUBIC)
        if angle:
            ch = ch.rotate(angle, resample=Image.BICUBIC, expand=True)
        if flip:
            ch = ch.transpose(Image.FLIP_LEFT_RIGHT)
        out.append(np.asarray(ch, dtype=np.float32))
    rgba = np.clip(np.dstack(out), 0, 1)
    alpha = rgba[..., 3:4]
    rgb = np.where(alpha > 1e-4, rgba[..., :3] / np.maximum(alpha, 1e-4), 0.0)
    return np.dstack([np.clip(rgb, 0, 1), alpha[..., 0]]).astype(np.float32)


def paste(background: np.ndarray, cutout: np.ndarray, top_left: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Alpha-composite ``cutout`` onto ``background`` at ``(y, x)``; parts outside the image are clipped.

    Returns the composite and the pasted alpha at image size.
    """
    h, w = background.shape[:2]
    ch, cw = cutout.shape[:2]
    y, x = top_left
    alpha_full = np.zeros((h, w), np.float32)
    ys, xs = slice(max(0, y), min(h, y + ch)), slice(max(0, x), min(w, x + cw))
    cy, cx = slice(ys.start - y, ys.stop - y), slice(xs.start - x, xs.stop - x)
    if ys.start >= ys.stop or xs.start >= xs.stop:
        raise ValueError(f"a cut-out of {cw}x{ch} at {top_left} lies outside the {w}x{h} image")
    alpha_full[ys, xs] = cutout[cy, cx, 3]
    rgb_full = np.zeros_like(background)
    rgb_full[ys, xs] = cutout[cy, cx, :3]
    a = alpha_full[..., None]
    return (background * (1 - a) + rgb_full * a).astype(np.float32), alpha_full


def stamp(img: np.ndarray, patch: np.ndarray, y: int, x: int) -> np.ndarray:
    """Alpha-composite an RGBA ``patch`` onto ``img`` in place, its top-left corner at ``(y, x)`` (the patch must
    lie inside the image); returns the patch's alpha at image size. `paste` without the copy and the clipping:
    how the procedural scenes draw their objects (and the colour judge a fresh one)."""
    side_y, side_x = patch.shape[:2]
    region = img[y:y + side_y, x:x + side_x]
    a = patch[..., 3:4]
    region *= 1 - a
    region += a * patch[..., :3]
    alpha = np.zeros(img.shape[:2], np.float32)
    alpha[y:y + side_y, x:x + side_x] = patch[..., 3]
    return alpha


def mask_from_alpha(alpha: np.ndarray, *, threshold: float = 0.5, dilate: int = 0) -> np.ndarray:
    """The erase mask of a pasted alpha: ``alpha > threshold``, grown by ``dilate`` pixels."""
    mask = alpha > threshold
    if dilate > 0:
        mask = ndimage.binary_dilation(mask, iterations=dilate)
    return mask


def choose_position(image_shape: tuple[int, int], object_shape: tuple[int, int], rng: np.random.Generator,
                    avoid: np.ndarray | None = None, tries: int = 24) -> tuple[int, int]:
    """A top-left corner keeping the object inside the image and, with ``avoid``, off that region.

    Of ``tries`` random corners, the one overlapping ``avoid`` least is taken.
    """
    h, w = image_shape
    oh, ow = object_shape
    if oh > h or ow > w:
        raise ValueError(f"a {ow}x{oh} object does not fit a {w}x{h} image: scale it down")
    best, best_overlap = (0, 0), np.inf
    for _ in range(tries if avoid is not None else 1):
        pos = (int(rng.integers(0, h - oh + 1)), int(rng.integers(0, w - ow + 1)))
        if avoid is None:
            return pos
        overlap = avoid[pos[0]:pos[0] + oh, pos[1]:pos[1] + ow].mean()
        if overlap < best_overlap:
            best, best_overlap = pos, overlap
        if overlap == 0:
            break
    return best


def make_triplet(x_ori: np.ndarray, cutout: np.ndarray, rng: np.random.Generator, *,
                 scale: tuple[float, float] = (0.6, 1.0), angle: tuple[float, float] = (-30.0, 30.0),
                 flip_p: float = 0.5, avoid: np.ndarray | None = None, dilate: int = 1,
                 threshold: float = 0.5) -> Triplet:
    """Paste a randomly scaled, rotated and mirrored copy of ``cutout`` onto ``x_ori``'s background.

    ``avoid`` (e.g. the original object's alpha > 0.5) is where the copy should not land.
    """
    obj = transform_cutout(cutout, scale=float(rng.uniform(*scale)), angle=float(rng.uniform(*angle)),
                           flip=bool(rng.random() < flip_p))
    h, w = x_ori.shape[:2]
    fit = min(1.0, 0.9 * h / obj.shape[0], 0.9 * w / obj.shape[1])
    if fit < 1.0:
        obj = transform_cutout(obj, scale=fit)
    pos = choose_position((h, w), obj.shape[:2], rng, avoid=avoid)
    x_obj, alpha = paste(x_ori, obj, pos)
    mask = mask_from_alpha(alpha, threshold=threshold, dilate=dilate)
    # faint edge pixels outside the mask are dropped: outside the mask, x_obj is exactly x_ori
    x_obj = np.where(mask[..., None], x_obj, x_ori).astype(np.float32)
    return Triplet(x_obj=x_obj, x_ori=x_ori.astype(np.float32), mask=mask)
