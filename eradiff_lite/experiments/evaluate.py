"""Run the ablation: erase the benchmark with every variant and seed, score it, one row per variant.

A variant (`eradiff_lite.variants.VARIANTS`) is a checkpoint folder plus whether Self-Rectifying
Attention is on when erasing; ``sra`` reuses the baseline's weights. For each sampling seed the whole
benchmark is erased with the same DDIM steps and the same starting noise for every variant (a paired
comparison), then scored by `metrics.scoring.score_outputs`; a row holds the mean and spread over seeds. The
classical row (biharmonic inpainting) is deterministic, so it is scored once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data import to_tensor
from ..metrics.benchmark import Benchmark
from ..metrics.classical import inpaint_classical
from ..metrics.fill import REFERENCE_FILLS, shifted_truth
from ..metrics.registry import METRICS, kept_per_scene
from ..metrics.results import aggregate
from ..metrics.scoring import MetricKit, score_outputs
from ..pipeline.shipped import checkpoints_dir, find_variants
from ..variants import ABLATION_ORDER, CLASSICAL, REFERENCES


def checkpoint_size(folder: str | Path) -> int:
    """The image side a saved pipeline's UNet was built for (``unet/config.json``: sample_size)."""
    return int(json.loads((Path(folder) / "unet" / "config.json").read_text())["sample_size"])


def weights_digest(folder: str | Path) -> str:
    """First 16 hex digits of the SHA-256 of the UNet weights: which checkpoint a results row came from."""
    files = sorted((Path(folder) / "unet").glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no UNet weights (*.safetensors) under {Path(folder) / 'unet'}")
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def load_pipeline(folder: str | Path, device: str | torch.device = "cpu"):
    from ..pipeline import EraseDiffusionPipeline

    pipe = EraseDiffusionPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def benchmark_noise(bench: Benchmark, seed: int, batch_size: int = 128) -> torch.Tensor:
    """The starting noise of every scene (``N x 3 x H x W``) when the benchmark is erased with ``seed``: one
    generator drawn batch after batch, as `erase_benchmark` does, so a scene can be repeated alone."""
    generator = torch.Generator().manual_seed(int(seed))
    shape = (3, bench.size, bench.size)
    return torch.cat([torch.randn((min(batch_size, len(bench) - i), *shape), generator=generator)
                      for i in range(0, len(bench), batch_size)])


def erase_benchmark(pipe, bench: Benchmark, steps: int, seed: int, sra: bool = False, sra_rule: str = "eq10",
                    strength: float = 1.0, batch_size: int = 128, indices: Sequence[int] | None = None,
                    return_trajectory: bool = False, **sra_where):
    """The benchmark's scenes erased by ``pipe`` (``N x 3 x H x W`` in [-1, 1]), the noise from ``seed``.

    ``indices``: erase only these scenes, each with the noise it has in the whole benchmark (the same
    result as in the table), and return the pipeline's output (``return_trajectory`` for its path).
    ``sra_where``: ``sra_layers`` / ``sra_timesteps``, where SRA acts (default everywhere)."""
    noise = benchmark_noise(bench, seed, batch_size)
    if indices is not None:
        scenes = [bench.scenes[i] for i in indices]
        return pipe([s.triplet.x_obj for s in scenes], [s.triplet.mask for s in scenes], num_inference_steps=steps,
                    strength=strength, sra=sra, sra_rule=sra_rule, latents=noise[list(indices)],
                    return_trajectory=return_trajectory, **sra_where)
    out = []
    for i in range(0, len(bench), batch_size):
        chunk = bench.scenes[i:i + batch_size]
        result = pipe([s.triplet.x_obj for s in chunk], [s.triplet.mask for s in chunk], num_inference_steps=steps,
                      strength=strength, sra=sra, sra_rule=sra_rule, latents=noise[i:i + batch_size], **sra_where)
        out += [to_tensor(im) for im in result.images]
    return torch.stack(out)


def erase_classical(bench: Benchmark, method: str = CLASSICAL) -> torch.Tensor:
    """The benchmark filled by a reference fill (deterministic): ``classical`` (biharmonic inpainting) or
    one of `metrics.fill.REFERENCE_FILLS` (untouched, flat, telea), or ``shifted`` (`metrics.fill.shifted_truth`)."""
    if method == "shifted":
        return torch.stack([to_tensor(shifted_truth(s.triplet.x_ori, s.triplet.mask)) for s in bench.scenes])
    fill = inpaint_classical if method == CLASSICAL else REFERENCE_FILLS[method]
    return torch.stack([to_tensor(fill(s.triplet.x_obj, s.triplet.mask)) for s in bench.scenes])


def score_variants(variants: dict[str, dict], bench: Benchmark, kit: MetricKit, seeds: Sequence[int], steps: int,
                   device: str = "cpu", classical: bool = True, keep: Callable[[str, int], bool] | None = None,
                   batch_size: int = 128, progress: bool = True, failed: dict | None = None) -> tuple[list[dict], dict]:
    """Rows of the ablation table and, for the (variant, seed) pairs ``keep`` accepts (default: the first
    seed), the scores with their erased images (for grids). ``progress``: a bar over the (variant, seed) jobs
    (off in the notebooks, where a saved bar would stay at its first state). With ``failed`` (a dict), a variant
    whose pipeline does not load is skipped and named there with the reason (a batch goes on past a bad item)."""
    keep = keep or (lambda name, seed: seed == seeds[0])
    tensors = bench.tensors()
    jobs = [(name, seed) for name in variants for seed in seeds] + ([(r, seeds[0]) for r in REFERENCES]
                                                                    if classical else [])
    scores: dict[str, list[dict]] = {}
    kept, pipes = {}, {}
    bar = tqdm(jobs, desc="evaluating", disable=not progress)
    for name, seed in bar:
        bar.set_postfix(variant=name, seed=seed)
        if name in REFERENCES:
            erased = erase_classical(bench, name)
        else:
            spec = variants[name]
            key = str(spec["folder"])
            if failed is not None and name in failed:
                continue
            if key not in pipes:
                try:
                    pipes[key] = load_pipeline(spec["folder"], device)
                    weights_digest(spec["folder"])
                except (OSError, ValueError, RuntimeError, KeyError) as err:
                    if failed is None:
                        raise
                    failed[name] = f"{spec['folder']}: {' '.join(str(err).split()) or type(err).__name__}"
                    continue
            erased = erase_benchmark(pipes[key], bench, steps, seed, sra=spec["sra"], batch_size=batch_size)
        score = score_outputs(bench, erased, kit, tensors)
        scores.setdefault(name, []).append(score)
        if keep(name, seed):
            kept[(name, seed)] = score
    rows = [table_row(name, per_seed, variants.get(name), seeds, steps) for name, per_seed in scores.items()]
    return rows, kept


def table_row(name: str, per_seed: list[dict], spec: dict | None, seeds: Sequence[int], steps: int | None) -> dict:
    """One row of the ablation table from the scores of each seed (`score_outputs`): the means and spreads
    (`metrics.results.aggregate`), the per-seed values, the per-scene values averaged over seeds
    (`metrics.registry.kept_per_scene`), and
    where it came from (``spec``: the variant's folder and SRA flag; None for a reference fill)."""
    row = aggregate(name, per_seed, checkpoint=Path(spec["folder"]).name if spec else None,
                    weights_sha256=weights_digest(spec["folder"]) if spec else None,
                    sra=bool(spec.get("sra", False)) if spec else False, sampling_steps=steps if spec else None,
                    seed_values=[int(s) for s in seeds] if spec else [int(seeds[0])])
    for m, metric in METRICS.items():  # per-seed values: seeds share their noise across variants, so they pair up
        if m not in per_seed[0]:
            continue
        values = [(100 if metric.percent else 1) * s[m] for s in per_seed]
        row[f"{m}_per_seed"] = [round(v, 4) if np.isfinite(v) else None for v in values]
    row["per_scene"] = {k: _finite_list(np.mean([s["per_scene"][k] for s in per_seed], axis=0))
                        for k in kept_per_scene()}
    return row


def _finite_list(values: np.ndarray) -> list:
    """Rounded values for JSON, ``None`` where not finite (an erase ratio of a scene whose object matches
    its background)."""
    return [round(float(v), 4) if np.isfinite(v) else None for v in values]


def best_and_worst(score: dict, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``k`` most and least object-free scenes (by p(present), ties broken by masked PSNR)."""
    order = np.lexsort((-score["per_scene"]["masked_psnr"], score["per_scene"]["p_present"]))
    return order[:k], order[::-1][:k]


def evaluate_profile(profile, model_dirs: Sequence[str | Path] | None = None, names: Sequence[str] = ABLATION_ORDER,
                     kit: MetricKit | None = None, seeds: int | None = None, scenes: int | None = None,
                     steps: int | None = None, device: str | None = None, classical: bool = True,
                     progress: bool = True) -> tuple[dict, dict, Benchmark]:
    """The whole evaluation at ``profile``'s sizes: (results dict for `metrics.results.write_results`, kept scores,
    benchmark). ``seeds``/``scenes``/``steps`` override the profile's eval_seeds/eval_scenes/sample_steps;
    ``progress``: the bar over the jobs. A model folder that is missing or does not load is skipped: the others are
    scored and ``results["failed"]`` names it with the reason (the command then exits non-zero)."""
    from ..metrics.benchmark import load_benchmark
    from ..metrics.scoring import load_metric_kit
    from ..profiles import describe_device

    variants, bad = {}, {}  # a bad model folder is named with its reason and the others are scored
    for folder in model_dirs or [None]:
        try:
            variants.update(find_variants([folder] if folder else None, names))
        except (OSError, ValueError) as err:
            bad[str(folder)] = " ".join(str(err).split())
    order = list(ABLATION_ORDER)
    variants = {n: variants[n] for n in sorted(variants, key=lambda n: order.index(n) if n in order else len(order))}
    if not variants and not classical:
        raise FileNotFoundError(f"no checkpoints of {list(names)} under {model_dirs or checkpoints_dir()}"
                                + "".join(f"; {k}: {why}" for k, why in bad.items()))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    kit = kit or load_metric_kit()
    sizes = {}
    for name, spec in list(variants.items()):
        try:
            sizes[name] = checkpoint_size(spec["folder"])
        except (OSError, ValueError, KeyError) as err:
            bad[name] = f"{spec['folder']}: not a saved pipeline ({' '.join(str(err).split())})"
            del variants[name]
    sizes = set(sizes.values())
    if len(sizes) > 1:
        raise ValueError(f"the checkpoints were trained at different sizes {sorted(sizes)}: evaluate them separately")
    size = sizes.pop() if sizes else profile.image_size
    if size != profile.image_size:
        print(f"note: the checkpoints were trained at {size} px, the {profile.name} profile uses "
              f"{profile.image_size} px: the benchmark is drawn at {size} px")
    bench = load_benchmark(profile, scenes=scenes, size=size)
    seed_list = list(range(int(seeds or profile.eval_seeds)))
    steps = int(steps or profile.sample_steps)
    rows, kept = score_variants(variants, bench, kit, seed_list, steps, device=device, classical=classical,
                                progress=progress, failed=bad)
    on_default = device.startswith("cuda") == torch.cuda.is_available()  # describe_device names the default one
    results = {"profile": profile.name, "device": describe_device() if on_default else device,
               "benchmark": bench.describe(), "feature_extractors": kit.names(),
               "sampling": {"scheduler": "DDIM, eta 0", "steps": steps, "strength": 1.0, "seeds": seed_list,
                            "sra_rule": "eq10", "composited": "mask * erased + (1 - mask) * x_obj"},
               "missing_variants": [n for n in names if n not in variants], "rows": rows,
               "failed": bad}
    return results, kept, bench

