"""The erase loop of `EraseDiffusionPipeline` on tensors: what notebook 05's build exercise ``erase_loop`` writes.

`erase_loop` computes exactly what the pipeline computes with ``strength = 1`` and SRA off (the same draw of the
starting noise from ``generator``, the same timesteps, the same DDIM steps), on images and masks that are already
tensors, and returns a tensor instead of arrays. The tests hold it to the pipeline at float precision.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..models.lite import masked_image, unet_input


@torch.no_grad()
def erase_loop(unet, scheduler, image: Tensor, mask: Tensor, num_inference_steps: int = 25,
               generator: torch.Generator | None = None) -> Tensor:
    """Erase ``mask`` (``B x 1 x H x W``, 1 = erase) from ``image`` (``B x 3 x H x W`` in [-1, 1]) with DDIM, eta = 0.

    ``x_T = eps ~ N(0, I)``, drawn from ``generator`` (nothing else is drawn); at each timestep ``t`` of
    ``scheduler.set_timesteps(num_inference_steps)`` (from high noise down):

        ``out = unet([x_t, m, image * (1 - m)], t)``  (the recipe's ``out`` is ``x0_hat``; the scheduler's
        ``prediction_type`` says),  ``e = (x_t - sqrt(a_t) out) / sqrt(1 - a_t)``,
        ``x_prev = sqrt(a_prev) clip(x0_hat, -1, 1) + sqrt(1 - a_prev) e``

    (``clip`` when the scheduler's ``clip_sample`` is on, as in the recipe; ``a_prev = 1`` after the last step).
    Returns ``m clip(x_0, -1, 1) + (1 - m) image``: the last state inside the hole (in the pipeline's image range),
    the input's pixels, exactly, outside it.
    """
    scheduler.set_timesteps(num_inference_steps)
    x = torch.randn(image.shape, generator=generator, dtype=torch.float32).to(image.device, image.dtype)
    masked = masked_image(image, mask)
    for t in scheduler.timesteps:
        out = unet(unet_input(x, mask, masked), t).sample
        x = scheduler.step(out, t, x, eta=0.0).prev_sample  # x_t -> x_prev, DDIM (Eq. 8 with s the next step)
    return mask * x.clamp(-1, 1) + (1 - mask) * image  # the known pixels kept
