"""The training scenes and the batch of each step.

The batch of step ``k`` is a pure function of ``(seed, k)``: everything random in it comes from
``numpy.random.default_rng([seed, k])``, so the data sampler's position is the step number itself and
a resumed run sees exactly the batches an uninterrupted one would. Two sources:

- ``fresh`` (the recipe's choice): new procedural scenes every step, train-split seeds drawn from that
  generator (scenes are cheap: a batch of 32 at 64 px is made in about 0.1 s on one thread);
- a fixed pool of ``count`` scenes held in memory (train seeds ``0 .. count-1``), indices drawn from it.

Under `accelerate launch` each process takes its share ``[rank::world]`` of the same global batch.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data import SceneDataset, make_scene, triplet_to_tensors
from ..data.drawing import BACKGROUNDS, FAMILY_SPECS
from ..data.procedural import TRAIN_FAMILIES
from .random_masks import random_mask

SCENE_SEEDS = 2**62  # fresh scenes draw their train-split seeds from 0 .. SCENE_SEEDS - 1


def families_on(backgrounds) -> dict[str, tuple[str, ...]]:
    """The training families that sit on any of ``backgrounds``, each with the kinds of those it allows."""
    unknown = sorted(set(backgrounds) - set(BACKGROUNDS))
    if unknown or not backgrounds:
        raise ValueError(f"backgrounds must be a non-empty list of {BACKGROUNDS}, got {list(backgrounds)}")
    found = {f: tuple(k for k in FAMILY_SPECS[f].backgrounds if k in backgrounds) for f in TRAIN_FAMILIES}
    found = {f: kinds for f, kinds in found.items() if kinds}
    if not found:
        raise ValueError(f"no training family sits on {list(backgrounds)}")
    return found


class TrainingScenes:
    """Training scenes at ``size`` pixels: a pool of ``count`` (``fresh=False``) or new ones every step."""

    def __init__(self, count: int, size: int, progress: bool = True, fresh: bool = False,
                 mask_dilate: tuple[int, int] = (1, 1), backgrounds: tuple[str, ...] | None = None):
        self.size, self.fresh = size, fresh
        self.on = families_on(backgrounds) if backgrounds is not None else None  # family -> allowed kinds
        if self.on is not None and not fresh:
            raise ValueError("backgrounds needs fresh scenes (fresh_scenes=True): a fixed pool has fixed backgrounds")
        self.mask_dilate = (int(mask_dilate[0]), int(mask_dilate[1]))
        if not 1 <= self.mask_dilate[0] <= self.mask_dilate[1]:
            raise ValueError(f"mask_dilate must be (low, high) with 1 <= low <= high, got {mask_dilate}")
        if self.mask_dilate != (1, 1) and not fresh:
            raise ValueError("mask_dilate needs fresh scenes (fresh_scenes=True): a fixed pool has fixed masks")
        pool = 64 if fresh else count  # fresh runs keep a small pool only for the shapes of random masks
        dataset = SceneDataset(pool, size, split="train")
        items = [dataset[i] for i in tqdm(range(pool), desc="training scenes", disable=not progress or fresh,
                                          leave=False)]
        self.x_obj = torch.stack([it["x_obj"] for it in items])  # B x 3 x H x W in [-1, 1]
        self.x_ori = torch.stack([it["x_ori"] for it in items])
        self.mask = torch.stack([it["mask"] for it in items])  # B x 1 x H x W, 1 = erase
        self.object_masks = self.mask[:, 0].numpy().astype(bool)

    def __len__(self) -> int:
        return len(self.x_obj)

    def _scenes(self, rng: np.random.Generator, batch_size: int) -> dict[str, torch.Tensor]:
        if not self.fresh:
            index = rng.integers(0, len(self), batch_size)
            return {"x_obj": self.x_obj[index], "x_ori": self.x_ori[index], "mask": self.mask[index]}
        seeds = rng.integers(0, SCENE_SEEDS, batch_size)
        # each object's hole grown by a random 1..k pixels, so a hole's edge need not follow an object's edge
        # (drawn only when asked for: the default batches stay what they were)
        low, high = self.mask_dilate
        dilates = rng.integers(low, high + 1, batch_size) if high > 1 else np.ones(batch_size, int)
        if self.on is None:
            items = [triplet_to_tensors(make_scene(int(s), self.size, split="train", dilate=int(d)).triplet)
                     for s, d in zip(seeds, dilates)]
        else:  # a family that sits on one of the chosen backgrounds, then one of those backgrounds (drawn after)
            families = list(self.on)
            picks = [families[i] for i in rng.integers(0, len(families), batch_size)]
            kinds = [self.on[f][int(rng.integers(len(self.on[f])))] for f in picks]
            items = [triplet_to_tensors(make_scene(int(s), self.size, split="train", dilate=int(d), family=f,
                                                   background_kind=k).triplet)
                     for s, d, f, k in zip(seeds, dilates, picks, kinds)]
        return {k: torch.stack([it[k] for it in items]) for k in ("x_obj", "x_ori", "mask")}

    def batch(self, step: int, batch_size: int, seed: int, random_masks: bool,
              rank: int = 0, world: int = 1) -> dict[str, torch.Tensor]:
        """This process's share of the global batch of ``step`` (dict of x_obj, x_ori, mask)."""
        rng = np.random.default_rng([seed, step])
        batch = self._scenes(rng, batch_size)
        if random_masks:
            own = batch["mask"][:, 0].numpy().astype(bool)
            masks = np.stack([random_mask(self.size, rng, self.object_masks, own[i]) for i in range(batch_size)])
            batch["mask"] = torch.from_numpy(masks).float()[:, None]
        return {k: v[rank::world] for k, v in batch.items()}
