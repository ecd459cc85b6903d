"""Checks of the picture and measurement exercises: alpha pasting and the erase mask (01), masked PSNR and
McNemar's discordant pairs (06). A wrong answer is told what is wrong with its output (the symptom), never the
expression that fixes it: that is `hint(name, 2)` and `solution(name)`."""

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
    box = np.zeros((12, 12), bool)
    box[3:8, 6:10] = True
    off = np.abs(np.asarray(got, np.float64) - want).max(axis=-1) if np.shape(got) == want.shape else None
    where = ("" if off is None else f"your picture is off by up to {off[box].max():.3g} inside the cut-out's box and "
             f"{off[~box].max():.3g} outside it; ")
    close(got, want, "paste", [
        (top, "where the cut-out is only partly opaque (alpha 0.3) your picture shows the cut-out's own colour, with "
              "nothing of the background showing through: its soft edges come out hard")],
        form=f"an H x W x 3 array like the background {want.shape}",
        otherwise=where + "compare a pixel of alpha 1, one of alpha 0.3 and one outside the box with what should "
                          "show there")


def grade_mask_from_alpha(answer) -> None:
    import numpy as np

    from ..data.compose import mask_from_alpha

    alpha = np.random.default_rng(8).random((10, 10)).astype(np.float32)
    got = answer(alpha.copy())
    want = mask_from_alpha(alpha)
    faint = int((alpha > 0).sum() - want.sum())
    wrong = ""
    if isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype == bool:
        extra, missed = int((got & ~want).sum()), int((~got & want).sum())
        wrong = (f"{extra} pixels are marked where the cut-out is mostly see-through and {missed} are left out where "
                 f"the cut-out covers most of the pixel")
    close(got, want, "mask from alpha", [
        (alpha > 0, f"your mask also marks {faint} faint pixels where the cut-out is mostly see-through: the "
                    f"background shows through them more than the object does, yet they would be erased"),
        (~want, "your mask is True on the background and False on the object: it is inverted (True = erase)")],
        form="a boolean H x W array (True = erase)", otherwise=wrong or None)


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
        raise NotYet("masked PSNR: your number is the PSNR of the whole picture: it also counts the pixels outside "
                     "the mask, which an eraser never changes, so two erasers that fill the hole differently would "
                     "score closer than they are")
    if abs(got - 20 * np.log10(1 / np.mean((image - truth)[mask] ** 2))) < 1e-6:
        raise NotYet(f"masked PSNR: your number is exactly twice the reference's ({got:.2f} dB against {want:.2f} "
                     f"dB): look at the factor in front of the logarithm for a mean of SQUARED errors")
    raise NotYet(f"masked PSNR: {got:.4f} dB, the reference gives {want:.4f} dB on the same image, truth and mask")


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
        raise NotYet("discordant pairs: your two counts are the scenes where the models AGREE (both eliminated, or "
                     "neither did): those scenes cannot say which model is better")
    if tuple(got) == (int(a.sum()), int(b.sum())):
        raise NotYet(f"discordant pairs: your counts {tuple(got)} are each model's total of eliminated scenes: both "
                     f"include the {int((a & b).sum())} scenes that both eliminated, which cannot say which model is "
                     f"better")
    raise NotYet(f"discordant pairs: got {tuple(got)}, expected ({want['n_ab']}, {want['n_ba']})")
