"""Paired statistics: two variants erased the SAME scenes with the SAME starting noise, so compare them
scene by scene, not by two independent standard errors.

- `paired_bootstrap`: the mean per-scene difference ``a - b`` and its percentile bootstrap interval,
  resampling scenes (a scene's values over several seeds stay together: pass them averaged per scene).
- `difference_shown`: the course's one verdict rule (interval excludes 0 and McNemar's p < 0.05).
- `mcnemar`: for a yes/no outcome per scene (eliminated or not), the exact McNemar test on the
  discordant pairs: ``n_ab`` scenes where only ``a`` succeeds, ``n_ba`` where only ``b`` does;
  under "no difference" ``n_ab ~ Binomial(n_ab + n_ba, 1/2)``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest


def paired_bootstrap(a, b, *, resamples: int = 10_000, level: float = 0.95, seed: int = 0) -> dict:
    """``{"mean", "low", "high", "n"}`` of ``mean(a - b)`` over scenes (``a``, ``b``: one value per scene)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"need two equal-length 1-D arrays of >= 2 per-scene values, got {a.shape} and {b.shape}")
    diff = a - b
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (resamples, diff.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return {"mean": float(diff.mean()), "low": float(low), "high": float(high), "n": int(diff.size)}


def mcnemar(a, b) -> dict:
    """Exact McNemar test of two paired boolean outcomes: ``{"n_ab", "n_ba", "p_value"}``."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two equal-length 1-D boolean arrays, got {a.shape} and {b.shape}")
    n_ab, n_ba = int((a & ~b).sum()), int((~a & b).sum())
    p = 1.0 if n_ab + n_ba == 0 else float(binomtest(n_ab, n_ab + n_ba, 0.5).pvalue)
    return {"n_ab": n_ab, "n_ba": n_ba, "p_value": p}


SHOWN_P = 0.05  # McNemar's p below which a difference whose interval excludes 0 counts as shown


def difference_shown(low: float, high: float, p_value: float | None = None) -> int:
    """The course's one verdict rule for a paired difference ``a - b``: ``+1`` when it is shown above 0, ``-1``
    when shown below 0, ``0`` when not shown.

    Shown means: its 95 % interval ``[low, high]`` excludes 0 AND, where a McNemar test exists (``p_value`` given),
    McNemar's p < `SHOWN_P`. A measure without a McNemar test (masked PSNR, the texture measure) is read by its
    interval alone. "Not shown" is not "shown to be absent": the data do not show a difference, that is all.
    Notebooks 04 and 06, `experiments.findings` and `experiments.sra_study` call it; the capstone's class table
    (`experiments.capstone_table.verdict`) applies the same rule to elimination."""
    confirmed = p_value is None or p_value < SHOWN_P
    if low > 0 and confirmed:
        return 1
    if high < 0 and confirmed:
        return -1
    return 0
