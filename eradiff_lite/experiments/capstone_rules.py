"""The capstone's rules (`eradiff_lite.experiments.capstone`): the fixed `Budget` of each profile, the strengths a
row is compared at (`STRENGTHS`), the learner's variant file (imported, then checked), and what makes a row official
(`why_not_official`).

Nothing here trains or scores: `capstone.run_capstone` takes the variant and the budget from here, fine-tunes, erases
and scores, and writes the row with the reasons this module gives.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from ..paths import data_dir
from ..variants import ABLATION_ORDER, VARIANTS, Variant

__all__ = ["BUDGETS", "NOISED_INPUT", "STRENGTHS", "Budget", "budget_name", "check_strengths", "check_variant",
           "load_variant_file", "why_not_official"]


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

    if variant.name in ABLATION_ORDER:
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
