"""Training-free erasing with SD2-Inpaint, with or without Self-Rectifying Attention (EraDiff Sec. 4.2).

The stock ``StableDiffusionInpaintPipeline`` runs unchanged; for SRA its call is wrapped in
``with self_rectifying_attention(pipe.unet, latent_mask, rule):``, which puts the SRA processor on every
self-attention layer (``attn1`` of each transformer block) and leaves cross-attention (``attn2``, the
prompt) alone. The mask handed to SRA is the erase mask max-pooled to the UNet's input, the latent grid
(``size / vae_scale_factor``); the SRA code max-pools it again to each layer's grid. With classifier-free
guidance the pipeline doubles the UNet batch ([uncond; cond]) and SRA repeats the mask to match.
"""

from __future__ import annotations

import numpy as np
import torch
from diffusers import StableDiffusionInpaintPipeline
from PIL import Image

from ..data.io import check_mask, mask_to_tensor, to_pil
from ..sra import mask_at, self_rectifying_attention
from .model import native_size


def latent_hw(pipe: StableDiffusionInpaintPipeline, size: int) -> tuple[int, int]:
    """The latent grid for a ``size`` x ``size`` image: ``size / vae_scale_factor`` (64 x 64 for SD2 at 512)."""
    factor = int(pipe.vae_scale_factor) * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
    if size % factor:
        raise ValueError(f"size {size} must be a multiple of {factor} (VAE factor x UNet downsampling) for this model")
    return size // pipe.vae_scale_factor, size // pipe.vae_scale_factor


def _square(image: np.ndarray, mask: np.ndarray, size: int) -> tuple[Image.Image, np.ndarray]:
    pil = to_pil(image).resize((size, size), Image.LANCZOS)
    small_mask = np.array(Image.fromarray(np.asarray(mask, bool)).resize((size, size), Image.NEAREST))
    return pil, small_mask


@torch.no_grad()
def erase_with_sd(pipe: StableDiffusionInpaintPipeline, image: np.ndarray, mask: np.ndarray, prompt: str = "", *,
                  sra: bool = True, rule: str = "eq10", sra_timesteps: tuple[int, int] | None = None,
                  size: int | None = None, num_inference_steps: int = 25, guidance_scale: float = 1.0,
                  seed: int = 0, generator: torch.Generator | None = None) -> np.ndarray:
    """Erase ``mask`` (H x W bool, True = erase) from ``image`` (H x W x 3 in [0, 1]); returns size x size x 3.

    Both are resized to ``size`` (default: the model's native side, 512 for SD2). The initial noise comes
    from ``generator`` or a fresh CPU generator seeded with ``seed``, so runs with and without SRA start
    from the same latents. ``guidance_scale`` 1 skips classifier-free guidance (an empty prompt gains
    nothing from it); above 1 the batch is doubled and SRA covers both halves.
    """
    if not isinstance(pipe, StableDiffusionInpaintPipeline):
        raise TypeError(f"expected a StableDiffusionInpaintPipeline (see sd.model), got {type(pipe).__name__}")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3 in [0, 1] (eradiff_lite.data.load_image), got {image.shape}")
    check_mask(mask, image.shape[:2])
    size = size or native_size(pipe)
    hw = latent_hw(pipe, size)
    pil, small_mask = _square(image, mask, size)
    check_mask(small_mask, name=f"mask resized to {size} x {size}")
    generator = generator or torch.Generator("cpu").manual_seed(seed)
    call = dict(prompt=prompt, image=pil, mask_image=Image.fromarray(small_mask), height=size, width=size,
                num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator,
                output_type="np")
    if not sra:
        return pipe(**call).images[0]
    latent_mask = mask_at(mask_to_tensor(small_mask)[None], hw)  # [1, 1, h, w], max-pooled to the latent grid
    with self_rectifying_attention(pipe.unet, latent_mask, rule=rule, timesteps=sra_timesteps):
        return pipe(**call).images[0]
