"""What a metric is, and the registries that the scoring, the results file, the table and the paired statistics
iterate over (the one door a new measure goes through).

Two kinds of record, registered in order (the order is the results file's column order):

- `PerScene`: one value per benchmark scene, computed from a `ScoreInputs` (``eliminated``, ``masked_psnr``,
  ``texture_log2``, ...); ``keep`` stores its seed-averaged values in each results row (``row["per_scene"]``) for
  the paired statistics and the bucket means, ``summary`` says how a bucket summarises it (``"mean"``,
  ``"share"``: a yes/no outcome shown in percent, ``"median"``).
- `Metric`: one number of the table (``elimination``, ``masked_psnr``, ``fid``, ...): its unit and direction, the
  per-scene values it summarises (``values``, a name or a `PerScene` registered with it) and how (``reduce``),
  or a set-level ``compute`` for numbers with no per-scene value (FID); ``percent`` stores it times 100;
  ``paired`` adds a paired bootstrap interval over its per-scene values to `results.paired_stats`; ``column``
  (header, decimals) puts it in `results.format_table`.

Adding a metric is one file: `register_metric(Metric(..., values=PerScene(..., compute=...)))`.
The course's own are registered in `metrics.standard`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

DIRECTIONS = ("higher", "lower", "zero", "none")  # which way is better ("zero": 0 is best, the texture ratio)
SUMMARIES = ("mean", "share", "median")


@dataclass
class ScoreInputs:
    """What a measure may look at for one set of erased images: the benchmark, the composited output ``out``
    (``N x 3 x H x W`` in [-1, 1]) and its pictures ``images`` (``H x W x 3`` in [0, 1]), the benchmark's tensors,
    the `MetricKit`, and a cache shared by the measures of one scoring (`shared`)."""

    bench: object  # metrics.benchmark.Benchmark
    out: torch.Tensor
    images: list
    tensors: dict
    kit: object  # metrics.scoring.MetricKit
    cache: dict = field(default_factory=dict)

    def shared(self, key: str, make: Callable[[], object]):
        """``make()`` once per scoring (e.g. the judge's verdicts, read by two per-scene values)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def bucket(self, name: str) -> np.ndarray:
        return self.shared(f"bucket:{name}", lambda: self.bench.buckets()[name])

    def values(self, name: str) -> np.ndarray:
        """The per-scene values of the registered ``name``, computed once."""
        return self.shared(f"values:{name}", lambda: np.asarray(get_per_scene(name).compute(self)))


@dataclass(frozen=True)
class PerScene:
    """One value per scene (see the module's docstring); ``compute`` None: read from older results only."""

    name: str
    compute: Callable[[ScoreInputs], np.ndarray] | None
    about: str = ""
    keep: bool = False
    summary: str = "mean"
    extra: dict = field(default_factory=dict)  # more bucket numbers: name -> f(values) (e.g. texture_within)

    def bucket_value(self, values: np.ndarray) -> float:
        """A bucket's number: median, percent (share) or mean of the finite values."""
        if self.summary == "median":
            return float(np.median(values))
        return float((100 if self.summary == "share" else 1) * values.mean())


@dataclass(frozen=True)
class Metric:
    """One number of the table (see the module's docstring). ``reduce(values, inputs)`` defaults to the mean;
    ``compute(inputs)`` replaces both for a set-level number; neither: read from older results only."""

    name: str
    unit: str
    direction: str
    values: str | PerScene | None = None
    reduce: Callable[[np.ndarray, ScoreInputs], float] | None = None
    compute: Callable[[ScoreInputs], float] | None = None
    percent: bool = False
    paired: bool = False
    column: tuple[str, int] | None = None

    @property
    def values_name(self) -> str | None:
        return self.values.name if isinstance(self.values, PerScene) else self.values

    @property
    def scored(self) -> bool:
        return self.compute is not None or self.values is not None

    def score(self, inputs: ScoreInputs) -> float:
        """The set's number (a fraction when ``percent``: the results file multiplies by 100)."""
        if self.compute is not None:
            return float(self.compute(inputs))
        values = inputs.values(self.values_name)
        return float(self.reduce(values, inputs) if self.reduce else values.mean())

    def shown(self, value: float) -> float:
        """``value`` as the results file stores it (percent metrics times 100)."""
        return value * (100.0 if self.percent else 1.0)


PER_SCENE: dict[str, PerScene] = {}
METRICS: dict[str, Metric] = {}


def register_per_scene(values: PerScene, *, replace: bool = False) -> PerScene:
    if values.summary not in SUMMARIES:
        raise ValueError(f"per-scene {values.name!r}: summary must be one of {SUMMARIES}, got {values.summary!r}")
    if values.name in PER_SCENE and not replace and PER_SCENE[values.name] is not values:
        raise ValueError(f"per-scene values named {values.name!r} are registered already: choose another name")
    PER_SCENE[values.name] = values
    return values


def register_metric(metric: Metric, *, replace: bool = False) -> Metric:
    """Add ``metric`` (and its `PerScene`, when it carries one); returns it."""
    if metric.direction not in DIRECTIONS:
        raise ValueError(f"metric {metric.name!r}: direction must be one of {DIRECTIONS}, got {metric.direction!r}")
    if metric.name in METRICS and not replace:
        raise ValueError(f"a metric named {metric.name!r} is registered already: choose another name")
    if metric.paired and metric.values is None:
        raise ValueError(f"metric {metric.name!r} is paired but has no per-scene values to pair")
    if isinstance(metric.values, PerScene):
        register_per_scene(metric.values, replace=replace)
    elif metric.values is not None and metric.values not in PER_SCENE:
        raise ValueError(f"metric {metric.name!r} summarises unknown per-scene values {metric.values!r}")
    METRICS[metric.name] = metric
    return metric


def unregister_metric(name: str) -> None:
    """Remove a metric and the per-scene values it carried (tests, notebooks); a missing name is no error."""
    metric = METRICS.pop(name, None)
    if metric is not None and isinstance(metric.values, PerScene):
        PER_SCENE.pop(metric.values.name, None)


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}: choose one of {', '.join(METRICS)}")
    return METRICS[name]


def get_per_scene(name: str) -> PerScene:
    if name not in PER_SCENE:
        raise ValueError(f"unknown per-scene values {name!r}: choose one of {', '.join(PER_SCENE)}")
    return PER_SCENE[name]


def units() -> dict[str, str]:
    """``{metric: unit}`` of every registered metric: the results file's ``units``."""
    return {name: m.unit for name, m in METRICS.items()}


def kept_per_scene() -> list[str]:
    """The per-scene values a results row keeps (averaged over seeds), for the paired statistics and the bucket
    means: the registered `PerScene` values with ``keep``, in their order."""
    return [name for name, values in PER_SCENE.items() if values.keep]


def paired_metrics() -> list[Metric]:
    """The metrics `results.paired_stats` gives an interval for, in the order of their per-scene values."""
    order = {name: i for i, name in enumerate(PER_SCENE)}
    return sorted((m for m in METRICS.values() if m.paired), key=lambda m: order[m.values_name])
