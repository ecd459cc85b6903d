"""The course's two losses, registered by name: ``denoise`` (the standard diffusion loss) and ``cro`` (Eq. 6-9).

Every variant of the ablation uses one of them (`eradiff_lite.variants`): ``baseline`` / ``baseline_ft`` take
``denoise`` toward the picture, ``paired`` ``denoise`` toward the background, ``cro`` / ``cro_sra`` ``cro``,
``cro_zero`` / ``cro_const`` ``cro`` with a constant lambda. SRA in training is not a loss: it is how the model is
called (`train.step.step_loss`).
"""

from __future__ import annotations

from torch import Tensor

from ..cro import cro_loss, denoising_loss
from ..schedule import constant_lambdas
from .base import Denoiser, Loss, register_loss

REGIONS = ("image", "hole")  # where a loss is averaged: the whole picture (the paper) or the erase mask's pixels


def region_of(loss: Loss, batch: dict[str, Tensor]) -> Tensor | None:
    """The mask the loss is averaged over (``region="hole"``), or None for the whole picture."""
    if loss.region not in REGIONS:
        raise ValueError(f"loss {loss.name!r}: region must be one of {REGIONS}, got {loss.region!r}")
    return batch["mask"] if loss.region == "hole" else None


class DenoiseLoss(Loss):
    """The standard diffusion loss (`cro.denoising_loss`) toward ``x0`` = ``x_obj`` (target ``"image"``) or
    ``x_ori`` (``"background"``):

        x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps,   L = mean_b w(t_b) mean || target_b - model(x_t, t)_b ||^2

    with ``target`` the model's own (eps, x0 or v) and ``w`` min-SNR-``snr_gamma`` (1 when None, the recipe);
    with a named ``loss_weighting`` (`targets.X0_WEIGHTINGS`) the error is taken on the x0 estimate,
    ``w(SNR_t) || x0 - x0_hat ||^2``. ``region="hole"`` averages over the mask's pixels only and
    ``gradient_weight`` adds the error's image gradient (`cro.region_loss`). ``gamma`` is not used.
    """

    name = "denoise"
    options = ("target", "snr_gamma", "loss_weighting", "region", "gradient_weight")

    def __init__(self, target: str = "image", snr_gamma: float | None = None, loss_weighting: str | None = None,
                 region: str = "image", gradient_weight: float = 0.0):
        self.target, self.snr_gamma, self.loss_weighting = target, snr_gamma, loss_weighting
        self.region, self.gradient_weight = region, gradient_weight

    @property
    def weighting(self) -> str:  # type: ignore[override]
        if self.loss_weighting is not None:
            return f"{self.loss_weighting} on the x0 error"
        return "none" if self.snr_gamma is None else f"min-SNR-{self.snr_gamma:g}"

    def __call__(self, model: Denoiser, batch: dict[str, Tensor], t: Tensor, gamma: Tensor,
                 alphas_cumprod: Tensor, noise: Tensor) -> Tensor:
        x0 = batch["x_obj"] if self.target == "image" else batch["x_ori"]
        return denoising_loss(model.fn, x0, t, alphas_cumprod, noise, model.prediction_type, self.snr_gamma,
                              self.loss_weighting, region_of(self, batch), self.gradient_weight)


class CROLoss(Loss):
    """Chain-Rectifying Optimization (Eq. 6-9, `cro.cro_loss`): one DDIM jump from ``t`` to ``s = t - gamma``
    must land on the erasing pathway,

        x_mix(u) = sqrt(a_u) ((1 - lam_u) x_ori + lam_u x_obj) + sqrt(1 - a_u) eps     (the one eps at t and s)
        e = model.eps(x_mix(t), t),   x_hat(s) = sqrt(a_s) (x_mix(t) - sqrt(1 - a_t) e) / sqrt(a_t) + sqrt(1 - a_s) e
        L = mean || x_hat(s) - x_mix(s) ||^2

    with ``lam_u = 1 - a_u`` (the paper), or ``constant_lambda`` for every u (``cro_zero``: 0, ``cro_const``:
    0.5); ``s < 0`` means ``a_s = 1``, ``lam_s = 0``. In closed form it is an epsilon loss weighted by ``c^2``
    toward a shifted target (`cro.cro_closed_form_terms`). ``region="hole"`` / ``gradient_weight``: the mean
    over the mask's pixels only and the residual's gradient (`cro.region_loss`).
    """

    name = "cro"
    target = "background"
    weighting = "c(t, s)^2, implicit in the jump (closed form: cro.cro_closed_form_terms)"
    options = ("constant_lambda", "region", "gradient_weight")

    def __init__(self, constant_lambda: float | None = None, region: str = "image", gradient_weight: float = 0.0):
        self.constant_lambda, self.region, self.gradient_weight = constant_lambda, region, gradient_weight

    @property
    def needs(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("x_obj", "x_ori", "mask") if self.region == "hole" else ("x_obj", "x_ori")

    def __call__(self, model: Denoiser, batch: dict[str, Tensor], t: Tensor, gamma: Tensor,
                 alphas_cumprod: Tensor, noise: Tensor) -> Tensor:
        lambdas = None
        if self.constant_lambda is not None:
            lambdas = constant_lambdas(alphas_cumprod.numel(), self.constant_lambda).to(batch["x_ori"].device)
        return cro_loss(lambda x_t, steps: model.eps(x_t, steps, alphas_cumprod), batch["x_ori"], batch["x_obj"],
                        t, gamma, alphas_cumprod, noise, lambdas=lambdas, region=region_of(self, batch),
                        gradient_weight=self.gradient_weight)


register_loss(DenoiseLoss())
register_loss(CROLoss())
