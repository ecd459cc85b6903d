"""Check a capstone variant's loss on a toy batch, in seconds, before a 15-30-minute run.

    python assignments/capstone/my_variant.py --selfcheck                 (the starter checks itself)
    python assignments/capstone/selfcheck.py assignments/capstone/my_team.py [--same-as cro]

The file is loaded and checked as the capstone command loads it (`capstone_rules.load_variant_file`,
`check_variant`). Then the variant's loss (`losses.loss_for`, with the loss averaging the command trains with) is
called the way the training loop calls it (`train.step.step_loss`, SRA on where the variant trains with it) on a
toy batch: the package's own tiny model (the ``smoke`` profile's lite UNet, random weights, seed 0), four training
scenes at its 32 px, fixed steps ``t`` (high noise, middle, and two jumps that reach or pass the clean end) and one
fixed noise. The check fails, naming the symptom, when the loss

1. raises an error;
2. does not return one finite floating-point number (a tensor per item, a NaN, an int);
3. has no gradient, or a zero or non-finite one, on the model's weights;
4. changes the batch it was given;
5. is not lowest when the model answers with the loss's own target: a model that always answers ``x_ori`` (the
   background, target ``"background"``) must get a smaller loss than one that always answers ``x_obj`` (the object
   painted back), and the other way round for target ``"image"`` (the rubric's "short check on a toy batch");
6. with ``same_as``: differs from that registered loss (``get_loss(same_as)``) on the same batch and draws. The
   starter sets ``SAME_AS = "cro"``: unchanged, it must give CRO's value; a learner who rewrites CRO keeps it, one
   who changes the objective on purpose sets ``SAME_AS = None``.

It also says (without failing) when the loss gives another value on a second identical call: it draws randomness
of its own, so a run is not reproducible and ``--resume`` does not continue it exactly.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

T_STEPS = (999, 500, 60, 5)  # the toy batch's steps: high noise, the middle, a jump to s = 0, a jump past 0
GAMMAS = (100, 37, 60, 20)
SCENES = 4


class SelfCheckError(AssertionError):
    """A loss the check rejects; the message names the symptom."""


def toy_batch(seed: int = 0) -> tuple:
    """``(unet, batch, alphas_cumprod, t, gamma, noise)``: the smoke profile's lite UNet (seeded), four training
    scenes at its size, the recipe's ``alphas_cumprod``, fixed ``t`` / ``gamma`` and one seeded noise."""
    from eradiff_lite.data import SceneDataset
    from eradiff_lite.models.lite import build_lite_unet, build_scheduler
    from eradiff_lite.profiles import get_profile

    profile = get_profile("smoke")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        unet = build_lite_unet(profile)
    scenes = SceneDataset(SCENES, profile.image_size, split="train")
    batch = {k: torch.stack([scenes[i][k] for i in range(SCENES)]) for k in ("x_obj", "x_ori", "mask")}
    alphas_cumprod = build_scheduler(profile.num_train_timesteps).alphas_cumprod.float()
    noise = torch.randn(batch["x_obj"].shape, generator=torch.Generator().manual_seed(seed))
    return unet, batch, alphas_cumprod, torch.tensor(T_STEPS), torch.tensor(GAMMAS), noise


def _call(loss, unet, batch, alphas_cumprod, t, gamma, noise, sra, what: str):
    from eradiff_lite.train.step import step_loss

    try:
        return step_loss(unet, {k: v.clone() for k, v in batch.items()}, alphas_cumprod, t, gamma, noise.clone(),
                         loss, prediction_type="sample", sra=sra)
    except Exception as error:  # noqa: BLE001 - any error of the learner's loss is the check's answer
        raise SelfCheckError(f"{what} raised {type(error).__name__}: {error}") from None


def _answering(loss, answer, batch, alphas_cumprod, t, gamma, noise) -> float:
    """The loss of a model that always answers ``answer`` as its clean image (no weights, no gradient)."""
    from eradiff_lite.losses import Denoiser

    model = Denoiser(lambda x_t, steps: answer.clone().to(x_t.dtype), "sample")
    with torch.no_grad():
        value = loss(model, {k: v.clone() for k, v in batch.items()}, t, gamma, alphas_cumprod, noise.clone())
    return float(torch.as_tensor(value).float().mean())


def selfcheck(source: str | Path, same_as: str | None = None, *, echo=print) -> dict:
    """Check the variant file ``source`` (or a registered variant's name) on the toy batch; returns the values
    ``{"variant", "loss", "value", "grad_norm", "answer_target", "answer_other", "same_as"}`` or raises
    `SelfCheckError` at the first failure. ``echo`` prints each passed step (``None``: silent)."""
    from eradiff_lite.experiments.capstone import bar_loss_averaging
    from eradiff_lite.experiments.capstone_rules import check_variant, load_variant_file
    from eradiff_lite.losses import get_loss, loss_for

    say = echo or (lambda *_: None)
    try:
        variant, _ = load_variant_file(source)
        check_variant(variant)
        loss = loss_for(variant, **bar_loss_averaging())
    except Exception as error:  # noqa: BLE001 - what the capstone command would refuse
        raise SelfCheckError(f"{source}: {type(error).__name__}: {error}") from None
    say(f"ok: {source} registers variant {variant.name!r}, loss {loss.name!r} (target {loss.target!r})")
    unet, batch, alphas_cumprod, t, gamma, noise = toy_batch()
    sra = (unet, "eq10") if variant.sra_in_training else None
    draws = (alphas_cumprod, t, gamma, noise, sra)
    value = _call(loss, unet, batch, *draws, what=f"loss {loss.name!r}")

    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise SelfCheckError(f"loss {loss.name!r} returned {shape}, not one number: the loop needs one value for the "
                             f"whole batch (take the .mean() over the items)")
    if not value.is_floating_point() or not math.isfinite(float(value.detach())):
        raise SelfCheckError(f"loss {loss.name!r} returned {float(value.detach())!r} ({value.dtype}): it must be one "
                             f"finite floating-point number")
    say(f"ok: one finite number, {float(value.detach()):.6g} ({value.dtype})")

    if not value.requires_grad:
        raise SelfCheckError(f"loss {loss.name!r} has no gradient: it does not depend on the model's output "
                             f"(.detach(), .item(), torch.no_grad(), or computed from the batch alone)")
    unet.zero_grad(set_to_none=True)
    value.backward()
    grads = [p.grad.detach().flatten() for p in unet.parameters() if p.grad is not None]
    norm = float(torch.cat(grads).norm()) if grads else 0.0
    if not math.isfinite(norm) or norm == 0.0:
        raise SelfCheckError(f"loss {loss.name!r}: the gradient on the model's weights is {norm!r}: training would "
                             f"not move the model (or would fill it with NaN)")
    say(f"ok: a gradient reaches the model's weights (norm {norm:.3g})")

    kept = {k: v.clone() for k, v in batch.items()}
    from eradiff_lite.train.step import lite_denoiser

    with torch.no_grad():
        loss(lite_denoiser(unet, batch), batch, t, gamma, alphas_cumprod, noise.clone())
    changed = [k for k in kept if not torch.equal(kept[k], batch[k])]
    if changed:
        raise SelfCheckError(f"loss {loss.name!r} changed the batch it was given ({', '.join(changed)}): work on "
                             f"copies (x = batch['x_ori'] * 2, not batch['x_ori'] *= 2)")
    say("ok: the batch is left as it was given")

    again = _call(loss, unet, batch, *draws, what=f"loss {loss.name!r} (second call)")
    if not torch.equal(again.detach(), value.detach()):
        say(f"note: a second identical call gave {float(again.detach()):.6g}, not {float(value.detach()):.6g}: the "
            f"loss draws randomness of its own (use the `noise` it is given), so a run is not reproducible")

    target, other = ("x_ori", "x_obj") if loss.target == "background" else ("x_obj", "x_ori")
    good = _answering(loss, batch[target], batch, alphas_cumprod, t, gamma, noise)
    bad = _answering(loss, batch[other], batch, alphas_cumprod, t, gamma, noise)
    if not good < bad:
        raise SelfCheckError(f"loss {loss.name!r} (target {loss.target!r}): a model that always answers {target} "
                             f"scores {good:.6g}, one that always answers {other} {bad:.6g}; the loss must be lower "
                             f"for its own target, or training pulls the model toward "
                             f"{'the object' if other == 'x_obj' else 'the background'}")
    say(f"ok: a model answering {target} scores {good:.4g}, one answering {other} {bad:.4g} (higher)")

    reference = None
    if same_as:
        ref_loss = get_loss(same_as)
        reference = float(_call(ref_loss, unet, batch, *draws, what=f"the reference loss {same_as!r}").detach())
        mine = float(value.detach())
        if not math.isclose(mine, reference, rel_tol=1e-5, abs_tol=1e-8):
            raise SelfCheckError(f"loss {loss.name!r} gives {mine:.7g} on the toy batch, {same_as!r} gives "
                                 f"{reference:.7g}: they differ (if you changed the objective on purpose, set "
                                 f"SAME_AS = None in your file)")
        say(f"ok: equal to {same_as!r} on the same batch and draws ({reference:.7g})")
    return {"variant": variant.name, "loss": loss.name, "value": float(value.detach()), "grad_norm": norm,
            "answer_target": good, "answer_other": bad, "same_as": reference}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="selfcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", help="your variant file (assignments/capstone/my_variant.py or a copy)")
    parser.add_argument("--same-as", default=None, help="a registered loss yours must equal on the toy batch "
                                                        "(e.g. cro); 'None' or nothing: no comparison")
    args = parser.parse_args(argv)
    same_as = None if args.same_as in (None, "", "None") else args.same_as
    try:
        selfcheck(args.variant, same_as)
    except SelfCheckError as error:
        print(f"selfcheck failed: {error}", file=sys.stderr)
        return 1
    print("selfcheck passed: the loss runs on the toy batch; now the smoke run, then the official one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
