"""The mask editor's Python side: the run-length code the browser sends, undo and clear, select by click on a
procedural scene, and the eraser's bad inputs (an empty mask, a mask over everything, an upload that is not a
picture or is too large): one line each, nothing erased, the previous result kept. The browser side is driven in
a real browser by tests/test_browser.py."""

import io

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from eradiff_lite.data import MaskError, make_scene
from eradiff_lite.data.io import rle_decode, rle_encode
from eradiff_lite.widgets import mask_editing, upload
from eradiff_lite.widgets.mask_editing import MaskHistory, object_at, work_size

pytest.importorskip("anywidget")
from eradiff_lite.eraser import Eraser  # noqa: E402
from eradiff_lite.models.lite import build_lite_unet, build_scheduler  # noqa: E402
from eradiff_lite.pipeline import EraseDiffusionPipeline  # noqa: E402
from eradiff_lite.profiles import get_profile  # noqa: E402
from eradiff_lite.variants import CLASSICAL  # noqa: E402
from eradiff_lite.widgets.mask_editor import MaskEditor  # noqa: E402


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pipelines():
    torch.manual_seed(0)
    pipe = EraseDiffusionPipeline(unet=build_lite_unet(get_profile("smoke")), scheduler=build_scheduler())
    pipe.set_progress_bar_config(disable=True)
    return {"tiny": (pipe, False)}


def test_run_lengths_round_trip_and_refuse_a_wrong_size():
    rng = np.random.default_rng(0)
    for mask in (rng.random((7, 9)) > 0.6, np.ones((3, 4), bool), np.zeros((3, 4), bool)):
        runs = rle_encode(mask)
        assert sum(runs) == mask.size and all(r >= 0 for r in runs)
        np.testing.assert_array_equal(rle_decode(runs, mask.shape), mask)
    assert rle_encode(np.array([[True, True, False]])) == [0, 2, 1]  # a first erased pixel: an empty keep run
    np.testing.assert_array_equal(rle_decode([1, 2, 1], (2, 2)), [[False, True], [True, False]])
    for bad in ([1, 2], [5, -1], [[1, 3]]):
        with pytest.raises(MaskError, match="does not fit the 2x2 picture"):
            rle_decode(bad, (2, 2))
    assert work_size(64, 48) == (64, 48) and work_size(2048, 1536) == (1024, 768)


def test_undo_and_clear_walk_the_history():
    history = MaskHistory((4, 4))
    first = np.zeros((4, 4), bool)
    first[1, 1] = True
    assert history.push(first) and not history.push(first.copy())  # an unchanged mask is not an edit
    second = first.copy()
    second[2, 2] = True
    history.push(second)
    assert history.clear() and not history.mask.any() and not history.clear()
    assert history.undo() and (history.mask == second).all()
    assert history.undo() and (history.mask == first).all()
    assert history.undo() and not history.mask.any() and not history.undo()  # back to the start, then nothing
    with pytest.raises(MaskError, match="for a 4x4 picture"):
        history.push(np.zeros((3, 4), bool))
    short = MaskHistory((2, 2), limit=3)
    for k in range(6):
        short.push(np.eye(2, dtype=bool) if k % 2 == 0 else ~np.eye(2, dtype=bool))
    assert len(short.undo_stack) == 3


def test_the_editor_answers_each_message_with_its_mask():
    scene = make_scene(3, 32, split="heldout")
    editor = MaskEditor(scene.triplet.x_obj, scene.triplet.mask, matting="classical")
    assert (editor.work_height, editor.work_width) == (32, 32) and editor.display_width == 32 * 12
    assert rle_decode(editor.mask_state["rle"], (32, 32)).sum() == scene.triplet.mask.sum()
    drawn = np.zeros((32, 32), bool)
    drawn[2:6, 3:9] = True
    changes = []
    editor.on_change(lambda e: changes.append(e.mask.sum()))
    editor.handle({"type": "edit", "rle": rle_encode(drawn), "seq": 4})
    assert editor.mask_state["ack"] == 4 and (editor.mask == drawn).all() and changes == [24]
    assert editor.message.startswith("2% of the picture")
    editor.handle({"type": "edit", "rle": [1, 2, 3], "seq": 5})  # a damaged message: refused, the mask answered
    assert editor.message.startswith("error: the drawn mask does not fit") and editor.mask_state["ack"] == 5
    assert (rle_decode(editor.mask_state["rle"], (32, 32)) == drawn).all()
    editor.handle({"type": "edit", "rle": [0, 32 * 32], "seq": 6})
    assert "covers the whole picture" in editor.message
    editor.handle({"type": "clear", "seq": 7})
    assert not editor.mask.any() and "the mask is empty" in editor.message
    editor.undo()
    editor.undo()
    assert (editor.mask == drawn).all() and changes == [24, 1024, 0, 1024, 24]
    editor.handle({"type": "timing", "ms": 12.5})
    editor.handle({"type": "ready"})
    assert editor.round_trip_ms == 12.5 and editor.rendered


def test_a_click_selects_the_object_under_it_on_a_procedural_scene():
    scene = make_scene(0, 32, split="heldout")  # a cookie and two more on a gradient
    editor = MaskEditor(scene.triplet.x_obj, matting="classical")
    ys, xs = np.nonzero(scene.triplet.mask)
    editor.handle({"type": "select", "x": int(xs.mean()), "y": int(ys.mean()), "seq": 1})
    found = editor.mask
    assert (found & scene.triplet.mask).sum() / (found | scene.triplet.mask).sum() > 0.8, editor.message
    assert not (found & scene.context_mask).any() and "classical matting" in editor.message
    labels, _ = ndimage.label(scene.context_mask)
    other = labels == labels[13, 17]  # a context cookie, away from the pasted one
    editor.handle({"type": "select", "x": 17, "y": 13, "seq": 2})  # adds to what is selected
    assert editor.mask[other].all() and editor.mask[scene.triplet.mask].sum() == found[scene.triplet.mask].sum()
    before = editor.mask
    editor.handle({"type": "select", "x": 1, "y": 30, "seq": 3})  # the bare background
    assert editor.message.startswith("no object found under the click") and (editor.mask == before).all()
    editor.handle({"type": "select", "x": 40, "y": 3, "seq": 4})
    assert editor.message.startswith("error: the click (40, 3) is outside")


def test_select_takes_rembg_when_it_loads_and_falls_back_once_when_it_cannot(monkeypatch):
    scene = make_scene(0, 32, split="heldout")
    ys, xs = np.nonzero(scene.triplet.mask)
    x, y = int(xs.mean()), int(ys.mean())
    monkeypatch.setattr(mask_editing, "_REMBG_UNAVAILABLE", [])
    monkeypatch.setattr(mask_editing, "matte_rembg", lambda picture: scene.triplet.mask.astype(np.float32))
    found, how = object_at(scene.triplet.x_obj, x, y)
    assert how.startswith("rembg") and found[scene.triplet.mask].all()
    calls = []

    def offline(picture):
        calls.append(1)
        raise OSError("no network")

    monkeypatch.setattr(mask_editing, "matte_rembg", offline)
    for _ in range(2):
        found, how = object_at(scene.triplet.x_obj, x, y)
        assert "rembg's network could not be loaded" in how and found[scene.triplet.mask].mean() > 0.8
    assert calls == [1]  # asked once per process


def test_a_large_picture_is_drawn_at_1024_and_its_mask_comes_back_at_its_size():
    picture = np.random.default_rng(0).random((1100, 1500, 3)).astype(np.float32)
    editor = MaskEditor(picture, matting="classical")
    assert (editor.work_height, editor.work_width) == (751, 1024) and "drawn at 1024x751" in editor.message
    drawn = np.zeros((751, 1024), bool)
    drawn[100:300, 200:500] = True
    editor.handle({"type": "edit", "rle": rle_encode(drawn), "seq": 1})
    assert editor.mask.shape == (1100, 1500) and abs(editor.mask.mean() - drawn.mean()) < 0.01


def test_a_drawn_mask_replaces_the_box_and_bad_inputs_keep_the_previous_result(pipelines, monkeypatch):
    eraser = Eraser(pipelines, side=32, default_variants=("tiny", CLASSICAL), matting="classical")
    eraser.steps.value = 2
    assert "box sliders" in eraser.input.mask_line.value and eraser.input.box_row.layout.display is None
    eraser.editor.handle({"type": "ready"})  # what the front-end sends once it shows the editor
    assert eraser.input.box_row.layout.display == "none" and eraser.input.mask_line.value.startswith("draw what")
    photo = (np.random.default_rng(1).random((48, 80, 3)) * 255).astype(np.uint8)
    value = ({"name": "photo.png", "content": memoryview(_png(photo))},)  # an upload as ipywidgets 8 gives it
    assert eraser.input.take_upload(upload.uploaded_bytes(value), upload.uploaded_name(value))
    assert eraser.source.value == "picture" and "the lite model works at 64 px" in eraser.status.value
    assert eraser.editor.picture.shape == (48, 80, 3)
    drawn = np.zeros((48, 80), bool)
    drawn[10:30, 20:50] = True
    eraser.editor.handle({"type": "edit", "rle": rle_encode(drawn), "seq": 1})
    eraser.go.click()
    assert "drawn mask; tiny, classical; 2 DDIM steps" in eraser.status.value, eraser.status.value
    shown, hole = bytes(eraser.image.value), eraser.session.hole.copy()
    bad = [({"type": "clear"}, "the drawn mask is empty"), ({"type": "edit", "rle": [0, 48 * 80]}, "whole picture")]
    for message, expected in bad:
        eraser.editor.handle(message)
        eraser.go.click()
        assert eraser.status.value.startswith("error: ") and expected in eraser.status.value
        assert bytes(eraser.image.value) == shown and (eraser.session.hole == hole).all()
        assert set(eraser.session.runs) == {"tiny", CLASSICAL}
    monkeypatch.setattr(upload, "MAX_UPLOAD_SIDE", 64)
    for data, expected in ((b"GIF89a not really", "is not a picture"), (_png(photo), "more than 64 on a side")):
        assert not eraser.input.take_upload(data, "x.png")
        assert eraser.status.value.startswith("error: x.png") and expected in eraser.status.value
        assert eraser.editor.picture.shape == (48, 80, 3) and bytes(eraser.image.value) == shown
    monkeypatch.setattr(upload, "MAX_UPLOAD_MB", 1e-5)
    assert not eraser.input.take_upload(_png(photo), "big.png") and "MB limit" in eraser.status.value
    monkeypatch.undo()
    assert eraser.input.take_upload(_png(photo), "again.png") and "lite model" not in eraser.status.value  # once


def test_without_a_front_end_a_scene_keeps_its_mask_and_a_picture_its_box(pipelines, monkeypatch):
    eraser = Eraser(pipelines, side=32, default_variants=(CLASSICAL,), matting="classical")
    eraser.seed.value = 5
    scene = make_scene(5, 32, split="heldout")
    assert (eraser.editor.mask == scene.triplet.mask).all()  # the scene's own mask, ready to change
    eraser.go.click()
    assert (eraser.session.hole == scene.triplet.mask).all() and "drawn mask" in eraser.status.value
    eraser.input.take_upload(_png(np.full((40, 40, 3), 90, np.uint8)), "flat.png")
    for slider, value in zip(eraser.box_sliders, (4, 4, 20, 20)):
        slider.value = value
    eraser.go.click()
    assert "box (4, 4, 20, 20)" in eraser.status.value
    import builtins

    real_import = builtins.__import__

    def no_anywidget(name, *args, **kwargs):
        if name == "anywidget" or name.endswith("mask_editor"):
            raise ImportError("No module named 'anywidget'", name="anywidget")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_anywidget)
    bare = Eraser(pipelines, side=32, default_variants=(CLASSICAL,))
    assert bare.editor is None and "needs anywidget (anywidget is missing" in bare.input.mask_line.value
