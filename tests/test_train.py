"""Training: every variant's loss, exact resume, the divergence stop, checkpoints, masks, the CLI (smoke sizes)."""

import csv
import json
import math

import numpy as np
import pytest
import torch
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from safetensors.torch import load_file

from eradiff_lite.cli.train import main as train_main
from eradiff_lite.models.lite import build_lite_unet, build_scheduler
from eradiff_lite.profiles import get_profile
from eradiff_lite.train import TRAINED_VARIANTS, TrainingDiverged, get_variant, make_config, train
from eradiff_lite.train.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from eradiff_lite.train.data import TrainingScenes
from eradiff_lite.train.random_masks import MASK_KINDS, box_mask, object_mask, random_mask, stroke_mask
from eradiff_lite.train.step import variant_loss

SMOKE = get_profile("smoke")


def _log(path):
    with open(path) as f:
        return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "baseline"
    result = train(make_config("baseline", SMOKE, steps=2), out, progress=False)
    assert result.status == "finished" and result.steps_done == 2
    return out


@pytest.mark.parametrize("variant", TRAINED_VARIANTS)
def test_each_variant_trains_with_finite_loss(variant, baseline_dir, tmp_path):
    init = None if variant == "baseline" else baseline_dir
    result = train(make_config(variant, SMOKE, steps=2), tmp_path / variant, init=init, progress=False)
    losses = [loss for _, loss in _log(tmp_path / variant / "loss_log.csv")]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    assert result.final_loss == pytest.approx(losses[-1], rel=1e-4)
    assert (tmp_path / variant / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    card = json.loads((tmp_path / variant / "card.json").read_text())
    assert card["variant"] == variant and card["steps"] == 2 and card["profile"] == "smoke"
    assert card["image_size"] == 32 and card["prediction_type"] == "sample"


def test_variant_losses_differ_on_the_same_batch():
    unet = build_lite_unet(SMOKE)
    scenes = TrainingScenes(8, SMOKE.image_size, progress=False)
    ac = build_scheduler(SMOKE.num_train_timesteps).alphas_cumprod.float()
    losses = {}
    for name in ("paired", "cro", "cro_sra", "cro_const"):
        batch = scenes.batch(0, 4, seed=0, random_masks=False)
        losses[name] = variant_loss(get_variant(name), unet, batch, ac, torch.Generator().manual_seed(0),
                                    SMOKE.gamma_max).item()
    assert all(math.isfinite(v) for v in losses.values())
    assert losses["cro"] != losses["paired"] and losses["cro"] != losses["cro_const"]
    assert losses["cro_sra"] != losses["cro"]  # SRA changes the attention of the hole's queries


@pytest.mark.parametrize("variant", ["baseline", "cro_sra"])
def test_resume_continues_exactly(variant, baseline_dir, tmp_path):
    init = None if variant == "baseline" else baseline_dir  # a fine-tune starts from a loaded (eval-mode) UNet
    cfg = make_config(variant, SMOKE, steps=4, checkpoint_every=2)
    train(cfg, tmp_path / "straight", init=init, progress=False)
    stopped = train(cfg, tmp_path / "split", init=init, stop_at=2, progress=False)
    assert stopped.status == "stopped at step 2" and not (tmp_path / "split" / "unet").exists()
    train(cfg, tmp_path / "split", resume=True, progress=False)
    a, b = (list_checkpoints(tmp_path / run / "checkpoints")[-1] for run in ("straight", "split"))
    assert a.name == b.name == "step_000004"
    for name in ("model.safetensors", "ema.safetensors", "optimizer.safetensors"):
        ta, tb = load_file(a / name), load_file(b / name)
        assert ta.keys() == tb.keys()
        assert all(torch.equal(ta[k], tb[k]) for k in ta), name
    assert _log(tmp_path / "straight" / "loss_log.csv") == _log(tmp_path / "split" / "loss_log.csv")
    sessions = json.loads((tmp_path / "split" / "training.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["stopped at step 2", "finished"]


def test_existing_run_needs_resume_and_resume_needs_a_checkpoint(tmp_path):
    cfg = make_config("baseline", SMOKE, steps=2)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(cfg, tmp_path / "r", resume=True, progress=False)
    train(cfg, tmp_path / "r", progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg, tmp_path / "r", progress=False)


def test_non_finite_loss_stops_and_names_the_step(tmp_path):
    cfg = make_config("baseline", SMOKE, steps=8, learning_rate=1e12, warmup_steps=1, max_grad_norm=1e30)
    with pytest.raises(TrainingDiverged, match=r"at step \d+") as info:
        train(cfg, tmp_path / "nan", progress=False)
    log = _log(tmp_path / "nan" / "loss_log.csv")
    assert log[-1][0] == info.value.step and not math.isfinite(log[-1][1])
    status = json.loads((tmp_path / "nan" / "training.json").read_text())["result"]["status"]
    assert status == f"diverged at step {info.value.step}"


def test_finetune_without_init_and_untrainable_variant_are_refused(tmp_path):
    with pytest.raises(ValueError, match="--init"):
        train(make_config("cro", SMOKE), tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="not trained"):
        make_config("sra", SMOKE)
    with pytest.raises(ValueError, match="unknown variant"):
        make_config("nope", SMOKE)


def test_checkpoint_round_trip_restores_every_state(tmp_path):
    torch.manual_seed(0)
    unet = build_lite_unet(SMOKE)
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    sched = get_scheduler("constant_with_warmup", opt, num_warmup_steps=3)
    ema = EMAModel(unet.parameters(), decay=0.99, use_ema_warmup=True)
    unet(torch.randn(1, 7, 32, 32), 5).sample.mean().backward()
    opt.step()
    sched.step()
    ema.step(unet.parameters())
    gen = torch.Generator().manual_seed(3)
    path = save_checkpoint(tmp_path, 1, unet, opt, sched, ema, gen)
    expected = (torch.rand(3), np.random.rand(), torch.rand(2, generator=gen))

    torch.manual_seed(1)
    unet2 = build_lite_unet(SMOKE)
    opt2 = torch.optim.AdamW(unet2.parameters(), lr=1e-3)
    sched2 = get_scheduler("constant_with_warmup", opt2, num_warmup_steps=3)
    ema2 = EMAModel(unet2.parameters(), decay=0.99, use_ema_warmup=True)
    gen2 = torch.Generator().manual_seed(99)
    assert load_checkpoint(path, unet2, opt2, sched2, ema2, gen2) == 1
    assert all(torch.equal(a, b) for a, b in zip(unet.state_dict().values(), unet2.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(ema.shadow_params, ema2.shadow_params))
    assert ema2.optimization_step == ema.optimization_step
    assert sched2.get_last_lr() == sched.get_last_lr()
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert all(torch.equal(s1[i][k], s2[i][k]) for i in s1 for k in s1[i])
    assert torch.equal(torch.rand(3), expected[0]) and np.random.rand() == expected[1]
    assert torch.equal(torch.rand(2, generator=gen2), expected[2])


def test_masks_are_never_empty_or_full(rng):
    scenes = TrainingScenes(4, 32, progress=False)
    for m in (stroke_mask(32, rng), box_mask(32, rng), object_mask(scenes.object_masks, rng)):
        assert m.shape == (32, 32) and m.dtype == bool and m.any() and not m.all()
    assert all(random_mask(32, rng, scenes.object_masks).any() for _ in range(30))
    assert set(MASK_KINDS) == {"strokes", "box", "object"}


def test_batches_are_a_function_of_the_step_and_split_across_processes():
    scenes = TrainingScenes(16, 32, progress=False)
    a, b = scenes.batch(7, 4, seed=0, random_masks=True), scenes.batch(7, 4, seed=0, random_masks=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["mask"], scenes.batch(8, 4, seed=0, random_masks=True)["mask"])
    halves = [scenes.batch(7, 4, 0, True, rank=r, world=2) for r in (0, 1)]
    assert torch.equal(torch.cat([halves[0]["x_obj"][:1], halves[1]["x_obj"][:1]]), a["x_obj"][:2])


def test_cli_help_explains_variants(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--variant" in text and "--resume" in text and "cro_sra" in text and "examples" in text


def test_fresh_batches_are_a_pure_function_of_seed_and_step():
    scenes = TrainingScenes(0, SMOKE.image_size, progress=False, fresh=True)
    a = scenes.batch(7, 4, seed=3, random_masks=True)
    b = TrainingScenes(0, SMOKE.image_size, progress=False, fresh=True).batch(7, 4, seed=3, random_masks=True)
    c = scenes.batch(8, 4, seed=3, random_masks=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["x_obj"], c["x_obj"]), "another step must draw other scenes"
    split = scenes.batch(7, 4, seed=3, random_masks=True, rank=1, world=2)
    assert torch.equal(split["x_obj"], a["x_obj"][1::2])


def test_object_masks_often_cover_the_scenes_own_object():
    scenes = TrainingScenes(0, SMOKE.image_size, progress=False, fresh=True)
    own = hits = 0
    for step in range(40):
        plain = scenes.batch(step, 4, seed=0, random_masks=False)["mask"]
        masked = scenes.batch(step, 4, seed=0, random_masks=True)["mask"]
        own += int(sum(torch.equal(p, m) for p, m in zip(plain, masked)))
        hits += 4
    share = own / hits
    # about 1/6 of all masks: half of the object-shaped third
    assert 0.08 < share < 0.3, f"share of masks over the scene's own object: {share}"


def test_a_fine_tune_refuses_a_baseline_of_another_recipe(baseline_dir, tmp_path):
    cfg = make_config("cro", SMOKE, steps=1, prediction_type="epsilon")
    with pytest.raises(ValueError, match="prediction_type"):
        train(cfg, tmp_path / "cro", init=baseline_dir, progress=False)


@pytest.mark.parametrize("kind", ["epsilon", "v_prediction", "sample"])
def test_every_target_trains_and_exports_its_scheduler(kind, tmp_path):
    out = tmp_path / kind
    train(make_config("baseline", SMOKE, steps=1, prediction_type=kind), out, progress=False)
    saved = json.loads((out / "scheduler" / "scheduler_config.json").read_text())
    assert saved["prediction_type"] == kind
    cro = train(make_config("cro", SMOKE, steps=1, prediction_type=kind), tmp_path / f"cro_{kind}", init=out,
                progress=False)
    assert math.isfinite(cro.final_loss)


def test_a_resume_with_other_settings_is_refused_and_the_cli_resumes_the_saved_run(tmp_path):
    cfg = make_config("baseline", SMOKE, steps=3, checkpoint_every=1)
    train(cfg, tmp_path / "r", stop_at=1, progress=False)
    saved = (tmp_path / "r" / "train_config.json").read_text()
    with pytest.raises(ValueError, match="seed"):
        train(make_config("baseline", SMOKE, steps=3, checkpoint_every=1, seed=7), tmp_path / "r", resume=True,
              progress=False)
    assert (tmp_path / "r" / "train_config.json").read_text() == saved, "a refused resume must not touch the run"
    with pytest.raises(SystemExit, match="seed=0"):
        train_main(["--variant", "baseline", "--out", str(tmp_path / "r"), "--resume", "--seed", "7"])
    # the CLI takes the run's own steps and batch, whatever today's profile says
    assert train_main(["--variant", "baseline", "--out", str(tmp_path / "r"), "--resume", "--profile", "cpu",
                       "--no-progress"]) == 0
    assert json.loads((tmp_path / "r" / "card.json").read_text())["steps"] == 3


def test_ctrl_c_is_recorded_as_an_interruption_not_a_finish(tmp_path):
    def interrupt(step, loss, unet):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(make_config("baseline", SMOKE, steps=5, checkpoint_every=1), tmp_path / "r", callback=interrupt,
              progress=False)
    record = json.loads((tmp_path / "r" / "training.json").read_text())["result"]
    assert record["status"] == "interrupted at step 2" and record["steps_done"] == 2
    assert not (tmp_path / "r" / "unet").exists(), "an interrupted run exports nothing"


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    cfg = make_config("baseline", SMOKE, steps=4, checkpoint_every=1, keep_checkpoints=5)
    train(cfg, tmp_path / "straight", progress=False)
    train(cfg, tmp_path / "r", stop_at=3, progress=False)
    newest = list_checkpoints(tmp_path / "r" / "checkpoints")[-1]
    data = (newest / "model.safetensors").read_bytes()
    (newest / "model.safetensors").write_bytes(data[: len(data) // 2])  # truncated, as by a full disk
    with pytest.warns(UserWarning, match="damaged"):
        result = train(cfg, tmp_path / "r", resume=True, progress=False)
    assert result.status == "finished" and result.steps_run == 2  # steps 3 and 4 again, from step 2
    a, b = (load_file(list_checkpoints(tmp_path / d / "checkpoints")[-1] / "model.safetensors")
            for d in ("straight", "r"))
    assert all(torch.equal(a[k], b[k]) for k in a), "the fallback resume is still the same run"


def test_a_time_budget_ends_at_a_checkpoint_exports_and_resumes_to_the_same_run(tmp_path):
    cfg = make_config("baseline", SMOKE, steps=5, checkpoint_every=10, keep_checkpoints=10)
    train(cfg, tmp_path / "straight", progress=False)
    early = train(cfg, tmp_path / "budget", time_budget_s=0.0, progress=False)  # exhausted after the first step
    assert early.status == "finished early at step 1 of 5 (time budget 0 s)" and early.steps_done == 1
    assert [c.name for c in list_checkpoints(tmp_path / "budget" / "checkpoints")] == ["step_000001"]
    assert (tmp_path / "budget" / "model_index.json").is_file()  # what it has is exported, card says so
    assert json.loads((tmp_path / "budget" / "card.json").read_text())["status"].startswith("finished early")
    done = train(cfg, tmp_path / "budget", resume=True, progress=False)
    assert done.status == "finished" and done.steps_done == 5
    assert _log(tmp_path / "straight" / "loss_log.csv") == _log(tmp_path / "budget" / "loss_log.csv")


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    train(make_config("baseline", SMOKE, steps=5, checkpoint_every=1, keep_checkpoints=2), tmp_path / "r",
          progress=False)
    assert [c.name for c in list_checkpoints(tmp_path / "r" / "checkpoints")] == ["step_000004", "step_000005"]


def test_hooks_see_the_loss_before_the_update_and_can_end_the_run(tmp_path):
    from eradiff_lite.train import loop
    from eradiff_lite.train.hooks import Hook

    seen = []

    class Probe(Hook):  # records the weights' sum when the loss is known and when the step is done
        def after_loss(self, run, step, loss):
            seen.append(("loss", step, float(sum(p.detach().sum() for p in run.unet.parameters()))))

        def after_step(self, run, done, loss):
            seen.append(("step", done, float(sum(p.detach().sum() for p in run.unet.parameters()))))
            return "stopped by the probe" if done == 3 else None

    original = loop.DivergenceGuard
    loop.DivergenceGuard = Probe  # ride in the divergence guard's place, for this run only
    try:
        result = train(make_config("baseline", SMOKE, steps=5, warmup_steps=1), tmp_path / "r", progress=False)
    finally:
        loop.DivergenceGuard = original
    assert [(k, s) for k, s, _ in seen] == [("loss", 1), ("step", 1), ("loss", 2), ("step", 2), ("loss", 3),
                                            ("step", 3)]
    assert seen[2][2] != seen[3][2] and seen[3][2] == seen[4][2]  # the update falls between loss and step
    assert result.status == "stopped by the probe" and result.steps_done == 3


def test_training_scenes_on_chosen_backgrounds_only():
    """`backgrounds` restricts fresh scenes to those kinds (on a smooth gradient only the objects carry Laplacian
    energy), keeps batches a pure function of the step, and refuses unknown kinds and fixed pools."""
    import numpy as np
    from scipy.ndimage import laplace

    from eradiff_lite.train.data import TrainingScenes, families_on

    def energy(batch):
        x = batch["x_ori"].numpy()
        return float(np.mean([laplace(img[c]) ** 2 for img in x for c in range(3)]))

    smooth = TrainingScenes(8, 32, progress=False, fresh=True, backgrounds=("gradient",))
    mixed = TrainingScenes(8, 32, progress=False, fresh=True)
    a, b = smooth.batch(3, 8, seed=0, random_masks=False), smooth.batch(3, 8, seed=0, random_masks=False)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert energy(a) < energy(mixed.batch(3, 8, seed=0, random_masks=False)) / 3  # measured: about / 8 (objects)
    assert set(families_on(("gradient",))) == {"orange", "cookie"}
    with pytest.raises(ValueError, match="backgrounds must be"):
        families_on(("marble",))
    with pytest.raises(ValueError, match="fresh scenes"):
        TrainingScenes(8, 32, progress=False, fresh=False, backgrounds=("gradient",))
    with pytest.raises(ValueError, match="backgrounds must be"):
        make_config("paired", "smoke", backgrounds=("marble",))
