"""The sentences notebook 06 prints under its tables, as Markdown, computed from the results.

A notebook cell is one line (``display(Markdown(erasing_reading(results)))``), and the sentences follow the numbers
when the table changes. A variant or comparison the results lack gives a "not measured" line, never an exception.
Differences are read as the conclusion reads them (`experiments.findings.elimination_verdict`: paired over the same
scenes and noise, shown by the one rule of `metrics.paired.difference_shown`).

- `erasing_reading` (section 4): erasing, the pepperoni problem, the grain of the learned fills, the two judges;
- `textured_reading` (section 8): the textured bucket (`metrics.results.bucket_means`);
- `answer_in_short` (before section 10): the short answer, in five lines.

The readings of the short fine-tunes (section 9's strength-0.6 lines; notebook 08, part 3) are in
`experiments.budget_readings`.
"""

from __future__ import annotations

from ..metrics.judge import ELIMINATION_MARGIN_DB
from ..metrics.results import bucket_means
from .budget_readings import budget_rows, budget_verdict
from .findings import elimination_verdict, markdown_list, not_measured, rows_by_variant

#: The lite models trained on the pairs with the plain loss or CRO's mix-up schedule (``cro_const``, lambda held at
#: 0.5, is read apart: `without_mixup`), and the fills that learn nothing: the groups the readings compare.
LEARNED = ("paired", "cro_zero", "cro", "cro_sra")
CLASSICAL_FILLS = ("classical", "telea", "flat")


def span(table: dict, names, key: str, fmt: str = "{:.0f}") -> str:
    """``low to high`` of one column of ``table`` ({variant: {key: number}}) over ``names`` (those that have it)."""
    values = [table[n][key] for n in names if n in table and table[n].get(key) is not None]
    return f"{fmt.format(min(values))} to {fmt.format(max(values))}" if values else "-"


def and_list(names) -> str:
    """``paired, cro_zero, cro and cro_sra``: ``names`` as one phrase."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _has(table: dict, names, key: str) -> list[str]:
    """The variants of ``names`` whose row in ``table`` holds a number for ``key``."""
    return [n for n in names if n in table and table[n].get(key) is not None]


def erasing_reading(results: dict) -> str:
    """Notebook 06, section 4: what the ablation table says about erasing, the pepperoni problem, the grain of
    the learned fills (the texture measure on smooth and textured holes) and the two judges, as Markdown bullets
    printed from the table's own numbers (`LEARNED` against `CLASSICAL_FILLS`)."""
    rows = rows_by_variant(results)
    learned = [n for n in LEARNED if n in rows]
    need_learned = "a model trained on the pairs: " + ", ".join(LEARNED)
    lines = []
    if not learned:
        what = ("Erasing", "Smooth holes", "Textured holes", "The two judges")
        return markdown_list([not_measured(w, need_learned) for w in what] + [without_mixup(results)])

    if rows.get("baseline", {}).get("recreation_near") is None:
        lines.append(not_measured("Erasing", "the baseline with a near bucket"))
    else:
        lines.append(f"Erasing: the models trained on pairs other than cro_const "
                     f"({and_list(learned)}) eliminate {span(rows, learned, 'elimination')} % of the "
                     f"holes and re-create {span(rows, learned, 'recreation_near')} % of the near ones; the baseline "
                     f"re-creates {rows['baseline']['recreation_near']:.0f} % of the near holes (the pepperoni "
                     f"problem).")

    classical = [n for n in CLASSICAL_FILLS if n in rows]
    if classical:
        c = [rows[n]["elimination"] for n in classical]
        ml = [rows[n]["elimination"] for n in learned]
        than = ("as many as the learned models or more" if min(c) >= max(ml) else
                "fewer than the learned models" if max(c) < min(ml) else "about as many as the learned models")
        lines.append(f"Erasing needs no learning here: the classical fills eliminate "
                     f"{span(rows, classical, 'elimination')} % of the holes, {than}; they cannot paint an object. "
                     f"What learning adds shows in how a hole is filled (below).")

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
    rows = rows_by_variant(results)
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


def answer_in_short(results: dict, budget: dict | None = None) -> str:
    """Notebook 06's short answer, as five numbered Markdown lines of at most ~35 words each: (1) does ``cro_sra``
    erase, also against the same extra training without pairs; (2) the pepperoni problem in the near bucket; (3) from
    pure noise, CRO's pathway (``cro - cro_zero``: lambda = 1 - alpha_bar against 0) and SRA on top of CRO for the
    shipped models; (4) from the noised input, over the fine-tunes of ``budget``
    (``data/results/cro_where_it_matters.json``; None: not shipped), how often ``cro_zero`` is shown behind ``cro``
    and behind ``paired`` (both shown after the longest fine-tune: what ``cro_zero`` lacks is mid-noise training
    signal, not the fading path alone, since ``paired`` has no fading path), and how often ``cro - paired``, the
    fading path proper, is shown ahead, and whether after the longest fine-tune; (5) the grain of the fills on smooth
    holes. Each difference by `elimination_verdict` or, for ``budget``, by the same rule. The detail is in section
    9's strength-0.6 lines (`noised_input_reading`) and notebook 08, part 3."""
    rows = rows_by_variant(results)

    def value(variant, key, fmt):
        v = rows.get(variant, {}).get(key)
        return "not measured" if v is None else fmt.format(v)

    lines = [f"It erases: cro_sra eliminates {value('cro_sra', 'elimination', '{:.1f} %')} of the held-out holes, "
             f"the baseline {value('baseline', 'elimination', '{:.1f} %')}; against the same extra training without "
             f"pairs (cro_sra - baseline_ft): {elimination_verdict(results, 'cro_sra', 'baseline_ft')}.",
             f"The pepperoni problem: the baseline re-creates {value('baseline', 'recreation_near', '{:.0f} %')} of "
             f"the near-object holes, cro_sra {value('cro_sra', 'recreation_near', '{:.0f} %')}.",
             f"From pure noise, the shipped models: CRO's pathway (cro - cro_zero): "
             f"{elimination_verdict(results, 'cro', 'cro_zero')}; SRA on top of CRO (cro_sra - cro): "
             f"{elimination_verdict(results, 'cro_sra', 'cro')}."]
    if budget is None:
        lines.append("From the noised input: not measured here (cro_where_it_matters.json is not shipped).")
    else:
        fading, plain, pathway = (budget_rows(budget, c, 0.6) for c in ("cro - cro_zero", "paired - cro_zero",
                                                                         "cro - paired"))
        if not (fading and plain and pathway):
            lines.append("From the noised input (strength 0.6): not measured (needs the cro - cro_zero, "
                         "paired - cro_zero and cro - paired rows).")
        else:
            def ahead(rows):  # "7/7": fine-tunes shown ahead / fine-tunes run (the line must stay short)
                return f"{sum(budget_verdict(r) == 1 for r in rows)}/{len(rows)}"

            def after_longest(rows):
                longest = max(r["finetune_steps"] for r in rows)
                return longest, any(budget_verdict(r) == 1 for r in rows if r["finetune_steps"] == longest)

            steps, at_longest = after_longest(pathway)
            lacks = after_longest(fading)[1] and after_longest(plain)[1]  # both shown ahead of it at the longest
            lines.append(f"From the noised input (strength 0.6), cro_zero{',' if lacks else ' is'} shown behind cro in "
                         f"{ahead(fading)} fine-tunes and paired in {ahead(plain)}"
                         + (", lacks mid-noise training signal; " if lacks else "; ")
                         + f"cro ahead of paired (the fading path proper): {ahead(pathway)}, "
                         f"{'also' if at_longest else 'not'} at {steps} steps.")
    lines.append(f"The fills: {value('cro_sra', 'texture_smooth_within', '{:.0f} %')} of cro_sra's smooth holes lie "
                 f"within the texture band (biharmonic {value('classical', 'texture_smooth_within', '{:.0f} %')}): a "
                 f"visible grain, looked for in notebook 08.")
    return markdown_list(lines, numbered=True)
