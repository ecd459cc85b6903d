"""The build exercise `training_step` (notebook 05): one optimiser step, with the arguments of
`eradiff_lite.train.step.training_step`.

`grade_training_step` runs an answer beside the reference on copies of a small convolutional "UNet" (it records
what it is shown) with plain SGD, so that the update is the clipped gradient itself, on a toy schedule (T = 20)
whose jumps include some past 0. It looks, in order, at: what is returned, what the model was shown, the loss
against the reference and the usual mistakes, the first update (did the weights move, was the gradient clipped),
a second update on the same optimiser (left-over gradients), and a CRO step (a loss that changes between two
identical calls: a fresh noise). Each message names the symptom, never the code.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import torch

from ..cro import cro_loss
from .check import NotYet, close

TASK = ("Build `my_training_step(unet, optimizer, batch, alphas_cumprod, t, gamma, noise, loss=\"paired\", "
        "max_grad_norm=1.0)`, the arguments of eradiff_lite.train.step.training_step: one update of the UNet (it "
        "predicts the clean image) on batch = {x_obj, x_ori, mask}. loss \"paired\": the standard loss toward x_ori; "
        "\"cro\": Eq. 6-9 (eradiff_lite.cro.cro_loss may do it), with the t, gamma and noise given. Compute the loss, "
        "backpropagate, clip the gradient's norm to max_grad_norm, step the optimiser (no gradient of an earlier "
        "step may leak in) and return the loss (computed before the update).")
SOLUTION = ("def my_training_step(unet, optimizer, batch, alphas_cumprod, t, gamma, noise, loss=\"paired\",\n"
            "                     max_grad_norm=1.0):\n"
            "    from eradiff_lite.cro import cro_loss\n"
            "    from eradiff_lite.models import unet_input  # the 7 channels: x_t, mask, masked picture\n"
            "    x_obj, x_ori, mask = batch[\"x_obj\"], batch[\"x_ori\"], batch[\"mask\"]\n"
            "    masked = x_obj * (1 - mask)  # the condition: the picture with the hole blanked\n"
            "    def x0_hat(x_t, steps):  # the lite UNet predicts the clean image\n"
            "        return unet(unet_input(x_t, mask, masked), steps).sample\n"
            "    optimizer.zero_grad()  # nothing left over from the step before\n"
            "    a_t = alphas_cumprod[t].view(-1, 1, 1, 1)\n"
            "    if loss == \"paired\":  # noise the background, ask for it back\n"
            "        x_t = a_t.sqrt() * x_ori + (1 - a_t).sqrt() * noise\n"
            "        value = ((x0_hat(x_t, t) - x_ori) ** 2).mean()\n"
            "    else:  # CRO (Eq. 6-9): its jump needs the noise estimate implied by x0_hat\n"
            "        def eps_fn(x_t, steps):\n"
            "            a = alphas_cumprod[steps].view(-1, 1, 1, 1)\n"
            "            return (x_t - a.sqrt() * x0_hat(x_t, steps)) / (1 - a).sqrt()\n"
            "        value = cro_loss(eps_fn, x_ori, x_obj, t, gamma, alphas_cumprod, noise)\n"
            "    value.backward()\n"
            "    torch.nn.utils.clip_grad_norm_(unet.parameters(), max_grad_norm)\n"
            "    optimizer.step()\n"
            "    return value.detach()\n")
STUB = ("def my_training_step(unet, optimizer, batch, alphas_cumprod, t, gamma, noise, loss=\"paired\",\n"
        "                     max_grad_norm=1.0):\n"
        "    x_obj, x_ori, mask = batch[\"x_obj\"], batch[\"x_ori\"], batch[\"mask\"]\n"
        "    a_t = alphas_cumprod[t].view(-1, 1, 1, 1)\n"
        "    x_t = a_t.sqrt() * x_ori + (1 - a_t).sqrt() * noise  # the background, noised to t\n"
        "    out = unet(unet_input_fn(x_t, mask, x_obj), t).sample  # section 2's 7 channels\n"
        "    value = ((out - noise) ** 2).mean()  # a first guess: the usual loss (and loss=\"cro\"?)\n"
        "    value.backward()\n"
        "    optimizer.step()  # a first guess: is that all an update needs?\n"
        "    return value\n")
HINTS = ("One step: clear what the optimiser holds from the step before, compute this batch's loss, backpropagate, "
         "shorten the gradient when it is longer than max_grad_norm, let the optimiser move the weights, and return "
         "the loss. The lite UNet sees the noisy image, the mask and the masked picture, and answers with the clean "
         "image: paired compares that answer with x_ori; CRO turns it into a noise estimate for its DDIM jump.",
         "paired: x_t = sqrt(a_t) x_ori + sqrt(1 - a_t) noise,  L = mean (x0_hat - x_ori)^2;  cro: "
         "e = (x_t - sqrt(a_t) x0_hat) / sqrt(1 - a_t) into Eq. 8-9 (cro_loss);  then g = grad L,  "
         "g <- g min(1, max_grad_norm / ||g||),  theta <- optimizer step with g.")
T = 20
CLIP, LR = 0.05, 0.5
DRAWS = (([19, 2, 9, 0], [3, 5, 4, 1]), ([12, 8, 15, 6], [1, 5, 8, 2]))  # items 1 and 3 of the first jump past 0


class _Net(torch.nn.Module):
    """A small convolutional stand-in for the lite UNet: ``net(x [B, 7, H, W], t).sample``; records its inputs."""

    def __init__(self):
        super().__init__()
        self.conv, self.out = torch.nn.Conv2d(7, 8, 3, padding=1), torch.nn.Conv2d(8, 3, 3, padding=1)
        self.time = torch.nn.Parameter(torch.linspace(-0.5, 0.5, 8))
        self.calls = []

    def forward(self, x, t):
        self.calls.append((x.detach().clone(), torch.as_tensor(t).detach().clone().reshape(-1)))
        steps = torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1, 1, 1) / T
        return SimpleNamespace(sample=self.out(torch.tanh(self.conv(x) + steps * self.time.view(1, -1, 1, 1))))


def _setup():
    g = torch.Generator().manual_seed(11)
    with torch.random.fork_rng():
        torch.manual_seed(11)
        net = _Net()
    x_ori = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    mask = torch.zeros(4, 1, 8, 8)
    for i, (y, x) in enumerate(((1, 2), (3, 3), (0, 4), (2, 1))):
        mask[i, :, y:y + 4, x:x + 4] = 1
    x_obj = torch.where(mask > 0, torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, x_ori)
    noises = [torch.randn(4, 3, 8, 8, generator=g) for _ in DRAWS]
    draws = [(torch.tensor(t), torch.tensor(gamma), n) for (t, gamma), n in zip(DRAWS, noises)]
    return net, {"x_obj": x_obj, "x_ori": x_ori, "mask": mask}, torch.linspace(0.9, 0.05, T), draws


def _fresh(net):
    copy_ = copy.deepcopy(net)
    copy_.calls = []
    return copy_, torch.optim.SGD(copy_.parameters(), lr=LR)


def _call(answer, net, opt, batch, alphas, draw, loss, where):
    try:
        got = answer(net, opt, {k: v.clone() for k, v in batch.items()}, alphas.clone(),
                     *(v.clone() for v in draw), loss=loss, max_grad_norm=CLIP)
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        raise NotYet(f"training_step: {where}, your function raised {type(error).__name__}: {error}") from None
    if not isinstance(got, (float, torch.Tensor)) or (isinstance(got, torch.Tensor) and got.numel() != 1):
        raise NotYet(f"training_step: {where}, return the loss as one number (a float or a 0-d tensor), got "
                     f"{type(got).__name__}{tuple(got.shape) if isinstance(got, torch.Tensor) else ''}")
    return float(got.detach()) if isinstance(got, torch.Tensor) else got


def _weights(net) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def _check_input(net, batch, alphas, draw, loss, where):
    from ..models.lite import masked_image, unet_input

    if not net.calls:
        raise NotYet(f"training_step: {where}, your step never called the unet")
    seen, steps = net.calls[0]
    t, _, noise = draw
    if steps.numel() not in (1, len(t)) or not torch.equal(steps.long().expand(len(t)), t):
        raise NotYet(f"training_step: {where}, the model was asked at timesteps {steps.tolist()} for items drawn at "
                     f"t = {t.tolist()}: it must be told the step of each item's noise")
    x_obj, x_ori, mask = batch["x_obj"], batch["x_ori"], batch["mask"]
    a_t = alphas[t].view(-1, 1, 1, 1)
    lam = 1 - a_t if loss == "cro" else 0.0
    clean = (1 - lam) * x_ori + lam * x_obj  # the dynamic image (x_ori for paired)
    x_t = a_t.sqrt() * clean + (1 - a_t).sqrt() * noise
    masked = masked_image(x_obj, mask)
    close(seen, unet_input(x_t, mask, masked), f"training_step: {where}, the model's input", [
        (unet_input(x_t, mask, x_obj), "the model's input channels show the picture with the object inside the "
         "hole: it can copy it (models.unet_input wants the picture already blanked; unet_input_fn takes x_obj)"),
        (unet_input(a_t.sqrt() * x_obj + (1 - a_t).sqrt() * noise, mask, masked),
         "the noisy image the model sees holds the whole object at every t, so nothing tells it to remove it"),
        (unet_input(clean, mask, masked), "the noisy image the model sees has no noise in it"),
        (unet_input(a_t.sqrt() * clean, mask, masked), "the noisy image the model sees has no noise in it"),
        (unet_input(a_t.sqrt() * x_ori + (1 - a_t).sqrt() * noise, mask, masked),
         "the noisy image the model sees holds nothing of the object at any t: the paired loss's state, not the "
         "CRO pathway's, which still holds part of the object at high noise")],
          otherwise="the noisy image, the mask or the masked picture the model sees is not the reference's (the "
                    "unet_input exercise above has the channels)")


def _check_update(w0, learner, ref, what):
    w1, want = _weights(learner), _weights(ref)
    if torch.allclose(w1, want, rtol=1e-5, atol=1e-7):
        return
    if torch.equal(w1, w0):
        grads = [p.grad for p in learner.parameters() if p.grad is not None]
        raise NotYet(f"training_step: {what}, the weights did not move" + (
            " although gradients were computed: the optimiser never used them" if grads else
            ": no gradient reached them, and the optimiser never changed them"))
    norm = float((w1 - w0).norm()) / LR  # SGD: the update is lr times the gradient it was given
    if norm > CLIP * 1.001:
        raise NotYet(f"training_step: {what}, the gradient your update used has norm {norm:.3g}, above "
                     f"max_grad_norm = {CLIP}: it was not shortened to that length before the step")
    raise NotYet(f"training_step: {what}, the loss is right but the update differs from the reference's by up to "
                 f"{float((w1 - want).abs().max()):.3g} (its gradient's norm {norm:.3g}, the reference's "
                 f"{float((want - w0).norm()) / LR:.3g}): look at the order backward, clip, step")


def grade_training_step(answer) -> None:
    net, batch, alphas, draws = _setup()
    _grade_paired(answer, net, batch, alphas, draws)
    _grade_cro(answer, net, batch, alphas, draws[0])


def _grade_paired(answer, net, batch, alphas, draws) -> None:
    from ..models.lite import masked_image, unet_input
    from ..train.step import step_loss, training_step

    where = "with loss=\"paired\""
    learner, opt = _fresh(net)
    ref, ref_opt = _fresh(net)
    w0 = _weights(net)
    got = _call(answer, learner, opt, batch, alphas, draws[0], "paired", where)
    _check_input(learner, batch, alphas, draws[0], "paired", where)
    want = float(training_step(ref, ref_opt, batch, alphas, *draws[0], "paired", CLIP))
    t, _, noise = draws[0]
    a_t = alphas[t].view(-1, 1, 1, 1)
    x_t = a_t.sqrt() * batch["x_ori"] + (1 - a_t).sqrt() * noise
    with torch.no_grad():
        out = net(unet_input(x_t, batch["mask"], masked_image(batch["x_obj"], batch["mask"])), t).sample
    with torch.no_grad():
        after = float(step_loss(copy.deepcopy(ref), batch, alphas, *draws[0], "paired"))
    close(torch.tensor(got), torch.tensor(want), f"training_step: {where}, the loss you returned", [
        (((out - noise) ** 2).mean(), "it measures how far the model's answer is from the noise, but this model "
                                      "answers with the clean image"),
        (((out - batch["x_obj"]) ** 2).mean(), "it measures how far the model's answer is from the picture WITH the "
                                               "object: the model would learn to paint the object back"),
        (torch.tensor(want * noise.numel()), f"it is {noise.numel()} times the reference's: a sum where the loss is a "
                                             f"mean"),
        (torch.tensor(after), "it is the loss AFTER the update (lower than the one the gradient came from)")],
          form="one number", otherwise=f"it is {got:.6g}, the reference's {want:.6g}")
    _check_update(w0, learner, ref, f"{where}, after the first step")
    w1 = _weights(learner)
    _call(answer, learner, opt, batch, alphas, draws[1], "paired", where)
    training_step(ref, ref_opt, batch, alphas, *draws[1], "paired", CLIP)
    if not torch.allclose(_weights(learner), _weights(ref), rtol=1e-5, atol=1e-7):
        stale, stale_opt = _fresh(net)
        training_step(stale, stale_opt, batch, alphas, *draws[0], "paired", CLIP)
        step_loss(stale, batch, alphas, *draws[1], "paired").backward()  # the first step's gradients kept
        torch.nn.utils.clip_grad_norm_(stale.parameters(), CLIP)
        stale_opt.step()
        if torch.allclose(_weights(learner), _weights(stale), rtol=1e-5, atol=1e-7):
            raise NotYet(f"training_step: {where}, the first update matches the reference's but the second does not: "
                         f"it moves the weights along the first batch's gradient as well as the second's (the first "
                         f"step's gradients are still there when the second step starts)")
        _check_update(w1, learner, ref, f"{where}, at the second step (a new batch of draws, the same optimiser)")


def _grade_cro(answer, net, batch, alphas, draw) -> None:
    from ..models.lite import masked_image, unet_input
    from ..train.step import step_loss, training_step

    where = "with loss=\"cro\" (items 1 and 3 jump past 0)"
    learner, opt = _fresh(net)
    again, again_opt = _fresh(net)
    ref, ref_opt = _fresh(net)
    w0 = _weights(net)
    got = _call(answer, learner, opt, batch, alphas, draw, "cro", where)
    second = _call(answer, again, again_opt, batch, alphas, draw, "cro", where)
    if abs(got - second) > 1e-6 * max(1.0, abs(got)):
        raise NotYet(f"training_step: {where}, two calls with the same weights and the same inputs gave different "
                     f"losses ({got:.6g} and {second:.6g}): something inside your step draws a new noise, so "
                     f"x_mix(s) and x_mix(t) do not share the one passed in")
    _check_input(learner, batch, alphas, draw, "cro", where)
    want = float(training_step(ref, ref_opt, batch, alphas, *draw, "cro", CLIP))
    with torch.no_grad():
        paired = float(step_loss(net, batch, alphas, *draw, "paired"))
        raw = float(cro_loss(lambda x_t, steps: net(unet_input(x_t, batch["mask"], masked_image(
            batch["x_obj"], batch["mask"])), steps).sample, batch["x_ori"], batch["x_obj"], *draw[:2], alphas, draw[2]))
    close(torch.tensor(got), torch.tensor(want), f"training_step: {where}, the loss you returned", [
        (torch.tensor(paired), "it is the paired loss: with loss=\"cro\" nothing changes"),
        (torch.tensor(raw), "its DDIM jump takes the model's answer for a noise estimate, but this model answers with "
                            "the clean image")],
          form="one number", otherwise=f"it is {got:.6g}, the reference's {want:.6g} (the cro_loss exercise of "
                                       f"notebook 03 checks the loss itself)")
    _check_update(w0, learner, ref, f"{where}, after the step")
