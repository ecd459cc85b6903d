"""The DDIM jump (Eq. 8), the CRO loss (Eq. 9), its closed form (`cro.cro_closed_form_terms`) and the epsilon loss."""

import pytest
import torch
from diffusers import DDIMScheduler

from eradiff_lite.cro import (
    cro_closed_form_terms,
    cro_loss,
    cro_terms_at,
    ddim_jump,
    default_gamma_max,
    epsilon_loss,
    sample_t_gamma,
    x0_optimum,
    x0_optimum_over_jumps,
    x0_optimum_terms,
)
from eradiff_lite.models import build_lite_unet, masked_image, unet_input
from eradiff_lite.models.lite import build_scheduler
from eradiff_lite.profiles import get_profile
from eradiff_lite.schedule import alpha_bar_and_lambda_at, constant_lambdas, linear_lambdas, noisy_mix, per_item
from eradiff_lite.targets import to_epsilon

T = 1000
ALPHAS = DDIMScheduler(num_train_timesteps=T, beta_schedule="scaled_linear", beta_start=0.00085,
                       beta_end=0.012).alphas_cumprod


def _batch(B=4, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x_ori, x_obj, noise, e = (torch.randn(B, 3, 6, 6, generator=gen, dtype=dtype) for _ in range(4))
    return x_ori, x_obj, noise, e


def test_ddim_jump_with_the_true_noise_lands_on_x_mix_s_when_lambda_is_fixed():
    """Eq. 7 consistency: a DDIM jump with the true noise stays on the noised path of one clean image."""
    x_ori, x_obj, noise, _ = _batch()
    t, s = torch.tensor([5, 300, 999, 40]), torch.tensor([-1, 250, 900, 39])
    a_t, _ = alpha_bar_and_lambda_at(t, ALPHAS.double())
    a_s, _ = alpha_bar_and_lambda_at(s, ALPHAS.double())
    lam = torch.tensor([0.0, 0.3, 0.7, 1.0], dtype=torch.float64)  # the same mix at t and s
    x_t, x_s = noisy_mix(x_ori, x_obj, lam, a_t, noise), noisy_mix(x_ori, x_obj, lam, a_s, noise)
    torch.testing.assert_close(ddim_jump(x_t, noise, a_t, a_s), x_s, rtol=0, atol=1e-12)


def test_ddim_jump_scalar_and_per_item_alpha_bars():
    x_t, e = _batch(3)[:2]
    one = ddim_jump(x_t, e, 0.5, 0.8)
    per = ddim_jump(x_t, e, torch.full((3,), 0.5, dtype=torch.float64), torch.tensor(0.8))
    torch.testing.assert_close(one, per)
    torch.testing.assert_close(ddim_jump(x_t, e, 0.5, 0.5), x_t)  # s = t: no move
    torch.testing.assert_close(ddim_jump(x_t, e, 0.5, 1.0), (x_t - 0.5 ** 0.5 * e) / 0.5 ** 0.5)  # x0_hat
    with pytest.raises(ValueError, match="shape of x_t"):
        ddim_jump(x_t, e[:, :1], 0.5, 0.8)
    shaped = torch.full((3, 1, 1, 1), 0.5, dtype=torch.float64)  # already shaped to broadcast, as notebook 03 makes
    torch.testing.assert_close(ddim_jump(x_t, e, shaped, torch.tensor(0.8)), one)
    with pytest.raises(ValueError, match="one entry per batch item"):
        ddim_jump(x_t, e, torch.tensor([0.5, 0.4]), 0.8)
    with pytest.raises(ValueError, match="one entry per batch item"):
        ddim_jump(x_t, e, torch.full((3, 2, 1, 1), 0.5), 0.8)


@pytest.mark.parametrize("lambdas", (None, linear_lambdas(T), constant_lambdas(T, 0.5)), ids=("mixup", "lin", "const"))
def test_closed_form_of_the_residual(lambdas):
    """x_mix(s) - x_hat(s) = sqrt(a_s)(lam_t - lam_s)(x_ori - x_obj) - c (eps - e) = -c (eps* - e)."""
    x_ori, x_obj, noise, e = _batch(6)
    t, gamma = torch.tensor([0, 3, 99, 100, 500, 999]), torch.tensor([1, 100, 100, 100, 37, 1])
    ab, lam = ALPHAS.double(), None if lambdas is None else lambdas.double()
    a_t, lam_t = alpha_bar_and_lambda_at(t, ab, lam)
    a_s, lam_s = alpha_bar_and_lambda_at(t - gamma, ab, lam)
    residual = noisy_mix(x_ori, x_obj, lam_s, a_s, noise) - ddim_jump(noisy_mix(x_ori, x_obj, lam_t, a_t, noise),
                                                                      e, a_t, a_s)
    c, k = cro_closed_form_terms(a_t, a_s, lam_t, lam_s)
    assert bool((c > 0).all())
    c4, k4 = c.view(-1, 1, 1, 1), k.view(-1, 1, 1, 1)
    closed = a_s.sqrt().view(-1, 1, 1, 1) * (lam_t - lam_s).view(-1, 1, 1, 1) * (x_ori - x_obj) - c4 * (noise - e)
    assert (residual - closed).abs().max() < 1e-8
    assert (residual + c4 * (noise + k4 * (x_obj - x_ori) - e)).abs().max() < 1e-8


def test_closed_form_terms_on_floats():
    c, k = cro_closed_form_terms(0.25, 1.0, 0.75, 0.0)  # a jump to the clean image
    assert c.dtype == torch.float64
    assert c.item() == pytest.approx(3 ** 0.5) and k.item() == pytest.approx(0.75 / 3 ** 0.5)


def test_cro_terms_at_timesteps():
    t, gamma = torch.tensor([0, 99, 999]), torch.tensor([1, 100, 5])
    a_t, lam_t = alpha_bar_and_lambda_at(t, ALPHAS)
    a_s, lam_s = alpha_bar_and_lambda_at(t - gamma, ALPHAS)
    for got, want in zip(cro_terms_at(t, gamma, ALPHAS), cro_closed_form_terms(a_t, a_s, lam_t, lam_s)):
        torch.testing.assert_close(got, want)
    c, k = cro_terms_at(0, 1, ALPHAS, constant_lambdas(T, 0.5))  # constant lambda, last jump: k = v / c
    torch.testing.assert_close(k, 0.5 / c)
    assert k > 15, "the constant schedule's last jump asks for a large shift of the noise target"


def _conv_eps_fn(seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(3, 3, 3, padding=1).to(dtype)
    return conv, lambda x_t, t: conv(x_t.to(dtype))


def test_cro_loss_is_the_weighted_shifted_epsilon_mse_and_gradients_flow():
    x_ori, x_obj, noise, _ = (x.float() for x in _batch(5))
    t, gamma = torch.tensor([0, 50, 400, 800, 999]), torch.tensor([1, 60, 100, 2, 100])
    conv, eps_fn = _conv_eps_fn()
    loss = cro_loss(eps_fn, x_ori, x_obj, t, gamma, ALPHAS, noise)
    a_t, lam_t = alpha_bar_and_lambda_at(t, ALPHAS)
    a_s, lam_s = alpha_bar_and_lambda_at(t - gamma, ALPHAS)
    c, k = (v.view(-1, 1, 1, 1) for v in cro_closed_form_terms(a_t, a_s, lam_t, lam_s))
    e = eps_fn(noisy_mix(x_ori, x_obj, lam_t, a_t, noise), t)
    expected = (c ** 2 * (noise + k * (x_obj - x_ori) - e) ** 2).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-4, atol=1e-6)
    loss.backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
    assert torch.isfinite(conv.weight.grad).all()


def test_cro_with_constant_lambda_and_s_ge_0_is_a_weighted_epsilon_loss():
    """Constant lambda, s >= 0: no shift (k = 0), the target is the fixed mix image."""
    x_ori, x_obj, noise, _ = (x.float() for x in _batch(3))
    t, gamma = torch.tensor([200, 500, 999]), torch.tensor([100, 1, 50])
    _, eps_fn = _conv_eps_fn()
    loss = cro_loss(eps_fn, x_ori, x_obj, t, gamma, ALPHAS, noise, lambdas=constant_lambdas(T, 0.4))
    a_t, a_s = ALPHAS[t], ALPHAS[t - gamma]
    c, k = cro_closed_form_terms(a_t, a_s, torch.full((3,), 0.4), torch.full((3,), 0.4))
    assert (k == 0).all()
    e = eps_fn(noisy_mix(x_ori, x_obj, 0.4, a_t, noise), t)
    torch.testing.assert_close(loss, (c.view(-1, 1, 1, 1) ** 2 * (noise - e) ** 2).mean(), rtol=1e-4, atol=1e-6)


def test_epsilon_loss_matches_the_forward_process():
    x0, _, noise, _ = (x.float() for x in _batch(3))
    t = torch.tensor([0, 10, 999])
    _, eps_fn = _conv_eps_fn()
    a = ALPHAS[t].view(-1, 1, 1, 1)
    want = ((eps_fn(a.sqrt() * x0 + (1 - a).sqrt() * noise, t) - noise) ** 2).mean()
    torch.testing.assert_close(epsilon_loss(eps_fn, x0, t, ALPHAS, noise), want)
    # where x_obj == x_ori (outside the hole) and s >= 0, CRO is the epsilon loss weighted by c^2 (k drops out)
    cro = cro_loss(eps_fn, x0, x0, torch.tensor([500] * 3), torch.tensor([1] * 3), ALPHAS, noise)
    eps = epsilon_loss(eps_fn, x0, torch.tensor([500] * 3), ALPHAS, noise)
    c, _ = cro_closed_form_terms(ALPHAS[500], ALPHAS[499], 0.0, 0.0)
    torch.testing.assert_close(cro, c.float() ** 2 * eps, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16))
def test_low_precision_inputs_give_a_float32_loss(dtype):
    x_ori, x_obj, noise, _ = _batch(2, dtype=torch.float32)
    t, gamma = torch.tensor([10, 700]), torch.tensor([20, 5])
    _, eps_fn = _conv_eps_fn(dtype=dtype)  # the model itself runs in low precision
    args = [x.to(dtype) for x in (x_ori, x_obj)]
    loss = cro_loss(eps_fn, *args, t, gamma, ALPHAS.to(dtype), noise.to(dtype))
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    ref = cro_loss(eps_fn, *[a.float() for a in args], t, gamma, ALPHAS, noise.to(dtype).float())
    torch.testing.assert_close(loss, ref, rtol=0.05, atol=1e-3)  # differs only through alphas_cumprod's rounding
    eps = epsilon_loss(eps_fn, args[0], t, ALPHAS, noise.to(dtype))
    assert eps.dtype == torch.float32 and torch.isfinite(eps)


def test_lite_unet_as_the_training_code_calls_it():
    profile = get_profile("smoke")
    unet = build_lite_unet(profile)
    gen = torch.Generator().manual_seed(1)
    size = profile.image_size
    x_ori, x_obj = (torch.rand(2, 3, size, size, generator=gen) * 2 - 1 for _ in range(2))
    mask = torch.zeros(2, 1, size, size)
    mask[..., 8:20, 8:20] = 1
    masked = masked_image(x_obj, mask)
    t, gamma = sample_t_gamma(2, T, generator=gen)
    loss = cro_loss(lambda x_t, t: unet(unet_input(x_t, mask, masked), t).sample, x_ori, x_obj, t, gamma,
                    ALPHAS, torch.randn(x_ori.shape, generator=gen))
    loss.backward()
    grads = [p.grad for p in unet.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_bad_inputs_are_refused_early():
    x_ori, x_obj, noise, _ = (x.float() for x in _batch(2))
    t, gamma = torch.tensor([5, 6]), torch.tensor([1, 2])
    _, eps_fn = _conv_eps_fn()
    call = dict(eps_fn=eps_fn, x_ori=x_ori, x_obj=x_obj, t=t, gamma=gamma, alphas_cumprod=ALPHAS, noise=noise)
    bad = [
        ({"t": torch.tensor([5, T])}, ValueError, r"t must lie in \[0, 999\]"),
        ({"t": torch.tensor([-1, 5])}, ValueError, r"t must lie in"),
        ({"gamma": torch.tensor([0, 1])}, ValueError, "gamma must lie in >= 1"),
        ({"x_obj": x_obj[:, :2]}, ValueError, "same shape"),
        ({"noise": noise[:1]}, ValueError, "randn_like"),
        ({"eps_fn": lambda x, t: x[:, :1]}, ValueError, "eps_fn must return"),
        ({"eps_fn": lambda x, t: None}, ValueError, "eps_fn must return"),
        ({"t": torch.tensor([5.0, 6.0])}, TypeError, "integer tensor of shape"),
        ({"t": torch.tensor([5, 6, 7])}, TypeError, r"shape \[2\]"),
        ({"gamma": 3}, TypeError, "gamma must be an integer tensor"),
        ({"lambdas": linear_lambdas(10)}, ValueError, "one lambda per timestep"),
    ]
    for change, error, message in bad:
        with pytest.raises(error, match=message):
            cro_loss(**{**call, **change})
    with pytest.raises(ValueError, match="randn_like"):
        epsilon_loss(eps_fn, x_ori, t, ALPHAS, noise[:, :1])
    with pytest.raises(TypeError, match="floating-point"):
        epsilon_loss(eps_fn, x_ori.long(), t, ALPHAS, noise)
    with pytest.raises(ValueError, match="t must lie in"):
        epsilon_loss(eps_fn, x_ori, torch.tensor([0, T]), ALPHAS, noise)


def test_sample_t_gamma_ranges():
    gen = torch.Generator().manual_seed(0)
    t, gamma = sample_t_gamma(20000, T, generator=gen)
    assert t.dtype == gamma.dtype == torch.long and t.shape == gamma.shape == (20000,)
    assert t.min() == 0 and t.max() == T - 1
    assert gamma.min() == 1 and gamma.max() == 100
    t, gamma = sample_t_gamma(5000, 50, generator=gen)
    assert t.max() == 49 and gamma.min() == 1 and gamma.max() == 5
    _, gamma = sample_t_gamma(100, 3, generator=gen)
    assert (gamma == 1).all()
    assert [default_gamma_max(n) for n in (1000, 50, 3, 2000)] == [100, 5, 1, 200]
    again = sample_t_gamma(8, T, generator=torch.Generator().manual_seed(3))
    assert all(a.equal(b) for a, b in zip(again, sample_t_gamma(8, T, generator=torch.Generator().manual_seed(3))))
    with pytest.raises(ValueError, match="gamma_max >= 1"):
        sample_t_gamma(4, T, gamma_max=0)


def test_cro_with_lambda_zero_ignores_the_object_in_the_noised_states():
    """``cro_zero``: lambda = 0 puts both x_mix(t) and x_mix(s) on x_ori; only the jump and its c^2 remain."""
    g = torch.Generator().manual_seed(4)
    x_ori, x_obj = torch.rand(3, 3, 8, 8, generator=g), torch.rand(3, 3, 8, 8, generator=g)
    noise = torch.randn(3, 3, 8, 8, generator=g)
    t, gamma = torch.tensor([50, 400, 900]), torch.tensor([10, 60, 100])
    ac = torch.linspace(0.999, 0.01, 1000)
    eps_fn = lambda x_t, steps: 0.3 * x_t  # noqa: E731
    zero = constant_lambdas(1000, 0.0)
    with_obj = cro_loss(eps_fn, x_ori, x_obj, t, gamma, ac, noise, lambdas=zero)
    torch.testing.assert_close(with_obj, cro_loss(eps_fn, x_ori, x_ori, t, gamma, ac, noise))
    assert not torch.allclose(with_obj, cro_loss(eps_fn, x_ori, x_obj, t, gamma, ac, noise))


COSINE = build_scheduler(T).alphas_cumprod  # the lite model's schedule
STEPS = [(0, 1), (50, 100), (99, 300), (300, 1), (300, 20), (500, 100), (800, 100), (950, 20), (999, 300)]


def _x0_model_cro_loss(x0_hat, x_ori, x_obj, t, gamma, ab, noise, lambdas):
    """cro_loss of an x0 "model" that answers x0_hat, turned into a noise estimate as training does."""
    eps_fn = lambda x_t, steps: to_epsilon(x0_hat, x_t, per_item(ab[steps], x_t), "sample")  # noqa: E731
    return cro_loss(eps_fn, x_ori, x_obj, t, gamma, ab, noise, lambdas=lambdas).item()


@pytest.mark.parametrize("lambdas", (None, constant_lambdas(T, 0.0), constant_lambdas(T, 0.5)),
                         ids=("cro", "cro_zero", "cro_const"))
@pytest.mark.parametrize("schedule", ("cosine", "scaled_linear"))
def test_x0_optimum_is_the_minimiser_and_weight_of_the_real_cro_loss(lambdas, schedule):
    """For an x0 model, cro_loss(x0* + delta) = weight * mean(delta^2), and 0 at x0* (some steps with s < 0)."""
    ab = COSINE if schedule == "cosine" else ALPHAS
    x_ori, x_obj, noise, delta = (x.float() for x in _batch(2, seed=5))
    scale = (x_obj - x_ori).pow(2).mean().item()  # the object difference, for the optimum's tolerance
    for t_i, g_i in STEPS:
        t, gamma = torch.full((2,), t_i), torch.full((2,), g_i)
        kappa, weight = x0_optimum(t, gamma, ab, lambdas)
        x0_star = x_ori + kappa.float().view(-1, 1, 1, 1) * (x_obj - x_ori)
        at_optimum = _x0_model_cro_loss(x0_star, x_ori, x_obj, t, gamma, ab, noise, lambdas)
        assert at_optimum <= 1e-5 * weight.max().item() * scale, (t_i, g_i)  # the shared noise cancels: 0
        off = _x0_model_cro_loss(x0_star + delta, x_ori, x_obj, t, gamma, ab, noise, lambdas)
        assert off == pytest.approx((weight.view(-1, 1) * delta.flatten(1) ** 2).mean().item(), rel=2e-3), (t_i, g_i)


def test_x0_optimum_is_the_noise_form_of_paper_item_6_read_in_x0_units():
    """weight = c^2 SNR_t and kappa = lambda_t - k / sqrt(SNR_t): the same loss as c^2 || eps* - e ||^2."""
    t, gamma = torch.tensor([0, 40, 300, 600, 999]), torch.tensor([1, 100, 1, 37, 100])
    for ab in (COSINE.double(), ALPHAS.double()):
        kappa, weight = x0_optimum(t, gamma, ab)
        c, k = cro_terms_at(t, gamma, ab)
        a_t, lam_t = alpha_bar_and_lambda_at(t, ab)
        snr = a_t / (1 - a_t)
        torch.testing.assert_close(weight, c ** 2 * snr, rtol=1e-9, atol=0)
        torch.testing.assert_close(kappa, lam_t - k / snr.sqrt(), rtol=1e-9, atol=1e-12)


def test_x0_optimum_for_the_ablation_variants():
    """cro_zero: kappa = 0 and CRO's weights; cro_const: kappa = v for s >= 0, 0 for the last jump; s < 0: weight 1."""
    t, gamma = torch.arange(0, 1000, 7), torch.arange(0, 1000, 7) % 150 + 1
    kappa, weight = x0_optimum(t, gamma, COSINE)
    kappa0, weight0 = x0_optimum(t, gamma, COSINE, constant_lambdas(T, 0.0))
    kappa_c, weight_c = x0_optimum(t, gamma, COSINE, constant_lambdas(T, 0.5))
    assert (kappa0 == 0).all() and torch.equal(weight0, weight) and torch.equal(weight_c, weight)
    last = t - gamma < 0
    torch.testing.assert_close(kappa_c[~last], torch.full_like(kappa_c[~last], 0.5))
    assert (kappa_c[last] == 0).all() and (kappa[last] == 0).all() and (weight[last] == 1).all()
    assert bool((weight[~last] < 1).all() and (weight > 0).all())
    k, w = x0_optimum_terms(0.25, 1.0, 0.75, 0.0)  # a jump to the clean image, on floats
    assert k.dtype == torch.float64 and k.item() == 0 and w.item() == 1


def test_x0_optimum_on_the_lite_cosine_schedule():
    """The numbers notebook 03 reports: kappa < 0 below the middle, toward the object at high noise; the weight."""
    kappa = lambda t, g: x0_optimum(t, g, COSINE.double())[0].item()  # noqa: E731
    weight = lambda t, g: x0_optimum(t, g, COSINE.double())[1].item()  # noqa: E731
    assert kappa(300, 1) == pytest.approx(-0.122, abs=2e-3) and kappa(400, 100) == pytest.approx(-0.120, abs=2e-3)
    assert kappa(800, 1) == pytest.approx(0.737, abs=2e-3) and kappa(800, 100) == pytest.approx(0.607, abs=2e-3)
    assert kappa(950, 1) == pytest.approx(0.982, abs=2e-3) and kappa(950, 100) == pytest.approx(0.925, abs=2e-3)
    assert weight(50, 100) == 1 and weight(800, 100) == pytest.approx(0.0266, abs=5e-4)
    assert weight(800, 1) < 1e-5 and weight(300, 1) < 2e-5
    # a = cos^2(phi), lambda = sin^2(phi): kappa = -sin(phi_s) sin(phi_t) cos(phi_s + phi_t),
    # weight = (sin(phi_t - phi_s) / sin(phi_t))^2
    t, gamma = torch.tensor([10, 300, 800, 999]), torch.tensor([20, 1, 100, 300])
    phi_t, phi_s = (torch.arccos(alpha_bar_and_lambda_at(v, COSINE.double())[0].sqrt()) for v in (t, t - gamma))
    got_kappa, got_weight = x0_optimum(t, gamma, COSINE.double())
    torch.testing.assert_close(got_kappa, -phi_s.sin() * phi_t.sin() * (phi_s + phi_t).cos())
    torch.testing.assert_close(got_weight, ((phi_t - phi_s).sin() / phi_t.sin()) ** 2)


def test_x0_optimum_over_jumps_is_the_minimiser_of_the_loss_averaged_over_gamma():
    """w_bar = mean w, kappa_bar = sum w kappa / sum w over gamma ~ U{1..G}; notebook 03's table; the variants."""
    ab, t = COSINE.double(), torch.tensor([0, 50, 300, 800, 950])
    kappa_bar, w_bar = x0_optimum_over_jumps(t, ab, 100)
    assert kappa_bar.shape == w_bar.shape == t.shape and kappa_bar.dtype == torch.float64
    for i, t_i in enumerate(t.tolist()):  # one step at a time, from x0_optimum itself
        kappa, w = x0_optimum(torch.full((100,), t_i), torch.arange(1, 101), ab)
        x = torch.linspace(-1, 2, 301, dtype=torch.float64)  # candidate kappas: the w-weighted loss's minimiser
        best = x[(w[:, None] * (x[None] - kappa[:, None]) ** 2).mean(0).argmin()]
        assert w_bar[i].item() == pytest.approx(w.mean().item()) and abs(kappa_bar[i] - best) <= 0.01
    assert kappa_bar[2].item() == pytest.approx(-0.109, abs=2e-3) and w_bar[3].item() == pytest.approx(0.009, abs=5e-4)
    assert kappa_bar[0].item() == 0 and w_bar[0].item() == 1  # every jump from t = 0 lands on the clean image
    zero, w_zero = x0_optimum_over_jumps(t, ab, 100, constant_lambdas(T, 0.0).double())
    const, w_const = x0_optimum_over_jumps(800, ab, 100, constant_lambdas(T, 0.5).double())
    assert (zero == 0).all() and torch.equal(w_zero, w_bar) and const.item() == pytest.approx(0.5)
