"""The build exercise `cro_loss` (notebook 03): Eq. 6-9 with the signature of `eradiff_lite.cro.cro_loss`.

`grade_cro_loss` runs an answer on a short toy schedule (T = 20, alpha_bar from 0.9 to 0.05, so that step 0 is
far from clean and every mistake at the chain's end shows) with a model that records what it is asked. Three
batches: every jump inside the chain, some jumps past 0 (``s < 0``), and the same with a constant ``lambdas``. It
looks, in order, at: a loss that changes between two identical calls (a fresh noise), what the model was shown
(x_mix(t) at t), then the loss's value against the reference and the usual mistakes, named by their symptom.
"""

from __future__ import annotations

import torch

from ..cro import cro_loss, cro_terms_at, ddim_jump
from ..schedule import noisy_mix
from .check import NotYet, close

TASK = ("Build `my_cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise, lambdas=None)`: Eq. 6-9, the "
        "arguments of eradiff_lite.cro.cro_loss (s = t - gamma may be < 0; lambdas None: the paper's 1 - alpha_bar).")
SOLUTION = ("def my_cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise, lambdas=None):\n"
            "    lams = 1 - alphas_cumprod if lambdas is None else lambdas\n"
            "    def at(step):  # alpha_bar and lambda at one step per item; step < 0: the clean image\n"
            "        i = step.clamp(min=0)\n"
            "        a = torch.where(step < 0, torch.ones_like(alphas_cumprod[i]), alphas_cumprod[i])\n"
            "        lam = torch.where(step < 0, torch.zeros_like(lams[i]), lams[i])\n"
            "        return a.view(-1, 1, 1, 1), lam.view(-1, 1, 1, 1)\n"
            "    def x_mix(lam, a):  # Eq. 6-7, with the one noise shared by t and s\n"
            "        return a.sqrt() * ((1 - lam) * x_ori + lam * x_obj) + (1 - a).sqrt() * noise\n"
            "    (a_t, lam_t), (a_s, lam_s) = at(t), at(t - gamma)\n"
            "    x_t = x_mix(lam_t, a_t)\n"
            "    e = eps_fn(x_t, t)\n"
            "    x0_hat = (x_t - (1 - a_t).sqrt() * e) / a_t.sqrt()  # Eq. 8: the jump to s\n"
            "    x_hat_s = a_s.sqrt() * x0_hat + (1 - a_s).sqrt() * e\n"
            "    return ((x_hat_s - x_mix(lam_s, a_s)) ** 2).mean()  # Eq. 9\n")
STUB = ("def my_cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise, lambdas=None):\n"
        "    lams = 1 - alphas_cumprod if lambdas is None else lambdas\n"
        "    a_t, lam_t = alphas_cumprod[t].view(-1, 1, 1, 1), lams[t].view(-1, 1, 1, 1)\n"
        "    x_t = a_t.sqrt() * ((1 - lam_t) * x_ori + lam_t * x_obj) + (1 - a_t).sqrt() * noise\n"
        "    e = eps_fn(x_t, t)\n"
        "    return ((e - noise) ** 2).mean()  # the ordinary noise loss at t\n")
HINTS = ("Build x_mix(t) and x_mix(s) from ONE noise (Eq. 6-7), let the model see x_mix(t), take one deterministic "
         "DDIM step with its noise estimate from t to s = t - gamma (Eq. 8), and measure how far that lands from "
         "x_mix(s) (Eq. 9). A jump past the first step (s < 0) lands on the clean end of the pathway.",
         "x_mix(u) = sqrt(a_u) ((1 - lam_u) x_ori + lam_u x_obj) + sqrt(1 - a_u) noise;  e = eps_fn(x_mix(t), t);  "
         "x0_hat = (x_mix(t) - sqrt(1 - a_t) e) / sqrt(a_t);  x_hat(s) = sqrt(a_s) x0_hat + sqrt(1 - a_s) e;  "
         "loss = mean((x_hat(s) - x_mix(s))^2);  s < 0: a_s = 1, lam_s = 0.")
T = 20
CASES = (("with every jump inside the chain", [19, 12, 8, 15, 10, 6], [3, 1, 5, 8, 2, 6], False),
         ("with jumps past 0 (s = t - gamma = -3, -1 and -4 for items 1, 3 and 4)", [19, 2, 9, 0, 4, 12],
          [3, 5, 4, 1, 8, 2], False),
         ("with lambdas = 0.5 at every step and jumps past 0 (items 1, 3 and 4)", [19, 2, 9, 0, 4, 12],
          [3, 5, 4, 1, 8, 2], True))


class _Model:
    """A fixed, input-dependent "model" e = 0.4 x_t + 0.05 t / T + 0.3 b that records its calls."""

    def __init__(self, bias):
        self.bias, self.calls = bias, []

    def __call__(self, x_t, t):
        self.calls.append((x_t.detach().clone(), torch.as_tensor(t).clone()))
        return 0.4 * x_t + 0.05 * torch.as_tensor(t).float().view(-1, 1, 1, 1) / T + 0.3 * self.bias


def _at(step, alphas, lams, below0: str = "clean"):
    """alpha_bar and lambda at ``step`` ([B]); how a step < 0 is read: the reference or a usual mistake."""
    i = step if below0 == "wrap" else step.clamp(min=0)
    a, lam = alphas[i], lams[i]
    if below0 in ("clean", "lam_kept"):
        a = torch.where(step < 0, torch.ones_like(a), a)
    if below0 in ("clean", "a_kept"):
        lam = torch.where(step < 0, torch.zeros_like(lam), lam)
    return a, lam


def _variant(model, x_ori, x_obj, t, gamma, alphas, lams, noise, below0="clean", target="mix", jump=True):
    """CRO with one usual mistake: how s < 0 is read, what the target at s is, or no jump."""
    (a_t, lam_t), (a_s, lam_s) = _at(t, alphas, lams), _at(t - gamma, alphas, lams, below0)
    x_t = noisy_mix(x_ori, x_obj, lam_t, a_t, noise)
    e = model(x_t, t)
    pred = ddim_jump(x_t, e, a_t, a_s) if jump else (x_t - (1 - a_t).view(-1, 1, 1, 1).sqrt() * e) / \
        a_t.view(-1, 1, 1, 1).sqrt()
    want = {"mix": lambda: noisy_mix(x_ori, x_obj, lam_s, a_s, noise), "x_obj": lambda: x_obj,
            "noisy_obj": lambda: noisy_mix(x_obj, x_obj, 0.0, a_s, noise),
            "tilde": lambda: noisy_mix(x_ori, x_obj, lam_s, torch.ones_like(a_s), noise)}[target]()
    return ((pred - want) ** 2).mean()


def _call(answer, model, args, where):
    try:
        return answer(model, *(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        raise NotYet(f"cro_loss: {where}, your function raised {type(error).__name__}: {error}") from None


def _check_model_input(model, x_ori, x_obj, t, gamma, alphas, lams, noise, constant, where):
    if not model.calls:
        raise NotYet(f"cro_loss: {where}, your loss never asked the model (eps_fn) for its noise estimate")
    x_seen, t_seen = model.calls[0]
    if t_seen.shape != t.shape or not torch.equal(t_seen.long(), t):
        raise NotYet(f"cro_loss: {where}, the model was asked at timesteps {t_seen.tolist()} for items drawn at "
                     f"t = {t.tolist()}: it must see the state at the step it is told")
    (a_t, lam_t), (a_s, lam_s) = _at(t, alphas, lams), _at(t - gamma, alphas, lams)
    backwards = ("the state your model sees at t holds the object at low noise and the clean image at high noise: "
                 "the pathway runs the wrong way (look at your lambda along t, and at which image it weighs)")
    hints = [(noisy_mix(x_obj, x_ori, lam_t, a_t, noise), backwards),  # the dynamic image reversed
             (noisy_mix(x_ori, x_obj, a_t, a_t, noise), backwards),  # the schedule reversed: the same state here
             (noisy_mix(x_ori, x_obj, lam_s, a_s, noise), "the state your model sees is the pathway's state at s, "
              "where the jump should land, not the state at t it jumps from"),
             (noisy_mix(x_ori, x_obj, lam_t, torch.ones_like(a_t), noise), "the state your model sees at t has no "
              "noise in it"),
             (noisy_mix(x_obj, x_obj, 0.0, a_t, noise), "the state your model sees at t is the noised object image at "
              "every t: nothing of the clean image fades in along the pathway")]
    if constant:
        hints.insert(0, (noisy_mix(x_ori, x_obj, 1 - a_t, a_t, noise), "with lambdas = 0.5 given, the state your model "
                         "sees at t still follows 1 - alpha_bar: the lambdas passed in are ignored"))
    close(x_seen, noisy_mix(x_ori, x_obj, lam_t, a_t, noise), f"cro_loss: {where}, the state given to the model",
          hints, otherwise="the state your model sees at t is not x_mix(t) of Eq. 6-7 (check it against your "
                           "noisy_mix)")


def grade_cro_loss(answer) -> None:
    g = torch.Generator().manual_seed(7)
    x_ori, x_obj = (torch.rand(6, 3, 8, 8, generator=g) * 2 - 1 for _ in range(2))
    noise, bias = torch.randn(6, 3, 8, 8, generator=g), torch.randn(6, 3, 8, 8, generator=g)
    for where, t, gamma, constant in CASES:
        _grade_case(answer, where, torch.tensor(t), torch.tensor(gamma), constant, x_ori, x_obj, noise, bias)


def _grade_case(answer, where, t, gamma, constant, x_ori, x_obj, noise, bias) -> None:
    alphas = torch.linspace(0.9, 0.05, T)
    lambdas = torch.full((T,), 0.5) if constant else None
    lams = 1 - alphas if lambdas is None else lambdas
    args = (x_ori, x_obj, t, gamma, alphas, noise, lambdas)
    model = _Model(bias)
    got = _call(answer, model, args, where)
    if not isinstance(got, torch.Tensor):
        raise NotYet(f"cro_loss: return a 0-d torch tensor (one number, to call .backward() on), got "
                     f"{type(got).__name__}")
    if got.ndim:
        raise NotYet(f"cro_loss: your loss has shape {tuple(got.shape)}: Eq. 9's loss is one number, the mean over "
                     f"the batch and every pixel")
    again = _call(answer, _Model(bias), args, where)
    if isinstance(again, torch.Tensor) and got.shape == again.shape and not torch.allclose(got, again):
        raise NotYet(f"cro_loss: {where}, two calls with the same inputs gave different losses "
                     f"({got.flatten()[0]:.4g} and {again.flatten()[0]:.4g}): your x_mix(s) uses a different noise "
                     f"than x_mix(t)")
    _check_model_input(model, x_ori, x_obj, t, gamma, alphas, lams, noise, constant, where)

    def wrong(**how):
        return _variant(_Model(bias), x_ori, x_obj, t, gamma, alphas, lams, noise, **how)

    ref = cro_loss(_Model(bias), *args)
    a_t, lam_t = _at(t, alphas, lams)
    e = _Model(bias)(noisy_mix(x_ori, x_obj, lam_t, a_t, noise), t)  # what the stub's loss compares
    past0 = "only the items whose jump passes 0 (s < 0) are off:"
    close(got, ref, f"cro_loss: {where}", [
        (((e - noise) ** 2).mean(), "this is the ordinary noise-prediction error at t: nothing is compared at "
                                    "s = t - gamma, where the jump lands"),
        (ref * noise.numel(), f"your loss is {noise.numel()} times the reference: a sum over every number where "
                              f"Eq. 9's loss is a mean"),
        (wrong(below0="wrap"), f"{past0} alpha_bar and lambda at s come from the END of the schedule there (a "
                               f"negative index counts from the back), so the target is almost pure noise"),
        (wrong(below0="clamp"), f"{past0} your target there is the state at step 0, which still carries noise and "
                                f"some of the object; a jump past step 0 goes further along the pathway"),
        (wrong(below0="a_kept"), f"{past0} your target there still carries noise (as much as at step 0), while its "
                                 f"image part is right"),
        (wrong(below0="lam_kept"), f"{past0} your target there has no noise left but still holds part of the "
                                   f"object (the lambda of step 0)"),
        (wrong(target="x_obj"), "your loss compares the jump with the object image x_obj itself, not with the "
                                "pathway's state at s"),
        (wrong(target="noisy_obj"), "your loss compares the jump with the noised object image at s, not with the "
                                    "pathway's state at s, whose object fades with lambda"),
        (wrong(target="tilde"), "your target at s is noise-free: the pathway's state at s is noised with the same "
                                "noise as x_mix(t)"),
        (wrong(jump=False), "your loss compares the model's clean-image estimate x0_hat with x_mix(s): the jump's "
                            "second half (back to the noise level of s) is missing")],
          form="a 0-d torch tensor (one number: the mean over the batch and every pixel)",
          otherwise=_otherwise(answer, args, alphas, lams, t, gamma, x_ori, x_obj, noise, where))


def _otherwise(answer, args, alphas, lams, t, gamma, x_ori, x_obj, noise, where) -> str:
    """The reference gives 0 to a model that predicts CRO's optimal noise: does the answer?"""
    c, k = cro_terms_at(t, gamma, alphas.double(), lams.double())
    optimum = noise + k.float().view(-1, 1, 1, 1) * (x_obj - x_ori)
    value = _call(answer, lambda x_t, step: optimum, args, where)
    value = float(value) if isinstance(value, torch.Tensor) and value.numel() == 1 else float("nan")
    return (f"a model that always answers CRO's optimal noise gets the loss 0 from the reference and {value:.3g} from "
            f"yours: " + ("so your jump and your target disagree even for a perfect model" if abs(value) > 1e-5 else
                          "that part is right, but for other models the size of the error differs: how is each "
                          "difference weighted?"))
