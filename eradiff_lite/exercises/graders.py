"""The checks behind `eradiff_lite.exercises`: each runs a learner's function on inputs of its own, compares it
with the package's reference, and raises `NotYet` with the hint of the usual mistake it matches."""

from __future__ import annotations

import torch

from ..cro import ddim_jump
from ..schedule import dynamic_image, mixup_lambdas


class NotYet(AssertionError):
    """A wrong answer; the message is the hint."""


def _schedules() -> dict[str, torch.Tensor]:
    from diffusers import DDIMScheduler

    out = {}
    for kind in ("squaredcos_cap_v2", "scaled_linear", "linear"):
        extra = {"beta_start": 0.00085, "beta_end": 0.012} if kind == "scaled_linear" else {}
        out[kind] = DDIMScheduler(num_train_timesteps=1000, beta_schedule=kind, **extra).alphas_cumprod
    return out


def _close(got, want, what: str, hints: list[tuple[torch.Tensor, str]]) -> None:
    """Pass when ``got`` equals ``want``; else the hint of the first typical mistake ``got`` equals."""
    if not isinstance(got, torch.Tensor):
        raise NotYet(f"{what}: return a torch tensor, got {type(got).__name__}")
    if got.shape != want.shape:
        raise NotYet(f"{what}: expected shape {tuple(want.shape)}, got {tuple(got.shape)} (keep one value per "
                     f"element; no reduction)")
    if torch.allclose(got.double(), want.double(), rtol=1e-5, atol=1e-6):
        return
    for looks_like, hint in hints:
        if torch.allclose(got.double(), looks_like.double(), rtol=1e-5, atol=1e-6):
            raise NotYet(f"{what}: {hint}")
    worst = (got.double() - want.double()).abs().max().item()
    raise NotYet(f"{what}: differs from the reference by up to {worst:.3g}; re-read the equation term by term")


def grade_lambdas(answer) -> None:
    for kind, ab in _schedules().items():
        got = answer(ab.clone())
        _close(got, mixup_lambdas(ab), f"on the {kind} schedule", [
            (ab, "this is alpha_bar itself: lambda must GROW with t (0 at t = 0, the clean background; "
                         "near 1 at t = T, where x_t is mostly noise)"),
            ((1 - ab).sqrt(), "this is sqrt(1 - alpha_bar), the noise's scale in x_t; lambda is 1 - alpha_bar "
                              "without the square root"),
            (1 - ab.sqrt(), "the square root is applied to alpha_bar here; lambda is 1 - alpha_bar"),
            (ab.sqrt(), "this is sqrt(alpha_bar), the clean image's scale in x_t: it FALLS with t, while lambda must "
                        "rise from 0 to 1; lambda is 1 - alpha_bar")])


def grade_dynamic_image(answer) -> None:
    g = torch.Generator().manual_seed(0)
    x_ori, x_obj = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    for lam in (0.3, torch.tensor([0.0, 0.25, 0.5, 1.0])):
        got = answer(x_ori.clone(), x_obj.clone(), lam)
        lam_b = torch.as_tensor(lam).reshape(-1, 1, 1, 1) if torch.as_tensor(lam).ndim else torch.as_tensor(lam)
        _close(got, dynamic_image(x_ori, x_obj, lam), f"with lam = {lam}", [
            (lam_b * x_ori + (1 - lam_b) * x_obj, "x_ori and x_obj are swapped: at lam = 0 the dynamic image "
                                                  "is the clean background x_ori"),
            (x_ori + lam_b * x_obj, "the weights must add up to 1: (1 - lam) * x_ori + lam * x_obj")])


def grade_ddim_jump(answer) -> None:
    g = torch.Generator().manual_seed(1)
    x_t, eps = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a_t, a_s = torch.tensor([0.2, 0.5, 0.9]), torch.tensor([0.4, 0.8, 0.99])
    got = answer(x_t.clone(), eps.clone(), a_t.reshape(-1, 1, 1, 1), a_s.reshape(-1, 1, 1, 1))
    at, as_ = a_t.reshape(-1, 1, 1, 1), a_s.reshape(-1, 1, 1, 1)
    x0_no_sqrt = (x_t - (1 - at) * eps) / at
    _close(got, ddim_jump(x_t, eps, a_t, a_s), "the jump", [
        ((x_t - (1 - at).sqrt() * eps) / at.sqrt(), "this is x0_hat, the clean estimate: the jump goes on to "
                                                          "time s, sqrt(a_s) x0_hat + sqrt(1 - a_s) eps"),
        (as_.sqrt() * x0_no_sqrt + (1 - as_).sqrt() * eps, "x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t): "
                                                                   "both square roots are missing"),
        (as_ * (x_t - (1 - at).sqrt() * eps) / at.sqrt() + (1 - as_) * eps,
         "the square roots on a_s are missing: sqrt(a_s) x0_hat + sqrt(1 - a_s) eps")])


def grade_eps_from_x0(answer) -> None:
    g = torch.Generator().manual_seed(2)
    x_t, x0 = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    a = torch.tensor([0.1, 0.5, 0.95]).reshape(-1, 1, 1, 1)
    want = (x_t - a.sqrt() * x0) / (1 - a).sqrt()
    _close(answer(x_t.clone(), x0.clone(), a), want, "eps from x0", [
        ((x_t - a * x0) / (1 - a), "x_t = sqrt(a) x0 + sqrt(1 - a) eps: keep the square roots when solving "
                                   "for eps"),
        ((x_t - (1 - a).sqrt() * x0) / a.sqrt(), "that solves for x0 given eps; here x0 is given: "
                                                         "eps = (x_t - sqrt(a) x0) / sqrt(1 - a)")])


def grade_unet_input(answer) -> None:
    from ..models.lite import masked_image, unet_input

    g = torch.Generator().manual_seed(3)
    x_t, x_obj = torch.randn(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g) * 2 - 1
    mask = (torch.rand(2, 1, 8, 8, generator=g) > 0.7).float()
    _close(answer(x_t.clone(), mask.clone(), x_obj.clone()), unet_input(x_t, mask, masked_image(x_obj, mask)),
           "the 7-channel input", [
               (torch.cat([x_t, mask, x_obj], 1), "the third part must hide the hole: x_obj * (1 - mask), or the model "
                                                  "sees the object it should erase"),
               (torch.cat([x_t, mask, x_obj * mask], 1), "that keeps only the hole; the masked image keeps everything "
                                                         "BUT the hole: x_obj * (1 - mask)"),
               (torch.cat([mask, x_t, x_obj * (1 - mask)], 1), "the order matters: x_t first, then the mask, then the "
                                                               "masked image")])


def grade_ddim_step(answer) -> None:
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="sample", clip_sample=False,
                              timestep_spacing="trailing")
    scheduler.set_timesteps(10)
    t, prev = int(scheduler.timesteps[3]), int(scheduler.timesteps[4])
    a_t, a_prev = scheduler.alphas_cumprod[t], scheduler.alphas_cumprod[prev]
    g = torch.Generator().manual_seed(4)
    x_t, x0_hat = torch.randn(2, 3, 8, 8, generator=g), torch.randn(2, 3, 8, 8, generator=g)
    want = scheduler.step(x0_hat, t, x_t, eta=0.0).prev_sample
    eps = (x_t - a_t.sqrt() * x0_hat) / (1 - a_t).sqrt()
    _close(answer(x_t.clone(), x0_hat.clone(), a_t, a_prev), want, f"the step t={t} -> {prev}", [
        (x0_hat, "that jumps straight to the clean estimate; DDIM goes to the previous timestep: "
                 "sqrt(a_prev) x0_hat + sqrt(1 - a_prev) eps"),
        (a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * (x_t - a_t * x0_hat) / (1 - a_t),
         "eps = (x_t - sqrt(a_t) x0_hat) / sqrt(1 - a_t): the square roots are missing"),
        (a_prev.sqrt() * x0_hat, "the noise direction is missing: + sqrt(1 - a_prev) eps, with eps from x_t and "
                                 "x0_hat"),
        (a_t.sqrt() * x0_hat + (1 - a_t).sqrt() * eps, "that rebuilds x_t itself: use alpha_bar of the PREVIOUS "
                                                       "timestep")])


def grade_masked_psnr(answer) -> None:
    import numpy as np

    from ..metrics.coherence import masked_psnr

    rng = np.random.default_rng(5)
    image, truth = rng.random((16, 16, 3)), rng.random((16, 16, 3))
    mask = np.zeros((16, 16), bool)
    mask[4:10, 3:12] = True
    got = answer(image.copy(), truth.copy(), mask.copy())
    want = masked_psnr(image, truth, mask)
    whole = 10 * np.log10(1 / np.mean((image - truth) ** 2))
    if not isinstance(got, (float, int, np.floating)):
        raise NotYet(f"masked PSNR: return one number (dB), got {type(got).__name__}")
    if abs(got - want) < 1e-6:
        return
    if abs(got - whole) < 1e-6:
        raise NotYet("masked PSNR: that is the PSNR of the whole image; average the squared error over the "
                     "mask's pixels only: (image - truth)[mask]")
    if abs(got - 20 * np.log10(1 / np.mean((image - truth)[mask] ** 2))) < 1e-6:
        raise NotYet("masked PSNR: PSNR = 10 log10(1 / MSE) for a data range of 1 (20 log10 goes with the RMSE)")
    raise NotYet(f"masked PSNR: {got:.4f} dB, expected {want:.4f} dB; PSNR = 10 log10(1 / MSE) over the mask")


def grade_discordant(answer) -> None:
    import numpy as np

    from ..metrics.paired import mcnemar

    rng = np.random.default_rng(6)
    a, b = rng.random(40) < 0.6, rng.random(40) < 0.4
    want = mcnemar(a, b)
    got = answer(a.copy(), b.copy())
    if tuple(got) == (want["n_ab"], want["n_ba"]):
        return
    if tuple(got) == (int((a & b).sum()), int((~a & ~b).sum())):
        raise NotYet("discordant pairs: those are the AGREEING scenes (both or neither); McNemar counts the scenes "
                     "where only a succeeds and where only b succeeds")
    if tuple(got) == (int(a.sum()), int(b.sum())):
        raise NotYet("discordant pairs: those are the two totals; pair the scenes: (a & ~b).sum(), (~a & b).sum()")
    raise NotYet(f"discordant pairs: got {tuple(got)}, expected ({want['n_ab']}, {want['n_ba']})")


def grade_paste(answer) -> None:
    import numpy as np

    from ..data.compose import paste

    rng = np.random.default_rng(7)
    background = rng.random((12, 12, 3)).astype(np.float32)
    cutout = rng.random((5, 4, 4)).astype(np.float32)
    cutout[..., 3] = np.where(rng.random((5, 4)) > 0.5, 1.0, 0.3)  # opaque and half-transparent pixels
    got = answer(background.copy(), cutout.copy(), 3, 6)
    want = paste(background, cutout, (3, 6))[0]
    top = background.copy()
    top[3:8, 6:10] = cutout[..., :3]
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        raise NotYet(f"paste: return an H x W x 3 array like the background {want.shape}")
    if np.allclose(got, want, atol=1e-6):
        return
    if np.allclose(got, top, atol=1e-6):
        raise NotYet("paste: the cut-out's pixels were copied over; blend with its alpha: "
                     "background * (1 - alpha) + rgb * alpha, so half-transparent edges stay soft")
    raise NotYet("paste: inside the box, out = background * (1 - alpha) + cutout_rgb * alpha; outside it the "
                 "background is unchanged")


def grade_mask_from_alpha(answer) -> None:
    import numpy as np

    from ..data.compose import mask_from_alpha

    alpha = np.random.default_rng(8).random((10, 10)).astype(np.float32)
    got = answer(alpha.copy())
    want = mask_from_alpha(alpha)
    if not isinstance(got, np.ndarray) or got.dtype != bool:
        raise NotYet("mask from alpha: return a boolean H x W array (True = erase)")
    if np.array_equal(got, want):
        return
    if np.array_equal(got, alpha > 0):
        raise NotYet("mask from alpha: any alpha > 0 counts here, so faint halo pixels are erased too; "
                     "the course erases where the object covers more than half: alpha > 0.5")
    if np.array_equal(got, ~want):
        raise NotYet("mask from alpha: inverted: True must mark the OBJECT (alpha > 0.5)")
    raise NotYet("mask from alpha: True where alpha > 0.5")


def grade_eq10(answer) -> None:
    from ..sra.masks import sra_allowed

    m = torch.tensor([[True, False, True, False, False], [False, False, False, True, True]])
    got = answer(m.clone())
    want = sra_allowed(m, "eq10")
    if not isinstance(got, torch.Tensor) or got.shape != want.shape or got.dtype != torch.bool:
        raise NotYet(f"Eq. 10: return a bool tensor [B, N, N] = {tuple(want.shape)} (True = may attend)")
    if torch.equal(got, want):
        return
    if torch.equal(got, sra_allowed(m, "keys")):
        raise NotYet("Eq. 10: that is Attentive Eraser's rule (no query reads a hole key); EraDiff blocks a pair only "
                     "when BOTH the query and the key are in the hole, so background queries read everything")
    if torch.equal(got, ~want):
        raise NotYet("Eq. 10: inverted: True must mean 'allowed'; blocked = m_i and m_j")
    raise NotYet("Eq. 10: allowed[b, i, j] = not (m[b, i] and m[b, j])")


def grade_mask_at(answer) -> None:
    from ..sra.masks import mask_at

    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 5:7, 9:10] = 1  # a small hole: 2 x 1 pixels
    got = answer(mask.clone(), (4, 4))
    want = mask_at(mask, (4, 4))
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise NotYet(f"mask at a grid: return [B, 1, h, w] = {tuple(want.shape)}")
    if torch.allclose(got.float(), want):
        return
    average = torch.nn.functional.adaptive_avg_pool2d(mask, (4, 4))
    if torch.allclose(got.float(), average) or torch.allclose(got.float(), (average > 0.5).float()):
        raise NotYet("mask at a grid: averaging (or a majority vote) loses small holes at coarse grids; a token is "
                     "in the hole if ANY of its pixels is: max-pool")
    raise NotYet("mask at a grid: max-pool the pixel mask to (h, w): torch.nn.functional.adaptive_max_pool2d")


def grade_lora_count(answer) -> None:
    from peft import LoraConfig, inject_adapter_in_model

    shapes = [(320, 320), (320, 768), (640, 640), (1280, 320)]
    for rank in (1, 4):
        model = torch.nn.Sequential(*[torch.nn.Linear(i, o, bias=True) for i, o in shapes])
        model = inject_adapter_in_model(LoraConfig(r=rank, target_modules=[str(k) for k in range(len(shapes))]),
                                        model)
        want = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
        got = answer(list(shapes), rank)
        if got == want:
            continue
        if got == sum(i * o for i, o in shapes):
            raise NotYet("LoRA count: that is the frozen layers' own weights; the adapter adds A (rank x d_in) and "
                         "B (d_out x rank) per layer")
        if got == sum(rank * i for i, _ in shapes) or got == sum(rank * o for _, o in shapes):
            raise NotYet("LoRA count: only one of the two matrices is counted; A is rank x d_in and B is "
                         "d_out x rank")
        raise NotYet(f"LoRA count: rank {rank}: got {got}, expected {want}: sum over layers of rank * (d_in + d_out)")


def grade_latent_mask(answer) -> None:
    from ..sra.masks import mask_at

    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 10:13, 30:45] = 1  # a thin stroke: 3 pixels tall
    got = answer(mask.clone(), 8)
    want = mask_at(mask, (8, 8))
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise NotYet(f"latent mask: return [B, 1, H / 8, W / 8] = {tuple(want.shape)}")
    if torch.allclose(got.float(), want):
        return
    nearest = torch.nn.functional.interpolate(mask, size=(8, 8), mode="nearest")
    if torch.allclose(got.float(), nearest) or torch.allclose(got.float(), torch.zeros_like(want)):
        raise NotYet("latent mask: nearest-neighbour resizing samples one pixel per latent and misses thin strokes; "
                     "a latent is in the hole if any of its 8 x 8 pixels is: max-pool by the VAE's factor")
    raise NotYet("latent mask: torch.nn.functional.max_pool2d(mask, factor)")
