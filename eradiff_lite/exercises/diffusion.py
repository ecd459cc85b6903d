"""Checks of the diffusion exercises: the mix-up schedule and dynamic image (02), the DDIM jump, the noise
estimate of an x0-model and CRO's x0 optimum (03), the inpainting UNet's input and one DDIM sampling step (05)."""

from __future__ import annotations

import torch

from ..cro import ddim_jump, x0_optimum, x0_optimum_terms
from ..schedule import dynamic_image, mixup_lambdas
from ..targets import to_epsilon
from .check import close


def _schedules() -> dict[str, torch.Tensor]:
    from diffusers import DDIMScheduler

    out = {}
    for kind in ("squaredcos_cap_v2", "scaled_linear", "linear"):
        extra = {"beta_start": 0.00085, "beta_end": 0.012} if kind == "scaled_linear" else {}
        out[kind] = DDIMScheduler(num_train_timesteps=1000, beta_schedule=kind, **extra).alphas_cumprod
    return out


def grade_lambdas(answer) -> None:
    for kind, ab in _schedules().items():
        got = answer(ab.clone())
        close(got, mixup_lambdas(ab), f"on the {kind} schedule", [
            (ab, "this is alpha_bar itself: lambda must GROW with t (0 at t = 0, the clean background; "
                         "near 1 at t = T, where x_t is mostly noise)"),
            ((1 - ab).sqrt(), "this is sqrt(1 - alpha_bar), the noise's scale in x_t; lambda is 1 - alpha_bar "
                              "without the square root"),
            (1 - ab.sqrt(), "the square root is applied to alpha_bar here; lambda is 1 - alpha_bar"),
            (ab.sqrt(), "this is sqrt(alpha_bar), the clean image's scale in x_t: it FALLS with t, while lambda must "
                        "rise from 0 to 1; lambda is 1 - alpha_bar")])


def grade_dynamic_image(answer) -> None:
    g = torch.Generator().manual_seed(0)
    x_ori, x_obj = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    for lam in (0.3, torch.tensor([0.0, 0.25, 0.5, 1.0])):
        got = answer(x_ori.clone(), x_obj.clone(), lam)
        lam_b = torch.as_tensor(lam).reshape(-1, 1, 1, 1) if torch.as_tensor(lam).ndim else torch.as_tensor(lam)
        close(got, dynamic_image(x_ori, x_obj, lam), f"with lam = {lam}", [
            (lam_b * x_ori + (1 - lam_b) * x_obj, "at lam = 0 (the clean end of the pathway) your dynamic image is "
                                                  "the object image x_obj, and at lam = 1 the clean x_ori: it runs "
                                                  "the wrong way (lam is the share of the object)"),
            (x_ori + lam_b * x_obj, "your dynamic image's two weights do not add up to 1: at lam = 0.3 it holds "
                                    "1.3 images"),
            (x_obj, "your dynamic image does not change with lam: it is always the object image"),
            (x_ori, "your dynamic image does not change with lam: it is always the clean image")])


def grade_ddim_jump(answer) -> None:
    g = torch.Generator().manual_seed(1)
    x_t, eps = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a_t, a_s = torch.tensor([0.2, 0.5, 0.9]), torch.tensor([0.4, 0.8, 0.99])
    got = answer(x_t.clone(), eps.clone(), a_t.reshape(-1, 1, 1, 1), a_s.reshape(-1, 1, 1, 1))
    at, as_ = a_t.reshape(-1, 1, 1, 1), a_s.reshape(-1, 1, 1, 1)
    x0_no_sqrt = (x_t - (1 - at) * eps) / at
    close(got, ddim_jump(x_t, eps, a_t, a_s), "the jump", [
        ((x_t - (1 - at).sqrt() * eps) / at.sqrt(), "this is x0_hat, the clean estimate: the jump goes on to "
                                                          "time s, sqrt(a_s) x0_hat + sqrt(1 - a_s) eps"),
        (as_.sqrt() * x0_no_sqrt + (1 - as_).sqrt() * eps, "x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t): "
                                                                   "both square roots are missing"),
        (as_ * (x_t - (1 - at).sqrt() * eps) / at.sqrt() + (1 - as_) * eps,
         "the square roots on a_s are missing: sqrt(a_s) x0_hat + sqrt(1 - a_s) eps")])


def grade_eps_from_x0(answer) -> None:
    g = torch.Generator().manual_seed(2)
    x_t, x0 = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a = torch.tensor([0.1, 0.5, 0.95]).reshape(-1, 1, 1, 1)
    want = to_epsilon(x0, x_t, a, "sample")  # the package's version
    close(answer(x_t.clone(), x0.clone(), a), want, "eps from x0", [
        ((x_t - a * x0) / (1 - a), "x_t = sqrt(a) x0 + sqrt(1 - a) eps: keep the square roots when solving "
                                   "for eps"),
        ((x_t - (1 - a).sqrt() * x0) / a.sqrt(), "that solves for x0 given eps; here x0 is given: "
                                                         "eps = (x_t - sqrt(a) x0) / sqrt(1 - a)")])


def grade_x0_kappa(answer) -> None:
    for kind, ab in _schedules().items():
        ab = ab.double()
        for t, gamma in ((800, 100), (300, 20), (950, 1), (50, 100)):  # the last one jumps past 0
            a_t, a_s = ab[t], ab[t - gamma] if t >= gamma else torch.tensor(1.0, dtype=ab.dtype)
            wrapped = x0_optimum_terms(a_t, ab[t - gamma], 1 - a_t, 1 - ab[t - gamma])[0]
            swapped = x0_optimum_terms(a_t, a_s, 1 - a_s, 1 - a_t)[0]
            close(answer(t, gamma, ab.clone()), x0_optimum(t, gamma, ab)[0], f"t = {t}, gamma = {gamma} ({kind})", [
                (1 - a_t, "that is lambda_t, the dynamic image at t; the target lives at s = t - gamma and the "
                          "jump carries part of x_mix(t): kappa mixes lambda_s and lambda_t, weighted by p and q"),
                (1 - a_s, "that is lambda_s, the dynamic image at s; the jump also carries part of x_mix(t), so "
                          "kappa mixes lambda_s and lambda_t, weighted by p and q"),
                (swapped, "lambda_t and lambda_s are swapped: p = sqrt(a_s (1 - a_t)) goes with lambda_s"),
                (wrapped, "for s < 0 the jump lands on the clean image: alpha_bar_s = 1 and lambda_s = 0 (a negative "
                          "index reads alphas_cumprod from its END)")], form="a 0-d torch tensor (one value)")


def grade_unet_input(answer) -> None:
    from ..models.lite import masked_image, unet_input

    g = torch.Generator().manual_seed(3)
    x_t, x_obj = torch.randn(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g) * 2 - 1
    mask = (torch.rand(2, 1, 8, 8, generator=g) > 0.7).float()
    close(answer(x_t.clone(), mask.clone(), x_obj.clone()), unet_input(x_t, mask, masked_image(x_obj, mask)),
           "the 7-channel input", [
               (torch.cat([x_t, mask, x_obj], 1), "the third part must hide the hole: x_obj * (1 - mask), or the model "
                                                  "sees the object it should erase"),
               (torch.cat([x_t, mask, x_obj * mask], 1), "that keeps only the hole; the masked image keeps everything "
                                                         "BUT the hole: x_obj * (1 - mask)"),
               (torch.cat([mask, x_t, x_obj * (1 - mask)], 1), "the order matters: x_t first, then the mask, then the "
                                                               "masked image")])


def grade_ddim_step(answer) -> None:
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="sample", clip_sample=False,
                              timestep_spacing="trailing")
    scheduler.set_timesteps(10)
    t, prev = int(scheduler.timesteps[3]), int(scheduler.timesteps[4])
    a_t, a_prev = scheduler.alphas_cumprod[t], scheduler.alphas_cumprod[prev]
    g = torch.Generator().manual_seed(4)
    x_t, x0_hat = torch.randn(2, 3, 8, 8, generator=g), torch.randn(2, 3, 8, 8, generator=g)
    want = scheduler.step(x0_hat, t, x_t, eta=0.0).prev_sample
    eps = to_epsilon(x0_hat, x_t, a_t, "sample")
    close(answer(x_t.clone(), x0_hat.clone(), a_t, a_prev), want, f"the step t={t} -> {prev}", [
        (x0_hat, "that jumps straight to the clean estimate; DDIM goes to the previous timestep: "
                 "sqrt(a_prev) x0_hat + sqrt(1 - a_prev) eps"),
        (a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * (x_t - a_t * x0_hat) / (1 - a_t),
         "eps = (x_t - sqrt(a_t) x0_hat) / sqrt(1 - a_t): the square roots are missing"),
        (a_prev.sqrt() * x0_hat, "the noise direction is missing: + sqrt(1 - a_prev) eps, with eps from x_t and "
                                 "x0_hat"),
        (a_t.sqrt() * x0_hat + (1 - a_t).sqrt() * eps, "that rebuilds x_t itself: use alpha_bar of the PREVIOUS "
                                                       "timestep")])
