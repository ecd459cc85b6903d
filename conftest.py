"""Test-wide set-up (also for nbval on notebooks/): the smoke profile, runs in a temporary folder."""

import os
import tempfile


def pytest_configure(config):
    # The kernels that papermill and nbval start inherit this environment.
    os.environ.setdefault("ERADIFF_PROFILE", "smoke")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # notebook kernels share two cores with the test workers
    os.environ["ERADIFF_RUNS"] = tempfile.mkdtemp(prefix="eradiff-test-runs-")
