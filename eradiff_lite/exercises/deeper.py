"""Checks of notebook 08's exercises (going deeper): the texture measure of a fill (`texture_log2`, the fill
study's yardstick) and the loss averaged over the hole only (`hole_mean_loss`, the fill study's change). A wrong
answer is told what is wrong with its output (the symptom), never the number or the expression that fixes it:
that is `hint(name, 2)` and `solution(name)`."""

from __future__ import annotations

import warnings

from .check import NotYet

TEXTURE_TASK = ("Write `my_texture_log2(out, truth, mask)`: log2 of the fill's high-frequency energy over the truth's "
                "on the hole's interior (the hole shrunk by one pixel), each energy plus the floor 1e-3; images "
                "H x W x 3 in [0, 1], mask H x W bool (True = hole); return one float.")
TEXTURE_SOLUTION = (
    "def my_texture_log2(out, truth, mask):\n    import numpy as np\n"
    "    from scipy.ndimage import binary_erosion, laplace\n"
    "    inner = binary_erosion(mask, iterations=1)  # the hole less its one-pixel rim\n"
    "    inner = inner if inner.any() else mask\n\n"
    "    def energy(image):  # mean over the interior of the squared Laplacian, summed over the channels\n"
    "        lap = np.stack([laplace(image[..., c].astype(np.float64)) for c in range(image.shape[2])], -1)\n"
    "        return (lap[inner] ** 2).sum(-1).mean()\n\n"
    "    return float(np.log2((energy(out) + 1e-3) / (energy(truth) + 1e-3)))\n")
TEXTURE_STUB = (  # the notebook's first guess: the whole hole, rim included
    "def my_texture_log2(out, truth, mask):\n    import numpy as np\n    from scipy.ndimage import laplace\n\n"
    "    def energy(image):\n"
    "        lap = np.stack([laplace(image[..., c].astype(np.float64)) for c in range(image.shape[2])], -1)\n"
    "        return (lap[mask] ** 2).sum(-1).mean()  # a first guess: every pixel of the hole\n\n"
    "    return float(np.log2((energy(out) + 1e-3) / (energy(truth) + 1e-3)))\n")

HOLE_TASK = ("Write `my_hole_mean_loss(residual, mask)`: the squared `residual` [B, C, H, W] averaged over the hole's "
             "pixels only (mask [B, 1, H, W], 1 = hole), every channel of every hole pixel of the batch counting "
             "once; return a 0-d torch tensor that keeps the gradient.")
HOLE_SOLUTION = ("def my_hole_mean_loss(residual, mask):\n    m = mask.expand_as(residual)\n"
                 "    return (m * residual ** 2).sum() / m.sum()\n")
HOLE_STUB = ("def my_hole_mean_loss(residual, mask):\n"
             "    return (mask * residual ** 2).mean()  # a first guess: is this a mean over the hole?\n")


def _texture_cases():
    """Holes of several shapes and sizes: (name, out, truth, mask); ``out`` equals ``truth`` outside the hole."""
    import numpy as np

    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[:24, :24] / 23.0
    gradient = np.stack([0.2 + 0.5 * xx, 0.3 + 0.3 * yy, 0.6 - 0.2 * xx], -1)  # smooth
    checker = 0.5 + 0.2 * ((np.indices((24, 24)).sum(0) // 2) % 2)[..., None] * np.ones(3)  # textured
    flat = np.full((24, 24, 3), 0.4)  # no texture at all
    box = np.zeros((24, 24), bool)
    box[6:15, 5:17] = True
    disc = (yy * 23 - 12) ** 2 + (xx * 23 - 11) ** 2 <= 30
    strip = np.zeros((24, 24), bool)
    strip[10:14, 2:22] = True
    cases = []
    for name, truth, mask, fill in (
            ("a grainy fill in a box on a smooth gradient", gradient, box,
             gradient + 0.04 * rng.standard_normal((24, 24, 3))),
            ("a flat fill in a disc on a checkerboard", checker, disc, np.full((24, 24, 3), 0.6)),
            ("a faintly grainy fill in a strip on a flat grey", flat, strip,
             flat + 0.003 * rng.standard_normal((24, 24, 3))),
            ("a grainy fill in a disc on a checkerboard", checker, disc,
             checker + 0.1 * rng.standard_normal((24, 24, 3)))):
        out = np.where(mask[..., None], fill, truth).clip(0, 1)
        cases.append((name, out, truth.copy(), mask))
    return cases


def _texture_variants(out, truth, mask):
    """The reference and what usual mistakes give, on one hole: name -> value (the energies of `metrics.texture`:
    of the interior, of the whole hole, and averaged instead of summed over the three channels)."""
    import numpy as np

    from ..metrics.texture import FLOOR, texture_energy, texture_log2

    # numpy floats: a truth with no energy gives an infinite "no floor" ratio, not a ZeroDivisionError
    e_out, e_truth = np.float64(texture_energy(out, mask)), np.float64(texture_energy(truth, mask))
    whole_out, whole_truth = texture_energy(out, mask, margin=0), texture_energy(truth, mask, margin=0)
    channels = out.shape[2]
    with np.errstate(all="ignore"):
        return {"reference": texture_log2(out, truth, mask), "no floor": float(np.log2(e_out / e_truth)),
                "whole hole": float(np.log2((whole_out + FLOOR) / (whole_truth + FLOOR))),
                "natural log": float(np.log((e_out + FLOOR) / (e_truth + FLOOR))),
                "inverted": float(np.log2((e_truth + FLOOR) / (e_out + FLOOR))),
                "channel mean": float(np.log2((e_out / channels + FLOOR) / (e_truth / channels + FLOOR)))}


def grade_texture_log2(answer) -> None:
    import numpy as np

    wrong_kind = "texture log2: return one number (a float) per call"
    for name, out, truth, mask in _texture_cases():
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            got = answer(out.copy(), truth.copy(), mask.copy())
        if isinstance(got, np.ndarray) and got.size == 1:
            got = got.item()
        if not isinstance(got, (float, int, np.floating, np.integer)):
            raise NotYet(f"{wrong_kind}, got {type(got).__name__}")
        got = float(got)
        values = _texture_variants(out, truth, mask)
        want = values["reference"]
        if abs(got - want) <= 1e-6 * max(1.0, abs(want)):
            continue
        if not np.isfinite(got) or abs(got - values["no floor"]) <= 1e-6 * max(1.0, abs(got)):
            raise NotYet(f"texture log2: on {name} your value is {got:.3g}: where the truth has (almost) no "
                         f"high-frequency energy the ratio blows up, so a smooth background makes any faint grain "
                         f"look enormous; grain below about one grey level should count as none")
        looks = {"whole hole": "your value also counts the hole's outermost pixels, where the fill meets the picture: "
                               "the step at the hole's edge, which every fill has, reads as texture",
                 "natural log": "your value is the right one times about 0.69: a fill with twice the truth's energy "
                                "should read as exactly 1",
                 "inverted": "your value has the right size and the wrong sign: a grainy fill reads as a blurred one",
                 "channel mean": "your energies are averaged over the three colour channels, so they are a third of "
                                 "the measure's and the floor weighs three times as much"}
        for mistake, hint in looks.items():
            if abs(got - values[mistake]) <= 1e-6 * max(1.0, abs(values[mistake])):
                raise NotYet(f"texture log2: on {name}, {hint}")
        direction = "more texture" if got > want else "less texture"
        raise NotYet(f"texture log2: on {name} your value says {direction} than the measure does (off by "
                     f"{abs(got - want):.2g} in log2); compare your energy of the fill and of the truth term by term")


def grade_hole_mean_loss(answer) -> None:
    import torch

    from ..cro import region_loss

    g = torch.Generator().manual_seed(12)
    residual = torch.randn(2, 3, 8, 8, generator=g)
    mask = torch.zeros(2, 1, 8, 8)
    mask[0, :, 2:6, 1:5] = 1  # 16 pixels
    mask[1, :, 3:5, 4:6] = 1  # 4 pixels: holes of different sizes
    r = residual.clone().requires_grad_(True)
    got = answer(r, mask.clone())
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        raise NotYet(f"hole mean loss: return a 0-d torch tensor (one number that backward() can start from), got "
                     f"{type(got).__name__}")
    if not got.requires_grad:
        raise NotYet("hole mean loss: your loss has no gradient: it was turned into a plain number (float(), "
                     ".item(), numpy) or computed without the residual, so training could not step on it")
    moved = answer(residual + 5 * (1 - mask), mask.clone())  # only the kept pixels' residual changes
    if not torch.allclose(torch.as_tensor(moved).detach().double(), got.detach().double(), rtol=1e-5, atol=1e-7):
        raise NotYet("hole mean loss: your loss changes when only the residual OUTSIDE the hole changes: the kept "
                     "pixels, which the pipeline copies from the input anyway, still pull on the training")
    want = region_loss(residual, mask)
    if torch.allclose(got.detach().double(), want.double(), rtol=1e-5, atol=1e-7):
        return
    sq, m = residual ** 2, mask.expand_as(residual)
    per_image = torch.stack([(m[b] * sq[b]).sum() / m[b].sum() for b in range(2)]).mean()
    looks = [
        ((m * sq).mean(), "your loss is the hole's mean shrunk by the hole's share of the picture: the smaller "
                          "the hole, the smaller the loss, so a small hole's error barely counts"),
        ((m * sq).sum() / mask.sum(), "your loss is three times the mean over the hole: each hole pixel's three "
                                      "colour channels are added up but counted as one value"),
        (per_image, "your loss gives each image of the batch the same say: a pixel of the small hole (image 2) "
                    "counts four times as much as a pixel of the large one (image 1)"),
    ]
    for value, hint in looks:
        if torch.allclose(got.detach().double(), value.double(), rtol=1e-5, atol=1e-7):
            raise NotYet(f"hole mean loss: {hint}")
    raise NotYet("hole mean loss: on a batch of two holes of 16 and 4 pixels your loss is not the mean of the "
                 "squared residual over the hole's pixels; count what you add up and what you divide by")
