"""Pictures for the notebooks: rows and grids of images, masks drawn as overlays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def as_image(x) -> np.ndarray:
    """A displayable ``H x W x 3`` float array from an image array, a bool mask, or a [-1, 1] tensor."""
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu()
        if x.ndim == 3 and x.shape[0] in (1, 3):
            x = (x.clamp(-1, 1) + 1) / 2 if x.min() < 0 else x
            x = x.permute(1, 2, 0)
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype == bool:
        x = x.astype(np.float32)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        x = np.dstack([x] * 3)
    if x.shape[2] == 4:  # RGBA over a checkerboard, so transparency shows
        yy, xx = np.mgrid[0:x.shape[0], 0:x.shape[1]]
        board = np.where(((yy // 8 + xx // 8) % 2)[..., None] == 0, 0.8, 0.6)
        x = x[..., :3] * x[..., 3:] + board * (1 - x[..., 3:])
    return np.clip(x, 0, 1)


def overlay_mask(image, mask, color=(1.0, 0.1, 0.1), opacity: float = 0.45) -> np.ndarray:
    """``image`` with ``mask`` (True = erase) tinted in ``color``."""
    img = as_image(image)
    m = as_image(mask)[..., :1] > 0.5
    return np.where(m, (1 - opacity) * img + opacity * np.asarray(color), img)


def show_row(images: Sequence, titles: Sequence[str] | None = None, size: float = 2.4, suptitle: str | None = None):
    """One row of images with titles; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(images), figsize=(size * len(images), size * 1.05), squeeze=False)
    for i, (ax, img) in enumerate(zip(axes[0], images)):
        ax.imshow(as_image(img), interpolation="nearest")
        ax.set_axis_off()
        if titles:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_grid(rows: Sequence[Sequence], col_titles: Sequence[str] | None = None,
              row_titles: Sequence[str] | None = None, size: float = 1.6, title: str | None = None):
    """A grid of images (a list of rows), with ``title`` above it when given; returns the figure."""
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows), squeeze=False)
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(row):
                ax.imshow(as_image(row[c]), interpolation="nearest")
            else:
                ax.set_axis_off()
            if r == 0 and col_titles:
                ax.set_title(col_titles[c], fontsize=9)
            if c == 0 and row_titles:
                ax.set_ylabel(row_titles[r], fontsize=9)
    if title:  # room for it above the column titles: about 0.4 inch at the top
        fig.suptitle(title, fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    else:
        fig.tight_layout()
    return fig


def show_sampling(out, index: int = 0, columns: int = 6, size: float = 1.6, label: str = "",
                  title: str | None = None):
    """The sampler's path for image ``index`` of an `EraseOutput` made with ``return_trajectory=True``: the
    noisy state ``x_t`` (top) and the model's clean-image estimate ``x0_hat`` at the same step (bottom), at
    ``columns`` evenly spaced steps, then the result. The object fades (or returns) in ``x0_hat``; in ``x_t``
    the noise hides it until the last steps."""
    if not out.predicted_x0:
        raise ValueError("this output has no trajectory: call the pipeline with return_trajectory=True")
    n = len(out.predicted_x0)
    picks = np.unique(np.linspace(0, n - 1, min(columns, n)).round().astype(int))
    x_t = [out.trajectory[k + 1][index] for k in picks]  # trajectory[0] is the start, [k + 1] follows step k
    x0 = [out.predicted_x0[k][index] for k in picks]
    fig = show_grid([x_t + [out.images[index]], x0], col_titles=[f"t={out.timesteps[k]}" for k in picks] + ["result"],
                    row_titles=[f"{label} x_t".strip(), f"{label} x0_hat".strip()], size=size, title=title)
    return fig


def show_heatmap_pairs(maps: dict, columns: Sequence[str] = ("plain", "SRA"), picture=None, mask=None,
                       size: float = 1.9, cmap: str = "magma", label: str | None = None, wrap: int | None = None):
    """Rows of 2-D maps compared on one colour scale per row, with that row's colour bar: ``maps`` is
    ``{row title: (map for column 0, map for column 1, ...)}`` (e.g. a layer's attention-output norm without
    and with SRA). ``picture``/``mask`` (optional): the picture is drawn once (with the hole tinted), left of a
    single row or above several, and the hole's outline on every map. ``label``: what the colour bars measure.
    ``wrap`` (optional): at most that many maps side by side; a longer row goes on below, on its own colour
    scale still, and every map of it keeps its column title (seven layers in two lines of four, say).
    Laid out with matplotlib's constrained layout, so a ``fig.suptitle`` sits just above the panels."""
    import matplotlib.pyplot as plt

    per_line = min(wrap or len(columns), len(columns))
    lines = -(-len(columns) // per_line)  # figure rows per row of maps
    side = picture is not None and len(maps) == 1  # one row: the picture beside it; several: one row above them
    top = picture is not None and not side
    n_rows, n_cols = len(maps) * lines + top, per_line + side
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols + 0.8, size * n_rows), squeeze=False,
                             layout="constrained")
    if picture is not None:
        shown_picture = picture if mask is None else overlay_mask(picture, mask)
        axes[0][0].imshow(as_image(shown_picture), interpolation="nearest")
        axes[0][0].set_title("input + hole" if mask is not None else "input", fontsize=9)
        for ax in [*(axes[0][1:] if top else ()), *(axes[1:, 0] if side else ())]:
            ax.set_axis_off()
    for r, (title, row) in enumerate(maps.items()):
        row = [np.asarray(m.detach().cpu() if isinstance(m, torch.Tensor) else m, np.float32) for m in row]
        vmin, vmax = min(float(m.min()) for m in row), max(float(m.max()) for m in row)
        block = [axes[top + r * lines + k][side + j] for k in range(lines) for j in range(per_line)]
        for c, values in enumerate(row):
            ax = block[c]
            shown = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if mask is not None:
                hole = np.asarray(mask, np.float32)
                (h, w), (big_h, big_w) = values.shape, hole.shape  # pixel centres in token coordinates
                ax.contour((np.arange(big_w) + 0.5) * w / big_w - 0.5, (np.arange(big_h) + 0.5) * h / big_h - 0.5,
                           hole, levels=[0.5], colors="cyan", linewidths=0.6)
            if r == 0:
                ax.set_title(columns[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(title, fontsize=8)
        for ax in block[len(row):]:
            ax.set_axis_off()
        fig.colorbar(shown, ax=block, fraction=0.046, pad=0.02, label=label)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def hole_crop(image, mask, margin: int = 6, scale: int = 4) -> np.ndarray:
    """The region around the hole, enlarged so that single pixels show: a 64 px picture's faint ghost or ring
    is a few pixels, too small to see in a whole-picture grid. The crop is the square around the box of
    ``mask`` (H x W, True or 1 = hole), as wide as the box's longer side plus ``margin`` pixels on each side,
    shifted (not shrunk) to stay inside the picture; each of its pixels is then repeated ``scale`` x ``scale``
    times (nearest neighbour: nothing smoothed, nothing invented). ``image``: an H x W (x C) array, cut as it
    is (a difference of two pictures keeps its sign), or a tensor or mask that `as_image` shows. Every picture
    of one scene cut with the same ``mask`` shows the same region, so a row of crops compares like with like."""
    if scale < 1 or margin < 0:
        raise ValueError(f"need scale >= 1 and margin >= 0, got scale={scale}, margin={margin}")
    picture = as_image(image) if isinstance(image, torch.Tensor) or np.asarray(image).dtype == bool \
        else np.asarray(image)
    hole = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask, np.float32).squeeze() > 0.5
    if hole.ndim != 2 or hole.shape != picture.shape[:2]:
        raise ValueError(f"need an H x W mask of the picture's size {picture.shape[:2]}, got {hole.shape}")
    if not hole.any():
        raise ValueError("the mask has no hole to crop around")
    ys, xs = np.nonzero(hole)
    (h, w), side = hole.shape, max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 + 2 * margin
    side = min(side, h, w)
    top = int(np.clip(round((ys.min() + ys.max() + 1 - side) / 2), 0, h - side))
    left = int(np.clip(round((xs.min() + xs.max() + 1 - side) / 2), 0, w - side))
    crop = picture[top:top + side, left:left + side]
    return crop.repeat(scale, axis=0).repeat(scale, axis=1)
