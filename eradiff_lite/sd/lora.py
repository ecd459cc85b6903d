"""A LoRA adapter on the SD2 UNet (peft through diffusers), saved and loaded the diffusers way.

LoRA (Hu et al. 2021) freezes a weight ``W`` and learns a low-rank update: ``W x + (alpha / r) B A x`` with
``A: r x d_in``, ``B: d_out x r``; ``B`` starts at zero, so the adapted UNet starts exactly as the base one.
EraDiff fine-tunes SD2-Inpaint with CRO (Adam, lr 3e-6, A100 GPUs, Sec. 5.1; the paper does not say which
weights train). A full fine-tune does not fit a 16 GB T4, so the course's own choice is an adapter on the
attention projections. The files are diffusers' own LoRA format, written through the model's adapter
(`eradiff_lite.sd.adapter`; for SD2, ``StableDiffusionInpaintPipeline.save_lora_weights``):
``pytorch_lora_weights.safetensors``, which ``pipe.load_lora_weights(folder)`` reads back into any pipeline
with the same base model.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from diffusers.training_utils import cast_training_params
from diffusers.utils import convert_state_dict_to_diffusers, logging
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict

from .adapter import adapter_for

LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")  # every attention projection, self- and cross-attention


def add_cro_lora(unet: UNet2DConditionModel, rank: int = 4, alpha: float | None = None,
                 adapter_name: str = "cro") -> list[torch.nn.Parameter]:
    """Freeze ``unet`` and add a LoRA adapter of ``rank`` on `LORA_TARGETS`; returns its (float32) parameters."""
    if rank < 1:
        raise ValueError(f"LoRA rank must be >= 1, got {rank}")
    unet.requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=alpha or rank, init_lora_weights="gaussian",
                        target_modules=list(LORA_TARGETS))
    unet.add_adapter(config, adapter_name=adapter_name)
    cast_training_params(unet, dtype=torch.float32)  # trainable LoRA weights in fp32 even on an fp16 UNet
    return lora_parameters(unet)


def lora_parameters(unet: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The trainable parameters (the LoRA ``A`` and ``B`` matrices after `add_cro_lora`)."""
    params = [p for p in unet.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the UNet has no trainable parameter: call add_cro_lora(unet) first")
    return params


def save_cro_lora(pipe, folder: str | os.PathLike, adapter_name: str = "cro") -> Path:
    """Write the UNet's adapter with the pipeline's ``save_lora_weights`` (safetensors); returns the file.
    ``pipe``: a pipeline with a registered inpainting adapter, or the adapter."""
    model = adapter_for(pipe)
    state = get_peft_model_state_dict(model.unet, adapter_name=adapter_name)
    if not state:
        raise ValueError(f"the UNet holds no LoRA adapter named {adapter_name!r}: nothing to save")
    model.save_lora_weights(folder, convert_state_dict_to_diffusers(state))
    return Path(folder) / "pytorch_lora_weights.safetensors"


def load_cro_lora(pipe, folder: str | os.PathLike, adapter_name: str = "cro"):
    """Load a saved adapter into ``pipe`` (``load_lora_weights``) and make it the active one; returns the
    pipeline (``pipe`` itself, or the adapter's pipeline when given the adapter)."""
    pipe = adapter_for(pipe).pipe
    if not (Path(folder) / "pytorch_lora_weights.safetensors").is_file():
        raise FileNotFoundError(f"no pytorch_lora_weights.safetensors in {folder}: save one with save_cro_lora")
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # silence "no LoRA keys for the text encoder": the adapter is the UNet's only
    try:
        pipe.load_lora_weights(folder, adapter_name=adapter_name)
    finally:
        logging.set_verbosity(verbosity)
    pipe.set_adapters([adapter_name])
    return pipe
