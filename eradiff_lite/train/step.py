"""One optimiser step of the paired or the CRO objective, written out: what the training loop does per batch.

The loop (`loop._train`) draws ``t``, ``gamma`` and the noise inside `losses.variant_loss` and updates through
accelerate (`loop.optimize`: backward, gradient clipping, AdamW, then the lr schedule and the EMA). `training_step`
is that step for one plain process, without SRA, mixed precision, lr schedule or EMA (the caller steps those),
for the course's recipe (the UNet predicts the clean image, the loss unweighted). With the draws of `draw_step`
it gives the loop's losses and weights (tests/test_exercises_training.py); notebook 05's build exercise
``training_step`` has its arguments.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..cro import cro_loss, denoising_loss, sample_t_gamma
from ..models.lite import masked_image, unet_input
from ..schedule import per_item
from ..targets import to_epsilon

LOSSES = ("paired", "cro")


def draw_step(batch: dict[str, Tensor], num_timesteps: int, gamma_max: int,
              generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """``(t, gamma, noise)`` of one step, drawn from ``generator`` on the CPU in the loop's order: ``t ~ U{0..T-1}``
    and ``gamma ~ U{1..gamma_max}`` (`cro.sample_t_gamma`; ``gamma`` is drawn for every loss), then ``eps ~ N(0, I)``
    of the images' shape."""
    t, gamma = sample_t_gamma(batch["x_obj"].shape[0], num_timesteps, gamma_max, generator=generator)
    return t, gamma, torch.randn(batch["x_obj"].shape, generator=generator)


def step_loss(unet, batch: dict[str, Tensor], alphas_cumprod: Tensor, t: Tensor, gamma: Tensor, noise: Tensor,
              loss: str = "paired") -> Tensor:
    """The float32 scalar loss of one batch; the UNet sees ``[x_t, m, x_obj * (1 - m)]`` and predicts ``x0_hat``.

    ``"paired"`` (the standard loss toward the background):
        ``x_t = sqrt(a_t) x_ori + sqrt(1 - a_t) eps``,  ``L = mean (x0_hat - x_ori)^2``;
    ``"cro"`` (Eq. 6-9, `cro.cro_loss`): ``x_mix(u) = sqrt(a_u) ((1 - lam_u) x_ori + lam_u x_obj) +
    sqrt(1 - a_u) eps`` with the one ``eps`` at ``t`` and ``s = t - gamma``; the model's noise estimate
    ``e = (x_mix(t) - sqrt(a_t) x0_hat) / sqrt(1 - a_t)`` jumps to ``x_hat(s) = sqrt(a_s) x0_hat + sqrt(1 - a_s) e``
    and ``L = mean (x_hat(s) - x_mix(s))^2``.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    x_obj, x_ori, mask = batch["x_obj"], batch["x_ori"], batch["mask"]
    device = x_obj.device
    t, gamma, noise = t.to(device), gamma.to(device), noise.to(device)
    masked = masked_image(x_obj, mask)  # the condition: the picture with the hole blanked

    def x0_fn(x_t: Tensor, steps: Tensor) -> Tensor:
        return unet(unet_input(x_t, mask, masked), steps).sample

    if loss == "paired":
        return denoising_loss(x0_fn, x_ori, t, alphas_cumprod, noise, "sample")

    def eps_fn(x_t: Tensor, steps: Tensor) -> Tensor:
        return to_epsilon(x0_fn(x_t, steps).float(), x_t, per_item(alphas_cumprod[steps], x_t), "sample")

    return cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise)


def training_step(unet, optimizer: torch.optim.Optimizer, batch: dict[str, Tensor], alphas_cumprod: Tensor,
                  t: Tensor, gamma: Tensor, noise: Tensor, loss: str = "paired", max_grad_norm: float = 1.0) -> Tensor:
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
