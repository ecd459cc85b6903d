"""Score one set of erased images on the benchmark: coherence, realism and elimination together.

`MetricKit` holds the networks behind the learned metrics and their names (the tables print them);
`score_outputs` turns ``N`` erased images into per-scene values and the set's numbers by iterating over the
registries of `metrics.registry` (the course's own measures are registered in `metrics.standard`):

- per scene (``per_scene``): every registered `PerScene` that computes, e.g. ``masked_psnr``, ``eliminated``
  (the colour judge, `judge.py`), ``texture_log2`` (`texture.py`), ``p_present`` (the presence classifier);
- the set's numbers: every registered `Metric` that scores, e.g. ``elimination`` (the share of scenes the colour
  judge calls erased: not painted in the object family's colours, and >= 3 dB closer to the true background than
  the object was), ``recreation`` (and ``recreation_near``, on the ``near`` bucket), ``erase_ratio_share``,
  ``texture_{smooth,textured}_{median,within}``, ``elimination_classifier``, ``masked_psnr``, ``masked_ssim``,
  ``lpips``, ``fid`` and ``local_fid``; each metric's unit and direction are in its record.

Outputs are composited first, ``out = mask * erased + (1 - mask) * x_obj``, so only the hole is scored
(the classical row and every model are treated alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..data import to_image
from . import standard  # noqa: F401 - registers the course's measures
from .benchmark import Benchmark
from .frechet import PresenceFeatures
from .perceptual import perceptual_distance
from .presence import PresenceNet, load_presence_net
from .registry import METRICS, PER_SCENE, ScoreInputs

PRESENCE_FEATURES_NAME = "PresenceNet-64 (penultimate layer of the course's presence classifier, data/metrics)"
INCEPTION_NAME = "Inception-v3 pool3 2048 (torchmetrics / torch-fidelity)"


@dataclass
class MetricKit:
    """The learned parts of the metrics and what they are called."""

    presence: PresenceNet
    fid_features: str | nn.Module
    perceptual: nn.Module
    card: dict = field(default_factory=dict)

    def names(self) -> dict:
        fid = INCEPTION_NAME if self.fid_features == "inception" else PRESENCE_FEATURES_NAME
        return {"fid": fid, "local_fid": fid, "lpips": self.perceptual.name,
                "elimination": "colour judge: not re-created and >= 3 dB closer to x_ori than x_obj (metrics/judge.py)",
                "elimination_classifier": "presence classifier p(present) < 0.5 on the box crop "
                                          "(data/metrics/presence_net)",
                "elimination_classifier_heldout_accuracy": self.card.get("heldout_accuracy", {}).get("all")}


def load_metric_kit(fid_features: str = "presence", perceptual: str = "presence", folder=None) -> MetricKit:
    """The shipped presence classifier plus FID features (``presence`` | ``inception``) and a perceptual
    distance (``presence`` | ``lpips``). The defaults need no download; the others are for Colab."""
    net, card = load_presence_net(folder)
    if fid_features not in ("presence", "inception"):
        raise ValueError(f"fid_features must be 'presence' or 'inception', got {fid_features!r}")
    features = PresenceFeatures(net) if fid_features == "presence" else "inception"
    return MetricKit(net, features, perceptual_distance(perceptual, net), card)


def composite(erased: torch.Tensor, x_obj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Keep the known pixels: ``mask * erased + (1 - mask) * x_obj`` (mask 1 = erase)."""
    if erased.shape != x_obj.shape:
        raise ValueError(f"erased images are {tuple(erased.shape)}, the scenes {tuple(x_obj.shape)}")
    return mask * erased + (1 - mask) * x_obj


@torch.no_grad()
def score_outputs(bench: Benchmark, erased: torch.Tensor, kit: MetricKit, tensors: dict | None = None) -> dict:
    """Per-scene arrays (``per_scene``) and set-level numbers for ``erased`` (``N x 3 x H x W`` in [-1, 1]): one
    entry per registered metric and per-scene value (`metrics.registry`), in their order."""
    t = tensors or bench.tensors()
    if erased.shape != t["x_ori"].shape:
        raise ValueError(f"need one erased image per scene: {tuple(t['x_ori'].shape)}, got {tuple(erased.shape)}")
    out = composite(erased.float().clamp(-1, 1), t["x_obj"], t["mask"])
    inputs = ScoreInputs(bench, out, [to_image(o) for o in out], t, kit)
    per_scene = {name: inputs.values(name) for name, values in PER_SCENE.items() if values.compute is not None}
    numbers = {name: metric.score(inputs) for name, metric in METRICS.items() if metric.scored}
    return {**numbers, "per_scene": per_scene, "images": out}
