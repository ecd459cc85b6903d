"""The mix-up schedule of Chain-Rectifying Optimization and the dynamic image (EraDiff, Sec. 4.1 and 5.1).

Along the diffusion chain the target moves from the object image to the clean image:

    lambda_t = 1 - alpha_bar_t                                   (Sec. 5.1; increases with t)
    x_mix_tilde(t) = (1 - lambda_t) * x_ori + lambda_t * x_obj   (Eq. 6, the dynamic image)
    x_mix(t) = sqrt(alpha_bar_t) * x_mix_tilde(t) + sqrt(1 - alpha_bar_t) * eps   (Eq. 7)

``lambda_0`` is about 0 (the clean target) and ``lambda_{T-1}`` about 1 (the object image): read from
T down to 0, the object fades out. A "previous" step ``s < 0`` means the clean image itself:
``alpha_bar = 1`` and ``lambda = 0``, as DDIM does with ``set_alpha_to_one=True``.
Timesteps follow diffusers: ``t`` in ``{0..T-1}``, ``alpha_bar[t] = scheduler.alphas_cumprod[t]``.
The method, and why lambda must increase with t: docs/paper_notes.md.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _check_schedule(values: Tensor, name: str) -> Tensor:
    if not isinstance(values, Tensor) or values.ndim != 1 or values.numel() < 1:
        raise ValueError(f"{name} must be a 1-D tensor with one value per timestep (e.g. "
                         f"scheduler.alphas_cumprod), got {type(values).__name__} "
                         f"{tuple(getattr(values, 'shape', ()))}")
    if not values.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {values.dtype}")
    if not bool(((values >= 0) & (values <= 1)).all()):
        raise ValueError(f"{name} must lie in [0, 1]")
    return values


def mixup_lambdas(alphas_cumprod: Tensor) -> Tensor:
    """The paper's schedule, one lambda per timestep: ``lambda_t = 1 - alpha_bar_t`` (Sec. 5.1)."""
    return 1 - _check_schedule(alphas_cumprod, "alphas_cumprod")


def constant_lambdas(num_timesteps: int, value: float = 0.5) -> Tensor:
    """The "without mix-up" ablation: the same ``lambda_t = value`` at every t (float32, [T])."""
    if num_timesteps < 1 or not 0 <= value <= 1:
        raise ValueError(f"need num_timesteps >= 1 and 0 <= value <= 1, got {num_timesteps}, {value}")
    return torch.full((num_timesteps,), float(value))


def linear_lambdas(num_timesteps: int) -> Tensor:
    """A schedule linear in t, for ablations: ``lambda_t = t / (T - 1)`` (float32, [T])."""
    if num_timesteps < 2:
        raise ValueError(f"a linear schedule needs at least 2 timesteps, got {num_timesteps}")
    return torch.arange(num_timesteps, dtype=torch.float32) / (num_timesteps - 1)


def per_item(value, like: Tensor) -> Tensor:
    """``value`` (python float, 0-d, [B] or already [B, 1, ..., 1] tensor) as a tensor that broadcasts over ``like``
    [B, ...].

    A [B] tensor becomes [B, 1, ..., 1]; a scalar stays 0-d; a [B, 1, ..., 1] tensor is kept. It takes ``like``'s
    device and dtype.
    """
    value = torch.as_tensor(value, dtype=like.dtype if like.is_floating_point() else torch.float32,
                            device=like.device)
    if value.ndim == 0:
        return value
    if value.ndim == like.ndim and value.shape[0] == like.shape[0] and all(d == 1 for d in value.shape[1:]):
        return value
    if value.ndim != 1 or value.shape[0] != like.shape[0]:
        raise ValueError(f"a per-item value must be a scalar or have one entry per batch item "
                         f"({like.shape[0]}), got shape {tuple(value.shape)}")
    return value.reshape(-1, *([1] * (like.ndim - 1)))


def alpha_bar_and_lambda_at(s, alphas_cumprod: Tensor, lambdas: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """``(alpha_bar_s, lambda_s)`` at timesteps ``s`` (int or integer tensor) that may be negative.

    ``s >= 0``: ``alphas_cumprod[s]`` and ``lambdas[s]`` (default `mixup_lambdas`);
    ``s < 0``: the clean image, ``alpha_bar = 1`` and ``lambda = 0`` (DDIM's ``set_alpha_to_one``).
    """
    _check_schedule(alphas_cumprod, "alphas_cumprod")
    lambdas = mixup_lambdas(alphas_cumprod) if lambdas is None else _check_schedule(lambdas, "lambdas")
    if lambdas.shape != alphas_cumprod.shape:
        raise ValueError(f"lambdas has {lambdas.numel()} entries but alphas_cumprod {alphas_cumprod.numel()}: "
                         f"give one lambda per timestep")
    s = torch.as_tensor(s, device=alphas_cumprod.device)
    if s.is_floating_point() or s.dtype == torch.bool:
        raise TypeError(f"timesteps must be integers, got {s.dtype}")
    if bool((s >= alphas_cumprod.numel()).any()):
        raise ValueError(f"timesteps must be below T = {alphas_cumprod.numel()}, got max {int(s.max())}")
    clean = s < 0
    index = s.clamp(min=0)
    alpha_bar = torch.where(clean, torch.ones_like(alphas_cumprod[index]), alphas_cumprod[index])
    lam = torch.where(clean, torch.zeros_like(lambdas[index]), lambdas.to(alphas_cumprod.device)[index])
    return alpha_bar, lam


def dynamic_image(x_ori: Tensor, x_obj: Tensor, lam) -> Tensor:
    """Eq. 6: ``x_mix_tilde = (1 - lam) * x_ori + lam * x_obj``; ``lam`` a scalar or one per item [B]."""
    if x_ori.shape != x_obj.shape:
        raise ValueError(f"x_ori {tuple(x_ori.shape)} and x_obj {tuple(x_obj.shape)} must have the same shape")
    lam = per_item(lam, x_ori)
    return (1 - lam) * x_ori + lam * x_obj  # Eq. 6


def noisy_mix(x_ori: Tensor, x_obj: Tensor, lam, alpha_bar, noise: Tensor) -> Tensor:
    """Eq. 7: ``x_mix = sqrt(alpha_bar) * x_mix_tilde + sqrt(1 - alpha_bar) * noise`` (scalars or [B])."""
    if noise.shape != x_ori.shape:
        raise ValueError(f"noise {tuple(noise.shape)} must have the shape of the images {tuple(x_ori.shape)}: "
                         f"draw it with torch.randn_like(x_ori)")
    alpha_bar = per_item(alpha_bar, x_ori)
    return alpha_bar.sqrt() * dynamic_image(x_ori, x_obj, lam) + (1 - alpha_bar).sqrt() * noise  # Eq. 7
