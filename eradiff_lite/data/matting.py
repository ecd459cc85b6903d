"""Matting: an alpha matte for the main object of a photo, behind one function.

Two back-ends:

- ``"rembg"``: the real thing, rembg's session API (u2net by default). rembg keeps its models under
  ``U2NET_HOME`` and downloads them on first use; a local ONNX file goes through rembg's
  ``u2net_custom`` session (``model_path=...``).
- ``"classical"``: needs no download. A coarse segmentation inside a box (colour distance to the box's
  border, Otsu threshold, largest component) becomes a trimap, which closed-form matting (pymatting,
  Levin et al. 2008) refines into a soft alpha.

``backend="auto"`` tries rembg and, when it cannot get its model (offline, say), prints one line and
uses the classical back-end.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.filters import threshold_otsu

from .io import ImageSource, load_image, to_pil

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (pixels, x1/y1 exclusive)


@dataclass
class Matte:
    """An alpha matte (``H x W`` float in [0, 1]) and how it was made."""

    alpha: np.ndarray
    backend: str
    note: str = ""


@functools.lru_cache(maxsize=4)
def rembg_session(model: str = "u2net", model_path: str | None = None):
    """A cached rembg session: ``model`` by name, or a local u2net-style ONNX file (``model_path``)."""
    from rembg import new_session

    try:  # rembg downloads through pooch, whose logger is not registered with logging.getLogger
        from pooch import get_logger as pooch_logger

        quiet = pooch_logger()
    except ImportError:
        quiet = logging.getLogger("pooch")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if model_path is not None:
                if not os.path.isfile(model_path):
                    raise FileNotFoundError(f"ONNX model {model_path} not found")
                home = os.path.abspath(os.path.expanduser(os.environ.get("U2NET_HOME", "~/.u2net")))
                if not os.path.abspath(model_path).startswith(home + os.sep):
                    raise ValueError(f"rembg loads custom models only from inside U2NET_HOME ({home}): copy "
                                     f"{model_path} there or set U2NET_HOME to its folder")
                return new_session("u2net_custom", model_path=str(model_path))
            return new_session(model)
    finally:
        quiet.setLevel(level)


def matte_rembg(image: np.ndarray, *, model: str = "u2net", model_path: str | None = None) -> np.ndarray:
    """Alpha from rembg (``only_mask``): salient-object segmentation, soft at the edges."""
    from rembg import remove

    session = rembg_session(model, None if model_path is None else str(model_path))
    pil = to_pil(image)
    out = remove(pil, session=session, only_mask=True)
    return np.asarray(out.convert("L"), dtype=np.float32) / 255.0


def _border_distance(image: np.ndarray, box: Box) -> np.ndarray:
    """Per pixel, the colour distance to the nearest of the box border's typical colours."""
    x0, y0, x1, y1 = box
    ring = np.concatenate([image[y0, x0:x1], image[y1 - 1, x0:x1], image[y0:y1, x0], image[y0:y1, x1 - 1]])
    # a handful of representative border colours (quantiles along the brightness order)
    order = np.argsort(ring.sum(axis=1))
    reps = ring[order[np.linspace(0, len(order) - 1, 16).astype(int)]]
    crop = image[y0:y1, x0:x1]
    dist = np.linalg.norm(crop[:, :, None, :] - reps[None, None], axis=-1).min(axis=2)
    return dist


def coarse_segmentation(image: np.ndarray, box: Box) -> np.ndarray:
    """A hard foreground guess inside ``box``: all that is not background reachable from the box border.

    Background = pixels whose colour is close to the border's colours (below half the Otsu threshold
    of the distances) and that connect to the border; the rest, holes filled, is the object.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    dist = _border_distance(image, box)
    if dist.max() - dist.min() < 1e-3:
        raise ValueError(f"box {box} holds nothing that differs from its border: draw the box around the object")
    near = dist < 0.5 * threshold_otsu(dist)
    labels, _ = ndimage.label(near)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    fg = ~np.isin(labels, edge[edge > 0])
    fg = ndimage.binary_opening(fg, iterations=2)
    labels, n = ndimage.label(fg)
    if n == 0:
        raise ValueError(f"box {box} holds nothing that differs from its border: draw the box around the object")
    sizes = ndimage.sum(fg, labels, range(1, n + 1))
    fg = ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))
    seg = np.zeros((h, w), bool)
    seg[y0:y1, x0:x1] = fg
    return seg


def trimap_from_segmentation(seg: np.ndarray, band: int) -> np.ndarray:
    """1 = sure object, 0 = sure background, 0.5 = unknown band of ``band`` pixels around the edge."""
    sure_fg = ndimage.binary_erosion(seg, iterations=band)
    maybe = ndimage.binary_dilation(seg, iterations=band)
    trimap = np.full(seg.shape, 0.5)
    trimap[~maybe] = 0.0
    trimap[sure_fg] = 1.0
    return trimap


def matte_classical(image: np.ndarray, *, box: Box | None = None, segmentation: np.ndarray | None = None,
                    max_side: int = 240, band: int | None = None) -> np.ndarray:
    """Closed-form matting of a trimap built from ``segmentation`` (or from ``box``).

    Runs at most at ``max_side`` pixels (the matting Laplacian grows with the pixel count) and
    upsamples the alpha back. Without box or segmentation, the central 80 % of the image is the box.
    """
    from pymatting import estimate_alpha_cf

    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small_size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = np.asarray(to_pil(image).resize(small_size, Image.BICUBIC),
                       dtype=np.float64) / 255.0
    if segmentation is not None:
        seg = np.asarray(Image.fromarray(np.asarray(segmentation, bool)).resize(small_size, Image.NEAREST))
    else:
        if box is None:
            box = (w // 10, h // 10, w - w // 10, h - h // 10)
        sx, sy = small_size[0] / w, small_size[1] / h
        small_box = (int(box[0] * sx), int(box[1] * sy), max(int(box[2] * sx), int(box[0] * sx) + 4),
                     max(int(box[3] * sy), int(box[1] * sy) + 4))
        seg = coarse_segmentation(small, small_box)
    band = band or max(2, round(0.02 * max(small_size)))
    alpha = estimate_alpha_cf(small, trimap_from_segmentation(seg, band))
    alpha = np.clip(alpha, 0, 1).astype(np.float32)
    return np.asarray(Image.fromarray(alpha).resize((w, h), Image.BILINEAR), dtype=np.float32).clip(0, 1)


def model_failures() -> tuple[type[BaseException], ...]:
    """What getting or running rembg's model raises when the model is missing, damaged or unreachable: rembg
    or onnxruntime not installed (ImportError), a file or network error (OSError; requests' errors are
    OSErrors), a bad download (pooch: ValueError), and onnxruntime's own errors (not RuntimeError subclasses)."""
    failures = (ImportError, OSError, ValueError, RuntimeError)
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort
    except ImportError:
        return failures
    names = ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "InvalidProtobuf", "RuntimeException")
    return failures + tuple(getattr(ort, name) for name in names if hasattr(ort, name))


def matte(source: ImageSource | np.ndarray, *, backend: str = "auto", box: Box | None = None,
          segmentation: np.ndarray | None = None, model: str = "u2net", model_path: str | None = None,
          max_side: int = 240) -> Matte:
    """An alpha matte of the photo's main object.

    ``backend``: ``"rembg"`` (errors propagate), ``"classical"``, or ``"auto"`` (rembg, else one line on
    stderr and the classical back-end). ``box``/``segmentation`` guide the classical back-end.
    """
    image = source if isinstance(source, np.ndarray) and source.ndim == 3 and source.shape[2] == 3 \
        else load_image(source)
    if backend not in ("auto", "rembg", "classical"):
        raise ValueError(f"unknown matting backend {backend!r}: use 'auto', 'rembg' or 'classical'")
    if backend in ("auto", "rembg"):
        try:
            return Matte(matte_rembg(image, model=model, model_path=model_path), "rembg",
                         f"rembg {model_path or model}")
        except model_failures() as err:  # a missing, damaged or unreachable model: fall back (a bug propagates)
            if backend == "rembg":
                raise
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            reason = reason if len(reason) <= 90 else reason[:87] + "..."
            note = f"rembg could not load {model_path or model} ({type(err).__name__}: {reason}); " \
                   f"using classical matting instead"
            print(note, file=sys.stderr)
            return Matte(matte_classical(image, box=box, segmentation=segmentation, max_side=max_side),
                         "classical", note)
    return Matte(matte_classical(image, box=box, segmentation=segmentation, max_side=max_side), "classical",
                 "closed-form matting of a trimap from a coarse segmentation")


def cut_out(image: np.ndarray, alpha: np.ndarray, *, threshold: float = 0.05, pad: int = 1) -> np.ndarray:
    """The RGBA cut-out (``h x w x 4``) cropped to where ``alpha > threshold``."""
    if image.shape[:2] != alpha.shape:
        raise ValueError(f"alpha {alpha.shape} does not match image {image.shape[:2]}")
    ys, xs = np.nonzero(alpha > threshold)
    if len(ys) == 0:
        raise ValueError("the matte is empty: nothing to cut out (try another box or backend)")
    y0, y1 = max(0, ys.min() - pad), min(alpha.shape[0], ys.max() + 1 + pad)
    x0, x1 = max(0, xs.min() - pad), min(alpha.shape[1], xs.max() + 1 + pad)
    alpha = np.where(alpha > threshold, alpha, 0.0)
    return np.dstack([image[y0:y1, x0:x1], alpha[y0:y1, x0:x1]]).astype(np.float32)
