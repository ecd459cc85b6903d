"""The reference checkpoints shipped in ``data/checkpoints/<variant>/`` and how to load them.

``sra`` has no weights of its own: its folder holds ``variant.json`` pointing at ``baseline`` with SRA
switched on when erasing. `load_variant` follows that pointer.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import data_dir
from .card import read_card
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


def resolve_variant(name: str) -> tuple[Path, bool]:
    """(pipeline folder, SRA on when erasing) of a shipped variant."""
    folder = checkpoints_dir() / name
    if (folder / POINTER).is_file():
        pointer = json.loads((folder / POINTER).read_text())
        return (folder / pointer["weights"]).resolve(), bool(pointer.get("sra", False))
    if not (folder / "model_index.json").is_file():
        raise FileNotFoundError(f"no shipped checkpoint {name!r} in {checkpoints_dir()}: choose one of "
                                f"{', '.join(shipped_variants()) or '(none shipped)'}")
    return folder, bool(read_card(folder).get("sra_at_inference", False))


def load_variant(name: str) -> tuple[EraseDiffusionPipeline, bool]:
    """The shipped pipeline of ``name`` and whether to erase with ``sra=True``."""
    folder, sra = resolve_variant(name)
    return EraseDiffusionPipeline.from_pretrained(folder), sra
