"""Train the object-presence classifier on training scenes and ship it with a card.

``python -m eradiff_lite train-presence [--out data/metrics] [--scenes 3000] [--epochs 4] [--run-dir DIR [--resume]]``

Data: for each *train*-split scene (families pepperoni, orange, cookie, coin) at 32 and 64 pixels, the
crop around the pasted object's box in ``x_obj`` (label 1, present) and in ``x_ori`` (label 0, absent).
The crop's context factor is jittered in [1.6, 2.4] and crops are flipped at random, so the net does
not key on one exact framing; half the crops get their RGB channels permuted, so colour alone (no
training family is blue) does not decide. Loss: binary cross-entropy ``-[y log p + (1 - y) log(1 - p)]``, Adam
with a one-cycle lr, on the course's training engine (`eradiff_lite.train.engine`): with ``--run-dir`` it keeps
checkpoints there, Ctrl-C saves one and prints the command that resumes, and ``--resume`` continues exactly.
Held-out check: the *heldout* split (other seeds, plus the unseen families button and egg).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..cliargs import Parser, count
from ..cliargs import seed as seed_range
from ..data import make_scene, to_tensor
from ..metrics.crops import box_crops
from ..metrics.presence import PresenceNet, presence_dir, save_presence_net
from ..train.checkpoint import list_checkpoints
from ..train.engine import Run, checkpoints_to_resume, fit, make_accelerator, run_folder
from ..train.hooks import Checkpoints, StopOnInterrupt

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


class EpochOrder:
    """The order of the crops in the current epoch: a new ``torch.randperm`` (global RNG) at each epoch's first
    step, kept in the run's checkpoints (``state_dict``) so that a resume in mid-epoch continues in the same order."""

    def __init__(self, count: int, batch_size: int):
        self.count, self.batch_size, self.per_epoch = count, batch_size, count // batch_size
        self.order = torch.arange(count)

    def indices(self, step: int) -> torch.Tensor:
        b = step % self.per_epoch
        if b == 0:
            self.order = torch.randperm(self.count)
        return self.order[b * self.batch_size:(b + 1) * self.batch_size]

    def state_dict(self) -> dict:
        return {"order": self.order}

    def load_state_dict(self, state: dict) -> None:
        self.order = state["order"]


def train_presence_net(scenes: int = 3000, epochs: int = 4, batch_size: int = 64, lr: float = 2e-3,
                       heldout_scenes: int = 600, seed: int = 0, *, run_dir: str | Path | None = None,
                       resume: bool = False, checkpoint_every: int = 100,
                       progress: bool = True) -> tuple[PresenceNet, dict]:
    """Train on ``scenes`` train scenes; returns the net (eval mode) and its card (accuracies, settings).
    ``run_dir``: a folder for checkpoints (every ``checkpoint_every`` steps, at the end and at Ctrl-C), locked while
    it trains; ``resume=True`` continues from its newest checkpoint exactly."""
    if scenes < 8 or epochs < 1:
        raise ValueError("need at least 8 scenes and 1 epoch")
    if resume and run_dir is None:
        raise ValueError("resume=True needs the run_dir that holds the run's checkpoints")
    with run_folder(run_dir) if run_dir is not None else contextlib.nullcontext():
        return _train(scenes, epochs, batch_size, lr, heldout_scenes, seed, Path(run_dir) if run_dir else None,
                      resume, checkpoint_every, progress)


def _train(scenes, epochs, batch_size, lr, heldout_scenes, seed, run_dir, resume, checkpoint_every, progress):
    existing = checkpoints_to_resume(run_dir / "checkpoints", resume) if run_dir is not None else []
    torch.manual_seed(seed)
    start = time.perf_counter()
    x, y, _ = presence_crops(scenes, "train", jitter=True, seed=seed)
    net = PresenceNet()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    order = EpochOrder(len(x), batch_size)
    steps = epochs * order.per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    run = Run(make_accelerator("no", cpu=True), net, opt, "presence net", steps, sched, extras={"order": order},
              ckpt_dir=run_dir / "checkpoints" if run_dir is not None else None, keep_checkpoints=2)
    first = run.resume(existing) if resume else 0
    run.prepare()

    def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = order.indices(step)
        return x[idx], y[idx]

    def loss_fn(run: Run, batch: tuple) -> torch.Tensor:  # -[y log p + (1-y) log(1-p)]
        return F.binary_cross_entropy_with_logits(run.model(batch[0]), batch[1])

    hooks = [Checkpoints(checkpoint_every, 2, steps)] if run_dir is not None else []
    fit(run, batches, loss_fn, range(first, steps), [*hooks, StopOnInterrupt()], progress=progress)
    net.eval().requires_grad_(False)
    hx, hy, hfam = presence_crops(heldout_scenes, "heldout")
    tx, ty, tfam = presence_crops(min(scenes, 600), "train")
    card = {
        "task": "object present (x_obj crop, 1) vs absent (x_ori crop, 0) around the pasted object's box",
        "train": {"split": "train", "scenes": scenes, "image_sizes": list(TRAIN_SIZES), "epochs": epochs,
                  "batch_size": batch_size, "lr": lr, "optimizer": "Adam + one-cycle", "seed": seed,
                  **({"resumed_at_step": first} if first else {}),
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
    parser = Parser(prog="python -m eradiff_lite train-presence", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="folder for presence_net.* (default data/metrics)")
    parser.add_argument("--scenes", type=count(8), default=3000, help="training scenes (default 3000)")
    parser.add_argument("--epochs", type=count(1), default=4, help="passes over them (default 4)")
    parser.add_argument("--seed", type=seed_range(), default=0, help="seed of the scenes and the weights (default 0)")
    parser.add_argument("--run-dir", default=None,
                        help="folder for the run's checkpoints (Ctrl-C saves one there; default: none kept)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --run-dir")
    args = parser.parse_args(argv)
    if args.resume and args.run_dir is None:
        parser.error("--resume needs the --run-dir of the run")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    try:
        net, card = train_presence_net(args.scenes, args.epochs, seed=args.seed, run_dir=args.run_dir,
                                       resume=args.resume)
    except KeyboardInterrupt:
        saved = list_checkpoints(Path(args.run_dir) / "checkpoints") if args.run_dir else []
        if not saved:
            print("interrupted: no checkpoint kept (pass --run-dir to keep some); run the same command again",
                  file=sys.stderr)
            return 130
        command = ["train-presence", "--scenes", str(args.scenes), "--epochs", str(args.epochs), "--seed",
                   str(args.seed), "--run-dir", args.run_dir, "--resume", *(["--out", args.out] if args.out else [])]
        print(f"interrupted: checkpoint {saved[-1]} saved; resume with: python -m eradiff_lite {' '.join(command)}",
              file=sys.stderr)
        return 130
    folder = save_presence_net(net, args.out or presence_dir(), card)
    print(f"held-out accuracy {card['heldout_accuracy']}; saved to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
