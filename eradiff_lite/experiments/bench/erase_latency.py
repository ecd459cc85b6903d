"""``python -m eradiff_lite bench-erase``: seconds from "erase" to the picture, one 64 px picture.

What a learner waits for after pressing "erase" in the eraser widget, with the model already loaded: the
whole pipeline call (input checks, 25 DDIM steps, compositing), measured in one process, interleaved, for
plain attention, SRA on, and the biharmonic fill the widget shows beside them. It prints each median and the
ratios, and whether the lite model meets the course's target (under 2 s at 25 steps on this machine).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ...cliargs import Parser, count
from ...data import make_scene
from ...metrics.classical import inpaint_classical
from ...profiles import describe_device, get_profile
from . import seconds

TARGET_S = 2.0


def load_or_build(model: str | None):
    """The saved pipeline ``model``, or a cpu-profile `LiteUNet` with random weights (the time is the same)."""
    from ...models.lite import build_lite_unet, build_scheduler
    from ...pipeline import EraseDiffusionPipeline

    if model and (Path(model) / "model_index.json").is_file():
        return EraseDiffusionPipeline.from_pretrained(model), model
    torch.manual_seed(0)
    return EraseDiffusionPipeline(unet=build_lite_unet(get_profile("cpu")), scheduler=build_scheduler()), \
        "a cpu-profile LiteUNet with random weights (no saved pipeline given)"


def main(argv: list[str] | None = None) -> int:
    p = Parser(prog="python -m eradiff_lite bench-erase", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="data/checkpoints/baseline", help="a saved pipeline (default the baseline)")
    p.add_argument("--steps", type=count(1), default=25, help="DDIM steps (default 25)")
    p.add_argument("--repeats", type=count(1), default=5, help="timed calls of each kind (default 5)")
    args = p.parse_args(argv)
    pipe, source = load_or_build(args.model)
    pipe.set_progress_bar_config(disable=True)
    scene = make_scene(3, pipe.unet.config.sample_size, split="heldout")
    x, m = scene.triplet.x_obj, scene.triplet.mask
    calls = {"plain": lambda: pipe(x, m, num_inference_steps=args.steps),
             "sra": lambda: pipe(x, m, num_inference_steps=args.steps, sra=True),
             "biharmonic": lambda: inpaint_classical(x, m)}
    times = {k: [] for k in calls}
    with torch.no_grad():
        for fn in calls.values():  # warm-up: the first call builds kernels and caches
            fn()
        for _ in tqdm(range(args.repeats), desc="bench-erase", leave=False):
            for key, fn in calls.items():
                times[key].append(seconds(fn))
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"model: {source}; {pipe.unet.config.sample_size} px, {args.steps} DDIM steps, "
          f"{args.repeats} timed calls each; device {describe_device()}, {torch.get_num_threads()} threads")
    for key, value in median.items():
        print(f"  {key:10s} {value:8.3f} s")
    print(f"SRA over plain: time ratio {median['sra'] / median['plain']:.2f}")
    print(f"lite (plain) over biharmonic: time ratio {median['plain'] / median['biharmonic']:.1f}")
    verdict = "meets" if median["plain"] < TARGET_S else "misses"
    print(f"lite erase {median['plain']:.2f} s: {verdict} the {TARGET_S:.0f} s target")
    return 0
