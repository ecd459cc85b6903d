"""``python -m eradiff_lite erase``: erase an object from a picture of any size with a trained lite model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.io import IMAGE_SUFFIXES, image_files

EXAMPLES = r"""
examples:
  python -m eradiff_lite erase --model data/checkpoints/cro_sra --image photo.jpg --box 120 80 200 150 \
      --out erased.png --sra
  python -m eradiff_lite erase --model data/checkpoints/baseline --image scene.png --mask mask.png \
      --out b.png --strength 0.6
  python -m eradiff_lite erase --model data/checkpoints/cro_sra --image pictures/ --mask masks/ --out erased/

The mask is white (or 1) where the object must be erased, black where the picture is kept, at the picture's
size; or give a box in the picture's pixels. Any size and mode is taken: the model erases a window around the
hole at its own resolution, and the result has the picture's size, with only the masked pixels changed.
With a folder as --image, each picture takes the mask of the same name (any image suffix) from the --mask
folder (or the same --box), and the results go to the --out folder as PNG.
"""



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eradiff_lite erase", description=__doc__, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a saved pipeline folder (e.g. data/checkpoints/cro_sra)")
    p.add_argument("--image", required=True, help="a picture (any size; greyscale, palette, RGBA, 16-bit, EXIF "
                                                  "rotation handled) or a folder of them")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--mask", help="the mask picture (white = erase), or a folder of masks named like the pictures")
    where.add_argument("--box", type=int, nargs=4, metavar=("X0", "Y0", "X1", "Y1"),
                       help="erase this box instead (pixels of the picture; x1, y1 excluded)")
    p.add_argument("--out", required=True, help="the erased PNG (or a folder, with a folder of pictures)")
    p.add_argument("--steps", type=int, default=25, help="DDIM steps (default 25)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="1 starts from noise; below 1 starts from the noised image (paper Fig. 7: 0.6)")
    p.add_argument("--sra", action="store_true", help="Self-Rectifying Attention on (rule eq10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starting noise (default 0)")
    p.add_argument("--threshold", type=float, default=0.5, help="mask level above which a pixel is erased (0.5)")
    return p


def _jobs(args) -> list[tuple[Path, Path | None, Path]]:
    """(picture, mask file or None for --box, output) for each picture to erase; refuses clashes early."""
    image = Path(args.image)
    if not image.exists():
        raise FileNotFoundError(f"--image {image} does not exist")
    if image.is_dir():
        pictures = image_files(image)
        if not pictures:
            raise FileNotFoundError(f"--image folder {image} holds no pictures ({', '.join(IMAGE_SUFFIXES)})")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} is a file, but --image is a folder: give an output folder")
        masks = {}
        if args.mask:
            if not Path(args.mask).is_dir():
                raise ValueError(f"--image is a folder, so --mask must be a folder of masks too, got {args.mask}")
            masks = {p.stem: p for p in image_files(args.mask)}
            lacking = [p.name for p in pictures if p.stem not in masks]
            if lacking:
                raise FileNotFoundError(f"no mask named like {', '.join(lacking[:5])} in {args.mask}: each picture "
                                        f"needs a mask with the same name (any image suffix), or use --box")
        jobs = [(p, masks.get(p.stem), out / f"{p.stem}.png") for p in pictures]
    else:
        jobs = [(image, Path(args.mask) if args.mask else None, Path(args.out))]
    inputs = {p.resolve() for job in jobs for p in job[:2] if p is not None}
    clashes = [str(o) for _, _, o in jobs if o.resolve() in inputs]
    if clashes:
        raise ValueError(f"--out would overwrite the input {clashes[0]}: the command never overwrites its inputs; "
                         f"choose another output")
    return jobs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tqdm.auto import tqdm

    from ..data import load_image, load_mask, save_image
    from .fullsize import box_mask, erase_full_size
    from .pipeline import EraseDiffusionPipeline

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    jobs = _jobs(args)
    pipe = EraseDiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    for picture_path, mask_path, out_path in tqdm(jobs, desc="erasing", disable=len(jobs) == 1):
        picture = load_image(picture_path)
        hole = box_mask(picture.shape, args.box) if args.box else load_mask(mask_path, threshold=args.threshold)
        result = erase_full_size(pipe, picture, hole, num_inference_steps=args.steps, strength=args.strength,
                                 sra=args.sra, seed=args.seed)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        save_image(result, out_path)
    where = jobs[0][2] if len(jobs) == 1 else Path(args.out)
    print(f"{len(jobs)} erased picture{'s' if len(jobs) > 1 else ''} written to {where}")
    return 0
