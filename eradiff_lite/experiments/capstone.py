"""The capstone: design your own erasing variant and beat ``cro_sra`` on held-out scenes within a fixed budget.

    OMP_NUM_THREADS=1 python -m eradiff_lite capstone assignments/capstone/my_variant.py --team NAME

One command, five steps, no new statistics: (1) import the variant file (it registers a loss and a variant, named
``VARIANT``); (2) fine-tune it from the shipped baseline with `train.train` for exactly the `Budget`'s steps (the
clock is reported, never a stopping rule: ``--max-seconds`` is a safety stop, and a row it stopped is not official);
(3) erase the held-out subset (``heldout-v1``, scenes ``0 .. scenes-1``) with it and with the shipped ``cro_sra``,
the same starting noise for both (`experiments.evaluate.erase_benchmark`), from pure noise (strength 1, the official
comparison) and from the noised input (`NOISED_INPUT`, 0.6); (4) score both and compare them scene by scene
(`metrics.results.paired_stats`), and so with the starter at the same budget where the budget and benchmark are its
(`capstone_rules.STARTER_FILE`: evidence, never the verdict); (5) append one row to the class's table
(`capstone_table`: its verdict from strength 1, its ``s06_*`` columns from 0.6, ``starter_*`` from the starter).
The rules (budgets, strengths, the variant file's checks, the starter's file, what makes a row official: its profile's
budget unchanged, from the shipped baseline, every step) are in `capstone_rules`; this module runs and scores.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..paths import data_dir, write_text_atomic
from ..profiles import default_profile_name, describe_device
from ..variants import Variant
from .capstone_rules import (
    BUDGETS,
    NOISED_INPUT,
    STARTER_FILE,
    STRENGTHS,
    Budget,
    budget_name,
    check_strengths,
    check_variant,
    equal_budget_starter,
    load_variant_file,
    ship_starter,
    why_not_official,
)
from .capstone_table import append_row, class_row

__all__ = ["REFERENCE", "CapstoneInterrupted", "compare", "fine_tune", "main", "run_capstone"]

REFERENCE = "cro_sra"  # the shipped variant a capstone row is compared with


class CapstoneInterrupted(KeyboardInterrupt):
    """Ctrl-C during the capstone's fine-tune; ``out``: its run folder, where the engine saved a checkpoint after the
    step it was in (`train.train`), so that ``--resume`` continues it."""

    def __init__(self, out: Path):
        super().__init__(str(out))
        self.out = Path(out)


def bar_loss_averaging(bar: Path | None = None) -> dict:
    """Where the shipped bar (``cro_sra``) averaged its loss (its saved ``train_config.json``; a config from before
    the option means the whole picture), so that a variant is fine-tuned like the model it is compared with."""
    saved = Path(bar or data_dir() / "checkpoints" / "cro_sra") / "train_config.json"
    config = json.loads(saved.read_text()) if saved.is_file() else {}
    return {"loss_region": config.get("loss_region", "image"), "gradient_weight": config.get("gradient_weight", 0.0)}


def fine_tune(variant: Variant, budget: Budget, out: Path, init: Path, progress: bool = True,
              max_seconds: float | None = None, resume: bool = False):
    """`train.train` of ``variant`` from ``init`` for the budget's steps (the cpu profile's model: the baseline's);
    ``max_seconds``, a learner's safety stop, ends it after the step that passes that much clock; ``resume``
    continues from the newest checkpoint in ``out`` (a Ctrl-C saved one), with the same settings."""
    from ..train import make_config, train

    cfg = make_config(variant.name, "cpu", steps=budget.steps, batch_size=budget.batch_size,
                      checkpoint_every=budget.steps, keep_checkpoints=1,
                      notes={"capstone": asdict(budget), "init": str(init), "max_seconds": max_seconds},
                      **bar_loss_averaging())
    threads = torch.get_num_threads()
    torch.set_num_threads(budget.threads)
    try:
        return train(cfg, out, init=init, resume=resume, time_budget_s=max_seconds, progress=progress)
    finally:
        torch.set_num_threads(threads)


def reference_row(budget: Budget, bench, kit, cache: Path, device: str, strength: float = 1.0) -> dict:
    """The shipped ``cro_sra`` scored on the subset at ``strength`` (cached by its weights, the subset, the sampling
    and the strength: the strength-1 file keeps the name it had before the 0.6 comparison existed)."""
    from ..pipeline.shipped import resolve_variant
    from .evaluate import weights_digest

    folder, sra = resolve_variant(REFERENCE)
    at = "" if strength == 1 else f"_strength{strength:g}"
    key = f"{REFERENCE}_{weights_digest(folder)}_{budget.scenes}x{budget.seed}x{budget.sample_steps}{at}.json"
    if (cache / key).is_file():
        return json.loads((cache / key).read_text())
    row = score_model(REFERENCE, folder, sra, budget, bench, kit, device, strength)
    cache.mkdir(parents=True, exist_ok=True)
    write_text_atomic(cache / key, json.dumps(row) + "\n")
    return row


def score_model(name: str, folder: Path, sra: bool, budget: Budget, bench, kit, device: str,
                strength: float = 1.0) -> dict:
    """One results row (`evaluate.table_row`) of a pipeline folder erasing the subset with the budget's seed, from
    pure noise (``strength`` 1) or from the input noised to ``strength`` of the schedule (the same noise)."""
    from ..metrics.scoring import score_outputs
    from .evaluate import erase_benchmark, load_pipeline, table_row

    pipe = load_pipeline(folder, device)
    erased = erase_benchmark(pipe, bench, budget.sample_steps, budget.seed, sra=sra, strength=strength)
    score = score_outputs(bench, erased, kit)
    row = table_row(name, [score], {"folder": folder, "sra": sra}, [budget.seed], budget.sample_steps)
    return {**row, "strength": strength}


def compare(mine: dict, reference: dict) -> dict:
    """``mine`` against ``reference`` (``cro_sra``, or the starter) scene by scene (`metrics.results.paired_stats`):
    two rows of `score_model` that erased the same scenes with the same noise at the same strength."""
    from ..metrics.results import paired_stats

    return paired_stats({"rows": [mine, reference]}, mine["variant"], reference["variant"])


def run_capstone(source: str | Path, team: str, budget: Budget, out: Path | None = None,
                 table: Path | None = None, init: Path | None = None, profile: str | None = None,
                 device: str | None = None, progress: bool = True, max_seconds: float | None = None,
                 resume: bool = False, strengths=STRENGTHS, starter: Path | None = None) -> dict:
    """Fine-tune, score against ``cro_sra``, append the class's row; returns ``{"row", "results", "paired",
    "noised_input", "starter"}`` (``noised_input`` ``None`` where ``strengths`` leaves out `NOISED_INPUT`; ``starter``:
    `capstone_rules.equal_budget_starter` of the file ``starter`` (default: shipped), its rows compared with mine).

    ``profile`` names the budget the row claims (default: the `BUDGETS` entry equal to ``budget``); the row is
    official when ``budget`` is that profile's, ``init`` the shipped baseline, and every step ran (`why_not_official`:
    a run the safety stop ``max_seconds`` ended is scored, not official). ``resume`` continues a fine-tune that a
    Ctrl-C stopped (`CapstoneInterrupted`). ``strengths``: 1 (the official comparison) and `NOISED_INPUT` (default)."""
    from ..metrics.benchmark import load_benchmark
    from ..metrics.scoring import load_metric_kit

    strengths = check_strengths(strengths)
    variant, digest = load_variant_file(source)
    check_variant(variant)
    init = Path(init) if init else data_dir() / "checkpoints" / "baseline"
    profile = budget_name(budget, profile)
    root = Path("runs") / "capstone"
    out = Path(out) if out else root / f"{team}-{variant.name}"
    try:
        result = fine_tune(variant, budget, out, init, progress, max_seconds, resume=resume)
    except KeyboardInterrupt:
        raise CapstoneInterrupted(out) from None
    if not result.status.startswith("finished"):
        raise RuntimeError(f"the fine-tune of {variant.name!r} ended: {result.status}; nothing to score")
    why = why_not_official(budget, profile, init, result.steps_done, max_seconds)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    bench, kit = load_benchmark(scenes=budget.scenes, size=64), load_metric_kit()
    mine = score_model(variant.name, out, variant.sra_at_inference, budget, bench, kit, device)
    cache = out.parent / "reference_cache"
    reference = reference_row(budget, bench, kit, cache, device)
    results = {"profile": "capstone", "device": describe_device(), "benchmark": bench.describe(),
               "feature_extractors": kit.names(), "budget": {"name": profile, **asdict(budget)},
               "max_seconds": max_seconds, "rows": [mine, reference]}
    paired = compare(mine, reference)
    noised = None
    if NOISED_INPUT in strengths:  # the second comparison: both erase the same scenes from the noised input
        rows = [score_model(variant.name, out, variant.sra_at_inference, budget, bench, kit, device, NOISED_INPUT),
                reference_row(budget, bench, kit, cache, device, NOISED_INPUT)]
        noised = {"strength": NOISED_INPUT, "rows": rows, "paired": compare(*rows)}
    vs = equal_budget_starter(budget, bench.describe(), starter)  # the equal-budget comparison, where one is made
    vs |= {at: r and vs[at] and {"rows": [r, vs[at]], "paired": compare(r, vs[at])}
           for at, r in (("1", mine), ("0.6", noised and noised["rows"][0]))}
    row = class_row(team, variant, digest, result, budget, profile, why, mine, reference, paired, noised, vs)
    saved = {at: v["paired"] if isinstance(v, dict) else v for at, v in vs.items()}
    write_text_atomic(out / "capstone.json", json.dumps({**results, "paired": paired, "noised_input": noised,
                                                         "starter": saved, "row": row}, indent=1) + "\n")
    append_row(Path(table) if table else root / ("smoke.csv" if profile == "smoke" else "results.csv"), row)
    return {"row": row, "results": results, "paired": paired, "noised_input": noised, "train": result, "starter": vs}


def interrupted(out: Path, argv: list[str]) -> int:
    """After Ctrl-C in the fine-tune: one line naming the command that goes on (with ``--resume`` where the engine
    saved a checkpoint in ``out``, else the same command, which starts the run folder anew); status 130."""
    from ..train.checkpoint import list_checkpoints

    command = "python -m eradiff_lite capstone " + shlex.join(a for a in argv if a != "--resume")
    saved = list_checkpoints(out / "checkpoints")
    if saved:
        print(f"interrupted: checkpoint {saved[-1]} saved; resume with: {command} --resume", file=sys.stderr)
    else:
        print(f"interrupted before the first checkpoint of {out}: nothing to resume; run the same command again "
              f"(it starts the run folder anew): {command}", file=sys.stderr)
    return 130


def main(argv: list[str] | None = None) -> int:
    from ..cliargs import Parser, count, duration, number

    argv = sys.argv[1:] if argv is None else list(argv)
    p = Parser(prog="python -m eradiff_lite capstone", description=__doc__.split("\n\n")[0])
    p.add_argument("variant", help="your variant file (assignments/capstone/my_variant.py), or a registered variant "
                                   "(with --ship-starter: the starter's official capstone.json)")
    p.add_argument("--team", default="anonymous", help="your name or team's, as the class table shows it")
    p.add_argument("--profile", default=None, help="smoke | cpu | gpu: the budget (default: ERADIFF_PROFILE, else "
                                                   "by device); smoke runs the same command in seconds")
    p.add_argument("--out", default=None, help="the run folder (default runs/capstone/<team>-<variant>)")
    p.add_argument("--table", default=None, help="the class table, CSV (default runs/capstone/results.csv, "
                                                 "runs/capstone/smoke.csv for the smoke budget; a Markdown twin is "
                                                 "written beside it)")
    p.add_argument("--init", default=None, help="start from another checkpoint (the row is then not official)")
    p.add_argument("--device", default=None, help="where to erase when scoring (default cuda if present, else cpu)")
    for flag, kind in (("steps", count(1)), ("batch-size", count(1)), ("threads", count(1)), ("scenes", count(2)),
                       ("sample-steps", count(1))):
        p.add_argument(f"--{flag}", type=kind, default=None, help="change the budget (the row is then not official)")
    p.add_argument("--max-seconds", type=duration(), default=None,
                   help="a safety stop: end training after the step that passes this many seconds (a row it "
                        "stopped is not official); the budget itself is counted in steps")
    p.add_argument("--strengths", type=number(0, 1, low_open=True), nargs="+", default=list(STRENGTHS), metavar="S",
                   help="compare with cro_sra from pure noise (1: the official verdict) and from the noised input "
                        "(0.6: evidence for the report; up to twice the scoring time); default both; 1 alone skips 0.6")
    p.add_argument("--resume", action="store_true",
                   help="continue the fine-tune a Ctrl-C stopped, from the checkpoint it saved in the run folder "
                        "(the same command, plus --resume)")
    p.add_argument("--starter", default=None, help=f"the equal-budget comparator (default data/{STARTER_FILE})")
    p.add_argument("--ship-starter", action="store_true", help="write the comparator (--starter, or the shipped file) "
                   "from the starter's official run, the capstone.json given, and stop")
    args = p.parse_args(argv)
    if args.ship_starter:  # the lecturer's step, once per benchmark version
        print(f"wrote {ship_starter(args.variant, args.starter)} from {args.variant}")
        return 0
    profile = args.profile or default_profile_name()
    if profile not in BUDGETS:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(BUDGETS)}")
    changes = {k: v for k, v in vars(args).items() if k in ("steps", "batch_size", "threads", "scenes",
                                                          "sample_steps") and v is not None}
    budget = replace(BUDGETS[profile], **changes)
    strengths = check_strengths(args.strengths)
    stop = f", safety stop at {args.max_seconds:g} s" if args.max_seconds is not None else ""
    print(f"capstone: budget {asdict(budget)} ({profile}{', changed: not official' if changes else ''}{stop}); "
          f"compared with cro_sra at strength {' and '.join(f'{s:g}' for s in strengths)}")
    try:
        done = run_capstone(args.variant, args.team, budget, args.out, args.table, args.init, profile=profile,
                            device=args.device, max_seconds=args.max_seconds, resume=args.resume,
                            strengths=strengths, starter=args.starter)
    except CapstoneInterrupted as stop:
        return interrupted(stop.out, argv)
    from .capstone_table import describe_row

    print(describe_row(done["row"], done["starter"]["why_not"] or done["starter"]["file"]))
    return 0
