"""The build exercise `erase_loop` (notebook 05): the DDIM erase loop of `EraseDiffusionPipeline`, on tensors.

`grade_erase_loop` runs an answer on a small lite UNet with fixed random weights (its clean-image answers leave
[-1, 1] often, so the scheduler's clipping shows) and the course's DDIM scheduler, beside the pipeline with the
same generator seed and its trajectory. It looks, in order, at: the random numbers drawn (from the generator, and
only the starting noise), the timesteps the model was asked at, the state it was shown at each step against the
pipeline's (the first step that differs is named, with the usual mistakes), the known pixels outside the hole,
then the result. Each message names the symptom, never the code.
"""

from __future__ import annotations

import numpy as np
import torch

from .check import NotYet, close

TASK = ("Build `my_erase_loop(unet, scheduler, image, mask, num_inference_steps, generator)`: the pipeline's DDIM "
        "loop (eta = 0) on tensors; image [B, 3, H, W] in [-1, 1], mask [B, 1, H, W] (1 = erase). Draw the starting "
        "noise x_T with torch.randn(image.shape, generator=generator) and nothing else; at each timestep of "
        "scheduler.set_timesteps(num_inference_steps), from high noise down, the UNet's answer to "
        "[x_t, mask, image * (1 - mask)] is x0_hat (kept in [-1, 1], the scheduler's clip_sample; the noise "
        "direction comes from the raw answer); take one DDIM step to the next timestep (after the last one: the "
        "clean image, alpha_bar = 1). Return a tensor [B, 3, H, W] in [-1, 1]: the final state inside the hole, "
        "the input's pixels, exactly, outside it.")
SOLUTION = ("def my_erase_loop(unet, scheduler, image, mask, num_inference_steps, generator):\n"
            "    scheduler.set_timesteps(num_inference_steps)\n"
            "    jump = scheduler.config.num_train_timesteps // num_inference_steps  # between two timesteps\n"
            "    alpha_bar = scheduler.alphas_cumprod\n"
            "    from eradiff_lite.models import unet_input  # the 7 channels: x_t, mask, masked picture\n"
            "    x = torch.randn(image.shape, generator=generator).to(image.device)  # x_T, the only draw\n"
            "    masked = image * (1 - mask)  # the condition: the picture with the hole blanked\n"
            "    for t in scheduler.timesteps:  # from high noise down\n"
            "        out = unet(unet_input(x, mask, masked), t).sample  # the model's clean image\n"
            "        a_t = alpha_bar[t]\n"
            "        a_prev = alpha_bar[t - jump] if t - jump >= 0 else torch.tensor(1.0)  # then: the clean image\n"
            "        eps = (x - a_t.sqrt() * out) / (1 - a_t).sqrt()  # the noise direction, from the raw answer\n"
            "        x0_hat = out.clamp(-1, 1)  # clip_sample\n"
            "        x = a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * eps  # DDIM, eta = 0\n"
            "    return mask * x.clamp(-1, 1) + (1 - mask) * image  # the known pixels, exactly\n")
STUB = ("def my_erase_loop(unet, scheduler, image, mask, num_inference_steps, generator):\n"
        "    scheduler.set_timesteps(num_inference_steps)\n"
        "    x = torch.randn(image.shape, generator=generator)  # x_T: the starting noise\n"
        "    for t in scheduler.timesteps:\n"
        "        x0_hat = unet(unet_input_fn(x, mask, image), t).sample.clamp(-1, 1)  # section 2's 7 channels\n"
        "        x = x0_hat  # a first guess: straight to the model's clean image\n"
        "    return x  # a first guess: is anything of the input kept?\n")
HINTS = ("Start from noise drawn with the generator and walk the scheduler's timesteps from high noise down. At each "
         "one the model sees the current state with the mask and the masked picture and answers with a clean image; "
         "DDIM keeps that answer's noise direction and re-noises the (clipped) answer to the NEXT timestep's level, "
         "with no new noise (eta = 0): the ddim_step exercise above, once per timestep. At the end only the hole is "
         "the model's: outside it the input comes back as it was.",
         "x_T = randn(generator);  for t in timesteps: out = unet([x_t, m, image (1 - m)], t);  "
         "e = (x_t - sqrt(a_t) out) / sqrt(1 - a_t);  x_prev = sqrt(a_prev) clip(out, -1, 1) + sqrt(1 - a_prev) e, "
         "a_prev = alpha_bar[t - T / n] (1 after the last step);  result = m x_0 + (1 - m) image.")
STEPS, SEED, SIZE = 8, 3, 16


class _Recorder:
    """The UNet, recording what each call is shown (the state and the timestep); everything else is the UNet's."""

    def __init__(self, unet):
        self._unet, self.calls = unet, []

    def __call__(self, sample, timestep, *args, **kwargs):
        self.calls.append((sample.detach().clone(), int(torch.as_tensor(timestep).reshape(-1)[0])))
        return self._unet(sample, timestep, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._unet, name)


def _setup():
    from ..data import to_tensor
    from ..models.lite import LiteUNet

    with torch.random.fork_rng():
        torch.manual_seed(5)
        unet = LiteUNet(sample_size=SIZE, block_out_channels=(8, 16), attention_levels=(False, True),
                        norm_num_groups=4, attention_head_dim=4).eval()
        with torch.no_grad():
            unet.unet.conv_out.weight.mul_(2.0)  # answers beyond [-1, 1] at many pixels: the clipping shows
    rng = np.random.default_rng(SEED)
    images = [rng.integers(0, 256, (SIZE, SIZE, 3)).astype(np.float32) / 255 for _ in range(2)]
    masks = [np.zeros((SIZE, SIZE), bool) for _ in range(2)]
    masks[0][3:10, 4:12], masks[1][8:15, 2:9] = True, True
    image = torch.stack([to_tensor(im) for im in images])
    mask = torch.stack([torch.from_numpy(m)[None].float() for m in masks])
    return unet, images, masks, image, mask


def _run(answer, unet, image, mask):
    from ..models.lite import build_scheduler

    model, generator = _Recorder(unet), torch.Generator().manual_seed(SEED)
    try:
        with torch.no_grad():
            got = answer(model, build_scheduler(), image.clone(), mask.clone(), STEPS, generator)
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        raise NotYet(f"erase_loop: your function raised {type(error).__name__}: {error}") from None
    return got, model.calls, generator


def grade_erase_loop(answer) -> None:
    from ..data import to_tensor
    from ..models.lite import build_scheduler
    from ..pipeline import EraseDiffusionPipeline

    unet, images, masks, image, mask = _setup()
    ref = EraseDiffusionPipeline(unet=unet, scheduler=build_scheduler())(
        images, masks, num_inference_steps=STEPS, generator=torch.Generator().manual_seed(SEED),
        return_trajectory=True)
    got, calls, generator = _run(answer, unet, image, mask)
    _check_draws(answer, unet, image, mask, got, generator)
    _check_calls(unet, calls, ref, image, mask)
    if not isinstance(got, torch.Tensor) or got.shape != image.shape:
        raise NotYet(f"erase_loop: return a torch tensor of the images' shape {tuple(image.shape)}, got "
                     f"{type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
    outside = float(((got - image) * (1 - mask)).abs().max())
    if outside > 1e-6:
        raise NotYet(f"erase_loop: outside the hole your result differs from the input by up to {outside:.3g}: the "
                     f"known pixels come back repainted by the model, not as they were")
    want = torch.stack([to_tensor(im) for im in ref.images])
    close(got, want, "erase_loop: every state the model was shown matched the pipeline's, but the result",
          _last_step_hints(unet, ref, image, mask),
          otherwise=f"differs from the pipeline's inside the hole by up to {float((got - want).abs().max()):.3g}: "
                    f"look at the last step (it ends on the clean image) and at what you return")


def _check_draws(answer, unet, image, mask, got, generator) -> None:
    start, once = torch.Generator().manual_seed(SEED), torch.Generator().manual_seed(SEED)
    torch.randn(image.shape, generator=once)
    state = generator.get_state()
    if torch.equal(state, start.get_state()):
        raise NotYet("erase_loop: your loop drew nothing from the generator it was given, so its starting noise "
                     "cannot be the one the pipeline draws with the same seed")
    if not torch.equal(state, once.get_state()):
        raise NotYet("erase_loop: your loop drew more random numbers from the generator than one starting noise of "
                     "the images' shape: with eta = 0 nothing random may happen after x_T")
    again, _, _ = _run(answer, unet, image, mask)
    if isinstance(got, torch.Tensor) and isinstance(again, torch.Tensor) and got.shape == again.shape \
            and not torch.equal(got, again):
        raise NotYet("erase_loop: two runs with the same generator seed gave different results: something in your "
                     "loop draws random numbers outside the generator")


def _check_calls(unet, calls, ref, image, mask) -> None:
    from ..models.lite import masked_image, unet_input

    timesteps = [t for _, t in calls]
    if not calls:
        raise NotYet("erase_loop: your loop never called the unet")
    if timesteps != ref.timesteps:
        order = " (from almost clean to pure noise: the wrong way)" if timesteps == ref.timesteps[::-1] else ""
        raise NotYet(f"erase_loop: the model was asked at timesteps {timesteps}{order}; with num_inference_steps = "
                     f"{STEPS} the pipeline asks at {ref.timesteps}")
    masked = masked_image(image, mask)
    for k, (seen, t) in enumerate(calls):
        want = unet_input(ref.trajectory[k], mask, masked)
        if seen.shape == want.shape and torch.allclose(seen, want, rtol=1e-5, atol=1e-5):
            continue
        hints = _step_hints(unet, ref, k, mask, masked) if k else [
            (unet_input(image, mask, masked), "the model's first state is the picture itself, not noise")]
        hints.append((unet_input(ref.trajectory[k], mask, image), "the model's last three input channels show the "
                                                                  "picture with the object inside the hole"))
        done = f"the states of the first {k} step(s) match the pipeline's; " if k else ""
        close(seen, want, f"erase_loop: at step {k + 1} of {STEPS} (t = {t}), the model's input", hints,
              otherwise=f"{done}the state the model is shown differs from the pipeline's" + (
                  " (its starting noise, drawn from the generator)" if not k else ": look at your DDIM step"))


def _step_hints(unet, ref, k, mask, masked) -> list[tuple]:
    """The state at step k + 1 built from the pipeline's state at step k by the usual wrong DDIM steps."""
    from ..models.lite import build_scheduler, unet_input

    scheduler = build_scheduler()
    a = scheduler.alphas_cumprod
    x, (t, nxt) = ref.trajectory[k - 1], ref.timesteps[k - 1:k + 1]
    with torch.no_grad():
        out = unet(unet_input(x, mask, masked), t).sample
    a_t, a_prev, a_near = a[t], a[nxt], a[t - 1]
    eps, x0 = (x - a_t.sqrt() * out) / (1 - a_t).sqrt(), out.clamp(-1, 1)
    eps_clipped = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
    state = f"the state the model is shown at step {k + 1} (t = {nxt})"

    def given(v):
        return unet_input(v, mask, masked)

    return [(given(x0), f"{state} has no noise left: it is the clean answer of the step before"),
            (given(a_prev.sqrt() * x + (1 - a_prev).sqrt() * eps), f"{state} does not move toward the model's clean "
                                                                   f"answer: it is built from the noisy state before"),
            (given(a_prev.sqrt() * out + (1 - a_prev).sqrt() * eps), f"{state} follows the model's answer where it "
             f"leaves the image range [-1, 1] (up to {float(out.abs().max()):.2f}); the pipeline's scheduler keeps the "
             f"answer inside that range"),
            (given(a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps_clipped), f"{state} differs from the pipeline's "
             f"only at pixels where the model's answer left [-1, 1]: there its noise direction is not the one the "
             f"scheduler reads off the raw answer"),
            (given(a_near.sqrt() * x0 + (1 - a_near).sqrt() * eps), f"{state} has the noise level of t = {t - 1}, one "
             f"training step below t = {t}, not of t = {nxt}, the next timestep the model is asked at"),
            (given(a_t.sqrt() * x0 + (1 - a_t).sqrt() * eps), f"{state} has the noise level of the step before "
                                                              f"(t = {t}): the step does not go down")]


def _last_step_hints(unet, ref, image, mask) -> list[tuple]:
    """The result after the usual wrong last steps (each with and without the final clamp)."""
    from ..models.lite import build_scheduler, masked_image, unet_input

    a, x, t = build_scheduler().alphas_cumprod, ref.trajectory[-2], ref.timesteps[-1]
    with torch.no_grad():
        out = unet(unet_input(x, mask, masked_image(image, mask)), t).sample
    eps, x0 = (x - a[t].sqrt() * out) / (1 - a[t]).sqrt(), out.clamp(-1, 1)
    inside = "inside the hole your result"
    wrong = [(x, f"{inside} is the state the model was shown at the last step: that step was never taken"),
             (a[-1].sqrt() * x0 + (1 - a[-1]).sqrt() * eps, f"{inside} is almost pure noise: the last step lands at "
              f"the noise level of the schedule's far end (a negative index counts from the back)"),
             (a[0].sqrt() * x0 + (1 - a[0]).sqrt() * eps, f"{inside} still carries a little noise: the last step "
              f"lands at the noise level of timestep 0, not on the clean image")]
    return [(mask * v + (1 - mask) * image, hint) for state, hint in wrong for v in (state.clamp(-1, 1), state)]
