"""The mix-up schedule (lambda_t = 1 - alpha_bar_t), the dynamic image (Eq. 6) and its noised state (Eq. 7)."""

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from eradiff_lite.schedule import (
    alpha_bar_and_lambda_at,
    constant_lambdas,
    dynamic_image,
    linear_lambdas,
    mixup_lambdas,
    noisy_mix,
    per_item,
)

BETA_SCHEDULES = ("scaled_linear", "linear", "squaredcos_cap_v2")


def _scheduler(kind, beta_schedule, T=1000):
    extra = {"beta_start": 0.00085, "beta_end": 0.012} if beta_schedule == "scaled_linear" else {}
    return kind(num_train_timesteps=T, beta_schedule=beta_schedule, **extra)


@pytest.mark.parametrize("kind", (DDPMScheduler, DDIMScheduler))
@pytest.mark.parametrize("beta_schedule", BETA_SCHEDULES)
def test_lambda_increases_from_clean_to_object(kind, beta_schedule):
    ab = _scheduler(kind, beta_schedule).alphas_cumprod
    lam = mixup_lambdas(ab)
    assert lam.shape == ab.shape
    torch.testing.assert_close(lam, 1 - ab)
    assert bool((lam[1:] > lam[:-1]).all()), "lambda_t must increase with t"
    assert lam[0] < 0.01, "at t = 0 the dynamic image is (almost) the clean target x_ori"
    assert lam[-1] > 0.99, "at t = T-1 it is (almost) the object image x_obj"


@pytest.mark.parametrize("T", (10, 50, 1000))
def test_lambda_direction_for_short_schedules(T):
    lam = mixup_lambdas(_scheduler(DDPMScheduler, "linear", T).alphas_cumprod)
    assert bool((lam[1:] > lam[:-1]).all()) and lam[0] < lam[-1]


def test_ablation_schedules():
    torch.testing.assert_close(constant_lambdas(5, 0.3), torch.full((5,), 0.3))
    lin = linear_lambdas(5)
    torch.testing.assert_close(lin, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    with pytest.raises(ValueError, match="0 <= value <= 1"):
        constant_lambdas(5, 1.5)
    with pytest.raises(ValueError, match="at least 2"):
        linear_lambdas(1)


def test_negative_steps_mean_the_clean_image():
    ab = _scheduler(DDIMScheduler, "scaled_linear").alphas_cumprod
    s = torch.tensor([-100, -1, 0, 7, 999])
    a, lam = alpha_bar_and_lambda_at(s, ab)
    torch.testing.assert_close(a, torch.stack([torch.tensor(1.0), torch.tensor(1.0), ab[0], ab[7], ab[999]]))
    torch.testing.assert_close(lam, 1 - a)
    a, lam = alpha_bar_and_lambda_at(-3, ab, constant_lambdas(1000, 0.5))  # the clean image for any schedule
    assert a.item() == 1.0 and lam.item() == 0.0
    a, lam = alpha_bar_and_lambda_at(3, ab, constant_lambdas(1000, 0.5))
    assert a.item() == ab[3].item() and lam.item() == 0.5


def test_schedule_helpers_refuse_bad_input():
    ab = _scheduler(DDPMScheduler, "linear", 20).alphas_cumprod
    with pytest.raises(ValueError, match="1-D"):
        mixup_lambdas(ab[None])
    with pytest.raises(TypeError, match="floating-point"):
        mixup_lambdas(torch.arange(5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mixup_lambdas(ab * 2)
    with pytest.raises(ValueError, match="below T = 20"):
        alpha_bar_and_lambda_at(torch.tensor([20]), ab)
    with pytest.raises(TypeError, match="integers"):
        alpha_bar_and_lambda_at(torch.tensor([1.5]), ab)
    with pytest.raises(ValueError, match="one lambda per timestep"):
        alpha_bar_and_lambda_at(3, ab, linear_lambdas(10))


def test_dynamic_image_scalar_and_per_item():
    x_ori, x_obj = torch.zeros(3, 3, 4, 4), torch.ones(3, 3, 4, 4)
    assert dynamic_image(x_ori, x_obj, 0.0).equal(x_ori)
    assert dynamic_image(x_ori, x_obj, 1.0).equal(x_obj)
    torch.testing.assert_close(dynamic_image(x_ori, x_obj, torch.tensor(0.25)), torch.full_like(x_ori, 0.25))
    mix = dynamic_image(x_ori, x_obj, torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(mix.mean(dim=(1, 2, 3)), torch.tensor([0.0, 0.5, 1.0]))
    assert dynamic_image(x_ori.half(), x_obj.half(), 0.5).dtype == torch.float16
    with pytest.raises(ValueError, match="same shape"):
        dynamic_image(x_ori, x_obj[:, :1], 0.5)
    with pytest.raises(ValueError, match="one entry per batch item"):
        dynamic_image(x_ori, x_obj, torch.tensor([0.1, 0.2]))


def test_noisy_mix_is_eq7():
    gen = torch.Generator().manual_seed(0)
    x_ori, x_obj, noise = (torch.randn(2, 3, 5, 5, generator=gen, dtype=torch.float64) for _ in range(3))
    lam, a = torch.tensor([0.2, 0.9], dtype=torch.float64), torch.tensor([0.7, 0.05], dtype=torch.float64)
    got = noisy_mix(x_ori, x_obj, lam, a, noise)
    for i in range(2):
        want = a[i].sqrt() * ((1 - lam[i]) * x_ori[i] + lam[i] * x_obj[i]) + (1 - a[i]).sqrt() * noise[i]
        torch.testing.assert_close(got[i], want, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="randn_like"):
        noisy_mix(x_ori, x_obj, lam, a, noise[:1])


def test_per_item_shapes():
    like = torch.zeros(4, 3, 2, 2)
    assert per_item(0.5, like).ndim == 0
    assert per_item(torch.arange(4.0), like).shape == (4, 1, 1, 1)
    with pytest.raises(ValueError, match="one entry per batch item"):
        per_item(torch.zeros(2, 2), like)
