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
    from matplotlib.ticker import LogLocator, NullFormatter

    cols = min(4, len(logs))  # at most four panels a row, so that each axis keeps room for its labels
    rows = -(-len(logs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat[len(logs):]:
        ax.set_axis_off()
    for ax, (name, log) in zip(axes.flat, logs.items()):
        finite = np.isfinite(log["loss"])
        ax.plot(log["step"][finite], log["loss"][finite], lw=0.5, alpha=0.35, color="tab:gray")
        ax.plot(log["step"][finite], smooth(log["loss"][finite], window), lw=1.2, color="tab:blue")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(numticks=4))  # a few labelled decades, unlabelled minor ticks
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_recipe_study(table: dict, task: str = "erase"):
    """The recipe study (``data/results/recipe_study.json``): masked PSNR of each arm on one held-out task
    (``inpaint`` or ``erase``) beside the reference fills, and the arm's HF ratio, one panel per quantity."""
    import matplotlib.pyplot as plt

    rows = sorted(table["rows"], key=lambda r: -r["scores"][task]["masked_psnr"])
    # on the inpaint task "untouched" is the truth itself (100 dB): not a reference there
    refs = {n: s for n, s in table["references"].items() if not (task == "inpaint" and n == "untouched")}
    names = [r["arm"] for r in rows] + [f"{n} (fill)" for n in refs]
    scores = [r["scores"][task] for r in rows] + [s[task] for s in refs.values()]
    colours = ["C0"] * len(rows) + ["C7"] * len(refs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    for ax, key, title in ((axes[0], "masked_psnr", f"{task}: masked PSNR (dB) ↑"),
                           (axes[1], "hf_ratio_median", f"{task}: HF ratio (1 = the truth's texture)")):
        ax.bar(range(len(names)), [s[key] for s in scores], color=colours)
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
    psnr = [s["masked_psnr"] for s in scores]
    axes[0].set_ylim(min(psnr) - 2, max(psnr) + 1)  # the differences are a few dB
    axes[1].set_yscale("log")
    axes[1].axhline(1.0, color="k", lw=0.6)
    fig.suptitle(f"{table['benchmark']}; {table['device']}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_learning_curve(curve: dict, references: dict | None = None):
    """Held-out masked PSNR of a run's checkpoints (EMA) against images seen (``study curve``), one panel per
    task; ``references``: ``{fill: {task: scores}}`` drawn as horizontal lines (e.g. the flat fill)."""
    import matplotlib.pyplot as plt

    images = [row["images"] for row in curve["rows"]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    for ax, task in zip(axes, ("inpaint", "erase")):
        ax.plot(images, [row["scores"][task]["masked_psnr"] for row in curve["rows"]], "o-", label=curve["run"])
        for i, (name, scores) in enumerate((references or {}).items()):
            if name != "untouched" or task == "erase":  # untouched is the truth itself on the inpaint task
                ax.axhline(scores[task]["masked_psnr"], ls="--", lw=0.8, color=f"C{i + 1}", label=name)
        ax.set_xlabel("images seen")
        ax.set_ylabel("masked PSNR (dB)")
        ax.set_title(f"{task} ({curve['scenes']} held-out scenes)", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
