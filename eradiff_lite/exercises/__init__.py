""""Your turn" exercises that check themselves: ``check(name, answer)`` and ``solution(name)``.

A learner writes a small function in a notebook and hands it to `check`, which runs it on inputs of its own
and compares the result with the package's reference implementation (float precision). A wrong answer gets
a hint that names the usual mistake it looks like, not just "wrong". `solution` prints one solution to read
after trying, `reference` the package's own version to compare with once it passes (`references.REFERENCES`).
The tests (tests/test_exercises.py) prove that each check accepts its solution and rejects the typical wrong
answer in `Exercise.wrong`.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from . import (
    answers,
    attention,
    bootstrap_build,
    composite,
    crobuild,
    deeper,
    diffusion,
    erase_build,
    eval_build,
    images,
    mixing,
    sd_build,
    sra_build,
    train_build,
)
from .check import NotYet
from .references import in_notebook, reference_name
from .references import reference as reference  # `reference`: public, like check
from .tiers import TIERS


@dataclass(frozen=True)
class Exercise:
    name: str
    notebook: str
    task: str
    grade: Callable  # grade(answer) -> None, raises NotYet with a hint
    solution: str  # source of one solution
    wrong: str  # source of a typical wrong answer (the tests check that it is rejected)


EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    Exercise("paste", "01_data_synthesis",
             "Write `my_paste(background, cutout, y, x)`: the RGBA cut-out alpha-composited onto the background "
             "with its top-left corner at (y, x) (it fits inside).", images.grade_paste,
             "def my_paste(background, cutout, y, x):\n    out = background.copy()\n    h, w = cutout.shape[:2]\n"
             "    a = cutout[..., 3:]\n    region = out[y:y + h, x:x + w]\n"
             "    out[y:y + h, x:x + w] = region * (1 - a) + cutout[..., :3] * a\n    return out\n",
             "def my_paste(background, cutout, y, x):\n    out = background.copy()\n    h, w = cutout.shape[:2]\n"
             "    out[y:y + h, x:x + w] = cutout[..., :3]\n    return out\n"),
    Exercise("mask_from_alpha", "01_data_synthesis",
             "Write `my_mask(alpha)`: the erase mask of a pasted object from its alpha (True = erase).",
             images.grade_mask_from_alpha, "def my_mask(alpha):\n    return alpha > 0.5\n",
             "def my_mask(alpha):\n    return alpha > 0\n"),
    Exercise("composite", "01_data_synthesis",
             "Build `my_composite(background, cutout, top_left)`: the RGBA cut-out pasted with its top-left corner "
             "at top_left = (y, x), clipped at the borders; return the triplet (x_obj, x_ori, mask).",
             composite.grade_composite,
             "def my_composite(background, cutout, top_left):\n    import numpy as np\n"
             "    (H, W), (h, w), (y, x) = background.shape[:2], cutout.shape[:2], top_left\n"
             "    y0, y1, x0, x1 = max(y, 0), min(y + h, H), max(x, 0), min(x + w, W)  # the part inside\n"
             "    part = cutout[y0 - y:y1 - y, x0 - x:x1 - x]\n    a = part[..., 3:]\n"
             "    x_obj = background.copy()\n"
             "    x_obj[y0:y1, x0:x1] = x_obj[y0:y1, x0:x1] * (1 - a) + part[..., :3] * a\n"
             "    mask = np.zeros((H, W), bool)\n    mask[y0:y1, x0:x1] = a[..., 0] > 0.5\n"
             "    x_obj = np.where(mask[..., None], x_obj, background)  # outside the mask: x_ori exactly\n"
             "    return x_obj, background.copy(), mask\n",
             "def my_composite(background, cutout, top_left):\n    import numpy as np\n"
             "    (H, W), (h, w), (y, x) = background.shape[:2], cutout.shape[:2], top_left\n"
             "    y0, y1, x0, x1 = max(y, 0), min(y + h, H), max(x, 0), min(x + w, W)\n"
             "    part = cutout[y0 - y:y1 - y, x0 - x:x1 - x]\n    x_obj = background.copy()\n"
             "    mask = np.zeros((H, W), bool)\n    mask[y0:y1, x0:x1] = part[..., 3] > 0.5\n"
             "    x_obj[mask] = part[..., :3][part[..., 3] > 0.5]  # colours copied: no alpha blending\n"
             "    return x_obj, background.copy(), mask\n"),
    Exercise("mixup_lambdas", "02_mixup_schedule",
             "Write `my_lambdas(alphas_cumprod)`: the paper's mix-up schedule, one lambda per timestep.",
             diffusion.grade_lambdas, "def my_lambdas(alphas_cumprod):\n    return 1 - alphas_cumprod\n",
             "def my_lambdas(alphas_cumprod):\n    return alphas_cumprod\n"),
    Exercise("dynamic_image", "02_mixup_schedule",
             "Write `my_dynamic_image(x_ori, x_obj, lam)` (Eq. 6); `lam` is a float or one value per batch item.",
             diffusion.grade_dynamic_image,
             "def my_dynamic_image(x_ori, x_obj, lam):\n    lam = torch.as_tensor(lam, dtype=x_ori.dtype)\n"
             "    lam = lam.reshape(-1, 1, 1, 1) if lam.ndim else lam\n    return (1 - lam) * x_ori + lam * x_obj\n",
             "def my_dynamic_image(x_ori, x_obj, lam):\n    lam = torch.as_tensor(lam, dtype=x_ori.dtype)\n"
             "    lam = lam.reshape(-1, 1, 1, 1) if lam.ndim else lam\n    return lam * x_ori + (1 - lam) * x_obj\n"),
    Exercise("noisy_mix", "02_mixup_schedule", mixing.TASK, mixing.grade_noisy_mix, mixing.SOLUTION, mixing.STUB),
    Exercise("ddim_jump", "03_cro_loss",
             "Write `my_ddim_jump(x_t, eps, a_t, a_s)` (Eq. 8): one deterministic DDIM step from t to s "
             "(a_t, a_s are alpha_bar at t and s, shaped to broadcast).",
             diffusion.grade_ddim_jump,
             "def my_ddim_jump(x_t, eps, a_t, a_s):\n    x0_hat = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()\n"
             "    return a_s.sqrt() * x0_hat + (1 - a_s).sqrt() * eps\n",
             "def my_ddim_jump(x_t, eps, a_t, a_s):\n    return (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()\n"),
    Exercise("eps_from_x0", "03_cro_loss",
             "The lite model predicts x0, but CRO's jump needs eps. Write `my_eps(x_t, x0, a)` from "
             "x_t = sqrt(a) x0 + sqrt(1 - a) eps.",
             diffusion.grade_eps_from_x0,
             "def my_eps(x_t, x0, a):\n    return (x_t - a.sqrt() * x0) / (1 - a).sqrt()\n",
             "def my_eps(x_t, x0, a):\n    return (x_t - a * x0) / (1 - a)\n"),
    Exercise("x0_kappa", "03_cro_loss",
             "Write `my_kappa(t, gamma, alphas_cumprod)`: kappa of CRO's x0 optimum, x0* = x_ori + kappa "
             "(x_obj - x_ori), at one (t, gamma), with the paper's lambda = 1 - alpha_bar (s < 0: the clean image).",
             diffusion.grade_x0_kappa,
             "def my_kappa(t, gamma, alphas_cumprod):\n    a_t = alphas_cumprod[t]\n"
             "    a_s = alphas_cumprod[t - gamma] if t >= gamma else torch.tensor(1.0, dtype=a_t.dtype)\n"
             "    p, q = (a_s * (1 - a_t)).sqrt(), (a_t * (1 - a_s)).sqrt()\n"
             "    return (p * (1 - a_s) - q * (1 - a_t)) / (p - q)\n",
             "def my_kappa(t, gamma, alphas_cumprod):\n    return 1 - alphas_cumprod[t]\n"),
    Exercise("cro_loss", "03_cro_loss", crobuild.TASK, crobuild.grade_cro_loss, crobuild.SOLUTION, crobuild.STUB),
    Exercise("unet_input", "05_training",
             "Write `my_unet_input(x_t, mask, x_obj)`: the inpainting UNet's 7 input channels.",
             diffusion.grade_unet_input,
             "def my_unet_input(x_t, mask, x_obj):\n    return torch.cat([x_t, mask, x_obj * (1 - mask)], dim=1)\n",
             "def my_unet_input(x_t, mask, x_obj):\n    return torch.cat([x_t, mask, x_obj], dim=1)\n"),
    Exercise("ddim_step", "05_training",
             "Write `my_ddim_step(x_t, x0_hat, a_t, a_prev)`: one DDIM sampling step (eta = 0) of a model that "
             "predicts the clean image.", diffusion.grade_ddim_step,
             "def my_ddim_step(x_t, x0_hat, a_t, a_prev):\n    eps = (x_t - a_t.sqrt() * x0_hat) / (1 - a_t).sqrt()\n"
             "    return a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * eps\n",
             "def my_ddim_step(x_t, x0_hat, a_t, a_prev):\n    return a_prev.sqrt() * x0_hat\n"),
    Exercise("training_step", "05_training", train_build.TASK, train_build.grade_training_step, train_build.SOLUTION,
             train_build.STUB),
    Exercise("erase_loop", "05_training", erase_build.TASK, erase_build.grade_erase_loop, erase_build.SOLUTION,
             erase_build.STUB),
    Exercise("masked_psnr", "06_evaluation",
             "Write `my_masked_psnr(image, truth, mask)`: PSNR in dB over the erased pixels only (data range 1).",
             images.grade_masked_psnr,
             "def my_masked_psnr(image, truth, mask):\n    import numpy as np\n"
             "    return float(10 * np.log10(1 / np.mean((image - truth)[mask] ** 2)))\n",
             "def my_masked_psnr(image, truth, mask):\n    import numpy as np\n"
             "    return float(10 * np.log10(1 / np.mean((image - truth) ** 2)))\n"),
    Exercise("discordant_pairs", "06_evaluation",
             "Write `my_discordant(a, b)`: McNemar's two counts for per-scene yes/no outcomes of two models "
             "(scenes only a eliminates, scenes only b eliminates).", images.grade_discordant,
             "def my_discordant(a, b):\n    return int((a & ~b).sum()), int((~a & b).sum())\n",
             "def my_discordant(a, b):\n    return int(a.sum()), int(b.sum())\n"),
    Exercise("elimination_judge", "06_evaluation", eval_build.TASK, eval_build.grade_judge, eval_build.SOLUTION,
             eval_build.STUB),
    Exercise("paired_bootstrap_ci", "06_evaluation", bootstrap_build.TASK, bootstrap_build.grade_paired_bootstrap,
             bootstrap_build.SOLUTION, bootstrap_build.STUB),
    Exercise("sra_processor", "04_sra_attention", sra_build.TASK, sra_build.grade_sra_processor,
             sra_build.SOLUTION, sra_build.STUB),
    Exercise("eq10", "04_sra_attention",
             "Write `my_allowed(m)`: Eq. 10's allowed (query, key) pairs for flattened hole masks m [B, N] "
             "(True = in the hole); return bool [B, N, N], True = may attend.", attention.grade_eq10,
             "def my_allowed(m):\n    return ~(m[:, :, None] & m[:, None, :])\n",
             "def my_allowed(m):\n    return ~m[:, None, :].expand(-1, m.shape[1], -1)\n"),
    Exercise("mask_at", "04_sra_attention",
             "Write `my_mask_at(mask, hw)`: the pixel mask [B, 1, H, W] at an attention grid hw = (h, w), so that "
             "every hole pixel reaches a token.", attention.grade_mask_at,
             "def my_mask_at(mask, hw):\n    return torch.nn.functional.adaptive_max_pool2d(mask, hw)\n",
             "def my_mask_at(mask, hw):\n    return torch.nn.functional.adaptive_avg_pool2d(mask, hw)\n"),
    Exercise("lora_count", "07_stable_diffusion",
             "Write `my_lora_count(shapes, rank)`: how many parameters a rank-`rank` LoRA adds to linear layers of "
             "(d_in, d_out) `shapes`.", attention.grade_lora_count,
             "def my_lora_count(shapes, rank):\n    return sum(rank * (d_in + d_out) for d_in, d_out in shapes)\n",
             "def my_lora_count(shapes, rank):\n    return sum(d_in * d_out for d_in, d_out in shapes)\n"),
    Exercise("latent_mask", "07_stable_diffusion",
             "Write `my_latent_mask(mask, factor)`: the pixel mask [B, 1, H, W] at the VAE's latent size "
             "(H / factor), keeping thin strokes.", attention.grade_latent_mask,
             "def my_latent_mask(mask, factor):\n    return torch.nn.functional.max_pool2d(mask, factor)\n",
             "def my_latent_mask(mask, factor):\n    return torch.nn.functional.interpolate(mask, scale_factor=1 / "
             "factor, mode='nearest')\n"),
    Exercise("sra_processor_sd", "07_stable_diffusion", sd_build.TASK, sd_build.grade_sra_processor_sd,
             sd_build.SOLUTION, sd_build.STUB),
    Exercise("texture_log2", "08_going_deeper", deeper.TEXTURE_TASK, deeper.grade_texture_log2,
             deeper.TEXTURE_SOLUTION, deeper.TEXTURE_STUB),
    Exercise("hole_mean_loss", "08_going_deeper", deeper.HOLE_TASK, deeper.grade_hole_mean_loss,
             deeper.HOLE_SOLUTION, deeper.HOLE_STUB),
)}


def check(name: str, answer) -> bool:
    """Grade ``answer`` for exercise ``name``; prints the verdict (and a hint), returns True when correct."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}: choose one of {', '.join(EXERCISES)}")
    try:
        EXERCISES[name].grade(answer)
    except NotYet as hint:
        print(f"not yet ({name}): {hint}")
        return False
    except Exception as error:  # noqa: BLE001 - a learner's crash is a verdict, not a stopped notebook
        print(f"not yet ({name}): your function raised {type(error).__name__}: {error}")
        return False
    print(f"correct ({name}): it matches the package's reference to float precision")
    print(f"compare with the package's version: reference({name!r})  ({reference_name(name)})")
    answers.save_answer(name, answer, EXERCISES[name].grade)  # in a notebook: kept for later ones (`load_answer`)
    return True


def solution(name: str) -> str | None:
    """Print one solution of exercise ``name``; return it outside a notebook (None in one: shown once)."""
    code = EXERCISES[name].solution
    print(textwrap.indent(code, "    "))
    print(f"    # the package's own version, to compare once yours passes: reference({name!r})")
    return None if in_notebook() else code


def hint(name: str, tier: int = 1) -> str | None:
    """Print hint ``tier`` of exercise ``name`` (1 the idea, 2 the equation, 3 the code: `solution`); return it outside
    a notebook (None in one, so a cell ending with it shows it once)."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}: choose one of {', '.join(EXERCISES)}")
    if tier not in (1, 2, 3):
        raise ValueError(f"tier is 1 (the idea), 2 (the equation) or 3 (the code), got {tier!r}")
    if tier == 3:
        return solution(name)
    idea, equation = TIERS.get(name, (EXERCISES[name].task, f"no equation hint for {name!r}: the Markdown above has "
                                                            f"it; solution({name!r}) shows the code"))
    text = idea if tier == 1 else equation
    print(textwrap.fill(text, 110))
    return None if in_notebook() else text


SOLUTIONS_ENV = "ERADIFF_SOLUTIONS"


def solutions_wanted(flag: bool | None = None) -> bool:
    """A notebook's ``solutions`` parameter: True runs every build exercise on its solution (CI's second run of the
    notebooks), False on the learner's code; None reads the environment variable ``ERADIFF_SOLUTIONS`` (1 = yes)."""
    if flag is not None:
        return bool(flag)
    value = os.environ.get(SOLUTIONS_ENV, "0").strip().lower()
    if value not in ("0", "1", "true", "false", ""):
        raise ValueError(f"{SOLUTIONS_ENV} is 1 (run the solutions) or 0, got {value!r}")
    return value in ("1", "true")


def solved(name: str):
    """The solution of exercise ``name`` as the function (or class) it defines: what a notebook runs in place of the
    learner's code when its ``solutions`` parameter is on."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}: choose one of {', '.join(EXERCISES)}")
    return answer_from_source(EXERCISES[name].solution)


def answer_from_source(source: str):
    """The function defined by ``source`` (what a solution or wrong answer string holds), for the tests; it sees
    ``torch``, ``np`` and notebook 05's ``unet_input_fn``, as the notebook's cells do (`answers.answer_from`)."""
    names = {"unet_input_fn": solved("unet_input")} if "unet_input_fn" in source else {}  # notebook 05's 7 channels
    return answers.answer_from(source, "<exercise>", **names)
