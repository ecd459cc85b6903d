"""Chain-Rectifying Optimization on SD2-Inpaint's latents, as a LoRA fine-tune (EraDiff Sec. 4.1, Eq. 6-9).

The pixel-space loss of `eradiff_lite.cro` moves unchanged into latent space: the VAE encodes both images,
``z = scaling_factor * E(x)``, and the pathway mixes latents,

    z_mix(t) = sqrt(a_t) ((1 - lambda_t) z_ori + lambda_t z_obj) + sqrt(1 - a_t) eps,   lambda_t = 1 - a_t

The UNet's 9-channel input is SD2-Inpaint's own: ``[z_mix(t), mask at latent size, E(masked x_obj)]``,
conditioned on the empty prompt (erasing asks for no content). Only the LoRA adapter learns. On CUDA the
forward runs under fp16 autocast with a gradient scaler, on CPU in fp32; gradient checkpointing trades
compute for activation memory. The objective is a registered loss (`eradiff_lite.losses`, CRO by default): the
same object the lite model trains with, given the latents as its batch and the UNet as an epsilon `Denoiser`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers import StableDiffusionInpaintPipeline
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..cro import sample_t_gamma
from ..losses import Denoiser, Loss, resolve_loss
from ..models.lite import masked_image
from ..profiles import peak_memory
from .lora import add_cro_lora, lora_parameters


@dataclass
class LatentTriplet:
    """A batch in latent space: targets ``z_ori``/``z_obj`` and the UNet's conditioning (mask, masked, text)."""

    z_ori: torch.Tensor      # [B, 4, h, w], scaled by vae.config.scaling_factor
    z_obj: torch.Tensor      # [B, 4, h, w]
    mask: torch.Tensor       # [B, 1, h, w], 1 = erase, resized as the pipeline does (nearest)
    z_masked: torch.Tensor   # [B, 4, h, w], latents of x_obj with the hole blanked
    text: torch.Tensor       # [B, L, D], empty-prompt embeddings


@torch.no_grad()
def encode_triplet(pipe: StableDiffusionInpaintPipeline, batch: dict[str, torch.Tensor],
                   generator: torch.Generator | None = None) -> LatentTriplet:
    """Encode a batch of ``x_obj``, ``x_ori`` ([-1, 1]) and ``mask`` ([B, 1, H, W]) for the UNet."""
    vae, device = pipe.vae, pipe.unet.device
    x_obj, x_ori = (batch[k].to(device=device, dtype=vae.dtype) for k in ("x_obj", "x_ori"))
    mask = batch["mask"].to(device=device, dtype=vae.dtype)

    def encode(x: torch.Tensor) -> torch.Tensor:  # z = scaling_factor * sample of E(x)
        return vae.config.scaling_factor * vae.encode(x).latent_dist.sample(generator)

    z_obj = encode(x_obj)
    small_mask = F.interpolate(mask, size=z_obj.shape[-2:])  # the pipeline's own resize (nearest)
    text = pipe.encode_prompt("", device, x_obj.shape[0], do_classifier_free_guidance=False)[0]
    return LatentTriplet(encode(x_ori), z_obj, small_mask, encode(masked_image(x_obj, (mask > 0.5).to(mask.dtype))),
                         text)


def latent_loss(unet, latents: LatentTriplet, t: torch.Tensor, gamma: torch.Tensor, alphas_cumprod: torch.Tensor,
                noise: torch.Tensor, loss: str | Loss = "cro") -> torch.Tensor:
    """A registered loss (`eradiff_lite.losses`) on latents: the batch is ``{x_obj: z_obj, x_ori: z_ori, mask}``
    and the model the 9-channel SD2-Inpaint UNet, an epsilon predictor, as a `Denoiser`."""

    def eps_fn(z_t: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        unet_input = torch.cat([z_t, latents.mask, latents.z_masked], dim=1).to(unet.dtype)  # 4 + 1 + 4 channels
        return unet(unet_input, steps, encoder_hidden_states=latents.text.to(unet.dtype)).sample

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


def train_cro_lora(pipe: StableDiffusionInpaintPipeline, dataset: Dataset, steps: int, *, batch_size: int = 1,
                   learning_rate: float = 1e-4, rank: int = 4, gamma_max: int | None = None, seed: int = 0,
                   mixed_precision: str | None = None, gradient_checkpointing: bool = True,
                   loss: str | Loss = "cro") -> LoraRunStats:
    """Add a LoRA adapter to ``pipe.unet`` (unless it has one) and train it ``steps`` steps with ``loss`` (a
    registered loss or a variant's name, `eradiff_lite.losses`; CRO by default) on the latents.

    ``mixed_precision``: ``"fp16"`` (autocast + GradScaler, CUDA only) or ``"no"``; default fp16 on CUDA.
    """
    objective = resolve_loss(loss)
    if steps < 1 or batch_size < 1:
        raise ValueError(f"need steps >= 1 and batch_size >= 1, got {steps}, {batch_size}")
    unet, device = pipe.unet, pipe.unet.device
    precision = mixed_precision or ("fp16" if device.type == "cuda" else "no")
    if precision not in ("fp16", "no") or (precision == "fp16" and device.type != "cuda"):
        raise ValueError(f"mixed_precision {precision!r} on {device.type}: use 'fp16' on CUDA, 'no' elsewhere")
    has_lora = any(p.requires_grad for p in unet.parameters()) and getattr(unet, "peft_config", None)
    params = lora_parameters(unet) if has_lora else add_cro_lora(unet, rank=rank)
    for module in (pipe.vae, pipe.text_encoder):
        module.requires_grad_(False)
    if gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=len(dataset) >= batch_size,
                        generator=torch.Generator().manual_seed(seed))
    alphas_cumprod = pipe.scheduler.alphas_cumprod.to(device)
    stats = LoraRunStats(str(device), "fp16 autocast" if precision == "fp16" else "fp32", gradient_checkpointing,
                         batch_size, int(dataset[0]["x_ori"].shape[-1]), sum(p.numel() for p in params),
                         sum(p.numel() for p in unet.parameters()))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, batches = [], iter(())
    unet.train()
    for _ in tqdm(range(steps), desc=f"{objective.name.upper()} LoRA", leave=False):
        start = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            batches = iter(loader)
            batch = next(batches)
        latents = encode_triplet(pipe, batch, generator)
        t, gamma = sample_t_gamma(latents.z_ori.shape[0], len(alphas_cumprod), gamma_max, generator)
        noise = torch.randn(latents.z_ori.shape, generator=generator).to(device)
        with torch.autocast(device.type, dtype=torch.float16, enabled=precision == "fp16"):
            value = latent_loss(unet, latents, t.to(device), gamma.to(device), alphas_cumprod, noise, objective)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(value).backward()
        scaler.step(optimizer)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
        stats.losses.append(float(value.detach()))
    unet.eval()
    timed = times[1:] or times
    stats.seconds_per_step = sum(timed) / len(timed)
    stats.peak_memory_mb, stats.memory_kind = peak_memory(device)
    return stats
