"""Models: the lite pixel-space inpainting UNet (`lite`). Stable Diffusion lives in `eradiff_lite.sd`."""

from .lite import IN_CHANNELS, build_lite_unet, masked_image, unet_input

__all__ = ["IN_CHANNELS", "build_lite_unet", "masked_image", "unet_input"]
