"""The sentences notebook 08 prints under the fill study, as Markdown, computed from its result files.

``data/results/fill_study.json`` (``experiments/fill_study.py``: one training change per arm, scored on the texture
measure and on erasing), ``recipe_check.json`` (the shipped variants retrained with the loss over the hole plus its
gradient, scored on the benchmark half that did not choose it) and ``recipe_check_hole_only.json`` (the same
without the gradient term); and the fill study's compact table and each arm's difference against its control,
which the notebook shows above the full tables. A row a file lacks gives a "not measured" line, never an exception.
"""

from __future__ import annotations

from ..train.report import fill_study_arms
from .findings import markdown_list, not_measured

#: Notebook 08's fill study: each arm that changes one setting of training or sampling, and the arm it is read
#: against (its control: the same weights or run without that change).
FILL_STUDY_CONTROLS = {"continue": "shipped baseline", "snr+1": "continue", "max(snr,1)": "continue",
                       "refine16": "continue", "shipped baseline, 100 steps": "shipped baseline",
                       "paired_continue": "shipped paired", "paired_dilate1-4": "paired_continue",
                       "paired_anneal": "paired_continue", "paired_polyak": "paired_continue"}


def gradient_alone(ema: dict, control: str, best: str, arm: str = "paired_gradient") -> str:
    """One sentence on the image-gradient term alone, the loss still the mean over the whole picture (``arm``),
    against ``control`` and ``best`` ({arm: erase scores of its EMA weights}); empty when the study lacks one."""
    if not {arm, control, best} <= set(ema):
        return ""
    g, c = ema[arm], ema[control]
    than = "less" if g["smooth"]["within"] < ema[best]["smooth"]["within"] else "as much or more"
    return (f" The gradient term alone, the loss still over the whole picture ({arm}), moves {than}: "
            f"{g['smooth']['within']:.0f} % of smooth and {g['textured']['within']:.0f} % of textured holes within "
            f"the band, {g['elimination']:.0f} % of scenes eliminated (its control {c['smooth']['within']:.0f} %, "
            f"{c['textured']['within']:.0f} %, {c['elimination']:.0f} %).")


def fill_study_reading(fill_study: dict, recipe_check: dict, half: str = "128-255",
                       best: str = "paired_hole_gradient", control: str = "paired_continue",
                       small: float = 10.0) -> str:
    """Notebook 08, section 6: the fill study (``data/results/fill_study.json``; arms by
    `train.report.fill_study_arms`) and its recipe check (``recipe_check.json``, scored on the benchmark half
    starting with ``half``, which did not choose the recipe) in three Markdown bullets: how far a setting of
    training or sampling moves the share of smooth holes within the texture band against its control
    (`FILL_STUDY_CONTROLS`); what the loss over the hole with the gradient term (``best``) does against ``control``,
    and on the pan, a surface no model saw; and which variants, retrained with it, erase fewer scenes. A move, or a
    share of pan holes within the band, under ``small`` points counts as none ("no setting removes the grain")."""
    arms = fill_study_arms(fill_study)
    ema = {arm: weights["EMA"]["erase"] for arm, weights in arms.items() if "EMA" in weights}
    lines = []
    moves = {arm: ema[arm]["smooth"]["within"] - ema[ctrl]["smooth"]["within"]
             for arm, ctrl in FILL_STUDY_CONTROLS.items() if arm in ema and ctrl in ema}
    if "continue" in ema and "raw" in arms.get("continue", {}):
        moves["continue, raw weights"] = arms["continue"]["raw"]["erase"]["smooth"]["within"] - \
            ema["continue"]["smooth"]["within"]
    settings = ("longer training, raw instead of EMA weights, 100 sampling steps, SNR weighting, a refine head, "
                "dilated holes, an annealed rate, a weight average")
    if not moves:
        lines.append(not_measured("Settings of training or sampling", "arms with their controls"))
    else:
        largest = max(moves, key=lambda arm: abs(moves[arm]))
        if abs(moves[largest]) < small:
            lines.append(f"No setting of training or sampling removes the grain: {settings}: none moves the share of "
                         f"smooth holes within the band by more than {abs(moves[largest]):.0f} points against its "
                         f"control (largest: {largest}, {moves[largest]:+.0f}).")
        else:
            lines.append(f"Of the settings of training or sampling ({settings}), {largest} moves the share of smooth "
                         f"holes within the band most: {moves[largest]:+.0f} points against its control.")
    if best not in ema or control not in ema:
        lines.append(not_measured("The loss over the hole", f"{best} and {control}"))
    else:
        b, c = ema[best], ema[control]
        most = max(ema, key=lambda arm: ema[arm]["smooth"]["within"])
        erasers = ("paired", "shipped paired", "shipped cro_sra")
        pan = [r["erase"]["by_surface"]["pan"] for r in fill_study["rows"]
               if r["name"].startswith(erasers) and "pan" in r["erase"]["by_surface"]]
        pan_said = "" if not pan else (
            f" {'No arm helps the pan' if max(s['within'] for s in pan) < small else 'On the pan'}, a surface no "
            f"model saw in training: the erasers' median fill there is {min(s['median'] for s in pan):+.1f} to "
            f"{max(s['median'] for s in pan):+.1f} (log2), with at most {max(s['within'] for s in pan):.0f} % of its "
            f"holes within the band.")
        lines.append(f"Averaging the loss over the hole, plus the error of the image gradient ({best}), moves the "
                     f"fills {'most' if most == best else f'(most: {most})'}: {b['smooth']['within']:.0f} % of smooth "
                     f"and {b['textured']['within']:.0f} % of textured holes within the band, against "
                     f"{c['smooth']['within']:.0f} % and {c['textured']['within']:.0f} % for its control, with "
                     f"{b['elimination']:.0f} % of scenes eliminated against {c['elimination']:.0f} %."
                     + gradient_alone(ema, control, best) + pan_said)
    by = {r["variant"]: r for r in recipe_check["rows"] if r["half"].startswith(half)}
    if not {"paired", "cro_sra"} <= set(by):
        lines.append(not_measured("The recipe check", f"paired and cro_sra on scenes {half}"))
    else:
        scenes = next(iter(by.values()))["half"].split()[0]
        down = [v for v, r in by.items() if r["elimination_verdict"] == -1]
        p, s = by["paired"], by["cro_sra"]
        p_smooth, s_smooth = p["texture_smooth"], s["texture_smooth"]
        more = all(r["within_after"] > r["within_before"] for r in (p_smooth, s_smooth))
        gained = (f"{'more' if more else 'not more'} smooth holes fall within the band for paired "
                  f"({p_smooth['within_before']:.0f} -> "
                  f"{p_smooth['within_after']:.0f} %) and cro_sra ({s_smooth['within_before']:.0f} -> "
                  f"{s_smooth['within_after']:.0f} %)")
        how = {0: "as often as", 1: "more often than", -1: "less often than"}[p["elimination_verdict"]]
        kept = (f"paired erases {how} before "
                f"({p['elimination_before']:.1f} -> {p['elimination_after']:.1f} %)")
        cost = (f", but {', '.join(down)} erase fewer scenes ("
                + ", ".join(f"{by[v]['elimination_before']:.1f} -> {by[v]['elimination_after']:.1f} %" for v in down)
                + ", each drop shown by the course's rule): so the shipped models keep the paper's loss, a mean over "
                  "the whole picture." if down else "; no variant erases fewer scenes by the course's rule.")
        lines.append(f"Retrained with that loss and scored on scenes {scenes}, which did not choose it: {gained}, "
                     f"and {kept}{cost}")
    return markdown_list(lines)


def hole_only_reading(hole_only: dict, half: str = "128-255") -> str:
    """Notebook 08, section 6: the recipe check retrained with the loss over the hole only, without the gradient
    term (``data/results/recipe_check_hole_only.json``), on the benchmark half starting with ``half``: each
    variant's elimination before and after with its verdict, and whether the CRO-loss variants lose erasing
    without the gradient term too."""
    rows = [r for r in hole_only["rows"] if r["half"].startswith(half)]
    if not rows:
        return markdown_list([not_measured("The loss over the hole only", f"rows on scenes {half}")])
    said = {1: "up, shown", -1: "down, shown", 0: "not shown"}
    lines = [f"Retrained with {hole_only['after_recipe']}, the same scenes: " + "; ".join(
        f"{r['variant']} {r['elimination_before']:.1f} -> {r['elimination_after']:.1f} % "
        f"({said[r['elimination_verdict']]})" for r in rows) + "."]
    cro_like = [r for r in rows if r["variant"] in ("cro_zero", "cro", "cro_sra")]
    if cro_like and all(r["elimination_after"] < r["elimination_before"] for r in cro_like) and \
            any(r["elimination_verdict"] == -1 for r in cro_like):
        lines.append("The CRO-loss variants erase fewer scenes without the gradient term too: the averaging over the "
                     "hole, not the gradient term, is what costs them erasing.")
    return markdown_list(lines)


#: Notebook 08's fill study, each idea it tried and the arms that try it (their EMA rows, each read against its
#: control in `FILL_STUDY_CONTROLS`, or paired_continue). The compact table shows, per idea, the arm with the most
#: smooth holes within the texture band, under its control.
FILL_STUDY_IDEAS = {"baseline: a setting of training or sampling": ("snr+1", "max(snr,1)", "refine16",
                                                                    "shipped baseline, 100 steps"),
                    "eraser: a setting of training": ("paired_dilate1-4", "paired_anneal", "paired_polyak"),
                    "eraser: the training data": ("paired_smooth_only",),
                    "eraser: the loss": ("paired_gradient", "paired_hole", "paired_hole_gradient")}

#: Notebook 08's fill study: (arm's row, its control's row) for the differences printed under the full table.
FILL_STUDY_PAIRS = (("snr+1 (EMA)", "continue (EMA)"), ("max(snr,1) (EMA)", "continue (EMA)"),
                    ("refine16 (EMA)", "continue (EMA)"), ("continue (EMA)", "shipped baseline (6000 steps)"),
                    ("continue (raw weights)", "continue (EMA)"),
                    ("shipped baseline, 100 steps", "shipped baseline (6000 steps)"),
                    ("paired_continue (EMA)", "shipped paired"), ("paired_dilate1-4 (EMA)", "paired_continue (EMA)"),
                    ("paired_anneal (EMA)", "paired_continue (EMA)"), ("paired_polyak (EMA)", "paired_continue (EMA)"),
                    ("paired_smooth_only (EMA)", "paired_continue (EMA)"),
                    ("paired_gradient (EMA)", "paired_continue (EMA)"), ("paired_hole (EMA)", "paired_continue (EMA)"),
                    ("paired_hole_gradient (EMA)", "paired_continue (EMA)"),
                    *((f"scratch_nostem at {n} steps (EMA)", f"scratch_stem at {n} steps (EMA)")
                      for n in (300, 500, 700)))


def _table_row(name: str, role: str, erase: dict) -> str:
    cell = lambda s: f"{s['median']:+.2f} / {s['within']:.0f}"  # noqa: E731
    return (f"| {name} | {role} | {cell(erase['smooth'])} | {cell(erase['textured'])} | "
            f"{erase['elimination']:.0f} | {erase['recreation_near']:.0f} |")


def fill_study_compact(fill_study: dict) -> str:
    """Notebook 08, section 6: the rows of the fill study (``data/results/fill_study.json``) a reader needs for its
    reading, as one Markdown table: the reference fills, the shipped models, and per idea of `FILL_STUDY_IDEAS` the
    EMA row of the arm with the most smooth holes within the texture band (under its control), then the
    from-scratch pair at the most steps both reached. Rows the file lacks are left out; no row gives a "not
    measured" line."""
    rows = fill_study.get("rows", [])
    arms = {arm: w["EMA"] for arm, w in fill_study_arms(fill_study).items() if "EMA" in w}
    lines = ["| row | why it is here | smooth: median log2 / % within | textured | elimination % | "
             "near re-creation % |", "|---|---|---|---|---|---|"]
    lines += [_table_row(r["name"], "reference fill", r["erase"]) for r in rows if r.get("reference")]
    tried = {arm for candidates in FILL_STUDY_IDEAS.values() for arm in candidates}
    lines += [_table_row(r["name"], "shipped model", r["erase"]) for r in rows
              if r["name"].startswith("shipped") and r["name"] not in tried and not r.get("reference")]
    shown = {line.split(" | ")[0][2:] for line in lines[2:]}
    for idea, candidates in FILL_STUDY_IDEAS.items():
        present = [a for a in candidates if a in arms and arms[a]["name"] not in shown]
        if not present:
            continue
        best = max(present, key=lambda a: arms[a]["erase"]["smooth"]["within"])
        control = FILL_STUDY_CONTROLS.get(best, "paired_continue")
        if control in arms and arms[control]["name"] not in shown:
            lines.append(_table_row(arms[control]["name"], "control", arms[control]["erase"]))
            shown.add(arms[control]["name"])
        lines.append(_table_row(arms[best]["name"], f"best arm of {idea}", arms[best]["erase"]))
        shown.add(arms[best]["name"])
    steps = [n for n in (int(a.split(" at ")[1].split()[0]) for a in arms if a.startswith("scratch_stem at "))
             if f"scratch_nostem at {n} steps" in arms]
    if steps:
        for arm in (f"scratch_stem at {max(steps)} steps", f"scratch_nostem at {max(steps)} steps"):
            lines.append(_table_row(arms[arm]["name"], "architecture, from scratch", arms[arm]["erase"]))
    if len(lines) == 2:
        return markdown_list([not_measured("The fill study", "its rows")])
    return "\n".join(lines)


def fill_study_differences(fill_study: dict, pairs=FILL_STUDY_PAIRS) -> list[dict]:
    """Notebook 08, section 6: each (arm, control) of ``pairs`` that the fill study holds, with the difference of
    the two rows' median fill on the gradient backgrounds (log2) and, where both rows have the ``x0_hat`` probe, of
    its smooth median at t = 20: ``{"arm", "control", "gradient", "x0_hat_t20"}`` (``x0_hat_t20`` None without
    the probe)."""
    named = {r["name"]: r for r in fill_study.get("rows", [])}
    out = []
    for arm, control in pairs:
        if arm not in named or control not in named:
            continue
        a, c = named[arm], named[control]
        probe = None
        if "x0_hat" in a and "x0_hat" in c:
            probe = a["x0_hat"]["20"]["smooth"]["median"] - c["x0_hat"]["20"]["smooth"]["median"]
        out.append({"arm": arm, "control": control, "x0_hat_t20": probe,
                    "gradient": (a["erase"]["by_surface"]["gradient"]["median"]
                                 - c["erase"]["by_surface"]["gradient"]["median"])})
    return out


def fill_study_differences_markdown(differences: list[dict]) -> str:
    """`fill_study_differences` as a Markdown table (arm, control, x0_hat at t = 20, fills on gradients)."""
    lines = ["| arm | control | x0_hat (t = 20), log2 | fills on gradients, log2 |", "|---|---|---|---|"]
    lines += [f"| {d['arm']} | {d['control']} | "
              f"{'-' if d['x0_hat_t20'] is None else format(d['x0_hat_t20'], '+.2f')} | {d['gradient']:+.2f} |"
              for d in differences]
    return "\n".join(lines)
