"""Train the object-presence classifier on training scenes and ship it with a card.

``python -m eradiff_lite train-presence [--out data/metrics] [--scenes 3000] [--epochs 4]``

Data: for each *train*-split scene (families pepperoni, orange, cookie, coin) at 32 and 64 pixels, the
crop around the pasted object's box in ``x_obj`` (label 1, present) and in ``x_ori`` (label 0, absent).
The crop's context factor is jittered in [1.6, 2.4] and crops are flipped at random, so the net does
not key on one exact framing; half the crops get their RGB channels permuted, so colour alone (no
training family is blue) does not decide. Loss: binary cross-entropy ``-[y log p + (1 - y) log(1 - p)]``, Adam.
Held-out check: the *heldout* split (other seeds, plus the unseen families button and egg).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..data import make_scene, to_tensor
from ..metrics.crops import box_crops
from ..metrics.presence import PresenceNet, presence_dir, save_presence_net

TRAIN_SIZES = (32, 64)


def presence_crops(count: int, split: str, first_seed: int = 0, sizes=TRAIN_SIZES, jitter: bool = False,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Crops (``2 count x 3 x 32 x 32``), labels (1 present / 0 absent) and each crop's family."""
    rng = np.random.default_rng(seed)
    crops, labels, families = [], [], []
    for i in tqdm(range(count), desc=f"{split} crops", leave=False):
        scene = make_scene(first_seed + i, sizes[i % len(sizes)], split=split)
        pair = torch.stack([to_tensor(scene.triplet.x_obj), to_tensor(scene.triplet.x_ori)])
        context = rng.uniform(1.6, 2.4) if jitter else 2.0
        crops.append(box_crops(pair, [scene.box] * 2, context=context))
        labels += [1.0, 0.0]
        families += [scene.family] * 2
    x = torch.cat(crops)
    if jitter:
        flip = torch.from_numpy(rng.random(len(x)) < 0.5)
        x[flip] = x[flip].flip(-1)
        for i in np.nonzero(rng.random(len(x)) < 0.5)[0]:  # colours the families never had (blue buttons)
            x[i] = x[i][torch.from_numpy(rng.permutation(3))]
    return x, torch.tensor(labels), families


@torch.no_grad()
def accuracy_by_family(net: PresenceNet, x: torch.Tensor, y: torch.Tensor, families: list[str]) -> dict:
    """Accuracy overall and per family (threshold p = 0.5)."""
    correct = ((net.prob_present(x) >= 0.5).float() == y).numpy()
    fam = np.array(families)
    out = {"all": float(correct.mean())}
    out.update({f: float(correct[fam == f].mean()) for f in sorted(set(families))})
    return out


def train_presence_net(scenes: int = 3000, epochs: int = 4, batch_size: int = 64, lr: float = 2e-3,
                       heldout_scenes: int = 600, seed: int = 0) -> tuple[PresenceNet, dict]:
    """Train on ``scenes`` train scenes; returns the net (eval mode) and its card (accuracies, settings)."""
    if scenes < 8 or epochs < 1:
        raise ValueError("need at least 8 scenes and 1 epoch")
    torch.manual_seed(seed)
    start = time.perf_counter()
    x, y, _ = presence_crops(scenes, "train", jitter=True, seed=seed)
    net = PresenceNet()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * (len(x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    bar = tqdm(total=steps, desc="presence net")
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for b in range(len(x) // batch_size):
            idx = order[b * batch_size:(b + 1) * batch_size]
            loss = F.binary_cross_entropy_with_logits(net(x[idx]), y[idx])  # -[y log p + (1-y) log(1-p)]
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    net.eval().requires_grad_(False)
    hx, hy, hfam = presence_crops(heldout_scenes, "heldout")
    tx, ty, tfam = presence_crops(min(scenes, 600), "train")
    card = {
        "task": "object present (x_obj crop, 1) vs absent (x_ori crop, 0) around the pasted object's box",
        "train": {"split": "train", "scenes": scenes, "image_sizes": list(TRAIN_SIZES), "epochs": epochs,
                  "batch_size": batch_size, "lr": lr, "optimizer": "Adam + one-cycle", "seed": seed,
                  "crop": "2.0 x box side (jittered 1.6-2.4), 32 x 32, random flips, random RGB permutation (half)"},
        "train_accuracy": accuracy_by_family(net, tx, ty, tfam),
        "heldout_accuracy": accuracy_by_family(net, hx, hy, hfam),
        "heldout": {"split": "heldout", "scenes": heldout_scenes, "image_sizes": list(TRAIN_SIZES),
                    "note": "families button and egg never appear in training"},
        "seconds": round(time.perf_counter() - start, 1),
        "device": "cpu",
    }
    return net, card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eradiff_lite train-presence", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="folder for presence_net.* (default data/metrics)")
    parser.add_argument("--scenes", type=int, default=3000, help="training scenes (default 3000)")
    parser.add_argument("--epochs", type=int, default=4, help="passes over them (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scenes and the weights (default 0)")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    net, card = train_presence_net(args.scenes, args.epochs, seed=args.seed)
    folder = save_presence_net(net, args.out or presence_dir(), card)
    print(f"held-out accuracy {card['heldout_accuracy']}; saved to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
