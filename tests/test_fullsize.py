"""Erasing pictures of any size and mode with a model trained at one small size."""

import numpy as np
import pytest
import torch
from PIL import Image

from eradiff_lite.cli.erase import main as erase_main
from eradiff_lite.data import MaskError, load_image, make_scene, save_image
from eradiff_lite.models.lite import build_lite_unet, build_scheduler
from eradiff_lite.pipeline import EraseDiffusionPipeline
from eradiff_lite.pipeline.fullsize import box_mask, erase_full_size, erase_window
from eradiff_lite.profiles import get_profile


@pytest.fixture(scope="module")
def pipe():
    torch.manual_seed(0)
    return EraseDiffusionPipeline(unet=build_lite_unet(get_profile("smoke")), scheduler=build_scheduler())


@pytest.fixture(scope="module")
def model_dir(pipe, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    pipe.save_pretrained(folder, card={"variant": "test"})
    return folder


def _photo(h, w, seed=0):
    """A smooth picture with detail (not a flat colour), H x W x 3 in [0, 1]."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    rng = np.random.default_rng(seed)
    return np.clip(np.dstack([0.5 + 0.4 * np.sin(6 * xx + c) * np.cos(4 * yy) for c in range(3)])
                   + 0.02 * rng.standard_normal((h, w, 3)), 0, 1).astype(np.float32)


def test_a_large_non_square_picture_keeps_its_size_and_every_pixel_outside_the_mask(pipe):
    picture = _photo(300, 517)
    hole = box_mask(picture.shape, (200, 100, 260, 150))
    out = erase_full_size(pipe, picture, hole, num_inference_steps=2)
    assert out.shape == picture.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[~hole], picture[~hole])
    assert np.abs(out[hole] - picture[hole]).mean() > 0.01  # the hole was painted
    top, left, side = erase_window(picture, hole, 32)
    assert side == 120 and top <= 100 and top + side >= 150 and left <= 200 and left + side >= 260


def test_a_picture_of_the_model_size_is_erased_as_the_pipeline_does(pipe):
    scene = make_scene(2, 32, split="heldout")
    direct = pipe(scene.triplet.x_obj, scene.triplet.mask, num_inference_steps=3,
                  generator=torch.Generator().manual_seed(4)).images[0]
    full = erase_full_size(pipe, scene.triplet.x_obj, scene.triplet.mask, num_inference_steps=3, seed=4)
    np.testing.assert_allclose(full, direct, atol=2e-3)


def test_box_masks_are_checked():
    assert box_mask((10, 20), (2, 3, 5, 9)).sum() == 3 * 6
    for box in ((5, 0, 5, 4), (0, 0, 21, 4), (-1, 0, 3, 3)):
        with pytest.raises(MaskError, match="not inside"):
            box_mask((10, 20), box)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "I;16"])
def test_the_command_takes_any_mode_and_a_box(model_dir, tmp_path, mode):
    rgb = (_photo(90, 70) * 255).astype(np.uint8)
    if mode == "I;16":
        Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(tmp_path / "in.png")
    else:
        Image.fromarray(rgb).convert(mode).save(tmp_path / "in.png")
    out = tmp_path / "out.png"
    assert erase_main(["--model", str(model_dir), "--image", str(tmp_path / "in.png"), "--box", "20", "30", "45", "50",
                       "--out", str(out), "--steps", "2"]) == 0
    result = np.asarray(Image.open(out).convert("RGB"))
    assert result.shape == (90, 70, 3)
    original = (load_image(tmp_path / "in.png") * 255 + 0.5).astype(np.uint8)
    keep = ~box_mask((90, 70), (20, 30, 45, 50))
    np.testing.assert_array_equal(result[keep], original[keep])


def test_the_command_erases_a_folder_with_masks_of_the_same_name(model_dir, tmp_path, capsys):
    pictures, masks = tmp_path / "pictures", tmp_path / "masks"
    pictures.mkdir()
    masks.mkdir()
    for i, (h, w) in enumerate(((40, 60), (96, 64))):
        save_image(_photo(h, w, seed=i), pictures / f"p{i}.png")
        save_image(box_mask((h, w), (10, 10, 25, 30)), masks / f"p{i}.bmp")
    out = tmp_path / "erased"
    assert erase_main(["--model", str(model_dir), "--image", str(pictures), "--mask", str(masks), "--out", str(out),
                       "--steps", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png"]
    assert Image.open(out / "p1.png").size == (64, 96)
    assert "2 erased pictures" in capsys.readouterr().out
    (masks / "p1.bmp").unlink()  # a picture without its mask: named, skipped, the others erased, exit status 1
    assert erase_main(["--model", str(model_dir), "--image", str(pictures), "--mask", str(masks),
                       "--out", str(tmp_path / "again"), "--steps", "2"]) == 1
    assert "error: p1.png: no mask named like it" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == ["p0.png"]
    with pytest.raises(ValueError, match="never writes into what it reads"):
        erase_main(["--model", str(model_dir), "--image", str(pictures), "--box", "1", "1", "5", "5",
                    "--out", str(pictures)])
