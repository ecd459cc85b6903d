"""The eraser widget, driven from Python: set the values, press the buttons, check what is shown and saved.

Runs on the ipywidgets of the environment: 8 in the main test environment, Colab's 7.7.1 in `make test-colab`."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from eradiff_lite.data import make_scene, save_image
from eradiff_lite.eraser import Eraser, EraserSession
from eradiff_lite.eraser_frame import CELL, LABEL, TITLE
from eradiff_lite.models.lite import build_lite_unet, build_scheduler
from eradiff_lite.pipeline import EraseDiffusionPipeline
from eradiff_lite.profiles import get_profile
from eradiff_lite.variants import CLASSICAL
from eradiff_lite.widgets.upload import uploaded_bytes

pytest.importorskip("ipywidgets")


@pytest.fixture(scope="module")
def pipelines():
    out = {}
    for i, (name, sra) in enumerate((("baseline", False), ("cro_sra", True))):
        torch.manual_seed(i)
        pipe = EraseDiffusionPipeline(unet=build_lite_unet(get_profile("smoke")), scheduler=build_scheduler())
        pipe.set_progress_bar_config(disable=True)
        out[name] = (pipe, sra)
    return out


def _shown(eraser) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(eraser.image.value))).convert("RGB"), np.float32) / 255


def test_erasing_a_scene_shows_each_variant_and_changes_only_the_hole(pipelines, tmp_path):
    eraser = Eraser(pipelines, side=32)
    eraser.seed.value, eraser.family.value = 4, "coin"
    assert "photo" in eraser.background.options  # the backgrounds follow the family
    eraser.background.value = "stripes"
    eraser.steps.value = 3
    eraser.go.click()
    assert eraser.status.value.startswith("held-out scene 4 (coin on stripes)"), eraser.status.value
    assert eraser.progress.value == eraser.progress.max == 3 and eraser.step.max == 2
    shown = _shown(eraser)
    side, n = 32, 4  # input + baseline + cro_sra + classical, in one row under their titles
    assert shown.shape == (TITLE + CELL * side, CELL * (n * side + 2 * (n - 1)), 3)
    assert shown[:TITLE].min() < 0.5  # the titles are drawn above the pictures
    scene = make_scene(4, 32, split="heldout", family="coin", background_kind="stripes")
    for k in range(1, n):  # each result keeps the pixels outside the hole (up to 8-bit rounding)
        cell = shown[TITLE:TITLE + CELL * side:CELL, CELL * k * (side + 2):CELL * (k * (side + 2) + side):CELL]
        keep = ~scene.triplet.mask
        np.testing.assert_allclose(cell[keep], scene.triplet.x_obj[keep], atol=1 / 255 + 1e-6)
    assert "noise seed 0" in eraser.status.value and "benchmark" not in eraser.status.value  # a forced family
    before = bytes(eraser.image.value)
    eraser.show_result.value = False  # the step slider now picks x_t / x0_hat: two rows, titled on the left
    eraser.step.value = 0
    assert bytes(eraser.image.value) != before
    assert _shown(eraser).shape == (TITLE + CELL * (2 * side + 2), LABEL + CELL * (n * side + 2 * (n - 1)), 3)
    eraser.out_path.value = str(tmp_path / "compare.png")
    eraser.save_button.click()
    assert (tmp_path / "compare.png").read_bytes() == bytes(eraser.image.value)  # saved = shown
    eraser.out_path.value = str(tmp_path / "compare.jpg")
    eraser.save_button.click()
    assert eraser.status.value.startswith("error: save as a .png") and not (tmp_path / "compare.jpg").exists()


def test_an_uploaded_picture_with_a_box_and_bad_inputs_give_one_line_messages(pipelines, tmp_path):
    eraser = Eraser(pipelines, side=32, default_variants=("baseline", CLASSICAL))
    eraser.source.value = "picture"
    eraser.go.click()
    assert eraser.status.value == "error: upload a picture first (or choose 'scene')"
    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((90, 120, 3)) * 255).astype(np.uint8)).save(buffer, "PNG")
    eraser.session.use_picture(buffer.getvalue(), (10, 10, 40, 30))  # what the upload callback does
    assert eraser.session.picture.shape == (32, 32, 3) and eraser.session.hole.any()
    for box, message in (((0, 0, 200, 30), "not inside"), ((5, 5, 5, 9), "not inside")):
        with pytest.raises(ValueError, match=message):
            eraser.session.use_picture(buffer.getvalue(), box)
    with pytest.raises(ValueError, match="covers the whole image"):
        eraser.session.use_picture(buffer.getvalue(), (0, 0, 120, 90))  # a box over all of it
    with pytest.raises(ValueError, match="cannot|not an image|identify"):
        eraser.session.use_picture(b"not an image at all", (0, 0, 4, 4))
    eraser.variants.value = ()
    eraser.source.value = "scene"
    eraser.go.click()
    assert eraser.status.value.startswith("error: choose variants")
    assert eraser.image.value in (b"", None) or not eraser.session.runs


def test_uploads_of_both_ipywidgets_generations_are_read():
    v7 = {"a.png": {"metadata": {"name": "a.png"}, "content": b"abc"}}
    v8 = ({"name": "a.png", "content": memoryview(b"abc")},)
    assert uploaded_bytes(v7) == uploaded_bytes(v8) == b"abc" and uploaded_bytes(()) is None


def test_the_session_erases_with_the_same_noise_for_every_variant(pipelines, tmp_path):
    session = EraserSession(pipelines, side=32)
    session.use_scene(7)
    session.erase(["baseline", "baseline"], steps=2, seed=3)  # the same variant twice: the same picture
    save_image(session.frame(), tmp_path / "frame.png")
    first, second = session.runs["baseline"], session.runs["baseline"]
    assert first is second
    session.erase(["baseline"], steps=2, seed=3)
    again = session.runs["baseline"].images[0]
    session.erase(["baseline"], steps=2, seed=3)
    np.testing.assert_array_equal(again, session.runs["baseline"].images[0])
    assert session.settings == {"source": session.source, "variants": ["baseline"], "steps": 2, "seed": 3,
                                "noise": "the benchmark's for this scene"}


@pytest.mark.parametrize("index", [5, 130])  # 130: past the benchmark's first batch of 128 scenes
def test_a_benchmark_scene_starts_from_its_benchmark_noise(pipelines, index):
    """Scene ``index`` chosen by its number alone is benchmark scene ``index``: the lite models start from the noise
    it gets when the benchmark is erased with the same seed, so the eraser shows what notebook 06's figures show."""
    from eradiff_lite.experiments.evaluate import erase_benchmark
    from eradiff_lite.metrics.benchmark import load_benchmark

    session = EraserSession(pipelines, side=32)
    session.use_scene(index)
    session.erase(["baseline", "cro_sra"], steps=2, seed=3)
    assert session.settings["noise"] == "the benchmark's for this scene"
    bench = load_benchmark(scenes=index + 1, size=32)
    for name, (pipe, sra) in pipelines.items():
        theirs = erase_benchmark(pipe, bench, 2, 3, sra=sra, indices=[index])
        np.testing.assert_array_equal(session.runs[name].images[0], theirs.images[0])
    session.use_scene(index, family=bench.scenes[index].family)  # a forced choice: not the benchmark's picture
    assert session.benchmark_index is None
