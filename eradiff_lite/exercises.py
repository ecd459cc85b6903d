""""Your turn" exercises that check themselves: ``check(name, answer)`` and ``solution(name)``.

A learner writes a small function in a notebook and hands it to `check`, which runs it on inputs of its own
and compares the result with the package's reference implementation (float precision). A wrong answer gets
a hint that names the usual mistake it looks like, not just "wrong". `solution` prints one solution to read
after trying. The tests (tests/test_exercises.py) prove that each check accepts its solution and rejects
the typical wrong answer in `Exercise.wrong`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .cro import ddim_jump
from .schedule import dynamic_image, mixup_lambdas


class NotYet(AssertionError):
    """A wrong answer; the message is the hint."""


@dataclass(frozen=True)
class Exercise:
    name: str
    notebook: str
    task: str
    grade: Callable  # grade(answer) -> None, raises NotYet with a hint
    solution: str  # source of one solution
    wrong: str  # source of a typical wrong answer (the tests check that it is rejected)


def _schedules() -> dict[str, torch.Tensor]:
    from diffusers import DDIMScheduler

    out = {}
    for kind in ("squaredcos_cap_v2", "scaled_linear", "linear"):
        extra = {"beta_start": 0.00085, "beta_end": 0.012} if kind == "scaled_linear" else {}
        out[kind] = DDIMScheduler(num_train_timesteps=1000, beta_schedule=kind, **extra).alphas_cumprod
    return out


def _close(got, want, what: str, hints: list[tuple[torch.Tensor, str]]) -> None:
    """Pass when ``got`` equals ``want``; else the hint of the first typical mistake ``got`` equals."""
    if not isinstance(got, torch.Tensor):
        raise NotYet(f"{what}: return a torch tensor, got {type(got).__name__}")
    if got.shape != want.shape:
        raise NotYet(f"{what}: expected shape {tuple(want.shape)}, got {tuple(got.shape)} (keep one value per "
                     f"element; no reduction)")
    if torch.allclose(got.double(), want.double(), rtol=1e-5, atol=1e-6):
        return
    for looks_like, hint in hints:
        if torch.allclose(got.double(), looks_like.double(), rtol=1e-5, atol=1e-6):
            raise NotYet(f"{what}: {hint}")
    worst = (got.double() - want.double()).abs().max().item()
    raise NotYet(f"{what}: differs from the reference by up to {worst:.3g}; re-read the equation term by term")


def _grade_lambdas(answer) -> None:
    for kind, ab in _schedules().items():
        got = answer(ab.clone())
        _close(got, mixup_lambdas(ab), f"on the {kind} schedule", [
            (ab, "this is alpha_bar itself: lambda must GROW with t (0 at t = 0, the clean background; "
                         "near 1 at t = T, where x_t is mostly noise)"),
            ((1 - ab).sqrt(), "this is sqrt(1 - alpha_bar), the noise's scale in x_t; lambda is 1 - alpha_bar "
                              "without the square root"),
            (1 - ab.sqrt(), "the square root is applied to alpha_bar here; lambda is 1 - alpha_bar"),
            (ab.sqrt(), "this is sqrt(alpha_bar), the clean image's scale in x_t: it FALLS with t, while lambda must "
                        "rise from 0 to 1; lambda is 1 - alpha_bar")])


def _grade_dynamic_image(answer) -> None:
    g = torch.Generator().manual_seed(0)
    x_ori, x_obj = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    for lam in (0.3, torch.tensor([0.0, 0.25, 0.5, 1.0])):
        got = answer(x_ori.clone(), x_obj.clone(), lam)
        lam_b = torch.as_tensor(lam).reshape(-1, 1, 1, 1) if torch.as_tensor(lam).ndim else torch.as_tensor(lam)
        _close(got, dynamic_image(x_ori, x_obj, lam), f"with lam = {lam}", [
            (lam_b * x_ori + (1 - lam_b) * x_obj, "x_ori and x_obj are swapped: at lam = 0 the dynamic image "
                                                  "is the clean background x_ori"),
            (x_ori + lam_b * x_obj, "the weights must add up to 1: (1 - lam) * x_ori + lam * x_obj")])


def _grade_ddim_jump(answer) -> None:
    g = torch.Generator().manual_seed(1)
    x_t, eps = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a_t, a_s = torch.tensor([0.2, 0.5, 0.9]), torch.tensor([0.4, 0.8, 0.99])
    got = answer(x_t.clone(), eps.clone(), a_t.reshape(-1, 1, 1, 1), a_s.reshape(-1, 1, 1, 1))
    at, as_ = a_t.reshape(-1, 1, 1, 1), a_s.reshape(-1, 1, 1, 1)
    x0_no_sqrt = (x_t - (1 - at) * eps) / at
    _close(got, ddim_jump(x_t, eps, a_t, a_s), "the jump", [
        ((x_t - (1 - at).sqrt() * eps) / at.sqrt(), "this is x0_hat, the clean estimate: the jump goes on to "
                                                          "time s, sqrt(a_s) x0_hat + sqrt(1 - a_s) eps"),
        (as_.sqrt() * x0_no_sqrt + (1 - as_).sqrt() * eps, "x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t): "
                                                                   "both square roots are missing"),
        (as_ * (x_t - (1 - at).sqrt() * eps) / at.sqrt() + (1 - as_) * eps,
         "the square roots on a_s are missing: sqrt(a_s) x0_hat + sqrt(1 - a_s) eps")])


def _grade_eps_from_x0(answer) -> None:
    g = torch.Generator().manual_seed(2)
    x_t, x0 = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a = torch.tensor([0.1, 0.5, 0.95]).reshape(-1, 1, 1, 1)
    want = (x_t - a.sqrt() * x0) / (1 - a).sqrt()
    _close(answer(x_t.clone(), x0.clone(), a), want, "eps from x0", [
        ((x_t - a * x0) / (1 - a), "x_t = sqrt(a) x0 + sqrt(1 - a) eps: keep the square roots when solving "
                                   "for eps"),
        ((x_t - (1 - a).sqrt() * x0) / a.sqrt(), "that solves for x0 given eps; here x0 is given: "
                                                         "eps = (x_t - sqrt(a) x0) / sqrt(1 - a)")])


EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    Exercise("mixup_lambdas", "02_mixup_schedule",
             "Write `my_lambdas(alphas_cumprod)`: the paper's mix-up schedule, one lambda per timestep.",
             _grade_lambdas, "def my_lambdas(alphas_cumprod):\n    return 1 - alphas_cumprod\n",
             "def my_lambdas(alphas_cumprod):\n    return alphas_cumprod\n"),
    Exercise("dynamic_image", "02_mixup_schedule",
             "Write `my_dynamic_image(x_ori, x_obj, lam)` (Eq. 6); `lam` is a float or one value per batch item.",
             _grade_dynamic_image,
             "def my_dynamic_image(x_ori, x_obj, lam):\n    lam = torch.as_tensor(lam, dtype=x_ori.dtype)\n"
             "    lam = lam.reshape(-1, 1, 1, 1) if lam.ndim else lam\n    return (1 - lam) * x_ori + lam * x_obj\n",
             "def my_dynamic_image(x_ori, x_obj, lam):\n    lam = torch.as_tensor(lam, dtype=x_ori.dtype)\n"
             "    lam = lam.reshape(-1, 1, 1, 1) if lam.ndim else lam\n    return lam * x_ori + (1 - lam) * x_obj\n"),
    Exercise("ddim_jump", "03_cro_loss",
             "Write `my_ddim_jump(x_t, eps, a_t, a_s)` (Eq. 8): one deterministic DDIM step from t to s "
             "(a_t, a_s are alpha_bar at t and s, shaped to broadcast).",
             _grade_ddim_jump,
             "def my_ddim_jump(x_t, eps, a_t, a_s):\n    x0_hat = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()\n"
             "    return a_s.sqrt() * x0_hat + (1 - a_s).sqrt() * eps\n",
             "def my_ddim_jump(x_t, eps, a_t, a_s):\n    return (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()\n"),
    Exercise("eps_from_x0", "03_cro_loss",
             "The lite model predicts x0, but CRO's jump needs eps. Write `my_eps(x_t, x0, a)` from "
             "x_t = sqrt(a) x0 + sqrt(1 - a) eps.",
             _grade_eps_from_x0,
             "def my_eps(x_t, x0, a):\n    return (x_t - a.sqrt() * x0) / (1 - a).sqrt()\n",
             "def my_eps(x_t, x0, a):\n    return (x_t - a * x0) / (1 - a)\n"),
)}


def check(name: str, answer) -> bool:
    """Grade ``answer`` for exercise ``name``; prints the verdict (and a hint), returns True when correct."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}: choose one of {', '.join(EXERCISES)}")
    try:
        EXERCISES[name].grade(answer)
    except NotYet as hint:
        print(f"not yet ({name}): {hint}")
        return False
    print(f"correct ({name}): it matches the package's reference to float precision")
    return True


def solution(name: str) -> str:
    """Print (and return) one solution of exercise ``name``."""
    code = EXERCISES[name].solution
    print(textwrap.indent(code, "    "))
    return code


def answer_from_source(source: str):
    """The function defined by ``source`` (what a solution or wrong answer string holds), for the tests."""
    namespace = {"torch": torch}
    exec(compile(source, "<exercise>", "exec"), namespace)  # noqa: S102 - the course's own strings only
    return next(v for k, v in namespace.items() if k.startswith("my_") and callable(v))
