"""What a loss is, and the registry of losses by name (the one door a new training objective goes through).

A loss is one object: its name, the ``target`` it teaches (``"image"``: rebuild the picture ``x_obj`` under a
random mask; ``"background"``: paint ``x_ori`` under the pasted object), its ``weighting`` in words, the batch keys
it ``needs``, and the equation in its docstring. It is called the same way by every training path:

    loss(model, batch, t, gamma, alphas_cumprod, noise) -> float32 scalar

- ``model`` is a `Denoiser`: ``model(x_t, t)`` is the network's raw output with the conditioning (mask, masked
  picture, text) closed over, ``model.eps(...)`` / ``model.x0(...)`` the same answer as a noise or a clean-image
  estimate (`targets.to_epsilon`, `targets.to_sample`);
- ``batch`` holds ``x_obj``, ``x_ori`` (pixels for the lite model, latents for Stable Diffusion) and ``mask``;
- ``t``, ``gamma``: LongTensors ``[B]`` (``s = t - gamma`` may be < 0), ``noise``: one ``eps`` of the images'
  shape, all drawn by the caller (`train.step.draw_step`, the SD LoRA loop) so that a run is reproducible.

The lite loop (`train.loop`), the plain step (`train.step.training_step`) and the Stable Diffusion LoRA
(`sd.cro_lora.train_cro_lora`) all look a loss up here. A variant (`eradiff_lite.variants`) names its loss by
``Variant.loss``; `loss_for` sets the options the variant or the run chooses (``target``, ``constant_lambda``,
``snr_gamma``, ``loss_weighting``) on the losses that declare them in ``options``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from ..schedule import per_item
from ..targets import to_epsilon, to_sample
from ..variants import Variant

TARGETS = ("image", "background")


@dataclass(frozen=True)
class Denoiser:
    """The network as a loss sees it: ``fn(x_t, t)`` gives its raw output in ``prediction_type``
    (``"sample"``: x0, ``"epsilon"``, ``"v_prediction"``), the conditioning closed over."""

    fn: Callable[[Tensor, Tensor], Tensor]
    prediction_type: str = "sample"

    def __call__(self, x_t: Tensor, t: Tensor) -> Tensor:
        return self.fn(x_t, t)

    def eps(self, x_t: Tensor, t: Tensor, alphas_cumprod: Tensor) -> Tensor:
        """The noise estimate ``e`` implied by the output (float32)."""
        return to_epsilon(self.fn(x_t, t).float(), x_t, per_item(alphas_cumprod[t], x_t), self.prediction_type)

    def x0(self, x_t: Tensor, t: Tensor, alphas_cumprod: Tensor) -> Tensor:
        """The clean-image estimate ``x0_hat`` implied by the output (float32)."""
        return to_sample(self.fn(x_t, t).float(), x_t, per_item(alphas_cumprod[t], x_t), self.prediction_type)


class Loss:
    """Base of a training objective: subclass it, set the class attributes, write `__call__` (equation in the
    docstring), and `register_loss` an instance. Options are plain attributes a variant or run may set."""

    name: str = ""
    target: str = "background"  # "image" | "background": what the model learns to paint in the hole
    needs: tuple[str, ...] = ("x_obj", "x_ori", "mask")  # batch keys the loss reads
    weighting: str = "none"  # how the per-item errors are weighted, in words
    options: tuple[str, ...] = ()  # attributes `configured` may set (a variant's or a run's choice)

    def __call__(self, model: Denoiser, batch: dict[str, Tensor], t: Tensor, gamma: Tensor,
                 alphas_cumprod: Tensor, noise: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(model, batch, t, gamma, "
                                  f"alphas_cumprod, noise)")

    def configured(self, **values) -> Loss:
        """A copy with the given options set; ``None`` leaves an option as it is; an option the loss does not
        declare raises ``ValueError``."""
        unknown = sorted(k for k, v in values.items() if v is not None and k not in self.options)
        if unknown:
            raise ValueError(f"loss {self.name!r} takes no option {unknown} (its options: {list(self.options)})")
        loss = copy.copy(self)
        for key, value in values.items():
            if value is not None:
                setattr(loss, key, value)
        return loss

    def describe(self) -> dict:
        """Name, target, weighting, needs and the options' values: what a model card or a table records."""
        return {"name": self.name, "target": self.target, "weighting": self.weighting, "needs": list(self.needs),
                **{k: getattr(self, k) for k in self.options if k != "target"}}

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.options)
        return f"{type(self).__name__}({options})" if options else f"{type(self).__name__}()"


LOSSES: dict[str, Loss] = {}


def register_loss(loss: Loss, *, replace: bool = False) -> Loss:
    """Add ``loss`` under ``loss.name`` (returns it). ``replace=False`` refuses a name already taken."""
    if not isinstance(loss, Loss) or not loss.name:
        raise TypeError(f"register a Loss instance with a name, got {loss!r}")
    if loss.target not in TARGETS:
        raise ValueError(f"loss {loss.name!r}: target must be one of {TARGETS}, got {loss.target!r}")
    missing = [k for k in loss.needs if k not in ("x_obj", "x_ori", "mask")]
    if missing:
        raise ValueError(f"loss {loss.name!r} needs {missing}: a training batch holds x_obj, x_ori and mask")
    if loss.name in LOSSES and not replace:
        raise ValueError(f"a loss named {loss.name!r} is registered already ({LOSSES[loss.name]!r}): choose "
                         f"another name, or pass replace=True")
    LOSSES[loss.name] = loss
    return loss


def unregister_loss(name: str) -> None:
    """Remove a registered loss (tests, notebooks that try a loss out); a missing name is no error."""
    LOSSES.pop(name, None)


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: choose one of {', '.join(LOSSES)} or register_loss your own")
    return LOSSES[name]


def loss_for(spec: Variant, **run_options) -> Loss:
    """The loss of variant ``spec`` with its options set: its ``target`` (where the loss takes it as an option;
    a loss with a fixed target must match the variant's), its ``constant_lambda``, and the run's
    ``run_options`` (``snr_gamma``, ``loss_weighting``) where the loss declares them (others are ignored, as a
    CRO run ignores a weighting of the standard loss)."""
    loss = get_loss(spec.loss)
    if "target" not in loss.options and loss.target != spec.target:
        raise ValueError(f"variant {spec.name!r} trains toward {spec.target!r} but its loss {loss.name!r} toward "
                         f"{loss.target!r}")
    chosen = {"target": spec.target if "target" in loss.options else None, "constant_lambda": spec.constant_lambda}
    chosen.update({k: v for k, v in run_options.items() if k in loss.options})
    return loss.configured(**chosen)


def resolve_loss(loss: str | Loss) -> Loss:
    """A `Loss` as given, or by name: a variant's (`loss_for`, e.g. ``"paired"``) or a registered loss's."""
    if isinstance(loss, Loss):
        return loss
    from ..variants import VARIANTS

    if loss in VARIANTS:
        return loss_for(VARIANTS[loss])
    if loss in LOSSES:
        return LOSSES[loss]
    raise ValueError(f"loss must be a Loss, a variant ({', '.join(VARIANTS)}) or a registered loss "
                     f"({', '.join(LOSSES)}), got {loss!r}")
