"""The lite inpainting UNet: a small pixel-space diffusers `UNet2DModel`.

Like SD2-Inpaint's 9-channel latent input (4 noisy + 1 mask + 4 masked-image latents), its input is
the noisy image, the mask and the masked image stacked on channels: 3 + 1 + 3 = 7 channels, in that
order. It predicts the noise (epsilon), 3 channels. Sizes come from the profile.
"""

from __future__ import annotations

import torch
from diffusers import UNet2DModel

from ..profiles import Profile

IN_CHANNELS = 7  # noisy image (3) + mask (1) + masked image (3)


def build_lite_unet(profile: Profile) -> UNet2DModel:
    """A fresh lite UNet sized by ``profile`` (self-attention at the levels it marks)."""
    levels = profile.unet_attention_levels
    if len(levels) != len(profile.unet_channels):
        raise ValueError("unet_attention_levels needs one flag per entry of unet_channels")
    down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in levels)
    up = tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(levels))
    return UNet2DModel(
        sample_size=profile.image_size,
        in_channels=IN_CHANNELS,
        out_channels=3,
        block_out_channels=tuple(profile.unet_channels),
        layers_per_block=profile.unet_layers_per_block,
        down_block_types=down,
        up_block_types=up,
        norm_num_groups=8,
        attention_head_dim=8,
    )


def masked_image(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The image with the erase region blanked (0 = mid-grey in [-1, 1]); ``mask`` is 1 = erase."""
    return image * (1 - mask)


def unet_input(x_t: torch.Tensor, mask: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """Stack the UNet input: noisy image, mask, masked image (7 channels)."""
    if not (x_t.shape[-2:] == mask.shape[-2:] == masked.shape[-2:]):
        raise ValueError(f"spatial sizes differ: x_t {tuple(x_t.shape)}, mask {tuple(mask.shape)}, "
                         f"masked {tuple(masked.shape)}")
    return torch.cat([x_t, mask.to(x_t.dtype), masked.to(x_t.dtype)], dim=1)


def build_scheduler(num_train_timesteps: int = 1000):
    """The DDIM scheduler shared by training (its ``alphas_cumprod``) and erasing (its steps).

    Linear betas as in DDPM, epsilon prediction, ``set_alpha_to_one=True`` (the step before t = 0 is the
    clean image, as PAPER.md asks for s < 0), samples clipped to [-1, 1] (pixel space).
    """
    from diffusers import DDIMScheduler

    return DDIMScheduler(num_train_timesteps=num_train_timesteps, beta_schedule="linear", prediction_type="epsilon",
                         set_alpha_to_one=True, clip_sample=True)


def unet_levels(unet: UNet2DModel) -> int:
    """Resolution levels of a UNet: its input side must be divisible by ``2 ** (levels - 1)``."""
    return len(unet.config.block_out_channels)
