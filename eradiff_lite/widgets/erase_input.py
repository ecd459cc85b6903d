"""What the eraser erases: a held-out scene or an uploaded picture, and the region, drawn in the mask editor.

The editor (`mask_editor.MaskEditor`) starts from a scene's own object mask, and from nothing on an uploaded
picture. Python cannot ask a front-end what it can display; the editor tells: its front-end sends a first message
when it is shown. Until then (Colab without the custom widget manager, a front-end without anywidget, papermill,
anywidget not installed), a picture's region is the box of the sliders and one line says why; once the editor is
shown the sliders are hidden. A scene's region is the editor's mask either way (its object's mask unless edited).
"""

from __future__ import annotations

from ..data import FAMILIES, MaskError, make_scene
from ..data.drawing import FAMILY_SPECS
from .upload import MAX_UPLOAD_MB, MAX_UPLOAD_SIDE, read_upload, uploaded_bytes, uploaded_name

NO_EDITOR = ("the box sliders set what to erase in your picture: the mask editor {why}; on Colab, run the first "
             "cell (it enables third-party widgets)")
EDITOR = "draw what to erase on the picture: brush, eraser brush, box, select object (a click), undo, clear"
LITE_ON_PHOTO = ("note: the lite model works at 64 px on generated scenes, so on a photo it paints a blurry patch; "
                 "for photos use the Stable Diffusion eraser of notebook 07 (a GPU or Colab)")


class WhatToErase:
    """Scene controls, the upload, the mask editor (or the box sliders). ``rows``: its widgets, top to bottom;
    ``load(session)``: put the chosen picture and region into an `EraserSession`. ``say``: writes the status line."""

    def __init__(self, side: int, lite: bool, matting: str = "auto", say=print):
        import ipywidgets as w

        self.side, self.lite, self.say = side, lite, say
        self.picture, self.noted = None, False  # the uploaded picture, checked; whether LITE_ON_PHOTO was said
        self.source = w.ToggleButtons(options=["scene", "picture"], value="scene", description="erase in")
        self.seed = w.IntText(value=11, description="scene seed")
        self.family = w.Dropdown(options=["any", *FAMILIES], value="any", description="family")
        self.background = w.Dropdown(options=["any"], value="any", description="background")
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="picture")
        self.box_sliders = [w.IntSlider(value=v, min=0, max=4096, description=d) for v, d in
                            ((0, "x0"), (0, "y0"), (32, "x1"), (32, "y1"))]
        self.box_row, self.mask_line = w.HBox(self.box_sliders), w.Label(value="")
        self.editor = self._make_editor(matting)
        self.family.observe(self._families_backgrounds, names="value")
        for control in (self.seed, self.family, self.background, self.source):
            control.observe(lambda _: self.show(), names="value")
        self.upload.observe(lambda change: self.take_upload(uploaded_bytes(change["new"]),
                                                            uploaded_name(change["new"])), names="value")
        limits = w.Label(value=f"(at most {MAX_UPLOAD_MB} MB and {MAX_UPLOAD_SIDE} px a side)")
        self.rows = [w.HBox([self.source, self.seed, self.family, self.background]), w.HBox([self.upload, limits]),
                     self.mask_line, self.box_row, *([self.editor] if self.editor is not None else [])]
        self.show()
        self._editor_shown()

    def _make_editor(self, matting: str):
        try:
            from .mask_editor import MaskEditor
        except ImportError as err:  # anywidget missing: the sliders stay, and the line says why
            self.why = f"needs anywidget ({err.name or err} is missing: pip install anywidget)"
            return None
        self.why = "did not show here (this front-end shows no anywidget widgets)"
        editor = MaskEditor(matting=matting)
        editor.observe(lambda _: self._editor_shown(), names="rendered")
        return editor

    @property
    def drawing(self) -> bool:
        """Whether a front-end shows the editor (so a picture's region is drawn, not the sliders' box)."""
        return self.editor is not None and self.editor.rendered

    def _editor_shown(self) -> None:
        self.box_row.layout.display = "none" if self.drawing else None
        self.mask_line.value = EDITOR if self.drawing else NO_EDITOR.format(why=self.why)

    def _families_backgrounds(self, change) -> None:
        family = change["new"]
        self.background.options = ["any"] + ([] if family == "any" else list(FAMILY_SPECS[family].backgrounds))
        self.background.value = "any"

    def _choice(self, control) -> str | None:
        return None if control.value == "any" else control.value

    def show(self) -> None:
        """Put the chosen scene (its object's mask drawn) or the uploaded picture (nothing drawn) in the editor."""
        if self.editor is None:
            return
        if self.source.value == "scene":
            scene = make_scene(int(self.seed.value), self.side, split="heldout", family=self._choice(self.family),
                               background_kind=self._choice(self.background))
            self.editor.set_picture(scene.triplet.x_obj, scene.triplet.mask, f"held-out scene {scene.seed} "
                                    f"({scene.family} on {scene.background}) with its object's mask: change it")
        elif self.picture is not None:
            self.editor.set_picture(self.picture)
        else:
            self.editor.message = "upload a picture (or choose 'scene')"

    def take_upload(self, data: bytes | None, name: str = "the upload") -> bool:
        """Check an uploaded file and show it; a bad one: one line, and the previous picture and results kept."""
        if data is None:
            return False
        try:
            picture = read_upload(data, name)
        except ValueError as err:
            self.say(f"error: {err}; nothing changed")
            return False
        self.picture = picture
        note = f"{name}: a {picture.shape[1]}x{picture.shape[0]} picture"
        if self.lite and not self.noted:
            note, self.noted = f"{note}; {LITE_ON_PHOTO}", True
        self.say(note)
        if self.source.value == "picture":
            self.show()
        self.source.value = "picture"  # from 'scene': the observer shows it
        return True

    def load(self, session) -> None:
        """The chosen picture and region into ``session`` (an `EraserSession`); a `MaskError` says what is wrong."""
        if self.source.value == "scene":
            session.use_scene(self.seed.value, self._choice(self.family), self._choice(self.background))
            if self.editor is not None:  # the editor's mask (the scene's own unless edited), for this picture
                session.mask = self.editor.erase_mask().fit(session.picture.shape)
                session.source += ", drawn mask"
        elif self.picture is None:
            raise MaskError("upload a picture first (or choose 'scene')")
        elif self.drawing:
            session.use_mask(self.picture, self.editor.erase_mask())
        else:
            session.use_picture(self.picture, [b.value for b in self.box_sliders])
