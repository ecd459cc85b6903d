"""``python -m eradiff_lite erase``: erase an object from a picture of any size with a trained lite model
(64 px, trained on generated scenes: a photo gets a blurry patch; notebook 07 erases photos with Stable Diffusion)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cliargs import Parser, count, number, seed
from ..data.io import IMAGE_SUFFIXES, image_files
from ..paths import check_separate

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
folder (or the same --box), and the results go to the --out folder as PNG; a picture that cannot be erased
(unreadable, no mask, a bad mask) is named and skipped, the others are erased, and the exit status is 1.

Scope: the lite models work at 64 px and were trained on generated scenes. On a photo they fill the hole with a
smooth, blurry patch (the window around the hole is erased at 64 px and scaled back up); for photos use the
Stable Diffusion eraser of notebook 07 (notebooks/07_stable_diffusion.ipynb).
"""

#: A picture whose erased window is this many times the model's side comes back visibly blurry.
BLURRY_SCALE = 3


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m eradiff_lite erase", description=__doc__, epilog=EXAMPLES,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a saved pipeline folder (e.g. data/checkpoints/cro_sra)")
    p.add_argument("--image", required=True, help="a picture (any size; greyscale, palette, RGBA, 16-bit, EXIF "
                                                  "rotation handled) or a folder of them")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--mask", help="the mask picture (white = erase), or a folder of masks named like the pictures")
    where.add_argument("--box", type=count(0), nargs=4, metavar=("X0", "Y0", "X1", "Y1"),
                       help="erase this box instead (pixels of the picture; x1, y1 excluded)")
    p.add_argument("--out", required=True, help="the erased PNG (or a folder, with a folder of pictures)")
    p.add_argument("--steps", type=count(1), default=25, help="DDIM steps (default 25)")
    p.add_argument("--strength", type=number(0, 1, low_open=True), default=1.0,
                   help="1 starts from noise; below 1 starts from the noised image (the course probes 0.6)")
    p.add_argument("--sra", action="store_true", help="Self-Rectifying Attention on (rule eq10)")
    p.add_argument("--seed", type=seed(), default=0, help="seed of the starting noise (default 0)")
    p.add_argument("--threshold", type=number(0, 1, high_open=True), default=0.5,
                   help="mask level above which a pixel is erased (0.5)")
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
            if not masks:
                raise FileNotFoundError(f"--mask folder {args.mask} holds no masks ({', '.join(IMAGE_SUFFIXES)})")
        check_separate({"--image": image, **({"--mask": args.mask} if args.mask else {})}, {"--out": out},
                       nested=False)
        # a picture without a mask (None with --mask) is one bad item of the batch, not a reason to erase none
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

    from ..data import EraseMask, load_image, save_image
    from ..pipeline import EraseDiffusionPipeline
    from ..pipeline.fullsize import erase_full_size, erase_window

    jobs = _jobs(args)
    pipe = EraseDiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    side, batch = int(pipe.unet.config.sample_size), Path(args.image).is_dir()
    failed, blurry = [], []
    for picture_path, mask_path, out_path in tqdm(jobs, desc="erasing", disable=not batch):
        try:
            if args.mask and mask_path is None:
                raise FileNotFoundError(f"no mask named like it in {args.mask} (a mask with the same name, any "
                                        f"image suffix)")
            picture = load_image(picture_path)
            # the mask's one check, where it enters; from here on it is passed down as it is
            hole = (EraseMask.from_box(picture.shape, args.box) if args.box else
                    EraseMask.from_file(mask_path, threshold=args.threshold, image_shape=picture.shape))
            if erase_window(picture, hole, side)[2] >= BLURRY_SCALE * side:
                blurry.append(picture_path.name)
            result = erase_full_size(pipe, picture, hole, num_inference_steps=args.steps, strength=args.strength,
                                     sra=args.sra, seed=args.seed)
            save_image(result, out_path)  # atomic; makes the folder
        except (ValueError, OSError) as err:  # a bad item: name it, go on with the others
            if not batch:
                raise
            failed.append(picture_path.name)
            tqdm.write(f"error: {picture_path.name}: {' '.join(str(err).split())}", file=sys.stderr)
    if blurry:
        print(f"note: {', '.join(blurry[:3])}{' ...' if len(blurry) > 3 else ''}: the hole's window is "
              f"{BLURRY_SCALE}x or more the model's {side} px, so the fill comes back as a blurry patch; this lite "
              f"model works at {side} px on generated scenes: for photos use notebook 07's Stable Diffusion eraser")
    done = len(jobs) - len(failed)
    where = jobs[0][2] if not batch else Path(args.out)
    print(f"{done} erased picture{'s' if done != 1 else ''} written to {where}")
    if failed:
        print(f"error: {len(failed)} of {len(jobs)} pictures not erased: {', '.join(failed[:10])}"
              f"{' ...' if len(failed) > 10 else ''}", file=sys.stderr)
        return 1
    return 0
