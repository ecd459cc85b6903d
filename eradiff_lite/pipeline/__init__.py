"""Erasing with a trained lite model: `EraseDiffusionPipeline` (DDIM, optional noised start, SRA on/off)."""

from .card import read_card, render_card, write_card
from .export import export_pipeline
from .pipeline import EraseDiffusionPipeline, EraseOutput

__all__ = ["EraseDiffusionPipeline", "EraseOutput", "export_pipeline", "read_card", "render_card", "write_card"]
