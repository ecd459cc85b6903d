"""The sentences notebook 06 prints under its tables, as Markdown, computed from the results.

A notebook cell is one line (``display(Markdown(erasing_reading(results)))``), and the sentences follow the numbers
when the table changes. A variant or comparison the results lack gives a "not measured" line, never an exception.
Differences are read as the conclusion reads them (`experiments.findings.elimination_verdict`: paired over the same
scenes and noise, shown by the one rule of `metrics.paired.difference_shown`).

- `erasing_reading` (section 4): erasing, the pepperoni problem, the grain of the learned fills, the two judges;
- `textured_reading` (section 8): the textured bucket (`metrics.results.bucket_means`);
- `noised_input_reading` (section 9, after the conclusion): the shipped models from the noised input (strength 0.6);
- `answer_in_four_lines` (before section 10): the short answer;
- `budget_reading` and `budget_pivot` (section 11): the short fine-tunes of ``data/results/cro_where_it_matters.json``
  (``experiments/cro_budget.py``), in sentences and as one compact table of verdicts.
"""

from __future__ import annotations

from ..metrics.judge import ELIMINATION_MARGIN_DB
from ..metrics.paired import difference_shown
from ..metrics.results import bucket_means
from .findings import elimination_verdict, markdown_list, not_measured

#: The lite models trained on the pairs, and the fills that learn nothing: the groups the readings compare.
LEARNED = ("paired", "cro_zero", "cro", "cro_sra")
CLASSICAL_FILLS = ("classical", "telea", "flat")


def span(table: dict, names, key: str, fmt: str = "{:.0f}") -> str:
    """``low to high`` of one column of ``table`` ({variant: {key: number}}) over ``names`` (those that have it)."""
    values = [table[n][key] for n in names if n in table and table[n].get(key) is not None]
    return f"{fmt.format(min(values))} to {fmt.format(max(values))}" if values else "-"


def _has(table: dict, names, key: str) -> list[str]:
    """The variants of ``names`` whose row in ``table`` holds a number for ``key``."""
    return [n for n in names if n in table and table[n].get(key) is not None]


def erasing_reading(results: dict) -> str:
    """Notebook 06, section 4: what the ablation table says about erasing, the pepperoni problem, the grain of
    the learned fills (the texture measure on smooth and textured holes) and the two judges, as Markdown bullets
    printed from the table's own numbers (`LEARNED` against `CLASSICAL_FILLS`)."""
    rows = {row["variant"]: row for row in results["rows"]}
    learned = [n for n in LEARNED if n in rows]
    need_learned = "a model trained on the pairs: " + ", ".join(LEARNED)
    lines = []
    if not learned:
        what = ("Erasing", "Smooth holes", "Textured holes", "The two judges")
        return markdown_list([not_measured(w, need_learned) for w in what] + [without_mixup(results)])

    if rows.get("baseline", {}).get("recreation_near") is None:
        lines.append(not_measured("Erasing", "the baseline with a near bucket"))
    else:
        lines.append(f"Erasing: the models trained on pairs eliminate {span(rows, learned, 'elimination')} % of the "
                     f"holes and re-create {span(rows, learned, 'recreation_near')} % of the near ones; the baseline "
                     f"re-creates {rows['baseline']['recreation_near']:.0f} % of the near holes (the pepperoni "
                     f"problem).")

    smooth = _has(rows, learned, "texture_smooth_median")
    if not smooth or not _has(rows, CLASSICAL_FILLS, "texture_smooth_within"):
        lines.append(not_measured("Smooth holes", "the texture measure on the learned and the classical fills"))
    else:
        busier = "busier than" if min(rows[n]["texture_smooth_median"] for n in smooth) > 0 else "not all busier than"
        lines.append(f"Smooth holes: the learned fills' texture median is "
                     f"{span(rows, smooth, 'texture_smooth_median', '{:+.1f}')} ({busier} the truth) and "
                     f"{span(rows, smooth, 'texture_smooth_within')} % lie within the band, against "
                     f"{span(rows, CLASSICAL_FILLS, 'texture_smooth_within')} % for the classical fills: on a smooth "
                     f"background the learned fill is a visible speckled patch.")

    if not _has(rows, learned, "texture_textured_within") or rows.get("shifted", {}).get(
            "texture_textured_within") is None:
        lines.append(not_measured("Textured holes", "the texture measure and the shifted reference row"))
    else:
        lines.append(f"Textured holes: {span(rows, learned, 'texture_textured_within')} % of the learned fills lie "
                     f"within the band, the truth shifted by 3 px {rows['shifted']['texture_textured_within']:.0f} %, "
                     f"the classical fills {span(rows, CLASSICAL_FILLS, 'texture_textured_within')} %: the learned "
                     f"fills continue some texture, far less than a real texture would.")

    judged = _has(rows, learned, "elimination_classifier")
    if not judged:
        lines.append(not_measured("The two judges", "the presence classifier's column"))
    else:
        stricter = all(rows[n]["elimination_classifier"] >= rows[n]["elimination"] for n in judged)
        lines.append(f"The presence classifier finds no object in {span(rows, judged, 'elimination_classifier')} % "
                     f"of the learned fills, the colour judge calls {span(rows, judged, 'elimination')} % eliminated: "
                     f"the judge also asks the fill to be {ELIMINATION_MARGIN_DB:g} dB closer to the background than "
                     f"the object was" + (", so it is the stricter of the two." if stricter else "."))
    lines.append(without_mixup(results))
    return markdown_list(lines)


def without_mixup(results: dict) -> str:
    """The ablation's "without mix-up" control, ``cro_const`` (CRO with lambda held at 0.5): its elimination, its
    re-creation in the near bucket, and its paired difference with ``cro`` (`elimination_verdict`)."""
    rows = {row["variant"]: row for row in results["rows"]}
    what = "Without mix-up (cro_const: CRO with lambda held at 0.5, the ablation's \"without mix-up\" control)"
    const = rows.get("cro_const", {})
    if const.get("elimination") is None or const.get("recreation_near") is None:
        return not_measured(what, "cro_const with a near bucket")
    return (f"{what}: it eliminates {const['elimination']:.1f} % of the holes and re-creates "
            f"{const['recreation_near']:.1f} % of the near ones; against the mix-up schedule (cro_const - cro): "
            f"{elimination_verdict(results, 'cro_const', 'cro')}.")


def textured_reading(results: dict) -> str:
    """Notebook 06, section 8: on the textured bucket (`metrics.results.bucket_means`), are the learned fills
    closer to the true pattern than the classical ones (masked PSNR and SSIM), where does the true background
    shifted by 3 px land, and how much texture each group paints (the median texture log2 ratio)."""
    buckets = results["benchmark"].get("buckets", {})
    with_scenes = [r for r in results["rows"] if "per_scene" in r]
    if not buckets.get("textured") or not with_scenes:
        return markdown_list([not_measured("Textured backgrounds", "per-scene values and textured scenes")])
    key = "texture_log2" if "texture_log2" in with_scenes[0]["per_scene"] else "hf_ratio"
    textured = bucket_means(results, "textured", keys=("masked_psnr", "masked_ssim", key, "eliminated"))
    learned = [n for n in LEARNED if n in textured]
    fills = [n for n in CLASSICAL_FILLS if n in textured]
    if not learned or not fills or "shifted" not in textured:
        lacking = ([] if learned else ["a model trained on the pairs"]) + ([] if fills else ["a classical fill"]) \
            + ([] if "shifted" in textured else ["the shifted reference row"])
        return markdown_list([not_measured("Textured backgrounds", ", ".join(lacking))])
    worst_learned = min(textured[n]["masked_psnr"] for n in learned)
    best_fill = max(textured[n]["masked_psnr"] for n in fills)
    shifted = textured["shifted"]
    smoother = max(textured[n][key] for n in learned) < 0
    far = max(textured[n][key] for n in fills) < min(textured[n][key] for n in learned)
    return markdown_list([
        f"The learned erasers reach {span(textured, learned, 'masked_psnr', '{:.1f}')} dB and SSIM "
        f"{span(textured, learned, 'masked_ssim', '{:.2f}')}, the classical fills "
        f"{span(textured, fills, 'masked_psnr', '{:.1f}')} dB and {span(textured, fills, 'masked_ssim', '{:.2f}')}: "
        f"the learned fills are {'closer to' if worst_learned > best_fill else 'not all closer to'} the true pattern.",
        f"The true background shifted by 3 px, a perfect texture in the wrong place, scores "
        f"{shifted['masked_psnr']:.1f} dB and SSIM {shifted['masked_ssim']:.2f}: "
        f"{'below' if shifted['masked_psnr'] < worst_learned else 'not below'} every learned eraser. PSNR and SSIM "
        f"reward a fill that is right on average, so they cannot say alone whether a fill looks like the pattern.",
        f"Texture medians: learned {span(textured, learned, key, '{:+.1f}')}, classical "
        f"{span(textured, fills, key, '{:+.1f}')}, shifted {shifted[key]:+.1f} (0 = the truth's energy): the learned "
        f"fills are {'smoother than' if smoother else 'not all smoother than'} the pattern"
        + (", the classical ones far smoother." if far else "."),
    ])


def budget_rows(budget: dict, comparison: str, strength: float, scenes_of: str = "all") -> list[dict]:
    """The rows of ``budget`` for one comparison ``A - B`` at one strength, on ``scenes_of`` (all, or one kind)."""
    return [r for r in budget["rows"] if (r["comparison"], r["strength"], r.get("scenes_of", "all"))
            == (comparison, strength, scenes_of)]


def _verdict(row: dict) -> int:
    """One budget row by the one rule (`metrics.paired.difference_shown`): +1 shown ahead, -1 behind, 0 not shown."""
    return difference_shown(*row["elimination_ci95"], row["p"])


def _ahead(rows: list[dict]) -> str:
    """``k of n fine-tunes``: how many of ``rows`` are shown ahead."""
    return f"{sum(_verdict(r) == 1 for r in rows)} of {len(rows)} fine-tunes"


def _budgets(rows: list[dict]) -> str:
    """``the fine-tunes of 50 to 1000 steps at two learning rates``: the range the ``rows`` cover."""
    steps, rates = {r["finetune_steps"] for r in rows}, {r["learning_rate"] for r in rows}
    return (f"the fine-tunes of {min(steps)} to {max(steps)} steps at {len(rates)} learning "
            f"rate{'s' if len(rates) > 1 else ''}")


def answer_in_four_lines(results: dict, budget: dict | None = None) -> str:
    """Notebook 06's short answer, as a numbered Markdown list: (1) does ``cro_sra`` erase, also against the same
    extra training without pairs; (2) the pepperoni problem in the near bucket; (3) from pure noise, the fading path
    and SRA on top of CRO, and, from the noised input, over the fine-tunes of ``budget``
    (``data/results/cro_where_it_matters.json``; None: not shipped), how often ``cro_zero`` is shown behind ``cro``
    and behind ``paired`` and ``cro`` ahead of ``paired`` (and whether after the longest fine-tune); (4) the grain of
    the fills on smooth holes. Each difference by `elimination_verdict` or, for ``budget``, by the same rule."""
    rows = {row["variant"]: row for row in results["rows"]}

    def value(variant, key, fmt):
        v = rows.get(variant, {}).get(key)
        return "not measured" if v is None else fmt.format(v)

    lines = [f"It erases: cro_sra eliminates {value('cro_sra', 'elimination', '{:.1f} %')} of the held-out holes, "
             f"the baseline {value('baseline', 'elimination', '{:.1f} %')}; against the same extra training without "
             f"pairs (cro_sra - baseline_ft): {elimination_verdict(results, 'cro_sra', 'baseline_ft')}.",
             f"The pepperoni problem: the baseline re-creates {value('baseline', 'recreation_near', '{:.0f} %')} of "
             f"the near-object holes, cro_sra {value('cro_sra', 'recreation_near', '{:.0f} %')}."]
    if budget is None:
        noised = "From the noised input: not measured here (section 11's results file is not shipped)."
    else:
        fading, plain, pathway = (budget_rows(budget, c, 0.6) for c in ("cro - cro_zero", "paired - cro_zero",
                                                                         "cro - paired"))
        if not (fading and plain and pathway):
            noised = ("From the noised input (strength 0.6): not measured (needs the cro - cro_zero, "
                      "paired - cro_zero and cro - paired rows).")
        else:
            longest = max(r["finetune_steps"] for r in pathway)
            at_longest = any(_verdict(r) == 1 for r in pathway if r["finetune_steps"] == longest)
            noised = (f"From the noised input (strength 0.6), over {_budgets(fading)}: cro_zero is shown behind cro "
                      f"(cro - cro_zero) after {_ahead(fading)} and behind paired, which has no fading path either "
                      f"(paired - cro_zero), after {_ahead(plain)}; cro - paired is shown ahead after "
                      f"{_ahead(pathway)}, {'including' if at_longest else 'not'} after {longest} steps: section 11 "
                      f"(optional) shows where.")
    lines.append(f"From pure noise, the fading path (cro - cro_zero): "
                 f"{elimination_verdict(results, 'cro', 'cro_zero')}; SRA on top of CRO (cro_sra - cro): "
                 f"{elimination_verdict(results, 'cro_sra', 'cro')}. {noised}")
    lines.append(f"The fills: {value('cro_sra', 'texture_smooth_within', '{:.0f} %')} of cro_sra's smooth holes lie "
                 f"within the texture band (biharmonic {value('classical', 'texture_smooth_within', '{:.0f} %')}): a "
                 f"visible grain, looked for in notebook 08.")
    return markdown_list(lines, numbered=True)


def budget_reading(budget: dict | None) -> str:
    """Notebook 06, section 11: where, over the short fine-tunes of ``budget`` (``data/results/
    cro_where_it_matters.json``, written by ``experiments/cro_budget.py``), each comparison is shown ahead or
    behind by the one rule: from pure noise and from the noised input, split by trained and new families, SRA
    trained in, and how fine-tune length compares with the 1000-step models; then what was not run and why."""
    if budget is None:
        return markdown_list([not_measured("The short fine-tunes", "data/results/cro_where_it_matters.json: run "
                                       "experiments/cro_budget.py")])

    def where(comparison, strength, verdict, scenes_of="all"):
        """``lr 3e-04: 300, 1000 steps; ...``: the budgets at which ``comparison`` has ``verdict``."""
        found = {}
        for r in budget_rows(budget, comparison, strength, scenes_of):
            if difference_shown(*r["elimination_ci95"], r["p"]) == verdict:
                found.setdefault(r["learning_rate"], []).append(r["finetune_steps"])
        return "; ".join(f"lr {lr:.0e}: {', '.join(map(str, sorted(s)))} steps"
                         for lr, s in sorted(found.items(), reverse=True)) or "none"

    def count(comparison, strength, scenes_of="all"):
        return len(budget_rows(budget, comparison, strength, scenes_of))

    lines = []
    if not count("cro - paired", 1.0):
        lines.append(not_measured("From pure noise (strength 1)", "cro - paired rows"))
    else:
        lines.append(f"From pure noise (strength 1), cro - paired is shown ahead at: {where('cro - paired', 1.0, 1)}; "
                     f"shown behind at: {where('cro - paired', 1.0, -1)} (of {count('cro - paired', 1.0)} budgets).")
    if not (count("cro - cro_zero", 0.6) and count("cro - paired", 0.6)):
        lines.append(not_measured("From the noised input (strength 0.6)", "cro - cro_zero and cro - paired rows"))
    else:
        lines.append(f"From the noised input (strength 0.6), the fading path alone (cro - cro_zero) is shown ahead "
                     f"at: {where('cro - cro_zero', 0.6, 1)} (of {count('cro - cro_zero', 0.6)}); cro - paired is "
                     f"shown ahead at: {where('cro - paired', 0.6, 1)} (of {count('cro - paired', 0.6)}).")
    if not (count("cro - paired", 0.6, "trained families") and count("cro - paired", 0.6, "new families")):
        lines.append(not_measured("Split by family", "cro - paired rows on trained and new families"))
    else:
        lines.append(f"Split by family at strength 0.6, cro - paired is shown ahead on the trained families at: "
                     f"{where('cro - paired', 0.6, 1, 'trained families')}; on the new families (buttons, eggs) at: "
                     f"{where('cro - paired', 0.6, 1, 'new families')}, shown behind at: "
                     f"{where('cro - paired', 0.6, -1, 'new families')}.")
    sra = [difference_shown(*r["elimination_ci95"], r["p"]) for r in budget["rows"]
           if r["comparison"] == "cro_sra - cro" and r.get("scenes_of", "all") == "all"]
    lines.append(f"SRA trained in (cro_sra - cro): an elimination difference shown in {sum(v != 0 for v in sra)} of "
                 f"{len(sra)} settings." if sra else not_measured("SRA trained in", "cro_sra - cro rows"))
    longest = [r for r in budget.get("plateau", []) if r["learning_rate"] == 3e-4]
    if longest:
        behind = {}
        for r in longest:
            behind.setdefault(r["finetune_steps"], []).append(difference_shown(*r["elimination_ci95"], r["p"]) == -1)
        last = max(behind)
        lowest = min(r["elimination_ci95"][0] for r in longest if r["finetune_steps"] == last)
        lines.append(f"Fine-tune length (lr 3e-4; each variant against its own {longest[0]['against_steps']}-step "
                     f"model, both strengths): shown to erase less after "
                     + ", ".join(f"{steps} steps in {sum(v)} of {len(v)}" for steps, v in sorted(behind.items()))
                     + f"; lowest interval bound after {last} steps: {lowest:+.1f} points.")
    lines += [f"Not run: {item['what']}: {item['why'].rstrip('.')}." for item in budget.get("not_run", [])]
    return markdown_list(lines)


def noised_input_reading(budget: dict | None) -> str:
    """Notebook 06, after the conclusion: the longest fine-tunes of ``budget`` (the shipped models' 1000 steps) from
    the noised input (strength 0.6), on all scenes: whether ``cro_zero`` (CRO's weights, no fading path) falls behind
    both ``cro`` (the fading path, same weights) and ``paired`` (the plain loss's full weight, no fading path
    either), and what that says; ``cro - paired`` (the paper's claim proper) there, and over the shorter fine-tunes
    and the two kinds of family; ``cro_sra - cro``. Each line gives the difference, its 95 % interval, McNemar's p
    and the verdict by the one rule."""
    what = "From the noised input (strength 0.6)"
    if budget is None:
        return markdown_list([not_measured(what, "data/results/cro_where_it_matters.json")])

    def longest(comparison, scenes_of="all"):
        rows = budget_rows(budget, comparison, 0.6, scenes_of)
        return max(rows, key=lambda r: (r["finetune_steps"], r["learning_rate"])) if rows else None

    def said(r):
        e = r["elimination_ci95"]
        verdict = {1: "shown ahead", -1: "shown behind", 0: "not shown"}[_verdict(r)]
        return (f"{r['comparison']} {r['elimination_difference']:+.1f} points [{e[0]:+.1f}, {e[1]:+.1f}], "
                f"McNemar p {r['p']:.2g}: {verdict}")

    def where(comparison, scenes_of="all"):
        found = {}
        for r in budget_rows(budget, comparison, 0.6, scenes_of):
            if _verdict(r) == 1:
                found.setdefault(r["learning_rate"], []).append(r["finetune_steps"])
        return "; ".join(f"lr {lr:.0e}: {', '.join(map(str, sorted(s)))} steps"
                         for lr, s in sorted(found.items(), reverse=True)) or "none"

    fading, plain, pathway, sra = (longest(c) for c in ("cro - cro_zero", "paired - cro_zero", "cro - paired",
                                                        "cro_sra - cro"))
    if not (fading and plain and pathway):
        return markdown_list([not_measured(what, "cro - cro_zero, paired - cro_zero and cro - paired rows")])
    steps = pathway["finetune_steps"]
    lines = [f"The models fine-tuned {steps} steps (the shipped ones), from the noised input: {said(fading)}; "
             f"{said(plain)}."]
    if _verdict(fading) == 1 and _verdict(plain) == 1:
        lines.append("So cro_zero, which has CRO's weights and no fading path, takes the object out less often than "
                     "cro (the same weights with the fading path) and than paired (the plain loss's full weight, no "
                     "fading path either). What cro_zero lacks is training signal at the mid-noise steps where, "
                     "from the noised input, x_t still holds the object: CRO's weight there is a small fraction of "
                     "the plain loss's (notebook 03's table, the w_bar column). The fading path is one way to "
                     "supply it; the full weight is another.")
    else:
        lines.append("So the fading path and the plain loss's full weight are not both shown to help cro_zero take "
                     "the object out here.")
    trained, new = where("cro - paired", "trained families"), where("cro - paired", "new families")
    lines.append(f"The paper's claim proper, cro over the plain loss: {said(pathway)} after {steps} steps. Over all "
                 f"the fine-tunes it is shown ahead at: {where('cro - paired')}; split by family, on the trained "
                 f"families at: {trained}; on the new families (buttons, eggs) at: {new}.")
    lines.append(f"SRA trained in: {said(sra)}." if sra else not_measured("SRA trained in", "cro_sra - cro rows"))
    return markdown_list(lines)


def budget_pivot(budget: dict | None) -> str:
    """Notebook 06, section 11: every comparison of ``budget`` at a glance, as fixed-width text. One row per
    comparison, strength and kind of scenes (all, trained families, new families), one column per learning rate
    and fine-tune length; a cell is ``+`` (A shown ahead of B in elimination, by the one rule), ``-`` (shown behind)
    or ``.`` (not shown); a setting that was not run is blank. The numbers behind each cell stay in the file."""
    if budget is None or not budget.get("rows"):
        return not_measured("The short fine-tunes", "data/results/cro_where_it_matters.json") + "\n"
    rows = budget["rows"]
    columns = sorted({(r["learning_rate"], r["finetune_steps"]) for r in rows}, key=lambda c: (-c[0], c[1]))
    kinds = ["all", "trained families", "new families"]
    kinds += sorted({r.get("scenes_of", "all") for r in rows} - set(kinds))
    order = ["cro - cro_zero", "paired - cro_zero", "cro - paired", "cro_sra - cro"]
    order += sorted({r["comparison"] for r in rows} - set(order))
    cell = {(r["comparison"], r["strength"], r.get("scenes_of", "all"), r["learning_rate"], r["finetune_steps"]):
            "+-."[[1, -1, 0].index(_verdict(r))] for r in rows}
    width = max(5, *(len(str(s)) + 1 for _, s in columns))
    rates = []
    for lr, _ in columns:
        if not rates or rates[-1][0] != lr:
            rates.append([lr, 0])
        rates[-1][1] += 1
    label = 10 + 19 + 18
    head = " " * label + "  ".join(f"{'lr ' + format(lr, '.0e'):^{n * width}s}" for lr, n in rates)
    steps = f"{'strength':10s}{'comparison A - B':19s}{'scenes':18s}" + "  ".join(
        "".join(f"{s:>{width}d}" for l2, s in columns if l2 == lr) for lr, _ in rates)
    lines = [f"+ A shown ahead of B, - shown behind, . not shown (elimination, by the one rule); columns: learning "
             f"rate, then fine-tune steps; {budget.get('benchmark', {}).get('scenes', '?')} scenes x "
             f"{budget.get('seeds', '?')} seeds", head, steps]
    for strength in sorted({r["strength"] for r in rows}, reverse=True):
        for comparison in order:
            for kind in kinds:
                if not any((comparison, strength, kind) == k[:3] for k in cell):
                    continue
                marks = "  ".join("".join(f"{cell.get((comparison, strength, kind, l2, s), ''):>{width}s}"
                                          for l2, s in columns if l2 == lr) for lr, _ in rates)
                lines.append(f"{strength:<10.1f}{comparison:19s}{kind:18s}{marks}")
    return "\n".join(lines) + "\n"
