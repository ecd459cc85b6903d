"""The one training engine (`eradiff_lite.train.engine`): fit's hooks, Ctrl-C and exact resume on a toy model; the SD
LoRA and the presence net resuming exactly through it; the run-folder lock; accelerate's state per run; and that no
other module runs a training loop of its own."""

import os
import re
import signal
from pathlib import Path

import pytest
import torch

from eradiff_lite.lock import FolderLocked, folder_lock
from eradiff_lite.train.checkpoint import list_checkpoints
from eradiff_lite.train.engine import Run, checkpoints_to_resume, fit, make_accelerator
from eradiff_lite.train.hooks import Checkpoints, Hook, LossHistory, StopOnInterrupt

ROOT = Path(__file__).resolve().parents[1]


def _toy_run(ckpt_dir=None) -> Run:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    run = Run(make_accelerator("no", cpu=True), model, optimizer, "toy", 6, scheduler,
              generator=torch.Generator().manual_seed(1), max_grad_norm=1.0, ckpt_dir=ckpt_dir, keep_checkpoints=10)
    return run


def _toy_fit(run: Run, start: int, hooks, interrupt_at: int | None = None):
    def batches(step):  # a pure function of the step, plus a draw from the run's generator
        x = torch.randn(4, 3, generator=torch.Generator().manual_seed(step))
        return x, torch.randn(4, 1, generator=run.generator)

    def loss_fn(run, batch):
        if loss_fn.step == interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, in the middle of a step
        loss_fn.step += 1
        return torch.nn.functional.mse_loss(run.model(batch[0]), batch[1])

    loss_fn.step = start
    return fit(run, batches, loss_fn, range(start, run.steps), hooks, progress=False)


def test_fit_calls_the_hooks_in_order_and_reports_the_outcome():
    seen = []

    class Probe(Hook):
        def before_step(self, run, step):
            seen.append(("before", step))

        def after_loss(self, run, step, loss):
            seen.append(("loss", step))

        def after_step(self, run, done, loss):
            seen.append(("step", done))
            return "enough" if done == 2 else None

        def after_fit(self, run, outcome):
            seen.append(("fit", outcome.status))

    losses = LossHistory()
    outcome = _toy_fit(_toy_run(), 0, [losses, Probe()])
    assert seen == [("before", 0), ("loss", 1), ("step", 1), ("before", 1), ("loss", 2), ("step", 2),
                    ("fit", "enough")]
    assert outcome.status == "enough" and outcome.done == 2 and outcome.steps_run == 2
    assert outcome.loss == losses.values[-1] and len(losses.values) == 2


def test_ctrl_c_saves_the_step_and_the_resume_is_the_same_run(tmp_path):
    straight = _toy_run(tmp_path / "a")
    _toy_fit(straight, 0, [Checkpoints(100, 10, 6)])
    run = _toy_run(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        _toy_fit(run, 0, [StopOnInterrupt()], interrupt_at=2)
    assert [c.name for c in list_checkpoints(tmp_path / "b")] == ["step_000003"]  # the step in flight finished
    again = _toy_run(tmp_path / "b")
    start = again.resume(checkpoints_to_resume(tmp_path / "b", resume=True))
    assert start == 3
    outcome = _toy_fit(again, start, [Checkpoints(100, 10, 6)])
    assert outcome.status == "finished" and outcome.done == 6
    assert all(torch.equal(a, b) for a, b in zip(straight.net.parameters(), again.net.parameters()))
    with pytest.raises(FileExistsError, match="--resume"):
        checkpoints_to_resume(tmp_path / "b", resume=False)


def test_accelerate_takes_each_runs_precision_in_one_process():
    assert make_accelerator("no").mixed_precision == "no"
    assert make_accelerator("bf16", cpu=True).mixed_precision == "bf16"  # refused by accelerate alone
    again = make_accelerator("no")
    assert again.mixed_precision == "no" and again.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.fixture(scope="module")
def sd_pairs():
    from eradiff_lite.sd import photo_triplets

    return photo_triplets(32, 3, seed=0)


def _lora(pipe):
    return {n: p.detach().clone() for n, p in pipe.unet.named_parameters() if p.requires_grad}


def test_the_sd_lora_resumes_exactly_from_its_run_folder(sd_pairs, tmp_path):
    from eradiff_lite.sd import train_cro_lora
    from eradiff_lite.sd.model import build_tiny_sd_inpaint

    options = dict(batch_size=2, gradient_checkpointing=False, progress=False)
    straight = build_tiny_sd_inpaint(seed=0, image_size=32)
    torch.manual_seed(0)  # the adapter's initial weights (peft draws them from the global RNG)
    whole = train_cro_lora(straight, sd_pairs, 4, **options)
    first = build_tiny_sd_inpaint(seed=0, image_size=32)
    torch.manual_seed(0)
    part = train_cro_lora(first, sd_pairs, 2, run_dir=tmp_path / "r", **options)
    assert part.losses == whole.losses[:2]
    assert [c.name for c in list_checkpoints(tmp_path / "r" / "checkpoints")] == ["step_000002"]
    fresh = build_tiny_sd_inpaint(seed=0, image_size=32)  # a new session: the adapter comes from the checkpoint
    rest = train_cro_lora(fresh, sd_pairs, 4, run_dir=tmp_path / "r", resume=True, **options)
    assert rest.losses == whole.losses[2:]
    a, b = _lora(straight), _lora(fresh)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with folder_lock(tmp_path / "r"), pytest.raises(FolderLocked, match="is in use"):
        train_cro_lora(build_tiny_sd_inpaint(seed=0, image_size=32), sd_pairs, 6, run_dir=tmp_path / "r",
                       resume=True, **options)


def test_the_presence_net_resumes_exactly_in_mid_epoch_and_the_command_says_how(tmp_path, monkeypatch, capsys):
    from eradiff_lite.experiments import presence_train
    from eradiff_lite.experiments.presence_train import train_presence_net

    small = dict(scenes=8, epochs=2, batch_size=4, heldout_scenes=8, progress=False)  # 4 steps an epoch, 8 in all
    straight, _ = train_presence_net(**small)
    real = presence_train.EpochOrder.indices

    def ctrl_c_at_step_1(self, step):
        if step == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, step)

    monkeypatch.setattr(presence_train.EpochOrder, "indices", ctrl_c_at_step_1)
    with pytest.raises(KeyboardInterrupt):
        train_presence_net(**small, run_dir=tmp_path / "r")
    assert [c.name for c in list_checkpoints(tmp_path / "r" / "checkpoints")] == ["step_000002"]  # mid-epoch
    monkeypatch.setattr(presence_train.EpochOrder, "indices", real)
    resumed, card = train_presence_net(**small, run_dir=tmp_path / "r", resume=True)
    assert card["train"]["resumed_at_step"] == 2
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(presence_train, "train_presence_net", interrupted)
    assert presence_train.main(["--scenes", "8", "--run-dir", str(tmp_path / "r")]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(r"resume with: python -m eradiff_lite train-presence .*--run-dir \S+ --resume", err)


def test_no_module_runs_a_training_loop_of_its_own():
    """Backward passes, optimizer steps, gradient scalers and autocast live in the engine; the written-out step of
    the course's exercise (`train.step.training_step`) and the exercises' checks are the only other places."""
    allowed = {"eradiff_lite/train/engine.py", "eradiff_lite/train/step.py", "eradiff_lite/exercises/train_build.py",
               "eradiff_lite/exercises/crobuild.py",  # says "to call .backward() on" to a learner
               "eradiff_lite/experiments/bench/cro.py"}  # bench-cro times a loss's backward pass alone
    found = []
    for path in sorted((ROOT / "eradiff_lite").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        text = path.read_text()
        if name not in allowed and re.search(r"\.backward\(\)|GradScaler|torch\.autocast|\.step\(\)", text):
            found.append(name)
    assert found == [], f"train through eradiff_lite.train.engine.fit in {found}"


def test_a_checkpoint_keeps_extra_states_of_json_and_tensors(tmp_path):
    """What a run adds to its checkpoints (fp16's gradient scaler: numbers; the presence net's epoch order: a tensor)
    comes back as it was; a run without EMA or lr schedule writes neither."""
    from eradiff_lite.train.checkpoint import load_checkpoint, save_checkpoint

    class State:
        def __init__(self, scale, order):
            self.scale, self.order = scale, order

        def state_dict(self):
            return {"scale": self.scale, "order": self.order}

        def load_state_dict(self, state):
            self.scale, self.order = state["scale"], state["order"]

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    path = save_checkpoint(tmp_path, 7, model, optimizer, extras={"state": State(1024.0, torch.arange(3))})
    back = State(1.0, torch.zeros(3))
    assert load_checkpoint(path, model, optimizer, extras={"state": back}) == 7
    assert back.scale == 1024.0 and torch.equal(back.order, torch.arange(3))
    assert not (path / "ema.safetensors").exists()
