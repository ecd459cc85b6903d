"""What happens around a training step besides the step itself, one hook per job (in the spirit of miniai's
callbacks): the loss log, the divergence check, checkpoints, a learner's callback, the time budget, Ctrl-C, and
what a run reports (the losses, the seconds per step).

A hook sees the running `engine.Run` (for the lite model the `loop.TrainRun`), and `engine.fit` calls it at four
points: ``before_step`` before the batch of step ``step`` (0-based) is made; ``after_loss`` once the loss of step
``step`` (1-based) is known and before the weights change (so a diverged step is logged, then stops the run
untouched); ``after_step`` once the step is done (``done`` = steps completed), which may return a status that ends
the run after this step; ``after_fit`` at the end, however the run ended (also after an error), with the `Outcome`.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from pathlib import Path

LOG_FIELDS = ("step", "loss", "lr", "elapsed_s")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``step`` is the (1-based) step that produced it."""

    def __init__(self, variant: str, step: int, loss: float):
        super().__init__(f"{variant}: the loss is {loss} at step {step}: training diverged and was stopped "
                         f"(lower the learning rate, or this is the expected result of this ablation)")
        self.variant, self.step, self.loss = variant, step, loss


class Hook:
    """A hook does nothing at any point; a subclass overrides the points it needs."""

    def before_step(self, run, step: int) -> None:
        pass

    def after_loss(self, run, step: int, loss: float) -> None:
        pass

    def after_step(self, run, done: int, loss: float) -> str | None:
        return None

    def after_fit(self, run, outcome) -> None:
        pass


def read_log(path: Path, up_to: int) -> list[dict]:
    """The rows of ``loss_log.csv`` up to step ``up_to`` (what a resumed run keeps)."""
    if not path.is_file():
        return []
    with path.open() as f:
        return [row for row in csv.DictReader(f) if int(row["step"]) <= up_to]


class LossLog(Hook):
    """``loss_log.csv``: step, loss, lr, elapsed seconds over all sessions. A resume keeps the rows up to its
    checkpoint and continues the clock from the last of them."""

    def __init__(self, path: Path, start: int):
        from ..paths import atomic_write

        rows = read_log(path, start)
        with atomic_write(path) as tmp, tmp.open("w", newline="") as f:  # the kept rows, whole or not at all
            writer = csv.DictWriter(f, fieldnames=LOG_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        self.offset = float(rows[-1]["elapsed_s"]) if rows else 0.0
        self.file = path.open("a", newline="")

    def after_loss(self, run, step, loss):
        lr = run.lr_scheduler.get_last_lr()[0] if run.lr_scheduler is not None else run.optimizer.param_groups[0]["lr"]
        csv.writer(self.file).writerow([step, f"{loss:.6g}", f"{lr:.3g}",
                                        f"{self.offset + time.perf_counter() - run.started:.2f}"])
        self.file.flush()

    def after_fit(self, run, outcome):
        self.file.close()


class DivergenceGuard(Hook):
    """Stops the run at the first non-finite loss (`TrainingDiverged`), before it reaches the weights."""

    def after_loss(self, run, step, loss):
        if not math.isfinite(loss):
            raise TrainingDiverged(run.name, step, loss)


class Checkpoints(Hook):
    """A checkpoint every ``every`` steps and at the last step; keeps the newest ``keep``."""

    def __init__(self, every: int, keep: int, stop: int):
        self.every, self.keep, self.stop = every, keep, stop

    def after_step(self, run, done, loss):
        if done % self.every == 0 or done == self.stop:
            run.save_checkpoint(done, keep=self.keep)


class Callback(Hook):
    """``fn(done, loss, model)`` after every step (e.g. a notebook erasing a probe scene with the UNet)."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def after_step(self, run, done, loss):
        self.fn(done, loss, run.net)


class TimeBudget(Hook):
    """Ends the run after the step that exhausts ``seconds`` (of this session), with a checkpoint there."""

    def __init__(self, seconds: float, stop: int):
        self.seconds, self.stop = seconds, stop

    def after_step(self, run, done, loss):
        if time.perf_counter() - run.started > self.seconds and done < self.stop:
            run.save_checkpoint(done)
            return f"finished early at step {done} of {run.steps} (time budget {self.seconds:.0f} s)"
        return None


class StopOnInterrupt(Hook):
    """Ctrl-C (SIGINT) ends the run at the end of the current step, where a checkpoint is exact: `engine.fit` saves
    it (for a run with a checkpoint folder) and raises `KeyboardInterrupt`. A second Ctrl-C stops at once. Off the
    main thread, SIGINT is left alone."""

    def __init__(self):
        import signal
        import threading

        self.asked, self.previous = False, None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._ask)

    def _ask(self, signum, frame):
        import signal

        self.asked = True
        signal.signal(signal.SIGINT, self.previous or signal.default_int_handler)
        print("\ninterrupt: stopping after this step and saving a checkpoint (Ctrl-C again stops at once)",
              flush=True)

    def after_step(self, run, done, loss):
        if self.asked:
            raise KeyboardInterrupt(f"interrupted at step {done}")
        return None

    def after_fit(self, run, outcome):
        import signal

        if self.previous is not None and not self.asked:
            signal.signal(signal.SIGINT, self.previous)


class LossHistory(Hook):
    """Keeps every step's loss in ``values`` (a list the caller may pass in and read)."""

    def __init__(self, values: list[float] | None = None):
        self.values = [] if values is None else values

    def after_loss(self, run, step, loss):
        self.values.append(loss)


class StepTimer(Hook):
    """The wall seconds of each step in ``seconds``, from before its batch to its finished update (on CUDA after a
    synchronize, so that the GPU's queued work is counted)."""

    def __init__(self):
        self.seconds: list[float] = []
        self.begun = 0.0

    def before_step(self, run, step):
        self.begun = time.perf_counter()

    def after_step(self, run, done, loss):
        import torch

        device = run.accelerator.device
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        self.seconds.append(time.perf_counter() - self.begun)
