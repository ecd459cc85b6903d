"""``with self_rectifying_attention(unet, mask):`` - SRA on a UNet's self-attention layers, then restored.

The paper does not say which layers or timesteps use SRA, so both are choices: ``layers`` (names or name
prefixes from `self_attention_layers`) and ``timesteps`` (an inclusive range). The timestep reaches the
layers through a forward pre-hook on the UNet that reads its ``(sample, timestep)`` arguments and hands
them to the shared `SRAState` before any attention runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import torch
from diffusers.models.attention_processor import Attention

from .processor import SelfRectifyingAttnProcessor, SRAState


def self_attention_layers(unet: torch.nn.Module) -> dict[str, Attention]:
    """Every self-attention module of a diffusers UNet by name (cross-attention ``attn2`` excluded), in the
    order the UNet runs them: down blocks, mid block, up blocks.

    ``UNet2DModel``: the attention blocks (``down_blocks.1.attentions.0``, ``mid_block.attentions.0``, ...);
    ``UNet2DConditionModel``: ``attn1`` of each transformer block.
    """
    if not isinstance(unet, torch.nn.Module):
        raise TypeError(f"expected a diffusers UNet (torch.nn.Module), got {type(unet).__name__}")
    found = [(name, module) for name, module in unet.named_modules()
             if isinstance(module, Attention) and not module.is_cross_attention]
    stage = {"down_blocks": 0, "mid_block": 1, "up_blocks": 2}
    return dict(sorted(found, key=lambda item: stage.get(item[0].split(".")[0], 3)))  # stable within a stage


def short_layer_name(name: str) -> str:
    """A self-attention layer's name as the notebooks' figures print it: ``"unet.down_blocks.1.attentions.0"`` ->
    ``"down 1.0"``, ``"mid_block.attentions.0"`` -> ``"mid.0"``."""
    return name.removeprefix("unet.").replace("_blocks.", " ").replace("_block", "").replace(".attentions.", ".")


def select_layers(unet: torch.nn.Module, layers: Sequence[str] | None = None) -> dict[str, Attention]:
    """The self-attention layers named in ``layers`` (a name selects itself and everything under it)."""
    found = self_attention_layers(unet)
    if not found:
        raise ValueError(f"{type(unet).__name__} has no self-attention layer to rectify")
    if layers is None:
        return found
    if isinstance(layers, str):
        layers = [layers]
    chosen = {}
    for wanted in layers:
        prefix = wanted.removesuffix(".processor")
        hits = {n: m for n, m in found.items() if n == prefix or n.startswith(prefix + ".")}
        if not hits:
            raise ValueError(f"no self-attention layer named {wanted!r}; choose among {sorted(found)}")
        chosen.update(hits)
    return chosen


def unet_sample_and_timestep(args: tuple, kwargs: dict):
    """``(sample, timestep)`` from the positional/keyword arguments of a diffusers UNet forward."""
    sample = args[0] if args else kwargs.get("sample")
    timestep = args[1] if len(args) > 1 else kwargs.get("timestep")
    if not isinstance(sample, torch.Tensor):
        raise TypeError("the UNet was called without a `sample` tensor")
    return sample, timestep


@contextmanager
def self_rectifying_attention(unet: torch.nn.Module, mask, rule: str = "eq10",
                              layers: Sequence[str] | None = None, timesteps: tuple[int, int] | None = None,
                              processor=SelfRectifyingAttnProcessor):
    """Rectify the self-attention of ``unet`` with erase ``mask`` [B, 1, H, W] (1 = erase) inside the block; or
    with `EraseMask`s (one, or a list: one per image), taken as they are.

    ``rule``: ``"eq10"`` (the paper) or ``"keys"`` (Attentive Eraser); ``layers``: names or prefixes
    (default all self-attention); ``timesteps``: inclusive ``(low, high)`` range (default all); ``processor``:
    the class put on each chosen layer as ``processor(state, original_processor)`` (default the package's
    `SelfRectifyingAttnProcessor`; a learner's ``MySRAProcessor`` takes the same arguments). The original
    processors are put back on exit, also after an exception. Yields the shared `SRAState`.
    """
    chosen = select_layers(unet, layers)
    state = SRAState(mask, rule=rule, timesteps=timesteps)
    originals = {name: module.processor for name, module in chosen.items()}

    def before_forward(module, args, kwargs):
        state.begin(*unet_sample_and_timestep(args, kwargs))

    handle = unet.register_forward_pre_hook(before_forward, with_kwargs=True)
    try:
        for name, module in chosen.items():
            module.set_processor(processor(state, originals[name]))
        yield state
    finally:
        handle.remove()
        for name, module in chosen.items():
            module.set_processor(originals[name])
