"""The whole ablation in one call: the baseline from scratch, then every variant fine-tuned from it.

All variants share the scenes, batch size, seed and step counts of one profile. A variant whose loss
diverges (``cro_const`` may) is recorded as "diverged at step k" and exported from its last finite
checkpoint; the other variants still run. ``ship`` copies finished runs into ``data/checkpoints``.

Shipping never writes where it reads and never deletes what it did not write: the runs and the destination must
be separate folders (`paths.check_separate`), a destination folder is replaced only when it holds nothing but what
`ship` writes (`SHIPPED_FILES`), and every check runs before the first file is touched. Each folder is built beside
its destination and swapped in whole, so an interrupted ship leaves the old folder or the new one, never half.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..models.lite import LiteUNet
from ..paths import check_separate, one_line_error, write_text_atomic
from ..pipeline import export_pipeline, read_card, write_card
from ..train.checkpoint import list_checkpoints, load_ema_weights
from ..train.config import make_config
from ..train.hooks import TrainingDiverged
from ..train.loop import train
from ..train.record import result_card
from ..variants import TRAINED_VARIANTS

SHIPPED_FILES = ("model_index.json", "unet", "scheduler", "README.md", "card.json", "loss_log.csv",
                 "train_config.json", "training.json")
POINTER_FILES = ("variant.json", "README.md")  # the `sra` folder: a pointer to the baseline's weights
INDEX_TITLE = "# Reference checkpoints"


def check_replaceable(target: Path, allowed=SHIPPED_FILES) -> None:
    """Refuse to replace ``target`` when it holds anything `ship` would not have written there."""
    if target.is_file() or target.is_symlink():
        raise FileExistsError(f"{target} is a file, not a shipped folder: ship refuses to delete it; choose "
                              f"another --out")
    foreign = sorted(p.name for p in target.iterdir() if p.name not in allowed) if target.is_dir() else []
    if foreign:
        raise FileExistsError(f"{target} holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, "
                              f"which ship did not write: it replaces only its own folders; move them away or "
                              f"choose another --out")


def _swap_in(built: Path, target: Path) -> None:
    """Put the finished folder ``built`` at ``target`` (replacing the old one) in two renames."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    built.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def export_last_checkpoint(run_dir: Path, cfg, card: dict) -> None:
    """Export the EMA weights of the newest checkpoint of ``run_dir`` (for a run that stopped early)."""
    last = list_checkpoints(run_dir / "checkpoints")[-1]
    unet = LiteUNet.from_config(json.loads((run_dir / "unet_config.json").read_text()))
    weights = load_ema_weights(last)
    unet.load_state_dict(weights, strict=True)  # every weight, or a clear error: never a half-random UNet
    export_pipeline(unet, run_dir, cfg.build_scheduler(), {**card, "weights_from": f"EMA at checkpoint {last.name}"})


def ablation_images(profile, variants=TRAINED_VARIANTS) -> int:
    """Images the whole ablation trains on: the baseline's steps, then each other variant's fine-tune steps."""
    from ..profiles import get_profile

    profile = get_profile(profile) if profile is None or isinstance(profile, str) else profile
    fine_tunes = len([v for v in variants if v != "baseline"])
    return (profile.base_steps + fine_tunes * profile.finetune_steps) * profile.batch_size


def run_ablation(out_root: str | Path, profile=None, variants=TRAINED_VARIANTS, *, base_budget_s: float | None = None,
                 finetune_budget_s: float | None = None, progress: bool = True, **overrides) -> dict:
    """Train ``variants`` (the baseline first) into ``out_root/<variant>``; returns ``{variant: status}``."""
    out_root = Path(out_root)
    results = {}
    for variant in ("baseline",) + tuple(v for v in variants if v != "baseline"):
        cfg = make_config(variant, profile, **overrides)
        run_dir = out_root / variant
        init = None if variant == "baseline" else out_root / "baseline"
        if init is not None:
            cfg.notes["init"] = "the baseline run's EMA weights (float16 export)"
        budget = base_budget_s if variant == "baseline" else finetune_budget_s
        try:
            results[variant] = train(cfg, run_dir, init=init, time_budget_s=budget, progress=progress).status
        except TrainingDiverged as err:
            results[variant] = f"diverged at step {err.step}"
            card = result_card(run_dir)
            if list_checkpoints(run_dir / "checkpoints"):
                export_last_checkpoint(run_dir, cfg, card)
        write_text_atomic(out_root / "ablation.json", json.dumps(results, indent=1) + "\n")
    return results


def ship(run_dir: str | Path, target: str | Path, notes: dict | None = None) -> Path:
    """Copy a run's pipeline, model card and loss log (not its training checkpoints) to ``target``;
    ``notes`` (e.g. how the run was launched) are added to the card's notes."""
    run_dir, target = Path(run_dir), Path(target)
    check_separate({"--runs": run_dir}, {"--out": target})
    check_replaceable(target)
    built = target.with_name(f".{target.name}.partial")
    shutil.rmtree(built, ignore_errors=True)
    built.mkdir(parents=True)
    try:
        for name in SHIPPED_FILES:
            src = run_dir / name
            if src.is_dir():
                shutil.copytree(src, built / name)
            elif src.is_file():
                shutil.copy2(src, built / name)
        if (run_dir / "training.json").is_file():
            card = {**read_card(run_dir), **result_card(run_dir)}
            card["notes"] = {**card.get("notes", {}), **(notes or {})}
            write_card(built, card)
        _make_portable(built, run_dir.resolve().parent)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    _swap_in(built, target)
    return target


def _make_portable(target: Path, runs_root: Path) -> None:
    """Rewrite the machine paths that training recorded (``init``, diffusers' ``_name_or_path``) in the shipped
    text files: a sibling run becomes ``../<run>`` (true in the shipped layout too), the home folder ``~``."""
    for path in sorted(p for p in target.rglob("*") if p.suffix in (".json", ".md")):
        text = path.read_text()
        portable = text.replace(str(runs_root) + "/", "../").replace(str(Path.home()) + "/", "~/")
        if portable != text:
            write_text_atomic(path, portable)


def ship_ablation(out_root: str | Path, target_root: str | Path, notes: dict | None = None) -> list[str]:
    """`ship` every run of an ablation into ``target_root/<variant>`` and add the ``sra`` pointer folder."""
    out_root, target_root = Path(out_root), Path(target_root)
    check_separate({"--runs": out_root}, {"--out": target_root})
    runs = sorted(p for p in out_root.iterdir() if (p / "model_index.json").is_file())
    for run_dir in runs:  # every refusal before the first file is touched
        check_replaceable(target_root / run_dir.name)
    if any(r.name == "baseline" for r in runs):
        check_replaceable(target_root / "sra", POINTER_FILES)
    index = target_root / "README.md"
    if runs and index.is_file() and not index.read_text().startswith(INDEX_TITLE):
        raise FileExistsError(f"{index} is not an index that ship wrote: ship would overwrite it; choose another --out")
    shipped, failed = [], {}
    for run_dir in runs:  # a run that cannot be shipped is named at the end; the others still ship
        try:
            ship(run_dir, target_root / run_dir.name, notes)
            shipped.append(run_dir.name)
        except Exception as err:  # noqa: BLE001 - reported with every other failure below
            failed[run_dir.name] = one_line_error(err).removeprefix("error: ")
    if "baseline" in shipped:
        pointer = target_root / ".sra.partial"
        shutil.rmtree(pointer, ignore_errors=True)
        pointer.mkdir(parents=True)
        write_text_atomic(pointer / "variant.json", json.dumps(
            {"variant": "sra", "weights": "../baseline", "sra": True, "sra_rule": "eq10"}, indent=1) + "\n")
        write_text_atomic(
            pointer / "README.md",
            "# EraDiff-lite `sra` (no weights of its own)\n\nThe `baseline` checkpoint erasing with Self-Rectifying "
            "Attention on (rule eq10, all self-attention layers, every step): load it with "
            "`eradiff_lite.pipeline.shipped.load_variant('sra')`, or `EraseDiffusionPipeline.from_pretrained("
            "'data/checkpoints/baseline')` and call it with `sra=True`. No training was run for it.\n")
        _swap_in(pointer, target_root / "sra")
        shipped.append("sra")
    if failed:
        raise ShipIncomplete(shipped, failed)
    return shipped


class ShipIncomplete(RuntimeError):
    """Some runs could not be shipped (``failed``: {run: why}); those in ``shipped`` were, whole."""

    def __init__(self, shipped: list[str], failed: dict[str, str]):
        self.shipped, self.failed = shipped, failed
        super().__init__("error: not shipped: " + "; ".join(f"{k} ({why})" for k, why in failed.items()) +
                         f" (shipped: {', '.join(shipped) or 'none'}): fix those runs and ship again")


def write_index(target_root: str | Path) -> Path:
    """``target_root/README.md``: one table row per shipped variant, from the model cards."""
    target_root = Path(target_root)
    lines = [INDEX_TITLE, "",
             "Trained by `eradiff_lite.experiments.ablation` (`run_ablation`, then `ship_ablation`); every number "
             "below is copied from the folder's `card.json`. Each folder is an `EraseDiffusionPipeline` "
             "(`from_pretrained(folder)`) "
             "with float16 EMA weights and its `loss_log.csv`; `sra` is `baseline` with SRA on when erasing.", "",
             "| variant | status | steps (planned) | time (s) | images/s | final loss | profile | device | seed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for folder in sorted(p for p in target_root.iterdir() if (p / "card.json").is_file()):
        c = read_card(folder)
        lines.append(f"| {c['variant']} | {c['status']} | {c['steps']} ({c['steps_planned']}) | {c['seconds']:.0f} | "
                     f"{c['images_per_s']} | {c['final_loss']:.4g} | {c['profile']} | {c['device']} | {c['seed']} |")
    lines.append("| sra | baseline weights, SRA on at inference (no training) | - | - | - | - | - | - | - |")
    path = target_root / "README.md"
    return write_text_atomic(path, "\n".join(lines) + "\n")
