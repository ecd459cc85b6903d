"""The results file of the ablation (``data/results/ablation.json`` + a CSV twin) and the paper's numbers.

Schema (checked by `check_results`)::

    {"profile": str, "device": str, "benchmark": {version, split, seeds, scenes, image_size, families},
     "feature_extractors": {"fid": ..., "local_fid": ..., "lpips": ..., "elimination": ...},
     "units": {...}, "rows": [{"variant", "seeds", "elimination", "elimination_std", "masked_psnr", ...}]}

Each number is the mean over sampling seeds and ``*_std`` its standard deviation (population, ddof 0; 0 for
one seed or a deterministic method). ``elimination`` is a percentage, like the paper's GPT-4o score. Which numbers
a row holds, their units, the table's columns, the per-scene values the paired statistics compare and how a bucket
summarises them all come from the registries of `metrics.registry` (a metric added there appears here).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ..paths import atomic_write, check_separate, data_dir, write_text_atomic
from . import standard  # noqa: F401 - registers the course's measures
from .registry import METRICS, PER_SCENE, paired_metrics, units

ROW_KEYS = ("variant", "seeds", "elimination", "elimination_std", "masked_psnr", "masked_psnr_std")  # required
TOP_KEYS = ("profile", "device", "benchmark", "feature_extractors", "rows")

#: The paper's Table 3 (OpenImages V5, SD2-Inpaint base): local FID (Inception) / GPT-4o elimination (%).
PAPER_TABLE3 = {"baseline": (8.852, 27.80), "sra": (5.713, 72.96), "cro": (4.950, 78.54), "cro_sra": (3.799, 83.43)}


def results_dir() -> Path:
    return data_dir() / "results"


def aggregate(variant: str, per_seed: list[dict], **extra) -> dict:
    """One table row: mean and standard deviation over seeds of every metric in ``per_seed``."""
    if not per_seed:
        raise ValueError(f"no scores for variant {variant!r}")
    row = {"variant": variant, "seeds": len(per_seed)}
    for m, metric in METRICS.items():
        if m not in per_seed[0]:
            continue
        values = np.array([s[m] for s in per_seed], np.float64) * (100.0 if metric.percent else 1.0)
        if not np.isfinite(values).all():  # e.g. no scene of the "near" bucket in a small benchmark
            row[m] = row[f"{m}_std"] = None
            continue
        row[m], row[f"{m}_std"] = float(values.mean()), float(values.std())
    paper = PAPER_TABLE3.get(variant)
    row["paper_local_fid"], row["paper_elimination"] = paper if paper else (None, None)
    return {**row, **extra}


def check_results(results: dict) -> dict:
    """Raise ValueError if ``results`` does not follow the schema; return it."""
    missing = [k for k in TOP_KEYS if k not in results]
    if missing:
        raise ValueError(f"results lack {missing}")
    if not results["rows"]:
        raise ValueError("results have no rows")
    for row in results["rows"]:
        lacking = [k for k in ROW_KEYS if k not in row]
        if lacking:
            raise ValueError(f"row {row.get('variant')!r} lacks {lacking}")
        present = [k for m in METRICS for k in (m, f"{m}_std") if row.get(k) is not None]
        bad = [k for k in present if not isinstance(row[k], (int, float)) or not np.isfinite(row[k])]
        if bad:
            raise ValueError(f"row {row['variant']!r} has non-finite or non-numeric {bad}")
    return results


def write_results(results: dict, folder: str | Path | None = None, name: str = "ablation", *,
                  reads: dict | None = None) -> Path:
    """Write ``name.json`` and ``name.csv`` (one line per row) into ``folder`` (default data/results).
    ``reads`` (option -> path: the models or files the results come from): ``folder`` must lie apart from each
    (`paths.check_separate`), since a command never writes into what it reads."""
    check_results(results)
    folder = Path(folder) if folder else results_dir()
    check_separate(reads or {}, {"--out": folder})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    write_text_atomic(path, json.dumps({**results, "units": units()}, indent=1) + "\n")
    keys = list(dict.fromkeys(k for row in results["rows"] for k in row))
    with atomic_write(folder / f"{name}.csv") as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(results["rows"])
    return path


def read_results(path: str | Path | None = None) -> dict:
    """Load and check a results file (default: the shipped ``data/results/ablation.json``)."""
    path = Path(path) if path else results_dir() / "ablation.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `python -m eradiff_lite evaluate` or notebook 06 first")
    return check_results(json.loads(path.read_text()))


def format_table(results: dict) -> str:
    """The ablation as a Markdown table: one column per registered metric that has one (`Metric.column`), a value
    and its spread over seeds ("-" where a row lacks it), and a footnote naming the feature networks.

    Two kinds of number stay in the results file but out of this table. The paper's Table 3 (``paper_local_fid``,
    ``paper_elimination``; `PAPER_TABLE3`) was measured on photos with other judges and features: notebook 06
    compares it with ours on separate axes, by the ordering of the rows, never side by side. Whole-image FID
    (``fid``) has no column: at 64 px, on the presence classifier's features, the hole is a small part of the
    picture and every fill that removes the object lands at about 0 (0.00 to 0.02 in the shipped cpu table), so it
    cannot rank the fills; local FID, on crops around the hole, can.
    """
    columns = [(m, *metric.column) for m, metric in METRICS.items() if metric.column]
    lines = ["| variant | seeds | " + " | ".join(h for _, h, _ in columns) + " |",
             "|" + "---|" * (len(columns) + 2)]

    def fmt(r, m, d):
        if r.get(m) is None:
            return "-"
        return f"{r[m]:.{d}f} ± {r[m + '_std']:.{d}f}"

    for r in results["rows"]:
        lines.append(f"| {r['variant']} | {r['seeds']} | " + " | ".join(fmt(r, m, d) for m, _, d in columns) + " |")
    fe = results["feature_extractors"]
    lines.append(f"\n*local FID features: {fe.get('local_fid', fe.get('fid'))}; LPIPS column: {fe.get('lpips')}. "
                 f"Profile {results['profile']}, device {results['device']}, benchmark "
                 f"{results['benchmark'].get('version')} ({results['benchmark'].get('scenes')} scenes).")
    return "\n".join(lines)


def paired_difference(results: dict, variant: str, reference: str, metric: str) -> tuple[float, float, int, int]:
    """``variant - reference`` for ``metric`` seed by seed (same seeds, same starting noise): mean, standard
    deviation, the number of seeds where it is positive, and the number of seeds."""
    rows = {r["variant"]: r for r in results["rows"]}
    if variant not in rows or reference not in rows:
        raise ValueError(f"results lack {variant!r} or {reference!r}: have {sorted(rows)}")
    a, b = (np.array(rows[v][f"{metric}_per_seed"], np.float64) for v in (variant, reference))
    if a.shape != b.shape:
        raise ValueError(f"{variant} and {reference} were scored on different numbers of seeds")
    d = a - b
    return float(d.mean()), float(d.std()), int((d > 0).sum()), len(d)


def merge_results(parts: list[dict], order: tuple[str, ...] = ()) -> dict:
    """One results dict from runs over disjoint groups of variants (same profile, benchmark, metrics and
    sampling; refused otherwise), rows in ``order`` (then the rest)."""
    if not parts:
        raise ValueError("nothing to merge")
    same = ("profile", "benchmark", "feature_extractors", "sampling")
    for part in parts[1:]:
        differ = [k for k in same if part.get(k) != parts[0].get(k)]
        if differ:
            raise ValueError(f"cannot merge results that differ in {differ}")
    rows = [r for part in parts for r in check_results(part)["rows"]]
    names = [r["variant"] for r in rows]
    if len(set(names)) != len(names):
        raise ValueError(f"a variant appears twice: {names}")
    rank = {n: i for i, n in enumerate(order)}
    rows.sort(key=lambda r: rank.get(r["variant"], len(rank)))
    missing = sorted(set.intersection(*[set(p.get("missing_variants", [])) for p in parts]) - set(names))
    return {**parts[0], "rows": rows, "missing_variants": missing, "merged_from": len(parts)}


def scene_values(results: dict, variant: str, key: str, bucket: str | None = None) -> np.ndarray:
    """One variant's per-scene values of ``key`` (mean over seeds; NaN where none), in ``bucket`` only."""
    rows = {r["variant"]: r for r in results["rows"]}
    if "per_scene" not in rows.get(variant, {}):
        raise ValueError(f"results hold no per-scene values for {variant!r}: re-run the evaluation")
    if key not in rows[variant]["per_scene"]:
        raise ValueError(f"results hold no per-scene {key!r}: re-run the evaluation with this version")
    values = np.array([np.nan if v is None else v for v in rows[variant]["per_scene"][key]], np.float64)
    if bucket is None:
        return values
    buckets = results["benchmark"].get("buckets", {})
    if bucket not in buckets:
        raise ValueError(f"unknown bucket {bucket!r}: the results have {sorted(buckets)}")
    return values[np.asarray(buckets[bucket], int)]


def bucket_means(results: dict, bucket: str | None, keys=("eliminated", "recreated", "masked_psnr", "masked_ssim",
                                                            "texture_log2")) -> dict:
    """``{variant: {key: value}}`` over the scenes of ``bucket`` (None: all), each per-scene value summarised as
    its registry says (`PerScene.summary`: shares as percentages, e.g. ``eliminated``; medians, e.g.
    ``texture_log2``; else means) with its extra numbers (``texture_within``, the share within +-1.5 of the
    texture log2 ratio); plus ``scenes``."""
    out = {}
    for row in results["rows"]:
        if "per_scene" not in row:
            continue
        entry = {}
        for key in keys:
            v = scene_values(results, row["variant"], key, bucket)
            v = v[np.isfinite(v)]
            values = PER_SCENE.get(key)
            entry[key] = values.bucket_value(v) if values else float(v.mean())
            for name, summary in (values.extra if values else {}).items():
                entry[name] = summary(v)
            entry["scenes"] = int(v.size)
        out[row["variant"]] = entry
    return out


def paired_stats(results: dict, variant: str, reference: str, resamples: int = 10_000,
                 bucket: str | None = None) -> dict:
    """``variant`` against ``reference`` scene by scene (both erased the same scenes with the same noise),
    on every scene or on those of ``bucket`` (see `Benchmark.buckets`):

    - every registered metric with ``paired=True`` (``masked_psnr``, ``elimination`` and ``recreation`` in
      points): mean difference of its per-scene values and a 95 % paired bootstrap interval over scenes (a
      scene's value is its mean over the sampling seeds; shares in percent);
    - ``mcnemar``: exact McNemar test on "eliminated in the majority of seeds".
    """
    from .paired import mcnemar, paired_bootstrap

    def values(name, key):
        per_scene = PER_SCENE.get(key)
        return scene_values(results, name, key, bucket) * (100 if per_scene and per_scene.summary == "share" else 1)

    stats = {"variant": variant, "reference": reference, "bucket": bucket or "all"}
    for metric in paired_metrics():
        key = metric.values_name
        stats[metric.name] = paired_bootstrap(values(variant, key), values(reference, key), resamples=resamples)
    elim_a, elim_b = values(variant, "eliminated"), values(reference, "eliminated")
    return {**stats, "mcnemar": mcnemar(elim_a > 50, elim_b > 50)}
