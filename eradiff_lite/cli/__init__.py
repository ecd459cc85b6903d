"""Command line: ``python -m eradiff_lite COMMAND --help``."""

from __future__ import annotations

import argparse
import os
import sys

from ..cliargs import Parser, count
from ..paths import one_line_error


def _bench_data(args) -> None:
    from ..experiments.bench.data import benchmark_scenes

    benchmark_scenes(size=args.size, count=args.count)


def _build_assets(args) -> None:
    from ..data.assets import build_assets

    index = build_assets(args.out)
    print(f"wrote {len(index)} cut-outs and their photos/textures under {args.out}")


def _course(args) -> None:
    from ..course import run_course

    run_course(profile=args.profile, only=args.only)


def _ship(args) -> None:
    from ..experiments.ablation import ShipIncomplete, ship_ablation, write_index

    notes = {"launch": args.note} if args.note else None
    try:
        shipped = ship_ablation(args.runs, args.out, notes=notes)
    except ShipIncomplete as partly:  # the index lists what did ship; the error names what did not (exit 2)
        if partly.shipped:
            print(f"shipped {', '.join(partly.shipped)} into {args.out}; index: {write_index(args.out)}")
        raise
    if not shipped:
        raise FileNotFoundError(f"no exported run (a folder with model_index.json) in {args.runs}: train with "
                                f"`python -m eradiff_lite train --variant all --out {args.runs}` first")
    print(f"shipped {', '.join(shipped)} into {args.out}; index: {write_index(args.out)}")


def _profile(args) -> None:
    import json

    from ..profiles import describe_device, get_profile

    print(json.dumps({**get_profile(args.name).to_dict(), "device": describe_device()}, indent=1))


# Commands whose module parses its own arguments: name -> ("module:function(argv)", help). Named as strings so that
# `python -m eradiff_lite profile` (or --help) does not import torch, diffusers and the metrics to start.
DELEGATED = {
    "train": ("eradiff_lite.cli.train:main", "train a lite model variant (baseline, paired, cro, cro_sra, ...)"),
    "erase": ("eradiff_lite.cli.erase:main", "erase the masked object from an image with a trained model"),
    "evaluate": ("eradiff_lite.cli.evaluate:main", "evaluate trained models on the held-out benchmark"),
    "study": ("eradiff_lite.experiments.recipe_study:main",
              "the recipe study: short equal-budget runs, scored on held-out scenes"),
    "bench-sra": ("eradiff_lite.experiments.bench.sra:main", "time and memory of SRA vs plain attention"),
    "bench-train": ("eradiff_lite.experiments.bench.train:main", "training images/s of baseline vs cro_sra"),
    "bench-cro": ("eradiff_lite.experiments.bench.cro:main", "time of the CRO loss vs the epsilon loss"),
    "bench-erase": ("eradiff_lite.experiments.bench.erase_latency:main",
                    "seconds from erase to the picture (lite model, 64 px)"),
    "sra-study": ("eradiff_lite.experiments.sra_study:main",
                  "SRA on vs off in each setting, paired on held-out scenes"),
    "train-presence": ("eradiff_lite.experiments.presence_train:main",
                       "train the presence classifier behind FID features and the second elimination opinion"),
    "capstone": ("eradiff_lite.experiments.capstone:main",
                 "fine-tune your variant under the capstone's budget, score it against cro_sra, add the class's row"),
}


def _delegate(name: str, argv: list[str]) -> int:
    import importlib

    module_name, func = DELEGATED[name][0].split(":")
    return getattr(importlib.import_module(module_name), func)(argv) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m eradiff_lite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("bench-data", help="procedural triplets per second on one core")
    p.add_argument("--size", type=count(16), default=64, help="image side in pixels (default 64)")
    p.add_argument("--count", type=count(1), default=2000, help="scenes to make (default 2000)")
    p.set_defaults(func=_bench_data)

    p = sub.add_parser("build-assets", help="rebuild data/photos, data/textures and data/cutouts")
    p.add_argument("--out", default="data", help="destination folder (default data)")
    p.set_defaults(func=_build_assets)

    p = sub.add_parser("course", help="run every notebook in order into runs/<timestamp>/")
    p.add_argument("--profile", default=None, help="smoke | cpu | gpu (default: ERADIFF_PROFILE, else by device)")
    p.add_argument("--only", nargs="*", default=None, help="notebook name prefixes to run, e.g. 01 02")
    p.set_defaults(func=_course)

    for name, (_, help_text) in DELEGATED.items():
        sub.add_parser(name, help=help_text, add_help=False)

    p = sub.add_parser("ship", help="publish finished runs as reference checkpoints (pipelines, cards, loss logs, "
                                    "the sra pointer, the index)")
    p.add_argument("--runs", required=True, help="a folder of runs, one per variant (train --variant all --out)")
    p.add_argument("--out", default="data/checkpoints", help="where they go (default data/checkpoints; never the "
                   "--runs folder itself, and only folders that ship wrote are replaced there)")
    p.add_argument("--note", default=None, help="how the runs were launched, added to each model card")
    p.set_defaults(func=_ship)

    p = sub.add_parser("profile", help="print a profile's sizes and the device")
    p.add_argument("name", nargs="?", default=None)
    p.set_defaults(func=_profile)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Every command; a failure ends in one line ``error: ...`` and exit status 2 (``--debug`` or
    ``ERADIFF_DEBUG=1``: the whole traceback instead); Ctrl-C in one line ``interrupted`` and status 130."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get("ERADIFF_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    try:
        if argv and argv[0] in DELEGATED:
            return _delegate(argv[0], argv[1:])
        args = build_parser().parse_args(argv)
        args.func(args)
        return 0
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        expected = isinstance(err, (ValueError, TypeError, OSError, RuntimeError, KeyError)) or \
            type(err).__name__ == "SafetensorError"  # a damaged weights file
        if debug or not expected:
            raise
        print(one_line_error(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
