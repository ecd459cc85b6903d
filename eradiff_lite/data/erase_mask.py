"""`EraseMask`: the one form of a mask to erase, checked once where it enters, then passed down as it is.

It enters in four ways, one constructor each: a file or any picture (`EraseMask.from_file`, read by the rules of
`io.read_mask`), an array or tensor (`from_array`: bool as it is, numbers read as levels), a box in the picture's
pixels (`from_box`: ``erase --box``, the eraser's sliders), the mask editor's run-length code (`from_runs`).
Every check is here, in `validate_mask` (one channel, bool, the picture's size, not empty, not everything): one
line that names the mask and says what to do, worded for the way it came in (`ADVICE`). The array is read-only, so
whoever receives an `EraseMask` takes it as it is; its tensor is derived in one function, `unet_mask` (the UNet's
mask channel, which SRA max-pools to each attention grid). Public functions that also take plain arrays convert
once at entry (`as_erase_mask`); SRA's tensor entry (training batches, a latent grid) is `mask_batch`. The path a
mask takes, before and after, is drawn in docs/layers.md.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image

from .io import ImageSource, MaskError, describe_source, read_mask, resize_mask, rle_decode, rle_encode


class Advice(NamedTuple):
    """What a refusal says, by the way the mask came in (``{name}``: the mask's name)."""

    empty: str
    full: str
    size: str  # also ``{w}x{h}``: the mask's size, ``{iw}x{ih}``: the picture's


_SIZE = ("{name} is {w}x{h} pixels but its image is {iw}x{ih}: resize the mask to the image with nearest-neighbour "
         "interpolation, or pass the mask made for this image")
_GIVEN = Advice(empty="{name} is empty (nothing to erase): white/1 marks the region to erase; check the threshold or "
                      "whether the mask is inverted",
                full="{name} covers the whole image, so nothing is left to fill the hole from: mask only the object "
                     "(white/1 = erase), or check whether the mask is inverted", size=_SIZE)
#: The words of each refusal, by entry ("file", "array", "box", "drawn").
ADVICE = {
    "file": _GIVEN,
    "array": _GIVEN,
    "box": _GIVEN._replace(full="{name} covers the whole image, so nothing is left to fill the hole from: give a box "
                                "around the object only"),
    "drawn": Advice(empty="{name} is empty: brush over what to erase (or click it with 'select object')",
                    full="{name} covers the whole picture, so nothing is left to fill it from: undo, or take some "
                         "away with the eraser brush",
                    size="the editor shows another picture: choose the scene or upload the picture again"),
}
MASK_NEEDS = "a path, a PIL image, an H x W array or tensor (True / 1 / white = erase), or an EraseMask"


def _check_size(shape: tuple, image_shape, name: str, entry: str) -> None:
    if image_shape is not None and tuple(shape) != tuple(image_shape[:2]):
        raise MaskError(ADVICE[entry].size.format(name=name, w=shape[1], h=shape[0], iw=image_shape[1],
                                                  ih=image_shape[0]))


def validate_mask(array, name: str = "mask", entry: str = "array", image_shape=None) -> np.ndarray:
    """The one check of a mask to erase: ``array`` as a read-only bool ``H x W`` copy, or a one-line `MaskError`
    (not H x W, not bool, not the picture's ``image_shape``, empty, everything), worded by ``entry``."""
    if entry not in ADVICE:
        raise ValueError(f"unknown mask entry {entry!r}: choose one of {', '.join(ADVICE)}")
    advice, arr = ADVICE[entry], np.asarray(array)
    if arr.ndim != 2:
        raise MaskError(f"{name}: a mask must be H x W (one channel), got shape {arr.shape}")
    if arr.dtype != bool:
        raise MaskError(f"{name}: a mask's pixels must be bool (True = erase), got {arr.dtype}: "
                        f"EraseMask.from_array reads numbers as levels")
    _check_size(arr.shape, image_shape, name, entry)
    if not arr.any():
        raise MaskError(advice.empty.format(name=name))
    if arr.all():
        raise MaskError(advice.full.format(name=name))
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


def _two_d(arr: np.ndarray) -> np.ndarray:
    """``1 x H x W``, ``1 x 1 x H x W`` or ``H x W x 1`` as ``H x W`` (anything else as it is)."""
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    return arr[..., 0] if arr.ndim == 3 and arr.shape[-1] == 1 else arr


@dataclass(frozen=True, eq=False)
class EraseMask:
    """A checked mask to erase: ``array`` is ``H x W`` bool (True = erase), read-only, neither empty nor everything.

    ``name`` is what its errors call it (a file's path, ``"the drawn mask"``, ``"box (x0, y0, x1, y1)"``);
    ``entry`` how it came in (``"file"``, ``"array"``, ``"box"``, ``"drawn"``), which words them. ``EraseMask(array)``
    checks as the constructors do; ``image_shape`` (the picture's, when known) is checked too."""

    array: np.ndarray
    name: str = "mask"
    entry: str = "array"
    image_shape: InitVar[tuple[int, int] | None] = None

    def __post_init__(self, image_shape):
        object.__setattr__(self, "array", validate_mask(self.array, self.name, self.entry, image_shape))

    # the four entries
    @classmethod
    def from_file(cls, source: ImageSource, *, threshold: float = 0.5, image_shape=None,
                  name: str | None = None) -> EraseMask:
        """A mask picture (a path, bytes, an open file, a PIL image or an image array), read by `io.read_mask`."""
        return cls(read_mask(source, threshold=threshold, name=name), describe_source(source, name), "file",
                   image_shape)

    @classmethod
    def from_array(cls, array, *, threshold: float = 0.5, image_shape=None, name: str = "mask") -> EraseMask:
        """An ``H x W`` array or tensor (singleton axes dropped): bool as it is, numbers read as levels (`read_mask`).
        """
        arr = np.asarray(array.detach().cpu()) if isinstance(array, torch.Tensor) else np.asarray(array)
        flat = _two_d(arr)
        if flat.ndim == 2 and flat.dtype != bool:
            flat = read_mask(flat, threshold=threshold, name=name)
        return cls(flat if flat.ndim == 2 else arr, name, "array", image_shape)

    @classmethod
    def from_box(cls, shape: tuple[int, int], box, *, name: str | None = None) -> EraseMask:
        """True inside ``box = (x0, y0, x1, y1)`` (pixels; x1 and y1 excluded) of a picture of ``shape``."""
        h, w = shape[:2]
        x0, y0, x1, y1 = (int(v) for v in box) if len(box) == 4 else (0, 0, 0, 0)
        if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
            raise MaskError(f"box {' '.join(str(v) for v in box)} is not inside the {w}x{h} picture with x0 < x1 and "
                            f"y0 < y1: give --box x0 y0 x1 y1 in pixels of the picture")
        arr = np.zeros((h, w), bool)
        arr[y0:y1, x0:x1] = True
        return cls(arr, name or f"box ({x0}, {y0}, {x1}, {y1})", "box")

    @classmethod
    def from_runs(cls, runs, shape: tuple[int, int], *, size: tuple[int, int] | None = None,
                  name: str = "the drawn mask") -> EraseMask:
        """The mask editor's run-length code of a mask drawn at ``shape``, brought to the picture's ``size`` (nearest
        neighbour) when the editor drew it smaller."""
        arr = rle_decode(runs, shape)
        return cls(arr if size is None else resize_mask(arr, size), name, "drawn")

    # what it is
    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        arr = self.array if dtype is None else self.array.astype(dtype)
        return arr.copy() if copy else arr

    def __eq__(self, other) -> bool:
        return isinstance(other, EraseMask) and np.array_equal(self.array, other.array)

    __hash__ = None

    def __repr__(self) -> str:
        return (f"EraseMask({self.name!r}, {self.shape[1]}x{self.shape[0]}, {int(self.array.sum())} pixels to erase, "
                f"from {self.entry!r})")

    # what it is checked against, and made into
    def fit(self, image_shape) -> EraseMask:
        """This mask, when it has the size of a picture of ``image_shape`` (or that is None); else a `MaskError`."""
        _check_size(self.shape, image_shape, self.name, self.entry)
        return self

    def resized(self, shape: tuple[int, int], name: str | None = None) -> EraseMask:
        """The mask at ``shape = (h, w)`` by nearest neighbour: a new mask, checked (a resize can fill a picture or
        empty it); this mask itself when it has that shape."""
        if self.shape == tuple(shape):
            return self
        return EraseMask(resize_mask(self.array, shape), name or f"{self.name} resized to {shape[1]} x {shape[0]}",
                         self.entry)

    def runs(self) -> list[int]:
        """The run-length code of the mask (`rle_encode`)."""
        return rle_encode(self.array)


def as_erase_mask(mask, image_shape=None, *, name: str = "the mask", threshold: float = 0.5) -> EraseMask:
    """The one conversion at a public function's entry: an `EraseMask` as it is (its size checked against the
    picture's ``image_shape``), an ``H x W`` array or tensor by `EraseMask.from_array`, a picture by `from_file`."""
    if isinstance(mask, EraseMask):
        return mask.fit(image_shape)
    if isinstance(mask, torch.Tensor) or (isinstance(mask, np.ndarray) and _two_d(mask).ndim == 2):
        return EraseMask.from_array(mask, threshold=threshold, image_shape=image_shape, name=name)
    if isinstance(mask, (str, os.PathLike, bytes, bytearray, io.IOBase, Image.Image, np.ndarray)):
        return EraseMask.from_file(mask, threshold=threshold, image_shape=image_shape, name=name)
    raise MaskError(f"{name} is {'None' if mask is None else f'a {type(mask).__name__}'}: each mask must be "
                    f"{MASK_NEEDS}")


def unet_mask(masks: EraseMask | Sequence[EraseMask]) -> torch.Tensor:
    """The mask channel of the UNet's input: float ``B x 1 x H x W`` in {0, 1} (1 = erase), on the CPU. SRA max-pools
    this same tensor to each attention grid. The masks were checked where they entered; only the batch's sizes are
    compared here."""
    masks = [masks] if isinstance(masks, EraseMask) else list(masks)
    sizes = sorted({m.shape for m in masks})
    if len(sizes) != 1:
        raise MaskError(f"the masks of one batch must share one size, got {sizes or 'none'}: give one mask per image, "
                        f"each at its image's size")
    return torch.from_numpy(np.stack([m.array for m in masks])[:, None].astype(np.float32))


def mask_batch(mask) -> torch.Tensor:
    """SRA's erase mask as float ``[B, 1, H, W]`` in {0, 1}: `unet_mask` of EraseMasks, or a tensor given as such (the
    tensor entry: training batches, a latent grid), checked here: ``[B, 1, H, W]``, no item covering everything. An
    empty item is allowed (SRA then changes nothing for it)."""
    if isinstance(mask, EraseMask) or (isinstance(mask, (list, tuple)) and mask
                                       and all(isinstance(m, EraseMask) for m in mask)):
        return unet_mask(mask)
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"the erase mask must be a torch.Tensor [B, 1, H, W] or EraseMasks, got {type(mask).__name__}: "
                        f"use eradiff_lite.data.EraseMask.from_array(mask) for one H x W bool mask")
    if mask.ndim != 4 or mask.shape[1] != 1:
        raise MaskError(f"the erase mask must be [B, 1, H, W] (one channel, 1 = erase), got {tuple(mask.shape)}")
    binary = mask > 0.5
    full = binary.flatten(1).all(dim=1)
    if full.any():
        raise MaskError(f"erase mask of batch item(s) {full.nonzero().flatten().tolist()} covers the whole image: "
                        f"SRA would leave the hole with no key to attend to; mask only the object (1 = erase)")
    return binary.float()


# ------------------------------------------------------------------------------- the old names, as arrays
def load_mask(source: ImageSource, *, threshold: float = 0.5, image: np.ndarray | None = None,
              name: str | None = None) -> np.ndarray:
    """`EraseMask.from_file` as a writable bool array (for data sets and notebooks that keep arrays); ``image``: the
    picture it must fit."""
    return EraseMask.from_file(source, threshold=threshold, image_shape=None if image is None else image.shape[:2],
                               name=name).array.copy()


def check_mask(mask, image_shape: tuple[int, int] | None = None, name: str = "mask") -> EraseMask:
    """`EraseMask.from_array`: refuses a mask that is not H x W, does not fit its image, is empty or is everything."""
    return EraseMask.from_array(mask, image_shape=image_shape, name=name)
