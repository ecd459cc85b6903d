"""``python -m eradiff_lite evaluate``: the ablation on the held-out benchmark, written as JSON + CSV.

Example (the shipped reference checkpoints, the cpu profile)::

    python -m eradiff_lite evaluate --models data/checkpoints --out data/results --profile cpu

Variants can be evaluated in groups (``--variants``, ``--no-classical``) into separate folders and joined
afterwards with ``--merge A/ablation.json B/ablation.json --out DIR`` (same profile, benchmark and seeds).
"""

from __future__ import annotations

import argparse

from ..cliargs import Parser, count
from ..experiments.evaluate import evaluate_profile
from ..metrics.results import format_table, merge_results, read_results, write_results
from ..metrics.scoring import load_metric_kit
from ..profiles import get_profile
from ..variants import ABLATION_ORDER, REFERENCES


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m eradiff_lite evaluate", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=None,
                   help="folders of saved pipelines, or parents of one folder per variant (default data/checkpoints)")
    p.add_argument("--out", required=True, help="folder for ablation.json and ablation.csv")
    p.add_argument("--profile", default=None, help="smoke | cpu | gpu (default: ERADIFF_PROFILE, else by device)")
    p.add_argument("--variants", nargs="+", default=list(ABLATION_ORDER), help="variants to evaluate")
    p.add_argument("--seeds", type=count(1), default=None, help="sampling seeds (default profile.eval_seeds)")
    p.add_argument("--scenes", type=count(2), default=None, help="benchmark scenes (default profile.eval_scenes)")
    p.add_argument("--steps", type=count(1), default=None, help="DDIM steps (default profile.sample_steps)")
    p.add_argument("--features", choices=("presence", "inception"), default="presence",
                   help="FID features: the course's presence classifier (offline) or Inception-v3 (downloads)")
    p.add_argument("--perceptual", choices=("presence", "lpips"), default="presence",
                   help="perceptual distance: PresenceNet-PD (offline) or LPIPS (lpips package, downloads)")
    p.add_argument("--no-classical", action="store_true", help="skip the biharmonic inpainting row")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda when available)")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                   help="instead of evaluating, join results files of disjoint variant groups into --out")
    return p


def main(argv: list[str] | None = None) -> int:
    import sys

    from ..paths import check_separate
    from ..pipeline.shipped import checkpoints_dir

    args = build_parser().parse_args(argv)
    from pathlib import Path

    inputs = [Path(p).parent for p in args.merge] if args.merge else args.models or [checkpoints_dir()]
    reads = {f"{'--merge' if args.merge else '--models'} {p}": p for p in inputs}  # a results file: its folder
    check_separate(reads, {"--out": args.out})  # before the work; write_results checks again where it writes
    if args.merge:
        results = merge_results([read_results(p) for p in args.merge], ABLATION_ORDER + REFERENCES)
        print(format_table(results))
        print(f"wrote {write_results(results, args.out, reads=reads)}")
        return 0
    profile = get_profile(args.profile)
    kit = load_metric_kit(args.features, args.perceptual)
    results, _, _ = evaluate_profile(profile, args.models, args.variants, kit=kit, seeds=args.seeds,
                                     scenes=args.scenes, steps=args.steps, device=args.device,
                                     classical=not args.no_classical)
    path = write_results(results, args.out, reads=reads)
    print(format_table(results))
    if results["missing_variants"]:
        print(f"no checkpoint found for: {', '.join(results['missing_variants'])}")
    print(f"wrote {path} and {path.with_suffix('.csv')}")
    for item, why in results["failed"].items():  # the good ones are scored; each bad one named, status 1
        print(f"error: skipped {item}: {why}", file=sys.stderr)
    return 1 if results["failed"] else 0
