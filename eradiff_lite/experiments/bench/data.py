"""How fast the procedural scenes are made (one process, one core)."""

from __future__ import annotations

from ...data.procedural import make_scene
from . import seconds


def benchmark_scenes(size: int = 64, count: int = 2000, verbose: bool = True) -> float:
    """Make ``count`` train scenes at ``size`` and return (and print) triplets per second."""
    make_scene(0, size)  # warm caches (coordinate grids, texture photos)
    rate = count / seconds(lambda: [make_scene(seed, size) for seed in range(count)])
    if verbose:
        print(f"procedural triplets at {size}x{size}: {rate:.0f} triplets/s ({count} scenes, one process)")
    return rate
