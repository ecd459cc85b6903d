"""The erase pipeline: save/load, kept pixels, strength, SRA, bad inputs, and the CLI end to end (smoke sizes)."""

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from eradiff_lite.cli.erase import main as erase_main
from eradiff_lite.cli.train import main as train_main
from eradiff_lite.data import ImageError, MaskError, make_scene, save_image
from eradiff_lite.models.lite import LiteUNet, build_lite_unet, build_scheduler
from eradiff_lite.pipeline import EraseDiffusionPipeline
from eradiff_lite.profiles import get_profile

SMOKE = get_profile("smoke")


@pytest.fixture(scope="module")
def pipe():
    torch.manual_seed(0)
    return EraseDiffusionPipeline(unet=build_lite_unet(SMOKE), scheduler=build_scheduler(SMOKE.num_train_timesteps))


@pytest.fixture(scope="module")
def scene():
    return make_scene(3, SMOKE.image_size)


def _erase(pipe, scene, **kwargs):
    kwargs.setdefault("num_inference_steps", 3)
    return pipe(scene.triplet.x_obj, scene.triplet.mask, generator=torch.Generator().manual_seed(0), **kwargs)


def test_save_load_round_trip_gives_the_same_erasure(pipe, scene, tmp_path, capsys):
    from diffusers.utils import logging as diffusers_logging

    pipe.save_pretrained(tmp_path / "p", card={"variant": "test", "steps": 0})
    capsys.readouterr()
    loaded = EraseDiffusionPipeline.from_pretrained(tmp_path / "p")
    assert "Loading pipeline components" not in capsys.readouterr().err  # no bar for two small components
    assert diffusers_logging.is_progress_bar_enabled()  # ... and the user's setting is back
    assert loaded.card["variant"] == "test" and "test" in (tmp_path / "p" / "README.md").read_text()
    from huggingface_hub import ModelCard

    hub_card = ModelCard.load(tmp_path / "p" / "README.md")  # a Hugging Face model card, metadata and all
    assert hub_card.data.library_name == "diffusers" and "variant-test" in hub_card.data.tags
    assert isinstance(LiteUNet.from_pretrained(tmp_path / "p" / "unet"), LiteUNet)
    # same weights bit for bit; the outputs agree to float32 rounding (kernels may differ after loading)
    assert all(torch.equal(a, b) for a, b in zip(pipe.unet.state_dict().values(), loaded.unet.state_dict().values()))
    np.testing.assert_allclose(_erase(pipe, scene).images[0], _erase(loaded, scene).images[0], atol=1e-4)


def test_a_failed_save_leaves_no_half_pipeline_and_a_save_keeps_other_files(pipe, tmp_path, monkeypatch):
    import eradiff_lite.pipeline.pipeline as module

    target = tmp_path / "run"
    (target / "checkpoints").mkdir(parents=True)
    (target / "loss_log.csv").write_text("step,loss\n")

    def disk_full(folder, card):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "write_card", disk_full)
    with pytest.raises(OSError, match="No space"):
        pipe.save_pretrained(target, card={"variant": "test"})
    assert sorted(p.name for p in target.iterdir()) == ["checkpoints", "loss_log.csv"]  # nothing half-written
    monkeypatch.undo()
    pipe.save_pretrained(target, card={"variant": "first"})
    pipe.save_pretrained(target, card={"variant": "second"})  # a second export replaces the first whole
    assert {"checkpoints", "loss_log.csv", "model_index.json", "unet", "scheduler", "card.json"} <= \
        {p.name for p in target.iterdir()}
    assert not [p for p in target.iterdir() if p.name.startswith(".save-")]
    assert EraseDiffusionPipeline.from_pretrained(target).card["variant"] == "second"


def test_unmasked_pixels_are_kept_exactly_and_the_hole_changes(pipe, scene):
    out = _erase(pipe, scene).images[0]
    keep = ~scene.triplet.mask
    np.testing.assert_array_equal(out[keep], scene.triplet.x_obj[keep])
    assert np.abs(out[~keep] - scene.triplet.x_obj[~keep]).max() > 0.01
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1


def test_strength_below_one_starts_from_the_noised_input(pipe, scene):
    out = _erase(pipe, scene, num_inference_steps=10, strength=0.6, return_trajectory=True)
    assert len(out.timesteps) == 6 and len(out.trajectory) == 7
    x = torch.from_numpy(scene.triplet.x_obj.transpose(2, 0, 1))[None] * 2 - 1
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    expected = pipe.scheduler.add_noise(x, noise, torch.tensor(out.timesteps[:1]))
    torch.testing.assert_close(out.trajectory[0], expected)
    full = _erase(pipe, scene, num_inference_steps=10, return_trajectory=True)
    assert len(full.timesteps) == 10 and full.timesteps[0] > out.timesteps[0]


def test_predicted_x0_is_kept_per_step_and_the_last_one_is_the_result(pipe, scene):
    out = _erase(pipe, scene, num_inference_steps=5, return_trajectory=True)
    assert len(out.predicted_x0) == len(out.timesteps) == 5
    # the last DDIM step lands on alpha_bar = 1, where x_{prev} is exactly the x0 estimate
    torch.testing.assert_close(out.predicted_x0[-1], out.trajectory[-1], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(out.predicted_x0[0], out.predicted_x0[-1])


def test_sra_on_and_off_both_run_and_differ(pipe, scene):
    plain, rectified = _erase(pipe, scene).images[0], _erase(pipe, scene, sra=True).images[0]
    keys = _erase(pipe, scene, sra=True, sra_rule="keys").images[0]
    assert np.isfinite(rectified).all() and np.isfinite(keys).all()
    assert not np.array_equal(plain, rectified)


def test_batches_of_images_erase_each(pipe):
    scenes = [make_scene(s, SMOKE.image_size) for s in (1, 2)]
    out = pipe([s.triplet.x_obj for s in scenes], [s.triplet.mask for s in scenes], num_inference_steps=2)
    assert len(out.images) == 2


def test_grayscale_and_rgba_images_are_converted(pipe, scene):
    grey = Image.fromarray((scene.triplet.x_obj.mean(2) * 255).astype(np.uint8))  # 2-D uint8: mode L
    rgba = Image.fromarray((scene.triplet.x_obj * 255).astype(np.uint8)).convert("RGBA")
    for image in (grey, rgba):
        assert pipe(image, scene.triplet.mask, num_inference_steps=2).images[0].shape == (32, 32, 3)


def test_bad_inputs_are_clear_errors(pipe, scene, tmp_path):
    img, mask = scene.triplet.x_obj, scene.triplet.mask
    with pytest.raises(MaskError, match="resize the mask"):
        pipe(img, np.ones((16, 16), bool), num_inference_steps=2)
    with pytest.raises(MaskError, match="empty"):
        pipe(img, np.zeros_like(mask), num_inference_steps=2)
    with pytest.raises(MaskError, match="whole image"):
        pipe(img, np.ones_like(mask), num_inference_steps=2)
    odd = make_scene(0, 31)
    with pytest.raises(ImageError, match="divisible by 4"):
        pipe(odd.triplet.x_obj, odd.triplet.mask, num_inference_steps=2)
    big = make_scene(0, 64)
    with pytest.raises(ImageError, match="trained at 32x32"):
        pipe(big.triplet.x_obj, big.triplet.mask, num_inference_steps=2)
    with pytest.raises(ValueError, match="strength"):
        pipe(img, mask, strength=0.0)
    with pytest.raises(ValueError, match="one mask per image"):
        pipe([img, img], [mask])
    with pytest.raises(FileNotFoundError, match="no saved pipeline"):
        EraseDiffusionPipeline.from_pretrained(tmp_path / "missing")


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        erase_main(["--help"])
    assert exit_info.value.code == 0 and "--strength" in capsys.readouterr().out


def test_cli_train_then_erase_end_to_end(tmp_path, scene):
    model = tmp_path / "model"
    assert train_main(["--variant", "baseline", "--profile", "smoke", "--out", str(model), "--steps", "2",
                       "--no-progress"]) == 0
    assert train_main(["--variant", "cro_sra", "--profile", "smoke", "--out", str(tmp_path / "eradiff"),
                       "--init", str(model), "--steps", "1", "--no-progress"]) == 0
    save_image(scene.triplet.x_obj, tmp_path / "scene.png")
    save_image(scene.triplet.mask, tmp_path / "mask.png")
    out = tmp_path / "erased.png"
    assert erase_main(["--model", str(tmp_path / "eradiff"), "--image", str(tmp_path / "scene.png"), "--mask",
                       str(tmp_path / "mask.png"), "--out", str(out), "--steps", "2", "--sra"]) == 0
    erased = np.asarray(Image.open(out))
    original = np.asarray(Image.open(tmp_path / "scene.png"))
    assert erased.shape == (32, 32, 3)
    np.testing.assert_array_equal(erased[~scene.triplet.mask], original[~scene.triplet.mask])


def test_shipped_reference_checkpoints_load_are_small_and_state_their_training():
    from eradiff_lite.pipeline.shipped import checkpoints_dir, load_variant, shipped_variants
    from eradiff_lite.variants import ABLATION_ORDER

    assert set(ABLATION_ORDER) <= set(shipped_variants())
    scene = make_scene(0, 64, split="heldout")
    for name in ("baseline", "cro_sra"):
        pipe, sra = load_variant(name)
        out = pipe(scene.triplet.x_obj, scene.triplet.mask, num_inference_steps=2, sra=sra)
        assert np.isfinite(out.images[0]).all() and out.images[0].shape == (64, 64, 3)
    assert load_variant("sra")[1] and load_variant("cro_sra")[1] and not load_variant("baseline")[1]
    for name in (n for n in ABLATION_ORDER if n != "sra"):
        folder = checkpoints_dir() / name
        weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
        assert weights.stat().st_size < 4 * 2**20
        assert isinstance(LiteUNet.from_pretrained(folder / "unet"), LiteUNet)
        assert {t.dtype for t in load_file(weights).values()} == {torch.float16}
        card = EraseDiffusionPipeline.from_pretrained(folder).card
        assert card["variant"] == name and card["image_size"] == 64 and card["profile"] == "cpu"
        assert card["status"] == "finished" and card["prediction_type"] == "sample"
        assert card["steps"] == card["steps_planned"] == (6000 if name == "baseline" else 1000)
        assert {"device", "seconds", "seed"} <= set(card)
        logged = (folder / "loss_log.csv").read_text().count("\n") - 1
        assert logged == card["steps"]


def test_variant_names_resolve_through_the_one_registry(pipe, tmp_path):
    from eradiff_lite.pipeline import shipped

    for name in ("baseline", "cro_sra"):
        pipe.save_pretrained(tmp_path / name, card={"variant": name})
    assert shipped.resolve_variant("sra", tmp_path) == (tmp_path / "baseline", True)
    assert shipped.resolve_variant("cro_sra", tmp_path) == (tmp_path / "cro_sra", True)
    assert shipped.resolve_variant("baseline", tmp_path) == (tmp_path / "baseline", False)
    with pytest.raises(FileNotFoundError, match="no shipped checkpoint 'cro'"):
        shipped.resolve_variant("cro", tmp_path)
    assert list(shipped.find_variants([tmp_path])) == ["baseline", "sra", "cro_sra"]  # table order


def test_the_progress_bar_is_diffusers_own_and_follows_its_config(pipe, scene, capsys):
    _erase(pipe, scene, progress=True)
    assert "3/3" in capsys.readouterr().err
    pipe.set_progress_bar_config(disable=True)
    try:
        _erase(pipe, scene, progress=True)
        assert "3/3" not in capsys.readouterr().err
    finally:
        pipe.set_progress_bar_config(disable=False)


def test_erasing_a_batch_equals_erasing_each_image_with_its_noise(pipe):
    scenes = [make_scene(s, SMOKE.image_size, split="heldout") for s in (1, 2, 3)]
    noise = torch.randn(3, 3, SMOKE.image_size, SMOKE.image_size, generator=torch.Generator().manual_seed(9))
    batch = pipe([s.triplet.x_obj for s in scenes], [s.triplet.mask for s in scenes], num_inference_steps=3,
                 latents=noise, sra=True).images
    for i, s in enumerate(scenes):
        alone = pipe(s.triplet.x_obj, s.triplet.mask, num_inference_steps=3, latents=noise[i:i + 1], sra=True)
        np.testing.assert_allclose(batch[i], alone.images[0], atol=2e-5)


def test_from_pretrained_takes_a_hub_id_from_the_cache_and_refuses_a_missing_one_in_one_line(pipe, tmp_path):
    """A Hub id goes through diffusers' own download (here: offline, from a cache laid out as huggingface_hub
    lays it out); a missing one, or a missing folder, is a FileNotFoundError that says what was tried."""
    import os
    import subprocess
    import sys

    snapshot = tmp_path / "hf" / "hub" / "models--someone--lite-eraser" / "snapshots" / "0123abcd"
    pipe.save_pretrained(snapshot, card={"variant": "from-the-hub"})
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abcd")
    code = ("from eradiff_lite.pipeline import EraseDiffusionPipeline as P\n"
            "print(P.from_pretrained('someone/lite-eraser').card['variant'])\n"
            "try:\n    P.from_pretrained('someone/not-there')\n"
            "except FileNotFoundError as e:\n    print('refused:', e)\n")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "from-the-hub"
    assert lines[1].startswith("refused: no saved pipeline at someone/not-there: no such folder, and the Hugging Face")
    with pytest.raises(FileNotFoundError, match="model_index.json missing"):
        EraseDiffusionPipeline.from_pretrained(tmp_path / "nothing" / "here" / "deep")
