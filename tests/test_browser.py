"""The eraser in a real browser: JupyterLab started headless on a local port, a notebook that shows the eraser
opened in the distribution's Chromium (no downloaded browser), *erase* clicked once, a screenshot of the
rendered comparison checked. The mask editor's scenario (draw, select, erase, the round trip) runs in two
front-ends: JupyterLab and the Notebook 7 front-end (``jupyter notebook``, the one learners of the classic
notebook get).

Skipped, saying what is missing, where Chromium (Debian's ``chromium``), JupyterLab or Playwright is not
installed; ``.ci/run`` installs all three (and Notebook 7, the ``browser`` extra), so CI runs it. Only the
Notebook 7 run is skipped where ``notebook>=7`` is missing.
"""

import contextlib
import io
import json
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


def _notebook7_missing() -> str | None:
    try:
        import notebook
    except ImportError:
        return "notebook>=7 is not installed (pip install 'notebook>=7'; .ci/run does it)"
    version = getattr(notebook, "__version__", "0")
    if int(version.split(".")[0]) < 7:
        return f"notebook {version} is the classic notebook, not Notebook 7 (pip install 'notebook>=7')"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")

# The front-ends the mask editor is driven in: the server's module, the notebook's URL, flags of that app.
# Notebook 7 is built from JupyterLab's components (the same cells, output areas, menus and settings), but it
# opens a notebook at /notebooks/<path>, alone on the page, and has no status bar: the kernel is up when the server
# says so (idle, the page connected) and the execution indicator in the notebook toolbar reads idle.
FRONT_ENDS = {
    "jupyterlab": ("jupyterlab", "lab/tree/{name}",
                   ["--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]),
    "notebook7": ("notebook", "notebooks/{name}", []),
}

CELL = """\
from eradiff_lite.eraser import Eraser
from eradiff_lite.variants import CLASSICAL
from eradiff_lite.pipeline import EraseDiffusionPipeline

pipe = EraseDiffusionPipeline.from_pretrained({folder!r})
eraser = Eraser({{"tiny": (pipe, False)}}, side=32, default_variants=("tiny", CLASSICAL))
eraser.steps.value = 3
display(eraser.widget)
"""


# every cell rendered (JupyterLab 4 renders only the cells in view by default), no news pop-up over the buttons
SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"}}


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
    raise TimeoutError(f"Jupyter did not answer at {url} within {seconds:.0f} s")


def _wait_for_kernel(base: str, token: str, name: str, seconds: float) -> None:
    """Until the server says the kernel of notebook ``name`` is idle with a front-end connected to it (the
    browser's websocket): the kernel is up and the page talks to it, whatever the front-end shows."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            sessions = json.load(urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=2))
            for session in sessions:
                if session["path"] == name and session.get("kernel"):
                    kernel = json.load(urllib.request.urlopen(
                        f"{base}/api/kernels/{session['kernel']['id']}?token={token}", timeout=2))
                    if kernel["execution_state"] == "idle" and kernel.get("connections", 0) >= 1:
                        return
        time.sleep(0.5)
    raise TimeoutError(f"the kernel of {name} was not idle and connected within {seconds:.0f} s")


@contextlib.contextmanager
def _lab(tmp_path, cells: list[str], front_end: str = "jupyterlab"):
    """A notebook of ``cells`` opened in JupyterLab, or another of ``FRONT_ENDS`` (headless, a free local port),
    in Chromium, every cell run: yields the page."""
    from playwright.sync_api import sync_playwright

    module, path, flags = FRONT_ENDS[front_end]

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "eraser.ipynb")
    port, token = _free_port(), "eradiff-test"
    for name, setting in SETTINGS.items():
        (tmp_path / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "settings" / name).write_text(json.dumps(setting))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    server = subprocess.Popen(
        [sys.executable, "-m", module, "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", *flags]
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
                base = f"http://127.0.0.1:{port}"
                page.goto(f"{base}/{path.format(name='eraser.ipynb')}?token={token}", timeout=120_000)
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
                if front_end == "jupyterlab":
                    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Idle')", timeout=120_000)  # kernel up
                else:  # no status bar; the toolbar's indicator may read idle before the kernel is up: ask the server
                    _wait_for_kernel(base, token, "eraser.ipynb", 120)
                    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status=idle]", timeout=120_000)
                page.click("li.lm-MenuBar-item:has-text('Run')")
                page.click("li.lm-Menu-item:has-text('Run All Cells')")
                yield page
            finally:
                page.screenshot(path=str(tmp_path / "page.png"))  # what the browser showed, also on a failure
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _tiny_pipeline(folder) -> str:
    import torch

    from eradiff_lite.models.lite import build_lite_unet, build_scheduler
    from eradiff_lite.pipeline import EraseDiffusionPipeline
    from eradiff_lite.profiles import get_profile

    torch.manual_seed(0)
    smoke = get_profile("smoke")
    EraseDiffusionPipeline(unet=build_lite_unet(smoke), scheduler=build_scheduler(smoke.num_train_timesteps)
                           ).save_pretrained(folder, card={"variant": "tiny"})
    return str(folder)


def test_the_eraser_renders_and_erases_in_jupyterlab_in_chromium(tmp_path):
    from PIL import Image

    with _lab(tmp_path, [CELL.format(folder=_tiny_pipeline(tmp_path / "tiny"))]) as page:
        _use_the_eraser(page, tmp_path)
    shot = np.asarray(Image.open(tmp_path / "eraser.png").convert("RGB"), np.float32)
    from eradiff_lite.eraser_frame import CELL as ZOOM
    from eradiff_lite.eraser_frame import TITLE

    # the frame as the eraser draws it: input, the tiny model and biharmonic side by side (3 x 32 px and two 2 px
    # gaps, enlarged ZOOM times) under the band of their titles; the browser may scale it, not reshape it
    aspect = ZOOM * (3 * 32 + 2 * 2) / (TITLE + ZOOM * 32)
    assert shot.shape[0] > 200 and abs(shot.shape[1] / shot.shape[0] - aspect) < 0.05, shot.shape
    assert shot.std() > 10, "the rendered comparison is blank"


def _use_the_eraser(page, tmp_path) -> None:
    """Press *erase* in the notebook run, wait for the status line, screenshot the picture."""
    button = page.wait_for_selector("button.jupyter-button:has-text('erase')", timeout=120_000)
    button.click()
    page.wait_for_selector("text=DDIM steps, noise seed", timeout=180_000)  # the status line after erasing
    image = page.wait_for_selector(".jp-OutputArea img.widget-image", timeout=60_000)
    page.wait_for_function("img => img.naturalWidth > 0", arg=image, timeout=60_000)
    image.screenshot(path=str(tmp_path / "eraser.png"))


DRAW_CELLS = [CELL.replace("CLASSICAL))", "CLASSICAL), matting=\"classical\")").replace(
    "display(", "eraser.seed.value = 0  # a cookie beside two more, on a gradient\ndisplay("),
              """import json
s = eraser.session  # run again after erasing: what Python holds
print("STATS", json.dumps({"erased": bool(s.runs), "mask": eraser.editor.mask.astype(int).tolist(),
                           "hole": None if s.hole is None else s.hole.astype(int).tolist(), "source": s.source}))""",
              """from eradiff_lite.data import make_scene
from eradiff_lite.widgets.mask_editor import MaskEditor
big = MaskEditor(make_scene(3, 1024, split="heldout").triplet.x_obj, matting="classical")
display(big)"""]
CANVAS_MASK = """root => { const c = root.querySelector('canvas');
  const a = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const m = []; for (let i = 3; i < a.length; i += 4) m.push(a[i] > 127 ? 1 : 0); return m; }"""
PIXEL = "(root, [x, y]) => root.querySelector('canvas').getContext('2d').getImageData(x, y, 1, 1).data[3] > 127"
ROUND_TRIP = "([root, n]) => Number(root.dataset.roundTrips || 0) >= n"


def _drag(page, root, points, size: int) -> None:
    """One stroke through ``points`` (picture pixels of the editor ``root``) with a brush of ``size`` pixels."""
    root.eval_on_selector("input[type=range]", f"e => {{ e.value = {size}; e.dispatchEvent(new Event('input')); }}")
    root.scroll_into_view_if_needed()
    box, side = root.query_selector("canvas").bounding_box(), root.eval_on_selector("canvas", "c => c.width")
    at = [(box["x"] + (x + 0.5) * box["width"] / side, box["y"] + (y + 0.5) * box["height"] / side) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=4)
    page.mouse.up()


@pytest.mark.parametrize("front_end", [
    "jupyterlab",
    pytest.param("notebook7", marks=pytest.mark.skipif(_notebook7_missing() is not None,
                                                        reason=_notebook7_missing() or "")),
])
def test_drawing_and_selecting_what_to_erase_in_chromium(tmp_path, capsys, front_end):
    """Brush over the scene's cookie, click another cookie with 'select object', erase; the mask in the browser,
    in Python and in the rendered comparison agree; the round trip from release to the overlay is measured. The
    same scenario in JupyterLab and in Notebook 7."""
    from PIL import Image
    from scipy import ndimage

    from eradiff_lite.data import make_scene

    scene = make_scene(0, 32, split="heldout")
    labels, _ = ndimage.label(scene.context_mask)
    other = labels == labels[13, 17]  # a context cookie away from the pasted one
    ys, xs = np.nonzero(scene.triplet.mask)
    sources = [DRAW_CELLS[0].format(folder=_tiny_pipeline(tmp_path / "tiny")), *DRAW_CELLS[1:]]
    with _lab(tmp_path, sources, front_end) as page:
        page.wait_for_selector("text=draw what to erase on the picture", timeout=120_000)  # the editor reported back
        page.locator(".jp-Notebook .jp-Cell").nth(2).scroll_into_view_if_needed()
        page.wait_for_function("document.querySelectorAll('.eradiff-me').length == 2", timeout=120_000)
        small, big = page.query_selector_all(".eradiff-me")
        small.query_selector("button.eradiff-me-clear").click()
        page.wait_for_function("r => !r.querySelector('.eradiff-me-message').textContent.includes('scene')",
                               arg=small, timeout=30_000)
        zigzag = [(x, y) for y in range(ys.min(), ys.max() + 1, 2) for x in (xs.min(), xs.max())]
        _drag(page, small, zigzag, size=4)
        page.wait_for_function(ROUND_TRIP, arg=[small, 1], timeout=30_000)
        small.query_selector("button[data-tool=select]").click()
        _drag(page, small, [(17, 13)], size=4)
        page.wait_for_selector(".eradiff-me-message:has-text('selected')", timeout=60_000)
        drawn = np.array(small.evaluate(CANVAS_MASK), bool).reshape(32, 32)
        small_ms = float(small.evaluate("r => r.dataset.roundTripMs"))
        page.click("button.jupyter-button:has-text('erase')")
        page.wait_for_selector("text=DDIM steps, noise seed", timeout=180_000)
        image = page.wait_for_selector(".jp-OutputArea img.widget-image", timeout=60_000)
        page.wait_for_function("img => img.naturalWidth > 0", arg=image, timeout=60_000)
        png = bytes(image.evaluate("async img => Array.from(new Uint8Array(await (await fetch(img.src))"
                                   ".arrayBuffer()))"))
        cells = page.query_selector_all(".jp-Notebook .jp-Cell")
        cells[1].query_selector(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        out = page.wait_for_selector(".jp-OutputArea-output:has-text('\"erased\": true')", timeout=60_000)
        stats = json.loads(out.inner_text().split("STATS", 1)[1])
        times = []
        for k in range(5):  # strokes across the 1024 px picture with a 40 px brush
            _drag(page, big, [(100 + 150 * k, 80), (900 - 100 * k, 500), (120 + 150 * k, 950)], size=40)
            page.wait_for_function(ROUND_TRIP, arg=[big, k + 1], timeout=30_000)
            times.append(float(big.evaluate("r => r.dataset.roundTripMs")))
        big.query_selector("button[data-tool=box]").click()  # a box, then the eraser brush through it, then undo
        _drag(page, big, [(40, 40), (200, 130)], size=40)
        page.wait_for_function(ROUND_TRIP, arg=[big, 6], timeout=30_000)
        box_drawn = [big.evaluate(PIXEL, [x, y]) for x, y in ((100, 85), (100, 50), (220, 85))]
        big.query_selector("button[data-tool=eraser]").click()
        _drag(page, big, [(30, 85), (210, 85)], size=20)
        page.wait_for_function(ROUND_TRIP, arg=[big, 7], timeout=30_000)
        rubbed = [big.evaluate(PIXEL, [x, y]) for x, y in ((100, 85), (100, 50))]
        big.query_selector("button.eradiff-me-undo").click()
        page.wait_for_function(f"r => ({PIXEL})(r, [100, 85])", arg=big, timeout=30_000)
    assert box_drawn == [True, True, False] and rubbed == [False, True]
    with capsys.disabled():  # shown in a plain pytest run, not only on a failure
        print(f"\n{front_end}: round trip from mouse release to the overlay update: {small_ms:.0f} ms on the 32 px "
              f"scene; on the 1024 px picture, median {np.median(times):.0f} ms of "
              f"{', '.join(f'{t:.0f}' for t in times)} ms")
    mask, hole = np.array(stats["mask"], bool), np.array(stats["hole"], bool)
    assert (mask == drawn).all() and (hole == drawn).all() and "drawn mask" in stats["source"]  # browser = Python
    assert drawn[scene.triplet.mask].mean() > 0.95 and drawn[other].all()  # brushed, and selected
    assert drawn.sum() < 2.5 * (scene.triplet.mask.sum() + other.sum())  # not much else
    (tmp_path / "drawn.png").write_bytes(png)
    frame = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float32) / 255
    from eradiff_lite.eraser_frame import TITLE

    # one row under the columns' titles: the input, the model, the classical fill
    assert frame.shape == (TITLE + 4 * 32, 4 * (3 * 32 + 2 * 2), 3)
    classical = frame[TITLE:TITLE + 4 * 32:4, 4 * 2 * 34:4 * (2 * 34 + 32):4]  # the biharmonic fill, a pixel per pixel
    x_obj = scene.triplet.x_obj
    np.testing.assert_allclose(classical[~drawn], x_obj[~drawn], atol=1 / 255 + 1e-6)  # outside: untouched
    assert np.abs(classical[drawn] - x_obj[drawn]).mean() > 0.05  # inside: the cookies are gone
