"""Paired statistics: two variants erased the SAME scenes with the SAME starting noise, so compare them
scene by scene, not by two independent standard errors.

- `paired_bootstrap`: the mean per-scene difference ``a - b`` and its percentile bootstrap interval,
  resampling scenes (a scene's values over several seeds stay together: pass them averaged per scene).
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
