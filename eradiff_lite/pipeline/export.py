"""Export trained weights as an `EraseDiffusionPipeline` folder (float16 safetensors + model card)."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from .pipeline import EraseDiffusionPipeline


def export_pipeline(unet, folder: str | Path, scheduler, card: dict, dtype: torch.dtype = torch.float16) -> Path:
    """Save ``unet`` (a copy cast to ``dtype``) with ``scheduler`` (the one it was trained with) into ``folder``.

    The pipeline knows nothing of how training is configured: the caller builds the scheduler
    (`train.TrainConfig.build_scheduler`)."""
    unet = torch.nn.Module.to(copy.deepcopy(unet), "cpu", dtype)  # plain cast (no diffusers warning)
    pipe = EraseDiffusionPipeline(unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder, card=card, safe_serialization=True)
    return Path(folder)
