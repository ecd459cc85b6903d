"""The texture measure (metrics.texture) and the loss weightings of the x0 error (targets.X0_WEIGHTINGS)."""

import numpy as np
import pytest
import torch

from eradiff_lite.cro import denoising_loss
from eradiff_lite.data import make_scene
from eradiff_lite.metrics.fill import flat_fill
from eradiff_lite.metrics.texture import BAND, FLOOR, hole_interior, texture_energy, texture_log2, texture_summary
from eradiff_lite.targets import x0_weight


def _hole(size=32):
    mask = np.zeros((size, size), bool)
    mask[8:20, 10:24] = True
    return mask


def test_smooth_truth_speckle_reads_high_and_noise_below_a_grey_level_reads_zero():
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    truth = np.dstack([0.2 + 0.5 * xx, 0.3 + 0.2 * yy, 0.5 + 0 * xx]).astype(np.float32)  # a smooth gradient
    mask, rng = _hole(), np.random.default_rng(0)
    speckled = np.where(mask[..., None], truth + rng.normal(0, 8 / 255, truth.shape), truth)
    faint = np.where(mask[..., None], truth + rng.normal(0, 0.3 / 255, truth.shape), truth)
    assert texture_log2(truth, truth, mask) == 0.0
    assert texture_log2(speckled, truth, mask) > 3  # 8 grey levels of noise: far outside the band
    assert abs(texture_log2(faint, truth, mask)) < 0.2  # below the floor: reads as smooth
    # the old mean-of-ratios blows up on such a truth; the floored log ratio stays finite and signed
    assert np.isfinite(texture_log2(speckled, truth, mask))


def test_textured_truth_flat_fill_reads_blur_and_a_shifted_copy_reads_true():
    scene = make_scene(3, 64, background_kind="stripes", family="cookie")
    truth, mask = scene.triplet.x_ori, scene.triplet.mask
    if texture_energy(truth, mask) < 10 * FLOOR:
        pytest.skip("this scene's hole fell on a flat stripe")
    shifted = np.where(mask[..., None], np.roll(truth, 3, axis=1), truth)
    assert texture_log2(flat_fill(scene.triplet.x_obj, mask), truth, mask) < -BAND
    assert abs(texture_log2(shifted, truth, mask)) <= BAND


def test_the_hole_edge_does_not_count():
    truth = np.full((32, 32, 3), 0.5, np.float32)
    mask = _hole()
    fill = truth.copy()
    fill[mask] = 0.9  # a flat patch of another colour: a step at the edge, no texture inside
    assert texture_log2(fill, truth, mask) == pytest.approx(0.0, abs=1e-9)
    assert texture_log2(fill, truth, mask, margin=0) > 3  # without the margin the step reads as texture
    assert hole_interior(mask).sum() == (12 - 2) * (14 - 2)


def test_bad_inputs_are_refused():
    truth, mask = np.zeros((8, 8, 3)), np.zeros((8, 8), bool)
    with pytest.raises(ValueError, match="empty"):
        texture_energy(truth, mask)
    with pytest.raises(ValueError, match="floor"):
        texture_log2(truth, truth, _hole(8) | True, floor=0)
    with pytest.raises(ValueError, match="H x W"):
        texture_energy(truth[..., 0], mask)


def test_summary_counts_the_band():
    s = texture_summary([0.0, 1.0, 2.0, -3.0])
    assert s == {"median": 0.5, "within": 50.0, "above": 25.0, "below": 25.0, "scenes": 4}
    assert texture_summary([])["scenes"] == 0


def _loss(prediction_type, weighting, model):
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(6, 3, 8, 8, generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    t = torch.tensor([0, 5, 50, 300, 700, 999])
    ac = torch.cos((torch.arange(1000) / 1000 + 0.008) / 1.008 * torch.pi / 2) ** 2
    return denoising_loss(model, x0, t, ac, noise, prediction_type, None, weighting)


def test_snr_plus_one_is_the_unweighted_v_loss_and_weighs_low_noise_most():
    model = lambda x, t: 0.3 * x + 0.01 * t.float().view(-1, 1, 1, 1)  # noqa: E731 - any fixed function
    assert _loss("v_prediction", "snr+1", model) == pytest.approx(_loss("v_prediction", None, model).item(), rel=1e-5)
    # for an x0 model it is not the unweighted x0 loss: the low-noise steps now count
    assert _loss("sample", "snr+1", model) > 5 * _loss("sample", None, model)
    a = torch.tensor([0.999, 0.5, 0.01])
    assert torch.allclose(x0_weight(a, "snr+1"), a / (1 - a) + 1)
    assert torch.allclose(x0_weight(a, "max(snr,1)"), torch.tensor([999.0, 1.0, 1.0]), rtol=1e-4)
    with pytest.raises(ValueError, match="loss_weighting"):
        x0_weight(a, "snr*2")
