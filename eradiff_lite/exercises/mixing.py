"""The build exercise `noisy_mix` (notebook 02, used again in 03): Eq. 6-7 with the one noise shared by t and s.

`grade_noisy_mix` runs an answer ``f(x_ori, x_obj, lam, alpha_bar, noise)`` on inputs of its own (scalar and
per-item ``lam`` / ``alpha_bar``) and names the first symptom it sees: a noise other than the one passed in, the
two images exchanged, the image and noise scales exchanged or without their square roots, a mix that ignores lam.
The messages describe what the answer did, never the code that fixes it.
"""

from __future__ import annotations

import torch

from ..schedule import noisy_mix
from .check import NotYet, close

TASK = ("Build `my_noisy_mix(x_ori, x_obj, lam, alpha_bar, noise)`: Eq. 6-7, the noised dynamic image; `lam` and "
        "`alpha_bar` are floats or one value per batch item, `noise` is the one eps shared by every step.")
SOLUTION = ("def my_noisy_mix(x_ori, x_obj, lam, alpha_bar, noise):\n"
            "    def per_item(v):  # a float, or one value per batch item -> [B, 1, 1, 1]\n"
            "        v = torch.as_tensor(v, dtype=x_ori.dtype, device=x_ori.device)\n"
            "        return v.reshape(-1, *[1] * (x_ori.ndim - 1)) if v.ndim else v\n"
            "    lam, alpha_bar = per_item(lam), per_item(alpha_bar)\n"
            "    x_mix_tilde = (1 - lam) * x_ori + lam * x_obj  # Eq. 6\n"
            "    return alpha_bar.sqrt() * x_mix_tilde + (1 - alpha_bar).sqrt() * noise  # Eq. 7\n")
STUB = ("def my_noisy_mix(x_ori, x_obj, lam, alpha_bar, noise):\n"
        "    alpha_bar = torch.as_tensor(alpha_bar, dtype=x_ori.dtype).reshape(-1, 1, 1, 1)\n"
        "    return alpha_bar.sqrt() * x_obj + (1 - alpha_bar).sqrt() * noise  # noising as usual\n")
HINTS = ("The state at step t is the dynamic image of Eq. 6 (a blend of x_ori and x_obj with weight lam on the "
         "object), noised exactly as the forward process noises a clean image, with the noise you are given: "
         "the same eps at every step, so that x_mix(t) and x_mix(s) differ only through lam and alpha_bar.",
         "x_mix_tilde = (1 - lam) x_ori + lam x_obj (Eq. 6);  x_mix = sqrt(alpha_bar) x_mix_tilde + "
         "sqrt(1 - alpha_bar) noise (Eq. 7). lam and alpha_bar: a float or shape [B], reshaped to [B, 1, 1, 1].")


def _inputs():
    g = torch.Generator().manual_seed(5)
    x_ori, x_obj = (torch.rand(4, 3, 8, 8, generator=g) * 2 - 1 for _ in range(2))
    return x_ori, x_obj, torch.randn(4, 3, 8, 8, generator=g)


def _call(answer, x_ori, x_obj, lam, alpha_bar, noise, where: str):
    try:
        return answer(x_ori.clone(), x_obj.clone(), lam, alpha_bar, noise.clone())
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        per_item = " (lam and alpha_bar hold one value per batch item here, shape [4], for images [4, 3, 8, 8])" \
            if isinstance(lam, torch.Tensor) else ""
        raise NotYet(f"noisy_mix: {where}, your function raised {type(error).__name__}: {error}{per_item}") from None


def grade_noisy_mix(answer) -> None:
    x_ori, x_obj, noise = _inputs()
    cases = ((0.3, 0.6, "with lam = 0.3, alpha_bar = 0.6"),
             (torch.tensor([0.0, 0.2, 0.7, 1.0]), torch.tensor([0.99, 0.7, 0.3, 0.01]),
              "with lam = [0, 0.2, 0.7, 1] and alpha_bar = [0.99, 0.7, 0.3, 0.01], one per item"))
    for lam, alpha_bar, where in cases:
        got = _call(answer, x_ori, x_obj, lam, alpha_bar, noise, where)
        again = _call(answer, x_ori, x_obj, lam, alpha_bar, noise, where)
        if isinstance(got, torch.Tensor) and isinstance(again, torch.Tensor) and got.shape == again.shape \
                and not torch.allclose(got, again):
            raise NotYet("noisy_mix: two calls with the same inputs and the same noise gave different states: your "
                         "x_mix(s) uses a different noise than x_mix(t) (something inside draws a new one)")
        flipped = _call(answer, x_ori, x_obj, lam, alpha_bar, -noise, where)
        if isinstance(got, torch.Tensor) and isinstance(flipped, torch.Tensor) and got.shape == flipped.shape \
                and torch.allclose(got, flipped):
            raise NotYet("noisy_mix: your state stays the same when the noise passed in changes: it is not built "
                         "on that noise, so x_mix(t) and x_mix(s) would not share one")
        lam_b, a_b = (torch.as_tensor(v).reshape(-1, 1, 1, 1) if torch.as_tensor(v).ndim else torch.as_tensor(v)
                      for v in (lam, alpha_bar))
        tilde = (1 - lam_b) * x_ori + lam_b * x_obj
        close(got, noisy_mix(x_ori, x_obj, lam, alpha_bar, noise), f"noisy_mix {where}", [
            (noisy_mix(x_obj, x_ori, lam, alpha_bar, noise),
             "where lam = 0 (the clean end of the pathway) your state holds the object image x_obj, and where lam = 1 "
             "the clean x_ori: the dynamic image runs the wrong way (lam is the share of the object)"),
            ((1 - a_b).sqrt() * tilde + a_b.sqrt() * noise,
             "at little noise (alpha_bar near 1, t near 0) your state is almost pure noise, and at much noise "
             "(alpha_bar near 0) almost the clean image: the image's and the noise's scales are exchanged"),
            (a_b * tilde + (1 - a_b) * noise,
             "the image's and the noise's scales add up to 1, so between the two ends your state's variance sinks "
             "below the forward process's (unit image and noise give 0.52 at alpha_bar = 0.6, not 1): look at the "
             "scales of Eq. 7 again"),
            (a_b.sqrt() * x_obj + (1 - a_b).sqrt() * noise,
             "your state does not change with lam: it always holds the object image x_obj, so nothing fades along "
             "the pathway"),
            (a_b.sqrt() * x_ori + (1 - a_b).sqrt() * noise,
             "your state does not change with lam: it always holds the clean image x_ori, so the object never "
             "appears along the pathway"),
            (a_b.sqrt() * (x_ori + lam_b * x_obj) + (1 - a_b).sqrt() * noise,
             "outside the object, where x_ori and x_obj are the same picture, the image part of your state is not "
             "that picture: it grows brighter with lam, so the background changes along the pathway")],
              otherwise=_otherwise(got, flipped, (1 - a_b).sqrt() * noise))


def _otherwise(got, flipped, noise_part) -> str:
    """Which half of Eq. 7 is off: the part that follows the noise, or the image part."""
    if isinstance(flipped, torch.Tensor) and flipped.shape == got.shape and torch.allclose(
            (got - flipped).double() / 2, noise_part.double(), rtol=1e-5, atol=1e-6):
        return ("the part of your state that follows the noise is right, the image part is not: compare your dynamic "
                "image with Eq. 6 at lam = 0 and lam = 1, and the scale it gets in Eq. 7")
    return ("the part of your state that follows the noise has the wrong size: change the noise's sign and see how "
            "much your state moves, against Eq. 7's scale on the noise")
