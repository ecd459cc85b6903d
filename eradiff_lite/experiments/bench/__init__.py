"""Timing and memory only: each ``bench-*`` command measures one cost against its baseline in one process.

- `data`: procedural scenes per second (``bench-data``);
- `cro`: the CRO loss vs the epsilon loss (``bench-cro``);
- `sra`: Self-Rectifying Attention vs plain attention, time and peak memory (``bench-sra``);
- `train`: training images per second, baseline vs cro_sra (``bench-train``);
- `erase`: seconds from "erase" to the picture, the lite model on one 64 px picture (``bench-erase``).

The held-out *data set* of the evaluation is `eradiff_lite.metrics.benchmark` (a benchmark of quality, not speed).
"""

from __future__ import annotations

from torch.utils.benchmark import timer as clock  # torch's benchmark clock: synchronizes an accelerator first


def seconds(fn) -> float:
    """Wall-clock seconds of one call ``fn()``, read with torch's benchmark clock (queued GPU work included).

    The commands interleave their cases call by call (so a busy shared machine slows both alike) and report
    medians; `torch.utils.benchmark.Timer` would warm up and time each case on its own, at one thread."""
    start = clock()
    fn()
    return clock() - start
