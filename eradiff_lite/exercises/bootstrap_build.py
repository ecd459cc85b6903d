"""The build exercise `paired_bootstrap_ci` (notebook 06): the paired bootstrap interval of the ablation's paired
differences, with the signature and result of `metrics.paired.paired_bootstrap`.

The task fixes the random draws (one ``integers`` call of ``np.random.default_rng(seed)``), so a right answer
matches the package draw for draw, and `grade_paired_bootstrap` compares exactly, at two levels and sizes. A wrong
answer gets a symptom that does not depend on its draws: an interval of zero width where the scenes' differences
vary (every resample the same scenes again), an interval that stays wide when both models differ by the same
amount on every scene (the scenes' two values not kept together), tails of the resampled means that do not hold
``(1 - level) / 2`` each (checked against a large bootstrap distribution of the grader's own), a seed that does
not decide the draws.
"""

from __future__ import annotations

import numpy as np

from .check import NotYet

TASK = ("Build `my_paired_bootstrap(a, b, *, resamples=10_000, level=0.95, seed=0)` (metrics.paired.paired_bootstrap): "
        "a and b hold one value per scene for two models that erased the SAME scenes. Return {mean, low, high, n}: "
        "the mean of a - b, the percentile interval at `level` of the mean difference over `resamples` resamples of "
        "the scenes, and the number of scenes. Draw the scenes of every resample from rng = "
        "np.random.default_rng(seed) in one call rng.integers(0, n, (resamples, n)) (row r: resample r), so that "
        "yours matches the package draw for draw.")
SOLUTION = ("def my_paired_bootstrap(a, b, *, resamples=10_000, level=0.95, seed=0):\n"
            "    import numpy as np\n"
            "    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)  # one difference per scene: the pairs\n"
            "    rng = np.random.default_rng(seed)\n"
            "    rows = rng.integers(0, diff.size, (resamples, diff.size))  # scenes drawn with replacement\n"
            "    means = diff[rows].mean(axis=1)  # the mean difference of each resample\n"
            "    tail = (1 - level) / 2 * 100  # percent left out on each side\n"
            "    low, high = np.percentile(means, [tail, 100 - tail])\n"
            "    return {'mean': float(diff.mean()), 'low': float(low), 'high': float(high), 'n': int(diff.size)}\n")
STUB = ("def my_paired_bootstrap(a, b, *, resamples=10_000, level=0.95, seed=0):\n"
        "    import numpy as np\n"
        "    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)\n"
        "    rng = np.random.default_rng(seed)\n"
        "    mean_a = a[rng.integers(0, a.size, (resamples, a.size))].mean(axis=1)  # a first guess: each model's\n"
        "    mean_b = b[rng.integers(0, b.size, (resamples, b.size))].mean(axis=1)  # scenes resampled on their own\n"
        "    tail = (1 - level) / 2 * 100\n"
        "    low, high = np.percentile(mean_a - mean_b, [tail, 100 - tail])\n"
        "    return {'mean': float((a - b).mean()), 'low': float(low), 'high': float(high), 'n': int(a.size)}\n")
HINTS = ("Both models erased the same scenes, so most of the spread between scenes (easy and hard scenes) is shared: "
         "resample SCENES, and keep each scene's two values together, so that the interval measures only how the "
         "difference varies. A resample has as many scenes as the data, drawn with replacement (some twice, some "
         "not at all); the interval cuts off (1 - level) / 2 of the resampled means on each side.",
         "d_i = a_i - b_i;  rows = rng.integers(0, n, (resamples, n));  m_r = mean(d[rows[r]]);  "
         "[low, high] = percentiles of m at 100 (1 - level) / 2 and 100 - 100 (1 - level) / 2;  mean = mean(d).")
KEYS = ("mean", "low", "high", "n")


def _scores(n: int = 40):
    """Per-scene values of two models: a large scene effect both share, a small gain for ``a``."""
    rng = np.random.default_rng(21)
    scene = rng.normal(20.0, 4.0, n)
    return scene + 0.4 + rng.normal(0, 0.6, n), scene + rng.normal(0, 0.6, n)


def _call(answer, a, b, **kwargs) -> dict:
    where = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    try:
        got = answer(a.copy(), b.copy(), **kwargs)
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        raise NotYet(f"paired bootstrap: with {where}, your function raised {type(error).__name__}: {error}") \
            from None
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        raise NotYet(f"paired bootstrap: return a dict with the keys {', '.join(KEYS)}, got "
                     f"{sorted(got) if isinstance(got, dict) else type(got).__name__}")
    try:
        return {k: float(got[k]) for k in KEYS}
    except (TypeError, ValueError) as error:
        raise NotYet(f"paired bootstrap: mean, low, high and n are numbers ({error})") from None


def _same(got: dict, want: dict) -> bool:
    return all(np.isclose(got[k], want[k], rtol=1e-9, atol=1e-9) for k in KEYS)


def grade_paired_bootstrap(answer) -> None:
    from ..metrics.paired import paired_bootstrap

    a, b = _scores()
    diff = a - b
    got = _call(answer, a, b, resamples=2000, level=0.95, seed=3)
    if not np.isclose(got["mean"], diff.mean(), rtol=1e-9, atol=1e-9):
        said = "b - a, the other way round" if np.isclose(got["mean"], -diff.mean()) else "not the mean of a - b"
        raise NotYet(f"paired bootstrap: your mean is {got['mean']:.4f}, {said}: the mean per-scene difference "
                     f"is {diff.mean():.4f}")
    if got["n"] != diff.size:
        raise NotYet(f"paired bootstrap: n is {got['n']:g} for {diff.size} scenes: n counts the scenes (pairs)")
    again = _call(answer, a, b, resamples=2000, level=0.95, seed=3)
    if not _same(got, again):
        raise NotYet(f"paired bootstrap: two calls with seed 3 gave [{got['low']:.4f}, {got['high']:.4f}] and "
                     f"[{again['low']:.4f}, {again['high']:.4f}]: the draws must come from the seed")
    cases = [(a, b, dict(resamples=2000, level=0.95, seed=3)), (a, b, dict(resamples=500, level=0.8, seed=11)),
             (a, a - 0.3, dict(resamples=300, level=0.9, seed=0))]
    if all(_same(_call(answer, x, y, **kw), paired_bootstrap(x, y, **kw)) for x, y, kw in cases):
        return
    _diagnose(answer, a, b)


def _diagnose(answer, a, b) -> None:
    diff = a - b
    got = _call(answer, a, b, resamples=2000, level=0.95, seed=3)
    if got["high"] - got["low"] < 1e-9:
        raise NotYet(f"paired bootstrap: your interval [{got['low']:.4f}, {got['high']:.4f}] has no width although "
                     f"the scenes' differences range from {diff.min():+.2f} to {diff.max():+.2f}: every one of your "
                     f"resamples has the same mean, as if it held the same {diff.size} scenes again, each once")
    same = _call(answer, a, a - 0.3, resamples=2000, level=0.95, seed=3)
    if same["high"] - same["low"] > 1e-6:
        raise NotYet(f"paired bootstrap: when a beats b by exactly 0.3 on every scene (b = a - 0.3), every resample "
                     f"of the scenes has the mean difference 0.3, yet your interval is [{same['low']:.3f}, "
                     f"{same['high']:.3f}]: your resamples do not keep each scene's two values together")
    reference = diff[np.random.default_rng(12345).integers(0, diff.size, (50_000, diff.size))].mean(axis=1)
    tails = []
    for level in (0.95, 0.8):
        got = _call(answer, a, b, resamples=20_000, level=level, seed=5)
        below, above = (reference < got["low"]).mean(), (reference > got["high"]).mean()
        tails.append((level, below, above))
    expected = {level: (1 - level) / 2 for level, _, _ in tails}
    off = [(lv, lo, hi) for lv, lo, hi in tails if max(abs(lo - expected[lv]), abs(hi - expected[lv])) > 0.008]
    if not off and _same(_call(answer, a, b, resamples=2000, level=0.95, seed=3),
                         _call(answer, a, b, resamples=2000, level=0.95, seed=4)):
        raise NotYet("paired bootstrap: seeds 3 and 4 gave the same interval: the seed does not decide the draws")
    if not off:
        raise NotYet("paired bootstrap: your intervals leave the right share of resampled means on each side, but "
                     "they are not the package's draw for draw: draw all the scene indices at once with "
                     "rng.integers(0, n, (resamples, n)) from rng = np.random.default_rng(seed), and take numpy's "
                     "percentiles of the resampled mean differences")
    said = "; ".join(f"at level {lv:g} it leaves {lo:.1%} of them below and {hi:.1%} above (where the {lv:.0%} "
                     f"interval leaves {expected[lv]:.1%} on each side)" for lv, lo, hi in tails)
    if all(lo + hi < 0.002 for _, lo, hi in tails):
        said += ": it holds (nearly) every resampled mean, as wide as the spread of single scenes' differences"
    elif len({round(lo + hi, 2) for _, lo, hi in tails}) == 1:
        said += ": it does not change with the level"
    raise NotYet(f"paired bootstrap: against a large bootstrap of the mean difference, your interval is off: {said}")
