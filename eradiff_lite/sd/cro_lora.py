"""Chain-Rectifying Optimization on SD2-Inpaint's latents, as a LoRA fine-tune (EraDiff Sec. 4.1, Eq. 6-9).

The pixel-space loss of `eradiff_lite.cro` moves unchanged into latent space: the VAE encodes both images,
``z = scaling_factor * E(x)``, and the pathway mixes latents,

    z_mix(t) = sqrt(a_t) ((1 - lambda_t) z_ori + lambda_t z_obj) + sqrt(1 - a_t) eps,   lambda_t = 1 - a_t

The UNet's 9-channel input is SD2-Inpaint's own: ``[z_mix(t), mask at latent size, E(masked x_obj)]``,
conditioned on the empty prompt (erasing asks for no content). Only the LoRA adapter learns. It trains on the
course's one training engine (`eradiff_lite.train.engine`, as the lite model does): on CUDA the loss runs under
accelerate's fp16 autocast with its gradient scaler, on CPU in fp32; gradient checkpointing trades compute for
activation memory; with a run folder, checkpoints of the adapter resume exactly and Ctrl-C saves one. The objective
is a registered loss (`eradiff_lite.losses`, CRO by default): the same object the lite model trains with, given the
latents as its batch and the UNet as an epsilon `Denoiser`.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from ..cro import sample_t_gamma
from ..losses import Denoiser, Loss, resolve_loss
from ..profiles import peak_memory
from ..train.engine import Run, checkpoints_to_resume, fit, make_accelerator, run_folder
from ..train.hooks import Checkpoints, LossHistory, StepTimer, StopOnInterrupt
from .adapter import InpaintAdapter, adapter_for
from .lora import add_cro_lora, lora_parameters


@dataclass
class LatentTriplet:
    """A batch in latent space: targets ``z_ori``/``z_obj`` and the UNet's conditioning (mask, masked, text), with
    the model's adapter (`sd.adapter.InpaintAdapter`) that made them and calls its UNet."""

    z_ori: torch.Tensor      # [B, 4, h, w], scaled by vae.config.scaling_factor
    z_obj: torch.Tensor      # [B, 4, h, w]
    mask: torch.Tensor       # [B, 1, h, w], 1 = erase, resized as the pipeline does (nearest)
    z_masked: torch.Tensor   # [B, 4, h, w], latents of x_obj with the hole blanked
    conditioning: dict[str, Any]  # the UNet's keyword arguments for the empty prompt (SD2: encoder_hidden_states)
    model: InpaintAdapter

    @property
    def text(self) -> torch.Tensor:
        """``[B, L, D]``, the empty prompt's embeddings (SD2's conditioning)."""
        return self.conditioning["encoder_hidden_states"]


@torch.no_grad()
def encode_triplet(pipe, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None) -> LatentTriplet:
    """Encode a batch of ``x_obj``, ``x_ori`` ([-1, 1]) and ``mask`` ([B, 1, H, W]) for the UNet of ``pipe`` (a
    pipeline or its adapter), through the adapter's `encode_pair`."""
    model = adapter_for(pipe)
    pair = model.encode_pair(batch, generator)
    return LatentTriplet(pair["z_ori"], pair["z_obj"], pair["mask"], pair["z_masked"], pair["conditioning"], model)


def latent_loss(unet, latents: LatentTriplet, t: torch.Tensor, gamma: torch.Tensor, alphas_cumprod: torch.Tensor,
                noise: torch.Tensor, loss: str | Loss = "cro") -> torch.Tensor:
    """A registered loss (`eradiff_lite.losses`) on latents: the batch is ``{x_obj: z_obj, x_ori: z_ori, mask}``
    and the model the inpainting UNet ``unet`` (SD2's takes 4 + 1 + 4 channels), an epsilon predictor, as a
    `Denoiser` (the adapter's `predict_noise`)."""

    def eps_fn(z_t: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        return latents.model.predict_noise(z_t, steps, latents.mask, latents.z_masked, latents.conditioning, unet=unet)

    batch = {"x_obj": latents.z_obj, "x_ori": latents.z_ori, "mask": latents.mask}
    return resolve_loss(loss)(Denoiser(eps_fn, "epsilon"), batch, t, gamma, alphas_cumprod, noise)


def cro_latent_loss(unet, latents: LatentTriplet, t: torch.Tensor, gamma: torch.Tensor,
                    alphas_cumprod: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Eq. 9 on latents: `latent_loss` with the registry's ``cro`` (`eradiff_lite.cro.cro_loss` inside)."""
    return latent_loss(unet, latents, t, gamma, alphas_cumprod, noise, "cro")


@dataclass
class LoraRunStats:
    """What a fine-tune measured, with the device and precision it ran on."""

    device: str
    precision: str
    gradient_checkpointing: bool
    batch_size: int
    image_size: int
    trainable_params: int
    total_params: int
    losses: list[float] = field(default_factory=list)
    seconds_per_step: float = float("nan")  # mean over the steps after the first (warm-up excluded)
    peak_memory_mb: float = float("nan")
    memory_kind: str = ""

    def describe(self) -> str:
        return (f"{len(self.losses)} steps, batch {self.batch_size} at {self.image_size} px, {self.precision}, "
                f"gradient checkpointing {'on' if self.gradient_checkpointing else 'off'}, device {self.device}: "
                f"{self.seconds_per_step:.3f} s/step, {self.memory_kind} {self.peak_memory_mb:.0f} MB")


class LoaderBatches:
    """The batches of a shuffled `DataLoader`, one per step, epoch after epoch. Started at step ``start`` it first
    draws and drops the batches of the steps before (cheap: no model runs), so that a resumed run sees the batches
    the first session would have seen."""

    def __init__(self, loader: DataLoader, start: int = 0):
        self.loader, self.batches = loader, iter(())
        for _ in range(start):
            self.next()

    def next(self) -> dict:
        batch = next(self.batches, None)
        if batch is None:
            self.batches = iter(self.loader)
            batch = next(self.batches)
        return batch


def train_cro_lora(pipe, dataset: Dataset, steps: int, *, batch_size: int = 1,
                   learning_rate: float = 1e-4, rank: int = 4, gamma_max: int | None = None, seed: int = 0,
                   mixed_precision: str | None = None, gradient_checkpointing: bool = True,
                   loss: str | Loss = "cro", run_dir: str | os.PathLike | None = None, resume: bool = False,
                   checkpoint_every: int = 100, progress: bool = True) -> LoraRunStats:
    """Add a LoRA adapter to the UNet of ``pipe`` (a pipeline or its `InpaintAdapter`; unless it has one) and
    train it ``steps`` steps with ``loss`` (a registered loss or a variant's name, `eradiff_lite.losses`; CRO by
    default) on the latents.

    ``mixed_precision``: ``"fp16"`` (autocast + gradient scaler, CUDA only) or ``"no"``; default fp16 on CUDA.
    ``run_dir``: a folder for the run's checkpoints (the adapter, optimizer, RNG and scaler states, every
    ``checkpoint_every`` steps and at the end), locked while it trains; Ctrl-C saves a checkpoint there, and
    ``resume=True`` continues from the newest exactly (the returned stats then cover this session's steps).
    Without it the run keeps no checkpoint, as before.
    """
    objective = resolve_loss(loss)
    if steps < 1 or batch_size < 1:
        raise ValueError(f"need steps >= 1 and batch_size >= 1, got {steps}, {batch_size}")
    if resume and run_dir is None:
        raise ValueError("resume=True needs the run_dir that holds the run's checkpoints")
    model = adapter_for(pipe)
    device = model.unet.device
    precision = mixed_precision or ("fp16" if device.type == "cuda" else "no")
    if precision not in ("fp16", "no") or (precision == "fp16" and device.type != "cuda"):
        raise ValueError(f"mixed_precision {precision!r} on {device.type}: use 'fp16' on CUDA, 'no' elsewhere")
    with run_folder(run_dir) if run_dir is not None else contextlib.nullcontext():
        return _train_lora(model, dataset, steps, batch_size, learning_rate, rank, gamma_max, seed, precision,
                           gradient_checkpointing, objective, Path(run_dir) if run_dir else None, resume,
                           checkpoint_every, progress)


def _train_lora(model: InpaintAdapter, dataset, steps, batch_size, learning_rate, rank, gamma_max, seed, precision,
                gradient_checkpointing, objective, run_dir, resume, checkpoint_every, progress) -> LoraRunStats:
    unet, device = model.unet, model.unet.device
    existing = checkpoints_to_resume(run_dir / "checkpoints", resume) if run_dir is not None else []
    has_lora = any(p.requires_grad for p in unet.parameters()) and getattr(unet, "peft_config", None)
    params = lora_parameters(unet) if has_lora else add_cro_lora(unet, rank=rank)
    for module in model.frozen_modules():
        module.requires_grad_(False)
    if gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    run = Run(make_accelerator(precision, cpu=device.type == "cpu"), unet,
              torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0), f"{objective.name.upper()} LoRA", steps,
              generator=torch.Generator().manual_seed(seed), trainable_only=True, keep_checkpoints=2,
              ckpt_dir=run_dir / "checkpoints" if run_dir is not None else None)
    run.prepare(model=False)  # the optimizer only: the pipeline's UNet stays as it is (see `Run.prepare`)
    start = run.resume(existing) if resume else 0
    loader = LoaderBatches(DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                      drop_last=len(dataset) >= batch_size,
                                      generator=torch.Generator().manual_seed(seed)), start)
    alphas_cumprod = model.alphas_cumprod.to(device)
    stats = LoraRunStats(str(device), "fp16 autocast" if precision == "fp16" else "fp32", gradient_checkpointing,
                         batch_size, int(dataset[0]["x_ori"].shape[-1]), sum(p.numel() for p in params),
                         sum(p.numel() for p in unet.parameters()))

    def batches(step: int) -> tuple:  # a batch's latents, then t, gamma and the noise, from the run's generator
        latents = encode_triplet(model, loader.next(), run.generator)
        t, gamma = sample_t_gamma(latents.z_ori.shape[0], len(alphas_cumprod), gamma_max, run.generator)
        noise = torch.randn(latents.z_ori.shape, generator=run.generator).to(device)
        return latents, t.to(device), gamma.to(device), noise

    def loss_fn(run: Run, batch: tuple) -> torch.Tensor:  # under fp16 autocast on CUDA (`engine.fit`)
        latents, t, gamma, noise = batch
        return latent_loss(run.model, latents, t, gamma, alphas_cumprod, noise, objective)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    timer = StepTimer()
    hooks = [LossHistory(stats.losses), timer]
    hooks += [Checkpoints(checkpoint_every, 2, steps)] if run_dir is not None else []
    hooks += [StopOnInterrupt()]
    unet.train()
    fit(run, batches, loss_fn, range(start, steps), hooks, progress=progress, leave=False)
    unet.eval()
    timed = timer.seconds[1:] or timer.seconds
    stats.seconds_per_step = sum(timed) / len(timed) if timed else float("nan")
    stats.peak_memory_mb, stats.memory_kind = peak_memory(device)
    return stats
