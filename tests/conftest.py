"""Shared test set-up: the smoke profile, and runs written to a temporary folder."""

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    # Also reaches the kernels that papermill and nbval start (they inherit the environment).
    os.environ.setdefault("ERADIFF_PROFILE", "smoke")
    os.environ["ERADIFF_RUNS"] = tempfile.mkdtemp(prefix="eradiff-test-runs-")
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
