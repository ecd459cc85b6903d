"""Stable Diffusion 2 inpainting through diffusers: the one implementation of the inpainting adapter.

The paper's base model is SD2-Inpaint (EraDiff, Sec. 5.1): a latent diffusion model whose UNet reads
9 channels, ``noisy latent (4) + mask at latent size (1) + latents of the masked image (4)``, and a
CLIP text encoder for the prompt. `SD2Inpaint` (registered as ``"sd2"``, `eradiff_lite.sd.adapter`) is what
the eraser, the LoRA and the loader go through. `load_sd_inpaint` fetches the real weights from the Hugging
Face Hub (cached under ``HF_HOME`` by huggingface_hub itself); that is what runs on a Colab GPU. Offline,
``tiny=True`` (or `build_tiny_sd_inpaint`) assembles the SAME pipeline class from tiny, randomly
initialised components built from config: every code path runs, the pictures are noise.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
from tokenizers import pre_tokenizers
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from .adapter import InpaintAdapter, adapter_for, register_adapter

#: The community mirror of SD2-Inpaint: the original ``stabilityai/stable-diffusion-2-inpainting`` was removed from
#: the Hub in November 2025. Any inpainting repository id or a local folder with the same layout works too.
SD2_INPAINT_ID = "sd2-community/stable-diffusion-2-inpainting"

# SD2-Inpaint's noise schedule (its scheduler_config.json), sampled with DDIM (eta = 0: deterministic).
SD2_SCHEDULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                     clip_sample=False, set_alpha_to_one=False, steps_offset=1, prediction_type="epsilon")

# SD2-Inpaint's own component configs (the published config.json of its unet, vae and text_encoder, the fields that
# set the weights' shapes): `sd2_parameter_counts` builds them without weights to count what the download holds.
SD2_UNET = dict(sample_size=64, in_channels=9, out_channels=4, layers_per_block=2,
                block_out_channels=(320, 640, 1280, 1280),
                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
                cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20), use_linear_projection=True)
SD2_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
               layers_per_block=2, down_block_types=("DownEncoderBlock2D",) * 4,
               up_block_types=("UpDecoderBlock2D",) * 4, sample_size=768)
SD2_TEXT = dict(vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu", projection_dim=512)


def sd2_parameter_counts() -> dict[str, int]:
    """``{"unet", "vae", "text_encoder": parameters}`` of SD2-Inpaint, its classes built from `SD2_UNET`, `SD2_VAE`
    and `SD2_TEXT` on the ``meta`` device (shapes only: no memory, no download)."""
    with torch.device("meta"):
        parts = {"unet": UNet2DConditionModel(**SD2_UNET), "vae": AutoencoderKL(**SD2_VAE),
                 "text_encoder": CLIPTextModel(CLIPTextConfig(**SD2_TEXT))}
    return {name: sum(p.numel() for p in part.parameters()) for name, part in parts.items()}


# Tiny components: the shapes of SD2-Inpaint (9 input channels, cross-attention, linear projections,
# self-attention at the high resolutions only), a few thousand times fewer weights.
TINY_UNET = dict(in_channels=9, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
                 down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                 cross_attention_dim=32, attention_head_dim=8, norm_num_groups=8, use_linear_projection=True)
TINY_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64), layers_per_block=1,
                down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                norm_num_groups=8, scaling_factor=0.18215)
TINY_TEXT = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                 projection_dim=32, max_position_embeddings=77)


def build_tiny_tokenizer(model_max_length: int = 77) -> CLIPTokenizer:
    """A CLIP tokenizer with a byte-level vocabulary and no merges, built without any file.

    Vocabulary: the 256 byte symbols, the same with CLIP's end-of-word mark ``</w>``, then the start and
    end tokens (514 ids). Any text tokenizes (one id per byte); only the ids differ from the real CLIP's.
    """
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    words = alphabet + [a + "</w>" for a in alphabet] + ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={w: i for i, w in enumerate(words)}, merges=[], model_max_length=model_max_length)


@register_adapter
class SD2Inpaint(InpaintAdapter):
    """SD2-Inpaint (`StableDiffusionInpaintPipeline`): a CLIP text encoder, a 9-channel UNet, DDIM sampling."""

    name = "sd2"
    pipeline_class = StableDiffusionInpaintPipeline
    default_model = SD2_INPAINT_ID
    load_options = dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)

    @classmethod
    def tiny(cls, seed: int = 0, image_size: int = 32) -> SD2Inpaint:
        """SD2-Inpaint's pipeline assembled from tiny random components (deterministic in ``seed``).

        The VAE halves the image side once (``vae_scale_factor`` 2 instead of SD's 8), so ``image_size``
        pixels give latents of ``image_size // 2``; the UNet's ``sample_size`` is set to match.
        """
        if image_size < 8 or image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and at least 8, got {image_size}")
        tokenizer = build_tiny_tokenizer()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            unet = UNet2DConditionModel(sample_size=image_size // 2, **TINY_UNET)
            vae = AutoencoderKL(sample_size=image_size, **TINY_VAE)
            text_encoder = CLIPTextModel(CLIPTextConfig(
                vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id, **TINY_TEXT))
        pipe = StableDiffusionInpaintPipeline(vae=vae, text_encoder=text_encoder.eval(), tokenizer=tokenizer,
                                              unet=unet, scheduler=DDIMScheduler(**SD2_SCHEDULER), **cls.load_options)
        pipe.set_progress_bar_config(leave=False)
        return cls(pipe)

    def conditioning(self, prompt: str, batch: int, size: int | None = None) -> dict[str, Any]:
        """The CLIP text encoder's hidden states, the UNet's ``encoder_hidden_states`` (the size plays no part)."""
        embeds = self.pipe.encode_prompt(prompt, self.unet.device, batch, do_classifier_free_guidance=False)[0]
        return {"encoder_hidden_states": embeds}


def load_sd_inpaint(model_id: str = SD2_INPAINT_ID, revision: str | None = None, *,
                    torch_dtype: torch.dtype = torch.float32, variant: str | None = None,
                    device: str | torch.device | None = None, tiny: bool = False, tiny_image_size: int = 32,
                    seed: int = 0) -> StableDiffusionInpaintPipeline:
    """The inpainting pipeline with a DDIM scheduler; no safety checker (the course erases objects).

    ``tiny=True`` skips the Hub and returns `build_tiny_sd_inpaint(seed, tiny_image_size)`. Otherwise the
    weights of ``model_id`` at ``revision`` come from the Hub (or its cache); when that fails, a
    RuntimeError says what to do. ``variant="fp16"`` downloads half-size files where the repo has them.
    (`SD2Inpaint.load` with the same arguments returns the adapter instead of the pipeline.)
    """
    return SD2Inpaint.load(model_id, revision, torch_dtype=torch_dtype, variant=variant, device=device, tiny=tiny,
                           tiny_image_size=tiny_image_size, seed=seed).pipe


def build_tiny_sd_inpaint(seed: int = 0, image_size: int = 32) -> StableDiffusionInpaintPipeline:
    """SD2-Inpaint's pipeline from tiny random components (`SD2Inpaint.tiny`'s pipeline)."""
    return SD2Inpaint.tiny(seed=seed, image_size=image_size).pipe


def native_size(pipe) -> int:
    """The image side the pipeline's UNet was built for: ``sample_size * vae_scale_factor`` (512 for SD2)."""
    return adapter_for(pipe).native_size
