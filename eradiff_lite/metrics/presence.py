"""The object-presence classifier: is there an object at the centre of this crop?

The paper asks GPT-4o whether the object was eliminated (Table 3: 27.80 % for the baseline, 83.43 % for
EraDiff). Offline we train a small CNN instead, on *training* scenes only: the crop around the pasted
object's box in ``x_obj`` (object present, label 1) and the same crop in ``x_ori`` (object absent,
label 0). The *elimination score* of an eraser is the share of its outputs whose crop the classifier
calls object-free, ``p(present) < 0.5``.

Blind spots: it learned "an object of the procedural families at the centre", so a smear or a
colour blob that no family resembles counts as erased, and a hallucinated object of an unseen shape
may not count as present; its held-out accuracy (on clean crops, families it never saw included) is in
the model card next to the weights, not on eraser outputs. Its penultimate layer (``num_features``
numbers) doubles as the offline feature extractor for FID (`frechet.py`) and the perceptual distance.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..paths import atomic_write, data_dir, write_text_atomic

PRESENCE_NAME = "presence_net"


def presence_dir() -> Path:
    """Where the shipped classifier lives: ``data/metrics/``."""
    return data_dir() / "metrics"


class PresenceNet(nn.Module):
    """Four 3x3 conv stages (ReLU, two stride-2), global average pooling, then a linear logit.

    Input: ``B x 3 x H x W`` in [-1, 1] (any size; trained on 32 x 32 crops). ``features`` returns the
    ``num_features`` pooled activations, ``stages`` the feature maps, ``forward`` the presence logit.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 64)):
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        layers, prev = [], 3
        for i, width in enumerate(self.widths):
            stride = 2 if i in (1, 2) else 1
            layers.append(nn.Sequential(nn.Conv2d(prev, width, 3, stride, 1), nn.GroupNorm(4, width), nn.ReLU()))
            prev = width
        self.blocks = nn.ModuleList(layers)
        self.head = nn.Linear(prev, 1)
        self.num_features = prev

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for block in self.blocks:
            x = block(x)
            maps.append(x)
        return maps

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)[-1].mean(dim=(2, 3))  # global average pooling -> B x num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)  # logit of "object present"

    @torch.no_grad()
    def prob_present(self, crops: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self(crops))


def save_presence_net(net: PresenceNet, folder: str | Path, card: dict) -> Path:
    """Write ``presence_net.safetensors`` and ``presence_net.json`` (architecture + training card)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / f"{PRESENCE_NAME}.safetensors") as tmp:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, tmp)
    write_text_atomic(folder / f"{PRESENCE_NAME}.json", json.dumps({"widths": list(net.widths), **card}, indent=1)
                      + "\n")
    return folder


def load_presence_net(folder: str | Path | None = None) -> tuple[PresenceNet, dict]:
    """The shipped (or given) classifier, in eval mode, and its card."""
    folder = Path(folder) if folder else presence_dir()
    weights, card_path = folder / f"{PRESENCE_NAME}.safetensors", folder / f"{PRESENCE_NAME}.json"
    if not weights.is_file() or not card_path.is_file():
        raise FileNotFoundError(f"no presence classifier in {folder}: train one with "
                                f"`python -m eradiff_lite train-presence --out {folder}`")
    card = json.loads(card_path.read_text())
    net = PresenceNet(tuple(card["widths"]))
    net.load_state_dict(load_file(weights))
    return net.eval().requires_grad_(False), card
