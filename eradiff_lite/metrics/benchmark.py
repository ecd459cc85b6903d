"""The held-out benchmark: a fixed, versioned list of procedural scenes no model trained on.

``heldout-v1`` is scenes ``0 .. n-1`` of the ``heldout`` split of `eradiff_lite.data.make_scene` at the
profile's image size, ``n = profile.eval_scenes`` (6 in smoke, 256 in cpu, 512 in gpu). The heldout split
draws its seeds from another random stream than ``train`` and includes two families (button, egg) that
training never shows, so a model cannot have memorised any scene. Changing what a scene looks like
(`data/procedural.py`, `data/drawing.py`) or this definition means a new version string: results of two versions
never mix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data import Scene, make_scene, mask_to_tensor, to_tensor
from ..profiles import Profile

BENCHMARK_VERSION = "heldout-v1"
BENCHMARK_SPLIT = "heldout"
NEAR_PX = 3  # the "near" bucket: a context object of the same family within this many pixels of the hole


@dataclass
class Benchmark:
    """The scenes of one benchmark version at one size, and their tensors."""

    version: str
    size: int
    scenes: list[Scene]
    dilate: int = 1  # pixels the object's mask is grown by (1: the standard benchmark)
    _buckets: dict | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.scenes)

    def describe(self) -> dict:
        """Plain data for the results file: version, split, seeds, size, how many scenes per family, and the
        scene indices of each bucket (`buckets`)."""
        return {"version": self.version, "split": BENCHMARK_SPLIT, "seeds": f"0..{len(self) - 1}",
                "scenes": len(self), "image_size": self.size, **({"dilate": self.dilate} if self.dilate != 1 else {}),
                "families": dict(sorted(Counter(s.family for s in self.scenes).items())),
                "buckets": {name: np.flatnonzero(member).tolist() for name, member in self.buckets().items()}}

    def buckets(self) -> dict[str, np.ndarray]:
        """Boolean membership per scene of the benchmark's buckets:

        - ``near``: a context object of the same family lies within `NEAR_PX` pixels of the hole (the
          pepperoni problem's setting: the model has an object to copy right beside the hole);
        - ``textured``: the hole lies on a textured background (wood, tiles, stripes or a photo; not a
          gradient, not a pizza or a pan), where a fill must continue a pattern, not only a colour.
        """
        if self._buckets is not None:
            return self._buckets
        from ..data.drawing import FAMILY_SPECS

        near = [s.nearest_context_distance() <= NEAR_PX for s in self.scenes]
        textured = [s.background != "gradient" and FAMILY_SPECS[s.family].carrier is None for s in self.scenes]
        self._buckets = {"near": np.array(near, bool), "textured": np.array(textured, bool)}
        return self._buckets

    def tensors(self) -> dict[str, torch.Tensor]:
        """``x_obj``, ``x_ori``: ``N x 3 x H x W`` in [-1, 1]; ``mask``: ``N x 1 x H x W`` in {0, 1}."""
        return {"x_obj": torch.stack([to_tensor(s.triplet.x_obj) for s in self.scenes]),
                "x_ori": torch.stack([to_tensor(s.triplet.x_ori) for s in self.scenes]),
                "mask": torch.stack([mask_to_tensor(s.triplet.mask) for s in self.scenes])}

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [s.box for s in self.scenes]

    @property
    def masks(self) -> np.ndarray:
        return np.stack([s.triplet.mask for s in self.scenes])


def load_benchmark(profile: Profile | None = None, *, scenes: int | None = None, size: int | None = None,
                   version: str = BENCHMARK_VERSION, dilate: int = 1) -> Benchmark:
    """The benchmark for ``profile`` (or explicit ``scenes``/``size``): heldout seeds ``0 .. scenes-1``;
    ``dilate`` > 1 grows each object's mask (larger holes, the same scenes)."""
    if version != BENCHMARK_VERSION:
        raise ValueError(f"unknown benchmark version {version!r}; this code defines {BENCHMARK_VERSION!r}")
    if profile is None and (scenes is None or size is None):
        raise ValueError("pass a profile, or both scenes= and size=")
    n = int(scenes if scenes is not None else profile.eval_scenes)
    side = int(size if size is not None else profile.image_size)
    if n < 2:
        raise ValueError(f"the benchmark needs at least 2 scenes (FID needs two per set), got {n}")
    if dilate < 1:
        raise ValueError(f"dilate must be >= 1 pixel, got {dilate}")
    return Benchmark(version, side, [make_scene(seed, side, split=BENCHMARK_SPLIT, dilate=dilate) for seed in range(n)],
                     dilate)
