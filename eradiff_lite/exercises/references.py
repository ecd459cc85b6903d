"""The package's own version of each exercise: ``reference(name)`` shows its source, to compare after `check`.

`REFERENCES` is the one place that names, for every exercise of the registry, the package object its check grades
against, by its qualified name (module path, then the name inside the module). Where the check grades against
diffusers or peft, or against a helper of the checks, it names the package code that does the same job, and a
note says how that code differs from the exercise. The object is imported only when shown, so importing the
exercises loads none of them.
"""

from __future__ import annotations

import importlib
import inspect
import textwrap
from pathlib import Path

# exercise name -> (qualified name of the package's version, a note where it is not the same function)
REFERENCES: dict[str, tuple[str, str]] = {
    "paste": ("eradiff_lite.data.compose.paste", ""),
    "mask_from_alpha": ("eradiff_lite.data.compose.mask_from_alpha", ""),
    "composite": ("eradiff_lite.data.compose.make_triplet",
                  "make_triplet places a randomly scaled and turned cut-out, then does what your composite does: "
                  "paste, mask_from_alpha, x_obj reset to x_ori outside the mask."),
    "mixup_lambdas": ("eradiff_lite.schedule.mixup_lambdas", ""),
    "dynamic_image": ("eradiff_lite.schedule.dynamic_image", ""),
    "noisy_mix": ("eradiff_lite.schedule.noisy_mix", ""),
    "ddim_jump": ("eradiff_lite.cro.ddim_jump", ""),
    "eps_from_x0": ("eradiff_lite.targets.to_epsilon", "Your exercise is its prediction_type 'sample' branch."),
    "x0_kappa": ("eradiff_lite.cro.x0_optimum_terms",
                 "It takes alpha_bar and lambda at t and s (eradiff_lite.cro.x0_optimum reads them off the "
                 "schedule, with s < 0 as the clean image) and also returns the loss's weight."),
    "cro_loss": ("eradiff_lite.cro.cro_loss", ""),
    "unet_input": ("eradiff_lite.models.lite.unet_input",
                   "It takes the masked picture, made by eradiff_lite.models.lite.masked_image(x_obj, mask)."),
    "ddim_step": ("eradiff_lite.cro.ddim_jump",
                  "The check compares with diffusers' DDIMScheduler.step. The package writes the same step with "
                  "the noise: eps from x0_hat with eradiff_lite.targets.to_epsilon, then this jump from t to s."),
    "training_step": ("eradiff_lite.train.step.training_step", ""),
    "erase_loop": ("eradiff_lite.pipeline.sampling.erase_loop", ""),
    "masked_psnr": ("eradiff_lite.metrics.coherence.masked_psnr", ""),
    "discordant_pairs": ("eradiff_lite.metrics.paired.mcnemar",
                         "Its n_ab and n_ba are your two counts; it adds the exact test's p-value."),
    "elimination_judge": ("eradiff_lite.metrics.judge.judge", ""),
    "paired_bootstrap_ci": ("eradiff_lite.metrics.paired.paired_bootstrap", ""),
    "sra_processor": ("eradiff_lite.sra.processor.SelfRectifyingAttnProcessor",
                      "Eq. 10-11 for a mask of hole tokens is eradiff_lite.sra.processor.gathered_attention, "
                      "which this class calls."),
    "eq10": ("eradiff_lite.sra.layer_masks.sra_allowed", ""),
    "mask_at": ("eradiff_lite.sra.layer_masks.mask_at", ""),
    "lora_count": ("eradiff_lite.sd.lora.add_cro_lora",
                   "The check counts what peft adds; the package adds that adapter here and never counts by hand."),
    "latent_mask": ("eradiff_lite.sra.layer_masks.mask_at",
                    "The SD eraser (eradiff_lite.sd.removal) max-pools the pixel mask to the latent grid with it."),
    "sra_processor_sd": ("eradiff_lite.sra.processor.SelfRectifyingAttnProcessor",
                         "The same class as in notebook 04; eradiff_lite.sra.context.self_rectifying_attention "
                         "installs it on every attn1 layer of a UNet."),
    "texture_log2": ("eradiff_lite.metrics.texture.texture_log2",
                     "The energy of a hole's interior is eradiff_lite.metrics.texture.texture_energy."),
    "hole_mean_loss": ("eradiff_lite.cro.region_loss", ""),
}


def reference_name(name: str) -> str:
    """The qualified name of exercise ``name``'s reference in the package."""
    if name not in REFERENCES:
        raise KeyError(f"no exercise {name!r}: choose one of {', '.join(REFERENCES)}")
    return REFERENCES[name][0]


def reference_object(name: str):
    """The package's function or class that exercise ``name`` is compared with (imported now)."""
    module, _, attribute = reference_name(name).rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None  # a Jupyter kernel, not a terminal IPython


def reference(name: str) -> str | None:
    """Show the source of the package's version of exercise ``name``, under its qualified name and file: a
    highlighted code block in a notebook (returning None, so the cell shows it once), plain text elsewhere (returning
    the source)."""
    qualified, note = reference_name(name), REFERENCES[name][1]
    obj = inspect.unwrap(reference_object(name))  # a decorated function's own lines and file
    code = inspect.getsource(obj)
    lines, first = inspect.getsourcelines(obj)
    root = Path(importlib.import_module("eradiff_lite").__file__).parents[1]
    where = f"{Path(inspect.getsourcefile(obj)).relative_to(root).as_posix()}, lines {first}-{first + len(lines) - 1}"
    if in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(f"The package's version of `{name}`: `{qualified}` ({where}). {note}\n\n```python\n{code}```"))
        return None
    else:
        print(textwrap.fill(f"The package's version of {name!r}: {qualified} ({where}). {note}", 110), code,
              sep="\n\n", end="")
    return code
