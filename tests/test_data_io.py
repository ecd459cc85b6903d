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
