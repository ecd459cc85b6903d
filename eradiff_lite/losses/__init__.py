"""Training objectives as registered objects, shared by the lite model and the Stable Diffusion LoRA.

Adding a loss is one file: subclass `Loss`, give it a ``name``, a ``target`` and the equation in its docstring,
write ``__call__(model, batch, t, gamma, alphas_cumprod, noise)`` and `register_loss` an instance; a variant that
trains with it is one `eradiff_lite.variants.register_variant` call beside it (see ``assignments/capstone``).
"""

from .base import LOSSES, TARGETS, Denoiser, Loss, get_loss, loss_for, register_loss, resolve_loss, unregister_loss
from .standard import CROLoss, DenoiseLoss

__all__ = ["CROLoss", "DenoiseLoss", "Denoiser", "LOSSES", "Loss", "TARGETS", "get_loss", "loss_for", "register_loss",
           "resolve_loss", "unregister_loss"]
