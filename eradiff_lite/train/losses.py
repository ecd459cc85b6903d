"""The loss of each variant on one batch: the same UNet call, different targets and objectives.

- ``baseline``: random mask over the scene picture ``x_obj``; the standard loss towards the picture itself
  (``x_t = sqrt(a_t) x_obj + sqrt(1 - a_t) eps``, `cro.denoising_loss` on the model's own target with
  min-SNR weighting): it learns to reconstruct whatever was under the mask, objects included, like SD2-Inpaint.
- ``baseline_ft``: the baseline's loss, continued from its checkpoint (the control for extra training).
- ``paired``: the pasted object's mask, condition ``x_obj``, the same loss towards the background ``x_ori``.
- ``cro`` / ``cro_sra`` / ``cro_const``: the same condition, CRO loss (Eq. 9) on the pathway from ``x_obj``
  to ``x_ori`` (`eradiff_lite.cro.cro_loss`); ``cro_sra`` calls the UNet with SRA on; ``cro_const`` holds
  lambda constant; ``cro_zero`` holds it at 0 (the jump toward x_ori without the fading path).
  CRO's DDIM jump needs a noise estimate: a model that predicts x0 or v is turned into one by
  `targets.to_epsilon` (the algebra is in notebook 03).
"""

from __future__ import annotations

import contextlib

import torch

from ..cro import cro_loss, denoising_loss, sample_t_gamma
from ..models.lite import masked_image, unet_input
from ..schedule import constant_lambdas, per_item
from ..targets import to_epsilon
from ..variants import Variant


def _sra_context(unet, mask: torch.Tensor, rule: str):
    from ..sra import self_rectifying_attention  # imported only for the variants that use it

    return self_rectifying_attention(unet, mask, rule=rule)


def variant_loss(spec: Variant, model, batch: dict[str, torch.Tensor], alphas_cumprod: torch.Tensor,
                 generator: torch.Generator, gamma_max: int, sra_unet=None, sra_rule: str = "eq10",
                 prediction_type: str = "epsilon", snr_gamma: float | None = None,
                 loss_weighting: str | None = None) -> torch.Tensor:
    """The float32 scalar loss of ``spec`` for ``batch``.

    ``model`` is what is called (it may be wrapped by accelerate); ``sra_unet`` is the unwrapped UNet
    whose attention processors SRA swaps. Timesteps, jumps and noise are drawn on the CPU from
    ``generator`` (so a run is the same on any device), then moved to the batch's device.
    """
    x_obj, x_ori, mask = batch["x_obj"], batch["x_ori"], batch["mask"]
    device, size = x_obj.device, x_obj.shape[0]
    t, gamma = sample_t_gamma(size, alphas_cumprod.numel(), gamma_max, generator=generator)
    noise = torch.randn(x_obj.shape, generator=generator).to(device)
    t, gamma = t.to(device), gamma.to(device)
    masked = masked_image(x_obj, mask)  # the condition: the picture with the hole blanked

    def model_fn(x_t: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        return model(unet_input(x_t, mask, masked), steps).sample

    def eps_fn(x_t: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        a_t = per_item(alphas_cumprod[steps], x_t)
        return to_epsilon(model_fn(x_t, steps).float(), x_t, a_t, prediction_type)

    context = _sra_context(sra_unet or model, mask, sra_rule) if spec.sra_in_training else contextlib.nullcontext()
    with context:
        if spec.loss == "denoise":
            target = x_obj if spec.target == "image" else x_ori
            return denoising_loss(model_fn, target, t, alphas_cumprod, noise, prediction_type, snr_gamma,
                                  loss_weighting)
        lambdas = None
        if spec.constant_lambda is not None:
            lambdas = constant_lambdas(alphas_cumprod.numel(), spec.constant_lambda).to(device)
        return cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise, lambdas=lambdas)
