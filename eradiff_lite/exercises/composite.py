"""The build exercise of notebook 01: composite a cut-out onto a background into the triplet (x_obj, x_ori, mask).

`composite` is the reference (the package's `paste` and `mask_from_alpha`, then x_obj reset to x_ori outside the
mask, as `make_triplet` does with ``dilate=0``). `grade_composite` runs an answer on pictures of its own (soft alpha
inside the picture, then a cut-out sticking out over two borders) and names the first symptom it sees, never the
code that fixes it.
"""

from __future__ import annotations

import numpy as np

from .check import NotYet


def composite(background: np.ndarray, cutout: np.ndarray, top_left: tuple[int, int]):
    """``cutout`` (H x W x 4 RGBA) alpha-composited onto ``background`` (H x W x 3) with its top-left corner at
    ``top_left = (y, x)``, clipped at the picture's borders. Returns ``(x_obj, x_ori, mask)``: mask = pasted alpha
    > 0.5 (True = erase), and outside it x_obj equals x_ori exactly."""
    from ..data.compose import mask_from_alpha, paste

    x_obj, alpha = paste(background, cutout, top_left)  # background * (1 - a) + rgb * a, clipped
    mask = mask_from_alpha(alpha)
    x_obj = np.where(mask[..., None], x_obj, background).astype(np.float32)
    return x_obj, background.astype(np.float32).copy(), mask


def _pictures(seed: int):
    rng = np.random.default_rng(seed)
    background = rng.random((12, 14, 3)).astype(np.float32)
    cutout = rng.random((5, 6, 4)).astype(np.float32)
    cutout[..., 3] = rng.choice(np.float32([0.0, 0.3, 0.7, 1.0]), size=(5, 6))  # opaque, soft and empty pixels
    cutout[0, 0, 3], cutout[1, 1, 3], cutout[2, 2, 3] = 0.3, 0.7, 1.0  # each kind at least once
    return background, cutout


def _grade_case(answer, background, cutout, top_left, where: str) -> None:
    x_obj_want, _, mask_want = composite(background, cutout, top_left)
    given = background.copy()
    try:
        got = answer(given, cutout.copy(), top_left)
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        border = " (a part of the cut-out has no pixels under it here)" if min(top_left) < 0 else ""
        raise NotYet(f"composite: {where}, your function raised {type(error).__name__}: {error}{border}") from None
    if not (isinstance(got, tuple | list) and len(got) == 3 and all(isinstance(g, np.ndarray) for g in got)):
        raise NotYet("composite: return three numpy arrays, (x_obj, x_ori, mask)")
    x_obj, x_ori, mask = got
    shape = background.shape
    if x_obj.shape != shape or x_ori.shape != shape or mask.shape != shape[:2]:
        raise NotYet(f"composite: {where}, the shapes are x_obj {x_obj.shape}, x_ori {x_ori.shape}, mask "
                     f"{mask.shape}; x_obj and x_ori are pictures like the background {shape}, the mask is "
                     f"{shape[:2]}")
    if not np.array_equal(x_ori, background) or not np.array_equal(given, background):
        raise NotYet("composite: x_ori is not the untouched background (or the background passed in was changed): "
                     "did the object get pasted into the background itself instead of into a copy?")
    if mask.dtype != bool:
        raise NotYet(f"composite: the mask is {mask.dtype}; it must be a boolean H x W array (True = erase), one "
                     f"yes/no per pixel, not the soft alpha itself")
    if not np.array_equal(mask, mask_want):
        swapped = composite(background, cutout, top_left[::-1])[2] if min(top_left) >= 0 else None
        if np.array_equal(mask, ~mask_want):
            raise NotYet("composite: the mask is inverted; True marks the pasted object, the pixels to erase")
        if swapped is not None and np.array_equal(mask, swapped):
            raise NotYet(f"composite: the object lands at the wrong place: top_left = {top_left} is (row, column)")
        if (mask & ~mask_want).any() and not (mask_want & ~mask).any():
            raise NotYet(f"composite: {where}, your mask also marks {int((mask & ~mask_want).sum())} pixels where "
                         f"the cut-out is faint; look again at which alpha counts as object (the mask exercise)")
        raise NotYet(f"composite: {where}, {int((mask != mask_want).sum())} mask pixels differ from the reference; "
                     f"is the mask taken from the alpha where the cut-out actually landed?")
    outside = ~mask[..., None].repeat(3, axis=2)
    if not np.array_equal(x_obj[outside], background[outside]):
        changed = int((x_obj != background).any(axis=2)[~mask].sum())
        raise NotYet(f"composite: {where}, x_obj differs from x_ori at {changed} pixels outside the mask (where the "
                     f"cut-out is faint or empty): a model would be asked to keep them and to change them at once")
    if not np.allclose(x_obj, x_obj_want, rtol=1e-5, atol=1e-6):
        rgb_full = x_obj_want.copy()
        (y, x), (h, w) = top_left, cutout.shape[:2]
        ys, xs = slice(max(0, y), min(shape[0], y + h)), slice(max(0, x), min(shape[1], x + w))
        rgb_full[ys, xs] = cutout[ys.start - y:ys.stop - y, xs.start - x:xs.stop - x, :3]
        if np.allclose(x_obj[mask], rgb_full[mask], atol=1e-6):
            raise NotYet("composite: inside the mask x_obj shows the cut-out's own colours even where it is only "
                         "partly opaque (alpha 0.7): such a pixel is a mix of the object and the background")
        worst = float(np.abs(x_obj - x_obj_want).max())
        raise NotYet(f"composite: {where}, x_obj inside the mask differs from the reference by up to {worst:.3g}; "
                     f"how much of the background shows through a pixel of alpha 0.7?")


def grade_composite(answer) -> None:
    """Soft edges inside the picture, then a cut-out hanging over the top and right borders."""
    background, cutout = _pictures(9)
    _grade_case(answer, background, cutout, (3, 4), "with the cut-out inside the picture")
    _grade_case(answer, background, cutout, (-2, 11), "with the cut-out over the top and right borders, "
                                                      "top_left = (-2, 11) on a 12 x 14 picture")
