"""Loading images and masks: every mode, any size, and the errors that say what to do."""

import numpy as np
import pytest
import torch
from PIL import Image

from eradiff_lite.data import (
    ImageError,
    MaskError,
    check_mask,
    load_cutout,
    load_image,
    load_mask,
    mask_to_tensor,
    to_image,
    to_tensor,
)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16", "1"])
def test_load_image_accepts_every_mode(tmp_path, mode):
    path = tmp_path / f"img_{mode.replace(';', '')}.png"
    Image.new("RGB", (7, 5), (200, 100, 50)).convert(mode).save(path)
    img = load_image(path)
    assert img.shape == (5, 7, 3) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0


def test_rgba_is_composited_over_background():
    rgba = np.zeros((2, 2, 4), np.float32)
    rgba[0, 0] = (1, 0, 0, 1)  # opaque red; the rest fully transparent
    img = load_image(rgba, background=(0.0, 0.0, 1.0))
    np.testing.assert_allclose(img[0, 0], (1, 0, 0))
    np.testing.assert_allclose(img[1, 1], (0, 0, 1))


def test_grayscale_array_becomes_rgb():
    img = load_image(np.full((4, 6), 128, np.uint8))
    assert img.shape == (4, 6, 3)
    np.testing.assert_allclose(img, 128 / 255, atol=1e-6)


def test_float_array_out_of_range_is_refused():
    with pytest.raises(ImageError, match=r"\[0, 1\]"):
        load_image(np.full((4, 4, 3), 2.0, np.float32))


def test_missing_file_and_non_image(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(ImageError, match="bad.png"):
        load_image(bad)


def test_load_cutout_requires_transparency():
    with pytest.raises(ImageError, match="no transparent pixel"):
        load_cutout(np.ones((4, 4, 3), np.float32))
    rgba = np.ones((4, 4, 4), np.float32)
    rgba[0, 0, 3] = 0
    assert load_cutout(rgba).shape == (4, 4, 4)


def _mask_png(tmp_path, arr, mode="L", name="mask.png"):
    path = tmp_path / name
    Image.fromarray((arr * 255).astype(np.uint8)).convert(mode).save(path)
    return path


@pytest.mark.parametrize("mode", ["L", "RGB", "1", "P"])
def test_load_mask_is_boolean_white_means_erase(tmp_path, mode):
    arr = np.zeros((6, 8))
    arr[2:4, 3:6] = 1
    mask = load_mask(_mask_png(tmp_path, arr, mode))
    assert mask.dtype == bool and mask.shape == (6, 8)
    assert mask.sum() == 6 and mask[2, 3] and not mask[0, 0]


def test_load_mask_uses_alpha_when_transparent():
    rgba = np.zeros((4, 4, 4), np.float32)
    rgba[1:3, 1:3, 3] = 1.0
    assert load_mask(rgba).sum() == 4


def test_mask_threshold_is_explicit():
    arr = np.array([[0.2, 0.4], [0.6, 0.8]], np.float32)
    assert load_mask(arr, threshold=0.5).sum() == 2
    assert load_mask(arr, threshold=0.3).sum() == 3
    with pytest.raises(ValueError, match="threshold"):
        load_mask(arr, threshold=1.5)


def test_mask_size_mismatch_names_file_and_fix(tmp_path):
    arr = np.zeros((6, 8))
    arr[1, 1] = 1
    path = _mask_png(tmp_path, arr, name="hole.png")
    with pytest.raises(MaskError, match=r"hole\.png is 8x6 pixels but its image is 10x6.*resize"):
        load_mask(path, image=np.zeros((6, 10, 3), np.float32))


def test_empty_and_full_masks_are_refused(tmp_path):
    with pytest.raises(MaskError, match=r"empty\.png is empty.*inverted"):
        load_mask(_mask_png(tmp_path, np.zeros((4, 4)), name="empty.png"))
    with pytest.raises(MaskError, match=r"full\.png covers the whole image"):
        load_mask(_mask_png(tmp_path, np.ones((4, 4)), name="full.png"))


def test_check_mask_accepts_tensors_and_rejects_multichannel():
    m = torch.zeros(1, 1, 4, 4)
    m[..., 1, 1] = 1
    check_mask(m, (4, 4))
    with pytest.raises(MaskError, match="one channel"):
        check_mask(np.zeros((4, 4, 3), bool))


def test_tensor_round_trip():
    img = np.random.default_rng(0).random((5, 6, 3)).astype(np.float32)
    t = to_tensor(img)
    assert t.shape == (3, 5, 6) and t.min() >= -1 and t.max() <= 1
    np.testing.assert_allclose(to_image(t), img, atol=1e-6)
    assert mask_to_tensor(np.eye(3, dtype=bool)).shape == (1, 3, 3)


# ------------------------------------------------------------------- reliability: rules, refusals, atomic writes
def test_one_transparent_pixel_does_not_switch_an_opaque_mask_to_its_alpha():
    rgba = np.ones((32, 32, 4), np.float32)
    rgba[..., :3] = 0
    rgba[10:14, 10:14, :3] = 1  # the mask is in the colour channels
    rgba[0, 0, 3] = 0  # one stray transparent pixel
    assert load_mask(rgba).sum() == 16


def test_zero_one_and_coloured_masks_are_read(tmp_path):
    arr = np.zeros((8, 8), np.uint8)
    arr[2:5, 2:5] = 1  # a 0/1 8-bit file
    Image.fromarray(arr).save(tmp_path / "01.png")
    assert load_mask(tmp_path / "01.png").sum() == 9
    red = np.zeros((8, 8, 3), np.uint8)
    red[1:3, 1:4] = (255, 0, 0)
    Image.fromarray(red).save(tmp_path / "red.png")
    assert load_mask(tmp_path / "red.png").sum() == 6


def test_non_finite_pixels_are_refused():
    image = np.full((4, 4, 3), 0.5, np.float32)
    image[1, 1, 0] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        load_image(image)


def test_a_huge_image_is_refused_from_its_header(tmp_path, monkeypatch):
    import eradiff_lite.data.io as io

    Image.new("RGB", (50, 40)).save(tmp_path / "big.png")
    monkeypatch.setattr(io, "MAX_PIXELS", 1000)
    opened = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: opened.append(1) or real_load(self))
    with pytest.raises(ImageError, match="50x40 pixels"):
        load_image(tmp_path / "big.png")
    assert not opened, "the pixels must not be decoded before the size check"


def test_exif_rotation_is_applied(tmp_path):
    im = Image.new("RGB", (6, 4), (255, 0, 0))
    exif = im.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    im.save(tmp_path / "rot.png", exif=exif)
    assert load_image(tmp_path / "rot.png").shape == (6, 4, 3)


def test_save_image_is_lossless_only_and_atomic(tmp_path, monkeypatch):
    from eradiff_lite.data import save_image

    good = np.full((4, 4, 3), 0.25, np.float32)
    save_image(good, tmp_path / "out.png")
    before = (tmp_path / "out.png").read_bytes()
    with pytest.raises(ImageError, match="lossless"):
        save_image(good, tmp_path / "out.jpg")

    def failing_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="No space"):
        save_image(np.zeros((4, 4, 3), np.float32), tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == before, "a failed write must leave the old file whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"], "no temporary file left behind"
