"""The eraser in a real browser: JupyterLab started headless on a local port, a notebook that shows the eraser
opened in the distribution's Chromium (no downloaded browser), *erase* clicked once, a screenshot of the
rendered comparison checked.

Skipped, saying what is missing, where Chromium (Debian's ``chromium``), JupyterLab or Playwright is not
installed; ``.ci/run`` installs all three, so CI runs it.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Chromium is not installed (Debian: apt-get install chromium; .ci/run does it)"
    for module in ("jupyterlab", "playwright"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install jupyterlab playwright; .ci/run does it)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")

CELL = """\
from eradiff_lite.eraser import CLASSICAL, Eraser
from eradiff_lite.pipeline import EraseDiffusionPipeline

pipe = EraseDiffusionPipeline.from_pretrained({folder!r})
eraser = Eraser({{"tiny": (pipe, False)}}, side=32, default_variants=("tiny", CLASSICAL))
eraser.steps.value = 3
display(eraser.widget)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {seconds:.0f} s")


def test_the_eraser_renders_and_erases_in_jupyterlab_in_chromium(tmp_path):
    import torch
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from eradiff_lite.models.lite import build_lite_unet, build_scheduler
    from eradiff_lite.pipeline import EraseDiffusionPipeline
    from eradiff_lite.profiles import get_profile

    torch.manual_seed(0)
    smoke = get_profile("smoke")
    EraseDiffusionPipeline(unet=build_lite_unet(smoke), scheduler=build_scheduler(smoke.num_train_timesteps)
                           ).save_pretrained(tmp_path / "tiny", card={"variant": "tiny"})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL.format(folder=str(tmp_path / "tiny")))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "eraser.ipynb")

    port, token = _free_port(), "eradiff-test"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "jupyter.log", "w"), env=env)
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/status?token={token}", 90)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                _use_the_eraser(page, port, token, tmp_path)
            finally:
                page.screenshot(path=str(tmp_path / "page.png"))  # what the browser showed, also on a failure
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    shot = np.asarray(Image.open(tmp_path / "eraser.png").convert("RGB"), np.float32)
    # the frame as the eraser draws it: input, the tiny model and biharmonic side by side (3 x 32 px and two 2 px
    # gaps), the results over themselves (2 x 32 px and a gap); the browser may scale it, not reshape it
    aspect = (3 * 32 + 2 * 2) / (2 * 32 + 2)
    assert shot.shape[0] > 200 and abs(shot.shape[1] / shot.shape[0] - aspect) < 0.05, shot.shape
    assert shot.std() > 10, "the rendered comparison is blank"


def _use_the_eraser(page, port: int, token: str, tmp_path) -> None:
    """Open the notebook, run its cell, press *erase*, wait for the status line, screenshot the picture."""
    page.goto(f"http://127.0.0.1:{port}/lab/tree/eraser.ipynb?token={token}", timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Idle')", timeout=120_000)  # the kernel is up
    page.click("li.lm-MenuBar-item:has-text('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    button = page.wait_for_selector("button.jupyter-button:has-text('erase')", timeout=120_000)
    button.click()
    page.wait_for_selector("text=DDIM steps, noise seed", timeout=180_000)  # the status line after erasing
    image = page.wait_for_selector(".jp-OutputArea img", timeout=60_000)
    page.wait_for_function("img => img.naturalWidth > 0", arg=image, timeout=60_000)
    image.screenshot(path=str(tmp_path / "eraser.png"))
