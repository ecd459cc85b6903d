"""Loading images and cut-outs, checked early, and reading the pixels of masks (a picture, the editor's code).

Conventions used everywhere in the course:

- an image is a float32 array ``H x W x 3`` in ``[0, 1]`` (``to_tensor`` gives ``3 x H x W`` in ``[-1, 1]``);
- a cut-out is a float32 array ``H x W x 4`` (RGB plus alpha);
- a mask is a bool array ``H x W`` with **True (white, 1) = erase**, the diffusers convention, which every
  module of the course (the losses, SRA's masks, the metrics) reads the same way (docs/paper_notes.md says why
  the paper's equations need it); a mask to erase travels as an `EraseMask` (`erase_mask.py`), checked once
  where it enters; `read_mask` below only reads a mask picture's pixels;
- a picture with an embedded colour profile is converted to sRGB on load (`colour.to_srgb`); masks are not.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .colour import to_srgb

ImageSource = str | os.PathLike | bytes | io.BytesIO | Image.Image | np.ndarray

#: Images above this many pixels are refused from their header, before any decoding (80 MP would need 1 GB+).
MAX_PIXELS = 40_000_000
#: Formats `save_image` writes: lossless only, since kept pixels are promised bit for bit.
LOSSLESS_SUFFIXES = {".png": "PNG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}


class ImageError(ValueError):
    """An image that cannot be used, with the fix in its message."""


class MaskError(ValueError):
    """A mask that cannot be used, with the fix in its message."""


def describe_source(source: ImageSource, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return f"<{type(source).__name__}>"


def _open(source: ImageSource, name: str | None) -> Image.Image | np.ndarray:
    """A path, encoded bytes or an open binary file as a decoded PIL image (size checked from the header
    first, EXIF orientation applied); PIL images and arrays pass through."""
    if isinstance(source, (Image.Image, np.ndarray)):
        return source
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).is_file():
            raise FileNotFoundError(f"image file {source} not found")
        what = str(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        source, what = io.BytesIO(bytes(source)), name or "the uploaded file"
    elif hasattr(source, "read"):
        what = name or "the uploaded file"
    else:
        raise TypeError(f"{describe_source(source, name)}: expected a path, encoded bytes, a PIL image or a numpy "
                        f"array")
    try:
        with Image.open(source) as im:
            w, h = im.size  # from the header: nothing is decoded yet
            if w * h > MAX_PIXELS:
                raise ImageError(f"{what} is {w}x{h} pixels, more than the {MAX_PIXELS // 10**6} MP this course "
                                 f"reads: downscale it first (the lite model works at 64 px)")
            im = ImageOps.exif_transpose(im)  # a photo's EXIF orientation, applied as any viewer would
            im.load()
            return im.copy()
    except (OSError, Image.DecompressionBombError) as err:
        raise ImageError(f"{what} is not an image PIL can read ({err})") from err


def _array_to_float(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if arr.dtype == bool:
        return arr.astype(np.float32)
    arr = arr.astype(np.float32)
    if arr.size and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ImageError(f"{what}: {bad} pixel value(s) are NaN or infinite: fix or drop them before erasing")
    if arr.size and (arr.min() < -1e-3 or arr.max() > 1 + 1e-3):
        raise ImageError(f"{what}: float pixel values must lie in [0, 1], found [{arr.min():.3g}, {arr.max():.3g}]")
    return np.clip(arr, 0.0, 1.0)


def _pil_to_rgba(im: Image.Image) -> np.ndarray:
    """Any PIL mode (L, LA, P, RGB, RGBA, I;16, ...) as float RGBA in [0, 1]."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float32)
        arr = arr / (65535.0 if arr.max() > 255 else 255.0)
        return np.dstack([arr, arr, arr, np.ones_like(arr)])
    if im.mode == "F":
        arr = _array_to_float(np.asarray(im), "float image")
        return np.dstack([arr, arr, arr, np.ones_like(arr)])
    return np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0


def _to_rgba(source: ImageSource, name: str | None, colour: bool = True) -> np.ndarray:
    obj = _open(source, name)
    what = describe_source(source, name)
    if isinstance(obj, Image.Image):
        return _pil_to_rgba(to_srgb(obj, what) if colour else obj)
    arr = _array_to_float(np.asarray(obj), what)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"{what}: expected H x W, H x W x 3 or H x W x 4 pixels, got shape {arr.shape}")
    if arr.shape[2] == 1:
        arr = np.dstack([arr, arr, arr, np.ones_like(arr)])
    elif arr.shape[2] == 2:  # grey + alpha
        arr = np.dstack([arr[..., 0], arr[..., 0], arr[..., 0], arr[..., 1]])
    elif arr.shape[2] == 3:
        arr = np.dstack([arr, np.ones_like(arr[..., 0])])
    return arr.astype(np.float32)


#: The picture files a folder is read for (the erase command's batch mode, photo folders for training pairs).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The pictures in ``folder`` (by suffix, `IMAGE_SUFFIXES`), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_image(source: ImageSource, *, background: tuple[float, float, float] = (1.0, 1.0, 1.0),
               name: str | None = None) -> np.ndarray:
    """An RGB float image ``H x W x 3`` in [0, 1] from any mode and any size.

    Grayscale and palette images become RGB; transparent pixels (RGBA, LA, palette with transparency)
    are composited over ``background`` (white by default), so a cut-out loads as it would print.
    """
    rgba = _to_rgba(source, name)
    if min(rgba.shape[:2]) < 1:
        raise ImageError(f"{describe_source(source, name)} is empty (shape {rgba.shape[:2]})")
    alpha = rgba[..., 3:4]
    return (rgba[..., :3] * alpha + np.asarray(background, np.float32) * (1 - alpha)).astype(np.float32)


def load_cutout(source: ImageSource, *, name: str | None = None) -> np.ndarray:
    """An RGBA cut-out ``H x W x 4``; refuses an image whose alpha is fully opaque."""
    rgba = _to_rgba(source, name)
    if rgba[..., 3].min() >= 1.0:
        raise ImageError(
            f"{describe_source(source, name)} has no transparent pixel, so it is not a cut-out: make one with "
            f"eradiff_lite.data.matte(image) and eradiff_lite.data.cut_out(image, alpha)"
        )
    return rgba


def read_mask(source: ImageSource, *, threshold: float = 0.5, name: str | None = None) -> np.ndarray:
    """The ``H x W`` bool pixels of a mask picture, True (white) = erase, from any image mode; **not checked**:
    `EraseMask.from_file` (`erase_mask.py`) reads with this and checks. The rules, in order:

    1. **which channel**: the alpha channel only when the colour channels carry no mask (they are one flat
       colour while the alpha varies); otherwise the brightest colour channel, ``max(R, G, B)``, so that
       white, grey and coloured marks all count;
    2. **0/1 masks**: a mask whose values are only 0 and 1/255 (an 8-bit file of zeros and ones) reads 1 as erase;
    3. **threshold**: values above ``threshold`` (in [0, 1)) are erased.
    """
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
    rgba = _to_rgba(source, name, colour=False)  # levels, not colours: never converted by a colour profile
    colour, alpha = rgba[..., :3], rgba[..., 3]
    colour_flat = float(np.ptp(colour)) == 0.0
    level = alpha if colour_flat and float(np.ptp(alpha)) > 0 else colour.max(axis=2)
    values = np.unique(np.round(level * 255))
    if len(values) <= 2 and set(values.tolist()) <= {0.0, 1.0} and 1.0 in values:
        level = np.round(level * 255)  # a 0/1 mask: 1 means erase
    return level > threshold


def rle_encode(mask) -> list[int]:
    """The run lengths of ``mask``: row-major, alternating *keep* and *erase* runs, starting with a *keep* run (0 when
    the first pixel is erased), adding up to ``H * W`` (the mask editor's code, `EraseMask.from_runs`)."""
    flat = np.asarray(mask, bool).ravel()
    if flat.size == 0:
        return []
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    return ([0] + runs) if flat[0] else runs


def rle_decode(runs, shape: tuple[int, int]) -> np.ndarray:
    """The ``H x W`` bool array of run lengths ``runs`` (not checked as a mask to erase: the editor's history may be
    empty); refuses runs that do not add up to the shape."""
    counts = np.asarray(runs, dtype=np.int64)
    h, w = shape
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() != h * w:
        raise MaskError(f"the drawn mask does not fit the {w}x{h} picture ({int(counts.sum())} pixels coded): "
                        f"clear it and draw again")
    return np.repeat(np.arange(counts.size) % 2 == 1, counts).reshape(h, w)


def resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``mask`` (bool array) at ``shape = (h, w)`` by nearest neighbour; a writable copy."""
    if np.shape(mask) == tuple(shape):
        return np.array(mask, bool)
    return np.asarray(Image.fromarray(np.asarray(mask, bool)).resize((shape[1], shape[0]), Image.NEAREST), bool)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` in [0, 1] to ``3 x H x W`` in [-1, 1] (float32)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() * 2 - 1


def mask_to_tensor(mask: np.ndarray) -> torch.Tensor:
    """``H x W`` bool to ``1 x H x W`` float {0, 1}."""
    return torch.from_numpy(np.array(mask, np.float32))[None]  # a copy: a read-only `EraseMask.array` is fine


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """``3 x H x W`` in [-1, 1] back to ``H x W x 3`` in [0, 1]."""
    return ((tensor.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def to_pil(image: np.ndarray) -> Image.Image:
    """A float image in [0, 1] (``H x W``, ``H x W x 3`` or ``x 4``) as an 8-bit PIL image (clipped, rounded)."""
    return Image.fromarray((np.clip(np.asarray(image, np.float32), 0, 1) * 255 + 0.5).astype(np.uint8))


def save_image(image: np.ndarray, path: str | os.PathLike) -> None:
    """Save an ``H x W x 3`` / ``H x W x 4`` float image or an ``H x W`` bool mask, losslessly and atomically
    (PNG, BMP or TIFF by the suffix; a lossy format such as JPEG is refused)."""
    from ..paths import atomic_write

    path = Path(path)
    fmt = LOSSLESS_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: {path.suffix or 'no suffix'} is not a lossless format; the erased picture "
                         f"keeps the known pixels exactly, so save it as {', '.join(LOSSLESS_SUFFIXES)}")
    arr = np.asarray(image)
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    with atomic_write(path) as tmp:
        to_pil(arr).save(tmp, format=fmt)
