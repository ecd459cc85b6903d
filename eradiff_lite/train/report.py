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
    task; ``references``: ``{fill: {task: scores}}`` drawn as horizontal lines (e.g. the flat fill). Each panel's
    axis fits the run's own curve, so its trend shows; a reference far off it is named in the legend with its
    value instead of squeezing the curve flat."""
    import matplotlib.pyplot as plt

    images = [row["images"] for row in curve["rows"]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    for ax, task in zip(axes, ("inpaint", "erase")):
        values = [row["scores"][task]["masked_psnr"] for row in curve["rows"]]
        ax.plot(images, values, "o-", label=curve["run"])
        low, high = min(values) - 1.0, max(values) + 1.0  # dB of margin around the curve
        for i, (name, scores) in enumerate((references or {}).items()):
            if name != "untouched" or task == "erase":  # untouched is the truth itself on the inpaint task
                value = scores[task]["masked_psnr"]
                if low - 3.0 <= value <= high + 3.0:  # near the curve: drawn, and the axis takes it in
                    ax.axhline(value, ls="--", lw=0.8, color=f"C{i + 1}", label=name)
                    low, high = min(low, value - 0.5), max(high, value + 0.5)
                else:
                    ax.plot([], [], ls="--", lw=0.8, color=f"C{i + 1}",
                            label=f"{name}: {value:.1f} dB ({'above' if value > high else 'below'} the axis)")
        ax.set_ylim(low, high)
        ax.set_xlabel("images seen")
        ax.set_ylabel("masked PSNR (dB)")
        ax.set_title(f"{task} ({curve['scenes']} held-out scenes)", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fill_study_arms(fill_study: dict) -> dict[str, dict[str, dict]]:
    """The fill study's arms in the study's order: arm -> {"EMA" or "raw": its row} (rows named "arm (EMA)" /
    "arm (raw weights)"; a row without a weights suffix counts as EMA). The reference fills are left out."""
    arms: dict[str, dict[str, dict]] = {}
    for row in fill_study["rows"]:
        if not row.get("reference"):
            arm, _, weights = row["name"].partition(" (")
            arms.setdefault(arm, {})["raw" if weights.startswith("raw") else "EMA"] = row
    return arms


def plot_fill_study(fill_study: dict, recipe_check: dict, half: str = "128-255"):
    """The fill study (``data/results/fill_study.json``) and the recipe check (``recipe_check.json``) in one figure;
    returns it.

    Top row: one dot per arm of the fill study (filled: EMA weights, hollow: raw weights) in three panels, the share
    of smooth holes whose fill is within the texture band, of textured holes within it, and of scenes eliminated;
    the reference fills present among the rows ("truth", "truth shifted 3 px", "flat", "biharmonic") are vertical
    lines. Bottom row: the recipe check's variants on the benchmark half starting with ``half``, an arrow from the
    shipped model to the one retrained with the loss over the hole, on the same three measures.
    """
    import matplotlib.pyplot as plt

    named = {r["name"]: r for r in fill_study["rows"]}
    arms = fill_study_arms(fill_study)
    checked = [r for r in recipe_check["rows"] if r["half"].startswith(half)]
    if not arms or not checked:
        raise ValueError(f"nothing to draw: {len(arms)} arms, {len(checked)} recipe-check rows on half {half!r}")

    def shares(erase):
        return erase["smooth"]["within"], erase["textured"]["within"], erase["elimination"]

    def colour(arm):
        return ("tab:green" if arm.startswith("scratch") else
                "tab:orange" if arm.startswith(("paired", "shipped paired", "shipped cro_sra")) else "tab:blue")

    references = {"truth": ("k", "-"), "truth shifted 3 px": ("tab:purple", "--"), "flat": ("tab:gray", ":"),
                  "biharmonic": ("tab:olive", "-.")}
    panels = ["smooth holes within the band, %", "textured holes within the band, %", "scenes eliminated, %"]
    fig, axes = plt.subplots(2, 3, figsize=(12, 9.5), sharex="col",
                             gridspec_kw={"height_ratios": [len(arms), len(checked) + 1]})
    for p, ax in enumerate(axes[0]):
        for y, (arm, by_weights) in enumerate(arms.items()):
            for weights, face, dy in (("EMA", colour(arm), -0.15), ("raw", "white", 0.15)):
                if weights in by_weights:
                    ax.plot(shares(by_weights[weights]["erase"])[p], y + dy, "o", ms=6, mfc=face, mec=colour(arm))
        for name, (line, style) in references.items():
            if name in named:
                ax.axvline(shares(named[name]["erase"])[p], color=line, lw=1.2, ls=style,
                           label=name if p == 0 else None)
        ax.set_yticks(range(len(arms)), [a.replace("100 steps", "100 sampling steps") for a in arms] if p == 0 else [])
        ax.set_ylim(len(arms) - 0.5, -0.5)
        ax.set_title(panels[p], fontsize=9)
        ax.grid(axis="y", lw=0.3)
    for label, face, edge in (("baseline's task", "tab:blue", "tab:blue"),
                              ("erasers (paired data)", "tab:orange", "tab:orange"),
                              ("from scratch (architecture)", "tab:green", "tab:green"),
                              ("raw weights (hollow)", "white", "0.3")):
        axes[0][0].plot([], [], "o", mfc=face, mec=edge, label=label)
    for p, ax in enumerate(axes[1]):
        key = ("texture_smooth", "texture_textured", None)[p]
        for y, r in enumerate(checked):
            before, after = ((r[key]["within_before"], r[key]["within_after"]) if key
                             else (r["elimination_before"], r["elimination_after"]))
            ax.annotate("", (after, y), (before, y), arrowprops={"arrowstyle": "->", "color": "tab:red"})
            ax.plot(before, y, "o", ms=5, mfc="white", mec="tab:red", label="shipped" if y + p == 0 else None)
            ax.plot(after, y, "o", ms=5, color="tab:red", label="retrained, loss over the hole" if y + p == 0 else None)
        ax.set_yticks(range(len(checked)), [r["variant"] for r in checked] if p == 0 else [])
        ax.set_ylim(len(checked) - 0.5, -0.5)
        ax.set_xlim(-3, 103)
        ax.set_xlabel(panels[p] + ("\n(notebook 06's judge)" if p == 2 else ""), fontsize=9)
        ax.grid(axis="y", lw=0.3)
    seeds = str(fill_study.get("benchmark", {}).get("seeds", "?")).replace("..", "-")
    axes[0][0].set_ylabel(f"fill study: one change per arm, scenes {seeds}", fontsize=9)
    axes[1][0].set_ylabel(f"recipe check, scenes {checked[0]['half'].split()[0]}:\nshipped -> retrained", fontsize=9)
    fig.legend(loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle("Which training change makes the fills texture-true, and what it costs in erasing", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
