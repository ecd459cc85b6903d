"""The README's result picture (docs/result.png): the shipped models on held-out scenes, not picked by their result.

    python tools/result_figure.py docs/result.png

The scenes are the first four of the held-out benchmark's *near* bucket (a same-family object right beside the hole:
the pepperoni problem's setting), whatever the models do there. Rows: the input with its hole, the baseline,
`cro_sra` (EraDiff-lite, SRA on), biharmonic inpainting (no learning) and the true background. Each model fill is
erased with the evaluation's first seed and noise (`experiments.evaluate.erase_benchmark`) and carries the colour
judge's verdict (`metrics.judge`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eradiff_lite.experiments.evaluate import erase_benchmark, load_pipeline  # noqa: E402
from eradiff_lite.metrics.benchmark import load_benchmark  # noqa: E402
from eradiff_lite.metrics.classical import inpaint_classical  # noqa: E402
from eradiff_lite.metrics.judge import judge  # noqa: E402
from eradiff_lite.paths import atomic_write  # noqa: E402
from eradiff_lite.pipeline.shipped import find_variants  # noqa: E402
from eradiff_lite.viz import as_image, overlay_mask  # noqa: E402

SCENES, SIZE, STEPS, SEED, SHOWN = 256, 64, 25, 0, 4


def verdict(fill: np.ndarray, scene) -> str:
    v = judge(fill, scene)
    return "re-created" if v["recreated"] else "eliminated" if v["eliminated"] else "not eliminated"


def draw(out: Path, checkpoints: Path | None = None) -> Path:
    bench = load_benchmark(scenes=SCENES, size=SIZE)
    picked = [int(i) for i in np.flatnonzero(bench.buckets()["near"])[:SHOWN]]
    scenes = [bench.scenes[i] for i in picked]
    variants = find_variants([checkpoints] if checkpoints else None, ["baseline", "cro_sra"])
    rows = [("input + hole", [overlay_mask(s.triplet.x_obj, s.triplet.mask) for s in scenes], None)]
    for name in ("baseline", "cro_sra"):
        result = erase_benchmark(load_pipeline(variants[name]["folder"]), bench, STEPS, SEED, sra=variants[name]["sra"],
                                 indices=picked)
        fills = [np.where(s.triplet.mask[..., None], img, s.triplet.x_obj) for s, img in zip(scenes, result.images)]
        rows.append((name + (" (EraDiff-lite)" if name == "cro_sra" else ""), fills,
                     [verdict(f, s) for f, s in zip(fills, scenes)]))
    classical = [inpaint_classical(s.triplet.x_obj, s.triplet.mask) for s in scenes]
    rows.append(("biharmonic (no learning)", classical, [verdict(f, s) for f, s in zip(classical, scenes)]))
    rows.append(("true background", [s.triplet.x_ori for s in scenes], None))
    fig, axes = plt.subplots(len(rows), SHOWN, figsize=(1.9 * SHOWN + 1.2, 2.05 * len(rows)), squeeze=False)
    for r, (title, images, verdicts) in enumerate(rows):
        for c, image in enumerate(images):
            ax = axes[r][c]
            ax.imshow(as_image(image), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"scene {picked[c]} ({scenes[c].family})", fontsize=9)
            if c == 0:
                ax.set_ylabel(title, fontsize=9)
            if verdicts:
                ax.set_xlabel(f"judge: {verdicts[c]}", fontsize=8)
    fig.suptitle("The first four near-object scenes of the held-out benchmark (not picked), seed 0", fontsize=10)
    fig.tight_layout()
    with atomic_write(out) as tmp:
        fig.savefig(tmp, dpi=72, format=out.suffix.lstrip(".") or "png")
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(draw(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/result.png")))
