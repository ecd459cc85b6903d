"""Checks of the diffusion exercises: the mix-up schedule and dynamic image (02), the DDIM jump, the noise
estimate of an x0-model and CRO's x0 optimum (03), the inpainting UNet's input and one DDIM sampling step (05).

A wrong answer is told what is wrong with its output (the symptom: what it equals, where it goes wrong), never
the expression that fixes it; that is `hint(name, 2)` and `solution(name)`."""

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
        want = mixup_lambdas(ab)
        mid = len(ab) // 2
        at_mid = (lambda values, mid=mid, want=want:  # noqa: E731 - one line per symptom below
                  f"at t = {mid} yours is {float(values[mid]):.2f} where lambda is {float(want[mid]):.2f}")
        close(got, want, f"on the {kind} schedule", [
            (ab, "your lambda FALLS with t: about 1 at t = 0 and near 0 at t = T, so the target would hold the "
                 "object at the clean end and the background where x_t is mostly noise"),
            ((1 - ab).sqrt(), f"your lambda rises from 0 to 1 but too early: {at_mid((1 - ab).sqrt())}; yours is the "
                              f"factor that multiplies the noise eps in x_t"),
            (1 - ab.sqrt(), f"your lambda rises from 0 to 1 but too late: {at_mid(1 - ab.sqrt())}"),
            (ab.sqrt(), "your lambda FALLS with t (it is the clean image's scale in x_t), while the share of the "
                        "object must rise from 0 at t = 0 to about 1 at t = T")],
              otherwise=_lambda_symptom(got, at_mid) if isinstance(got, torch.Tensor) and got.shape == ab.shape
              else None)


def _lambda_symptom(got: torch.Tensor, at_mid) -> str:
    """What a wrong schedule looks like at its two ends and in the middle (never the expression that fixes it)."""
    first, last = float(got[0]), float(got[-1])
    if first > last:
        return (f"your lambda FALLS with t: {first:.2f} at t = 0, {last:.2f} at t = T - 1; it must rise from 0 to "
                f"about 1")
    if abs(first) > 0.05 or abs(last - 1) > 0.05:
        return (f"your lambda runs from {first:.2f} at t = 0 to {last:.2f} at t = T - 1; the share of the object "
                f"must run from about 0 to about 1")
    return f"your lambda has the right ends but the wrong shape between them: {at_mid(got)}"


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
            (x_ori + lam_b * x_obj, "outside the object, where x_ori and x_obj are the same picture, your dynamic "
                                    "image is not that picture: it grows brighter with lam, so the background "
                                    "changes along the pathway"),
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
        ((x_t - (1 - at).sqrt() * eps) / at.sqrt(), "your jump lands on the clean estimate x0_hat itself, with no "
                                                    "noise left, wherever s is: it should land on the noisy state "
                                                    "at time s"),
        (as_.sqrt() * x0_no_sqrt + (1 - as_).sqrt() * eps, "jumping from t to s = t should give x_t back unchanged, "
                                                           "and yours does not: the clean image it reads off x_t is "
                                                           "off (a jump to the clean end, a_s = 1, shows it alone)"),
        (as_ * (x_t - (1 - at).sqrt() * eps) / at.sqrt() + (1 - as_) * eps,
         "your jump lands right at the clean end (a_s = 1) but not in between: its state at s mixes the clean image "
         "and the noise with weights that add up to 1, so its variance sinks below the forward process's")],
          otherwise=_jump_symptom(answer, x_t, eps, at))


def _jump_symptom(answer, x_t, eps, at) -> str | None:
    """Which end of a wrong jump is off: the jump to s = t (must give x_t back) or to the clean end (a_s = 1)."""
    try:
        same = answer(x_t.clone(), eps.clone(), at, at)
        clean = answer(x_t.clone(), eps.clone(), at, torch.ones_like(at))
    except Exception:  # noqa: BLE001 - the first call already ran; any failure here just leaves the default hint
        return None
    x0_hat = (x_t - (1 - at).sqrt() * eps) / at.sqrt()
    if isinstance(clean, torch.Tensor) and clean.shape == x0_hat.shape and not torch.allclose(clean, x0_hat,
                                                                                              atol=1e-5):
        return ("a jump to the clean end (a_s = 1) should give the clean image that x_t and eps imply; yours gives "
                "another: look at how you read x0 off x_t")
    if isinstance(same, torch.Tensor) and same.shape == x_t.shape and not torch.allclose(same, x_t, atol=1e-5):
        return ("your jump reaches the clean end right, but a jump from t to s = t does not give x_t back: look at "
                "how the state at s is built")
    return None


def grade_eps_from_x0(answer) -> None:
    g = torch.Generator().manual_seed(2)
    x_t, x0 = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a = torch.tensor([0.1, 0.5, 0.95]).reshape(-1, 1, 1, 1)
    want = to_epsilon(x0, x_t, a, "sample")  # the package's version
    got = answer(x_t.clone(), x0.clone(), a)
    rebuilt = ""
    if isinstance(got, torch.Tensor) and got.shape == x_t.shape:
        gap = float((a.sqrt() * x0 + (1 - a).sqrt() * got - x_t).abs().max())
        rebuilt = (f"your eps, put back into the task's x_t = sqrt(a) x0 + sqrt(1 - a) eps, misses x_t by up to "
                   f"{gap:.3g}")
    close(got, want, "eps from x0", [
        ((x_t - a * x0) / (1 - a), rebuilt + ": the scales of x0 and of eps in x_t are not the ones you used"),
        ((x_t - (1 - a).sqrt() * x0) / a.sqrt(), "your answer is what x0 would be if eps were given: the roles of "
                                                 "x0 and eps in x_t are exchanged")], otherwise=rebuilt or None)


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
                (swapped, "your kappa is the reference's with lambda_t and lambda_s exchanged: each weight goes "
                          "with the other time's lambda"),
                (wrapped, "for s < 0 the jump lands on the clean image: alpha_bar_s = 1 and lambda_s = 0 (a negative "
                          "index reads alphas_cumprod from its END)")], form="a 0-d torch tensor (one value)")


def grade_unet_input(answer) -> None:
    from ..models.lite import masked_image, unet_input

    g = torch.Generator().manual_seed(3)
    x_t, x_obj = torch.randn(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g) * 2 - 1
    mask = (torch.rand(2, 1, 8, 8, generator=g) > 0.7).float()
    close(answer(x_t.clone(), mask.clone(), x_obj.clone()), unet_input(x_t, mask, masked_image(x_obj, mask)),
           "the 7-channel input", [
               (torch.cat([x_t, mask, x_obj], 1), "your picture channels still show the object inside the hole: the "
                                                  "model would be shown what it should erase"),
               (torch.cat([x_t, mask, x_obj * mask], 1), "your picture channels show only the hole (the object) and "
                                                         "blank everything around it: the model would lose the "
                                                         "context and keep the object"),
               (torch.cat([mask, x_t, x_obj * (1 - mask)], 1), "your channels hold the right things in another order: "
                                                               "channel 0 is the mask, where the model reads the "
                                                               "noisy image")])


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
        (x0_hat, "your step returns the clean estimate itself, with no noise left: a step should land on the noisy "
                 "state of the previous timestep"),
        (a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * (x_t - a_t * x0_hat) / (1 - a_t),
         "the noise your step carries on is off: together with x0_hat it does not rebuild x_t at timestep t"),
        (a_prev.sqrt() * x0_hat, "your state at the previous timestep holds no noise, only the clean estimate scaled "
                                 "down: it is smaller than any state of the forward process at that timestep"),
        (a_t.sqrt() * x0_hat + (1 - a_t).sqrt() * eps, "your step gives x_t back unchanged: it has not moved to the "
                                                       "previous timestep")])
