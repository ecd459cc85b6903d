"""Training the lite model on the engine (`engine.fit`): accelerate for device, mixed precision and multi-GPU; EMA;
exact resume.

One step: the batch of step k (`TrainingScenes.batch`) and its draws (`step.draw_step`), the variant's loss from
the registry (`losses.loss_for`, called by `step.step_loss`), then `engine.optimize`: backward, gradient clipping,
AdamW, the lr schedule (``cfg.lr_schedule`` after a linear warm-up), and the EMA update
``ema <- decay_k * ema + (1 - decay_k) * weights``. Everything else is a hook (`hooks.py`, `record.py`): the loss
log, the divergence check (`TrainingDiverged` names the step), checkpoints, a callback, the time budget, Ctrl-C, the
record of the session. At the end the EMA weights are exported as an `EraseDiffusionPipeline` into the output folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

from ..losses import loss_for
from ..models.lite import LiteUNet, build_lite_unet
from ..paths import check_separate, write_text_atomic
from .config import TrainConfig
from .data import TrainingScenes
from .engine import Run, checkpoints_to_resume, fit, make_accelerator, optimize, run_folder
from .hooks import Callback, Checkpoints, DivergenceGuard, LossLog, StopOnInterrupt, TimeBudget
from .record import RunRecord, TrainResult, result_card
from .step import draw_step, step_loss

__all__ = ["load_init_unet", "train"]


def load_init_unet(init: str | Path, image_size: int, cfg: TrainConfig | None = None) -> LiteUNet:
    """The UNet of a saved pipeline folder (``init/unet``), in float32, checked against the image size and
    (with ``cfg``) against the run's prediction target and noise schedule."""
    folder = Path(init)
    unet_dir = folder / "unet"
    if not (unet_dir / "config.json").is_file():
        raise FileNotFoundError(f"--init {folder}: no saved pipeline there (expected {unet_dir}/config.json); "
                                f"point it at a baseline run folder or data/checkpoints/baseline")
    if cfg is not None and (folder / "scheduler" / "scheduler_config.json").is_file():
        saved = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
        for key, want in cfg.scheduler_settings().items():
            if key in ("prediction_type", "beta_schedule", "rescale_betas_zero_snr") and saved.get(key) != want:
                raise ValueError(f"--init {folder} was trained with {key}={saved.get(key)!r} but this run uses "
                                 f"{want!r}: fine-tune with the baseline's own recipe")
    unet = LiteUNet.from_pretrained(unet_dir, use_safetensors=True).float()
    if unet.config.sample_size != image_size:
        raise ValueError(f"--init {folder} was trained at {unet.config.sample_size} px but this profile trains at "
                         f"{image_size} px: use a checkpoint of the same profile")
    return unet


def _check_or_save_config(cfg: TrainConfig, path: Path, resume: bool) -> None:
    """A new run saves its config (atomically); a resumed run must be given exactly the config it saved."""
    if resume and path.is_file():
        saved = json.loads(path.read_text())
        given = json.loads(json.dumps(cfg.to_dict()))
        changed = sorted(k for k in set(saved) | set(given) if saved.get(k) != given.get(k))
        if changed:
            raise ValueError(f"resuming {path.parent} with other settings would make it another run: "
                             f"{', '.join(changed)} differ from {path}; resume with the run's own settings "
                             f"(`train --resume --out {path.parent}` reads them)")
        return
    cfg.save(path)  # atomically


@dataclass
class TrainRun(Run):
    """The engine's `Run` of the lite model: also its config, and the UNet by name (what hooks and callbacks use)."""

    cfg: TrainConfig | None = None

    @property
    def unet(self) -> LiteUNet:
        return self.net


def train(cfg: TrainConfig, out_dir: str | Path, *, init: str | Path | None = None, resume: bool = False,
          stop_at: int | None = None, time_budget_s: float | None = None, progress: bool = True,
          callback: Callable[[int, float, LiteUNet], None] | None = None) -> TrainResult:
    """Train ``cfg`` into ``out_dir``; ``stop_at`` ends early after that step (a simulated disconnect).

    ``time_budget_s`` ends the run after the step that exhausts it and exports what it has: the card then
    states the steps really run (used to fit the shipped cpu runs into a shared machine's time).
    ``resume`` continues from the newest checkpoint in ``out_dir/checkpoints`` exactly (same weights,
    optimizer, schedule, EMA, RNGs and batches). ``callback(step, loss, unet)`` runs after every step.

    ``out_dir`` is locked for the call (`engine.run_folder`): a second process training into it is refused in one
    line (`FolderLocked`). Ctrl-C (SIGINT) stops the run at the end of the current step, saves a checkpoint there
    and raises `KeyboardInterrupt`, so that ``resume`` continues exactly; a second Ctrl-C stops at once.
    ``out_dir`` must lie apart from ``init`` (not the same folder, not inside it, not holding it): `ValueError`.
    """
    if init is not None:  # before the lock file: a run never writes into the checkpoint it starts from
        check_separate({"--init": init}, {"--out": out_dir})
    with run_folder(out_dir):
        return _train(cfg, Path(out_dir), init=init, resume=resume, stop_at=stop_at, time_budget_s=time_budget_s,
                      progress=progress, callback=callback)


def _train(cfg: TrainConfig, out_dir: Path, *, init, resume, stop_at, time_budget_s, progress, callback):
    from ..pipeline.export import export_pipeline

    existing = checkpoints_to_resume(out_dir / "checkpoints", resume)
    spec, prof = cfg.spec, cfg.model_profile
    objective = loss_for(spec, snr_gamma=cfg.snr_gamma, loss_weighting=cfg.loss_weighting, region=cfg.loss_region,
                         gradient_weight=cfg.gradient_weight)
    if spec.from_baseline and init is None and not resume:
        raise ValueError(f"variant {cfg.variant!r} fine-tunes the baseline: pass init=<baseline folder> (--init)")
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_or_save_config(cfg, out_dir / "train_config.json", resume)
    accelerator = make_accelerator(cfg.mixed_precision)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    unet = load_init_unet(init, prof.image_size, cfg) if init is not None else build_lite_unet(prof)
    unet.train()  # from_pretrained returns eval mode; a resumed run must compute exactly like the first session
    write_text_atomic(out_dir / "unet_config.json", json.dumps(dict(unet.config), indent=1, default=str) + "\n")
    alphas_cumprod = cfg.build_scheduler().alphas_cumprod.float().to(accelerator.device)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.learning_rate, weight_decay=cfg.adam_weight_decay)
    lr_scheduler = get_scheduler(cfg.lr_schedule, optimizer, num_warmup_steps=cfg.warmup_steps,
                                 num_training_steps=cfg.steps)
    ema = EMAModel(unet.parameters(), decay=cfg.ema_max_decay, use_ema_warmup=True, power=cfg.ema_power,
                   model_cls=type(unet), model_config=unet.config)
    run = TrainRun(accelerator, unet, optimizer, cfg.variant, cfg.steps, lr_scheduler, ema,
                   torch.Generator().manual_seed(cfg.seed), cfg.max_grad_norm, out_dir / "checkpoints",
                   cfg.keep_checkpoints, cfg=cfg)
    start = run.resume(existing) if resume else 0
    if resume and start > cfg.steps:
        raise ValueError(f"{out_dir} is at step {start}, past its planned {cfg.steps} steps: nothing to resume")
    run.prepare()
    ema.to(accelerator.device)
    scenes = TrainingScenes(cfg.train_scenes, prof.image_size, progress=progress, fresh=cfg.fresh_scenes,
                            mask_dilate=tuple(cfg.mask_dilate),
                            backgrounds=tuple(cfg.backgrounds) if cfg.backgrounds is not None else None)

    def batches(step: int) -> tuple[dict, tuple]:  # step k's scenes on this process, and its draws (t, gamma, noise)
        batch = {k: v.to(accelerator.device) for k, v in scenes.batch(
            step, cfg.batch_size, cfg.seed, random_masks=objective.target == "image",
            rank=accelerator.process_index, world=accelerator.num_processes).items()}
        return batch, draw_step(batch, alphas_cumprod.numel(), prof.gamma_max, run.generator)

    def loss_fn(run: TrainRun, batch_and_draws: tuple) -> torch.Tensor:
        batch, draws = batch_and_draws
        return step_loss(run.model, batch, alphas_cumprod, *draws, objective, prediction_type=cfg.prediction_type,
                         sra=(run.unet, cfg.sra_rule) if spec.sra_in_training else None)

    stop = min(cfg.steps, stop_at or cfg.steps)
    main = accelerator.is_main_process
    record = RunRecord(out_dir, cfg, resumed=resume, write=main)
    hooks = [LossLog(out_dir / "loss_log.csv", start)] if main else []
    hooks += [DivergenceGuard(), Checkpoints(cfg.checkpoint_every, cfg.keep_checkpoints, stop)]  # in this order
    hooks += [Callback(callback)] if callback else []
    hooks += [TimeBudget(time_budget_s, stop)] if time_budget_s is not None else []
    hooks += [StopOnInterrupt(), record]  # Ctrl-C after every other hook has seen the step; the record at the end
    outcome = fit(run, batches, loss_fn, range(start, stop), hooks, update=optimize, progress=progress,
                  desc=cfg.variant)
    if main and outcome.status.startswith("finished"):
        ema_unet = type(run.unet).from_config(run.unet.config)
        ema.copy_to(ema_unet.parameters())
        export_pipeline(ema_unet, out_dir, cfg.build_scheduler(), result_card(out_dir))
    accelerator.wait_for_everyone()
    return record.result
