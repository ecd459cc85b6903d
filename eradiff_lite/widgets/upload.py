"""A picture uploaded through a ``FileUpload`` widget, checked before anything is done with it.

The stated limits: at most ``MAX_UPLOAD_MB`` megabytes and ``MAX_UPLOAD_SIDE`` pixels a side (the file's bytes
travel through the notebook's websocket; a larger picture is only slower, not better: the editor draws at 1024 px
and the models erase at 64 or 512 px). Each refusal is one line that says what to do.
"""

from __future__ import annotations

import io

import numpy as np

from ..data import ImageError, load_image

MAX_UPLOAD_MB = 20
MAX_UPLOAD_SIDE = 6000


def uploaded_bytes(value) -> bytes | None:
    """The first file's bytes from a FileUpload ``value`` (ipywidgets 7: a dict by name; 8: a tuple of dicts)."""
    if not value:
        return None
    item = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return bytes(item["content"])


def uploaded_name(value) -> str:
    """The first file's name from a FileUpload ``value`` (both generations), or ``"the upload"``."""
    if not value:
        return "the upload"
    if isinstance(value, dict):
        return str(next(iter(value)))
    return str(value[0].get("name", "the upload"))


def read_upload(data: bytes, name: str = "the upload") -> np.ndarray:
    """The uploaded picture, ``H x W x 3`` float in [0, 1]; an `ImageError` naming the limit it breaks."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise ImageError(f"{name} is {len(data) / 2**20:.1f} MB, more than the {MAX_UPLOAD_MB} MB limit: upload a "
                         f"smaller picture (the editor draws at 1024 px at most)")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            w, h = probe.size
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise ImageError(f"{name} is not a picture this can read (PNG, JPEG, WebP, ...): "
                         f"{type(err).__name__}") from None
    if max(w, h) > MAX_UPLOAD_SIDE:
        raise ImageError(f"{name} is {w}x{h} pixels, more than {MAX_UPLOAD_SIDE} on a side: upload a smaller "
                         f"picture")
    try:
        return load_image(data, name=name)
    except (OSError, ValueError) as err:  # a truncated or damaged file: the header read, the pixels did not
        raise ImageError(f"{name} could not be decoded as a picture ({str(err).splitlines()[0][:80]})") from None
