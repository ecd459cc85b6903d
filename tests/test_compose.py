"""Object transforms, pasting and triplets (paper Sec. 4.1)."""

import numpy as np
import pytest

from eradiff_lite.data import Triplet, choose_position, make_triplet, mask_from_alpha, paste, transform_cutout


def _square_cutout(side=8, color=(1.0, 0.0, 0.0)):
    rgba = np.zeros((side, side, 4), np.float32)
    rgba[2:-2, 2:-2, :3] = color
    rgba[2:-2, 2:-2, 3] = 1.0
    return rgba


def test_transform_scales_rotates_flips():
    cut = _square_cutout(10)
    cut[2:-2, 2:4, :3] = (0, 1, 0)  # a green left edge, to see the flip
    assert transform_cutout(cut, scale=2.0).shape == (20, 20, 4)
    rotated = transform_cutout(cut, angle=45)
    assert rotated.shape[0] > 10  # the canvas grows to fit
    flipped = transform_cutout(cut, flip=True)
    assert flipped[5, 6:8, 1].mean() > 0.9 and flipped[5, 2:4, 1].mean() < 0.1
    # premultiplied resampling keeps the colour of the opaque part
    big = transform_cutout(cut, scale=3.0)
    opaque = big[..., 3] > 0.99
    np.testing.assert_allclose(big[opaque][:, 2], 0.0, atol=1e-3)


def test_transform_rejects_bad_input():
    with pytest.raises(ValueError, match="RGBA"):
        transform_cutout(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="positive"):
        transform_cutout(_square_cutout(), scale=0)


def test_paste_composites_and_clips_at_borders():
    bg = np.zeros((10, 10, 3), np.float32)
    out, alpha = paste(bg, _square_cutout(8), (-3, 6))  # partly outside
    assert out.shape == bg.shape and alpha.shape == (10, 10)
    assert out[0:3, 8:10, 0].min() == 1.0  # the visible part of the red square
    assert alpha.sum() == out[..., 0].sum()
    with pytest.raises(ValueError, match="outside"):
        paste(bg, _square_cutout(4), (20, 20))


def test_mask_from_alpha_threshold_and_dilation():
    alpha = np.zeros((9, 9), np.float32)
    alpha[4, 4] = 0.8
    alpha[4, 5] = 0.3
    assert mask_from_alpha(alpha).sum() == 1
    assert mask_from_alpha(alpha, dilate=1).sum() == 5


def test_choose_position_avoids_region():
    rng = np.random.default_rng(0)
    avoid = np.zeros((20, 20), bool)
    avoid[:, :10] = True
    y, x = choose_position((20, 20), (5, 5), rng, avoid=avoid, tries=50)
    assert x >= 10
    with pytest.raises(ValueError, match="does not fit"):
        choose_position((4, 4), (5, 5), rng)


def test_make_triplet_is_consistent():
    rng = np.random.default_rng(3)
    x_ori = np.full((32, 32, 3), 0.5, np.float32)
    t = make_triplet(x_ori, _square_cutout(12), rng, scale=(0.8, 1.0), dilate=1)
    assert isinstance(t, Triplet)
    assert t.mask.any() and not t.mask.all()
    # outside the mask the two images agree; inside, the object shows
    np.testing.assert_array_equal(t.x_obj[~t.mask], t.x_ori[~t.mask])
    assert np.abs(t.x_obj[t.mask] - t.x_ori[t.mask]).max() > 0.4
    np.testing.assert_array_equal(t.x_ori, x_ori)


def test_triplet_shapes_are_checked():
    with pytest.raises(ValueError, match="shapes differ"):
        Triplet(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)), np.zeros((4, 4), bool))
