"""What a training run is, as plain data: the variants of the ablation and a `TrainConfig`.

Every variant trains on the same scenes, with the same batch size, seeds and number of steps; only the
loss, the target and the attention differ. Fine-tuned variants start from the baseline checkpoint, as
the paper fine-tunes SD2-Inpaint (Sec. 5.1).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..models.lite import RECIPE
from ..profiles import Profile, get_profile


@dataclass(frozen=True)
class Variant:
    """One row of the ablation."""

    name: str
    loss: str  # "denoise" (the standard diffusion loss on the recipe's target) or "cro"
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
            about="control: CRO's jump and c^2 weighting toward x_ori with lambda = 0 (no fading path)"),
    Variant("sra", "denoise", "image", True, trains=False, sra_at_inference=True,
            about="the baseline's weights with Self-Rectifying Attention switched on when erasing"),
    Variant("cro_sra", "cro", "background", True, sra_in_training=True, sra_at_inference=True,
            about="EraDiff: CRO fine-tune with SRA on in training and when erasing"),
    Variant("cro_const", "cro", "background", True, constant_lambda=0.5,
            about="CRO with a constant lambda = 0.5 (the paper's 'without mix-up' row, which diverged)"),
)}
TRAINED_VARIANTS = tuple(name for name, v in VARIANTS.items() if v.trains)


def get_variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}: choose one of {', '.join(VARIANTS)}")
    return VARIANTS[name]


@dataclass
class TrainConfig:
    """All hyper-parameters of one run (saved as ``train_config.json`` beside its checkpoints)."""

    variant: str
    profile: dict  # `Profile.to_dict()`: the model's and the data's sizes
    steps: int
    batch_size: int
    learning_rate: float
    checkpoint_every: int
    train_scenes: int  # procedural training scenes held in memory (split "train", seeds 0..n-1)
    seed: int = 0
    # the diffusion recipe (defaults: models.lite.RECIPE and the study in docs/recipe_study.md)
    prediction_type: str = RECIPE["prediction_type"]  # "sample" (x0) | "v_prediction" | "epsilon"
    beta_schedule: str = RECIPE["beta_schedule"]  # "squaredcos_cap_v2" (cosine) | "linear" | "scaled_linear"
    rescale_betas_zero_snr: bool = RECIPE["rescale_betas_zero_snr"]
    snr_gamma: float | None = None  # min-SNR-gamma weighting of the standard loss (None: unweighted, the recipe)
    fresh_scenes: bool = True  # new procedural scenes every step (False: a fixed pool of train_scenes)
    lr_schedule: str = "constant_with_warmup"  # a diffusers.optimization schedule name
    warmup_steps: int = 50
    max_grad_norm: float = 1.0
    adam_weight_decay: float = 1e-2
    ema_max_decay: float = 0.999  # EMA with warm-up: decay_k = min(max, 1 - (1 + k) ** -ema_power)
    ema_power: float = 2 / 3
    sra_rule: str = "eq10"
    mixed_precision: str = "no"  # "no" | "fp16" | "bf16" (accelerate)
    keep_checkpoints: int = 2
    notes: dict = field(default_factory=dict)

    @property
    def model_profile(self) -> Profile:
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in self.profile.items()}
        return Profile(**fields)

    @property
    def spec(self) -> Variant:
        return get_variant(self.variant)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def scheduler_settings(self) -> dict:
        """The settings of the run's DDIM scheduler (`models.lite.build_scheduler`)."""
        return {**RECIPE, "prediction_type": self.prediction_type, "beta_schedule": self.beta_schedule,
                "rescale_betas_zero_snr": self.rescale_betas_zero_snr}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls(**json.loads(Path(path).read_text()))


def make_config(variant: str, profile: str | Profile | None = None, *, steps: int | None = None,
                **overrides) -> TrainConfig:
    """The config of ``variant`` sized by ``profile``: base_steps from scratch, finetune_steps from the baseline."""
    spec = get_variant(variant)
    if not spec.trains:
        raise ValueError(f"variant {variant!r} is not trained: it is the baseline checkpoint used with SRA on "
                         f"(erase with --sra); train 'baseline' instead")
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    default_steps = prof.finetune_steps if spec.from_baseline else prof.base_steps
    lr = prof.finetune_learning_rate if spec.from_baseline else prof.learning_rate
    cfg = TrainConfig(variant=variant, profile=prof.to_dict(), steps=int(steps or default_steps),
                      batch_size=prof.batch_size, learning_rate=lr,
                      checkpoint_every=prof.checkpoint_every, train_scenes=min(8 * prof.dataset_scenes, 4096),
                      warmup_steps=min(200, max(1, (steps or default_steps) // 10)))
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise ValueError(f"unknown training option(s) {sorted(unknown)}")
    cfg = dataclasses.replace(cfg, **overrides)
    if cfg.steps < 1 or cfg.batch_size < 1 or cfg.checkpoint_every < 1:
        raise ValueError(f"steps, batch_size and checkpoint_every must be >= 1, got {cfg.steps}, {cfg.batch_size}, "
                         f"{cfg.checkpoint_every}")
    return cfg
