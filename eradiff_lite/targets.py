"""What the UNet predicts, and how to turn one prediction into the others.

With ``x_t = sqrt(a) x0 + sqrt(1 - a) eps`` (``a = alpha_bar_t``) a network can predict (diffusers names)

- ``"epsilon"``: the noise ``eps``;
- ``"sample"``: the clean image ``x0`` itself;
- ``"v_prediction"``: ``v = sqrt(a) eps - sqrt(1 - a) x0`` (Salimans & Ho, 2022).

Any one gives the other two, since ``x_t`` and ``a`` are known:

    from x0:  eps = (x_t - sqrt(a) x0) / sqrt(1 - a)
    from v:   x0 = sqrt(a) x_t - sqrt(1 - a) v,   eps = sqrt(1 - a) x_t + sqrt(a) v
    from eps: x0 = (x_t - sqrt(1 - a) eps) / sqrt(a)

The last line is why an epsilon model's x0 estimate explodes at high noise (it divides by sqrt(a), ~0.006
at t = 999 of the linear schedule); an x0 model's estimate never does. CRO's DDIM jump (Eq. 8) needs an
epsilon estimate: `to_epsilon` gives it for every target. The loss weighting min-SNR-gamma (Hang et al.,
2023) gives each timestep the weight ``min(SNR, gamma)`` on the x0 error, ``SNR = a / (1 - a)``; written on
the model's own target it is ``min(SNR, gamma) / SNR`` (epsilon) or ``min(SNR, gamma) / (SNR + 1)`` (v).
"""

from __future__ import annotations

import torch
from torch import Tensor

PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")
# Named weightings of the x0 error over t (``w(SNR)``, whatever the network predicts):
# - "snr+1": the unweighted v loss, = the unweighted epsilon loss (weight SNR) plus the unweighted x0 loss (1):
#   low-noise steps, where a model must remove the last grain of noise, weigh as much as an epsilon model's;
# - "max(snr,1)": truncated SNR (Salimans & Ho, 2022): the epsilon loss at low noise, the x0 loss at high noise.
X0_WEIGHTINGS = ("snr+1", "max(snr,1)")


def _check(prediction_type: str) -> None:
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, got {prediction_type!r}")


def training_target(x0: Tensor, noise: Tensor, a: Tensor, prediction_type: str) -> Tensor:
    """What the network should output for ``x_t = sqrt(a) x0 + sqrt(1 - a) noise`` (``a`` broadcastable)."""
    _check(prediction_type)
    if prediction_type == "epsilon":
        return noise
    if prediction_type == "sample":
        return x0
    return a.sqrt() * noise - (1 - a).sqrt() * x0  # v = sqrt(a) eps - sqrt(1 - a) x0


def to_epsilon(output: Tensor, x_t: Tensor, a: Tensor, prediction_type: str) -> Tensor:
    """The noise estimate implied by the network ``output`` at ``x_t``."""
    _check(prediction_type)
    if prediction_type == "epsilon":
        return output
    if prediction_type == "sample":
        return (x_t - a.sqrt() * output) / (1 - a).clamp_min(1e-8).sqrt()  # eps = (x_t - sqrt(a) x0) / sqrt(1-a)
    return (1 - a).sqrt() * x_t + a.sqrt() * output  # eps = sqrt(1 - a) x_t + sqrt(a) v


def to_sample(output: Tensor, x_t: Tensor, a: Tensor, prediction_type: str) -> Tensor:
    """The clean-image estimate x0_hat implied by the network ``output`` at ``x_t``."""
    _check(prediction_type)
    if prediction_type == "sample":
        return output
    if prediction_type == "v_prediction":
        return a.sqrt() * x_t - (1 - a).sqrt() * output  # x0 = sqrt(a) x_t - sqrt(1 - a) v
    return (x_t - (1 - a).sqrt() * output) / a.clamp_min(1e-8).sqrt()  # x0 = (x_t - sqrt(1-a) eps) / sqrt(a)


def x0_weight(a: Tensor, weighting: str) -> Tensor:
    """Per-item weight ``w`` of the squared *x0* error for a named weighting (`X0_WEIGHTINGS`)."""
    snr = a / (1 - a).clamp_min(1e-8)
    if weighting == "snr+1":
        return snr + 1
    if weighting == "max(snr,1)":
        return snr.clamp_min(1.0)
    raise ValueError(f"loss_weighting must be one of {X0_WEIGHTINGS} (or None), got {weighting!r}")


def min_snr_weight(a: Tensor, prediction_type: str, gamma: float | None) -> Tensor:
    """Per-item weight of the squared error on the model's own target (1 when ``gamma`` is None)."""
    _check(prediction_type)
    if gamma is None:
        return torch.ones_like(a)
    snr = a / (1 - a).clamp_min(1e-8)
    clipped = snr.clamp(max=gamma)
    if prediction_type == "sample":
        return clipped  # min(SNR, gamma) on the x0 error
    if prediction_type == "v_prediction":
        return clipped / (snr + 1)
    return clipped / snr.clamp_min(1e-8)
