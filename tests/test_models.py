"""The lite UNet, its input stacking and the shared DDIM scheduler."""

import numpy as np
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
    assert unet_levels(unet) == len(profile.unet_channels) + (profile.space_to_depth > 1)


def test_stem_runs_the_inner_unet_at_half_the_side():
    profile = get_profile("smoke", space_to_depth=2)
    unet = build_lite_unet(profile)
    seen = {}
    unet.unet.register_forward_pre_hook(lambda m, args: seen.update(shape=tuple(args[0].shape)))
    x = torch.randn(1, IN_CHANNELS, profile.image_size, profile.image_size)
    assert unet(x, torch.tensor([5])).sample.shape == (1, 3, profile.image_size, profile.image_size)
    assert seen["shape"] == (1, 4 * IN_CHANNELS, profile.image_size // 2, profile.image_size // 2)
    plain = build_lite_unet(get_profile("smoke", space_to_depth=1))
    assert plain.unet.config.in_channels == IN_CHANNELS and plain.unet.config.sample_size == profile.image_size


def test_stem_refuses_sides_it_cannot_fold():
    unet = build_lite_unet(get_profile("smoke", space_to_depth=2))
    with pytest.raises(ValueError, match="divisible by the stem"):
        unet(torch.zeros(1, IN_CHANNELS, 33, 33), torch.tensor([1]))
    with pytest.raises(ValueError, match="space_to_depth"):
        build_lite_unet(get_profile("smoke", space_to_depth=3))


def test_lite_unet_saves_and_loads_through_its_config(tmp_path):
    from eradiff_lite.models.lite import LiteUNet

    unet = build_lite_unet(get_profile("smoke"))
    unet.save_pretrained(tmp_path)
    again = LiteUNet.from_pretrained(tmp_path, use_safetensors=True)
    x = torch.randn(1, IN_CHANNELS, 32, 32)
    keys = ("sample_size", "space_to_depth", "block_out_channels", "attention_levels", "layers_per_block")
    assert all(list(np.atleast_1d(again.config[k])) == list(np.atleast_1d(unet.config[k])) for k in keys)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), unet.state_dict().values()))
    torch.testing.assert_close(again(x, torch.tensor([3])).sample, unet(x, torch.tensor([3])).sample)


def test_scheduler_takes_the_recipe_and_refuses_unknown_settings():
    from eradiff_lite.models.lite import RECIPE

    sched = build_scheduler(1000)
    for key, value in RECIPE.items():
        assert sched.config[key] == value
    assert build_scheduler(1000, prediction_type="epsilon").config.prediction_type == "epsilon"
    with pytest.raises(ValueError, match="unknown scheduler setting"):
        build_scheduler(1000, beta_scheduel="linear")


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
