"""Does the fill study's loss averaging help on scenes it was not chosen on? (issue "Fills that look like the
background"). An experiment, not library code: it imports `eradiff_lite`.

The fill study chose a loss averaging on `paired` and held-out scenes 0..127 (`train.config.HOLE_GRADIENT_LOSS`: the
loss over the hole's pixels, plus the squared error of its image gradient). The six fine-tunes were retrained with it
(1000 steps each from the shipped baseline, as the shipped ones) and evaluated like the shipped ones (`python -m
eradiff_lite evaluate`: 256 scenes, the same sampling seeds and noise; ``data/results/ablation_hole_gradient.json``).
This script compares each retrained variant with the shipped one (the paper's mean over the picture), scene by
scene, on scenes 128..255 (the half the averaging never saw), on 0..127 and on all 256:

- elimination in points (a scene's value is its share of seeds eliminated), a 95 % paired bootstrap interval over
  scenes and McNemar's p on "eliminated in most seeds"; the share of holes re-created before and after;
- masked PSNR in dB, with its interval;
- the texture measure on the smooth and on the textured holes apart: the change of ``|texture_log2|`` (the distance
  of the fill's high-frequency energy from the truth's, log2; negative = closer to the truth), with its interval,
  and the share of holes within the band (``|texture_log2| <= 1.5``) before and after.

Each verdict is the course's one rule (`metrics.paired.difference_shown`).

    python experiments/recipe_check.py --before data/results/ablation.json \\
        --after data/results/ablation_hole_gradient.json --out data/results/recipe_check.json
    python experiments/recipe_check.py --before data/results/ablation.json \\
        --after data/results/ablation_hole_only.json --out data/results/recipe_check_hole_only.json \\
        --variants baseline_ft paired cro_zero cro cro_sra \\
        --after-recipe "the loss over the hole only (no gradient term)"

The second line checks the same averaging without the gradient term (``loss_region="hole", gradient_weight=0``,
1000 steps from the shipped baseline as the others; cro_const was trained, not evaluated).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HALVES = {"128-255 (not used to choose)": (128, 256), "0-127 (used to choose)": (0, 128), "all": (0, 256)}
GRADIENT = "the loss over the hole + its gradient"
VARIANTS = ("baseline_ft", "paired", "cro_zero", "cro", "cro_sra", "cro_const")


def compare(before: dict, after: dict, variant: str, scenes: np.ndarray, textured: np.ndarray) -> dict:
    """``after - before`` for one variant on the scene indices ``scenes`` (``textured``: bool per scene)."""
    from eradiff_lite.metrics.paired import difference_shown, mcnemar, paired_bootstrap
    from eradiff_lite.metrics.results import scene_values
    from eradiff_lite.metrics.texture import BAND

    keys = ("eliminated", "recreated", "masked_psnr", "texture_log2")
    a, b = ({k: scene_values(r, variant, k) for k in keys} for r in (after, before))
    elim = paired_bootstrap(100 * a["eliminated"][scenes], 100 * b["eliminated"][scenes])
    test = mcnemar(a["eliminated"][scenes] > 0.5, b["eliminated"][scenes] > 0.5)
    psnr = paired_bootstrap(a["masked_psnr"][scenes], b["masked_psnr"][scenes])
    row = {"variant": variant, "scenes": int(scenes.size),
           "elimination_before": float(100 * b["eliminated"][scenes].mean()),  # as the ablation table's %
           "elimination_after": float(100 * a["eliminated"][scenes].mean()),
           "elimination_difference": elim, "p": test["p_value"],
           "elimination_verdict": difference_shown(elim["low"], elim["high"], test["p_value"]),
           "recreation_before": float(100 * b["recreated"][scenes].mean()),
           "recreation_after": float(100 * a["recreated"][scenes].mean()),
           "masked_psnr_difference": psnr, "masked_psnr_verdict": difference_shown(psnr["low"], psnr["high"])}
    for surface, pick in (("smooth", ~textured[scenes]), ("textured", textured[scenes])):
        idx = scenes[pick]
        ta, tb = a["texture_log2"][idx], b["texture_log2"][idx]
        keep = np.isfinite(ta) & np.isfinite(tb)
        ta, tb = ta[keep], tb[keep]
        dist = paired_bootstrap(np.abs(ta), np.abs(tb))
        row[f"texture_{surface}"] = {
            "holes": int(keep.sum()), "median_before": float(np.median(tb)), "median_after": float(np.median(ta)),
            "within_before": float(100 * (np.abs(tb) <= BAND).mean()),
            "within_after": float(100 * (np.abs(ta) <= BAND).mean()),
            "distance_difference": dist, "verdict": difference_shown(dist["low"], dist["high"])}
    return row


def markdown(result: dict) -> str:
    sign = {1: "up (shown)", -1: "down (shown)", 0: "not shown"}
    lines = ["# The fill study's loss averaging on scenes it was not chosen on", "",
             f"Fine-tunes retrained with {result.get('after_recipe', GRADIENT)} (after) against the shipped ones, "
             f"trained with the paper's mean over the picture (before), scene by scene (same scenes, seeds, noise). "
             f"Benchmark {result['benchmark']}; sampling {result['sampling']}; device {result['device']}. Texture: "
             f"change of |log2 HF ratio| (negative = closer to the truth's texture), share of holes within +-1.5.", "",
             "| scenes | variant | elim. before -> after % | diff. [95 % CI] | p | PSNR diff. dB [95 % CI] | "
             "smooth: within %, dist. diff. | textured: within %, dist. diff. |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        e, p = r["elimination_difference"], r["masked_psnr_difference"]
        tex = [f"{t['within_before']:.0f} -> {t['within_after']:.0f}, "
               f"{t['distance_difference']['mean']:+.2f} [{t['distance_difference']['low']:+.2f}, "
               f"{t['distance_difference']['high']:+.2f}]" for t in (r["texture_smooth"], r["texture_textured"])]
        lines.append(f"| {r['half']} | {r['variant']} | {r['elimination_before']:.0f} -> {r['elimination_after']:.0f}"
                     f" | {e['mean']:+.1f} [{e['low']:+.1f}, {e['high']:+.1f}] {sign[r['elimination_verdict']]} | "
                     f"{r['p']:.2g} | {p['mean']:+.2f} [{p['low']:+.2f}, {p['high']:+.2f}] | {tex[0]} | {tex[1]} |")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from eradiff_lite.paths import write_text_atomic

    before, after = (json.loads(Path(p).read_text()) for p in (args.before, args.after))
    for key in ("benchmark", "sampling", "profile"):
        if before.get(key) != after.get(key):
            raise SystemExit(f"error: the two results differ in {key}: compare evaluations of the same benchmark, "
                             f"seeds and sampling")
    textured = np.zeros(after["benchmark"]["scenes"], bool)
    textured[after["benchmark"]["buckets"]["textured"]] = True
    rows = []
    for half, (lo, hi) in HALVES.items():
        for variant in args.variants:
            rows.append({"half": half, **compare(before, after, variant, np.arange(lo, hi), textured)})
    result = {"after_recipe": args.after_recipe,
              "benchmark": f"{after['benchmark']['version']} ({after['benchmark']['scenes']} scenes)",
              "sampling": f"{len(after['sampling']['seeds'])} seeds, {after['sampling']['steps']} DDIM steps",
              "device": after["device"], "profile": after["profile"], "rows": rows}
    out = Path(args.out)
    write_text_atomic(out, json.dumps(result, indent=1) + "\n")
    write_text_atomic(out.with_suffix(".md"), markdown(result))
    print(markdown(result))
    return 0


def main(argv=None) -> int:
    from eradiff_lite.cliargs import Parser

    p = Parser(prog="python experiments/recipe_check.py", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", required=True, help="ablation.json of the shipped fine-tunes")
    p.add_argument("--after", required=True, help="ablation.json of the fine-tunes retrained with the other averaging")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--after-recipe", default=GRADIENT,
                   help=f"what the retrained fine-tunes changed (default: {GRADIENT})")
    p.add_argument("--out", default="data/results/recipe_check.json")
    args = p.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:  # the two files are written at the end, atomically: one line, no traceback
        again = " ".join(["python experiments/recipe_check.py", *(sys.argv[1:] if argv is None else argv)])
        print(f"interrupted; nothing was written, run it again: {again}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
