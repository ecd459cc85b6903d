"""Timing and memory only: each ``bench-*`` command measures one cost against its baseline in one process.

- `data`: procedural scenes per second (``bench-data``);
- `cro`: the CRO loss vs the epsilon loss (``bench-cro``);
- `sra`: Self-Rectifying Attention vs plain attention, time and peak memory (``bench-sra``);
- `train`: training images per second, baseline vs cro_sra (``bench-train``);
- `erase`: seconds from "erase" to the picture, the lite model on one 64 px picture (``bench-erase``).

The held-out *data set* of the evaluation is `eradiff_lite.metrics.benchmark` (a benchmark of quality, not speed).
"""
