"""Drawing the parts of a procedural scene: anti-aliased ellipses, the six object families, backgrounds, carriers.

`eradiff_lite.data.procedural` assembles a scene from these parts (which family, where, on what); this module
only paints. Every function draws from the ``numpy`` generator it is given, in a fixed order, so a scene is
deterministic in its seed: changing what is drawn here changes every scene, and with it the held-out benchmark's
version (`eradiff_lite.metrics.benchmark`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BACKGROUNDS = ("wood", "tiles", "stripes", "gradient", "photo")
CARRIERS = ("pizza", "pan")


# --------------------------------------------------------------------------- drawing primitives
@functools.lru_cache(maxsize=64)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


def ellipse_alpha(shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float,
                  angle: float = 0.0) -> np.ndarray:
    """Anti-aliased filled ellipse (about one pixel of soft edge)."""
    yy, xx = _grid(*shape)
    dy, dx = yy - cy, xx - cx
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        dy, dx = c * dy - s * dx, s * dy + c * dx
    d = np.sqrt((dy / ry) ** 2 + (dx / rx) ** 2)
    return np.clip((1.0 - d) * min(rx, ry) + 0.5, 0.0, 1.0)


def _over(rgb: np.ndarray, color, alpha: np.ndarray) -> None:
    """Paint ``color`` with ``alpha`` onto ``rgb`` in place."""
    a = alpha[..., None]
    rgb *= 1 - a
    rgb += a * np.asarray(color, np.float32)


def _jitter(rng: np.random.Generator, color, amount: float = 0.06) -> np.ndarray:
    return np.clip(np.asarray(color, np.float32) + rng.uniform(-amount, amount, 3), 0, 1)


# --------------------------------------------------------------------------- objects (RGBA patches)
def _item(rng: np.random.Generator, radius: float, body, details: Callable | None = None,
          aspect: float = 1.0) -> np.ndarray:
    side = int(np.ceil(2 * radius * max(1.0, aspect))) + 2
    c = (side - 1) / 2
    alpha = ellipse_alpha((side, side), c, c, radius, radius * aspect, rng.uniform(0, np.pi))
    rgb = np.empty((side, side, 3), np.float32)
    rgb[:] = _jitter(rng, body)
    # soft shading: lighter towards the upper left
    yy, xx = _grid(side, side)
    rgb *= (1.08 - 0.16 * ((yy + xx) / (2 * side)))[..., None]
    if details is not None:
        details(rng, rgb, side, radius)
    return np.dstack([np.clip(rgb, 0, 1), alpha])


def _spots(rng, rgb, side, radius, color, n: tuple[int, int], size: tuple[float, float]):
    c = (side - 1) / 2
    for _ in range(rng.integers(*n)):
        r = rng.uniform(0, 0.6 * radius)
        a = rng.uniform(0, 2 * np.pi)
        s = rng.uniform(*size) * radius
        spot = ellipse_alpha((side, side), c + r * np.sin(a), c + r * np.cos(a), s, s)
        _over(rgb, _jitter(rng, color, 0.04), spot)


def pepperoni(rng, radius):
    def details(rng, rgb, side, r):
        _spots(rng, rgb, side, r, (0.85, 0.45, 0.35), (3, 6), (0.12, 0.2))
    return _item(rng, radius, (0.62, 0.12, 0.08), details)


def orange(rng, radius):
    def details(rng, rgb, side, r):
        c = (side - 1) / 2
        _over(rgb, (1.0, 0.85, 0.55), 0.6 * ellipse_alpha((side, side), c - 0.4 * r, c - 0.4 * r, 0.25 * r, 0.25 * r))
        _over(rgb, (0.25, 0.5, 0.15), ellipse_alpha((side, side), c - 0.75 * r, c, 0.18 * r, 0.3 * r))
    return _item(rng, radius, (0.96, 0.55, 0.08), details)


def cookie(rng, radius):
    def details(rng, rgb, side, r):
        _spots(rng, rgb, side, r, (0.3, 0.16, 0.08), (4, 8), (0.1, 0.17))
    return _item(rng, radius, (0.8, 0.6, 0.35), details)


def coin(rng, radius):
    def details(rng, rgb, side, r):
        c = (side - 1) / 2
        ring = ellipse_alpha((side, side), c, c, 0.8 * r, 0.8 * r) - ellipse_alpha((side, side), c, c, 0.65 * r,
                                                                                     0.65 * r)
        _over(rgb, rgb.mean(axis=(0, 1)) * 0.7, np.clip(ring, 0, 1))
    body = (0.85, 0.7, 0.3) if rng.random() < 0.6 else (0.75, 0.75, 0.78)
    return _item(rng, radius, body, details)


def button(rng, radius):
    def details(rng, rgb, side, r):
        c = (side - 1) / 2
        for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
            _over(rgb, (0.1, 0.1, 0.1), ellipse_alpha((side, side), c + 0.25 * r * dy, c + 0.25 * r * dx,
                                                      0.12 * r, 0.12 * r))
    body = (0.2, 0.35, 0.8) if rng.random() < 0.5 else (0.15, 0.65, 0.55)
    return _item(rng, radius, body, details)


def egg(rng, radius):
    def details(rng, rgb, side, r):
        c = (side - 1) / 2
        yolk = ellipse_alpha((side, side), c + rng.uniform(-0.1, 0.1) * r, c, 0.38 * r, 0.38 * r)
        _over(rgb, (0.98, 0.72, 0.1), yolk)
    return _item(rng, radius, (0.97, 0.95, 0.9), details, aspect=rng.uniform(1.1, 1.35))


@dataclass(frozen=True)
class Family:
    """An object family: how to draw one, how big, how many, on what."""

    draw: Callable[[np.random.Generator, float], np.ndarray]
    radius: tuple[float, float]  # as a fraction of the image side
    count: tuple[int, int]  # context objects, [low, high)
    carrier: str | None  # "pizza", "pan" or None
    backgrounds: tuple[str, ...]


FAMILY_SPECS: dict[str, Family] = {
    "pepperoni": Family(pepperoni, (0.08, 0.11), (3, 7), "pizza", ("wood",)),
    "orange": Family(orange, (0.09, 0.13), (2, 5), None, ("wood", "gradient", "photo")),
    "cookie": Family(cookie, (0.08, 0.12), (2, 6), None, ("tiles", "gradient", "stripes")),
    "coin": Family(coin, (0.06, 0.09), (3, 7), None, ("stripes", "photo", "wood")),
    "button": Family(button, (0.06, 0.1), (3, 6), None, ("stripes", "tiles", "photo")),
    "egg": Family(egg, (0.09, 0.12), (1, 3), "pan", ("tiles", "wood")),
}


# --------------------------------------------------------------------------- backgrounds
def background(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A textured ``size x size x 3`` background of the given kind."""
    yy, xx = _grid(size, size)
    u, v = yy / size, xx / size
    if kind == "wood":
        base, dark = _jitter(rng, (0.62, 0.42, 0.24), 0.08), rng.uniform(0.75, 0.88)
        freq, warp = rng.uniform(10, 22), rng.uniform(0.02, 0.08)
        ang = rng.uniform(-0.3, 0.3)
        t = u * np.cos(ang) + v * np.sin(ang) + warp * np.sin(2 * np.pi * rng.uniform(1, 3) * (v + rng.random()))
        grain = 0.5 + 0.5 * np.sin(2 * np.pi * freq * t)
        return (base * (dark + (1 - dark) * grain[..., None])).astype(np.float32)
    if kind == "tiles":
        n = rng.integers(3, 7)
        a, b = _jitter(rng, (0.85, 0.85, 0.82), 0.1), _jitter(rng, (0.55, 0.6, 0.65), 0.15)
        checker = ((np.floor(u * n) + np.floor(v * n)) % 2)[..., None]
        img = a * checker + b * (1 - checker)
        grout = ((u * n % 1 < 0.06) | (v * n % 1 < 0.06))[..., None]
        return np.where(grout, 0.4, img).astype(np.float32)
    if kind == "stripes":
        a, b = _jitter(rng, (0.3, 0.45, 0.6), 0.2), _jitter(rng, (0.9, 0.88, 0.8), 0.08)
        ang, freq = rng.uniform(0, np.pi), rng.uniform(3, 8)
        s = (np.sin(2 * np.pi * freq * (u * np.cos(ang) + v * np.sin(ang))) > 0)[..., None]
        return (a * s + b * (1 - s)).astype(np.float32)
    if kind == "gradient":
        a, b = rng.uniform(0.2, 0.95, 3).astype(np.float32), rng.uniform(0.2, 0.95, 3).astype(np.float32)
        ang = rng.uniform(0, 2 * np.pi)
        t = np.clip(0.5 + (u - 0.5) * np.cos(ang) + (v - 0.5) * np.sin(ang), 0, 1)[..., None]
        return (a * (1 - t) + b * t).astype(np.float32)
    if kind == "photo":
        return photo_crop(size, rng)
    raise ValueError(f"unknown background {kind!r}: one of {BACKGROUNDS}")


@functools.lru_cache(maxsize=1)
def _texture_photos() -> tuple[np.ndarray, ...]:
    from ..paths import data_dir
    from .io import load_image

    folder = data_dir() / "textures"
    photos = tuple(load_image(p) for p in sorted(folder.glob("*.png")))
    if not photos:
        raise FileNotFoundError(f"no texture photos in {folder}")
    return photos


def photo_crop(size: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop of a shipped texture photo, tinted, resized to ``size`` (nearest-area)."""
    photos = _texture_photos()
    photo = photos[rng.integers(len(photos))]
    h, w = photo.shape[:2]
    side = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    step = side / size
    idx_y = (y + (np.arange(size) + 0.5) * step).astype(int)
    idx_x = (x + (np.arange(size) + 0.5) * step).astype(int)
    crop = photo[idx_y][:, idx_x]
    return np.clip(crop * _jitter(rng, (1.0, 0.95, 0.85), 0.15), 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- carriers
def carrier(kind: str, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paint the carrier ``kind`` (`CARRIERS`) onto ``img`` in place; returns where objects may sit (bool)."""
    size = img.shape[0]
    c = (size - 1) / 2 + rng.uniform(-0.04, 0.04, 2) * size
    r = rng.uniform(0.44, 0.5) * size
    if kind == "pizza":
        _over(img, _jitter(rng, (0.72, 0.45, 0.2)), ellipse_alpha(img.shape[:2], c[0], c[1], r, r))
        _over(img, _jitter(rng, (0.97, 0.82, 0.42)), ellipse_alpha(img.shape[:2], c[0], c[1], 0.87 * r, 0.87 * r))
        return ellipse_alpha(img.shape[:2], c[0], c[1], 0.7 * r, 0.7 * r) > 0.5
    if kind == "pan":
        _over(img, _jitter(rng, (0.15, 0.15, 0.17), 0.03), ellipse_alpha(img.shape[:2], c[0], c[1], r, r))
        return ellipse_alpha(img.shape[:2], c[0], c[1], 0.65 * r, 0.65 * r) > 0.5
    raise ValueError(f"unknown carrier {kind!r}: one of {CARRIERS}")
