"""Test-wide set-up (also for nbval on notebooks/): the smoke profile, runs in a temporary folder."""

import os
import tempfile


def pytest_configure(config):
    # The kernels that papermill and nbval start inherit this environment.
    os.environ.setdefault("ERADIFF_PROFILE", "smoke")
    os.environ["ERADIFF_RUNS"] = tempfile.mkdtemp(prefix="eradiff-test-runs-")
