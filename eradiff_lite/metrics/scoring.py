"""Score one set of erased images on the benchmark: coherence, realism and elimination together.

`MetricKit` holds the networks behind the learned metrics and their names (the tables print them);
`score_outputs` turns ``N`` erased images into per-scene numbers and the set's summary:

- ``masked_psnr``, ``masked_ssim``: against ``x_ori`` inside the mask (`coherence.py`), mean over scenes;
- ``lpips``: the perceptual distance to ``x_ori`` on whole images (`perceptual.py`), mean over scenes;
- ``fid`` (whole images) and ``local_fid`` (crops around the box), erased vs ``x_ori`` (`frechet.py`);
- ``elimination``: the share of scenes the colour judge calls erased (`judge.py`: not painted in the object
  family's colours, and >= 3 dB closer to the true background than the object was);
- ``recreation``: the share it calls re-created (the hole painted mostly in the family's colours: the
  pepperoni problem), also on the ``near`` bucket alone (a context object within 3 px of the hole);
- ``erase_ratio_share``: the share with RMSE(out, x_ori) / RMSE(x_obj, x_ori) < 0.5 (`fill.py`);
- ``texture_{smooth,textured}_{median,within}``: the fill's texture against the truth's, per scene
  ``log2((E_fill + f) / (E_truth + f))`` (`texture.py`: 0 = the truth's amount of texture, > 0 speckle, < 0
  blur), its median and the share of scenes within +-`texture.BAND`, on smooth and on textured holes apart
  (the ``textured`` bucket of `Benchmark.buckets`);
- ``elimination_classifier``: the share whose crop the presence classifier calls object-free (`presence.py`;
  kept for comparison: it calls the true background "absent" in only part of the unseen scenes).

Outputs are composited first, ``out = mask * erased + (1 - mask) * x_obj``, so only the hole is scored
(the classical row and every model are treated alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..data import to_image
from .benchmark import Benchmark
from .coherence import masked_psnr, masked_ssim
from .crops import box_crops
from .fill import erase_ratio
from .frechet import PresenceFeatures, fid_score
from .judge import judge
from .perceptual import perceptual_distance
from .presence import PresenceNet, load_presence_net
from .texture import texture_log2, texture_summary

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
    """Per-scene arrays (``per_scene``) and set-level numbers for ``erased`` (``N x 3 x H x W`` in [-1, 1])."""
    t = tensors or bench.tensors()
    if erased.shape != t["x_ori"].shape:
        raise ValueError(f"need one erased image per scene: {tuple(t['x_ori'].shape)}, got {tuple(erased.shape)}")
    out = composite(erased.float().clamp(-1, 1), t["x_obj"], t["mask"])
    images, refs, masks = [to_image(o) for o in out], [s.triplet.x_ori for s in bench.scenes], bench.masks
    psnr = np.array([masked_psnr(a, b, m) for a, b, m in zip(images, refs, masks)])
    ssim = np.array([masked_ssim(a, b, m) for a, b, m in zip(images, refs, masks)])
    dist = kit.perceptual(out, t["x_ori"]).numpy()
    crops, real_crops = box_crops(out, bench.boxes), box_crops(t["x_ori"], bench.boxes)
    p_present = kit.presence.prob_present(crops).numpy()
    verdicts = [judge(im, s) for im, s in zip(images, bench.scenes)]
    eliminated = np.array([v["eliminated"] for v in verdicts])
    recreated = np.array([v["recreated"] for v in verdicts])
    near = bench.buckets()["near"]
    ratio = np.array([erase_ratio(im, s.triplet.x_obj, s.triplet.x_ori, s.triplet.mask)
                      for im, s in zip(images, bench.scenes)])
    texture = np.array([texture_log2(im, s.triplet.x_ori, s.triplet.mask) for im, s in zip(images, bench.scenes)])
    textured = bench.buckets()["textured"]
    smooth_tex, textured_tex = texture_summary(texture[~textured]), texture_summary(texture[textured])
    to01 = lambda x: (x + 1) / 2  # noqa: E731 - FID metrics take [0, 1]
    return {
        "elimination": float(eliminated.mean()), "recreation": float(recreated.mean()),
        "recreation_near": float(recreated[near].mean()) if near.any() else float("nan"),
        "erase_ratio_share": float((ratio < 0.5).mean()),
        "texture_smooth_median": smooth_tex["median"], "texture_smooth_within": smooth_tex["within"] / 100,
        "texture_textured_median": textured_tex["median"], "texture_textured_within": textured_tex["within"] / 100,
        "elimination_classifier": float((p_present < 0.5).mean()),
        "masked_psnr": float(psnr.mean()), "masked_ssim": float(ssim.mean()), "lpips": float(dist.mean()),
        "fid": fid_score(to01(t["x_ori"]), to01(out), kit.fid_features),
        "local_fid": fid_score(to01(real_crops), to01(crops), kit.fid_features),
        "per_scene": {"p_present": p_present, "masked_psnr": psnr, "masked_ssim": ssim, "lpips": dist,
                      "eliminated": eliminated, "recreated": recreated, "near": near, "erase_ratio": ratio,
                      "texture_log2": texture},
        "images": out,
    }
