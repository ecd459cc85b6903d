"""The results file of the ablation (``data/results/ablation.json`` + a CSV twin) and the paper's numbers.

Schema (checked by `check_results`)::

    {"profile": str, "device": str, "benchmark": {version, split, seeds, scenes, image_size, families},
     "feature_extractors": {"fid": ..., "local_fid": ..., "lpips": ..., "elimination": ...},
     "units": {...}, "rows": [{"variant", "seeds", "elimination", "elimination_std", "masked_psnr", ...}]}

Each number is the mean over sampling seeds and ``*_std`` its standard deviation (population, ddof 0; 0 for
one seed or a deterministic method). ``elimination`` is a percentage, like the paper's GPT-4o score.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ..paths import atomic_write, data_dir, write_text_atomic
from .texture import texture_summary

METRICS = ("elimination", "recreation", "recreation_near", "erase_ratio_share", "texture_smooth_median",
           "texture_smooth_within", "texture_textured_median", "texture_textured_within", "hf_ratio",
           "elimination_classifier", "masked_psnr", "masked_ssim", "lpips", "fid", "local_fid")
PERCENT = ("elimination", "recreation", "recreation_near", "erase_ratio_share", "elimination_classifier",
           "texture_smooth_within", "texture_textured_within")
ROW_KEYS = ("variant", "seeds", "elimination", "elimination_std", "masked_psnr", "masked_psnr_std")  # required
TOP_KEYS = ("profile", "device", "benchmark", "feature_extractors", "rows")
UNITS = {"elimination": "% of scenes the colour judge calls erased (metrics/judge.py; higher is better)",
         "recreation": "% of scenes whose hole is painted mostly in the object family's colours (lower is better)",
         "recreation_near": "recreation on the scenes with a same-family object within 3 px of the hole",
         "erase_ratio_share": "% of scenes with RMSE(out, x_ori) / RMSE(x_obj, x_ori) < 0.5 (rewards blur)",
         "texture_smooth_median": "median over smooth holes of log2((E_fill + f) / (E_truth + f)), E the mean squared "
                                  "Laplacian inside the hole less 1 px, f = 1e-3 (0 = the truth's texture; > 0 "
                                  "speckle, < 0 blur; metrics/texture.py)",
         "texture_smooth_within": "% of smooth holes whose texture log2 ratio lies within +-1.5",
         "texture_textured_median": "as texture_smooth_median, over textured holes",
         "texture_textured_within": "% of textured holes whose texture log2 ratio lies within +-1.5",
         "hf_ratio": "(older results only) median of the fill's high-frequency energy over the truth's",
         "elimination_classifier": "% of scenes the presence classifier calls object-free",
         "masked_psnr": "dB inside the mask vs x_ori, capped at 100 (higher is better)",
         "masked_ssim": "masked average of the SSIM map vs x_ori (higher is better)",
         "lpips": "perceptual distance to x_ori on whole images (lower is better)",
         "fid": "Frechet distance, whole images vs x_ori (lower is better)",
         "local_fid": "Frechet distance, crops around the box vs x_ori crops (lower is better)"}

#: The paper's Table 3 (OpenImages V5, SD2-Inpaint base): local FID (Inception) / GPT-4o elimination (%).
PAPER_TABLE3 = {"baseline": (8.852, 27.80), "sra": (5.713, 72.96), "cro": (4.950, 78.54), "cro_sra": (3.799, 83.43)}


def results_dir() -> Path:
    return data_dir() / "results"


def aggregate(variant: str, per_seed: list[dict], **extra) -> dict:
    """One table row: mean and standard deviation over seeds of every metric in ``per_seed``."""
    if not per_seed:
        raise ValueError(f"no scores for variant {variant!r}")
    row = {"variant": variant, "seeds": len(per_seed)}
    for m in METRICS:
        if m not in per_seed[0]:
            continue
        values = np.array([s[m] for s in per_seed], np.float64) * (100.0 if m in PERCENT else 1.0)
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


def write_results(results: dict, folder: str | Path | None = None, name: str = "ablation") -> Path:
    """Write ``name.json`` and ``name.csv`` (one line per row) into ``folder`` (default data/results)."""
    check_results(results)
    folder = Path(folder) if folder else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    write_text_atomic(path, json.dumps({**results, "units": UNITS}, indent=1) + "\n")
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
    """The ablation as a Markdown table, ours beside the paper's Table 3."""
    head = ("| variant | seeds | elimination % | masked PSNR | masked SSIM | LPIPS* | FID* | local FID* "
            "| paper local FID | paper elim. % |")
    lines = [head, "|" + "---|" * 10]
    fmt = lambda r, m, d: f"{r[m]:.{d}f} ± {r[m + '_std']:.{d}f}"  # noqa: E731
    for r in results["rows"]:
        paper = [f"{r[k]:.3f}" if k == "paper_local_fid" and r.get(k) is not None else
                 (f"{r[k]:.2f}" if r.get(k) is not None else "-") for k in ("paper_local_fid", "paper_elimination")]
        lines.append(f"| {r['variant']} | {r['seeds']} | {fmt(r, 'elimination', 1)} | {fmt(r, 'masked_psnr', 2)} | "
                     f"{fmt(r, 'masked_ssim', 3)} | {fmt(r, 'lpips', 3)} | {fmt(r, 'fid', 2)} | "
                     f"{fmt(r, 'local_fid', 2)} | {paper[0]} | {paper[1]} |")
    fe = results["feature_extractors"]
    lines.append(f"\n*FID/local FID features: {fe.get('fid')}; LPIPS column: {fe.get('lpips')}. "
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


def _scene_values(results: dict, variant: str, key: str, bucket: str | None) -> np.ndarray:
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
    """``{variant: {key: value}}`` over the scenes of ``bucket`` (None: all): shares as percentages
    (``eliminated``, ``recreated``), ``hf_ratio`` and ``texture_log2`` as medians (and ``texture_within``, the
    share within +-1.5 of the texture log2 ratio), the rest as means; plus ``scenes``."""
    out = {}
    for row in results["rows"]:
        if "per_scene" not in row:
            continue
        entry = {}
        for key in keys:
            v = _scene_values(results, row["variant"], key, bucket)
            v = v[np.isfinite(v)]
            entry[key] = float(np.median(v) if key in MEDIANS else (100 if key in SHARES else 1) * v.mean())
            if key == "texture_log2":
                entry["texture_within"] = texture_summary(v)["within"]
            entry["scenes"] = int(v.size)
        out[row["variant"]] = entry
    return out


SHARES = ("eliminated", "recreated")  # per-scene yes/no outcomes (their seed means are fractions)
MEDIANS = ("hf_ratio", "texture_log2")  # per-scene ratios, summarised by their median


def paired_stats(results: dict, variant: str, reference: str, resamples: int = 10_000,
                 bucket: str | None = None) -> dict:
    """``variant`` against ``reference`` scene by scene (both erased the same scenes with the same noise),
    on every scene or on those of ``bucket`` (see `Benchmark.buckets`):

    - ``masked_psnr``, ``elimination`` and ``recreation`` (points): mean difference and a 95 % paired
      bootstrap interval over scenes (a scene's value is its mean over the sampling seeds);
    - ``mcnemar``: exact McNemar test on "eliminated in the majority of seeds".
    """
    from .paired import mcnemar, paired_bootstrap

    def values(name, key):
        return _scene_values(results, name, key, bucket) * (100 if key in SHARES else 1)

    elim_a, elim_b = values(variant, "eliminated"), values(reference, "eliminated")
    return {"variant": variant, "reference": reference, "bucket": bucket or "all",
            "masked_psnr": paired_bootstrap(values(variant, "masked_psnr"), values(reference, "masked_psnr"),
                                            resamples=resamples),
            "elimination": paired_bootstrap(elim_a, elim_b, resamples=resamples),
            "recreation": paired_bootstrap(values(variant, "recreated"), values(reference, "recreated"),
                                           resamples=resamples),
            "mcnemar": mcnemar(elim_a > 50, elim_b > 50)}
