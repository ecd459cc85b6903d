"""One erase-mask type (`EraseMask`), checked once where a mask enters (a file, an array, a box, the editor's
run-length code) and passed down as it is: every entry gives the same type, a bad mask is refused at its entry in
one line, and the consumers check nothing again (counted in the source and along the erase command's path)."""

import ast
import dataclasses
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
from eradiff_lite.cli.erase import main as erase_main
from eradiff_lite.data import EraseMask, MaskError, as_erase_mask, mask_batch, save_image, unet_mask
from eradiff_lite.data.io import rle_encode
from eradiff_lite.sra import SRAState

sys.path.insert(0, str(ROOT / "tools"))
import layers  # noqa: E402

SHAPE, BOX = (12, 16), (4, 2, 10, 8)  # (h, w); (x0, y0, x1, y1): even, so a half-size drawing is exact


def _box_array():
    arr = np.zeros(SHAPE, bool)
    arr[2:8, 4:10] = True
    return arr


def _png(tmp_path, arr, name="mask.png"):
    Image.fromarray(np.asarray(arr, np.uint8) * 255).save(tmp_path / name)
    return tmp_path / name


def test_every_entry_gives_the_same_immutable_type(tmp_path):
    arr = _box_array()
    masks = {
        "file": EraseMask.from_file(_png(tmp_path, arr), image_shape=SHAPE),
        "array": EraseMask.from_array(arr, image_shape=SHAPE),
        "tensor": EraseMask.from_array(torch.from_numpy(arr)[None].float()),  # 1 x H x W numbers: read as levels
        "box": EraseMask.from_box(SHAPE, BOX),
        "drawn": EraseMask.from_runs(rle_encode(arr), SHAPE),
        "drawn small": EraseMask.from_runs(rle_encode(arr[::2, ::2]), (6, 8), size=SHAPE),  # the editor's preview
    }
    for how, mask in masks.items():
        assert type(mask) is EraseMask, how
        assert mask == masks["box"] and mask.shape == SHAPE and mask.array.dtype == bool, how
        np.testing.assert_array_equal(np.asarray(mask), arr)
        assert not mask.array.flags.writeable, how
        with pytest.raises(ValueError):
            mask.array[0, 0] = True
        with pytest.raises(dataclasses.FrozenInstanceError):
            mask.name = "another"
    assert [masks[k].entry for k in ("file", "array", "box", "drawn")] == ["file", "array", "box", "drawn"]
    assert masks["file"].name.endswith("mask.png") and masks["box"].name == "box (4, 2, 10, 8)"
    assert masks["box"].runs() == rle_encode(arr)
    # passed down as it is: the public entries hand an EraseMask back unchanged (its size checked against the picture)
    assert as_erase_mask(masks["file"], SHAPE) is masks["file"]
    assert masks["file"].resized(SHAPE) is masks["file"]


def _one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text and ": " in text, text  # one line: what is wrong, then what to do
    return text


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: EraseMask.from_file(_png(p, np.zeros(SHAPE)), name="empty.png"), r"empty\.png is empty.*inverted"),
    (lambda p: EraseMask.from_file(_png(p, np.ones(SHAPE)), name="full.png"), "full.png covers the whole image"),
    (lambda p: EraseMask.from_file(_png(p, _box_array()), image_shape=(12, 20)), "16x12 pixels but its image is 20x12"),
    (lambda p: EraseMask.from_array(np.zeros(SHAPE, bool)), "mask is empty"),
    (lambda p: EraseMask.from_array(np.ones(SHAPE)), "covers the whole image"),
    (lambda p: EraseMask.from_array(np.zeros((*SHAPE, 3), bool)), "one channel"),
    (lambda p: EraseMask.from_array(_box_array(), image_shape=(6, 8)), "resize the mask to the image"),
    (lambda p: EraseMask(_box_array().astype(np.uint8)), "must be bool"),
    (lambda p: EraseMask.from_box(SHAPE, (0, 0, 17, 5)), "not inside the 16x12 picture"),
    (lambda p: EraseMask.from_box(SHAPE, (0, 0, 16, 12)), "box .* covers the whole image.*around the object"),
    (lambda p: EraseMask.from_runs([1, 2], SHAPE), "does not fit the 16x12 picture"),
    (lambda p: EraseMask.from_runs([16 * 12], SHAPE), "the drawn mask is empty: brush"),
    (lambda p: EraseMask.from_runs([0, 16 * 12], SHAPE), "the drawn mask covers the whole picture.*undo"),
    (lambda p: EraseMask.from_runs(rle_encode(_box_array()), SHAPE).fit((6, 8)), "the editor shows another picture"),
    (lambda p: as_erase_mask(None), "the mask is None: each mask must be"),
    (lambda p: mask_batch(torch.ones(2, 1, 4, 4)), r"batch item\(s\) \[0, 1\] covers the whole image"),
])
def test_a_bad_mask_is_refused_at_its_entry_in_one_line(tmp_path, make, expected):
    with pytest.raises(MaskError, match=expected) as err:
        make(tmp_path)
    _one_line(err)


def test_the_tensors_are_derived_from_the_type_in_one_function():
    masks = [EraseMask.from_box(SHAPE, BOX), EraseMask.from_box(SHAPE, (0, 0, 4, 4))]
    tensor = unet_mask(masks)
    assert tensor.shape == (2, 1, *SHAPE) and tensor.dtype == torch.float32 and set(tensor.unique().tolist()) == {0, 1}
    torch.testing.assert_close(SRAState(masks).mask, tensor)  # SRA takes the EraseMasks as they are
    torch.testing.assert_close(SRAState(tensor).mask, tensor)  # or the tensor, its own public entry
    with pytest.raises(MaskError, match="share one size"):
        unet_mask([masks[0], EraseMask.from_box((8, 8), (1, 1, 3, 3))])


def test_the_pipeline_takes_an_array_or_the_type_alike(smoke_pipe):
    from eradiff_lite.data import make_scene

    scene = make_scene(1, 32, split="heldout")
    image, mask = scene.triplet.x_obj, scene.triplet.mask
    outs = [smoke_pipe(image, m, num_inference_steps=1, sra=True, generator=torch.Generator().manual_seed(0)).images[0]
            for m in (mask, EraseMask.from_array(mask), torch.from_numpy(mask))]
    assert all(np.array_equal(outs[0], out) for out in outs[1:])


# ------------------------------------------------------------------------------ the checks, counted in the source
#: The only module that checks a mask's content (shape, dtype, size, empty, everything).
CHECKER = "eradiff_lite.data.erase_mask"
#: Functions that check a mask, or read one unchecked: none may be called on the way down from an entry.
CHECKS = {"check_mask", "check_erase_mask", "validate_mask", "load_mask", "read_mask"}
#: Where a mask enters (a constructor of the type, or `as_erase_mask` at a public function that also takes arrays).
ENTRIES = {"eradiff_lite.cli.erase", "eradiff_lite.eraser", "eradiff_lite.widgets.mask_editor",
           "eradiff_lite.pipeline.inputs", "eradiff_lite.pipeline.fullsize", "eradiff_lite.sd.removal",
           "eradiff_lite.metrics.classical"}
#: Loaders of training data, which read mask files into plain arrays (data sets, not masks to erase).
DATA_LOADERS = {"eradiff_lite.data.dataset", "eradiff_lite.sd.pairs"}


def _calls() -> dict[str, set[str]]:
    """``{module: names it calls}`` (``f(...)``, ``x.f(...)``) over the package."""
    found = {}
    for module, (source, _) in layers.read_sources().items():
        names = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                f = node.func
                names.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
        found[module] = names
    return found


def test_masks_are_checked_in_one_module_and_enter_at_named_places():
    calls = _calls()
    checking = {m for m, names in calls.items() if names & CHECKS and m != CHECKER}
    assert checking <= DATA_LOADERS, f"a consumer checks a mask again: {sorted(checking - DATA_LOADERS)}"
    assert all(not names & {"load_mask", "read_mask"} or m in DATA_LOADERS | {CHECKER} for m, names in calls.items())
    entering = {m for m, names in calls.items() if names & {"as_erase_mask", "from_file", "from_array", "from_box",
                                                             "from_runs"} and m != CHECKER}
    assert entering == ENTRIES, f"masks enter at {sorted(entering)}"
    definitions = [m for m, (source, _) in layers.read_sources().items()
                   for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)
                   and node.name in {"check_erase_mask", "validate_mask", "check_mask"}]
    assert sorted(definitions) == [CHECKER, CHECKER], definitions  # validate_mask and the old name check_mask


def test_the_erase_command_checks_its_mask_once(smoke_pipe, tmp_path, monkeypatch):
    """Before: four checks from the command to the attention processor (load_mask, model_view's check_mask, the
    pipeline's load_mask, SRA's check_erase_mask). Now: one where the mask enters; a picture larger than the model
    adds the check of the new mask the model sees (the window around the hole, at the model's size)."""
    import eradiff_lite.data.erase_mask as erase_mask

    model = tmp_path / "model"
    smoke_pipe.save_pretrained(model, card={"variant": "test"})
    checked = []
    real = erase_mask.validate_mask
    monkeypatch.setattr(erase_mask, "validate_mask", lambda array, name="mask", *args: checked.append(name) or
                        real(array, name, *args))
    for side, expected in ((32, 1), (96, 2)):
        picture = np.random.default_rng(side).random((side, side, 3)).astype(np.float32)
        hole = np.zeros((side, side), bool)
        hole[10:20, 8:22] = True
        save_image(picture, tmp_path / f"p{side}.png")
        save_image(hole, tmp_path / f"m{side}.png")
        checked.clear()
        assert erase_main(["--model", str(model), "--image", str(tmp_path / f"p{side}.png"), "--mask",
                           str(tmp_path / f"m{side}.png"), "--out", str(tmp_path / f"o{side}.png"), "--steps", "1",
                           "--sra"]) == 0
        assert len(checked) == expected, checked
        assert checked[0].endswith(f"m{side}.png")
    assert checked[1].endswith("at the model's 32 px")
