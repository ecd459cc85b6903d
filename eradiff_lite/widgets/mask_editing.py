"""The mask editor's Python side without any widget: the editing history (undo, clear), the picture as a data URL,
and "select the object under a click".

Run-length code (`rle_encode`, `rle_decode`, in `eradiff_lite.data.io`; the eraser takes a drawing as
`EraseMask.from_runs`): a list of run lengths over the ``H x W`` mask in row-major order, alternating *keep* and
*erase* runs and starting with a *keep* run (0 when the first pixel is erased); the runs add up to ``H * W``. A
brushed 1024 x 1024 mask is a few thousand numbers, so the browser sends it whole on each mouse release.

Select by click: the main object's cut-out from the package's matting (`eradiff_lite.data.matting`): rembg where its
network can be loaded, else the classical matting of a box grown around the click until the object under the
click fits in it; either way restricted to the connected region under the click.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from ..data import MaskError, to_pil
from ..data.io import resize_mask
from ..data.matting import coarse_segmentation, matte_classical, matte_rembg, model_failures

__all__ = ["WORK_SIDE", "MaskHistory", "data_url", "object_at", "work_size"]

WORK_SIDE = 1024  # the editor draws at the picture's size up to this many pixels a side (larger: a preview)
_REMBG_UNAVAILABLE: list[str] = []  # why rembg's network could not be loaded (asked once per process)


def work_size(height: int, width: int, limit: int = WORK_SIDE) -> tuple[int, int]:
    """``(h, w)`` the editor draws at: the picture's own size, or scaled to ``limit`` on its long side."""
    scale = min(1.0, limit / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def data_url(picture: np.ndarray, size: tuple[int, int] | None = None) -> str:
    """The picture (``H x W x 3`` in [0, 1]) as a PNG data URL, resized to ``size = (h, w)`` if given."""
    pil = to_pil(picture)
    if size is not None and (size[1], size[0]) != pil.size:
        pil = pil.resize((size[1], size[0]), Image.LANCZOS)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class MaskHistory:
    """The mask being drawn and every earlier one: each edit pushes, undo pops, clear is an edit to nothing."""

    shape: tuple[int, int]
    mask: np.ndarray = None
    undo_stack: list = field(default_factory=list)
    limit: int = 50

    def __post_init__(self):
        if self.mask is None:
            self.mask = np.zeros(self.shape, bool)

    def push(self, mask: np.ndarray) -> bool:
        """Make ``mask`` the current one (the old one goes on the undo stack); False when nothing changed."""
        mask = np.asarray(mask, bool)
        if mask.shape != tuple(self.shape):
            raise MaskError(f"a mask of {mask.shape[1]}x{mask.shape[0]} for a {self.shape[1]}x{self.shape[0]} "
                            f"picture: clear it and draw again")
        if np.array_equal(mask, self.mask):
            return False
        self.undo_stack = [*self.undo_stack[-(self.limit - 1):], self.mask]
        self.mask = mask.copy()
        return True

    def undo(self) -> bool:
        if not self.undo_stack:
            return False
        self.mask = self.undo_stack.pop()
        return True

    def clear(self) -> bool:
        return self.push(np.zeros(self.shape, bool))


def _region_at(mask: np.ndarray, x: int, y: int, reach: int = 2) -> np.ndarray:
    """The connected region of ``mask`` under ``(x, y)``, or the nearest one within ``reach`` pixels."""
    labels, n = ndimage.label(mask)
    if n == 0:
        return np.zeros_like(mask)
    h, w = mask.shape
    window = labels[max(0, y - reach):min(h, y + reach + 1), max(0, x - reach):min(w, x + reach + 1)]
    label = labels[y, x] or (int(np.bincount(window[window > 0]).argmax()) if window.any() else 0)
    return labels == label if label else np.zeros_like(mask)


def _classical_object_at(picture: np.ndarray, x: int, y: int) -> np.ndarray:
    """Classical matting of the smallest box around the click whose object under the click does not touch its
    border (a box touching the picture's edge may), restricted to the region under the click."""
    h, w = picture.shape[:2]
    scale = min(1.0, 240 / max(h, w))  # the coarse search at matting's own working size
    small = np.asarray(to_pil(picture).resize((max(8, round(w * scale)), max(8, round(h * scale)))), np.float32) / 255
    sh, sw = small.shape[:2]
    sx, sy = min(sw - 1, int(x * sw / w)), min(sh - 1, int(y * sh / h))
    for fraction in (0.2, 0.3, 0.45, 0.65, 1.0):
        half = max(4, round(fraction * max(sh, sw) / 2))
        box = (max(0, sx - half), max(0, sy - half), min(sw, sx + half + 1), min(sh, sy + half + 1))
        try:
            region = _region_at(coarse_segmentation(small, box), sx, sy)
        except ValueError:  # nothing in the box differs from its border
            continue
        inner = region[box[1]:box[3], box[0]:box[2]]
        touches = ((inner[0].any() and box[1] > 0) or (inner[-1].any() and box[3] < sh)
                   or (inner[:, 0].any() and box[0] > 0) or (inner[:, -1].any() and box[2] < sw))
        if region.any() and not touches:
            full_box = (int(box[0] * w / sw), int(box[1] * h / sh), int(np.ceil(box[2] * w / sw)),
                        int(np.ceil(box[3] * h / sh)))
            alpha = matte_classical(picture, box=full_box)
            found = _region_at(alpha > 0.5, x, y)
            return found if found.any() else resize_mask(region, (h, w))
    return np.zeros((h, w), bool)


def object_at(picture: np.ndarray, x: int, y: int, backend: str = "auto") -> tuple[np.ndarray, str]:
    """The object under pixel ``(x, y)`` of ``picture`` as an ``H x W`` bool mask (grown by one pixel to take its
    soft edge), and how it was found. ``backend``: ``"auto"`` (rembg, else classical), ``"rembg"``, ``"classical"``.
    An empty mask means no object was found under the click."""
    h, w = picture.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise MaskError(f"the click ({x}, {y}) is outside the {w}x{h} picture")
    how = "classical matting"
    if backend in ("auto", "rembg") and not _REMBG_UNAVAILABLE:
        try:
            found = _region_at(matte_rembg(picture) > 0.5, x, y)
            if found.any():
                return ndimage.binary_dilation(found), "rembg's cut-out of the main object"
            how = "classical matting (the click is not on rembg's main object)"
        except model_failures() as err:
            if backend == "rembg":
                raise
            _REMBG_UNAVAILABLE.append(f"{type(err).__name__}: {str(err).splitlines()[0][:80] if str(err) else ''}")
    if _REMBG_UNAVAILABLE and backend == "auto":
        how = "classical matting (rembg's network could not be loaded)"
    found = _classical_object_at(picture, x, y)
    return (ndimage.binary_dilation(found) if found.any() else found), how
