"""Notebook 05's build exercises, `training_step` and `erase_loop`: their references agree with the training loop
and the pipeline, their checks accept the solutions and reject the stubs and the usual mistakes by their symptom."""

import pytest
import torch
from diffusers.optimization import get_scheduler
from safetensors.torch import load_file

from eradiff_lite import exercises
from eradiff_lite.exercises import EXERCISES, answer_from_source, check, hint
from eradiff_lite.profiles import get_profile
from eradiff_lite.train import make_config, train
from eradiff_lite.train.checkpoint import list_checkpoints
from eradiff_lite.train.config import HOLE_GRADIENT_LOSS
from eradiff_lite.train.data import TrainingScenes
from eradiff_lite.train.loop import load_init_unet
from eradiff_lite.train.report import read_loss_log
from eradiff_lite.train.step import draw_step, training_step

SMOKE = get_profile("smoke")
NAMES = ("training_step", "erase_loop")


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "baseline"
    train(make_config("baseline", SMOKE, steps=1), out, progress=False)
    return out


@pytest.mark.parametrize("loss, recipe", [("paired", "paper"), ("cro", "paper"), ("cro", "hole + gradient")])
def test_the_training_step_reference_gives_the_loops_losses_and_weights(loss, recipe, baseline_dir, tmp_path):
    """The loop's run (accelerate, clipping, AdamW, warm-up, EMA) against `training_step` on the same draws, with
    the lr schedule stepped by hand: the same losses and the same raw weights after every step. "paper": the loss's
    mean over the picture (the default, what the exercise writes); "hole + gradient": the fill study's averaging
    (`HOLE_GRADIENT_LOSS`), handed to `training_step` as the configured loss."""
    from eradiff_lite.losses import loss_for
    from eradiff_lite.variants import VARIANTS

    chosen = {} if recipe == "paper" else HOLE_GRADIENT_LOSS
    cfg = make_config(loss, SMOKE, steps=3, checkpoint_every=3, **chosen)
    assert (cfg.loss_region == "hole") == (recipe != "paper")
    objective = loss if recipe == "paper" else loss_for(VARIANTS[loss], region=cfg.loss_region,
                                                        gradient_weight=cfg.gradient_weight)
    logged = []  # the loop's losses, as the callback sees them (the CSV log keeps 6 digits)
    train(cfg, tmp_path / "loop", init=baseline_dir, progress=False,
          callback=lambda step, value, unet: logged.append(value))
    assert len(read_loss_log(tmp_path / "loop" / "loss_log.csv")["loss"]) == len(logged) == cfg.steps

    unet = load_init_unet(baseline_dir, SMOKE.image_size, cfg).train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.learning_rate, weight_decay=cfg.adam_weight_decay)
    lr_scheduler = get_scheduler(cfg.lr_schedule, optimizer, num_warmup_steps=cfg.warmup_steps,
                                 num_training_steps=cfg.steps)
    generator = torch.Generator().manual_seed(cfg.seed)
    scenes = TrainingScenes(cfg.train_scenes, SMOKE.image_size, progress=False, fresh=cfg.fresh_scenes,
                            mask_dilate=tuple(cfg.mask_dilate))
    alphas_cumprod = cfg.build_scheduler().alphas_cumprod.float()
    mine = []
    for step in range(cfg.steps):
        batch = scenes.batch(step, cfg.batch_size, cfg.seed, random_masks=False)
        draws = draw_step(batch, alphas_cumprod.numel(), SMOKE.gamma_max, generator)
        mine.append(float(training_step(unet, optimizer, batch, alphas_cumprod, *draws, loss=objective,
                                        max_grad_norm=cfg.max_grad_norm)))
        lr_scheduler.step()
    assert mine == pytest.approx(logged, rel=1e-6)
    saved = load_file(list_checkpoints(tmp_path / "loop" / "checkpoints")[-1] / "model.safetensors")
    for name, value in unet.state_dict().items():
        torch.testing.assert_close(value, saved[name], rtol=1e-6, atol=1e-7, msg=name)


def test_the_erase_loop_reference_is_the_pipeline(smoke_pipe):
    from eradiff_lite.data import make_scene, mask_to_tensor, to_tensor
    from eradiff_lite.models.lite import build_scheduler
    from eradiff_lite.pipeline.sampling import erase_loop

    scenes = [make_scene(i, SMOKE.image_size, split="heldout") for i in (1, 2)]
    image = torch.stack([to_tensor(s.triplet.x_obj) for s in scenes])
    mask = torch.stack([mask_to_tensor(s.triplet.mask) for s in scenes])
    got = erase_loop(smoke_pipe.unet, build_scheduler(SMOKE.num_train_timesteps), image, mask, 5,
                     torch.Generator().manual_seed(4))
    want = smoke_pipe([s.triplet.x_obj for s in scenes], [s.triplet.mask for s in scenes], num_inference_steps=5,
                      generator=torch.Generator().manual_seed(4)).images
    torch.testing.assert_close(got, torch.stack([to_tensor(w) for w in want]), rtol=1e-5, atol=1e-6)
    assert torch.equal(got * (1 - mask), image * (1 - mask))  # the known pixels, bit for bit


def test_the_references_pass_their_checks(capsys):
    from eradiff_lite.pipeline.sampling import erase_loop

    assert check("training_step", training_step) and check("erase_loop", erase_loop), capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_and_solved_pass_and_the_stub_is_rejected_by_its_symptom(name, capsys):
    exercise = EXERCISES[name]
    exercise.grade(answer_from_source(exercise.solution))
    assert check(name, exercises.solved(name)) is True
    assert check(name, answer_from_source(exercise.wrong)) is False
    out = capsys.readouterr().out
    symptom = {"training_step": "from the noise, but this model answers with the clean image",
               "erase_loop": "at step 2 of 8 (t = 874)"}[name]
    assert out.startswith(f"correct ({name})") and f"not yet ({name}): " in out and symptom in out, out


def _edit(source: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in source, old
        source = source.replace(old, new)
    return source


def _training_step_wrong():
    s = EXERCISES["training_step"].solution
    cro = "value = cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise)"
    return {
        "no optimizer.zero_grad (gradients accumulate)": (_edit(s, ("    optimizer.zero_grad()  # nothing left over "
                                                                    "from the step before\n", "")),
                                                          "the first step's gradients are still there"),
        "the loss against the noise (the stub's)": (_edit(s, ("(x0_hat(x_t, t) - x_ori)", "(x0_hat(x_t, t) - noise)")),
                                                    "far the model's answer is from the noise"),
        "a fresh noise draw for s in CRO": (_edit(s, (cro, cro.replace(", noise)", ", torch.randn_like(noise))"))),
                                            "draws a new noise"),
        "no gradient clipping": (_edit(s, ("    torch.nn.utils.clip_grad_norm_(unet.parameters(), max_grad_norm)\n",
                                           "")), "above max_grad_norm = 0.05"),
        "clipping before the backward pass": (_edit(s, ("    value.backward()\n    torch.nn.utils.clip_grad_norm_("
                                                        "unet.parameters(), max_grad_norm)\n",
                                                        "    torch.nn.utils.clip_grad_norm_(unet.parameters(), "
                                                        "max_grad_norm)\n    value.backward()\n")),
                                              "not shortened to that length"),
        "no optimizer.step": (_edit(s, ("    optimizer.step()\n", "")), "the weights did not move"),
        "the target with the object": (_edit(s, ("(x0_hat(x_t, t) - x_ori)", "(x0_hat(x_t, t) - x_obj)")),
                                       "picture WITH the object"),
        "the condition not masked": (_edit(s, ("masked = x_obj * (1 - mask)", "masked = x_obj")),
                                     "show the picture with the object inside the hole"),
        "loss='cro' ignored": (_edit(s, ('if loss == "paired":', "if True:")), "the paired loss's state"),
        "the x0 answer taken for the noise in CRO": (_edit(s, ("return (x_t - a.sqrt() * x0_hat(x_t, steps)) / "
                                                               "(1 - a).sqrt()", "return x0_hat(x_t, steps)")),
                                                     "takes the model's answer for a noise estimate"),
        "the timesteps not passed to the model": (_edit(s, ("value = ((x0_hat(x_t, t) - x_ori)",
                                                            "value = ((x0_hat(x_t, torch.zeros_like(t)) - x_ori)")),
                                                  "the model was asked at timesteps [0, 0, 0, 0]"),
    }


def _erase_loop_wrong():
    s = EXERCISES["erase_loop"].solution
    step = "x = a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * eps  # DDIM, eta = 0"
    return {
        "the known pixels not kept": (_edit(s, ("return mask * x.clamp(-1, 1) + (1 - mask) * image",
                                                "return x.clamp(-1, 1)")), "outside the hole your result differs"),
        "the schedule reversed": (_edit(s, ("for t in scheduler.timesteps:", "for t in scheduler.timesteps.flip(0):")),
                                  "from almost clean to pure noise"),
        "a fresh noise each step from the generator (eta != 0)": (_edit(s, (step, step.replace(
            "* eps", "* torch.randn(x.shape, generator=generator)"))), "drew more random numbers"),
        "a fresh noise each step, not from the generator": (_edit(s, (step, step.replace("* eps",
                                                                                         "* torch.randn_like(x)"))),
                                                            "outside the generator"),
        "x_t instead of x0_hat in the step": (_edit(s, (step, step.replace("a_prev.sqrt() * x0_hat",
                                                                           "a_prev.sqrt() * x"))),
                                              "does not move toward the model's clean answer"),
        "straight to x0_hat (the stub's)": (_edit(s, (step, "x = x0_hat")), "has no noise left"),
        "x0_hat not clipped": (_edit(s, ("x0_hat = out.clamp(-1, 1)  # clip_sample", "x0_hat = out")),
                               "leaves the image range"),
        "the noise direction from the clipped answer": (_edit(s, ("eps = (x - a_t.sqrt() * out)",
                                                                  "eps = (x - a_t.sqrt() * out.clamp(-1, 1))")),
                                                        "only at pixels where the model's answer left"),
        "the next step at t - 1": (_edit(s, ("alpha_bar[t - jump] if", "alpha_bar[t - 1] if")),
                                   "one training step below"),
        "the last step read from the schedule's end": (_edit(s, ("alpha_bar[t - jump] if t - jump >= 0 else "
                                                                 "torch.tensor(1.0)", "alpha_bar[t - jump]")),
                                                       "a negative index counts from the back"),
        "the condition not masked": (_edit(s, ("masked = image * (1 - mask)", "masked = image")),
                                     "show the picture with the object inside the hole"),
        "the starting noise not from the generator": (_edit(s, ("torch.randn(image.shape, generator=generator)",
                                                                "torch.randn(image.shape)")), "drew nothing"),
    }


@pytest.mark.parametrize("name, table", [("training_step", _training_step_wrong), ("erase_loop", _erase_loop_wrong)])
def test_the_checks_reject_the_usual_mistakes_by_their_symptom_not_the_answer(name, table, capsys):
    wrongs = table()
    assert len(wrongs) >= 3
    for mistake, (source, symptom) in wrongs.items():
        assert check(name, answer_from_source(source)) is False, mistake
        out = capsys.readouterr().out
        assert out.startswith(f"not yet ({name}): ") and symptom in out, f"{mistake}: {out}"
        assert "differs from the reference" not in out, f"{mistake} should get its own hint: {out}"
        for answer_part in (".sqrt()", ".clamp(", "zero_grad", "clip_grad_norm_", "torch.", "(1 - mask)", "backward()"):
            assert answer_part not in out, f"the hint gives the answer away ({mistake}): {out}"


def test_the_checks_survive_crashes_and_answers_of_the_wrong_kind(capsys):
    def crashes(*args, **kwargs):
        raise IndexError("boom")

    for name in NAMES:
        assert check(name, crashes) is False
        assert "raised IndexError: boom" in capsys.readouterr().out
    assert check("training_step", lambda *args, **kwargs: None) is False
    assert "return the loss as one number" in capsys.readouterr().out
    solution = answer_from_source(EXERCISES["erase_loop"].solution)
    assert check("erase_loop", lambda *args: solution(*args).numpy()) is False
    assert "return a torch tensor" in capsys.readouterr().out


def test_the_hints_come_in_tiers(capsys):
    from eradiff_lite.exercises.tiers import TIERS

    for name in NAMES:
        idea, equation = hint(name, 1), hint(name, 2)
        assert idea == TIERS[name][0] and equation == TIERS[name][1] and "=" in equation
        assert hint(name, 3) == EXERCISES[name].solution
        assert EXERCISES[name].notebook == "05_training"
    capsys.readouterr()
