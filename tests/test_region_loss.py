"""The loss over the hole only and the residual's gradient (`cro.region_loss`, the fill study's rounds 7-9)."""

import pytest
import torch

from eradiff_lite.cro import cro_loss, denoising_loss, region_loss
from eradiff_lite.losses import get_loss, loss_for
from eradiff_lite.models.lite import build_scheduler
from eradiff_lite.train.config import HOLE_GRADIENT_LOSS, make_config
from eradiff_lite.variants import VARIANTS


def test_region_loss_by_hand():
    r = torch.zeros(1, 1, 3, 3)
    r[0, 0, 1, 1] = 2.0  # one pixel off by 2, inside the hole
    m = torch.zeros(1, 1, 3, 3)
    m[0, 0, 1, :] = 1  # the hole: the middle row (3 pixels, 2 horizontal pairs, no vertical pair)
    assert region_loss(r) == pytest.approx(4 / 9)  # the plain mean over the picture
    assert region_loss(r, m) == pytest.approx(4 / 3)  # over the hole only
    # gradient: the two horizontal pairs in the hole differ by 2 each: mean 4; no vertical pair in the hole
    assert region_loss(r, m, gradient_weight=0.5) == pytest.approx(4 / 3 + 0.5 * 4)
    # everywhere: d_x over 6 pairs (2 differ by 2), d_y over 6 pairs (2 differ by 2)
    assert region_loss(r, None, 1.0) == pytest.approx(4 / 9 + 8 / 6 + 8 / 6)
    w = torch.tensor([3.0])
    assert region_loss(r, m, item_weight=w) == pytest.approx(3 * 4 / 3)


def test_the_hole_alone_decides():
    """With region = the hole, changing the model's answer outside the hole changes nothing."""
    g = torch.Generator().manual_seed(0)
    x_ori, x_obj, noise = (torch.randn(2, 3, 8, 8, generator=g) for _ in range(3))
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:5, 3:6] = 1
    x_obj = x_ori * (1 - mask) + x_obj * mask
    a = build_scheduler(100).alphas_cumprod.float()
    t, gamma = torch.tensor([40, 90]), torch.tensor([5, 95])
    inside = lambda x, s: torch.zeros_like(x)  # noqa: E731
    outside = lambda x, s: (1 - mask) * torch.randn(x.shape, generator=g)  # noqa: E731
    for loss in (lambda f, **k: cro_loss(f, x_ori, x_obj, t, gamma, a, noise, **k),
                 lambda f, **k: denoising_loss(f, x_ori, t, a, noise, "sample", **k)):
        assert loss(inside, region=mask) == pytest.approx(float(loss(outside, region=mask)), rel=1e-5)
        assert loss(inside) != pytest.approx(float(loss(outside)), rel=1e-3)  # the picture's mean sees it
        assert loss(inside, region=None, gradient_weight=0.0) == loss(inside)  # the defaults are the paper's


def test_losses_take_the_region_and_the_config_checks_it():
    hole = loss_for(VARIANTS["cro"], region="hole", gradient_weight=1.0)
    assert (hole.region, hole.gradient_weight, "mask" in hole.needs) == ("hole", 1.0, True)
    assert "mask" not in get_loss("cro").needs
    assert loss_for(VARIANTS["paired"], region="hole").describe()["region"] == "hole"
    with pytest.raises(ValueError, match="loss_region"):
        make_config("paired", "smoke", loss_region="edges")
    with pytest.raises(ValueError, match="gradient_weight"):
        make_config("paired", "smoke", gradient_weight=-1.0)
    # the default: every variant averages over the picture, as the paper's loss does (the shipped models); the fill
    # study's averaging is an option a run chooses
    for variant in ("baseline", "paired", "cro_sra"):
        assert (make_config(variant, "smoke").loss_region, make_config(variant, "smoke").gradient_weight) == \
            ("image", 0.0)
    chosen = make_config("cro_sra", "smoke", **HOLE_GRADIENT_LOSS)
    assert (chosen.loss_region, chosen.gradient_weight) == ("hole", 1.0)
