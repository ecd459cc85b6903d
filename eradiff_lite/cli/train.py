"""``python -m eradiff_lite train``: train one variant of the lite model (or the whole ablation)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cliargs import Parser, count, duration, seed
from ..train.config import TrainConfig, make_config
from ..variants import TRAINED_VARIANTS, VARIANTS

EXAMPLES = """
examples:
  # 1. the baseline inpainter from scratch (base_steps of the profile)
  python -m eradiff_lite train --variant baseline --profile cpu --out runs/baseline
  # 2. EraDiff (CRO + SRA) fine-tuned from it (finetune_steps)
  python -m eradiff_lite train --variant cro_sra --profile cpu --out runs/cro_sra --init runs/baseline
  # 3. the connection dropped? continue exactly where the last checkpoint left off
  python -m eradiff_lite train --variant cro_sra --profile cpu --out runs/cro_sra --init runs/baseline --resume
  # 4. everything: baseline, then every variant fine-tuned from it, into runs/ablation/<variant>
  python -m eradiff_lite train --variant all --profile gpu --out runs/ablation
  # several GPUs: accelerate launch -m eradiff_lite train --variant baseline --profile gpu --out runs/b

Ctrl-C stops after the current step, saves a checkpoint and prints the command that resumes (exit status 130).
A run folder is locked while a process trains in it: a second one is refused.

variants:
""" + "\n".join(f"  {name:10s} {v.about}" for name, v in VARIANTS.items())


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m eradiff_lite train", description=__doc__, epilog=EXAMPLES,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", required=True, choices=(*TRAINED_VARIANTS, "all"),
                   help="what to train ('sra' needs no training: erase with the baseline and --sra)")
    p.add_argument("--out", required=True, help="output folder: checkpoints, loss_log.csv and the saved pipeline")
    p.add_argument("--profile", default=None, help="smoke | cpu | gpu (default: ERADIFF_PROFILE, else by device)")
    p.add_argument("--init", default=None, help="baseline folder the fine-tuned variants start from")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--steps", type=count(1), default=None, help="override the profile's number of steps")
    p.add_argument("--seed", type=seed(), default=None,
                   help="seed of weights, batches, timesteps and noise (default 0)")
    p.add_argument("--mixed-precision", default=None, choices=("no", "fp16", "bf16"),
                   help="accelerate mixed precision (default no)")
    p.add_argument("--time-budget", type=duration(), default=None,
                   help="seconds; stop after the step that exceeds it and export (the card states the real steps)")
    p.add_argument("--keep-checkpoints", type=count(1), default=None,
                   help="checkpoints kept (default 2; a reference run keeps all, for its learning curve)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.init:
        from ..paths import check_separate

        check_separate({"--init": args.init}, {"--out": args.out})
    options = {"seed": args.seed or 0, "mixed_precision": args.mixed_precision or "no"}
    if args.keep_checkpoints is not None:
        options["keep_checkpoints"] = args.keep_checkpoints
    if args.variant == "all":
        if args.init or args.resume:
            raise SystemExit("--variant all trains the baseline itself; --init and --resume apply to one variant")
        from ..experiments.ablation import run_ablation

        try:
            results = run_ablation(args.out, args.profile, base_budget_s=args.time_budget,
                                   finetune_budget_s=args.time_budget, progress=not args.no_progress, **options)
        except KeyboardInterrupt:
            return interrupted(Path(args.out))
        print(json.dumps(results, indent=1))
        return 0
    from ..train.hooks import TrainingDiverged
    from ..train.loop import train

    saved = Path(args.out) / "train_config.json"
    if args.resume and saved.is_file():  # a resume is the same run: its own saved settings, never today's profile
        cfg = TrainConfig.load(saved)
        asked = {"variant": args.variant, "steps": args.steps, "seed": args.seed,
                 "mixed_precision": args.mixed_precision, "keep_checkpoints": args.keep_checkpoints}
        clash = {k: v for k, v in asked.items() if v is not None and v != getattr(cfg, k)}
        if clash:
            flags = ", ".join("--" + k.replace("_", "-") for k in clash)
            raise SystemExit(f"error: --resume continues the run saved in {saved}, which has "
                             + ", ".join(f"{k}={getattr(cfg, k)!r}" for k in clash)
                             + f"; drop {flags} or train into a new --out")
    else:
        cfg = make_config(args.variant, args.profile, steps=args.steps, **options)
    if args.init:
        cfg.notes["init"] = str(args.init)
    try:
        result = train(cfg, args.out, init=args.init, resume=args.resume, time_budget_s=args.time_budget,
                       progress=not args.no_progress)
    except TrainingDiverged as err:
        print(f"{err} (loss log: {args.out}/loss_log.csv)")
        return 2
    except KeyboardInterrupt:
        return interrupted(Path(args.out))
    print(f"{result.variant}: {result.status} after {result.steps_done} steps, final loss {result.final_loss:.4g}, "
          f"{result.images_per_s} images/s on {result.device}; pipeline saved in {args.out}")
    return 0


def interrupted(out: Path) -> int:
    """After Ctrl-C: one line saying where the run stopped and the exact command that resumes it; status 130.
    ``out`` is a run folder, or an ablation's root (the variant trained last is the one interrupted)."""
    import sys

    from ..train.checkpoint import list_checkpoints

    configs = [out / "train_config.json"] if (out / "train_config.json").is_file() else \
        sorted(out.glob("*/train_config.json"), key=lambda p: p.stat().st_mtime)
    run = configs[-1].parent if configs else out
    saved = list_checkpoints(run / "checkpoints")
    if not saved:
        print(f"interrupted before the first checkpoint of {run}: nothing to resume; run the same command again",
              file=sys.stderr)
        return 130
    variant = json.loads((run / "train_config.json").read_text())["variant"]
    print(f"interrupted: checkpoint {saved[-1]} saved; resume with: python -m eradiff_lite train --variant {variant} "
          f"--out {run} --resume", file=sys.stderr)
    return 130
