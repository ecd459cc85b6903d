"""Shared test fixtures (the environment is set in the repository's root conftest.py)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def smoke_pipe():
    """A lite pipeline with the smoke profile's fresh, untrained UNet (seeded): for tests of plumbing, not quality."""
    import torch

    from eradiff_lite.models.lite import build_lite_unet, build_scheduler
    from eradiff_lite.pipeline import EraseDiffusionPipeline
    from eradiff_lite.profiles import get_profile

    smoke = get_profile("smoke")
    torch.manual_seed(0)
    return EraseDiffusionPipeline(unet=build_lite_unet(smoke), scheduler=build_scheduler(smoke.num_train_timesteps))
