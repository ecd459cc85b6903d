"""Erase it yourself: an eraser widget for the notebooks (ipywidgets 7 on Colab, 8 in JupyterLab 4).

`EraserSession` is the logic, usable without any widget: choose a procedural scene (seed, family, background)
or a picture of your own with a mask or a box, erase it with a few variants side by side (the same starting noise
for each), then look at any sampling step: the noisy state ``x_t`` above the model's estimate ``x0_hat``, so the
object's fading (or its return) is visible. `Eraser` puts sliders, dropdowns and buttons around a session;
its picture is one PNG (`EraserSession.frame_png`, its columns and rows titled: drawn by `eradiff_lite.eraser_frame`),
and "save" writes exactly those bytes.

A held-out scene chosen by its number alone (family and background "any") is scene ``seed`` of the benchmark
``heldout-v1``; the lite models then start from the very noise that scene gets when the benchmark is erased with
the same noise seed (`benchmark_scene_noise`), so the eraser shows what notebook 06's table, gallery and sampling
figures show for it. Any other picture (a forced family or background, an upload, Stable Diffusion's latents)
starts from ``torch.Generator().manual_seed(noise seed)``.

What to erase is drawn with the mouse in the mask editor (`eradiff_lite.widgets.mask_editor`, on anywidget): a
scene's own object mask to start from, nothing on an uploaded picture. Where the front-end cannot show the editor
(it never reports back: no anywidget front-end), a picture's mask is a box set with sliders, and one line says why.
A `classical` column (biharmonic inpainting) is the no-learning reference.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import EraseMask, MaskError, as_erase_mask, load_image, make_scene, to_pil
from .eraser_frame import draw_frame
from .metrics.classical import inpaint_classical
from .pipeline.fullsize import model_view
from .variants import CLASSICAL

__all__ = ["Eraser", "EraserSession", "benchmark_scene_noise"]


def benchmark_scene_noise(index: int, side: int, seed: int, batch_size: int = 128):
    """The starting noise (``1 x 3 x side x side``) of benchmark scene ``index`` when the benchmark is erased with
    noise ``seed``: `experiments.evaluate.benchmark_noise` draws one generator scene after scene (batch after batch),
    and a scene's noise depends only on its place in that stream, so it is drawn here without the scenes before it
    being kept."""
    import torch

    generator = torch.Generator().manual_seed(int(seed))
    shape = (3, int(side), int(side))
    for start in range(0, int(index) + 1, batch_size):
        block = torch.randn((min(batch_size, int(index) + 1 - start), *shape), generator=generator)
    return block[-1:]


@dataclass
class EraserSession:
    """The eraser's state: the picture, its mask, the variants' runs. ``pipelines``: ``{name: (pipe, sra)}``."""

    pipelines: dict
    side: int = 64
    picture: np.ndarray | None = None  # what the model sees (side x side x 3 in [0, 1])
    mask: EraseMask | None = None  # what to erase in it, handed to every variant as it is
    source: str = ""
    runs: dict = field(default_factory=dict)  # name -> EraseOutput (or a classical fill)
    settings: dict = field(default_factory=dict)
    benchmark_index: int | None = None  # the picture is this benchmark scene (its own noise for the lite models)

    @property
    def hole(self) -> np.ndarray | None:
        """The mask's pixels (``H x W`` bool, read-only), for drawing and comparing."""
        return None if self.mask is None else self.mask.array

    def use_scene(self, seed: int, family: str | None = None, background: str | None = None) -> None:
        scene = make_scene(int(seed), self.side, split="heldout", family=family, background_kind=background)
        self.picture = scene.triplet.x_obj
        self.mask = EraseMask.from_array(scene.triplet.mask, name=f"the mask of held-out scene {seed}")
        self.source = f"held-out scene {seed} ({scene.family} on {scene.background})"
        self.benchmark_index = int(seed) if family is None and background is None else None
        self.runs = {}

    def use_picture(self, image, box) -> None:
        """A picture of any size and mode (path, bytes, PIL or array) and a box ``(x0, y0, x1, y1)`` in its pixels."""
        picture = load_image(image)
        mask = EraseMask.from_box(picture.shape, box)
        self.use_mask(picture, mask, mask.name)

    def use_mask(self, image, mask, how: str = "drawn mask") -> None:
        """A picture of any size and mode with its mask at the picture's size (an `EraseMask`, taken as it is, or an
        ``H x W`` bool array, checked here); a picture at the model's size is taken as it is, a larger one through
        the window around the hole."""
        picture = load_image(image)
        self.picture, self.mask, _ = model_view(picture, as_erase_mask(mask, picture.shape, name=how), self.side)
        self.source = f"your picture ({picture.shape[1]}x{picture.shape[0]}), {how}"
        self.benchmark_index = None
        self.runs = {}

    def erase(self, names, steps: int = 25, seed: int = 0, progress=None) -> None:
        """Erase with each of ``names`` (variants of ``pipelines`` or ``classical``), the same noise for each: on a
        benchmark scene the lite models start from that scene's benchmark noise for ``seed``, elsewhere from
        ``torch.Generator().manual_seed(seed)``."""
        import torch

        from .pipeline import EraseDiffusionPipeline

        if self.picture is None:
            raise MaskError("choose a scene or a picture first")
        unknown = [n for n in names if n != CLASSICAL and n not in self.pipelines]
        if unknown or not names:
            raise ValueError(f"choose variants among {', '.join([*self.pipelines, CLASSICAL])}, got {list(names)}")
        self.runs = {}
        for i, name in enumerate(names):
            if name == CLASSICAL:
                self.runs[name] = inpaint_classical(self.picture, self.mask)
            else:
                pipe, sra = self.pipelines[name]
                start = {"generator": torch.Generator().manual_seed(int(seed))}
                if self.benchmark_index is not None and isinstance(pipe, EraseDiffusionPipeline):
                    start = {"latents": benchmark_scene_noise(self.benchmark_index, self.picture.shape[0], seed)}
                self.runs[name] = pipe(self.picture, self.mask, num_inference_steps=int(steps), sra=sra,
                                       return_trajectory=True, **start)
            if progress is not None:
                progress(i + 1, len(names))
        self.settings = {"source": self.source, "variants": list(names), "steps": int(steps), "seed": int(seed)}
        if self.benchmark_index is not None:
            self.settings["noise"] = "the benchmark's for this scene"

    def frame(self, step: int | None = None) -> np.ndarray:
        """The comparison, enlarged, with titles (`eraser_frame.draw_frame`): ``step`` None, one row (the input with
        its hole, then each variant's result, a column each); ``step`` k, two rows, each variant's ``x_t`` over its
        ``x0_hat`` at sampling step k (the input and a classical fill, which has no steps, on the top row only)."""
        if not self.runs:
            raise ValueError("nothing erased yet: press erase first")
        return draw_frame(self.picture, self.hole, self.runs, self.side, step)

    def frame_png(self, step: int | None = None) -> bytes:
        buffer = io.BytesIO()
        to_pil(self.frame(step)).save(buffer, format="PNG")
        return buffer.getvalue()


class Eraser:
    """The widget: scene or upload, what to erase (drawn in the mask editor, or a box where the editor cannot show:
    `widgets.erase_input.WhatToErase`), variants, steps, seed, erase, a step slider, save. ``display(eraser.widget)``.
    ``matting``: the editor's select tool (``"auto"``: rembg where its network can be loaded, else classical)."""

    def __init__(self, pipelines: dict, side: int = 64, default_variants=("baseline", "cro_sra", CLASSICAL),
                 matting: str = "auto"):
        import ipywidgets as w

        from .pipeline import EraseDiffusionPipeline
        from .widgets.erase_input import WhatToErase

        self.session = EraserSession(pipelines, side)
        self.status = w.Label(value="")
        lite = all(isinstance(p, EraseDiffusionPipeline) for p, _ in pipelines.values())
        self.input = WhatToErase(side, lite=lite, matting=matting, say=lambda line: setattr(self.status, "value", line))
        for name in ("source", "seed", "family", "background", "upload", "box_sliders", "editor"):
            setattr(self, name, getattr(self.input, name))
        choices = [*pipelines, CLASSICAL]
        self.variants = w.SelectMultiple(options=choices, value=[v for v in default_variants if v in choices],
                                         description="variants")
        self.steps = w.IntSlider(value=25, min=2, max=50, description="DDIM steps")
        self.noise_seed = w.IntText(value=0, description="noise seed")
        self.go = w.Button(description="erase", button_style="primary")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="sampling")
        self.step = w.IntSlider(value=0, min=0, max=0, description="show step", disabled=True)
        self.show_result = w.Checkbox(value=True, description="show results (untick: x_t / x0_hat at the step)")
        self.image = w.Image(format="png")
        self.out_path = w.Text(value="eraser.png", description="save as")
        self.save_button = w.Button(description="save PNG")
        self.go.on_click(lambda _: self.run())
        self.save_button.on_click(lambda _: self.save())
        for control in (self.step, self.show_result):
            control.observe(lambda _: self.redraw(), names="value")
        self.widget = w.VBox([*self.input.rows,
                              w.HBox([self.variants, w.VBox([self.steps, self.noise_seed, self.go, self.progress])]),
                              w.HBox([self.show_result, self.step]), self.image,
                              w.HBox([self.out_path, self.save_button]), self.status])

    def run(self) -> None:
        """Load the chosen scene or picture with what to erase, erase it with the chosen variants, show the results;
        on an error, one line and the previous state (picture, hole, results) kept."""
        s = self.session
        before = (s.picture, s.mask, s.source, s.runs, s.settings)
        try:
            self.input.load(s)
            self.progress.max, self.progress.value = len(self.variants.value), 0
            self.status.value = "sampling..."
            s.erase(list(self.variants.value), self.steps.value, self.noise_seed.value,
                    progress=lambda done, total: setattr(self.progress, "value", done))
        except (ValueError, OSError) as err:  # MaskError and ImageError are ValueErrors
            s.picture, s.mask, s.source, s.runs, s.settings = before
            self.status.value = f"error: {err}"
            return
        self.step.max, self.step.disabled = self.steps.value - 1, False
        st = s.settings
        noise = f" ({st['noise']})" if "noise" in st else ""
        self.status.value = (f"{st['source']}; {', '.join(st['variants'])}; {st['steps']} DDIM steps, noise seed "
                             f"{st['seed']}{noise}")
        self.redraw()

    def redraw(self) -> None:
        if self.session.runs:
            self.image.value = self.session.frame_png(None if self.show_result.value else self.step.value)

    def save(self) -> Path | None:
        """Write the picture on screen (the same PNG bytes), atomically."""
        from .paths import atomic_write

        if not self.image.value:
            self.status.value = "error: nothing to save yet: press erase first"
            return None
        path = Path(self.out_path.value)
        if path.suffix.lower() != ".png":
            self.status.value = f"error: save as a .png file, got {path.name}"
            return None
        with atomic_write(path) as tmp:
            tmp.write_bytes(bytes(self.image.value))
        self.status.value = f"saved {path}"
        return path
