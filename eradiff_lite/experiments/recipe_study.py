"""The recipe study: short runs of the baseline at an equal budget of images, scored by fast measures.

Each arm is a set of `TrainConfig` overrides (plain data in `ARMS`); every arm trains the baseline
objective (random masks, rebuild the picture) from scratch for the same number of images, with the same
seed and the same model, then is scored on held-out scenes (`fast_scores.score_folder`) for two tasks:

- ``inpaint``: its own task. A random training-style mask on each held-out scene, truth = the scene itself.
- ``erase``: the pasted object's mask, truth = the background ``x_ori`` (how the inpainter acts as an eraser).

Each task reports masked PSNR, the share of scenes with erase ratio < 0.5 (erase task) and the
high-frequency ratio (`metrics.fill`), beside the reference fills on the same scenes. One command per arm,
so two arms run side by side on two cores::

    python -m eradiff_lite study run --arm x0_cosine --root ~/eradiff-runs/study
    python -m eradiff_lite study table --root ~/eradiff-runs/study --out data/results/recipe_study.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cliargs import Parser, count, duration
from ..paths import write_text_atomic
from ..train.config import make_config
from .fast_scores import learning_curve, reference_rows, sampler_study, score_folder

BASE = {"learning_rate": 1e-3, "warmup_steps": 200, "batch_size": 32, "fresh_scenes": True, "snr_gamma": 5.0,
        "beta_schedule": "squaredcos_cap_v2", "prediction_type": "sample", "rescale_betas_zero_snr": False}
ARMS: dict[str, dict] = {
    "x0_cosine": {},
    "eps_cosine": {"prediction_type": "epsilon"},
    "v_cosine": {"prediction_type": "v_prediction"},
    "x0_linear": {"beta_schedule": "linear"},
    "x0_cosine_unweighted": {"snr_gamma": None},
    "x0_cosine_pool2048": {"fresh_scenes": False, "train_scenes": 2048},
    "x0_cosine_zero_snr": {"rescale_betas_zero_snr": True},
    "x0_cosine_lr3e-4": {"learning_rate": 3e-4},
    # after the freeze: the frozen recipe (x0_cosine_unweighted) against its remaining alternatives
    "recipe_lr3e-4": {"snr_gamma": None, "learning_rate": 3e-4},
    "recipe_pool2048": {"snr_gamma": None, "fresh_scenes": False, "train_scenes": 2048},
}
STUDY_PROFILE = {"image_size": 64, "space_to_depth": 2, "unet_channels": (32, 64, 96),
                 "unet_layers_per_block": 1, "unet_attention_levels": (False, True, True)}


def arm_config(arm: str, images: int, profile: str = "cpu"):
    """The `TrainConfig` of ``arm`` for a budget of ``images`` (steps = images // batch size)."""
    from ..profiles import get_profile

    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}: choose one of {', '.join(ARMS)}")
    overrides = {**BASE, **ARMS[arm]}
    steps = max(1, images // overrides["batch_size"])
    prof = get_profile(profile, **STUDY_PROFILE)
    return make_config("baseline", prof, steps=steps, checkpoint_every=250, notes={"study_arm": arm}, **overrides)


def markdown_table(table: dict) -> str:
    """The study's results as Markdown (one row per arm, then the reference fills and the sampler rows)."""
    head = ("| arm | changed from the base | images | wall min (shared machine, not a timing) | inpaint PSNR dB | "
            "inpaint HF ratio | erase PSNR dB | erased % (ratio < 0.5) | erase HF ratio |")
    lines = [head, "|" + "---|" * 9]

    def cells(scores):
        i, e = scores["inpaint"], scores["erase"]
        return (f"{i['masked_psnr']:.2f} | {i['hf_ratio_median']:.2f} | {e['masked_psnr']:.2f} | "
                f"{100 * e['erased_share']:.1f} | {e['hf_ratio_median']:.2f}")

    for row in sorted(table["rows"], key=lambda r: -r["scores"]["inpaint"]["masked_psnr"]):
        changed = ", ".join(f"{k}={v}" for k, v in row["overrides"].items()) or "(the base)"
        lines.append(f"| {row['arm']} | {changed} | {row['images']} | {row['train_seconds'] / 60:.0f} | "
                     f"{cells(row['scores'])} |")
    for name, scores in table["references"].items():
        lines.append(f"| *{name}* (reference fill) | - | - | - | {cells(scores)} |")
    for row in table.get("sampler", []):
        arm = table.get("sampler_arm")
        lines.append(f"| sampler: {row['setting']} | (arm {arm}) | - | - | {cells(row['scores'])} |")
    return "\n".join(lines) + "\n"


def run_arm(arm: str, root: str | Path, images: int, resume: bool = False, time_budget_s: float | None = None,
            scenes: int = 128, seeds: int = 2) -> dict:
    """Train ``arm`` into ``root/arm`` (resuming when asked) and score it; writes ``root/arm/study.json``."""
    from ..train.loop import train

    out = Path(root) / arm
    cfg = arm_config(arm, images)
    result = train(cfg, out, resume=resume, time_budget_s=time_budget_s)
    if not result.status.startswith("finished") or result.steps_done < cfg.steps:
        print(f"{arm}: {result.status}; resume with --resume to finish before scoring")
        return {}
    record = {"arm": arm, "overrides": ARMS[arm], "images": cfg.steps * cfg.batch_size,
              "train_seconds": json.loads((out / "training.json").read_text())["total_seconds"],
              "scores": score_folder(out, scenes=scenes, seeds=seeds), "scenes": scenes, "seeds": seeds}
    _write_json(out / "study.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m eradiff_lite study", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("run", help="train and score one arm")
    p.add_argument("--arm", required=True, choices=sorted(ARMS))
    p.add_argument("--root", required=True, help="folder holding one sub-folder per arm (outside the checkout)")
    p.add_argument("--images", type=count(1), default=24576, help="training images per arm (default 24576)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--time-budget", type=duration(), default=None, help="seconds; stop at a checkpoint after it")
    p.add_argument("--scenes", type=count(2), default=128)
    p.add_argument("--seeds", type=count(1), default=2)
    p = sub.add_parser("sampler", help="score one finished arm with other sampler settings and its raw weights")
    p.add_argument("--root", required=True)
    p.add_argument("--arm", required=True, choices=sorted(ARMS))
    p.add_argument("--scenes", type=count(2), default=128)
    p = sub.add_parser("curve", help="score the EMA of every checkpoint of a run (measure vs images seen)")
    p.add_argument("--run", required=True, help="a training run folder with its checkpoints and a saved pipeline")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--scenes", type=count(2), default=128)
    p = sub.add_parser("table", help="collect every arm's study.json (and the reference fills) into one file")
    p.add_argument("--root", required=True)
    p.add_argument("--out", required=True, help="JSON file to write, e.g. data/results/recipe_study.json")
    p.add_argument("--markdown", default=None, help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    if args.action == "run":
        try:
            run_arm(args.arm, args.root, args.images, args.resume, args.time_budget, args.scenes, args.seeds)
        except KeyboardInterrupt:  # the engine checkpointed the finished step: one line, how to go on, status 130
            return interrupted(args)
        return 0
    if args.action == "curve":
        out, done = Path(args.out), []
        if out.is_file():  # extend an earlier curve of the same run on the same scenes
            earlier = json.loads(out.read_text())
            if (earlier["run"], earlier["scenes"]) != (Path(args.run).name, args.scenes):
                raise SystemExit(f"error: {out} holds the curve of run {earlier['run']!r} on {earlier['scenes']} "
                                 f"scenes: pass another --out")
            done = earlier["rows"]
        _write_json(out, {"run": Path(args.run).name, "scenes": args.scenes,
                          "rows": learning_curve(args.run, args.scenes, done=done)})
        return 0
    if args.action == "sampler":
        rows = sampler_study(Path(args.root) / args.arm, args.scenes)
        _write_json(Path(args.root) / "sampler.json", {"arm": args.arm, "scenes": args.scenes, "rows": rows})
        return 0
    rows = [json.loads(p.read_text()) for p in sorted(Path(args.root).glob("*/study.json"))]
    if not rows:
        raise SystemExit(f"error: no arm finished under {args.root}: run `study run --arm ...` first")
    scenes = rows[0]["scenes"]
    from ..profiles import describe_device

    table = {"benchmark": f"heldout scenes 0..{scenes - 1}, 64 px, both tasks, {rows[0]['seeds']} sampling seeds, "
                          f"25 DDIM steps", "device": describe_device(), "base": BASE, "rows": rows,
             "references": reference_rows(scenes, 64)}
    sampler = Path(args.root) / "sampler.json"
    if sampler.is_file():
        extra = json.loads(sampler.read_text())
        table["sampler"], table["sampler_arm"] = extra["rows"], extra["arm"]
    _write_json(Path(args.out), table)
    if args.markdown:
        write_text_atomic(args.markdown, markdown_table(table))
    print(f"wrote {len(rows)} arms to {args.out}")
    return 0


def _write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def interrupted(args) -> int:
    """After Ctrl-C in ``study run``: the command that resumes the arm (or runs it again, when no checkpoint was
    saved yet), on one line; status 130."""
    import sys

    from ..train.checkpoint import list_checkpoints

    saved = list_checkpoints(Path(args.root) / args.arm / "checkpoints")
    again = f"python -m eradiff_lite study run --arm {args.arm} --root {args.root} --images {args.images}"
    how = f"resume with: {again} --resume" if saved else f"no checkpoint yet; run it again: {again}"
    print(f"interrupted: {how}", file=sys.stderr)
    return 130
