"""The capstone's rules (`eradiff_lite.experiments.capstone`): the fixed `Budget` of each profile, the strengths a
row is compared at (`STRENGTHS`), the learner's variant file (imported, then checked), and what makes a row official
(`why_not_official`); the shipped equal-budget comparator, the starter's official run (`STARTER_FILE`:
`ship_starter` writes it, `load_starter` reads it, `why_no_starter` says when a run cannot be compared with it).

Nothing here trains or scores: `capstone.run_capstone` takes the variant and the budget from here, fine-tunes, erases
and scores, and writes the row with the reasons this module gives.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from ..paths import data_dir, write_text_atomic
from ..variants import ABLATION_ORDER, VARIANTS, Variant

__all__ = ["BUDGETS", "NOISED_INPUT", "STARTER", "STARTER_FILE", "STRENGTHS", "Budget", "budget_name",
           "check_strengths", "check_variant", "equal_budget_starter", "load_starter", "load_variant_file",
           "ship_starter", "starter_row", "why_no_starter", "why_not_official"]


@dataclass(frozen=True)
class Budget:
    """The fixed compute and the fixed held-out subset of the capstone (`BUDGETS`): counted in steps, not in
    seconds, so that every official row has trained exactly as much as every other, on any machine."""

    steps: int  # optimiser steps from the baseline: an official row runs all of them
    batch_size: int  # images per step
    threads: int  # torch threads while training (the compute is "one CPU thread" by default)
    scenes: int  # held-out scenes 0 .. scenes-1 (benchmark heldout-v1, at the baseline's 64 px)
    seed: int  # the sampling seed (the starting noise of every scene)
    sample_steps: int  # DDIM steps when erasing


# cpu / gpu: 400 steps of 32 images on one torch thread: 13-15 minutes where a step takes 1.9-2.25 s (the shipped
# fine-tunes on one thread of a 2-core EPYC, data/checkpoints/*/card.json), longer on a busy machine (no clock
# stops it); the 256 scenes of the cpu profile's benchmark at seed 0. smoke: the same command in seconds (tests).
BUDGETS = {"cpu": Budget(400, 32, 1, 256, 0, 25),
           "gpu": Budget(400, 32, 1, 256, 0, 25),
           "smoke": Budget(2, 4, 1, 6, 0, 2)}

# Where a row compares the model with cro_sra: from pure noise (strength 1: the official verdict) and from the input
# noised to 60 % of the schedule (strength 0.6: x_t still holds the object, where notebook 08 section 7 shows CRO's
# fading path at work). Not part of the budget: ``--strengths 1`` skips 0.6 and the row stays official.
NOISED_INPUT = 0.6
STRENGTHS = (1.0, NOISED_INPUT)

# The equal-budget comparator: the starter as shipped (cro_sra's recipe) fine-tuned under the cpu budget, its
# official run's per-scene scores (`ship_starter`); a run of the same budget on the same benchmark is compared with it.
STARTER_FILE = "results/capstone_starter.json"  # under data/
STARTER = "starter"  # its rows' variant name in a comparison
STARTER_PER_SCENE = ("eliminated", "recreated", "masked_psnr", "texture_log2")  # what the paired comparisons read
STARTER_SUMMARY = ("elimination", "masked_psnr", "texture_smooth_within", "texture_textured_within")
BENCHMARK_KEYS = ("version", "split", "seeds", "scenes", "image_size")  # the benchmark a comparison needs equal


def load_variant_file(source: str | Path) -> tuple[Variant, str]:
    """Import a variant file (or take a registered variant's name): ``(variant, sha256 of the file or "")``."""
    path = Path(source)
    if not path.suffix == ".py":
        if str(source) not in VARIANTS:
            raise FileNotFoundError(f"{source}: neither a variant file (.py) nor a registered variant "
                                    f"({', '.join(VARIANTS)})")
        return VARIANTS[str(source)], ""
    if not path.is_file():
        raise FileNotFoundError(f"no variant file {path}: copy assignments/capstone/my_variant.py and edit it")
    before = set(VARIANTS)
    name = f"capstone_variant_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    variant = getattr(module, "VARIANT", None)
    added = sorted(set(VARIANTS) - before)
    if variant is None and len(added) == 1:
        variant = VARIANTS[added[0]]
    if not isinstance(variant, Variant):
        raise ValueError(f"{path} must register one variant and name it VARIANT (register_variant(Variant(...)))")
    return variant, hashlib.sha256(path.read_bytes()).hexdigest()


def check_variant(variant: Variant) -> None:
    """A capstone variant trains, starts from the baseline, and is not one of the ablation's own rows."""
    from ..losses import loss_for

    if variant.name in ABLATION_ORDER or variant.name == STARTER:  # STARTER: the comparator's rows are named so
        raise ValueError(f"{variant.name!r} is one of the shipped variants: give yours a name of its own")
    if not (variant.trains and variant.from_baseline):
        raise ValueError(f"variant {variant.name!r} must train (trains=True) from the baseline (from_baseline=True)")
    loss_for(variant)  # its loss is registered and agrees with its target


def budget_name(budget: Budget, profile: str | None = None) -> str:
    """The profile whose budget this is (``profile`` when given), or ``"custom"`` where it is none of `BUDGETS`."""
    if profile:
        return profile
    return next((name for name, fixed in BUDGETS.items() if fixed == budget), "custom")


def why_not_official(budget: Budget, profile: str, init: Path, steps_done: int,
                     max_seconds: float | None) -> str:
    """Why a row is not official, in words ("" for an official row): the budget changed from its profile's, another
    start than the baseline, or fewer steps than the budget's (the ``--max-seconds`` safety stop)."""
    reasons = []
    fixed = BUDGETS.get(profile)
    if fixed is None:
        reasons.append(f"budget {profile!r} is not one of the fixed ones ({', '.join(BUDGETS)})")
    else:
        reasons += [f"--{f.name.replace('_', '-')} {getattr(budget, f.name)} instead of the {profile} budget's "
                    f"{getattr(fixed, f.name)}" for f in fields(Budget)
                    if getattr(budget, f.name) != getattr(fixed, f.name)]
    if init.resolve() != (data_dir() / "checkpoints" / "baseline").resolve():
        reasons.append(f"started from {init}, not data/checkpoints/baseline")
    if steps_done != budget.steps:
        stop = f"stopped by --max-seconds {max_seconds:g}" if max_seconds is not None else "stopped"
        reasons.append(f"{stop} at step {steps_done} of {budget.steps}")
    return "; ".join(reasons)


def check_strengths(strengths) -> tuple[float, ...]:
    """The strengths to score, 1 first: 1 (the official comparison) and, optionally, `NOISED_INPUT`."""
    found = sorted({float(s) for s in strengths}, reverse=True)
    if 1.0 not in found or not set(found) <= set(STRENGTHS):
        raise ValueError(f"--strengths takes 1 (the official comparison) and optionally {NOISED_INPUT:g}, got "
                         f"{' '.join(f'{s:g}' for s in strengths)}")
    return tuple(found)


def ship_starter(run: str | Path, out: str | Path | None = None) -> Path:
    """Write the equal-budget comparator (default ``data/`` + `STARTER_FILE`) from an official run of the starter, its
    ``capstone.json``: where it came from (date, team, the file's digest, device), its budget and benchmark, and per
    strength its summary and per-scene values (`STARTER_PER_SCENE`; shares as 0/1) for the paired comparisons."""
    results = json.loads(Path(run).read_text())
    row = results["row"]
    if row["official"] != "yes":
        raise ValueError(f"{run}: not an official row ({row['why_not_official']}): ship only an official run")
    scored = [results["rows"][0]] + ([results["noised_input"]["rows"][0]] if results.get("noised_input") else [])
    number = lambda v: int(v) if float(v).is_integer() else round(v, 4)  # noqa: E731
    strengths = {f"{r['strength']:g}": {**{k: round(r[k], 4) for k in STARTER_SUMMARY if r.get(k) is not None},
                                        "per_scene": {k: [number(v) for v in r["per_scene"][k]]
                                                      for k in STARTER_PER_SCENE if k in r["per_scene"]}}
                 for r in scored}
    starter = {"about": f"The capstone's equal-budget comparator: the starter as shipped (assignments/capstone/"
                        f"my_variant.py, cro_sra's recipe) fine-tuned {row['steps_run']} steps from the baseline. "
                        f"Written by python -m eradiff_lite capstone --ship-starter <run>/capstone.json "
                        f"(capstone_rules.ship_starter) from the official run below.",
               "source": {k: row[k] for k in ("date", "team", "variant", "file_sha256", "budget", "official",
                                              "steps_run", "seconds", "device")} | {
                   "weights_sha256": results["rows"][0].get("weights_sha256")},
               "budget": results["budget"], "benchmark": {k: results["benchmark"][k] for k in BENCHMARK_KEYS},
               "strengths": strengths}
    text = json.dumps(starter, indent=1)  # one line per list of per-scene values
    text = re.sub(r"\[\n[-\d.,\s]+\]", lambda m: json.dumps(json.loads(m.group(0)), separators=(",", ":")), text)
    return write_text_atomic(Path(out) if out else data_dir() / STARTER_FILE, text + "\n")


def load_starter(path: str | Path | None = None) -> dict | None:
    """The shipped comparator (`ship_starter`), or None where there is no such file."""
    path = Path(path) if path else data_dir() / STARTER_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def why_no_starter(starter: dict | None, budget: Budget, benchmark: dict) -> str:
    """Why a run is not compared with the starter ("" when it is): no file, or another budget or benchmark."""
    if starter is None:
        return f"no starter file (data/{STARTER_FILE})"
    reasons = [f"{f.name.replace('_', '-')} {getattr(budget, f.name)} instead of the starter's "
               f"{starter['budget'][f.name]}" for f in fields(Budget)
               if getattr(budget, f.name) != starter["budget"][f.name]]
    reasons += [f"benchmark {k} {benchmark.get(k)} instead of {starter['benchmark'][k]}" for k in BENCHMARK_KEYS
                if benchmark.get(k) != starter["benchmark"][k]]
    return "; ".join(reasons)


def starter_row(starter: dict, strength: float) -> dict | None:
    """The starter's results row at ``strength`` for `metrics.results.paired_stats` (variant `STARTER`: its
    summary and per-scene values), or None where it was not scored at that strength."""
    scored = starter["strengths"].get(f"{strength:g}")
    return None if scored is None else {**scored, "variant": STARTER, "strength": strength}


def equal_budget_starter(budget: Budget, benchmark: dict, path: str | Path | None = None) -> dict:
    """The starter's rows a run is compared with: ``{"file", "why_not", "1": row, "0.6": row}`` (`starter_row`; both
    None where ``why_not`` says why no equal-budget comparison is made)."""
    starter = load_starter(path)
    why = why_no_starter(starter, budget, benchmark)
    return {"file": str(path or f"data/{STARTER_FILE}"), "why_not": why,
            **{f"{s:g}": None if why else starter_row(starter, s) for s in STRENGTHS}}
