"""Where the trained variants live (``data/checkpoints/<variant>/`` or any folder of runs) and how to load them.

The one resolver of variant names to pipeline folders (`find_variants`), used by erasing, the notebooks and
the evaluation. ``sra`` has no weights of its own: it is the baseline's folder erasing with SRA on (the
shipped ``sra`` folder holds a ``variant.json`` that says so, for people browsing the files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..paths import data_dir
from ..variants import ABLATION_ORDER, VARIANTS
from .pipeline import EraseDiffusionPipeline

POINTER = "variant.json"


def checkpoints_dir() -> Path:
    return data_dir() / "checkpoints"


def shipped_variants() -> list[str]:
    """Variant folders present under ``data/checkpoints`` (with weights or a pointer)."""
    root = checkpoints_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "model_index.json").is_file() or (p / POINTER).is_file())


def find_variants(model_dirs: Sequence[str | Path] | None = None, names: Sequence[str] | None = None
                  ) -> dict[str, dict]:
    """``{variant: {"folder", "sra"}}`` for the variants whose checkpoint exists under ``model_dirs``.

    Each entry of ``model_dirs`` (default: ``data/checkpoints``) is either a parent holding one folder per
    trained variant or one saved pipeline (its folder name is the variant). Variants that do not train
    (``sra``) use their base checkpoint (the baseline) with SRA switched on.
    """
    folders: dict[str, Path] = {}
    for d in [Path(p) for p in (model_dirs or [checkpoints_dir()])]:
        if (d / "model_index.json").is_file():
            folders[d.name] = d
        elif d.is_dir():
            folders.update({c.name: c for c in sorted(d.iterdir()) if (c / "model_index.json").is_file()})
        else:
            raise FileNotFoundError(f"{d} is neither a saved pipeline nor a folder of them")
    found = {}
    order = {n: i for i, n in enumerate(ABLATION_ORDER)}
    for name in sorted(names or ABLATION_ORDER, key=lambda n: order.get(n, len(order))):  # table order
        if name not in VARIANTS:
            raise ValueError(f"unknown variant {name!r}: choose from {', '.join(VARIANTS)}")
        v = VARIANTS[name]
        folder = folders.get(name) if v.trains else folders.get(name, folders.get("baseline"))
        if folder is not None:
            found[name] = {"folder": folder, "sra": v.sra_at_inference}
    return found


def resolve_variant(name: str, root: str | Path | None = None) -> tuple[Path, bool]:
    """(pipeline folder, SRA on when erasing) of the variant ``name`` under ``root`` (default data/checkpoints)."""
    root = Path(root) if root else checkpoints_dir()
    found = find_variants([root], [name]) if root.is_dir() else {}
    if name not in found:
        raise FileNotFoundError(f"no shipped checkpoint {name!r} in {root}: choose one of "
                                f"{', '.join(shipped_variants()) or '(none shipped)'}")
    return found[name]["folder"], found[name]["sra"]


def load_variant(name: str) -> tuple[EraseDiffusionPipeline, bool]:
    """The shipped pipeline of ``name`` and whether to erase with ``sra=True``."""
    folder, sra = resolve_variant(name)
    return EraseDiffusionPipeline.from_pretrained(folder), sra
