"""Hints in tiers for the exercises that have them: ``hint(name, 1)`` the idea, ``hint(name, 2)`` the equation
(``solution(name)``, tier 3, the code). An exercise missing here still answers tier 1 with its task."""

from __future__ import annotations

from . import bootstrap_build, crobuild, erase_build, eval_build, mixing, sd_build, sra_build, train_build

TIERS: dict[str, tuple[str, str]] = {
    "texture_log2": (
        "Texture is high-frequency energy: how much each pixel differs from its four neighbours, squared, summed over "
        "the colour channels and averaged over the hole. Leave out the hole's outermost ring of pixels, where every "
        "fill meets the picture, and add a small floor to both energies so that a flat truth cannot make the ratio "
        "explode; then compare the fill's energy with the truth's on a log scale where a factor of 2 reads as 1.",
        "inner = binary_erosion(mask, iterations=1) (the whole mask if that is empty);  E(img) = mean over inner of "
        "sum_c laplace(img_c)^2;  texture_log2 = log2((E(out) + 1e-3) / (E(truth) + 1e-3))."),
    "hole_mean_loss": (
        "Only the hole's fill is ever used, so only the hole's pixels should count: add up the squared residual "
        "where the mask is 1 and divide by how many values you added (every channel of every hole pixel of the "
        "whole batch), not by the size of the picture.",
        "m = mask expanded to the residual's shape [B, C, H, W];  loss = sum(m * residual^2) / sum(m)  (as "
        "eradiff_lite.cro.region_loss(residual, mask))."),
    "mixup_lambdas": (
        "lambda is the share of the object image in the target. It must be about 0 at t = 0 (the clean end) and "
        "grow to about 1 at high noise, following the share of x_t's variance the noise has taken by step t (of "
        "variance, not of amplitude).",
        "lambda_t = 1 - alpha_bar_t (paper Sec. 5.1), elementwise over alphas_cumprod."),
    "dynamic_image": (
        "The dynamic image slides from the clean background x_ori (lam = 0) to the picture with the object x_obj "
        "(lam = 1): a blend whose two weights add up to 1. A lam with one value per batch item must broadcast over "
        "the channels and pixels of its own image.",
        "x_mix_tilde = (1 - lam) x_ori + lam x_obj (Eq. 6); a [B] lam reshaped to [B, 1, 1, 1]."),
    "paste": (
        "A pasted pixel is a mix of the cut-out and what lies under it, weighted by the cut-out's alpha: opaque "
        "pixels show the cut-out, see-through ones the background, soft edges something in between.",
        "out[y:y + h, x:x + w] = background * (1 - alpha) + rgb * alpha (alpha = cutout[..., 3:]); the rest of the "
        "background unchanged."),
    "mask_from_alpha": (
        "The mask marks the pixels to erase: where the pasted object covers more of the pixel than the background "
        "does. Faint halo pixels, mostly background, stay out.",
        "mask = alpha > 0.5 (a bool H x W array, True = erase)."),
    "composite": (
        "Paste as in my_paste, only the part of the cut-out that lands inside the picture; the mask is the pasted "
        "alpha as in my_mask. Then the pair rule: outside the mask x_obj must equal x_ori exactly, so the faint halo "
        "of soft-edged pixels that the mask leaves out goes back to the background.",
        "clip the cut-out to the picture;  x_obj = paste(background, part);  mask = alpha > 0.5 at the pasted place;  "
        "x_obj = where(mask, x_obj, background);  return (x_obj, background copy, mask)."),
    "ddim_jump": (
        "Read the clean image off x_t with the noise you are given, then noise that clean image again to time s "
        "with the SAME noise (DDIM with eta = 0 adds nothing new).",
        "x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t);  x_s = sqrt(a_s) x0_hat + sqrt(1 - a_s) eps (Eq. 8)."),
    "eps_from_x0": (
        "x_t is made of the clean image and the noise with known scales; with x_t and x0 given, solve that one line "
        "for the noise.",
        "x_t = sqrt(a) x0 + sqrt(1 - a) eps  =>  eps = (x_t - sqrt(a) x0) / sqrt(1 - a): keep the square roots."),
    "x0_kappa": (
        "The jump from t lands at s = t - gamma; CRO's best clean image is x_ori plus a share kappa of the object. "
        "kappa mixes the object's share at s and at t, each weighted by how the jump combines the two states.",
        "a_s = 1 if s < 0; p = sqrt(a_s (1 - a_t)), q = sqrt(a_t (1 - a_s));  kappa = (p lambda_s - q lambda_t) / "
        "(p - q), lambda = 1 - alpha_bar."),
    "unet_input": (
        "The UNet reads the noisy image, the mask, and the picture with the hole blanked, stacked along the channels: "
        "it must not see what is inside the hole.",
        "torch.cat([x_t, mask, x_obj * (1 - mask)], dim=1): 3 + 1 + 3 = 7 channels."),
    "ddim_step": (
        "From x_t and the model's clean image, read off the noise, then rebuild the state at the previous "
        "timestep from the clean image and that same noise (eta = 0: no new noise).",
        "eps = (x_t - sqrt(a_t) x0_hat) / sqrt(1 - a_t);  x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev) eps."),
    "masked_psnr": (
        "Only the erased pixels count: the mean squared error is taken over the mask's pixels, then turned into "
        "decibels for a data range of 1.",
        "MSE = mean((image - truth)[mask] ** 2);  PSNR = 10 log10(1 / MSE)."),
    "discordant_pairs": (
        "McNemar's test looks only at the scenes where the two models disagree: one eliminated and the other did "
        "not. Count each direction.",
        "n_ab = (a & ~b).sum() (only a), n_ba = (~a & b).sum() (only b)."),
    "eq10": (
        "Eq. 10 blocks a (query, key) pair only when both tokens lie in the hole; every background query still "
        "reads every key.",
        "allowed[b, i, j] = not (m[b, i] and m[b, j])  =  ~(m[:, :, None] & m[:, None, :])."),
    "mask_at": (
        "A token of a coarse grid covers a block of pixels; it belongs to the hole as soon as ANY of its pixels does, "
        "so that even a tiny hole keeps a token.",
        "mask_at = adaptive_max_pool2d(mask, (h, w)): max-pool the pixel mask to the grid."),
    "lora_count": (
        "A LoRA adapter adds two small matrices per layer whose product has the layer's shape; the frozen weights "
        "themselves do not count.",
        "per layer: A (rank x d_in) + B (d_out x rank) = rank * (d_in + d_out); sum over the layers."),
    "latent_mask": (
        "A latent cell stands for a block of factor x factor pixels; it is in the hole if any of its pixels is, so "
        "thin strokes survive.",
        "max_pool2d(mask, factor): max-pool by the VAE's factor."),
    "noisy_mix": mixing.HINTS,
    "cro_loss": crobuild.HINTS,
    "sra_processor": sra_build.HINTS,
    "elimination_judge": eval_build.HINTS,
    "paired_bootstrap_ci": bootstrap_build.HINTS,
    "sra_processor_sd": sd_build.HINTS,
    "training_step": train_build.HINTS,
    "erase_loop": erase_build.HINTS,
}
