"""The eraser's picture (`eradiff_lite.eraser`): the comparison as one titled grid, enlarged for the screen.

`draw_frame` lays out the input with its hole and each variant's result side by side (one row), or, at a sampling
step, each variant's noisy state ``x_t`` above its estimate ``x0_hat`` (two rows, titled on the left); `draw_texts`
writes the titles. No widget and no model here: `EraserSession.frame` hands over the picture, its hole and the runs.
"""

from __future__ import annotations

import numpy as np

from .viz import as_image, overlay_mask

__all__ = ["CELL", "GAP", "LABEL", "TITLE", "draw_frame", "draw_texts"]

CELL = 4  # each model pixel is drawn as (up to) CELL x CELL screen pixels: a 64 px picture at 256 px
TITLE = 16  # screen pixels above the pictures: the columns' titles
LABEL = 64  # screen pixels left of the pictures in the step view: the rows' titles (x_t, x0_hat)
GAP = 2  # model pixels between two pictures


def draw_frame(picture: np.ndarray, hole: np.ndarray, runs: dict, side: int, step: int | None = None) -> np.ndarray:
    """The comparison of ``runs`` (``{name: EraseOutput or a classical fill}``) on ``picture`` with its ``hole``:
    ``step`` None, one row (the input with its hole, then each variant's result, a column each); ``step`` k, two
    rows, each variant's ``x_t`` over its ``x0_hat`` at sampling step k (the input and a classical fill, which has no
    steps, on the top row only)."""
    blank = np.ones_like(as_image(picture))
    top, bottom = [overlay_mask(picture, hole)], [blank]
    titles = ["input + hole", *runs]
    for out in runs.values():
        if isinstance(out, np.ndarray) or step is None:
            top.append(as_image(out if isinstance(out, np.ndarray) else out.images[0]))
            bottom.append(blank)
        else:
            k = int(np.clip(step, 0, len(out.predicted_x0) - 1))
            top.append(as_image(out.trajectory[k + 1][0]))
            bottom.append(as_image(out.predicted_x0[k][0]))
    cell = max(1, min(CELL, 256 // side))  # a 512 px Stable Diffusion picture is drawn as it is
    rows = [top] if step is None else [top, bottom]
    gap_x = np.ones((top[0].shape[0], GAP, 3), np.float32)
    lines = [np.concatenate([c for im in row for c in (im, gap_x)][:-1], axis=1) for row in rows]
    gap_y = np.ones((GAP, lines[0].shape[1], 3), np.float32)
    grid = np.concatenate([c for line in lines for c in (line, gap_y)][:-1], axis=0)
    grid = np.kron(grid, np.ones((cell, cell, 1), np.float32))
    left = 0 if step is None else LABEL
    canvas = np.ones((TITLE + grid.shape[0], left + grid.shape[1], 3), np.float32)
    canvas[TITLE:, left:] = grid
    width, height = top[0].shape[1] * cell, top[0].shape[0] * cell
    texts = [(left + c * (width + GAP * cell) + width / 2, TITLE / 2, t) for c, t in enumerate(titles)]
    if step is not None:
        some = next((o for o in runs.values() if not isinstance(o, np.ndarray)), None)
        k = 0 if some is None else int(np.clip(step, 0, len(some.predicted_x0) - 1))
        label = f"t = {int(some.timesteps[k])}" if some is not None and some.timesteps else f"step {k + 1}"
        texts += [(left / 2, TITLE + r * (height + GAP * cell) + height / 2, f"{name}\n{label}")
                  for r, name in enumerate(("x_t", "x0_hat"))]
    return draw_texts(canvas, texts, width)


def draw_texts(canvas: np.ndarray, texts, width: int) -> np.ndarray:
    """``canvas`` with each ``(x, y, text)`` drawn centred on ``(x, y)`` (screen pixels), cut to ``width``."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray((np.clip(canvas, 0, 1) * 255).round().astype(np.uint8))
    draw, font = ImageDraw.Draw(image), ImageFont.load_default()
    for x, y, text in texts:
        lines = []
        for line in text.split("\n"):
            cut = line
            while len(cut) > 1 and draw.textlength(cut if cut == line else cut + "...", font=font) > width - 4:
                cut = cut[:-1]
            lines.append(cut if cut == line else cut + "...")
        draw.multiline_text((x, y), "\n".join(lines), fill=(40, 40, 40), font=font, anchor="mm", align="center")
    return np.asarray(image, np.float32) / 255
