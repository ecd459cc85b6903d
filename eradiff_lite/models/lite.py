"""The lite inpainting UNet: a small pixel-space diffusers `UNet2DModel` behind a space-to-depth stem.

Like SD2-Inpaint's 9-channel latent input (4 noisy + 1 mask + 4 masked-image latents), its input is
the noisy image, the mask and the masked image stacked on channels: 3 + 1 + 3 = 7 channels, in that
order. It predicts what its scheduler's ``prediction_type`` says (the course's recipe: x0, "sample").

The stem (``space_to_depth = f``) folds each ``f x f`` block of pixels into channels before the UNet
(``pixel_unshuffle``: 7 x 64 x 64 -> 28 x 32 x 32 for f = 2) and unfolds the output after it
(``pixel_shuffle``: 12 x 32 x 32 -> 3 x 64 x 64). A 64 px model then costs what a 32 px one does (4.6x
fewer seconds per image, docs/recipe_study.md), the way SD's VAE lets its UNet run at 1/8 of the image side.
Sizes come from the profile; the diffusion recipe (schedule, target) from `RECIPE` (both in docs/design.md).

``refine_channels = c > 0`` adds a small full-resolution head after the stem's unfold: two 3 x 3 convolutions
(input: the unfolded output and the UNet's own 7-channel input, so it sees the mask's edge pixel by pixel)
whose result is *added* to the output. Its last convolution starts at zero, so a model widened this way
computes exactly what it did before (`widen_with_refine_head`) and a fine-tune starts where the old model was.
It exists because a stem's output is organised in f x f blocks (the fill study, experiments/fill_study.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin, UNet2DModel
from diffusers.configuration_utils import register_to_config
from diffusers.models.unets.unet_2d import UNet2DOutput

from ..profiles import Profile

IN_CHANNELS = 7  # noisy image (3) + mask (1) + masked image (3)

#: The frozen diffusion recipe of the course's lite model (chosen by the study in docs/recipe_study.md).
RECIPE = {"beta_schedule": "squaredcos_cap_v2", "prediction_type": "sample", "clip_sample": True,
          "timestep_spacing": "trailing", "rescale_betas_zero_snr": False}


class LiteUNet(ModelMixin, ConfigMixin):
    """``UNet2DModel`` wrapped in a pixel-unshuffle / pixel-shuffle stem; ``sample_size`` is the image side."""

    @register_to_config
    def __init__(self, sample_size: int = 64, space_to_depth: int = 2, in_channels: int = IN_CHANNELS,
                 out_channels: int = 3, block_out_channels: tuple[int, ...] = (32, 64, 96),
                 layers_per_block: int = 1, attention_levels: tuple[bool, ...] = (False, True, True),
                 norm_num_groups: int = 8, attention_head_dim: int = 8, refine_channels: int = 0):
        super().__init__()
        f = int(space_to_depth)
        if f < 1 or sample_size % f:
            raise ValueError(f"space_to_depth must be >= 1 and divide sample_size {sample_size}, got {f}")
        if len(attention_levels) != len(block_out_channels):
            raise ValueError("attention_levels needs one flag per entry of block_out_channels")
        down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in attention_levels)
        up = tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attention_levels))
        self.unet = UNet2DModel(sample_size=sample_size // f, in_channels=in_channels * f * f,
                                out_channels=out_channels * f * f, block_out_channels=tuple(block_out_channels),
                                layers_per_block=layers_per_block, down_block_types=down, up_block_types=up,
                                norm_num_groups=norm_num_groups, attention_head_dim=attention_head_dim)
        self.refine = None
        if refine_channels:
            self.refine = torch.nn.Sequential(
                torch.nn.Conv2d(in_channels + out_channels, refine_channels, 3, padding=1), torch.nn.SiLU(),
                torch.nn.Conv2d(refine_channels, out_channels, 3, padding=1))
            torch.nn.init.zeros_(self.refine[-1].weight)  # starts as the identity: out + 0
            torch.nn.init.zeros_(self.refine[-1].bias)

    def forward(self, sample: torch.Tensor, timestep, return_dict: bool = True):
        f = self.config.space_to_depth
        if sample.shape[-1] % f or sample.shape[-2] % f:
            raise ValueError(f"the input's sides {tuple(sample.shape[-2:])} must be divisible by the stem's {f}")
        inner = F.pixel_unshuffle(sample, f) if f > 1 else sample  # B x 7 x H x W -> B x 7 f^2 x H/f x W/f
        out = self.unet(inner, timestep).sample
        out = F.pixel_shuffle(out, f) if f > 1 else out  # B x 3 f^2 x H/f x W/f -> B x 3 x H x W
        if self.refine is not None:
            out = out + self.refine(torch.cat([out, sample.to(out.dtype)], dim=1))  # full-resolution correction
        return UNet2DOutput(sample=out) if return_dict else (out,)


def widen_with_refine_head(unet: LiteUNet, channels: int) -> LiteUNet:
    """A copy of ``unet`` with a zero-initialised refine head of ``channels``: the same outputs, bit for bit."""
    wide = LiteUNet(**{**dict(unet.config), "refine_channels": int(channels)})
    missing, unexpected = wide.load_state_dict(unet.state_dict(), strict=False)
    if unexpected or any(not k.startswith("refine.") for k in missing):
        raise ValueError(f"cannot widen this UNet: unexpected {unexpected}, missing {missing}")
    return wide


def build_lite_unet(profile: Profile) -> LiteUNet:
    """A fresh lite UNet sized by ``profile`` (self-attention at the levels it marks)."""
    return LiteUNet(sample_size=profile.image_size, space_to_depth=profile.space_to_depth,
                    block_out_channels=tuple(profile.unet_channels), layers_per_block=profile.unet_layers_per_block,
                    attention_levels=tuple(profile.unet_attention_levels))


def masked_image(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The image with the erase region blanked (0 = mid-grey in [-1, 1]); ``mask`` is 1 = erase."""
    return image * (1 - mask)


def unet_input(x_t: torch.Tensor, mask: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """Stack the UNet input: noisy image, mask, masked image (7 channels)."""
    if not (x_t.shape[-2:] == mask.shape[-2:] == masked.shape[-2:]):
        raise ValueError(f"spatial sizes differ: x_t {tuple(x_t.shape)}, mask {tuple(mask.shape)}, "
                         f"masked {tuple(masked.shape)}")
    return torch.cat([x_t, mask.to(x_t.dtype), masked.to(x_t.dtype)], dim=1)


def build_scheduler(num_train_timesteps: int = 1000, **recipe):
    """The DDIM scheduler shared by training (its ``alphas_cumprod``) and erasing (its steps).

    `RECIPE` by default, any key overridden by ``recipe``; ``set_alpha_to_one=True`` always (the step
    before t = 0 is the clean image: a jump to s < 0 lands on alpha_bar = 1, as CRO defines it; see
    docs/paper_notes.md, "The CRO loss").
    """
    from diffusers import DDIMScheduler

    unknown = set(recipe) - set(RECIPE)
    if unknown:
        raise ValueError(f"unknown scheduler setting(s) {sorted(unknown)}: choose among {sorted(RECIPE)}")
    return DDIMScheduler(num_train_timesteps=num_train_timesteps, set_alpha_to_one=True, **{**RECIPE, **recipe})


def unet_levels(unet) -> int:
    """Resolution levels of a UNet counting its stem: the input side must be divisible by ``2 ** (levels - 1)``
    (a 2x stem counts as one level more)."""
    f = int(getattr(unet.config, "space_to_depth", 1))
    return len(unet.config.block_out_channels) + (f.bit_length() - 1)
