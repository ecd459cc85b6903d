"""The build exercise `sra_processor_sd` (notebook 07): the learner's SRA processor of notebook 04 on Stable
Diffusion's UNet.

The answer is the same class as `sra_build` (``MySRAProcessor(state, fallback)``, Eq. 10-11); here it has to work
inside a ``UNet2DConditionModel``: tokens ``[B, N, C]`` whose grid comes from the latent size, self-attention
(``attn1``) beside cross-attention (``attn2``, keys from the text), classifier-free guidance's doubled batch.
`grade_sra_processor_sd` builds a tiny UNet from the shapes of the course's tiny SD2-Inpaint (`sd.model.TINY_UNET`),
installs the answer with ``unet.set_attn_processor`` on every ``attn1`` and compares the UNet's output with the
package's `SelfRectifyingAttnProcessor` there; where they differ it finds the first layer that differs and names
its symptom (`sra_build._diagnose`). Then it hands the answer the cross-attention layers too: those must come
out unchanged.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import torch

from . import sra_build
from .check import NotYet

PASTE = "# paste your MySRAProcessor class from notebook 04 here, in place of this first guess\n"
TASK = ("Reuse `MySRAProcessor(state, fallback)` from notebook 04 (exercise sra_processor) on Stable Diffusion's "
        "UNet2DConditionModel: installed with unet.set_attn_processor on every self-attention layer (attn1: tokens "
        "[B, N, C] on the latent grid), it applies Eq. 10-11 there, also to classifier-free guidance's doubled "
        "batch; a cross-attention call (attn2, encoder_hidden_states = the text) goes to the layer's own processor "
        "unchanged.")
SOLUTION = sra_build.SOLUTION
STUB = PASTE + sra_build.STUB
HINTS = ("The same three lines as in notebook 04. What changes on SD's UNet: its layers see tokens [B, N, C], so "
         "the grid h x w comes from the number of tokens and the latent size (layer_grid); the mask is given at the "
         "latent size, max-pooled to each grid; the text enters through cross-attention layers (attn2) whose keys "
         "are not picture tokens: SRA has no business there.",
         sra_build.HINTS[1] + " Cross-attention (encoder_hidden_states given): return fallback(...) untouched.")
LATENT = 16  # the tiny UNet's input is 16 x 16: attention at 16 x 16 (down, up) and 8 x 8 (mid)


def tiny_unet():
    """A ``UNet2DConditionModel`` with the course's tiny SD2-Inpaint shapes and fixed random weights."""
    from diffusers import UNet2DConditionModel

    from ..sd.model import TINY_UNET

    with torch.random.fork_rng():
        torch.manual_seed(4)
        return UNet2DConditionModel(sample_size=LATENT, **TINY_UNET).eval()


@contextmanager
def installed(unet, processor_class, mask: torch.Tensor, layers: str = ".attn1."):
    """``processor_class(state, original)`` on the attention layers whose processor name contains ``layers``
    (``".attn1."``: self-attention; ``".attn"``: every layer), with the timestep hook; restored on exit."""
    from ..sra import SRAState
    from ..sra.context import unet_sample_and_timestep

    state, originals = SRAState(mask), unet.attn_processors
    hook = unet.register_forward_pre_hook(
        lambda module, args, kwargs: state.begin(*unet_sample_and_timestep(args, kwargs)), with_kwargs=True)
    try:
        unet.set_attn_processor({name: processor_class(state, p) if layers in name else p
                                 for name, p in originals.items()})
        yield state
    finally:
        hook.remove()
        unet.set_attn_processor(originals)


def _forward(unet, processor_class, mask, sample, text, layers=".attn1."):
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the reference warns where a hole covers a whole grid
        if processor_class is None:
            return unet(sample, 500, text).sample
        with installed(unet, processor_class, mask, layers):
            return unet(sample, 500, text).sample


def _inputs():
    g = torch.Generator().manual_seed(7)
    mask = torch.zeros(2, 1, LATENT, LATENT)
    mask[0, 0, 3:9, 5] = 1  # a one-pixel stroke: at 8 x 8 it covers half of each cell it crosses
    mask[1, 0, 9:15, 2:7] = 1  # a block low on the left
    dots = torch.zeros(1, 1, LATENT, LATENT)
    dots[..., ::2, ::2] = 1  # one dot per 2 x 2 cell: a quarter of the 16 x 16 tokens, every 8 x 8 token
    sample = torch.randn(4, 9, LATENT, LATENT, generator=g)
    text = torch.randn(4, 5, 32, generator=g)
    return [("with 2 latents (a one-pixel stroke, a block)", mask, sample[:2], text[:2]),
            ("with classifier-free guidance's doubled batch (4 latents, 2 masks)", mask, sample, text),
            ("with a hole of dots that covers every token of the 8 x 8 grid", dots, sample[:1], text[:1])]


def _layer_inputs(unet, mask, sample, text) -> dict:
    """The hidden states each ``attn1`` receives in the reference run, by layer name."""
    from ..sra import SelfRectifyingAttnProcessor

    seen, hooks = {}, []

    def keep(name, args, kwargs) -> None:
        seen.setdefault(name, (args[0] if args else kwargs["hidden_states"]).detach().clone())

    for name, module in unet.named_modules():
        if name.endswith(".attn1"):
            hooks.append(module.register_forward_pre_hook(
                lambda m, args, kwargs, name=name: keep(name, args, kwargs), with_kwargs=True))
    try:
        _forward(unet, SelfRectifyingAttnProcessor, mask, sample, text)
    finally:
        for h in hooks:
            h.remove()
    return seen


def _first_layer(answer, unet, mask, sample, text, where: str) -> None:
    """Name the symptom of the first ``attn1`` layer whose output differs from the reference's."""
    from ..sra import SelfRectifyingAttnProcessor as Ref
    from ..sra import layer_grid

    modules = dict(unet.named_modules())
    for name, hidden in _layer_inputs(unet, mask, sample, text).items():
        attn, hw = modules[name], layer_grid(hidden.shape[1], (LATENT, LATENT))
        want = sra_build._run(Ref, attn, mask, hidden, (LATENT, LATENT))
        try:
            got = sra_build._run(answer, attn, mask, hidden, (LATENT, LATENT))
        except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
            raise NotYet(f"on SD's UNet, {where}, your processor raised {type(error).__name__} at {name} "
                         f"({hw[0]} x {hw[1]} tokens): {error}") from None
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise NotYet(f"on SD's UNet at {name}, return the layer's output, a tensor of shape {tuple(want.shape)} "
                         f"like its input; got {getattr(got, 'shape', type(got).__name__)}")
        if not torch.isclose(got, want, rtol=1e-4, atol=1e-5).all():
            sra_build._diagnose(got, want, mask, hidden, attn, f"on SD's UNet, {where}, at {name} ({hw[0]} x {hw[1]} "
                                                               f"tokens of the {LATENT} x {LATENT} latent)")
    raise NotYet(f"on SD's UNet, {where}, every self-attention layer agrees with the reference on its own, but the "
                 f"UNet's output does not: does your processor keep something from one call to the next?")


def grade_sra_processor_sd(answer) -> None:
    """The answer on every ``attn1`` of a tiny SD UNet (2 latents, classifier-free guidance's 4, a hole that fills
    the coarse grid), then also on every ``attn2`` (cross-attention must come out unchanged)."""
    from ..sra import SelfRectifyingAttnProcessor as Ref

    if not isinstance(answer, type):
        raise NotYet(f"hand in the class itself (MySRAProcessor), got {type(answer).__name__}")
    unet = tiny_unet()
    cases = _inputs()
    for where, mask, sample, text in cases:
        want = _forward(unet, Ref, mask, sample, text)
        try:
            got = _forward(unet, answer, mask, sample, text)
        except Exception:  # noqa: BLE001 - the layer-by-layer run below names the layer and the error
            got = None
        if got is None or not torch.allclose(got, want, rtol=1e-4, atol=1e-4):
            _first_layer(answer, unet, mask, sample, text, where)
    _, mask, sample, text = cases[0]
    want = _forward(unet, Ref, mask, sample, text)
    try:
        got = _forward(unet, answer, mask, sample, text, layers=".attn")
    except Exception as error:  # noqa: BLE001
        raise NotYet(f"on SD's UNet with your class also on the cross-attention layers (attn2, keys from the text), "
                     f"a cross-attention call raised {type(error).__name__}: {error}") from None
    if not torch.allclose(got, want, rtol=1e-4, atol=1e-4):
        raise NotYet(f"on SD's UNet, your class is right on self-attention, but with it also on the cross-attention "
                     f"layers (attn2: picture queries, text keys) the UNet's output changes by up to "
                     f"{(got - want).abs().max():.2g}: cross-attention must reach the layer's own processor "
                     f"unchanged")
