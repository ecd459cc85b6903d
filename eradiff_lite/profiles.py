"""Profiles: one place decides how big everything is.

`ERADIFF_PROFILE` picks one of

- ``smoke``: seconds per notebook on a 2-core CPU; the tests and CI use it. It proves the code runs.
- ``cpu``: a laptop CPU; the whole course in about half an hour, still showing the effect.
- ``gpu``: a small GPU (T4 class, 16 GB); the reference results.

Unset, it is ``gpu`` when CUDA is available, else ``cpu``. A notebook reads its profile in the cell
tagged ``parameters``; papermill's ``-p`` overrides any single value.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

PROFILE_NAMES = ("smoke", "cpu", "gpu")


@dataclass(frozen=True)
class Profile:
    """Sizes of everything, as plain data."""

    name: str
    image_size: int  # side of the square training/eval images (pixels)
    # data synthesis
    preview_scenes: int  # scenes drawn in grids
    dataset_scenes: int  # scenes a notebook saves or trains on per epoch
    matting_max_side: int  # the classical matting runs at most at this resolution
    # diffusion
    num_train_timesteps: int  # T
    gamma_max: int  # CRO's largest jump (100 for T = 1000)
    sample_steps: int  # DDIM steps when erasing
    # the lite UNet
    space_to_depth: int  # the stem: pixel-unshuffle by this factor in, pixel-shuffle out (1 = none)
    unet_channels: tuple[int, ...]
    unet_layers_per_block: int
    unet_attention_levels: tuple[bool, ...]  # which resolution levels carry self-attention
    # training
    batch_size: int
    base_steps: int  # steps of the baseline inpainter
    finetune_steps: int  # steps of each variant fine-tuned from the baseline
    learning_rate: float  # AdamW, constant after a linear warm-up (the baseline from scratch)
    finetune_learning_rate: float  # the variants fine-tuned from the baseline
    checkpoint_every: int
    # evaluation
    eval_scenes: int
    eval_seeds: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", image_size=32, preview_scenes=8, dataset_scenes=16, matting_max_side=96,
        num_train_timesteps=1000, gamma_max=100, sample_steps=4, space_to_depth=2,
        unet_channels=(16, 32), unet_layers_per_block=1, unet_attention_levels=(False, True),
        batch_size=4, base_steps=4, finetune_steps=2, learning_rate=1e-3, finetune_learning_rate=3e-4,
        checkpoint_every=2, eval_scenes=6, eval_seeds=1,
    ),
    # The reference model (docs/recipe_study.md): 64 px through a 2x space-to-depth stem (the UNet runs at
    # 32 x 32), 1.9 M parameters, fresh scenes every step. cpu and gpu train the same recipe: 6000 x 32 images
    # for the baseline (about 2 h of one 2-core-EPYC thread at 27 images/s), 1000 steps per fine-tune.
    "cpu": Profile(
        name="cpu", image_size=64, preview_scenes=16, dataset_scenes=256, matting_max_side=240,
        num_train_timesteps=1000, gamma_max=100, sample_steps=25, space_to_depth=2,
        unet_channels=(32, 64, 96), unet_layers_per_block=1, unet_attention_levels=(False, True, True),
        batch_size=32, base_steps=6000, finetune_steps=1000, learning_rate=1e-3, finetune_learning_rate=3e-4,
        checkpoint_every=500, eval_scenes=256, eval_seeds=3,
    ),
    "gpu": Profile(
        name="gpu", image_size=64, preview_scenes=16, dataset_scenes=2048, matting_max_side=400,
        num_train_timesteps=1000, gamma_max=100, sample_steps=25, space_to_depth=2,
        unet_channels=(32, 64, 96), unet_layers_per_block=1, unet_attention_levels=(False, True, True),
        batch_size=32, base_steps=6000, finetune_steps=1000, learning_rate=1e-3, finetune_learning_rate=3e-4,
        checkpoint_every=500, eval_scenes=512, eval_seeds=3,
    ),
}


def default_profile_name() -> str:
    """``ERADIFF_PROFILE`` if set, else ``gpu`` with CUDA, else ``cpu``."""
    name = os.environ.get("ERADIFF_PROFILE", "").strip().lower()
    if name:
        return name
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def get_profile(name: str | None = None, **overrides) -> Profile:
    """The named profile (default: `default_profile_name()`), with any field overridden."""
    name = (name or default_profile_name()).lower()
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(PROFILE_NAMES)} "
                         f"(set ERADIFF_PROFILE or pass profile=...)")
    profile = PROFILES[name]
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Profile)}
    if unknown:
        raise ValueError(f"unknown profile field(s) {sorted(unknown)}")
    return dataclasses.replace(profile, **overrides) if overrides else profile


def describe_device() -> str:
    """The device the course runs on, in words (for summaries and tables)."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu ({os.cpu_count()} cores, torch {torch.__version__})"


def peak_memory(device) -> tuple[float, str]:
    """(megabytes, what was measured): peak CUDA memory allocated on a GPU, else the process's peak RSS."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "peak CUDA memory allocated"
    try:
        import resource
    except ImportError:  # Windows
        return float("nan"), "process memory (not measured on this OS)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "peak RSS of the process"
