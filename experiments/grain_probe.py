"""Is the fills' grain the input's noise passed through, or a pattern the network paints? (issue "Fills that look
like the background", fill study round 7). An experiment, not library code: it imports `eradiff_lite`.

The x0_hat probe of `experiments/fill_study.py`: the UNet fed the true background noised to ``t`` (the hole and the
condition as in erasing), its clean-image estimate in the hole. Here it is run twice with two noise draws, and the
error ``x0_hat - x_ori`` is compared between the two on the smooth holes of the held-out benchmark:

- the correlation of the error's Laplacian (its high frequencies) over the hole's interior: ~0 when the grain is
  the input's noise, ~1 when it is a fixed pattern the network paints from the condition;
- the share of its energy common to the two draws (``mean(e1 e2) / mean(e1^2)``, an estimate of the fixed part);
- the texture measure (`metrics.texture.texture_log2`) on the gradient backgrounds with an inner margin of 1 to 4
  pixels: how much of it sits at the hole's rim.

    python experiments/grain_probe.py --variants paired cro_sra --out data/results/grain_probe.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import laplace

T_PROBES = (20, 300, 900)
NOISE_SEEDS = (1, 2)


def probe(unet, scheduler, x0, mask, t: int, seed: int) -> torch.Tensor:
    from eradiff_lite.models.lite import masked_image, unet_input
    from eradiff_lite.targets import to_sample

    a = scheduler.alphas_cumprod[t].float()
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    out = unet(unet_input(x_t, mask, masked_image(x0, mask)), torch.full((len(x0),), t)).sample
    return to_sample(out, x_t, a, scheduler.config.prediction_type).clamp(-1, 1)


def fixed_share(e1: np.ndarray, e2: np.ndarray, inner: np.ndarray) -> tuple[float, float]:
    """Correlation of the two errors' Laplacians on ``inner`` and the share of energy they have in common."""
    l1 = np.stack([laplace(c) for c in e1])[:, inner].ravel()
    l2 = np.stack([laplace(c) for c in e2])[:, inner].ravel()
    return float(np.corrcoef(l1, l2)[0, 1]), float((l1 * l2).mean() / max((l1 ** 2).mean(), 1e-12))


def study(name: str, bench, scheduler) -> dict:
    from eradiff_lite.data import to_image
    from eradiff_lite.metrics.texture import hole_interior, texture_log2
    from eradiff_lite.models.lite import LiteUNet
    from eradiff_lite.paths import data_dir

    unet = LiteUNet.from_pretrained(data_dir() / "checkpoints" / name / "unet", use_safetensors=True).float().eval()
    tensors = bench.tensors()
    x0, mask = tensors["x_ori"], tensors["mask"]
    smooth = np.where(~np.asarray(bench.buckets()["textured"]))[0]
    gradient = [i for i, s in enumerate(bench.scenes) if s.background == "gradient"]
    row = {"variant": name, "smooth_scenes": len(smooth), "gradient_scenes": len(gradient), "by_t": {}}
    for t in T_PROBES:
        e1, e2 = (probe(unet, scheduler, x0, mask, t, seed) - x0 for seed in NOISE_SEEDS)
        pairs = [fixed_share(e1[i].numpy(), e2[i].numpy(), hole_interior(mask[i, 0].numpy() > 0.5)) for i in smooth]
        corr, share = np.array(pairs).T
        out = e1 + x0
        margins = {str(m): float(np.median([texture_log2(to_image(out[i]), to_image(x0[i]), mask[i, 0].numpy() > 0.5,
                                                         margin=m) for i in gradient])) for m in (1, 2, 3, 4)}
        row["by_t"][str(t)] = {"laplacian_corr_median": round(float(np.median(corr)), 3),
                               "fixed_share_median": round(float(np.median(share)), 3),
                               "gradient_texture_by_margin": {k: round(v, 2) for k, v in margins.items()}}
        print(f"{name} t={t}: corr {np.median(corr):.2f}, fixed share {np.median(share):.2f}, gradient texture by "
              f"margin 1-4: " + ", ".join(f"{v:+.2f}" for v in margins.values()))
    return row


def main(argv=None) -> int:
    from eradiff_lite.cliargs import Parser, count

    p = Parser(prog="python experiments/grain_probe.py", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["paired", "cro_sra", "baseline"])
    p.add_argument("--scenes", type=count(2), default=128)
    p.add_argument("--out", default="data/results/grain_probe.json")
    args = p.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:  # nothing is written before the end: one line, no traceback
        again = " ".join(["python experiments/grain_probe.py", *(sys.argv[1:] if argv is None else argv)])
        print(f"interrupted; nothing was written, run it again: {again}", file=sys.stderr)
        return 130


def run(args) -> int:
    from eradiff_lite.metrics.benchmark import load_benchmark
    from eradiff_lite.models.lite import build_scheduler
    from eradiff_lite.paths import write_text_atomic

    torch.set_grad_enabled(False)
    bench = load_benchmark(scenes=args.scenes, size=64)
    rows = [study(v, bench, build_scheduler(1000)) for v in args.variants]
    result = {"benchmark": bench.describe(), "noise_seeds": list(NOISE_SEEDS), "t": list(T_PROBES),
              "device": f"cpu ({torch.get_num_threads()} thread(s), torch {torch.__version__})", "rows": rows}
    write_text_atomic(Path(args.out), json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
