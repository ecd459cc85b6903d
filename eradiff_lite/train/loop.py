"""The training loop: accelerate for device, mixed precision and multi-GPU; EMA; exact resume.

One step: the batch of step k (`TrainingScenes.batch`), the draws (`step.draw_step`), the variant's loss from the
registry (`losses.loss_for`, called by `step.step_loss`), then `optimize`:
backward, gradient clipping, AdamW, the lr schedule (``cfg.lr_schedule`` after a linear warm-up), and the EMA
update ``ema <- decay_k * ema + (1 - decay_k) * weights``. Everything else is a hook (`hooks.py`): the loss log,
the divergence check (`TrainingDiverged` names the step), checkpoints, a callback, the time budget, Ctrl-C. At the end
the EMA weights are exported as an `EraseDiffusionPipeline` into the output folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from tqdm.auto import tqdm

from ..lock import folder_lock
from ..losses import loss_for
from ..models.lite import LiteUNet, build_lite_unet
from ..paths import write_text_atomic
from .checkpoint import list_checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint
from .config import TrainConfig
from .data import TrainingScenes
from .hooks import Callback, Checkpoints, DivergenceGuard, LossLog, StopOnInterrupt, TimeBudget, TrainingDiverged
from .record import TrainResult, result_card, write_result
from .step import draw_step, step_loss

__all__ = ["TrainResult", "TrainingDiverged", "result_card", "train"]


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


def _resume_from(checkpoints: list[Path], unet, optimizer, lr_scheduler, ema, generator) -> int:
    """Load the newest checkpoint that loads whole; say so when a newer one was damaged."""
    import warnings

    for path in reversed(checkpoints):
        try:
            step = load_checkpoint(path, unet, optimizer, lr_scheduler, ema, generator)
        except Exception as err:  # noqa: BLE001 - any damage (truncated safetensors, bad JSON) means: try older
            warnings.warn(f"checkpoint {path} is damaged ({type(err).__name__}: {str(err)[:120]}); "
                          f"trying the one before it", stacklevel=3)
            continue
        if path != checkpoints[-1]:
            print(f"resuming from {path.name}, the newest checkpoint that loads whole")
        return step
    raise RuntimeError(f"no checkpoint under {checkpoints[-1].parent} loads whole: start the run again "
                       f"without --resume in a new folder")


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
class TrainRun:
    """The objects of a run in progress, which the step and the hooks share."""

    cfg: TrainConfig
    accelerator: Accelerator
    model: torch.nn.Module  # prepared by accelerate
    optimizer: torch.optim.Optimizer
    lr_scheduler: object
    ema: EMAModel
    generator: torch.Generator
    ckpt_dir: Path
    started: float = 0.0

    @property
    def unet(self) -> LiteUNet:
        return self.accelerator.unwrap_model(self.model)

    def save_checkpoint(self, done: int, keep: int | None = None) -> None:
        if self.accelerator.is_main_process:
            optimizer = getattr(self.optimizer, "optimizer", self.optimizer)  # accelerate's wrapper, or a plain one
            save_checkpoint(self.ckpt_dir, done, self.unet, optimizer, self.lr_scheduler, self.ema, self.generator)
            if keep is not None:
                prune_checkpoints(self.ckpt_dir, keep)


def optimize(run: TrainRun, loss: torch.Tensor) -> None:
    """One update: backward, gradient clipping, AdamW, the lr schedule, then the EMA of the weights."""
    run.accelerator.backward(loss)
    if run.accelerator.sync_gradients:
        run.accelerator.clip_grad_norm_(run.model.parameters(), run.cfg.max_grad_norm)
    run.optimizer.step()
    run.lr_scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    run.ema.step(run.unet.parameters())  # ema <- decay_k * ema + (1 - decay_k) * weights


def train(cfg: TrainConfig, out_dir: str | Path, *, init: str | Path | None = None, resume: bool = False,
          stop_at: int | None = None, time_budget_s: float | None = None, progress: bool = True,
          callback: Callable[[int, float, LiteUNet], None] | None = None) -> TrainResult:
    """Train ``cfg`` into ``out_dir``; ``stop_at`` ends early after that step (a simulated disconnect).

    ``time_budget_s`` ends the run after the step that exhausts it and exports what it has: the card then
    states the steps really run (used to fit the shipped cpu runs into a shared machine's time).
    ``resume`` continues from the newest checkpoint in ``out_dir/checkpoints`` exactly (same weights,
    optimizer, schedule, EMA, RNGs and batches). ``callback(step, loss, unet)`` runs after every step.

    ``out_dir`` is locked for the call (`eradiff_lite.lock`): a second process training into it is refused in one
    line (`FolderLocked`). Ctrl-C (SIGINT) stops the run at the end of the current step, saves a checkpoint there
    and raises `KeyboardInterrupt`, so that ``resume`` continues exactly; a second Ctrl-C stops at once.
    """
    main_rank = os.environ.get("RANK", "0") == "0"  # under accelerate launch, the first process holds the lock
    with folder_lock(out_dir) if main_rank else contextlib.nullcontext():
        return _train(cfg, Path(out_dir), init=init, resume=resume, stop_at=stop_at, time_budget_s=time_budget_s,
                      progress=progress, callback=callback)


def _train(cfg: TrainConfig, out_dir: Path, *, init, resume, stop_at, time_budget_s, progress, callback):
    from ..pipeline.export import export_pipeline
    from ..profiles import describe_device, peak_memory

    ckpt_dir = out_dir / "checkpoints"
    existing = list_checkpoints(ckpt_dir)
    if existing and not resume:
        raise FileExistsError(f"{out_dir} already holds checkpoints: pass resume=True (--resume) to continue "
                              f"that run, or choose a new output folder")
    if resume and not existing:
        raise FileNotFoundError(f"nothing to resume: no checkpoint in {ckpt_dir}")
    spec, prof = cfg.spec, cfg.model_profile
    objective = loss_for(spec, snr_gamma=cfg.snr_gamma, loss_weighting=cfg.loss_weighting)
    if spec.from_baseline and init is None and not resume:
        raise ValueError(f"variant {cfg.variant!r} fine-tunes the baseline: pass init=<baseline folder> (--init)")
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_or_save_config(cfg, out_dir / "train_config.json", resume)
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    unet = load_init_unet(init, prof.image_size, cfg) if init is not None else build_lite_unet(prof)
    unet.train()  # from_pretrained returns eval mode; a resumed run must compute exactly like the first session
    write_text_atomic(out_dir / "unet_config.json", json.dumps(dict(unet.config), indent=1, default=str) + "\n")
    alphas_cumprod = cfg.build_scheduler().alphas_cumprod
    alphas_cumprod = alphas_cumprod.float().to(accelerator.device)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.learning_rate, weight_decay=cfg.adam_weight_decay)
    lr_scheduler = get_scheduler(cfg.lr_schedule, optimizer, num_warmup_steps=cfg.warmup_steps,
                                 num_training_steps=cfg.steps)
    ema = EMAModel(unet.parameters(), decay=cfg.ema_max_decay, use_ema_warmup=True, power=cfg.ema_power,
                   model_cls=type(unet), model_config=unet.config)
    generator = torch.Generator().manual_seed(cfg.seed)
    start = _resume_from(existing, unet, optimizer, lr_scheduler, ema, generator) if resume else 0
    if resume and start > cfg.steps:
        raise ValueError(f"{out_dir} is at step {start}, past its planned {cfg.steps} steps: nothing to resume")
    model, optimizer = accelerator.prepare(unet, optimizer)
    ema.to(accelerator.device)
    run = TrainRun(cfg, accelerator, model, optimizer, lr_scheduler, ema, generator, ckpt_dir)
    scenes = TrainingScenes(cfg.train_scenes, prof.image_size, progress=progress, fresh=cfg.fresh_scenes,
                            mask_dilate=tuple(cfg.mask_dilate),
                            backgrounds=tuple(cfg.backgrounds) if cfg.backgrounds is not None else None)
    stop = min(cfg.steps, stop_at or cfg.steps)
    status, loss_value = "finished" if stop == cfg.steps else f"stopped at step {stop}", None
    hooks = [LossLog(out_dir / "loss_log.csv", start)] if accelerator.is_main_process else []
    hooks += [DivergenceGuard(), Checkpoints(cfg.checkpoint_every, cfg.keep_checkpoints, stop)]  # in this order
    hooks += [Callback(callback)] if callback else []
    hooks += [TimeBudget(time_budget_s, stop)] if time_budget_s is not None else []
    hooks += [StopOnInterrupt()]  # last: every other hook has seen the step it stops after
    bar = tqdm(range(start, stop), desc=cfg.variant, disable=not (progress and accelerator.is_main_process))
    run.started, done, whole = time.perf_counter(), start, True  # whole: no step half-done (a checkpoint is exact)
    try:
        for step in bar:
            whole = False
            batch = {k: v.to(accelerator.device) for k, v in scenes.batch(
                step, cfg.batch_size, cfg.seed, random_masks=objective.target == "image",
                rank=accelerator.process_index, world=accelerator.num_processes).items()}
            draws = draw_step(batch, alphas_cumprod.numel(), prof.gamma_max, generator)
            with accelerator.autocast():
                loss = step_loss(model, batch, alphas_cumprod, *draws, objective, prediction_type=cfg.prediction_type,
                                 sra=(run.unet, cfg.sra_rule) if spec.sra_in_training else None)
            loss_value = accelerator.gather(loss.detach()[None]).mean().item()
            for hook in hooks:
                hook.after_loss(run, step + 1, loss_value)
            optimize(run, loss)
            done, whole = step + 1, True
            bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
            ended = [s for s in (hook.after_step(run, done, loss_value) for hook in hooks) if s]
            if ended:
                status, stop = ended[0], done
                break
    except BaseException as err:  # the record must say what happened, then the error goes on
        if isinstance(err, TrainingDiverged):
            status = f"diverged at step {err.step}"
        elif isinstance(err, KeyboardInterrupt):
            status = f"interrupted at step {done}"
            if whole and done > start and not (ckpt_dir / f"step_{done:06d}").is_dir():
                run.save_checkpoint(done, keep=cfg.keep_checkpoints)  # what resume continues from, exactly
        else:
            status = f"failed at step {done + 1} ({type(err).__name__}: {str(err)[:160]})"
        raise
    finally:
        for hook in hooks:
            hook.close()
        seconds = time.perf_counter() - run.started
        steps_run = done - start
        memory, memory_kind = peak_memory(accelerator.device)
        result = TrainResult(cfg.variant, status, start + steps_run, cfg.steps, steps_run, loss_value,
                             round(seconds, 2), round(steps_run * cfg.batch_size / max(seconds, 1e-9), 2),
                             round(memory, 1), memory_kind, describe_device(), cfg.seed, prof.name,
                             torch.get_num_threads())
        if accelerator.is_main_process:
            write_result(out_dir, result, resumed=resume)
    if accelerator.is_main_process and status.startswith("finished"):
        ema_unet = type(run.unet).from_config(run.unet.config)
        ema.copy_to(ema_unet.parameters())
        export_pipeline(ema_unet, out_dir, cfg.build_scheduler(), result_card(out_dir))
    accelerator.wait_for_everyone()
    return result
