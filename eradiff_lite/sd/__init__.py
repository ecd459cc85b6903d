"""EraDiff's two ideas on a real latent inpainting model, Stable Diffusion 2 inpainting (diffusers).

- `adapter`: the seam, `InpaintAdapter`: loading, the VAE with its scaling factor, the text conditioning, the
  UNet's inpainting channels, the scheduler, the stock pipeline's call and its LoRA files, for one model; a
  registry (`register_adapter`, `adapter_for`) finds a pipeline's adapter by its class. Another model (SDXL) is
  one more adapter; the eraser, the LoRA files and the pairs do not change.
- `model`: SD2-Inpaint, the one adapter (`SD2Inpaint`, ``"sd2"``): the real checkpoint (`load_sd_inpaint`) or tiny
  components from config.
- `erase`: training-free erasing with the stock pipeline, Self-Rectifying Attention on every ``attn1``; `SDEraser`
  puts it behind the lite pipeline's call for the eraser widget.
- `pairs`: training pairs (x_obj, x_ori, mask) from the shipped photos and cut-outs (or fresh mattes), or from any
  photos (a folder, or a public photo set on the Hub) with their main object cut out and pasted again.
- `lora`: a peft LoRA adapter on the UNet, saved and loaded the diffusers way.
- `cro_lora`: Chain-Rectifying Optimization (or any registered loss, `eradiff_lite.losses`) in latent space as a
  LoRA fine-tune, timed and measured.
"""

from .adapter import ADAPTERS, InpaintAdapter, adapter_for, get_adapter, register_adapter
from .cro_lora import LatentTriplet, LoraRunStats, cro_latent_loss, encode_triplet, latent_loss, train_cro_lora
from .lora import LORA_TARGETS, add_cro_lora, load_cro_lora, lora_parameters, save_cro_lora
from .model import SD2_INPAINT_ID, SD2Inpaint, build_tiny_sd_inpaint, load_sd_inpaint, native_size, sd2_parameter_counts
from .pairs import PUBLIC_PHOTOS, load_photos, photo_cutouts, photo_triplets, real_photo_triplets
from .removal import SDEraser, erase_with_sd, latent_hw

__all__ = [
    "ADAPTERS", "InpaintAdapter", "SD2Inpaint", "adapter_for", "get_adapter", "register_adapter",
    "LORA_TARGETS", "PUBLIC_PHOTOS", "SD2_INPAINT_ID", "SDEraser", "LatentTriplet", "LoraRunStats", "add_cro_lora",
    "build_tiny_sd_inpaint", "cro_latent_loss", "encode_triplet", "erase_with_sd", "latent_hw", "latent_loss",
    "load_cro_lora",
    "load_photos", "load_sd_inpaint", "lora_parameters", "native_size", "photo_cutouts", "photo_triplets",
    "real_photo_triplets", "save_cro_lora", "sd2_parameter_counts", "train_cro_lora",
]
