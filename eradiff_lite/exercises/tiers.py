"""Hints in tiers for the exercises that have them: ``hint(name, 1)`` the idea, ``hint(name, 2)`` the equation
(``solution(name)``, tier 3, the code). An exercise missing here still answers tier 1 with its task."""

from __future__ import annotations

from . import bootstrap_build, crobuild, erase_build, eval_build, mixing, sd_build, sra_build, train_build

TIERS: dict[str, tuple[str, str]] = {
    "mixup_lambdas": (
        "lambda is the share of the object image in the target. It must be about 0 at t = 0 (the clean end) and "
        "grow to about 1 at high noise, following how much of the clean signal the noise has already destroyed.",
        "lambda_t = 1 - alpha_bar_t (paper Sec. 5.1), elementwise over alphas_cumprod."),
    "dynamic_image": (
        "The dynamic image slides from the clean background x_ori (lam = 0) to the picture with the object x_obj "
        "(lam = 1): a blend whose two weights add up to 1. A lam with one value per batch item must broadcast over "
        "the channels and pixels of its own image.",
        "x_mix_tilde = (1 - lam) x_ori + lam x_obj (Eq. 6); a [B] lam reshaped to [B, 1, 1, 1]."),
    "noisy_mix": mixing.HINTS,
    "cro_loss": crobuild.HINTS,
    "sra_processor": sra_build.HINTS,
    "elimination_judge": eval_build.HINTS,
    "paired_bootstrap_ci": bootstrap_build.HINTS,
    "sra_processor_sd": sd_build.HINTS,
    "training_step": train_build.HINTS,
    "erase_loop": erase_build.HINTS,
}
