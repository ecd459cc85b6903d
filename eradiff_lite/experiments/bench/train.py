"""``python -m eradiff_lite bench-train``: training images/s of baseline vs cro_sra, in one process.

Both variants run the same UNet, batch and optimizer; CRO calls the UNet once per example like the
epsilon loss (the DDIM jump and the targets are a few element-wise operations), so without SRA the ratio
should be near 1. ``cro_sra`` also runs SRA in the self-attention layers during training (a boolean
attention mask per layer), which is the only expected extra cost; ``cro`` is timed too to separate the
two. Rounds alternate between variants so that a busy shared machine slows them alike. A step is the training
engine's (`eradiff_lite.train.engine.fit`, as the lite loop runs it, without its hooks, clipping, schedule or EMA).
"""

from __future__ import annotations

import argparse

import torch

from ...cliargs import Parser, count
from ...models.lite import build_lite_unet, build_scheduler
from ...profiles import describe_device, get_profile
from ...train.data import TrainingScenes
from ...train.engine import Run, fit, make_accelerator
from ...train.step import variant_loss
from ...variants import get_variant
from . import seconds

BENCH_VARIANTS = ("baseline", "cro", "cro_sra")


def time_steps(variant: str, run: Run, scenes: TrainingScenes, profile, alphas_cumprod, steps: int,
               first_step: int) -> float:
    """Seconds for ``steps`` full training steps (loss, backward, optimizer) of ``variant`` on the engine."""
    spec, generator, device = get_variant(variant), torch.Generator().manual_seed(first_step), run.accelerator.device

    def batches(k: int) -> dict:
        batch = scenes.batch(k, profile.batch_size, 0, random_masks=spec.target == "image")
        return {name: v.to(device) for name, v in batch.items()}

    def loss_fn(run: Run, batch: dict) -> torch.Tensor:
        return variant_loss(spec, run.model, batch, alphas_cumprod, generator, profile.gamma_max)

    return seconds(lambda: fit(run, batches, loss_fn, range(first_step, first_step + steps), progress=False))


def benchmark(profile_name: str | None = None, steps: int = 10, rounds: int = 3, warmup: int = 2) -> dict:
    """{variant: images/s} for `BENCH_VARIANTS` plus ``ratio`` = cro_sra / baseline."""
    profile = get_profile(profile_name)
    unet = build_lite_unet(profile)
    run = Run(make_accelerator("no"), unet, torch.optim.AdamW(unet.parameters(), lr=profile.learning_rate))
    run.prepare()  # on the GPU when there is one
    alphas_cumprod = build_scheduler(profile.num_train_timesteps).alphas_cumprod.float().to(run.accelerator.device)
    scenes = TrainingScenes(max(64, profile.batch_size), profile.image_size, progress=False)
    seconds = dict.fromkeys(BENCH_VARIANTS, 0.0)
    for variant in BENCH_VARIANTS:
        time_steps(variant, run, scenes, profile, alphas_cumprod, warmup, 0)
    for r in range(rounds):
        for variant in BENCH_VARIANTS:
            seconds[variant] += time_steps(variant, run, scenes, profile, alphas_cumprod, steps, 1000 * (r + 1))
    images = rounds * steps * profile.batch_size
    rates = {v: images / s for v, s in seconds.items()}
    return {"profile": profile.name, "device": describe_device(), "batch_size": profile.batch_size,
            "steps_per_variant": rounds * steps, **{f"{v}_images_per_s": r for v, r in rates.items()},
            "ratio_cro_sra_vs_baseline": rates["cro_sra"] / rates["baseline"],
            "ratio_cro_vs_baseline": rates["cro"] / rates["baseline"]}


def main(argv: list[str] | None = None) -> int:
    p = Parser(prog="python -m eradiff_lite bench-train", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default=None, help="smoke | cpu | gpu (default: ERADIFF_PROFILE, else by device)")
    p.add_argument("--steps", type=count(1), default=10, help="timed steps per variant per round (default 10)")
    p.add_argument("--rounds", type=count(1), default=3, help="alternating rounds (default 3)")
    args = p.parse_args(argv)
    res = benchmark(args.profile, args.steps, args.rounds)
    print(f"bench-train: profile {res['profile']}, batch {res['batch_size']}, {res['steps_per_variant']} steps per "
          f"variant on {res['device']}, {torch.get_num_threads()} torch thread(s)")
    for v in BENCH_VARIANTS:
        print(f"  {v:9s} {res[f'{v}_images_per_s']:8.1f} images/s")
    print(f"  ratio cro_sra / baseline: {res['ratio_cro_sra_vs_baseline']:.2f}  "
          f"(cro / baseline: {res['ratio_cro_vs_baseline']:.2f}; 1.0 = same speed)")
    return 0
