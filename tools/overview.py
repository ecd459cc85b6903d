"""The course's overview figure (docs/overview.png): the method from data to evaluation, drawn from real parts.

    python tools/overview.py docs/overview.png

Each panel is computed by the package: a procedural triplet (notebook 01), its dynamic images along t on the
cosine schedule of the lite model (02), one CRO jump target (03), the Eq. 10 mask of SRA (04), and the
held-out measures (06). Nothing in it is drawn by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from eradiff_lite.data import make_scene, triplet_to_tensors  # noqa: E402
from eradiff_lite.models.lite import build_scheduler  # noqa: E402
from eradiff_lite.schedule import dynamic_image, mixup_lambdas  # noqa: E402
from eradiff_lite.sra import flat_mask, sra_allowed  # noqa: E402
from eradiff_lite.viz import as_image, overlay_mask  # noqa: E402


def draw(out: Path) -> Path:
    scene = make_scene(21, 64, split="train", family="pepperoni")
    t3 = triplet_to_tensors(scene.triplet)
    ab = build_scheduler(1000, beta_schedule="squaredcos_cap_v2").alphas_cumprod
    lam = mixup_lambdas(ab)
    steps = [0, 300, 600, 900]
    mask = torch.from_numpy(scene.triplet.mask)[None, None].float()
    m = flat_mask(mask, (16, 16))
    query = int(m[0].nonzero()[0])  # a token inside the hole
    may_read = sra_allowed(m, "eq10")[0, query].reshape(16, 16).float()

    fig, axes = plt.subplots(1, 9, figsize=(15.5, 2.6), gridspec_kw={"width_ratios": [1] * 7 + [0.15, 2.4]})
    panels = [(overlay_mask(scene.triplet.x_obj, scene.triplet.mask), "1 · data (01)\nx_obj + the mask"),
              (scene.triplet.x_ori, "the target\nx_ori")]
    panels += [(as_image(dynamic_image(t3["x_ori"], t3["x_obj"], lam[t])),
                (f"2 · mix-up path (02)\nt={t}, λ={lam[t]:.2f}" if i == 0 else f"\nt={t}, λ={lam[t]:.2f}"))
               for i, t in enumerate(steps)]
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(as_image(image), interpolation="nearest")
        ax.set_title(title, fontsize=8)
    ax = axes[6]
    ax.imshow(as_image(scene.triplet.x_obj), interpolation="nearest")
    ax.imshow(may_read, cmap="gray", alpha=0.55, extent=(-0.5, 63.5, 63.5, -0.5), interpolation="nearest")
    qy, qx = divmod(query, 16)
    ax.plot(qx * 4 + 1.5, qy * 4 + 1.5, "c*", ms=9)
    ax.set_title("4 · SRA (04): what a hole\nquery (*) may read (light)", fontsize=8)
    for ax in axes[:7]:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[7].set_axis_off()
    axes[8].set_axis_off()
    axes[8].text(0, 0.5, "3 · CRO (03): one DDIM jump from t\n   must land on the path at t - γ\n"
                         "5 · training (05): baseline, then\n   fine-tunes with controls\n"
                         "6 · evaluation (06): object gone?\n   re-created as another one?\n"
                         "   paired statistics, held-out scenes", fontsize=8, va="center")
    fig.suptitle("EraDiff-lite: train on a path along which the object fades out, and keep the hole from "
                 "reading itself", fontsize=10, y=1.04)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90, bbox_inches="tight")
    return out


if __name__ == "__main__":
    print(draw(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/overview.png")))
