"""The training scenes, held in memory, and the batch of each step.

The batch of step ``k`` is a pure function of ``(seed, k)``: scene indices and (for the baseline) random
masks come from ``numpy.random.default_rng([seed, k])``. So the data sampler's position is the step
number itself, and a resumed run sees exactly the batches an uninterrupted one would.
Under `accelerate launch` each process takes its share ``[rank::world]`` of the same global batch.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data import SceneDataset
from .masks import random_mask


class TrainingScenes:
    """``count`` procedural scenes of the ``train`` split at ``size`` pixels, as stacked tensors."""

    def __init__(self, count: int, size: int, progress: bool = True):
        dataset = SceneDataset(count, size, split="train")
        items = [dataset[i] for i in tqdm(range(count), desc="training scenes", disable=not progress, leave=False)]
        self.x_obj = torch.stack([it["x_obj"] for it in items])  # B x 3 x H x W in [-1, 1]
        self.x_ori = torch.stack([it["x_ori"] for it in items])
        self.mask = torch.stack([it["mask"] for it in items])  # B x 1 x H x W, 1 = erase
        self.object_masks = self.mask[:, 0].numpy().astype(bool)
        self.size = size

    def __len__(self) -> int:
        return len(self.x_obj)

    def batch(self, step: int, batch_size: int, seed: int, random_masks: bool,
              rank: int = 0, world: int = 1) -> dict[str, torch.Tensor]:
        """This process's share of the global batch of ``step`` (dict of x_obj, x_ori, mask)."""
        rng = np.random.default_rng([seed, step])
        index = rng.integers(0, len(self), batch_size)
        batch = {"x_obj": self.x_obj[index], "x_ori": self.x_ori[index], "mask": self.mask[index]}
        if random_masks:
            masks = np.stack([random_mask(self.size, rng, self.object_masks) for _ in range(batch_size)])
            batch["mask"] = torch.from_numpy(masks).float()[:, None]
        return {k: v[rank::world] for k, v in batch.items()}
