"""Chain-Rectifying Optimization (EraDiff, Eq. 6-9): train one DDIM jump to land on the erasing pathway.

For a triplet (x_ori, x_obj) and one noise ``eps``, the pathway's noised states are (see `schedule`)

    x_mix(t) = sqrt(a_t) * ((1 - lambda_t) x_ori + lambda_t x_obj) + sqrt(1 - a_t) * eps     (Eq. 6-7)

with ``a_t = alpha_bar_t``. The model's noise estimate ``e = eps_fn(x_mix(t), t)`` takes one deterministic
DDIM step (sigma = 0) from t to s = t - gamma                                               (Eq. 8)

    x0_hat = (x_mix(t) - sqrt(1 - a_t) e) / sqrt(a_t),   x_hat(s) = sqrt(a_s) x0_hat + sqrt(1 - a_s) e

and the loss is ``|| x_mix(s) - x_hat(s) ||^2`` with gamma ~ U{1..gamma_max}                 (Eq. 9)

Closed form (derived in notebook 03 and docs/paper_notes.md): with
``c = sqrt(a_s) sqrt(1 - a_t) / sqrt(a_t) - sqrt(1 - a_s)``,
``x_mix(s) - x_hat(s) = sqrt(a_s) (lambda_t - lambda_s) (x_ori - x_obj) - c (eps - e)``, so CRO is an epsilon
loss weighted by ``c^2`` whose target is ``eps* = eps + k (x_obj - x_ori)``, ``k = sqrt(a_s)(lambda_t - lambda_s)/c``.
For an x0 estimate the same loss is ``weight || x0_hat - x0* ||^2``, ``x0* = x_ori + kappa (x_obj - x_ori)``
(`x0_optimum_terms`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .schedule import alpha_bar_and_lambda_at, noisy_mix, per_item

EpsFn = Callable[[Tensor, Tensor], Tensor]


def ddim_jump(x_t: Tensor, eps: Tensor, alpha_bar_t, alpha_bar_s) -> Tensor:
    """Eq. 8: one deterministic DDIM step from t to s with noise estimate ``eps`` (alpha_bars: scalars, [B] or
    [B, 1, 1, 1])."""
    if eps.shape != x_t.shape:
        raise ValueError(f"the noise estimate {tuple(eps.shape)} must have the shape of x_t {tuple(x_t.shape)}")
    a_t, a_s = per_item(alpha_bar_t, x_t), per_item(alpha_bar_s, x_t)
    x0_hat = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()  # x0_hat = (x_t - sqrt(1 - a_t) e) / sqrt(a_t)
    return a_s.sqrt() * x0_hat + (1 - a_s).sqrt() * eps  # x_hat(s) = sqrt(a_s) x0_hat + sqrt(1 - a_s) e


def cro_closed_form_terms(alpha_bar_t, alpha_bar_s, lam_t, lam_s) -> tuple[Tensor, Tensor]:
    """``(c, k)`` of the closed form: CRO = ``c^2 * || eps + k (x_obj - x_ori) - e ||^2``.

    ``c = sqrt(a_s) sqrt(1 - a_t) / sqrt(a_t) - sqrt(1 - a_s)`` (> 0 for s < t),
    ``k = sqrt(a_s) (lambda_t - lambda_s) / c``. Python floats are computed in float64.
    """
    a_t, a_s, lam_t, lam_s = (torch.as_tensor(v, dtype=v.dtype if isinstance(v, Tensor) else torch.float64)
                              for v in (alpha_bar_t, alpha_bar_s, lam_t, lam_s))
    c = a_s.sqrt() * (1 - a_t).sqrt() / a_t.sqrt() - (1 - a_s).sqrt()
    k = a_s.sqrt() * (lam_t - lam_s) / c
    return c, k


def cro_terms_at(t, gamma, alphas_cumprod: Tensor, lambdas: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """`cro_closed_form_terms` at timesteps ``t`` and jumps ``gamma`` (ints or integer tensors), ``s = t - gamma``."""
    a_t, lam_t = alpha_bar_and_lambda_at(t, alphas_cumprod, lambdas)
    a_s, lam_s = alpha_bar_and_lambda_at(torch.as_tensor(t) - torch.as_tensor(gamma), alphas_cumprod, lambdas)
    return cro_closed_form_terms(a_t, a_s, lam_t, lam_s)


def x0_optimum_terms(alpha_bar_t, alpha_bar_s, lam_t, lam_s) -> tuple[Tensor, Tensor]:
    """``(kappa, weight)`` of CRO for an x0 estimate: ``|| x_mix(s) - x_hat(s) ||^2 = weight || x0_hat - x0* ||^2``.

    With ``e = (x_mix(t) - sqrt(a_t) x0_hat) / sqrt(1 - a_t)`` (`targets.to_epsilon`) the jump is affine in
    x0_hat and the shared noise cancels, leaving ``x_hat(s) - x_mix(s) = c (x0_hat - x0*)`` with
    ``x0* = x_ori + kappa (x_obj - x_ori)``. Write ``p = sqrt(a_s (1 - a_t))``, ``q = sqrt(a_t (1 - a_s))``:

        c = (p - q) / sqrt(1 - a_t),   weight = c^2   (= the noise form's c^2 times SNR_t)
        kappa = (p lambda_s - q lambda_t) / (p - q)

    ``s < 0`` (a_s = 1, lambda_s = 0) gives kappa = 0 and weight = 1. Computed in float64.
    """
    a_t, a_s, lam_t, lam_s = (torch.as_tensor(v).double() for v in (alpha_bar_t, alpha_bar_s, lam_t, lam_s))
    p, q = (a_s * (1 - a_t)).sqrt(), (a_t * (1 - a_s)).sqrt()
    weight = ((p - q) / (1 - a_t).sqrt()) ** 2  # c^2, c = (p - q) / sqrt(1 - a_t)
    kappa = (p * lam_s - q * lam_t) / (p - q)  # x0* = x_ori + kappa (x_obj - x_ori)
    return kappa, weight


def x0_optimum(t, gamma, alphas_cumprod: Tensor, lambdas: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """`x0_optimum_terms` at timesteps ``t`` and jumps ``gamma`` (ints or integer tensors), ``s = t - gamma``.

    ``lambdas`` as in `cro_loss` (None: the paper's ``1 - alpha_bar``; all 0: ``cro_zero``, kappa = 0).
    """
    a_t, lam_t = alpha_bar_and_lambda_at(t, alphas_cumprod, lambdas)
    a_s, lam_s = alpha_bar_and_lambda_at(torch.as_tensor(t) - torch.as_tensor(gamma), alphas_cumprod, lambdas)
    return x0_optimum_terms(a_t, a_s, lam_t, lam_s)


def x0_optimum_over_jumps(t, alphas_cumprod: Tensor, gamma_max: int, lambdas: Tensor | None = None):
    """``(kappa_bar, w_bar)`` at steps ``t``: what training sees, since the network is not told the jump.

    The mean of `x0_optimum` over ``gamma ~ U{1..gamma_max}`` (`sample_t_gamma`): ``w_bar = mean w``,
    ``kappa_bar = sum w kappa / sum w``, so the mean loss is ``w_bar || x0_hat - x0_bar ||^2`` + a constant,
    ``x0_bar = x_ori + kappa_bar (x_obj - x_ori)``. Float64 tensors of ``t``'s shape.
    """
    t = torch.as_tensor(t)
    kappa, w = x0_optimum(t[..., None], torch.arange(1, int(gamma_max) + 1), alphas_cumprod, lambdas)
    return (w * kappa).sum(-1) / w.sum(-1), w.mean(-1)


def default_gamma_max(num_timesteps: int) -> int:
    """The paper's gamma_max = 100 for T = 1000, scaled to other T: ``max(1, round(100 T / 1000))``."""
    return max(1, round(100 * num_timesteps / 1000))


def sample_t_gamma(batch: int, num_timesteps: int, gamma_max: int | None = None,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """``t ~ U{0..T-1}`` and ``gamma ~ U{1..gamma_max}`` (LongTensors [batch]); ``s = t - gamma`` may be < 0."""
    gamma_max = default_gamma_max(num_timesteps) if gamma_max is None else int(gamma_max)
    if batch < 1 or num_timesteps < 1 or gamma_max < 1:
        raise ValueError(f"need batch >= 1, num_timesteps >= 1 and gamma_max >= 1, got {batch}, {num_timesteps}, "
                         f"{gamma_max}")
    t = torch.randint(0, num_timesteps, (batch,), generator=generator)
    gamma = torch.randint(1, gamma_max + 1, (batch,), generator=generator)
    return t, gamma


def _check_steps(name: str, steps: Tensor, batch: int, low: int, high: int | None) -> None:
    if not isinstance(steps, Tensor) or steps.is_floating_point() or steps.dtype == torch.bool or \
            steps.shape != (batch,):
        raise TypeError(f"{name} must be an integer tensor of shape [{batch}] (one per batch item), got "
                        f"{getattr(steps, 'dtype', type(steps).__name__)} {tuple(getattr(steps, 'shape', ()))}; "
                        f"use sample_t_gamma")
    if bool((steps < low).any()) or (high is not None and bool((steps > high).any())):
        span = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must lie in {span}, got min {int(steps.min())}, max {int(steps.max())}")


def _prepare(x: Tensor, noise: Tensor, t: Tensor, alphas_cumprod: Tensor, name: str = "x0"):
    """Check shapes/steps and cast to float32 (the loss is computed in float32 whatever the input)."""
    if not isinstance(x, Tensor) or x.ndim < 2 or not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor [B, C, H, W], got {getattr(x, 'dtype', type(x))}")
    if not isinstance(noise, Tensor) or noise.shape != x.shape:
        raise ValueError(f"noise {tuple(getattr(noise, 'shape', ()))} must have the shape of {name} "
                         f"{tuple(x.shape)}: draw it with torch.randn_like({name})")
    num_timesteps = alphas_cumprod.numel()
    _check_steps("t", t, x.shape[0], 0, num_timesteps - 1)
    return noise.float(), t.to(x.device), alphas_cumprod.to(device=x.device, dtype=torch.float32)


def _predict(eps_fn: EpsFn, x_t: Tensor, t: Tensor) -> Tensor:
    e = eps_fn(x_t, t)
    if not isinstance(e, Tensor) or e.shape != x_t.shape:
        raise ValueError(f"eps_fn must return a noise estimate of shape {tuple(x_t.shape)}, got "
                         f"{tuple(getattr(e, 'shape', ())) or type(e).__name__} (an epsilon-predicting model "
                         f"with out_channels = image channels; for diffusers models return unet(...).sample)")
    return e.float()


def region_loss(residual: Tensor, region: Tensor | None = None, gradient_weight: float = 0.0,
                item_weight: Tensor | None = None) -> Tensor:
    """The mean squared ``residual`` [B, C, H, W] over a region of the picture (the fill study, rounds 7-9):

        L = sum_b w_b sum_p m_bp r_bp^2 / (C sum m)  +  g (the same mean of (d_x r)^2 and of (d_y r)^2)

    ``region`` ``m`` [B, 1, H, W] (the erase mask: the hole only) or None (the whole picture, the paper's mean);
    ``d_x r``, ``d_y r``: differences of neighbouring pixels, counted where both lie in the region; ``g`` =
    ``gradient_weight`` (0: off); ``item_weight`` ``w`` [B] (1 when None). The pipeline keeps the known pixels,
    so only the hole's fill is ever used; the whole picture's mean spends most of the loss on copying them.
    """
    r = residual.float()
    m = torch.ones_like(r[:, :1]) if region is None else region.to(r.dtype).expand(r.shape[0], 1, *r.shape[2:])
    w = torch.ones(r.shape[0], device=r.device) if item_weight is None else item_weight.reshape(-1).float()

    def mean_of(sq: Tensor, mask: Tensor) -> Tensor:
        return (w * (mask * sq).flatten(1).sum(1)).sum() / (r.shape[1] * mask.sum()).clamp_min(1.0)

    loss = mean_of(r ** 2, m)
    if gradient_weight:
        d_x, m_x = r[..., :, 1:] - r[..., :, :-1], m[..., :, 1:] * m[..., :, :-1]  # both pixels in the region
        d_y, m_y = r[..., 1:, :] - r[..., :-1, :], m[..., 1:, :] * m[..., :-1, :]
        loss = loss + gradient_weight * (mean_of(d_x ** 2, m_x) + mean_of(d_y ** 2, m_y))
    return loss


def cro_loss(eps_fn: EpsFn, x_ori: Tensor, x_obj: Tensor, t: Tensor, gamma: Tensor, alphas_cumprod: Tensor,
             noise: Tensor, lambdas: Tensor | None = None, region: Tensor | None = None,
             gradient_weight: float = 0.0) -> Tensor:
    """The CRO loss (Eq. 9), a float32 scalar: mean over everything of ``(x_mix(s) - x_hat(s))^2``.

    ``eps_fn(x_t, t)`` returns the model's noise estimate for the noised mix (conditioning closed over);
    ``t``, ``gamma``: integer tensors [B], ``s = t - gamma`` (``s < 0``: alpha_bar = 1, lambda = 0);
    the SAME ``noise`` makes x_mix(t) and x_mix(s) (Algorithm 1). ``lambdas`` [T] replaces the paper's
    ``1 - alpha_bar`` for ablations (`schedule.constant_lambdas`, `schedule.linear_lambdas`). ``region`` /
    ``gradient_weight``: the mean over the hole only and the residual's gradient (`region_loss`; None / 0: the
    paper's mean over the picture).
    """
    if not isinstance(x_obj, Tensor) or x_obj.shape != getattr(x_ori, "shape", None):
        raise ValueError(f"x_ori {tuple(getattr(x_ori, 'shape', ()))} and x_obj "
                         f"{tuple(getattr(x_obj, 'shape', ()))} must be tensors of the same shape")
    noise, t, alphas_cumprod = _prepare(x_ori, noise, t, alphas_cumprod, "x_ori")
    _check_steps("gamma", gamma, x_ori.shape[0], 1, None)
    x_ori, x_obj = x_ori.float(), x_obj.float()
    lambdas = None if lambdas is None else lambdas.to(device=x_ori.device, dtype=torch.float32)
    s = t - gamma.to(t.device)
    a_t, lam_t = alpha_bar_and_lambda_at(t, alphas_cumprod, lambdas)
    a_s, lam_s = alpha_bar_and_lambda_at(s, alphas_cumprod, lambdas)  # s < 0: a_s = 1, lam_s = 0
    x_t = noisy_mix(x_ori, x_obj, lam_t, a_t, noise)  # Eq. 6-7 at t
    x_s = noisy_mix(x_ori, x_obj, lam_s, a_s, noise)  # Eq. 6-7 at s, the same noise
    x_hat_s = ddim_jump(x_t, _predict(eps_fn, x_t, t), a_t, a_s)  # Eq. 8
    if region is None and not gradient_weight:
        return F.mse_loss(x_hat_s, x_s)  # Eq. 9
    return region_loss(x_hat_s - x_s, region, gradient_weight)  # Eq. 9 over the hole (+ its gradient)


def denoising_loss(model_fn: EpsFn, x0: Tensor, t: Tensor, alphas_cumprod: Tensor, noise: Tensor,
                   prediction_type: str = "epsilon", snr_gamma: float | None = None,
                   weighting: str | None = None, region: Tensor | None = None,
                   gradient_weight: float = 0.0) -> Tensor:
    """The standard diffusion loss of the baselines, a float32 scalar:

    ``mean_b w(t_b) * mean || target_b - model_fn(x_t, t)_b ||^2`` with ``x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps``,
    ``target`` the model's own (`targets.training_target`: eps, x0 or v) and ``w`` min-SNR-gamma
    (`targets.min_snr_weight`; 1 when ``snr_gamma`` is None). ``x0`` is the image the model must rebuild.

    With a named ``weighting`` (`targets.X0_WEIGHTINGS`) the error is taken on the x0 estimate instead,
    ``w(SNR_t) * mean || x0 - x0_hat ||^2`` (`targets.to_sample`, `targets.x0_weight`): "snr+1" is exactly
    the unweighted v loss, whatever the network predicts. ``region`` / ``gradient_weight``: the mean over the
    hole only and the error's gradient (`region_loss`; None / 0: the mean over the picture).
    """
    from .targets import min_snr_weight, to_sample, training_target, x0_weight

    noise, t, alphas_cumprod = _prepare(x0, noise, t, alphas_cumprod)
    x0 = x0.float()
    a_t = per_item(alphas_cumprod[t], x0)
    x_t = noisy_mix(x0, x0, 0.0, alphas_cumprod[t], noise)  # Eq. 7 with lambda = 0: q(x_t | x0)
    output = _predict(model_fn, x_t, t)
    if weighting is not None:
        residual = to_sample(output, x_t, a_t, prediction_type) - x0  # the x0 error
        weight = x0_weight(alphas_cumprod[t], weighting)  # w(SNR_t) on it
    else:
        residual = output - training_target(x0, noise, a_t, prediction_type)
        weight = min_snr_weight(alphas_cumprod[t], prediction_type, snr_gamma)
    if region is not None or gradient_weight:
        return region_loss(residual, region, gradient_weight, weight)
    return (weight * (residual ** 2).flatten(1).mean(dim=1)).mean()


def epsilon_loss(eps_fn: EpsFn, x0: Tensor, t: Tensor, alphas_cumprod: Tensor, noise: Tensor) -> Tensor:
    """``|| eps - eps_fn(x_t, t) ||^2`` (mean): `denoising_loss` of an epsilon model, unweighted."""
    return denoising_loss(eps_fn, x0, t, alphas_cumprod, noise, "epsilon", None)
