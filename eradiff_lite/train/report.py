"""Reading what runs wrote: loss logs, and the loss curves and result tables of the notebook."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def read_loss_log(path: str | Path) -> dict[str, np.ndarray]:
    """``loss_log.csv`` as arrays: step, loss, lr, elapsed_s."""
    with Path(path).open() as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows]) for key in ("step", "loss", "lr", "elapsed_s")}


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Running mean over ``window`` steps (shorter at the start), for noisy per-step losses."""
    window = max(1, min(window, len(values)))
    csum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty(len(values))
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (csum[i + 1] - csum[lo]) / (i + 1 - lo)
    return out


def plot_loss_curves(logs: dict[str, dict[str, np.ndarray]], window: int = 20, title: str | None = None):
    """One panel per variant (the losses of CRO and epsilon objectives differ in scale); returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(logs), figsize=(2.6 * len(logs), 2.4), squeeze=False)
    for ax, (name, log) in zip(axes[0], logs.items()):
        finite = np.isfinite(log["loss"])
        ax.plot(log["step"][finite], log["loss"][finite], lw=0.5, alpha=0.35, color="tab:gray")
        ax.plot(log["step"][finite], smooth(log["loss"][finite], window), lw=1.2, color="tab:blue")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_yscale("log")
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
