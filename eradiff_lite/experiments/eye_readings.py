"""The colour judge and the texture measure against the eye: the table and sentences notebook 06 prints from
``data/results/judge_vs_eye.json`` (``experiments/judge_vs_eye.py score``), and the paired check of two recipes
notebook 08 prints from ``data/results/judge_vs_eye_pairs.json`` (``score-pairs``).

The eye here is a labeller who saw contact sheets of fills without knowing which arm made them or what the judge
said (the labels and the key are in ``data/results/judge_vs_eye/``). A missing file or arm gives a "not measured"
line, never an exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .findings import markdown_list, not_measured

REFERENCE_ARM = "shifted_truth"  # the one arm that is not a model: the true background moved 3 px


def _mean(row: dict, prefix: str, labellers) -> float:
    return float(np.mean([row[f"{prefix}_{who}"] for who in labellers]))


def eye_table(check: dict) -> str:
    """Per arm: the judge's elimination on all 256 scenes with the sampling seed the sheets used (seed 0; the ablation
    table's figure is the mean of three seeds), the eye's (estimated from the stratified sample, the mean
    of the labellers) and the share of the sampled fills the eye called a patch, as fixed-width text."""
    who = list(check["labellers"])
    lines = [f"{'arm':24s} {'judge, seed 0: elim. %':>22s} {'eye: gone % (est.)':>19s} {'eye: patch % (sample)':>22s} "
             f"{'items':>6s}"]
    for arm, row in check["arms"].items():
        lines.append(f"{arm:24s} {row['judge_elimination']:22.1f} {_mean(row, 'eye_elimination', who):19.1f} "
                     f"{_mean(row, 'patch_share_of_sample', who):22.0f} {row['items']:6d}")
    return "\n".join(lines)


def eye_reading(check: dict | None) -> str:
    """Notebook 06, section 3c: what the eye says about the judge's two verdicts and about patches (Markdown)."""
    if not check:
        return markdown_list([not_measured("the judge against the eye", "data/results/judge_vs_eye.json")])
    who = list(check["labellers"])
    first = check["labellers"][who[0]]["table"]
    said_gone = first["judge eliminated, eye gone"] + first["judge eliminated, eye visible"]
    said_not = first["judge not, eye gone"] + first["judge not, eye visible"]
    clause = check["judge_not_but_all_eyes_gone_by_clause"]
    arms = check["arms"]
    models = [a for a in arms if a != REFERENCE_ARM]
    lines = [f"Where the judge says *eliminated*, the eye saw the object gone in "
             f"{first['judge eliminated, eye gone']} of {said_gone} fills: the judge passes no object the eye sees"
             if first["judge eliminated, eye visible"] == 0 else
             f"Where the judge says *eliminated*, the eye still saw the object in "
             f"{first['judge eliminated, eye visible']} of {said_gone} fills",
             f"Where it says *not eliminated*, the eye saw the object gone in {first['judge not, eye gone']} of "
             f"{said_not}. Every labeller agreed on {sum(clause.values())} of those: {clause['recreated']} failed the "
             f"colour clause (mostly family-coloured, yet no object), {clause['gain below 3 dB']} the 3-dB clause"]
    estimates = ", ".join(f"{a} {_mean(arms[a], 'eye_elimination', who):.0f} % "
                          f"(judge {arms[a]['judge_elimination']:.0f} %)" for a in arms)
    sampled = min(r["items"] for r in arms.values())
    lines.append(f"Estimated over all 256 scenes with seed 0 (each arm from {sampled} sampled fills, half from each "
                 f"of the judge's verdicts), the eye's elimination is {estimates}. So read the judge's elimination as "
                 f"a lower bound")
    patch = np.mean([_mean(arms[a], "patch_share_of_sample", who) for a in models]) if models else float("nan")
    within, outside = (np.mean([check["labellers"][w][k] for w in who])
                       for k in ("patch_when_texture_within", "patch_when_texture_outside"))
    if REFERENCE_ARM in arms:
        lines.append(f"Gone is not yet background: the eye called {patch:.0f} % of the models' sampled fills a patch, "
                     f"against {_mean(arms[REFERENCE_ARM], 'patch_share_of_sample', who):.0f} % for the true "
                     f"background moved 3 px")
    lines.append(f"The texture measure agrees only in part: the eye saw a patch in {outside:.0f} % of the holes "
                 f"outside its band, and still in {within:.0f} % of those within it")
    between = check.get("between_labellers")
    if between:
        lines.append(f"The {len(who)} labellers are separate blind sessions of one AI assistant, not people: they "
                     f"agree on {100 * between['object_agreement']:.0f} % of the object answers and "
                     f"{100 * between['patch_agreement']:.0f} % of the patch answers, so they share one way of looking")
    return markdown_list(lines)


def eye_examples(folder: str | Path, arm: str, k: int = 4) -> list[dict]:
    """Up to ``k`` fills of ``arm`` that the judge calls not eliminated and every labeller calls gone, one per object
    family first (from the key and labels in ``folder``: ``key.json``, ``labels_*.json``): each the key's item (its
    ``scene`` index in the 256-scene benchmark, ``family``, ``family_share``, ``gain_db``, ...)."""
    folder = Path(folder)
    key = json.loads((folder / "key.json").read_text())
    labels = [json.loads(p.read_text()) for p in sorted(folder.glob("labels_*.json"))]
    found = [item for n, item in sorted(key["items"].items(), key=lambda kv: int(kv[0]))
             if item["arm"] == arm and not item["eliminated"] and labels
             and all(lab[n]["object"] == "gone" for lab in labels)]
    first = list({item["family"]: item for item in reversed(found)}.values())[::-1]
    rest = [item for item in found if item not in first]
    return (first + rest)[:k]


def pairs_reading(pairs: dict | None) -> str:
    """Notebook 08, section 6: the two recipes' fills side by side, judged blind (Markdown): where the judge tells
    them apart, does the eye? And on scenes drawn at random, which fill blends better (a two-sided sign test)?"""
    if not pairs:
        return markdown_list([not_measured("the recipes side by side by eye", "data/results/judge_vs_eye_pairs.json")])
    from scipy.stats import binomtest

    a, b = pairs["arms"]
    labs = pairs["labellers"]
    lines = []  # each count is given per labeller, in the order of their files
    for arm in (a, b):
        rows = [lab[f"judge says only {arm}"] for lab in labs.values()]
        lines.append(f"Where the judge says only `{arm}` erased ({rows[0]['scenes']} scenes), the labellers saw the "
                     f"object equally gone in both fills in " + " and ".join(str(r["eye says the same"]) for r in rows)
                     + f"; `{arm}`'s fill more gone in " + " and ".join(str(r["eye agrees (more gone)"]) for r in rows)
                     + f". There `{arm}`'s fill blends better in " + " and ".join(str(r["blends better, this arm"])
                                                                           for r in rows)
                     + ", the other's in " + " and ".join(str(r["blends better, the other"]) for r in rows))
    shown = []
    for who, lab in labs.items():
        r = lab["random scenes"]
        wins_a, wins_b = r[f"blends: {a}"], r[f"blends: {b}"]
        p = binomtest(wins_a, wins_a + wins_b).pvalue if wins_a + wins_b else 1.0
        shown.append(p < 0.05)
        name = who.rsplit("_", 1)[-1]
        lines.append(f"On {r['scenes']} scenes drawn at random, labeller {name}: `{a}` blends better in {wins_a}, "
                     f"`{b}` in {wins_b}, no difference in {r['blends: same']} (sign test p = {p:.2f})")
    between = pairs.get("between_labellers")
    agree = f"; the labellers pick the same answer in {100 * between['blends']:.0f} % of the blend choices" \
        if between else ""
    lines.append(("A preference is shown by at least one labeller" if any(shown) else
                  "No labeller shows a preference for either recipe's fills") + agree)
    return markdown_list(lines)
