"""The one training engine: the lite UNet (`train.loop`), the Stable Diffusion LoRA (`sd.cro_lora`) and the presence
classifier (`experiments.presence_train`) all train through `fit`, so a fix to any of its parts lands once.

A run is a `Run`, the objects that the step and the hooks share (in the spirit of miniai's Learner, smaller), and
`fit` turns its steps:

    for step in steps:                          # a tqdm.auto bar on the main process
        hooks.before_step(run, step)
        batch = batches(step)                   # the batch of step k (what a resume must make again)
        with accelerator.autocast():            # mixed precision, where the run asked for it
            loss = loss_fn(run, batch)
        hooks.after_loss(run, step + 1, loss)   # the loss is known, the weights not yet changed
        update(run, loss)                       # `optimize`: backward, clipping, step, lr schedule, EMA
        hooks.after_step(run, step + 1, loss)   # a hook may end the run here (it returns a status)
    hooks.after_fit(run, outcome)               # always, after an error too (a record is written there)

Written here once: accelerate for the device and the precision (`make_accelerator`; fp16 scales the loss with
accelerate's gradient scaler), the update (`optimize`), checkpoints that resume exactly (`Run.save_checkpoint`,
`Run.resume`, in `train.checkpoint`'s safetensors format), Ctrl-C (`hooks.StopOnInterrupt` ends the run after the
step, `fit` saves a checkpoint there and raises `KeyboardInterrupt`; the CLI turns it into the resume command and
status 130), the progress bar, the run-folder lock (`run_folder`) and the status a run ends with. What differs
between the three (their data, loss, hooks and what they record) stays with them.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from ..lock import folder_lock
from .checkpoint import STEP_PREFIX, list_checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint
from .hooks import Hook, TrainingDiverged

__all__ = ["Outcome", "Run", "checkpoints_to_resume", "fit", "make_accelerator", "optimize", "run_folder"]


def make_accelerator(mixed_precision: str = "no", cpu: bool = False) -> Accelerator:
    """An `Accelerator` for one run: its device (the GPU when there is one; ``cpu=True`` keeps the run on the CPU)
    and precision (``"no"``; ``"fp16"``: autocast and a gradient scaler; ``"bf16"``: autocast).

    accelerate keeps one state per process and refuses a second precision or device in it. A course kernel may
    train the lite model in fp32 and then the Stable Diffusion LoRA in fp16, so in a single process (never under
    ``accelerate launch``, where the launcher sets them) a state made for other settings is started afresh."""
    from accelerate.state import AcceleratorState, PartialState

    shared = AcceleratorState._shared_state  # what the last Accelerator of this process was made with
    if shared and PartialState().num_processes == 1:
        want_cpu = cpu or PartialState().default_device.type == "cpu"
        if shared.get("_mixed_precision") != mixed_precision or (shared["device"].type == "cpu") != want_cpu:
            AcceleratorState._reset_state(reset_partial_state=True)
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu)


@contextlib.contextmanager
def run_folder(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock of the run folder ``out_dir`` (`eradiff_lite.lock`) for the ``with`` block: a second process
    training into it is refused in one line (`FolderLocked`). Under ``accelerate launch`` the first process holds it."""
    main_rank = os.environ.get("RANK", "0") == "0"
    with folder_lock(out_dir) if main_rank else contextlib.nullcontext():
        yield Path(out_dir)


def checkpoints_to_resume(ckpt_dir: Path, resume: bool) -> list[Path]:
    """The checkpoints a run may start from: none for a new run (a folder that holds some is refused), at least one
    for a resumed run."""
    existing = list_checkpoints(ckpt_dir)
    if existing and not resume:
        raise FileExistsError(f"{Path(ckpt_dir).parent} already holds checkpoints: pass resume=True (--resume) to "
                              f"continue that run, or choose a new output folder")
    if resume and not existing:
        raise FileNotFoundError(f"nothing to resume: no checkpoint in {ckpt_dir}")
    return existing


@dataclass
class Run:
    """The objects of a run in progress, which its step, its update and its hooks share.

    ``model`` and ``optimizer`` are as given until `prepare` hands them to accelerate; ``net`` is the model itself
    (unwrapped). A checkpoint (`save_checkpoint`, `resume`) holds the model's weights (``trainable_only``: the
    parameters that train, e.g. a LoRA adapter), the optimizer, the lr schedule, the EMA, the RNG states (the
    global ones and ``generator``), accelerate's gradient scaler and the ``extras`` (more states, by name, each with
    ``state_dict``/``load_state_dict``); without ``ckpt_dir`` the run keeps none.
    """

    accelerator: Accelerator
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    name: str = "run"  # in messages (the variant's name)
    steps: int = 0  # the run's planned steps
    lr_scheduler: object | None = None
    ema: object | None = None  # diffusers' EMAModel, stepped after every update
    generator: torch.Generator | None = None  # the run's own draws (t, gamma, noise), saved with its checkpoints
    max_grad_norm: float | None = None  # gradient clipping, if any
    ckpt_dir: Path | None = None
    keep_checkpoints: int | None = None  # how many a Ctrl-C checkpoint leaves (None: all)
    trainable_only: bool = False
    extras: dict[str, object] = field(default_factory=dict)
    started: float = 0.0  # perf_counter at the first step of this session

    @property
    def net(self) -> torch.nn.Module:
        return self.accelerator.unwrap_model(self.model)

    def prepare(self, model: bool = True) -> None:
        """Hand the optimizer (and the model, unless ``model=False``) to accelerate: the device, the distributed
        wrapper, fp16's gradient scaler. ``model=False`` leaves the module as it is (accelerate's mixed precision
        would wrap its ``forward`` in autocast for good: the SD pipeline's UNet must stay as the pipeline has it)."""
        if model:
            self.model, self.optimizer = self.accelerator.prepare(self.model, self.optimizer)
        else:
            self.optimizer = self.accelerator.prepare_optimizer(self.optimizer)

    def _state(self) -> tuple[tuple, dict]:
        optimizer = getattr(self.optimizer, "optimizer", self.optimizer)  # accelerate's wrapper, or a plain one
        extras = dict(self.extras)
        if self.accelerator.scaler is not None:
            extras["grad_scaler"] = self.accelerator.scaler
        return ((self.net, optimizer, self.lr_scheduler, self.ema, self.generator),
                {"trainable_only": self.trainable_only, "extras": extras})

    def save_checkpoint(self, done: int, keep: int | None = None) -> None:
        """``ckpt_dir/step_<done>`` (on the main process); then keep only the newest ``keep``."""
        if self.accelerator.is_main_process and self.ckpt_dir is not None:
            objects, options = self._state()
            save_checkpoint(self.ckpt_dir, done, *objects, **options)
            if keep is not None:
                prune_checkpoints(self.ckpt_dir, keep)

    def resume(self, checkpoints: list[Path]) -> int:
        """Load the newest of ``checkpoints`` that loads whole (saying so when a newer one was damaged); the step."""
        objects, options = self._state()
        for path in reversed(checkpoints):
            try:
                step = load_checkpoint(path, *objects, **options)
            except Exception as err:  # noqa: BLE001 - any damage (truncated safetensors, bad JSON) means: try older
                warnings.warn(f"checkpoint {path} is damaged ({type(err).__name__}: {str(err)[:120]}); "
                              f"trying the one before it", stacklevel=2)
                continue
            if path != checkpoints[-1]:
                print(f"resuming from {path.name}, the newest checkpoint that loads whole")
            return step
        raise RuntimeError(f"no checkpoint under {checkpoints[-1].parent} loads whole: start the run again "
                           f"without --resume in a new folder")


def optimize(run: Run, loss: torch.Tensor) -> None:
    """One update: backward (through accelerate, so fp16 scales the loss), gradient clipping to the run's
    ``max_grad_norm`` (if set), the optimizer step (fp16's scaler skips it on an overflow), the lr schedule, the
    gradients cleared, then the EMA of the weights ``ema <- decay_k * ema + (1 - decay_k) * weights`` (if kept)."""
    run.accelerator.backward(loss)
    if run.max_grad_norm is not None and run.accelerator.sync_gradients:
        run.accelerator.clip_grad_norm_(run.model.parameters(), run.max_grad_norm)
    run.optimizer.step()
    if run.lr_scheduler is not None:
        run.lr_scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    if run.ema is not None:
        run.ema.step(run.net.parameters())


@dataclass
class Outcome:
    """How a `fit` ended: ``status`` is "finished", "stopped at step k" (the steps ended before the run's planned
    ones), a hook's status, "diverged at step k", "interrupted at step k" or "failed at step k (error)"."""

    status: str
    start: int  # the run's step count when this session began
    done: int  # ... and when it ended
    loss: float | None = None  # the last step's loss
    seconds: float = 0.0  # wall time of this session's steps

    @property
    def steps_run(self) -> int:
        return self.done - self.start


def fit(run: Run, batches: Callable[[int], object], loss_fn: Callable[[Run, object], torch.Tensor], steps: range,
        hooks: Sequence[Hook] = (), *, update: Callable[[Run, torch.Tensor], None] = optimize, progress: bool = True,
        desc: str | None = None, leave: bool = True) -> Outcome:
    """Run the steps ``steps`` (``range(start, stop)``) of ``run`` as the module docstring shows; returns the
    `Outcome`. ``batches(step)`` makes the batch of a step, ``loss_fn(run, batch)`` its scalar loss (under the
    accelerator's autocast), ``update(run, loss)`` changes the weights. Any error ends the run with its status
    (seen by the hooks' ``after_fit``) and goes on; after Ctrl-C at the end of a whole step, a run with a
    checkpoint folder saves one there first, so that a resume continues exactly."""
    start, stop = steps.start, steps.stop
    outcome = Outcome("finished" if stop >= run.steps else f"stopped at step {stop}", start, start)
    bar = tqdm(steps, desc=desc or run.name, leave=leave, disable=not (progress and run.accelerator.is_main_process))
    run.started, whole = time.perf_counter(), True  # whole: no step half-done (a checkpoint is exact)
    try:
        for step in bar:
            whole = False
            for hook in hooks:
                hook.before_step(run, step)
            batch = batches(step)
            with run.accelerator.autocast():
                loss = loss_fn(run, batch)
            outcome.loss = run.accelerator.gather(loss.detach()[None]).mean().item()
            for hook in hooks:
                hook.after_loss(run, step + 1, outcome.loss)
            update(run, loss)
            outcome.done, whole = step + 1, True
            bar.set_postfix(loss=f"{outcome.loss:.4f}", refresh=False)
            ended = [s for s in (hook.after_step(run, outcome.done, outcome.loss) for hook in hooks) if s]
            if ended:
                outcome.status = ended[0]
                break
    except BaseException as err:  # the outcome says what happened, then the error goes on
        done = outcome.done
        if isinstance(err, TrainingDiverged):
            outcome.status = f"diverged at step {err.step}"
        elif isinstance(err, KeyboardInterrupt):
            outcome.status = f"interrupted at step {done}"
            saved = run.ckpt_dir is not None and (Path(run.ckpt_dir) / f"{STEP_PREFIX}{done:06d}").is_dir()
            if whole and done > start and not saved:
                run.save_checkpoint(done, keep=run.keep_checkpoints)  # what a resume continues from, exactly
        else:
            outcome.status = f"failed at step {done + 1} ({type(err).__name__}: {str(err)[:160]})"
        raise
    finally:
        bar.close()
        outcome.seconds = time.perf_counter() - run.started
        for hook in hooks:
            hook.after_fit(run, outcome)
    return outcome
