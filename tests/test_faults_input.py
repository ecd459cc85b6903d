"""Bad input, as principles: a batch of pictures goes on past a bad one; colour profiles are honoured; the Python
API refuses an empty or malformed batch with a ValueError saying what it needs; no pointer to a missing note; no
deprecated Pillow call; the evaluate command and the experiment scripts check their numbers and end a Ctrl-C in one
line. (Commands and faults: `test_faults.py`.)"""

import io
import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from eradiff_lite.cli.erase import main as erase_main
from eradiff_lite.data import load_image, load_mask, make_scene, save_image
from eradiff_lite.pipeline.fullsize import box_mask, erase_full_size
from eradiff_lite.profiles import get_profile

ROOT = Path(__file__).resolve().parents[1]
SMOKE = get_profile("smoke")


@pytest.fixture(scope="module")
def pipe(smoke_pipe):
    return smoke_pipe


@pytest.fixture(scope="module")
def model_dir(pipe, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    pipe.save_pretrained(folder, card={"variant": "test"})
    return folder


def _picture(h, w, seed=0):
    return np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)


# 5. a batch goes on past a bad item, names it, and ends non-zero

def test_a_folder_is_erased_past_its_bad_pictures_which_are_named(model_dir, tmp_path, capsys):
    pictures, masks, out = tmp_path / "pictures", tmp_path / "masks", tmp_path / "erased"
    pictures.mkdir()
    masks.mkdir()
    for name in ("a", "broken", "empty_mask", "no_mask", "z"):
        save_image(_picture(40, 50), pictures / f"{name}.png")
        if name != "no_mask":
            save_image(box_mask((40, 50), (5, 5, 20, 20)) if name != "empty_mask" else np.zeros((40, 50), bool),
                       masks / f"{name}.png")
    (pictures / "broken.png").write_bytes(b"not a picture")
    assert erase_main(["--model", str(model_dir), "--image", str(pictures), "--mask", str(masks),
                       "--out", str(out), "--steps", "1"]) == 1
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "z.png"], "the good ones, after the bad ones"
    for name in ("broken", "empty_mask", "no_mask"):
        assert re.search(rf"(?:^|\r)error: {name}\.png: ", captured.err, re.M), captured.err  # beside the bar
    assert "error: 3 of 5 pictures not erased: broken.png, empty_mask.png, no_mask.png" in captured.err
    assert "2 erased pictures written" in captured.out
    with pytest.raises(ValueError, match="empty"):  # one picture: its error is the command's error
        erase_main(["--model", str(model_dir), "--image", str(pictures / "empty_mask.png"),
                    "--mask", str(masks / "empty_mask.png"), "--out", str(tmp_path / "one.png")])


def test_a_photo_far_larger_than_the_model_gets_a_one_line_note(model_dir, tmp_path, capsys):
    save_image(_picture(300, 400), tmp_path / "photo.png")
    assert erase_main(["--model", str(model_dir), "--image", str(tmp_path / "photo.png"), "--box", "100", "100",
                       "220", "200", "--out", str(tmp_path / "out.png"), "--steps", "1"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "blurry" in notes[0] and "notebook 07" in notes[0]
    assert erase_main(["--model", str(model_dir), "--image", str(tmp_path / "photo.png"), "--box", "100", "100",
                       "104", "104", "--out", str(tmp_path / "small_hole.png"), "--steps", "1"]) == 0
    assert "note:" not in capsys.readouterr().out


# 6. colour profiles: converted to sRGB on load

def _wide_gamut_profile() -> bytes:
    """An RGB profile with Display P3's primaries (sRGB's curves and white), built from LittleCMS's sRGB."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    colorants = {b"rXYZ": (0.5151, 0.2412, -0.0011), b"gXYZ": (0.2920, 0.6922, 0.0419),
                 b"bXYZ": (0.1571, 0.0666, 0.7841)}
    for i in range(struct.unpack(">I", data[128:132])[0]):
        sig, offset, _ = struct.unpack(">4sII", data[132 + 12 * i:144 + 12 * i])
        if sig in colorants:
            data[offset + 8:offset + 20] = b"".join(struct.pack(">i", round(v * 65536)) for v in colorants[sig])
        if sig == b"desc":
            at = data.index("sRGB".encode("utf-16-be"), offset)
            data[at:at + 8] = "Wide".encode("utf-16-be")
    return bytes(data)


def _png(pixels: np.ndarray, icc: bytes | None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", **({"icc_profile": icc} if icc else {}))
    return buf.getvalue()


def test_a_wide_gamut_picture_is_converted_to_srgb_and_an_srgb_one_is_kept_bit_for_bit():
    pixels = np.array([[[200, 100, 50], [128, 128, 128], [20, 180, 90]]], np.uint8)
    wide = _wide_gamut_profile()
    converted = np.round(load_image(_png(pixels, wide)) * 255).astype(int)
    expected = ImageCms.profileToProfile(Image.fromarray(pixels), ImageCms.ImageCmsProfile(io.BytesIO(wide)),
                                         ImageCms.createProfile("sRGB"),
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    np.testing.assert_array_equal(converted, np.asarray(expected))
    assert np.abs(converted[0, 0] - pixels[0, 0]).max() > 5, "a saturated colour moves into sRGB"
    np.testing.assert_array_equal(converted[0, 1], [128, 128, 128])  # grey stays grey (same white and curves)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    np.testing.assert_array_equal(np.round(load_image(_png(pixels, srgb)) * 255), pixels)
    rgba = np.dstack([pixels, np.full(pixels.shape[:2], 128, np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG", icc_profile=wide)
    over_white = load_image(buf.getvalue())  # the alpha is kept through the conversion
    assert np.all(over_white[0, 1] > 0.7)


def test_masks_are_levels_not_colours_and_a_damaged_profile_is_read_as_srgb():
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 2:5] = 1  # a 0/1 mask: a conversion would move its levels
    read = load_mask(_png(np.dstack([mask] * 3), _wide_gamut_profile()))
    np.testing.assert_array_equal(read, mask.astype(bool))
    pixels = np.full((2, 2, 3), 90, np.uint8)
    with pytest.warns(UserWarning, match="colour profile could not be applied"):
        np.testing.assert_array_equal(np.round(load_image(_png(pixels, b"broken profile")) * 255), pixels)


def test_the_erased_picture_keeps_the_converted_pixels_of_a_profiled_photo(model_dir, tmp_path):
    pixels = (_picture(48, 48) * 255).astype(np.uint8)
    (tmp_path / "p3.png").write_bytes(_png(pixels, _wide_gamut_profile()))
    assert erase_main(["--model", str(model_dir), "--image", str(tmp_path / "p3.png"), "--box", "10", "10", "20",
                       "20", "--out", str(tmp_path / "out.png"), "--steps", "1"]) == 0
    out = Image.open(tmp_path / "out.png")
    assert "icc_profile" not in out.info  # plain sRGB
    keep = ~box_mask((48, 48), (10, 10, 20, 20))
    srgb = np.round(load_image(tmp_path / "p3.png") * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(out.convert("RGB"))[keep], srgb[keep])


# 7. the Python API refuses an empty or malformed batch with a ValueError saying what it needs

def test_empty_and_malformed_batches_are_value_errors_that_say_what_is_needed(pipe):
    scene = make_scene(0, SMOKE.image_size)
    image, mask = scene.triplet.x_obj, scene.triplet.mask
    cases = [(([], []), "the batch is empty: the pipeline needs at least one image"),
             ((None, mask), "the image is None: each image must be a path"),
             (([image, None], [mask, mask]), "image 1 of the batch is None"),
             (([image, image], [mask]), "got 2 image\\(s\\) but 1 mask"),
             ((image, None), "the mask is None: each mask must be"),
             ((torch.zeros(3, 32, 32), mask), "the image is a Tensor"),
             (([[image]], [mask]), "the image is a list")]
    for (images, masks), message in cases:
        with pytest.raises(ValueError, match=message):
            pipe(images, masks, num_inference_steps=1)
    with pytest.raises(ValueError, match="the mask is None"):
        erase_full_size(pipe, image, None, num_inference_steps=1)
    assert pipe([image], [torch.from_numpy(mask)], num_inference_steps=1).images[0].shape == image.shape


# 8. a newcomer's frictions: pointers that resolve, no deprecated Pillow call

NOT_MINE: set[str] = set()


def test_no_file_points_at_a_note_the_repository_does_not_have():
    missing = []
    files = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), *(ROOT / "eradiff_lite").rglob("*.py"),
             *(ROOT / "tests").glob("*.py")]
    for path in files:
        name = str(path.relative_to(ROOT))
        if name in NOT_MINE or path.name == "test_faults_input.py":
            continue
        for note in re.findall(r"\b(?:DESIGN|PAPER|TRAINING)\.md\b|\.\./shared\b", path.read_text()):
            if not (ROOT / note).exists() and not (ROOT / "docs" / note).exists():
                missing.append(f"{name}: {note}")
    assert missing == []


def test_every_relative_link_in_the_notes_and_notebooks_resolves_inside_the_repository():
    """A clone's Markdown links ([text](path)) in its notes, the data folders' READMEs, the assignments and the
    notebooks' text cells point at files the clone has."""
    import json

    missing = []
    notes = [p for p in ROOT.rglob("*.md") if not any(part.startswith(".") or part in ("runs", "node_modules")
                                                      for part in p.relative_to(ROOT).parts)]
    for path in notes + sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = path.read_text()
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):  # https:, mailto:, data:
                continue
            if not (path.parent / target).exists():
                missing.append(f"{path.relative_to(ROOT)}: {target}")
    assert len(notes) > 10 and missing == []


def test_the_package_makes_no_deprecated_pillow_call():
    from eradiff_lite.data.compose import transform_cutout

    cutout = np.random.default_rng(0).random((12, 10, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert transform_cutout(cutout, scale=1.5, angle=20, flip=True).shape[2] == 4
    calls = [str(p.relative_to(ROOT)) for folder in ("eradiff_lite", "tests", "tools") for p in
             (ROOT / folder).rglob("*.py") if p.name != "test_faults_input.py"
             and re.search(r"fromarray\([^\n]*mode=", p.read_text())]
    assert calls == [], f"Image.fromarray(..., mode=) is deprecated in Pillow: {calls}"


# 8. numbers in their range and Ctrl-C in one line: the evaluate command and the experiment scripts too

def _script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"experiment_script_{name}", ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_evaluate_command_checks_its_numbers_in_one_line(capsys):
    from eradiff_lite.cli import main

    for flag, value in (("--seeds", "0"), ("--scenes", "1"), ("--steps", "-3")):
        with pytest.raises(SystemExit) as done:
            main(["evaluate", "--out", "o", flag, value])
        err = capsys.readouterr().err.strip()
        assert done.value.code == 2 and err.startswith(f"error: argument {flag}: must be an integer >=") and \
            "\n" not in err, err


def test_experiment_scripts_check_their_numbers_and_end_a_ctrl_c_in_one_line_with_how_to_go_on(tmp_path, capsys,
                                                                                                monkeypatch):
    for path in sorted((ROOT / "experiments").glob("*.py")):
        text = path.read_text()
        assert not re.search(r"add_argument\([^)]*type=(int|float)\b", text), f"{path.name}: use cliargs"
        assert "argparse.ArgumentParser(" not in text and "except KeyboardInterrupt" in text, path.name
    budget = _script("cro_budget")
    with pytest.raises(SystemExit) as done:
        budget.main(["score", "--root", "r", "--seeds", "0"])
    assert done.value.code == 2 and "must be an integer >= 1" in capsys.readouterr().err

    def ctrl_c(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(budget, "score", ctrl_c)
    monkeypatch.setattr(budget, "run", ctrl_c)
    assert budget.main(["score", "--root", str(tmp_path)]) == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith(f"cro_budget.py score --root {tmp_path}"), err
    run = ["run", "--variant", "cro", "--lr", "3e-4", "--root", str(tmp_path)]
    assert budget.main(run) == 130 and not capsys.readouterr().err.strip().endswith("--resume")  # nothing saved
    checkpoint = budget.run_folder(tmp_path, "cro", 3e-4) / "checkpoints" / "step_000050"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.json").write_text("{}")
    assert budget.main(run) == 130 and capsys.readouterr().err.strip().endswith(" ".join(run) + " --resume")
    fill = _script("fill_study")
    arm = sorted(fill.ARMS)[0]
    for argv in (["run", "--arm", arm, "--root", "r", "--steps", "0"], ["curve", "--root", "r", "--arms", arm,
                 "--steps", "100", "-5", "--out", "o"], ["run", "--arm", arm, "--root", "r", "--time-budget", "-1"]):
        with pytest.raises(SystemExit) as done:
            fill.main(argv)
        err = capsys.readouterr().err.strip()
        assert done.value.code == 2 and err.startswith("error: argument --") and "\n" not in err, err
    monkeypatch.setattr(fill, "run", ctrl_c)
    run = ["run", "--arm", arm, "--root", str(tmp_path)]
    assert fill.main(run) == 130 and not capsys.readouterr().err.strip().endswith("--resume")  # nothing saved
    checkpoint = fill.arm_folder(tmp_path, arm) / "checkpoints" / "step_000050"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.json").write_text("{}")
    assert fill.main(run) == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith("fill_study.py " + " ".join(run) + " --resume"), err
    probe = _script("grain_probe")
    monkeypatch.setattr(probe, "run", ctrl_c)
    assert probe.main(["--scenes", "4"]) == 130 and "run it again" in capsys.readouterr().err


def test_a_study_run_ends_a_ctrl_c_with_the_command_that_resumes_it(tmp_path, capsys, monkeypatch):
    from eradiff_lite.cli import main
    from eradiff_lite.experiments import recipe_study

    def ctrl_c(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(recipe_study, "run_arm", ctrl_c)
    arm = sorted(recipe_study.ARMS)[0]
    argv = ["study", "run", "--arm", arm, "--root", str(tmp_path), "--images", "64"]
    assert main(argv) == 130 and "no checkpoint yet; run it again" in capsys.readouterr().err
    checkpoint = tmp_path / arm / "checkpoints" / "step_000002"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.json").write_text("{}")
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith(f"study run --arm {arm} --root {tmp_path} --images 64 --resume"), err
