"""`EraseDiffusionPipeline`: erase the masked object with a trained lite UNet and DDIM.

Sampling (deterministic DDIM, eta = 0, ``n`` steps):

- ``strength = 1``: start from pure noise ``x_T ~ N(0, I)``;
- ``strength < 1``: keep the last ``round(n * strength)`` steps and start from the noised input
  ``x_t = sqrt(a_t) x_obj + sqrt(1 - a_t) eps`` (the course probes 0.6), so the object is still
  visible at the start and must fade along the pathway;
- each step: ``out = unet([x_t, mask, masked image], t)`` (with Self-Rectifying Attention when ``sra=True``),
  then the DDIM update (Eq. 8 with s the next timestep); the scheduler's ``prediction_type`` says whether
  ``out`` is the noise, the clean image (the course's recipe) or v, and turns it into x0_hat and eps.

Known pixels: the UNet is conditioned on the masked image (as SD2-Inpaint is) and nothing is blended
during sampling; at the END the pixels outside the mask are copied back from the input, so they are
kept exactly (bit for bit, as floats in [0, 1]).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput

from ..data import to_image
from ..models.lite import LiteUNet, masked_image, unet_input
from .card import read_card, write_card
from .inputs import prepare_inputs


@dataclass
class EraseOutput(BaseOutput):
    """``images``: erased ``H x W x 3`` float arrays in [0, 1]; ``trajectory``: x_t after each step
    (B x 3 x H x W tensors in [-1, 1], the first entry the start) when asked for, else None;
    ``predicted_x0``: the model's clean-image estimate at each step (one entry per timestep run): the
    object's fading shows there, while x_t is still mostly noise."""

    images: list[np.ndarray]
    trajectory: list[torch.Tensor] | None = None
    timesteps: list[int] | None = None
    predicted_x0: list[torch.Tensor] | None = None


def _hub_id(name: str) -> bool:
    """``owner/name`` as the Hugging Face Hub spells a repository (not an absolute or dotted local path)."""
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~")) and "\\" not in name


class EraseDiffusionPipeline(DiffusionPipeline):
    """A lite inpainting UNet (7 input channels) and a DDIM scheduler; ``save_pretrained`` writes a model card."""

    def __init__(self, unet: LiteUNet, scheduler: DDIMScheduler):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        self.card: dict = {}

    # ------------------------------------------------------------------ saving and loading
    def save_pretrained(self, save_directory, *args, card: dict | None = None, **kwargs):
        """The standard diffusers save, plus ``README.md`` and ``card.json`` from ``card`` (or ``self.card``).

        Written whole or not at all: everything goes to a temporary folder beside ``save_directory`` first,
        then each item is moved into place, ``model_index.json`` (what marks a saved pipeline) last; other
        files already in ``save_directory`` (a run's checkpoints and logs) stay."""
        target = Path(save_directory)
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".save-", dir=target))
        try:
            super().save_pretrained(staging, *args, **kwargs)
            self.card = dict(card if card is not None else self.card)
            write_card(staging, self.card)
            for item in sorted(staging.iterdir(), key=lambda p: p.name == "model_index.json"):
                if (target / item.name).is_dir() and item.is_dir():
                    shutil.rmtree(target / item.name)
                os.replace(item, target / item.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """Load a saved folder, or a pipeline on the Hugging Face Hub (``owner/name``: diffusers downloads it into
        its cache, the model card too), from safetensors only; a missing one is refused in one line. diffusers
        loads the float16 files as float32 unless ``torch_dtype`` says otherwise (no ``dtype=``: diffusers < 0.40
        lacks it)."""
        name = str(pretrained_model_name_or_path)
        folder = Path(name)
        if not folder.exists() and _hub_id(name):
            try:
                folder = Path(DiffusionPipeline.download(name, allow_patterns=["*.json", "*.safetensors", "*.md",
                                                                                "*.csv"],
                                                         revision=kwargs.get("revision")))
            except (OSError, ValueError) as err:  # the Hub's errors: not found, offline, not cached, a bad id
                reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
                raise FileNotFoundError(f"no saved pipeline at {name}: no such folder, and the Hugging Face Hub "
                                        f"did not give it ({type(err).__name__}: {reason})") from err
        if not (folder / "model_index.json").is_file():
            raise FileNotFoundError(f"no saved pipeline at {folder} (model_index.json missing): train one with "
                                    f"`python -m eradiff_lite train --variant baseline --out DIR` or use a shipped "
                                    f"folder such as data/checkpoints/baseline")
        kwargs.setdefault("use_safetensors", True)
        from diffusers.utils import logging as diffusers_logging

        shown = diffusers_logging.is_progress_bar_enabled()
        diffusers_logging.disable_progress_bar()  # two small components: a "Loading pipeline components" bar is noise
        try:
            pipe = super().from_pretrained(folder, *args, **kwargs)
        finally:
            if shown:
                diffusers_logging.enable_progress_bar()
        pipe.card = read_card(folder)
        return pipe

    # ------------------------------------------------------------------ erasing
    def start_timesteps(self, num_inference_steps: int, strength: float) -> torch.Tensor:
        """The DDIM timesteps actually run: the last ``round(n * strength)`` of ``n``."""
        if not 0 < strength <= 1:
            raise ValueError(f"strength must lie in (0, 1], got {strength}")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        self.scheduler.set_timesteps(num_inference_steps)
        keep = max(1, round(num_inference_steps * strength))
        return self.scheduler.timesteps[num_inference_steps - keep:]

    @torch.no_grad()
    def __call__(self, image, mask, num_inference_steps: int = 25, strength: float = 1.0, sra: bool = False,
                 sra_rule: str = "eq10", generator: torch.Generator | None = None, return_trajectory: bool = False,
                 progress: bool = False, latents: torch.Tensor | None = None, sra_layers=None,
                 sra_timesteps: tuple[int, int] | None = None) -> EraseOutput:
        """Erase ``mask`` (white/True = erase) from ``image``; both single items or lists of the same length. A mask
        is an `EraseMask` (taken as it is) or an ``H x W`` bool array, tensor or mask picture (converted and checked
        once, here: `pipeline.inputs.prepare_inputs`).

        ``latents``: the starting noise (``B x 3 x H x W``) instead of drawing it from ``generator``, to
        repeat one image of a batch with exactly the noise it had there. ``sra_layers`` (names or prefixes)
        and ``sra_timesteps`` (inclusive range) limit where SRA acts (`sra.self_rectifying_attention`)."""
        images, masks, x_obj, mask_t = prepare_inputs(image, mask, self.unet)
        device, dtype = self._execution_device, self.unet.dtype
        x_obj, mask_t = x_obj.to(device, dtype), mask_t.to(device, dtype)
        timesteps = self.start_timesteps(num_inference_steps, strength)
        if latents is not None and tuple(latents.shape) != tuple(x_obj.shape):
            raise ValueError(f"latents must have the images' shape {tuple(x_obj.shape)}, got {tuple(latents.shape)}")
        noise = latents if latents is not None else torch.randn(x_obj.shape, generator=generator, dtype=torch.float32)
        noise = noise.to(device, dtype)
        x = noise if strength >= 1 else self.scheduler.add_noise(x_obj, noise, timesteps[:1])
        masked = masked_image(x_obj, mask_t)
        trajectory = [x.float().cpu()] if return_trajectory else None
        predicted_x0 = [] if return_trajectory else None
        context = contextlib.nullcontext()
        if sra:
            from ..sra import self_rectifying_attention

            context = self_rectifying_attention(self.unet, masks, rule=sra_rule, layers=sra_layers,
                                                timesteps=sra_timesteps)  # the EraseMasks: nothing checked again
        with context:
            for t in self.progress_bar(timesteps) if progress else timesteps:  # diffusers' bar, its config
                output = self.unet(unet_input(x, mask_t, masked), t).sample  # eps, x0 or v (scheduler config)
                step = self.scheduler.step(output, t, x, eta=0.0)
                x = step.prev_sample
                if trajectory is not None:
                    trajectory.append(x.float().cpu())
                    predicted_x0.append(step.pred_original_sample.float().cpu())
        erased = [np.where(m.array[..., None], to_image(x[i]), im).astype(np.float32)
                  for i, (im, m) in enumerate(zip(images, masks))]
        return EraseOutput(images=erased, trajectory=trajectory, timesteps=[int(t) for t in timesteps],
                           predicted_x0=predicted_x0)
