"""The model card (README.md) written beside a saved pipeline: what was trained, how long, on what.

``card.json`` holds the facts as plain data; ``README.md`` is a Hugging Face model card (huggingface_hub's
`ModelCard`: YAML metadata, then the text), so a folder pushed to the Hub reads as a diffusers model."""

from __future__ import annotations

import json
from pathlib import Path

CARD_JSON = "card.json"


def render_card(card: dict) -> str:
    """The model card for a card dict (keys from `train.record.result_card`, plus anything else as a table row)."""
    from huggingface_hub import ModelCard, ModelCardData

    name = card.get("variant", "unknown")
    meta = ModelCardData(license="mit", library_name="diffusers", pipeline_tag="image-to-image",
                         tags=["eradiff-lite", "object-removal", "inpainting", f"variant-{name}"])
    lines = [f"# EraDiff-lite `{name}` checkpoint", "",
             "An `EraseDiffusionPipeline` (a lite pixel-space inpainting UNet + DDIM scheduler) from the EraDiff-lite "
             "course. Load it with `EraseDiffusionPipeline.from_pretrained(folder)`, or the UNet alone with "
             "`eradiff_lite.LiteUNet.from_pretrained(folder / 'unet')`.", ""]
    if "seconds" in card:
        lines += [f"Trained by `eradiff_lite.train` for **{card.get('steps')} steps** (planned "
                  f"{card.get('steps_planned')}) with the `{card.get('profile')}` profile on {card.get('device')} in "
                  f"{card['seconds']:.0f} s, seed {card.get('seed')}; status: {card.get('status')}.", ""]
    lines += ["| field | value |", "|---|---|"]
    lines += [f"| {k} | {json.dumps(v) if isinstance(v, (dict, list)) else v} |" for k, v in card.items()]
    lines += ["", "Weights: the EMA of the training weights, stored as float16 safetensors. The loss of every step is "
              "in `loss_log.csv` (step, loss, lr, elapsed_s).", ""]
    return str(ModelCard(f"---\n{meta.to_yaml()}\n---\n\n" + "\n".join(lines)))


def write_card(folder: str | Path, card: dict) -> None:
    from ..paths import write_text_atomic

    folder = Path(folder)
    write_text_atomic(folder / CARD_JSON, json.dumps(card, indent=1) + "\n")
    write_text_atomic(folder / "README.md", render_card(card))


def read_card(folder: str | Path) -> dict:
    path = Path(folder) / CARD_JSON
    return json.loads(path.read_text()) if path.is_file() else {}
