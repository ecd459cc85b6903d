"""Models: the lite pixel-space inpainting UNet (`lite`) and, later, the SD2-Inpaint loaders."""

from .lite import IN_CHANNELS, build_lite_unet, masked_image, unet_input

__all__ = ["IN_CHANNELS", "build_lite_unet", "masked_image", "unet_input"]
