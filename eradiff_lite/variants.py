"""The variants of the ablation, as plain data: the one registry that training, erasing and evaluation read.

A variant says which loss trains it (a name of the loss registry, `eradiff_lite.losses`), toward which target,
whether it starts from the baseline, and where Self-Rectifying Attention is on. ``sra`` trains nothing: it is the
baseline's weights erasing with SRA. A new variant is `register_variant` (beside its loss, in one file);
``TRAINED_VARIANTS`` and ``ABLATION_ORDER`` stay the ablation's own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One row of the ablation."""

    name: str
    loss: str  # a registered loss (eradiff_lite.losses): "denoise" (the standard loss on the target) or "cro"
    target: str  # "image" (reconstruct what is under a random mask) or "background" (x_ori under the object)
    from_baseline: bool  # fine-tuned from the baseline checkpoint (else trained from scratch)
    trains: bool = True  # False: the baseline's weights, changed only at inference
    sra_in_training: bool = False
    sra_at_inference: bool = False
    constant_lambda: float | None = None  # CRO with lambda_t = constant (the "without mix-up" ablation)
    about: str = ""


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("baseline", "denoise", "image", False,
            about="a general inpainter like SD2-Inpaint: random masks, reconstruct the image itself"),
    Variant("baseline_ft", "denoise", "image", True,
            about="control: the baseline's own objective continued for the fine-tunes' steps (extra training only)"),
    Variant("paired", "denoise", "background", True,
            about="the standard loss on the pairs: x_obj as condition, the clean background x_ori as target"),
    Variant("cro", "cro", "background", True, about="Chain-Rectifying Optimization (Eq. 6-9)"),
    Variant("cro_zero", "cro", "background", True, constant_lambda=0.0,
            about="control: CRO's jump and c^2 weighting toward x_ori with lambda = 0 (no pathway in target or input)"),
    Variant("sra", "denoise", "image", True, trains=False, sra_at_inference=True,
            about="the baseline's weights with Self-Rectifying Attention switched on when erasing"),
    Variant("cro_sra", "cro", "background", True, sra_in_training=True, sra_at_inference=True,
            about="EraDiff: CRO fine-tune with SRA on in training and when erasing"),
    Variant("cro_const", "cro", "background", True, constant_lambda=0.5,
            about="CRO with a constant lambda = 0.5 (the paper's 'without mix-up' row, which diverged)"),
)}
TRAINED_VARIANTS = tuple(name for name, v in VARIANTS.items() if v.trains)


def register_variant(variant: Variant, *, replace: bool = False) -> Variant:
    """Add ``variant`` to `VARIANTS` (returns it); ``replace=False`` refuses a name already taken."""
    if not isinstance(variant, Variant):
        raise TypeError(f"register a Variant, got {type(variant).__name__}")
    if variant.name in REFERENCES or variant.name in ABLATION_ORDER:
        raise ValueError(f"{variant.name!r} names a reference fill or one of the ablation's variants: choose another "
                         f"name")
    if variant.name in VARIANTS and not replace:
        raise ValueError(f"a variant named {variant.name!r} exists already: choose another name, or replace=True")
    VARIANTS[variant.name] = variant
    return variant


def unregister_variant(name: str) -> None:
    """Remove a variant added by `register_variant` (the ablation's own cannot be removed)."""
    if name in ABLATION_ORDER:
        raise ValueError(f"{name!r} is one of the ablation's variants and stays")
    VARIANTS.pop(name, None)


def get_variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}: choose one of {', '.join(VARIANTS)}")
    return VARIANTS[name]
CLASSICAL = "classical"  # biharmonic inpainting
# the reference rows of every table: no model, no seed ("shifted": the truth moved 3 px, metrics.fill.shifted_truth)
REFERENCES = (CLASSICAL, "telea", "flat", "shifted", "untouched")
ABLATION_ORDER = ("baseline", "baseline_ft", "paired", "cro_zero", "cro", "sra", "cro_sra", "cro_const")  # table rows
