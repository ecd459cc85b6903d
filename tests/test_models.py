"""The lite UNet, its input stacking and the shared DDIM scheduler."""

import pytest
import torch

from eradiff_lite.models.lite import (
    IN_CHANNELS,
    build_lite_unet,
    build_scheduler,
    masked_image,
    unet_input,
    unet_levels,
)
from eradiff_lite.profiles import get_profile


def test_lite_unet_predicts_noise_of_image_shape():
    profile = get_profile("smoke")
    unet = build_lite_unet(profile)
    x = torch.randn(2, 3, profile.image_size, profile.image_size)
    mask = torch.zeros(2, 1, profile.image_size, profile.image_size)
    mask[:, :, 4:12, 4:12] = 1
    out = unet(unet_input(x, mask, masked_image(x, mask)), torch.tensor([10, 900])).sample
    assert out.shape == x.shape
    assert unet.config.in_channels == IN_CHANNELS
    assert unet_levels(unet) == len(profile.unet_channels)


def test_masked_image_blanks_only_the_hole():
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4] = 1
    m = masked_image(x, mask)
    assert torch.all(m[..., :4] == 0) and torch.equal(m[..., 4:], x[..., 4:])


def test_unet_input_refuses_mismatched_sizes():
    with pytest.raises(ValueError, match="spatial sizes differ"):
        unet_input(torch.zeros(1, 3, 8, 8), torch.zeros(1, 1, 4, 4), torch.zeros(1, 3, 8, 8))


def test_scheduler_alpha_bar_decreases_and_ends_near_zero():
    ac = build_scheduler(1000).alphas_cumprod
    assert ac.shape == (1000,) and bool((ac[1:] < ac[:-1]).all())
    assert ac[0] > 0.99 and ac[-1] < 1e-3
