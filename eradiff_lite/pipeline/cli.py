"""``python -m eradiff_lite erase``: erase the masked object from an image with a trained lite model."""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = r"""
examples:
  python -m eradiff_lite erase --model data/checkpoints/cro_sra --image scene.png --mask mask.png \
      --out erased.png --sra
  python -m eradiff_lite erase --model data/checkpoints/baseline --image scene.png --mask mask.png \
      --out b.png --strength 0.6

The mask is white (or True) where the object must be erased, black where the image is kept; both
files must have the model's size (32x32 for the shipped cpu-profile checkpoints).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eradiff_lite erase", description=__doc__, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a saved pipeline folder (e.g. data/checkpoints/cro_sra)")
    p.add_argument("--image", required=True, help="the image (PNG/JPEG; grayscale and RGBA are converted)")
    p.add_argument("--mask", required=True, help="the mask image, white = erase")
    p.add_argument("--out", required=True, help="where to write the erased PNG")
    p.add_argument("--steps", type=int, default=25, help="DDIM steps (default 25)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="1 starts from noise; below 1 starts from the noised image (paper Fig. 7: 0.6)")
    p.add_argument("--sra", action="store_true", help="Self-Rectifying Attention on (rule eq10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starting noise (default 0)")
    p.add_argument("--threshold", type=float, default=0.5, help="mask level above which a pixel is erased (0.5)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from ..data import load_mask, save_image
    from .pipeline import EraseDiffusionPipeline

    out_path = Path(args.out).resolve()
    for name in ("image", "mask"):
        if Path(getattr(args, name)).resolve() == out_path:
            raise ValueError(f"--out names the input --{name} ({args.out}): the command never overwrites its "
                             f"inputs; choose another output file")
    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    mask = load_mask(args.mask, threshold=args.threshold)
    pipe = EraseDiffusionPipeline.from_pretrained(args.model)
    out = pipe(args.image, mask, num_inference_steps=args.steps, strength=args.strength, sra=args.sra,
               generator=torch.Generator().manual_seed(args.seed))
    save_image(out.images[0], args.out)
    print(f"erased image written to {args.out}")
    return 0
