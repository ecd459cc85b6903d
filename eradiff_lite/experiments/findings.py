"""What the ablation table says about the paper's claims, computed from the results file.

Notebook 06 prints its conclusion from here, so the text cannot go stale when the table changes. Each
`Finding` holds a claim, the target it is held to (fixed before the runs, never tuned to the outcome),
what was measured, and a verdict: ``met``, ``missed``, ``not shown`` or ``not measured`` (a variant is missing).

Differences between two models are paired over the same scenes and starting noise (`metrics.results.paired_stats`)
and read by the course's one rule (`metrics.paired.difference_shown`): a difference is shown only when its 95 %
bootstrap interval excludes 0 and McNemar's p < 0.05. A gain that is shown is ``met`` (``missed`` when smaller than
the target asks), the opposite difference shown is ``missed``, anything else is ``not shown``: the data do not show
the gain, which does not show that there is none.

The sentences the notebooks print under their tables are in `experiments.readings` (notebook 06) and
`experiments.fill_readings` (notebook 08); they share this module's verdict wording: `elimination_verdict`,
`not_measured`, `markdown_list`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..metrics.paired import difference_shown, paired_bootstrap
from ..metrics.results import bucket_means, paired_stats
from ..variants import REFERENCES


@dataclass
class Finding:
    claim: str
    target: str
    measured: str
    verdict: str  # "met" | "missed" | "not shown" (neither the gain nor its opposite shown) | "not measured"


def rows_by_variant(results: dict) -> dict:
    """The results' rows by variant name: ``{variant: row}``."""
    return {r["variant"]: r for r in results["rows"]}


#: How a difference reads by the one rule (`metrics.paired.difference_shown`: +1, -1 or 0).
SHOWN = {1: "shown ahead", -1: "shown behind", 0: "not shown"}


def _interval(stats: dict, key: str, unit: str) -> str:
    s = stats[key]
    return f"{s['mean']:+.1f} {unit} (95 % CI {s['low']:+.1f} to {s['high']:+.1f}, {s['n']} scenes)"


def _verdict(sign: int) -> str:
    """A difference that should be positive, by the one rule: shown above 0 met, shown below 0 missed."""
    return "met" if sign > 0 else "missed" if sign < 0 else "not shown"


def _missing(claim: str, target: str, need, rows) -> Finding | None:
    lacking = [v for v in need if v not in rows or (v not in REFERENCES and "per_scene" not in rows[v])]
    return Finding(claim, target, f"needs {', '.join(lacking)}", "not measured") if lacking else None


def _level(rows, claim: str, variant: str, key: str, op: str, bound: float, what: str) -> Finding:
    """``variant``'s ``key`` (a percentage of the table) against a fixed bound."""
    target = f"{variant} {what} {op} {bound:g} %"
    if variant not in rows:
        return Finding(claim, target, f"needs {variant}", "not measured")
    value = rows[variant].get(key)
    if value is None:
        return Finding(claim, target, "no scene in this bucket", "not measured")
    met = value >= bound if op == ">=" else value <= bound
    return Finding(claim, target, f"{value:.1f} %", "met" if met else "missed")


def _gain(results, rows, a: str, b: str, claim: str, minimum: float = 0.0) -> Finding:
    """``a`` eliminates more than ``b``: the gain shown (`metrics.paired.difference_shown`: 95 % interval above 0
    and McNemar's p < 0.05) and at least ``minimum`` points on average."""
    shown = "95 % CI above 0 and McNemar p < 0.05"
    target = f"elimination {a} - {b} > {minimum:g} points, {shown}" if minimum else \
        f"elimination {a} - {b} > 0, {shown}"
    if (gap := _missing(claim, target, (a, b), rows)) is not None:
        return gap
    stats = paired_stats(results, a, b)
    e, mc = stats["elimination"], stats["mcnemar"]
    sign = difference_shown(e["low"], e["high"], mc["p_value"])
    verdict = ("met" if e["mean"] >= minimum else "missed") if sign > 0 else "missed" if sign < 0 else "not shown"
    return Finding(claim, target, f"{_interval(stats, 'elimination', 'points')}; McNemar p = {mc['p_value']:.2g} "
                                  f"({mc['n_ab']} vs {mc['n_ba']} discordant scenes)", verdict)


def findings(results: dict) -> list[Finding]:
    """The course's targets for the ablation, checked."""
    rows = rows_by_variant(results)
    out = []

    out.append(_level(rows, "the pepperoni problem is real: the baseline re-creates a same-family object",
                      "baseline", "recreation_near", ">=", 40, "re-creation in the near bucket"))
    out.append(_level(rows, "EraDiff (cro_sra) does not re-create it", "cro_sra", "recreation_near", "<=", 10,
                      "re-creation in the near bucket"))
    out.append(_level(rows, "cro_sra brings the hole close to the true background", "cro_sra", "erase_ratio_share",
                      ">=", 80, "share of scenes with erase ratio < 0.5"))
    out.append(_gain(results, rows, "cro_sra", "baseline_ft", "the fix works beyond extra training", minimum=30))
    out.append(_gain(results, rows, "cro", "cro_zero", "CRO's pathway matters (cro vs cro_zero, same weights)"))
    out.append(_gain(results, rows, "cro", "paired", "CRO beats the plain loss on the same pairs"))
    out.append(_gain(results, rows, "sra", "baseline", "SRA at inference raises the baseline's elimination"))
    out.append(_gain(results, rows, "cro_sra", "cro", "SRA on top of CRO raises elimination"))

    claim = "cro_sra's fill is closer to the true background than the flat fill"
    target = "cro_sra masked PSNR above the flat fill's, 95 % CI above 0 (fidelity to the truth, not plausibility)"
    if (gap := _missing(claim, target, ("cro_sra", "flat"), rows)) is None and "per_scene" in rows["flat"]:
        a, b = rows["cro_sra"]["masked_psnr"], rows["flat"]["masked_psnr"]
        d = paired_stats(results, "cro_sra", "flat")["masked_psnr"]
        out.append(Finding(claim, target, f"{a:.2f} dB vs flat {b:.2f} dB; difference {_interval({'d': d}, 'd', 'dB')}",
                           _verdict(difference_shown(d["low"], d["high"]))))
    else:
        out.append(gap or Finding(claim, target, "no per-scene values for flat", "not measured"))

    claim = "on textured backgrounds cro_sra continues the texture better than biharmonic inpainting"
    # masked SSIM decides; the texture ratio is shown beside it but cannot decide alone: leaving the object in
    # place also has a hole as "busy" as the truth's (tests/test_evaluate.py, findings test)
    target = ("textured bucket: masked SSIM above biharmonic's, 95 % CI above 0 (median texture log2 ratio shown, "
              "0 = the truth's)")
    textured = results["benchmark"].get("buckets", {}).get("textured", [])
    if (gap := _missing(claim, target, ("cro_sra", "classical"), rows)) is None and "per_scene" in rows["classical"] \
            and len(textured) >= 2:
        key = "texture_log2" if "texture_log2" in rows["cro_sra"]["per_scene"] else "hf_ratio"
        tex = bucket_means(results, "textured", keys=("masked_ssim", key))
        ours, bih = tex["cro_sra"], tex["classical"]
        ssim = {v: [rows[v]["per_scene"]["masked_ssim"][i] for i in textured] for v in ("cro_sra", "classical")}
        d = paired_bootstrap(ssim["cro_sra"], ssim["classical"])
        out.append(Finding(claim, target, f"SSIM {ours['masked_ssim']:.3f} vs {bih['masked_ssim']:.3f} (difference "
                                          f"{d['mean']:+.3f}, 95 % CI {d['low']:+.3f} to {d['high']:+.3f}); {key} "
                                          f"{ours[key]:+.2f} vs {bih[key]:+.2f} ({ours['scenes']} scenes)",
                           _verdict(difference_shown(d["low"], d["high"]))))
    else:
        out.append(gap or Finding(claim, target, "no per-scene values for classical", "not measured"))
    out += texture_findings(rows)
    return out


def texture_findings(rows: dict) -> list[Finding]:
    """The clean-fill targets: eliminate, and paint the background's amount of texture (`metrics.texture`): no
    speckle on smooth holes, texture on textured ones."""
    out = [_level(rows, "cro_sra eliminates the object almost always", "cro_sra", "elimination", ">=", 90,
                  "elimination")]
    if "texture_smooth_within" not in rows.get("cro_sra", {}):
        return out + [Finding("cro_sra's fills carry no speckle on smooth backgrounds", "texture measured",
                              "needs an evaluation with the texture measure", "not measured")]
    out.append(_level(rows, "cro_sra's fills carry no speckle on smooth backgrounds", "cro_sra",
                      "texture_smooth_within", ">=", 90, "share of smooth holes with abs(texture log2) <= 1.5"))
    claim = "on textured backgrounds cro_sra's fills have the texture a shifted copy of the truth has"
    target = "cro_sra's share of textured holes within +-1.5 >= the 3-px-shifted truth's"
    if "shifted" not in rows or rows["shifted"].get("texture_textured_within") is None:
        out.append(Finding(claim, target, "needs the shifted reference row", "not measured"))
    else:
        a, b = rows["cro_sra"]["texture_textured_within"], rows["shifted"]["texture_textured_within"]
        out.append(Finding(claim, target, f"{a:.1f} % vs {b:.1f} %", "met" if a >= b else "missed"))
    return out


def plain_words(results: dict) -> list[str]:
    """What the findings mean, in sentences chosen by the numbers (so they cannot go stale): how many targets
    were met, which lite model and which no-learning fill eliminate most, and, where the paper credits its ideas
    with its gains, which of those gains this table does not show (or shows the other way)."""
    rows, found = rows_by_variant(results), findings(results)
    verdicts = {f.claim: f.verdict for f in found}
    measured = [f for f in found if f.verdict != "not measured"]
    out = [f"{sum(f.verdict == 'met' for f in measured)} of {len(measured)} measured targets met."]
    models = [v for v in rows if v not in REFERENCES and "elimination" in rows[v]]
    fills = [v for v in rows if v in REFERENCES and v not in ("untouched", "shifted") and "elimination" in rows[v]]
    if models and fills:
        best, fill = (max(group, key=lambda v: rows[v]["elimination"]) for group in (models, fills))
        a, b = rows[best]["elimination"], rows[fill]["elimination"]
        out.append(f"Most eliminated: `{best}` among the lite models ({a:.1f} %), `{fill}` among the fills that "
                   f"learn nothing ({b:.1f} %)" + (": on these scenes the lite models' gain is over their own "
                                                   "baseline, not over classical inpainting." if b >= a else "."))
    quiet = {"CRO's pathway matters (cro vs cro_zero, same weights)":
             "CRO's pathway (cro vs cro_zero)",
             "CRO beats the plain loss on the same pairs": "CRO over the plain loss on the same pairs (cro vs paired)",
             "SRA on top of CRO raises elimination": "SRA on top of CRO (cro_sra vs cro)"}
    none = [what for claim, what in quiet.items() if verdicts.get(claim) == "not shown"]
    worse = [what for claim, what in quiet.items() if verdicts.get(claim) == "missed"]
    if none:
        out.append(f"No gain shown from {'; '.join(none)}, where the paper credits its ideas with its gains: each "
                   f"interval includes 0 or McNemar's p >= 0.05. That is not evidence of no effect; a small one would "
                   f"need more scenes to show.")
    if worse:
        out.append(f"Shown the other way (fewer objects eliminated): {'; '.join(worse)}.")
    if (none or worse) and verdicts.get("the fix works beyond extra training") == "met":
        out.append("The erasing shown here comes from training toward the background on the pairs.")
    return out


def conclusion_markdown(results: dict) -> str:
    """The findings as a Markdown table, with the table's provenance (profile, device, benchmark, seeds), and
    `plain_words` below it."""
    b = results["benchmark"]
    head = (f"*Computed from the results table: {results['profile']} profile, {results['device']}, "
            f"{b['version']} ({b['scenes']} scenes, {b['image_size']} px), sampling seeds "
            f"{results['sampling']['seeds']}, {results['sampling']['steps']} DDIM steps.*\n\n")
    lines = ["| claim | target | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {f.claim} | {f.target} | {f.measured} | **{f.verdict}** |" for f in findings(results)]
    lines += ["", "In plain words:", ""]
    return head + "\n".join(lines) + "\n" + markdown_list(plain_words(results))


def not_measured(what: str, needs: str) -> str:
    """The line a reading prints where the results lack what it reads: ``what: not measured (needs ...).``"""
    return f"{what}: not measured (needs {needs})."


def markdown_list(lines: list[str], numbered: bool = False) -> str:
    """``lines`` as a Markdown list (``- line``, or ``1. line`` when ``numbered``), one item per line."""
    return "\n".join(f"{i}. {line}" if numbered else f"- {line}" for i, line in enumerate(lines, 1)) + "\n"


def elimination_verdict(results: dict, a: str, b: str) -> str:
    """``+x.x points [low, high], shown ahead`` (or ``shown behind``, ``not shown``): ``a - b`` in elimination on
    every scene, paired over the same scenes and noise (`metrics.results.paired_stats`), read by the one rule
    (`metrics.paired.difference_shown`), as the conclusion reads it; ``not measured (needs ...)`` when a variant
    or its per-scene values are missing."""
    rows = rows_by_variant(results)
    lacking = [v for v in (a, b) if "per_scene" not in rows.get(v, {})]
    if lacking:
        return f"not measured (needs {', '.join(lacking)})"
    stats = paired_stats(results, a, b)
    e = stats["elimination"]
    said = SHOWN[difference_shown(e["low"], e["high"], stats["mcnemar"]["p_value"])]
    return f"{e['mean']:+.1f} points [{e['low']:+.1f}, {e['high']:+.1f}], {said}"
