"""Shared test fixtures (the environment is set in the repository's root conftest.py)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
