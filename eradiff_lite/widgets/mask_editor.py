"""Draw what to erase: a mask editor shown over the picture, with the mouse (or a pen, or a finger).

Tools: a brush (with a size slider), an eraser brush, a box, "select object" (the object under a click, cut out by
the package's matting: `mask_editing.object_at`), undo and clear. The mask is drawn as a translucent red overlay;
`MaskEditor.mask` is the result in the course's convention, an ``H x W`` bool array (True = erase) at the
picture's own size.

Why anywidget: the editor needs JavaScript (a canvas and pointer events), and a custom ipywidget normally needs a
front-end extension built and installed for each front-end (a JupyterLab extension, a classic-notebook extension)
in lock-step with the Python package. anywidget ships one generic front-end (a pre-built JupyterLab 4 / Notebook 7
extension and a classic-notebook one, both inside its wheel) that loads the widget's ES module and CSS from the
kernel, so there is nothing to build: ``pip install anywidget`` is all, with ipywidgets 7.6+ (Colab's 7.7.1, after
``google.colab.output.enable_custom_widget_manager()``) and 8 (JupyterLab 4, Notebook 7, VS Code's Jupyter
extension). It is maintained (the marimo and Jupyter ecosystems rely on it).

Speed: while the mouse moves, strokes are drawn on a canvas in the browser and nothing is sent; on release the whole
mask goes to Python as run lengths (`data.io.rle_encode`); Python stores it (the undo history) and sends it back, and
the overlay shows what Python holds. The front-end measures that round trip (``round_trip_ms``).
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import numpy as np
import traitlets

from ..data import EraseMask, MaskError
from ..data.io import resize_mask, rle_decode, rle_encode
from .mask_editing import MaskHistory, data_url, object_at, work_size

HERE = Path(__file__).resolve().parent


def display_width(height: int, width: int, small: int = 384, large: int = 640) -> int:
    """Screen width of the editor: a small picture enlarged by a whole factor to about ``small`` pixels (its pixels
    stay square), a large one shrunk to fit ``large`` pixels on its long side."""
    long = max(height, width)
    zoom = max(1, small // long) if long < small else min(1.0, large / long)
    return max(1, round(width * zoom))


class MaskEditor(anywidget.AnyWidget):
    """The mask editor widget. ``set_picture(picture, mask=None)`` shows a picture (``H x W x 3`` in [0, 1]); draw
    in the browser; ``mask`` is what was drawn. ``matting``: the select tool's back-end (``"auto"``: rembg where its
    network can be loaded, else classical; ``"classical"``; ``"rembg"``)."""

    _esm = HERE / "mask_editor.js"
    _css = HERE / "mask_editor.css"
    picture_url = traitlets.Unicode("").tag(sync=True)
    work_width = traitlets.Int(1).tag(sync=True)  # the size the editor draws at
    work_height = traitlets.Int(1).tag(sync=True)
    display_width = traitlets.Int(1).tag(sync=True)
    brush = traitlets.Int(3).tag(sync=True)
    brush_max = traitlets.Int(16).tag(sync=True)
    mask_state = traitlets.Dict().tag(sync=True)  # {"rle": run lengths at the work size, "ack": seq answered}
    message = traitlets.Unicode("").tag(sync=True)
    rendered = traitlets.Bool(False)  # (not synced) True once a front-end has shown the editor: its first message

    def __init__(self, picture: np.ndarray | None = None, mask: np.ndarray | None = None, matting: str = "auto"):
        super().__init__()
        self.matting = matting
        self.round_trip_ms: float | None = None
        self.picture: np.ndarray | None = None
        self.history = MaskHistory((1, 1))
        self._view = np.zeros((1, 1, 3), np.float32)
        self._listeners: list = []
        self.on_msg(lambda _widget, content, _buffers: self.handle(content))
        if picture is not None:
            self.set_picture(picture, mask)

    # the picture and the mask
    def set_picture(self, picture: np.ndarray, mask: np.ndarray | None = None, message: str = "") -> None:
        """Show ``picture`` with ``mask`` (its own size; None: nothing drawn). The undo history starts afresh."""
        picture = np.asarray(picture, np.float32)
        h, w = picture.shape[:2]
        wh, ww = work_size(h, w)
        self.picture = picture
        self._view = picture if (wh, ww) == (h, w) else _resized(picture, (wh, ww))
        start = np.zeros((wh, ww), bool) if mask is None else resize_mask(np.asarray(mask, bool), (wh, ww))
        self.history = MaskHistory((wh, ww), start)
        with self.hold_sync():
            self.picture_url = data_url(self._view)
            self.work_width, self.work_height, self.display_width = ww, wh, display_width(wh, ww)
            self.brush_max = max(4, min(wh, ww) // 4)
            self.brush = max(1, min(wh, ww) // 24)
            self.message = message or (f"{w}x{h} picture" + (f", drawn at {ww}x{wh}" if (wh, ww) != (h, w) else "")
                                       + ": brush over what to erase, or click an object with 'select object'")
            self._send_mask(-1)

    @property
    def mask(self) -> np.ndarray:
        """What is drawn, ``H x W`` bool at the picture's size (True = erase)."""
        if self.picture is None:
            raise MaskError("no picture in the mask editor yet")
        return resize_mask(self.history.mask, self.picture.shape[:2])

    def erase_mask(self) -> EraseMask:
        """What is drawn, as the eraser takes it: the run-length code the editor holds (``mask_state``, what the
        browser shows) at the picture's size, refused in one line when it is empty or everything."""
        if self.picture is None:
            raise MaskError("no picture in the mask editor yet")
        return EraseMask.from_runs(self.mask_state["rle"], self.history.shape, size=self.picture.shape[:2])

    def on_change(self, callback) -> None:
        """Call ``callback(editor)`` after each change of the mask (an edit, a selection, undo or clear)."""
        self._listeners.append(callback)

    # what the front-end sends (also callable from Python: the tests drive the editor through it)
    def handle(self, content: dict) -> None:
        kind, seq = content.get("type"), int(content.get("seq", -1))
        if kind == "ready":
            self.rendered = True
            return
        if kind == "timing":
            self.round_trip_ms = float(content["ms"])
            return
        try:
            if kind == "edit":
                changed = self.history.push(rle_decode(content["rle"], self.history.shape))
                note = "" if changed else "nothing changed"
            elif kind == "select":
                changed, note = self.select_at(int(content["x"]), int(content["y"]))
            elif kind == "undo":
                changed = self.history.undo()
                note = "undone" if changed else "nothing to undo"
            elif kind == "clear":
                changed, note = self.history.clear(), "cleared"
            else:
                raise MaskError(f"the editor does not know the message {kind!r}")
        except (MaskError, ValueError, KeyError, TypeError) as err:
            changed, note = False, f"error: {err}"
        with self.hold_sync():
            self.message = self._describe(note)
            self._send_mask(seq)  # always answered, so the front-end shows Python's mask (an edit refused: undone)
        if changed:
            for callback in self._listeners:
                callback(self)

    def select_at(self, x: int, y: int) -> tuple[bool, str]:
        """Add the object under ``(x, y)`` (editor pixels) to the mask; ``(changed, what was done)``."""
        found, how = object_at(self._view, x, y, backend=self.matting)
        if not found.any():
            return False, f"no object found under the click at ({x}, {y}) by {how}: draw over it with the brush"
        return self.history.push(self.history.mask | found), f"selected {int(found.sum())} pixels by {how}"

    def undo(self) -> None:
        self.handle({"type": "undo"})

    def clear(self) -> None:
        self.handle({"type": "clear"})

    def _describe(self, note: str) -> str:
        mask = self.history.mask
        share = f"{mask.mean():.0%} of the picture to erase"
        if note.startswith("error"):
            return note
        if mask.all():
            return f"{note + '; ' if note else ''}the mask covers the whole picture: nothing is left to fill it " \
                   f"from (undo, or take some away with the eraser brush)"
        if not mask.any():
            return f"{note + '; ' if note else ''}the mask is empty: brush over what to erase"
        return f"{note + '; ' if note else ''}{share}"

    def _send_mask(self, ack: int) -> None:
        self.mask_state = {"rle": rle_encode(self.history.mask), "ack": ack}


def _resized(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    from ..data import to_pil

    return np.asarray(to_pil(picture).resize((size[1], size[0]), Image.LANCZOS), np.float32) / 255
