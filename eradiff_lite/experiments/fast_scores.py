"""The fast held-out measures of a lite pipeline, for short runs: the recipe study's and the learning curves'.

Two tasks on held-out scenes (`heldout_tasks`):

- ``inpaint``: the model's own task. A random training-style mask on each held-out scene, truth = the scene itself.
- ``erase``: the pasted object's mask, truth = the background ``x_ori`` (how the inpainter acts as an eraser).

Each task reports masked PSNR, the share of scenes with erase ratio < 0.5 (erase task) and the high-frequency
ratio (`metrics.fill`), beside the reference fills on the same scenes (`reference_rows`). `score_folder` scores a
saved pipeline or a run still training, `sampler_study` the same weights under other DDIM settings,
`learning_curve` the EMA weights of every kept checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data import make_scene
from ..metrics.coherence import masked_psnr
from ..metrics.fill import REFERENCE_FILLS, erase_ratio, hf_ratio
from ..train.random_masks import random_mask

MASK_STREAM = 7  # the held-out inpainting masks: default_rng([MASK_STREAM, scene seed])


def heldout_tasks(scenes: int, size: int) -> dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """``{task: [(input, mask, truth), ...]}`` on held-out scenes ``0 .. scenes-1`` (see the module doc)."""
    made = [make_scene(i, size, split="heldout") for i in range(scenes)]
    pool = np.stack([s.triplet.mask for s in made])
    inpaint = []
    for s in made:
        m = random_mask(size, np.random.default_rng([MASK_STREAM, s.seed]), pool, s.triplet.mask)
        inpaint.append((s.triplet.x_obj, m, s.triplet.x_obj))
    erase = [(s.triplet.x_obj, s.triplet.mask, s.triplet.x_ori) for s in made]
    return {"inpaint": inpaint, "erase": erase}


def _measures(outs: list[np.ndarray], items) -> dict:
    psnr = [masked_psnr(o, truth, m) for o, (_, m, truth) in zip(outs, items)]
    ratio = [erase_ratio(o, x, truth, m) for o, (x, m, truth) in zip(outs, items)]
    hf = [hf_ratio(o, truth, m) for o, (_, m, truth) in zip(outs, items)]
    finite = [r for r in ratio if np.isfinite(r)]
    row = {"masked_psnr": float(np.mean(psnr)), "hf_ratio_median": float(np.median(hf))}
    if finite:  # the inpaint task's input is its truth: no erase ratio there
        row.update(erased_share=float(np.mean([r < 0.5 for r in finite])), median_erase_ratio=float(np.median(finite)))
    return row


def reference_rows(scenes: int, size: int) -> dict:
    """The reference fills' measures on the same tasks."""
    tasks = heldout_tasks(scenes, size)
    return {name: {task: _measures([fill(x, m) for x, m, _ in items], items) for task, items in tasks.items()}
            for name, fill in REFERENCE_FILLS.items()}


@torch.no_grad()
def score_folder(folder: str | Path, scenes: int = 128, seeds: int = 2, steps: int = 25, batch: int = 64,
                 scheduler: dict | None = None, weights: str | Path | None = None, **call) -> dict:
    """The fast measures of the pipeline in ``folder`` on both tasks, averaged over ``seeds`` sampling seeds.

    ``scheduler``: DDIM settings to change at sampling time only (e.g. ``{"clip_sample": False}``);
    ``folder``: a saved pipeline, or a run still training (`run_pipeline`, then pass ``weights``);
    ``weights``: a safetensors file of UNet weights that replace the pipeline's (a checkpoint's
    ``model.safetensors`` for the raw weights, ``ema.safetensors`` for its EMA).
    """
    from diffusers import DDIMScheduler
    from safetensors.torch import load_file

    from ..pipeline import EraseDiffusionPipeline

    pipe = EraseDiffusionPipeline.from_pretrained(folder) if (Path(folder) / "model_index.json").is_file() \
        else run_pipeline(folder)
    if scheduler:
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config, **scheduler)
    if weights is not None:
        pipe.unet.load_state_dict(load_file(Path(weights)), strict=True)
    tasks = heldout_tasks(scenes, pipe.unet.config.sample_size)
    result = {}
    for task, items in tasks.items():
        per_seed = []
        for seed in range(seeds):
            outs = []
            for i in tqdm(range(0, len(items), batch), desc=f"{task} seed {seed}", leave=False):
                chunk = items[i:i + batch]
                g = torch.Generator().manual_seed(1000 * seed + i)
                outs += pipe([x for x, _, _ in chunk], [m for _, m, _ in chunk], num_inference_steps=steps,
                             generator=g, **call).images
            per_seed.append(_measures(outs, items))
        result[task] = {k: float(np.mean([p[k] for p in per_seed])) for k in per_seed[0]}
    return result


def run_pipeline(run: str | Path):
    """The pipeline of a run that has not exported one yet: its UNet config and its scheduler settings
    (random weights: load a checkpoint's into it)."""
    from ..models.lite import LiteUNet
    from ..pipeline import EraseDiffusionPipeline
    from ..train.config import TrainConfig

    run = Path(run)
    cfg = TrainConfig.load(run / "train_config.json")
    unet = LiteUNet.from_config(json.loads((run / "unet_config.json").read_text()))
    return EraseDiffusionPipeline(unet=unet, scheduler=cfg.build_scheduler())


SAMPLER_GRID = ({"steps": 10}, {"steps": 25}, {"steps": 50}, {"steps": 25, "scheduler": {"clip_sample": False}},
                {"steps": 25, "scheduler": {"timestep_spacing": "leading"}})


def sampler_study(folder: str | Path, scenes: int = 128, seeds: int = 1) -> list[dict]:
    """The same weights sampled with other DDIM settings (`SAMPLER_GRID`), and the raw weights instead of EMA."""
    from ..train.checkpoint import list_checkpoints

    rows = [{"setting": setting, "scores": score_folder(folder, scenes, seeds, setting["steps"],
                                                      scheduler=setting.get("scheduler"))}
            for setting in tqdm(SAMPLER_GRID, desc="sampler settings")]
    last = list_checkpoints(Path(folder) / "checkpoints")[-1]
    rows.append({"setting": {"steps": 25, "weights": f"raw (no EMA) {last.name}"},
                 "scores": score_folder(folder, scenes, seeds, 25, weights=last / "model.safetensors")})
    return rows


def learning_curve(run: str | Path, scenes: int = 128, seeds: int = 1, done: list[dict] = ()) -> list[dict]:
    """The fast measures of the EMA weights of every checkpoint kept in ``run/checkpoints`` (images seen
    = step x batch size): the curve that says when the held-out measures stop improving.

    ``done``: rows already scored (same scenes and seeds); their checkpoints are not scored again, so a
    curve taken while the run trains can be extended later."""
    from ..train.checkpoint import list_checkpoints

    run = Path(run)
    batch = json.loads((run / "train_config.json").read_text())["batch_size"]
    rows = {row["step"]: row for row in done}
    todo = [c for c in list_checkpoints(run / "checkpoints") if int(c.name.split("_")[-1]) not in rows]
    for ckpt in tqdm(todo, desc="checkpoints"):
        step = int(ckpt.name.split("_")[-1])
        rows[step] = {"step": step, "images": step * batch,
                      "scores": score_folder(run, scenes, seeds, 25, weights=ckpt / "ema.safetensors")}
    return [rows[step] for step in sorted(rows)]
