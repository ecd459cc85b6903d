"""Export trained weights as an `EraseDiffusionPipeline` folder (float16 safetensors + model card)."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from ..models.lite import build_scheduler
from .pipeline import EraseDiffusionPipeline


def export_pipeline(unet, folder: str | Path, cfg, card: dict, dtype: torch.dtype = torch.float16) -> Path:
    """Save ``unet`` (a copy cast to ``dtype``) with the DDIM scheduler of ``cfg``'s profile into ``folder``."""
    unet = torch.nn.Module.to(copy.deepcopy(unet), "cpu", dtype)  # plain cast (no diffusers warning)
    scheduler = build_scheduler(cfg.model_profile.num_train_timesteps, **cfg.scheduler_settings())
    pipe = EraseDiffusionPipeline(unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder, card=card, safe_serialization=True)
    return Path(folder)
