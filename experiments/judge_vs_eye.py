"""Does the colour judge agree with the eye? (issues "Learners build it" and "Fills that look like the
background"). An experiment, not library code: it imports `eradiff_lite`.

Every elimination figure of the course comes from the colour judge (`metrics.judge`): a fill is *eliminated* when it is
not mostly family-coloured (*re-created*) and is at least 3 dB closer to the true background than the object was.
This script checks that judge against people looking at the pictures, blind:

1. ``sheets``: erase the held-out benchmark (seed 0, 25 DDIM steps, SRA as each variant erases: exactly the
   evaluation's first seed) with each arm, judge every fill, and draw a stratified sample per arm: ``--per-stratum``
   scenes the judge calls eliminated and as many it does not (fewer where a stratum is smaller). The items are
   shuffled across arms and drawn on contact sheets (before | after | after with the hole outlined, 3x, nearest
   neighbour), numbered, with no arm name. The key (arm, scene, the judge's parts) goes to a separate file.
2. A labeller who has not seen the key looks at each item and records two answers: ``object``: ``gone`` (no object of
   that kind, nor a recognisable ghost of it, in the hole), ``visible`` (the object, another of its kind, or its clear
   ghost) or ``unclear``; ``patch``: ``blends`` (the hole reads as background) or ``patch`` (a blob, ring, smear or
   grain that marks the hole).
4. ``pairs``: the paired version for two arms A and B: every scene where the judge's verdicts on A and B differ,
   and ``--random`` other scenes drawn at random (for which fill blends better where the judge sees no difference),
   both fills side by side in a random order (left / right). A labeller answers ``gone``: which side has the object
   more completely gone (``left``, ``right`` or ``same``) and ``blends``: which side reads more as background. The
   score (``score-pairs``) counts how often the eye sides with the judge on the scenes where the judge tells A and B
   apart: that is the judge's difference between two recipes, checked by eye.
3. ``score``: agreement of each labeller with the judge (a 2 x 2 table on the items not ``unclear``, Cohen's kappa)
   and between labellers; per arm the eye's elimination estimated over the whole benchmark (the share ``gone`` in
   each judge stratum, weighted by the stratum's size in the 256 scenes), and where the two disagree, which of the
   judge's two clauses decided. The eye's ``patch`` answer is set beside the texture measure's band.

    python experiments/judge_vs_eye.py sheets --out runs/judge_vs_eye \\
        --arm baseline=data/checkpoints:baseline --arm cro_sra=data/checkpoints:cro_sra \\
        --arm cro_sra_hole_gradient=~/eradiff-runs/ref2-ship:cro_sra --arm shifted_truth
    python experiments/judge_vs_eye.py score --key data/results/judge_vs_eye/key.json \\
        --labels data/results/judge_vs_eye/labels_a.json data/results/judge_vs_eye/labels_b.json \\
        --out data/results/judge_vs_eye.json
    python experiments/judge_vs_eye.py pairs --out runs/judge_vs_eye_pairs \\
        --arm cro_sra=data/checkpoints:cro_sra --arm cro_sra_hole_gradient=~/eradiff-runs/ref2-ship:cro_sra
    python experiments/judge_vs_eye.py score-pairs --key data/results/judge_vs_eye/pairs_key.json \\
        --labels data/results/judge_vs_eye/pairs_labels_a.json data/results/judge_vs_eye/pairs_labels_b.json \\
        --out data/results/judge_vs_eye_pairs.json

``cro_sra_hole_gradient`` is `cro_sra` fine-tuned with the fill study's loss over the hole plus its gradient (not
shipped; evaluated in ``data/results/ablation_hole_gradient.json``); its folder is outside the repository, so the
sheets with that arm are reproducible only where it was trained; the keys and labels are committed.

Who labelled: the committed labels (``data/results/judge_vs_eye/``) come from separate sessions of an AI assistant
looking at the sheets (its image input), each blind to the key and working in another order: not independent
people. Their agreement with each other says they share one way of looking, not that people would agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from eradiff_lite.paths import write_text_atomic

SCENES, STEPS, SEED = 256, 25, 0
OBJECT_ANSWERS, PATCH_ANSWERS = ("gone", "visible", "unclear"), ("blends", "patch")
PER_SHEET, SCALE = 8, 3


def arm_fills(spec: str, bench) -> np.ndarray:
    """``N x H x W x 3`` fills in [0, 1], known pixels kept, of an arm: ``NAME=FOLDER:VARIANT`` or ``shifted_truth``."""
    import torch

    from eradiff_lite.data import to_image
    from eradiff_lite.experiments.evaluate import erase_benchmark, erase_classical, load_pipeline
    from eradiff_lite.metrics.scoring import composite
    from eradiff_lite.pipeline.shipped import find_variants

    t = bench.tensors()
    if spec == "shifted_truth":
        erased = erase_classical(bench, "shifted")
    else:
        folder, variant = spec.split("=", 1)[1].rsplit(":", 1)
        found = find_variants([Path(folder).expanduser()], [variant])
        if variant not in found:
            raise SystemExit(f"no {variant!r} pipeline under {folder}")
        pipe = load_pipeline(found[variant]["folder"])
        torch.manual_seed(0)
        erased = erase_benchmark(pipe, bench, STEPS, SEED, sra=found[variant]["sra"])
    out = composite(erased.float().clamp(-1, 1), t["x_obj"], t["mask"])
    return np.stack([to_image(o) for o in out])


def home_collapsed(text: str) -> str:
    """``text`` with the home folder written ``~`` (no machine path in a committed file)."""
    return text.replace(str(Path.home()), "~")


def judged(fills: np.ndarray, bench) -> list[dict]:
    """The judge's verdict and the texture measure of every fill."""
    from eradiff_lite.metrics.judge import judge
    from eradiff_lite.metrics.texture import texture_log2

    return [{**judge(f, s), "texture_log2": float(texture_log2(f, s.triplet.x_ori, s.triplet.mask))}
            for f, s in zip(fills, bench.scenes)]


def draw_sheet(items: list[dict], path: Path) -> None:
    """A contact sheet: per item its number, before | after | after with the hole outlined (3x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.ndimage import binary_dilation

    rows = (len(items) + 1) // 2
    fig, axes = plt.subplots(rows, 6, figsize=(12, 2.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, item in enumerate(items):
        before, after, mask = item["before"], item["after"], item["mask"]
        ring = binary_dilation(mask) & ~mask
        outlined = after.copy()
        outlined[ring] = (1.0, 0.0, 1.0)
        for j, (img, title) in enumerate(((before, "before"), (after, "after"), (outlined, "hole outlined"))):
            ax = axes[k // 2, 3 * (k % 2) + j]
            ax.imshow(np.kron(img, np.ones((SCALE, SCALE, 1))), interpolation="nearest")
            ax.set_title(f"item {item['id']}: {title}" if j == 0 else title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def make_sheets(args) -> None:
    from eradiff_lite.metrics.benchmark import load_benchmark

    bench = load_benchmark(scenes=SCENES, size=64)
    rng = np.random.default_rng(7)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    key, items = {"sampling": {"steps": STEPS, "seed": SEED, "scenes": SCENES, "image_size": 64}, "arms": {},
                  "items": {}}, []
    for spec in args.arm:
        name = spec.split("=", 1)[0]
        fills = arm_fills(spec, bench)
        verdicts = judged(fills, bench)
        elim = np.array([v["eliminated"] for v in verdicts])
        key["arms"][name] = {"spec": home_collapsed(spec if spec == "shifted_truth" else spec.split("=", 1)[1]),
                             "judge_eliminated": int(elim.sum()), "scenes": SCENES}
        for stratum in (True, False):
            pool = np.flatnonzero(elim == stratum)
            for i in rng.choice(pool, size=min(args.per_stratum, pool.size), replace=False):
                s = bench.scenes[int(i)]
                items.append({"arm": name, "scene": int(i), "family": s.family, "background": s.background,
                              **verdicts[int(i)], "before": s.triplet.x_obj, "after": fills[int(i)],
                              "mask": s.triplet.mask})
        print(f"{name}: judge eliminates {int(elim.sum())} of {SCENES}", flush=True)
    order = rng.permutation(len(items))
    items = [items[k] for k in order]
    for n, item in enumerate(items, 1):
        item["id"] = n
        key["items"][str(n)] = {k: v for k, v in item.items() if k not in ("before", "after", "mask", "id")}
    for page in range(0, len(items), PER_SHEET):
        draw_sheet(items[page:page + PER_SHEET], out / f"sheet_{page // PER_SHEET + 1:02d}.png")
    template = {str(n): {"object": "", "patch": ""} for n in range(1, len(items) + 1)}
    (out / "labels_template.json").write_text(json.dumps(template, indent=1))
    write_text_atomic(out / "key.json", json.dumps(key, indent=1))
    print(f"{len(items)} items on {(len(items) + PER_SHEET - 1) // PER_SHEET} sheets in {out}")


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two boolean raters: (observed agreement - chance agreement) / (1 - chance agreement)."""
    observed = float(np.mean(a == b))
    chance = float(np.mean(a) * np.mean(b) + np.mean(~a) * np.mean(~b))
    return (observed - chance) / (1 - chance) if chance < 1 else float("nan")


def score(args) -> None:
    key = json.loads(Path(args.key).read_text())
    labels = {Path(p).stem: json.loads(Path(p).read_text()) for p in args.labels}
    for who, lab in labels.items():
        bad = [n for n in key["items"] if lab.get(n, {}).get("object") not in OBJECT_ANSWERS
               or lab.get(n, {}).get("patch") not in PATCH_ANSWERS]
        if bad:
            raise SystemExit(f"{who}: items {bad[:10]} lack an answer ({OBJECT_ANSWERS} / {PATCH_ANSWERS})")
    ids = sorted(key["items"], key=int)
    judge_elim = np.array([key["items"][n]["eliminated"] for n in ids])
    result = {"key": {"arms": key["arms"]}, "labellers": {}, "arms": {}}
    for who, lab in labels.items():
        obj = np.array([lab[n]["object"] for n in ids])
        sure = obj != "unclear"
        eye = obj == "gone"
        table = {f"judge {'eliminated' if j else 'not'}, eye {'gone' if e else 'visible'}":
                 int(np.sum(sure & (judge_elim == j) & (eye == e))) for j in (True, False) for e in (True, False)}
        result["labellers"][who] = {"items": len(ids), "unclear": int((~sure).sum()), "table": table,
                                    "agreement": float(np.mean(eye[sure] == judge_elim[sure])),
                                    "kappa_vs_judge": cohen_kappa(eye[sure], judge_elim[sure])}
    names = list(labels)
    if len(names) >= 2:
        a = np.array([labels[names[0]][n]["object"] for n in ids])
        b = np.array([labels[names[1]][n]["object"] for n in ids])
        both = (a != "unclear") & (b != "unclear")
        pa = np.array([labels[names[0]][n]["patch"] for n in ids]) == "patch"
        pb = np.array([labels[names[1]][n]["patch"] for n in ids]) == "patch"
        result["between_labellers"] = {"object_agreement": float(np.mean(a[both] == b[both])),
                                       "object_kappa": cohen_kappa(a[both] == "gone", b[both] == "gone"),
                                       "patch_agreement": float(np.mean(pa == pb)), "patch_kappa": cohen_kappa(pa, pb)}
    for arm, info in key["arms"].items():
        row = {"judge_elimination": 100 * info["judge_eliminated"] / info["scenes"]}
        mine = [n for n in ids if key["items"][n]["arm"] == arm]
        share = info["judge_eliminated"] / info["scenes"]
        for who, lab in labels.items():
            gone = {}
            for stratum in (True, False):
                picked = [n for n in mine if key["items"][n]["eliminated"] == stratum and lab[n]["object"] != "unclear"]
                gone[stratum] = float(np.mean([lab[n]["object"] == "gone" for n in picked])) if picked else float("nan")
            row[f"eye_elimination_{who}"] = 100 * (share * gone[True] + (1 - share) * gone[False])
            row[f"eye_gone_when_judge_eliminated_{who}"] = 100 * gone[True]
            row[f"eye_gone_when_judge_not_{who}"] = 100 * gone[False]
            patch = [lab[n]["patch"] == "patch" for n in mine]
            row[f"patch_share_of_sample_{who}"] = 100 * float(np.mean(patch))
        row["items"] = len(mine)
        result["arms"][arm] = row
    clauses = {"recreated": 0, "gain below 3 dB": 0}
    for n in ids:
        item = key["items"][n]
        if not item["eliminated"] and all(lab[n]["object"] == "gone" for lab in labels.values()):
            clauses["recreated" if item["recreated"] else "gain below 3 dB"] += 1
    result["judge_not_but_all_eyes_gone_by_clause"] = clauses
    within = np.array([abs(key["items"][n]["texture_log2"]) <= 1.5 for n in ids])
    for who, lab in labels.items():
        patch = np.array([lab[n]["patch"] == "patch" for n in ids])
        result["labellers"][who]["patch_when_texture_within"] = 100 * float(np.mean(patch[within]))
        result["labellers"][who]["patch_when_texture_outside"] = 100 * float(np.mean(patch[~within]))
    write_text_atomic(args.out, json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def make_pairs(args) -> None:
    """Contact sheets of the scenes where the judge's verdicts on two arms differ, the two fills in random order."""
    from eradiff_lite.metrics.benchmark import load_benchmark

    if len(args.arm) != 2:
        raise SystemExit("pairs needs exactly two --arm")
    bench = load_benchmark(scenes=SCENES, size=64)
    names = [a.split("=", 1)[0] for a in args.arm]
    fills = [arm_fills(a, bench) for a in args.arm]
    verdicts = [judged(f, bench) for f in fills]
    differ = [i for i in range(SCENES) if verdicts[0][i]["eliminated"] != verdicts[1][i]["eliminated"]]
    rng = np.random.default_rng(11)
    others = [i for i in range(SCENES) if i not in differ]
    chosen = {i: "judge differs" for i in differ}
    chosen.update({int(i): "random" for i in rng.choice(others, size=min(args.random, len(others)), replace=False)})
    differ = list(chosen)
    rng.shuffle(differ)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    key, items = {"arms": names, "items": {}}, []
    for n, i in enumerate(differ, 1):
        left = int(rng.integers(2))
        s = bench.scenes[i]
        judged_gone = [names[k] for k in (0, 1) if verdicts[k][i]["eliminated"]]
        key["items"][str(n)] = {"scene": i, "selected": chosen[i], "left": names[left], "right": names[1 - left],
                                "judge_eliminated": judged_gone[0] if len(judged_gone) == 1 else len(judged_gone),
                                **{f"{names[k]}_{part}": verdicts[k][i][part] for k in (0, 1)
                                   for part in ("recreated", "gain_db", "texture_log2")}}
        # drawn as two items of draw_sheet: before | left | left outlined, then before | right | right outlined
        items += [{"id": f"{n} LEFT", "before": s.triplet.x_obj, "after": fills[left][i], "mask": s.triplet.mask},
                  {"id": f"{n} RIGHT", "before": s.triplet.x_obj, "after": fills[1 - left][i], "mask": s.triplet.mask}]
    for page in range(0, len(items), PER_SHEET):
        draw_sheet(items[page:page + PER_SHEET], out / f"pairs_{page // PER_SHEET + 1:02d}.png")
    (out / "labels_template.json").write_text(json.dumps({str(n): {"gone": "", "blends": ""}
                                                          for n in range(1, len(differ) + 1)}, indent=1))
    write_text_atomic(out / "key.json", json.dumps(key, indent=1))
    print(f"{len(differ)} scenes ({sum(v == 'random' for v in chosen.values())} at random, the others where the judge "
          f"tells {names[0]} and {names[1]} apart) on "
          f"{(len(items) + PER_SHEET - 1) // PER_SHEET} sheets in {out}")


def score_pairs(args) -> None:
    """How often each labeller's eye sides with the judge where the judge tells the two arms apart."""
    key = json.loads(Path(args.key).read_text())
    labels = {Path(p).stem: json.loads(Path(p).read_text()) for p in args.labels}
    answers = ("left", "right", "same")
    result = {"arms": key["arms"], "scenes": len(key["items"]), "labellers": {}}
    for who, lab in labels.items():
        bad = [n for n in key["items"] if lab.get(n, {}).get("gone") not in answers
               or lab.get(n, {}).get("blends") not in answers]
        if bad:
            raise SystemExit(f"{who}: items {bad[:10]} lack an answer ({answers} for gone and blends)")
        row = {}
        picked = [n for n, item in key["items"].items() if item.get("selected") == "random"]
        row["random scenes"] = {"scenes": len(picked)}
        for what in ("gone", "blends"):
            for arm in key["arms"]:
                side = {n: "left" if key["items"][n]["left"] == arm else "right" for n in picked}
                row["random scenes"][f"{what}: {arm}"] = sum(lab[n][what] == side[n] for n in picked)
            row["random scenes"][f"{what}: same"] = sum(lab[n][what] == "same" for n in picked)
        for arm in key["arms"]:
            mine = [n for n, item in key["items"].items() if item["judge_eliminated"] == arm
                    and item.get("selected", "judge differs") == "judge differs"]
            side = {n: ("left" if key["items"][n]["left"] == arm else "right") for n in mine}
            other = {n: ("right" if side[n] == "left" else "left") for n in mine}
            row[f"judge says only {arm}"] = {
                "scenes": len(mine), "eye agrees (more gone)": sum(lab[n]["gone"] == side[n] for n in mine),
                "eye says the same": sum(lab[n]["gone"] == "same" for n in mine),
                "eye disagrees": sum(lab[n]["gone"] == other[n] for n in mine),
                "blends better, this arm": sum(lab[n]["blends"] == side[n] for n in mine),
                "blends better, the other": sum(lab[n]["blends"] == other[n] for n in mine)}
        result["labellers"][who] = row
    names = list(labels)
    if len(names) >= 2:
        a, b = labels[names[0]], labels[names[1]]
        result["between_labellers"] = {what: float(np.mean([a[n][what] == b[n][what] for n in key["items"]]))
                                       for what in ("gone", "blends")}
    write_text_atomic(args.out, json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def main(argv=None) -> int:
    from eradiff_lite.cliargs import Parser, count

    parser = Parser(prog="python experiments/judge_vs_eye.py", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sheets")
    s.add_argument("--out", required=True)
    s.add_argument("--arm", action="append", required=True, help="NAME=FOLDER:VARIANT or shifted_truth")
    s.add_argument("--per-stratum", type=count(1), default=16)
    pr = sub.add_parser("pairs")
    pr.add_argument("--out", required=True)
    pr.add_argument("--arm", action="append", required=True, help="NAME=FOLDER:VARIANT or shifted_truth (two)")
    pr.add_argument("--random", type=count(0), default=30, help="scenes drawn at random besides those the judge splits")
    sp = sub.add_parser("score-pairs")
    sp.add_argument("--key", required=True)
    sp.add_argument("--labels", nargs="+", required=True)
    sp.add_argument("--out", required=True)
    c = sub.add_parser("score")
    c.add_argument("--key", required=True)
    c.add_argument("--labels", nargs="+", required=True)
    c.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        {"sheets": make_sheets, "score": score, "pairs": make_pairs, "score-pairs": score_pairs}[args.command](args)
    except KeyboardInterrupt:  # the key and the results are written last, atomically: one line, no traceback
        again = " ".join(["python experiments/judge_vs_eye.py", *(sys.argv[1:] if argv is None else argv)])
        print(f"interrupted; no key or result was written, run it again: {again}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
