"""Checks of the picture and measurement exercises: alpha pasting and the erase mask (01), masked PSNR and
McNemar's discordant pairs (06)."""

from __future__ import annotations

from .check import NotYet, close


def grade_paste(answer) -> None:
    import numpy as np

    from ..data.compose import paste

    rng = np.random.default_rng(7)
    background = rng.random((12, 12, 3)).astype(np.float32)
    cutout = rng.random((5, 4, 4)).astype(np.float32)
    cutout[..., 3] = np.where(rng.random((5, 4)) > 0.5, 1.0, 0.3)  # opaque and half-transparent pixels
    got = answer(background.copy(), cutout.copy(), 3, 6)
    want = paste(background, cutout, (3, 6))[0]
    top = background.copy()
    top[3:8, 6:10] = cutout[..., :3]
    close(got, want, "paste", [
        (top, "the cut-out's pixels were copied over; blend with its alpha: background * (1 - alpha) + rgb * alpha, "
              "so half-transparent edges stay soft")],
        form=f"an H x W x 3 array like the background {want.shape}",
        otherwise="inside the box, out = background * (1 - alpha) + cutout_rgb * alpha; outside it the background "
                  "is unchanged")


def grade_mask_from_alpha(answer) -> None:
    import numpy as np

    from ..data.compose import mask_from_alpha

    alpha = np.random.default_rng(8).random((10, 10)).astype(np.float32)
    got = answer(alpha.copy())
    want = mask_from_alpha(alpha)
    close(got, want, "mask from alpha", [
        (alpha > 0, "any alpha > 0 counts here, so faint halo pixels are erased too; the course erases where the "
                    "object covers more than half: alpha > 0.5"),
        (~want, "inverted: True must mark the OBJECT (alpha > 0.5)")],
        form="a boolean H x W array (True = erase)", otherwise="True where alpha > 0.5")


def grade_masked_psnr(answer) -> None:
    import numpy as np

    from ..metrics.coherence import masked_psnr

    rng = np.random.default_rng(5)
    image, truth = rng.random((16, 16, 3)), rng.random((16, 16, 3))
    mask = np.zeros((16, 16), bool)
    mask[4:10, 3:12] = True
    got = answer(image.copy(), truth.copy(), mask.copy())
    want = masked_psnr(image, truth, mask)
    whole = 10 * np.log10(1 / np.mean((image - truth) ** 2))
    if not isinstance(got, (float, int, np.floating)):
        raise NotYet(f"masked PSNR: return one number (dB), got {type(got).__name__}")
    if abs(got - want) < 1e-6:
        return
    if abs(got - whole) < 1e-6:
        raise NotYet("masked PSNR: that is the PSNR of the whole image; average the squared error over the "
                     "mask's pixels only: (image - truth)[mask]")
    if abs(got - 20 * np.log10(1 / np.mean((image - truth)[mask] ** 2))) < 1e-6:
        raise NotYet("masked PSNR: PSNR = 10 log10(1 / MSE) for a data range of 1 (20 log10 goes with the RMSE)")
    raise NotYet(f"masked PSNR: {got:.4f} dB, expected {want:.4f} dB; PSNR = 10 log10(1 / MSE) over the mask")


def grade_discordant(answer) -> None:
    import numpy as np

    from ..metrics.paired import mcnemar

    rng = np.random.default_rng(6)
    a, b = rng.random(40) < 0.6, rng.random(40) < 0.4
    want = mcnemar(a, b)
    got = answer(a.copy(), b.copy())
    if tuple(got) == (want["n_ab"], want["n_ba"]):
        return
    if tuple(got) == (int((a & b).sum()), int((~a & ~b).sum())):
        raise NotYet("discordant pairs: those are the AGREEING scenes (both or neither); McNemar counts the scenes "
                     "where only a succeeds and where only b succeeds")
    if tuple(got) == (int(a.sum()), int(b.sum())):
        raise NotYet("discordant pairs: those are the two totals; pair the scenes: (a & ~b).sum(), (~a & b).sum()")
    raise NotYet(f"discordant pairs: got {tuple(got)}, expected ({want['n_ab']}, {want['n_ba']})")
