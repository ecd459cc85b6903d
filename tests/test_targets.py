"""Prediction targets: each converts to the others exactly, and min-SNR weights match their definition."""

import pytest
import torch
import torch.nn.functional as F

from eradiff_lite.cro import denoising_loss, epsilon_loss
from eradiff_lite.models.lite import build_scheduler
from eradiff_lite.targets import PREDICTION_TYPES, min_snr_weight, to_epsilon, to_sample, training_target

AC = build_scheduler(1000).alphas_cumprod.float()


@pytest.mark.parametrize("kind", PREDICTION_TYPES)
def test_the_exact_target_converts_back_to_the_true_noise_and_image(kind):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, torch.randn(4, 3, 8, 8, generator=g)
    a = AC[torch.tensor([3, 200, 700, 990])].reshape(-1, 1, 1, 1)
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
    target = training_target(x0, eps, a, kind)
    torch.testing.assert_close(to_epsilon(target, x_t, a, kind), eps, atol=2e-3, rtol=1e-3)
    torch.testing.assert_close(to_sample(target, x_t, a, kind), x0, atol=2e-3, rtol=1e-3)


def test_v_is_the_rotation_of_noise_and_image():
    x0, eps, a = torch.ones(1, 1), torch.zeros(1, 1), torch.tensor(0.25)
    assert float(training_target(x0, eps, a, "v_prediction")) == pytest.approx(-(0.75 ** 0.5))
    with pytest.raises(ValueError, match="prediction_type"):
        training_target(x0, eps, a, "x0")


def test_min_snr_weights():
    a = torch.tensor([0.999, 0.5, 0.01])
    snr = a / (1 - a)
    torch.testing.assert_close(min_snr_weight(a, "sample", 5.0), snr.clamp(max=5))
    torch.testing.assert_close(min_snr_weight(a, "epsilon", 5.0), snr.clamp(max=5) / snr)
    torch.testing.assert_close(min_snr_weight(a, "v_prediction", 5.0), snr.clamp(max=5) / (snr + 1))
    assert torch.equal(min_snr_weight(a, "sample", None), torch.ones(3))


def test_denoising_loss_is_the_plain_epsilon_mse_when_unweighted():
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.rand(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    t = torch.tensor([10, 500, 900])
    net = lambda x_t, steps: 0.5 * x_t  # noqa: E731 - any deterministic "model"
    a = AC[t].reshape(-1, 1, 1, 1)
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    expected = F.mse_loss(net(x_t, t), noise)
    torch.testing.assert_close(epsilon_loss(net, x0, t, AC, noise), expected)
    # the x0 target with min-SNR-5: per item min(SNR, 5) * mean (x0 - out)^2
    w = (AC[t] / (1 - AC[t])).clamp(max=5)
    per_item = ((net(x_t, t) - x0) ** 2).flatten(1).mean(1)
    torch.testing.assert_close(denoising_loss(net, x0, t, AC, noise, "sample", 5.0), (w * per_item).mean())
