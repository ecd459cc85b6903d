"""One step of training the lite model, written out: the draws, the loss of any registered objective, the update.

The loop (`loop._train`) draws ``t``, ``gamma`` and the noise with `draw_step`, takes the variant's loss from the
registry (`eradiff_lite.losses.loss_for`) and calls `step_loss` (with SRA on for the variants that train with it),
then updates through accelerate (`loop.optimize`: backward, gradient clipping, AdamW, the lr schedule, the EMA).
`training_step` is that step for one plain process, without SRA, mixed precision, lr schedule or EMA (the caller
steps those); with the draws of `draw_step` it gives the loop's losses and weights
(tests/test_exercises_training.py); notebook 05's build exercise ``training_step`` has its arguments.
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor

from ..cro import sample_t_gamma
from ..losses import Denoiser, Loss, loss_for, resolve_loss
from ..models.lite import masked_image, unet_input
from ..variants import Variant

LOSSES = ("paired", "cro")  # the objectives of notebook 05's exercise; any variant or registered loss works


def draw_step(batch: dict[str, Tensor], num_timesteps: int, gamma_max: int,
              generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """``(t, gamma, noise)`` of one step, drawn from ``generator`` on the CPU in the loop's order: ``t ~ U{0..T-1}``
    and ``gamma ~ U{1..gamma_max}`` (`cro.sample_t_gamma`; ``gamma`` is drawn for every loss), then ``eps ~ N(0, I)``
    of the images' shape."""
    t, gamma = sample_t_gamma(batch["x_obj"].shape[0], num_timesteps, gamma_max, generator=generator)
    return t, gamma, torch.randn(batch["x_obj"].shape, generator=generator)


def lite_denoiser(unet, batch: dict[str, Tensor], prediction_type: str = "sample") -> Denoiser:
    """The lite UNet as a loss calls it: it sees ``[x_t, m, x_obj * (1 - m)]`` (the picture with the hole blanked
    as the condition) and answers in ``prediction_type``."""
    mask = batch["mask"]
    masked = masked_image(batch["x_obj"], mask)
    return Denoiser(lambda x_t, steps: unet(unet_input(x_t, mask, masked), steps).sample, prediction_type)


def step_loss(unet, batch: dict[str, Tensor], alphas_cumprod: Tensor, t: Tensor, gamma: Tensor, noise: Tensor,
              loss: str | Loss = "paired", *, prediction_type: str = "sample", sra: tuple | None = None) -> Tensor:
    """The float32 scalar loss of one batch; ``loss`` a `Loss`, a variant's name or a registered loss's.

    ``"paired"`` (the standard loss toward the background, for the recipe's x0 model):
        ``x_t = sqrt(a_t) x_ori + sqrt(1 - a_t) eps``,  ``L = mean (x0_hat - x_ori)^2``;
    ``"cro"`` (Eq. 6-9, `cro.cro_loss`): ``x_mix(u) = sqrt(a_u) ((1 - lam_u) x_ori + lam_u x_obj) +
    sqrt(1 - a_u) eps`` with the one ``eps`` at ``t`` and ``s = t - gamma``; the model's noise estimate
    ``e = (x_mix(t) - sqrt(a_t) x0_hat) / sqrt(1 - a_t)`` jumps to ``x_hat(s) = sqrt(a_s) x0_hat + sqrt(1 - a_s) e``
    and ``L = mean (x_hat(s) - x_mix(s))^2``. Every other loss's equation is in its docstring (`eradiff_lite.losses`).
    ``sra = (unet, rule)`` runs the model with Self-Rectifying Attention on that (unwrapped) UNet's processors.
    """
    objective = resolve_loss(loss)
    device = batch["x_obj"].device
    t, gamma, noise = t.to(device), gamma.to(device), noise.to(device)
    model = lite_denoiser(unet, batch, prediction_type)
    context = contextlib.nullcontext()
    if sra is not None:
        from ..sra import self_rectifying_attention  # imported only for the variants that use it

        context = self_rectifying_attention(sra[0], batch["mask"], rule=sra[1])
    with context:
        return objective(model, batch, t, gamma, alphas_cumprod, noise)


def variant_loss(spec: Variant, model, batch: dict[str, Tensor], alphas_cumprod: Tensor, generator: torch.Generator,
                 gamma_max: int, *, sra_unet=None, sra_rule: str = "eq10", prediction_type: str = "epsilon",
                 **run_options) -> Tensor:
    """The loss of variant ``spec`` on ``batch`` with this step's draws from ``generator`` (`draw_step`, on the
    CPU, so that a run is the same on any device): `step_loss` with the variant's loss (`losses.loss_for`, with the
    run's ``snr_gamma`` / ``loss_weighting``) and SRA on ``sra_unet or model`` where the variant trains with it.
    ``prediction_type`` is the run's (`TrainConfig.prediction_type`; the default ``"epsilon"`` is this function's
    historical one, kept for `experiments.bench.train`)."""
    draws = draw_step(batch, alphas_cumprod.numel(), gamma_max, generator)
    sra = (sra_unet or model, sra_rule) if spec.sra_in_training else None
    return step_loss(model, batch, alphas_cumprod, *draws, loss_for(spec, **run_options),
                     prediction_type=prediction_type, sra=sra)


def training_step(unet, optimizer: torch.optim.Optimizer, batch: dict[str, Tensor], alphas_cumprod: Tensor,
                  t: Tensor, gamma: Tensor, noise: Tensor, loss: str | Loss = "paired",
                  max_grad_norm: float = 1.0) -> Tensor:
    """One update of ``unet`` on ``batch`` (``x_obj``, ``x_ori``, ``mask``); returns the loss before it (detached).

    ``L = step_loss(...)`` (the equations there), then ``theta <- optimizer(theta, clip(grad L))`` where the
    gradient is rescaled to norm ``max_grad_norm`` when it is longer (``||g|| > c: g <- g c / ||g||``). The
    gradients of earlier steps are cleared first, so that each update uses this batch's gradient only.
    """
    optimizer.zero_grad(set_to_none=True)
    value = step_loss(unet, batch, alphas_cumprod, t, gamma, noise, loss)
    value.backward()
    torch.nn.utils.clip_grad_norm_(unet.parameters(), max_grad_norm)
    optimizer.step()
    return value.detach()
