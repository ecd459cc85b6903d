"""Training-free erasing with SD2-Inpaint, with or without Self-Rectifying Attention (EraDiff Sec. 4.2).

The model's stock inpainting pipeline runs unchanged, called through its adapter (`eradiff_lite.sd.adapter`:
any registered latent inpainting model; SD2-Inpaint is the one there is); for SRA the call is wrapped in
``with self_rectifying_attention(unet, mask, rule):``, which puts the SRA processor on every
self-attention layer (``attn1`` of each transformer block) and leaves cross-attention (``attn2``, the
prompt) alone. SRA is handed the `EraseMask` at the working size (checked once, where it entered, and again
only as the new mask it becomes when resized); the SRA code max-pools it to each layer's grid, the latent grid
(``size / vae_scale_factor``) and below. With classifier-free guidance the pipeline doubles the UNet batch
([uncond; cond]) and SRA repeats the mask to match.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from PIL import Image

from ..data import as_erase_mask, mask_to_tensor, to_pil
from ..sra import self_rectifying_attention
from ..sra.layer_masks import mask_at
from .adapter import adapter_for


def latent_hw(pipe, size: int) -> tuple[int, int]:
    """The latent grid for a ``size`` x ``size`` image: ``size / vae_scale_factor`` (64 x 64 for SD2 at 512).
    ``pipe``: a pipeline with a registered adapter, or the adapter."""
    return adapter_for(pipe).latent_hw(size)


@torch.no_grad()
def erase_with_sd(pipe, image: np.ndarray, mask, prompt: str = "", *,
                  sra: bool = True, rule: str = "eq10", sra_timesteps: tuple[int, int] | None = None,
                  size: int | None = None, num_inference_steps: int = 25, guidance_scale: float = 1.0,
                  seed: int = 0, generator: torch.Generator | None = None, processor=None) -> np.ndarray:
    """Erase ``mask`` (an `EraseMask`, or an H x W bool array: True = erase) from ``image`` (H x W x 3 in [0, 1]);
    returns size x size x 3.

    ``pipe``: SD2-Inpaint's pipeline (`load_sd_inpaint`), another with a registered adapter, or the adapter.
    Both are resized to ``size`` (default: the model's native side, 512 for SD2). The initial noise comes
    from ``generator`` or a fresh CPU generator seeded with ``seed``, so runs with and without SRA start
    from the same latents. ``guidance_scale`` 1 skips classifier-free guidance (an empty prompt gains
    nothing from it); above 1 the batch is doubled and SRA covers both halves.

    ``processor``: the SRA processor class put on every ``attn1`` as ``processor(state, original)``, e.g. the
    learner's ``MySRAProcessor`` of notebook 07 (default None: the package's `SelfRectifyingAttnProcessor`, handed
    the `EraseMask`). A class given here gets the hole max-pooled to the latent grid as ``state.mask``
    ``[1, 1, h, w]``, as notebook 07's sections 1 and 3 hand it, so a class that resizes it further by nearest
    neighbour still sees every thin stroke.
    """
    model = adapter_for(pipe)  # a TypeError names the pipelines that have one
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 in [0, 1] (eradiff_lite.data.load_image), got {image.shape}")
    hole = as_erase_mask(mask, image.shape, name="mask")  # the entry: an EraseMask passes as it is
    size = size or model.native_size
    model.latent_hw(size)  # refuses a size the model cannot take
    pil = to_pil(image).resize((size, size), Image.LANCZOS)
    small = hole.resized((size, size), name=f"mask resized to {size} x {size}")
    generator = generator or torch.Generator("cpu").manual_seed(seed)
    call = dict(prompt=prompt, num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                generator=generator)
    if not sra:
        return model.inpaint(pil, small.array, size, **call)
    if processor is None:
        with self_rectifying_attention(model.unet, small, rule=rule, timesteps=sra_timesteps):  # max-pooled per layer
            return model.inpaint(pil, small.array, size, **call)
    latent_mask = mask_at(mask_to_tensor(small.array)[None], model.latent_hw(size))  # [1, 1, h, w]
    with self_rectifying_attention(model.unet, latent_mask, rule=rule, timesteps=sra_timesteps, processor=processor):
        return model.inpaint(pil, small.array, size, **call)


@contextlib.contextmanager
def _recording_steps(scheduler, steps: list):
    """Record ``(x_t, x_prev, x0_hat)`` latents of every ``scheduler.step`` call inside the block."""
    step = scheduler.step

    def recording(model_output, timestep, sample, *args, **kwargs):
        out = step(model_output, timestep, sample, *args, **kwargs)
        prev, x0 = (out[0], out[1]) if isinstance(out, tuple) else (out.prev_sample, out.pred_original_sample)
        steps.append((int(timestep), sample, prev, x0))
        return out

    scheduler.step = recording  # an instance attribute shadows the method; removed below
    try:
        yield steps
    finally:
        del scheduler.step


class SDEraser:
    """A Stable Diffusion inpainting pipeline (or its adapter) behind the lite pipeline's call, so the eraser widget
    (`eradiff_lite.eraser`) compares it like a lite variant: ``(image, mask, num_inference_steps, sra,
    generator, return_trajectory) -> EraseOutput``. The picture must already have the working ``size``; the
    known pixels are kept; with ``return_trajectory`` the VAE decodes ``x_t`` and ``x0_hat`` of every step.
    ``processor``: the SRA processor class for the ``sra=True`` calls (`erase_with_sd`'s ``processor``: default
    the package's; notebook 07 passes the learner's ``MySRAProcessor`` once its check passed)."""

    def __init__(self, pipe, *, rule: str = "eq10", size: int | None = None, processor=None):
        self.model = adapter_for(pipe)
        self.pipe, self.rule, self.size = self.model.pipe, rule, size or self.model.native_size
        self.processor = processor

    @torch.no_grad()
    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.model.decode_latents(latents)

    def __call__(self, image, mask, num_inference_steps: int = 25, sra: bool = False,
                 generator: torch.Generator | None = None, return_trajectory: bool = False):
        from ..pipeline.pipeline import EraseOutput

        image = np.asarray(image, np.float32)
        if image.shape[:2] != (self.size, self.size):
            raise ValueError(f"the eraser works at {self.size} x {self.size} px, got a {image.shape[1]} x "
                             f"{image.shape[0]} picture")
        mask = as_erase_mask(mask, image.shape)  # the entry: the eraser's EraseMask passes as it is
        steps: list = []
        record = _recording_steps(self.model.scheduler, steps) if return_trajectory else contextlib.nullcontext()
        with record:
            out = erase_with_sd(self.model, image, mask, sra=sra, rule=self.rule, size=self.size,
                                num_inference_steps=num_inference_steps, generator=generator,
                                processor=self.processor)
        result = np.where(mask.array[..., None], out, image).astype(np.float32)
        if not return_trajectory:
            return EraseOutput(images=[result])
        return EraseOutput(images=[result], timesteps=[t for t, *_ in steps],
                           trajectory=[self._decode(steps[0][1])] + [self._decode(prev) for _, _, prev, _ in steps],
                           predicted_x0=[self._decode(x0) for *_, x0 in steps])
