"""The sentences and the table notebooks 06 and 08 print about the short fine-tunes of
``data/results/cro_where_it_matters.json`` (written by ``experiments/cro_budget.py``): ``paired``, ``cro_zero``, ``cro``
and ``cro_sra`` fine-tuned from the same baseline for 50 to 1000 steps at two learning rates, each pair compared in
elimination over the same scenes and noise, from pure noise (strength 1) and from the noised input (strength 0.6).

- `noised_input_reading` (section 9, after the conclusion): the longest fine-tunes (the shipped models) from the
  noised input: what ``cro_zero`` lacks, and where ``cro`` is shown ahead of ``paired`` (the same rows as a table:
  `experiments.budget_table.noised_input_table`, through `longest_row` and `row_cells`);
- `budget_reading` (notebook 08, part 3): where each comparison is shown (from pure noise every shown cell, by
  `pure_noise_cells`), fine-tune length, what was not run;
- `budget_pivot` (notebook 08, part 3): every comparison, strength and kind of scene against every budget, one mark
  a cell.

Every row is read by the one rule (`metrics.paired.difference_shown`, through `budget_verdict`); a file or comparison
that is missing gives a "not measured" line, never an exception.
"""

from __future__ import annotations

from ..metrics.paired import difference_shown
from .findings import SHOWN, markdown_list, not_measured


def budget_rows(budget: dict, comparison: str, strength: float, scenes_of: str = "all") -> list[dict]:
    """The rows of ``budget`` for one comparison ``A - B`` at one strength, on ``scenes_of`` (all, or one kind)."""
    return [r for r in budget["rows"] if (r["comparison"], r["strength"], r.get("scenes_of", "all"))
            == (comparison, strength, scenes_of)]


def budget_verdict(row: dict) -> int:
    """One budget row by the one rule (`metrics.paired.difference_shown`): +1 shown ahead, -1 behind, 0 not shown."""
    return difference_shown(*row["elimination_ci95"], row["p"])


def shown_ahead(rows: list[dict]) -> str:
    """``k of n fine-tunes``: how many of ``rows`` are shown ahead."""
    return f"{sum(budget_verdict(r) == 1 for r in rows)} of {len(rows)} fine-tunes"


def budget_span(rows: list[dict]) -> str:
    """``the fine-tunes of 50 to 1000 steps at two learning rates``: the range the ``rows`` cover."""
    steps, rates = {r["finetune_steps"] for r in rows}, {r["learning_rate"] for r in rows}
    return (f"the fine-tunes of {min(steps)} to {max(steps)} steps at {len(rates)} learning "
            f"rate{'s' if len(rates) > 1 else ''}")


def budget_where(budget: dict, comparison: str, strength: float, verdict: int, scenes_of: str = "all") -> str:
    """``lr 3e-04: 300, 1000 steps; lr 1e-04: 50 steps``: the budgets at which ``comparison`` (at ``strength``, on
    ``scenes_of``) has ``verdict`` by the one rule (+1 shown ahead, -1 shown behind), or ``none``."""
    found = {}
    for r in budget_rows(budget, comparison, strength, scenes_of):
        if budget_verdict(r) == verdict:
            found.setdefault(r["learning_rate"], []).append(r["finetune_steps"])
    return "; ".join(f"lr {lr:.0e}: {', '.join(map(str, sorted(s)))} steps"
                     for lr, s in sorted(found.items(), reverse=True)) or "none"


#: The comparisons of the budget file, in the order the readings and the pivot list them.
BUDGET_COMPARISONS = ("cro - cro_zero", "paired - cro_zero", "cro - paired", "cro_sra - cro")
#: The kinds of scenes a budget row is read on, and how a sentence names them.
SCENE_KINDS = {"all": "on all scenes", "trained families": "on the trained families",
               "new families": "on the new families (buttons, eggs)"}


def shown_cells(budget: dict, comparison: str, strength: float) -> list[str]:
    """``shown ahead on all scenes at lr 1e-04: 50 steps``, one phrase per kind of scenes (`SCENE_KINDS`) and
    direction where ``comparison`` is shown at ``strength`` by the one rule; empty when no cell is shown."""
    return [f"shown {word} {name} at {at}" for kind, name in SCENE_KINDS.items()
            for verdict, word in ((1, "ahead"), (-1, "behind"))
            if (at := budget_where(budget, comparison, strength, verdict, kind)) != "none"]


def pure_noise_cells(budget: dict) -> str:
    """Notebook 08, section 7, from pure noise (strength 1): every cell of ``budget`` shown ahead or behind by the
    one rule, for each comparison of `BUDGET_COMPARISONS` and each kind of scenes of `SCENE_KINDS` (all, trained and new
    families), so that no shown cell is left out of the reading; ``not measured`` when there are no such rows."""
    what = "From pure noise (strength 1)"
    said = [f"{comparison} {', '.join(parts)}" for comparison in BUDGET_COMPARISONS
            if (parts := shown_cells(budget, comparison, 1.0))]
    budgets = {(r["learning_rate"], r["finetune_steps"]) for r in budget["rows"] if r["strength"] == 1.0}
    if not budgets:
        return not_measured(what, "strength-1 rows")
    return (f"{what}, every cell shown over the {len(budgets)} budgets, on all scenes and by family: "
            + ("; ".join(said) if said else "none") + "; every other cell not shown.")


def budget_reading(budget: dict | None) -> str:
    """Notebook 08, part 3: where, over the short fine-tunes of ``budget`` (``data/results/
    cro_where_it_matters.json``, written by ``experiments/cro_budget.py``), each comparison is shown ahead or
    behind by the one rule: from pure noise and from the noised input, split by trained and new families, SRA
    trained in, and how fine-tune length compares with the 1000-step models; then what was not run and why."""
    if budget is None:
        return markdown_list([not_measured("The short fine-tunes", "data/results/cro_where_it_matters.json: run "
                                       "experiments/cro_budget.py")])

    def where(comparison, strength, verdict, scenes_of="all"):
        return budget_where(budget, comparison, strength, verdict, scenes_of)

    def count(comparison, strength, scenes_of="all"):
        return len(budget_rows(budget, comparison, strength, scenes_of))

    lines = [pure_noise_cells(budget)]
    if not all(count(c, 0.6) for c in ("cro - cro_zero", "paired - cro_zero", "cro - paired")):
        lines.append(not_measured("From the noised input (strength 0.6)",
                                  "cro - cro_zero, paired - cro_zero and cro - paired rows"))
    else:
        lines.append(f"From the noised input (strength 0.6), cro - cro_zero (the pathway in target and input, same "
                     f"weights) is shown ahead at: {where('cro - cro_zero', 0.6, 1)} (of "
                     f"{count('cro - cro_zero', 0.6)}); paired - cro_zero (the full weight, no pathway) at: "
                     f"{where('paired - cro_zero', 0.6, 1)} (of {count('paired - cro_zero', 0.6)}); cro - paired (the "
                     f"fading path proper, weights differing too) at: {where('cro - paired', 0.6, 1)} (of "
                     f"{count('cro - paired', 0.6)}).")
    if not (count("cro - paired", 0.6, "trained families") and count("cro - paired", 0.6, "new families")):
        lines.append(not_measured("Split by family", "cro - paired rows on trained and new families"))
    else:
        lines.append(f"Split by family at strength 0.6, cro - paired is shown ahead on the trained families at: "
                     f"{where('cro - paired', 0.6, 1, 'trained families')}; on the new families (buttons, eggs) at: "
                     f"{where('cro - paired', 0.6, 1, 'new families')}, shown behind at: "
                     f"{where('cro - paired', 0.6, -1, 'new families')}.")
    sra = [budget_verdict(r) for r in budget["rows"]
           if r["comparison"] == "cro_sra - cro" and r.get("scenes_of", "all") == "all"]
    lines.append(f"SRA trained in (cro_sra - cro): an elimination difference shown in {sum(v != 0 for v in sra)} of "
                 f"{len(sra)} settings." if sra else not_measured("SRA trained in", "cro_sra - cro rows"))
    longest = [r for r in budget.get("plateau", []) if r["learning_rate"] == 3e-4]
    if longest:
        behind = {}
        for r in longest:
            behind.setdefault(r["finetune_steps"], []).append(budget_verdict(r) == -1)
        last = max(behind)
        lowest = min(r["elimination_ci95"][0] for r in longest if r["finetune_steps"] == last)
        lines.append(f"Fine-tune length (lr 3e-4; each variant against its own {longest[0]['against_steps']}-step "
                     f"model, both strengths): shown to erase less after "
                     + ", ".join(f"{steps} steps in {sum(v)} of {len(v)}" for steps, v in sorted(behind.items()))
                     + f"; lowest interval bound after {last} steps: {lowest:+.1f} points.")
    lines += [f"Not run: {item['what']}: {item['why'].rstrip('.')}." for item in budget.get("not_run", [])]
    return markdown_list(lines)


def row_cells(row: dict) -> tuple[str, str, str, str]:
    """One budget row as printed: ``+9.1`` (the elimination difference, points), ``[+1.0, +17.4]`` (its 95 %
    interval), McNemar's ``0.09`` and the verdict by the one rule (`budget_verdict`)."""
    e = row["elimination_ci95"]
    return (f"{row['elimination_difference']:+.1f}", f"[{e[0]:+.1f}, {e[1]:+.1f}]", f"{row['p']:.2g}",
            SHOWN[budget_verdict(row)])


def said(row: dict) -> str:
    """``cro - paired +9.1 points [+1.0, +17.4], McNemar p 0.09: not shown``: one budget row in a sentence."""
    difference, interval, p, verdict = row_cells(row)
    return f"{row['comparison']} {difference} points {interval}, McNemar p {p}: {verdict}"


def longest_row(budget: dict, comparison: str, scenes_of: str = "all") -> dict | None:
    """The row of ``comparison`` from the noised input (strength 0.6) after the longest fine-tune (the shipped
    models' 1000 steps), or None."""
    rows = budget_rows(budget, comparison, 0.6, scenes_of)
    return max(rows, key=lambda r: (r["finetune_steps"], r["learning_rate"])) if rows else None


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

    def where(comparison, scenes_of="all"):
        return budget_where(budget, comparison, 0.6, 1, scenes_of)

    fading, plain, pathway, sra = (longest_row(budget, c) for c in BUDGET_COMPARISONS)
    if not (fading and plain and pathway):
        return markdown_list([not_measured(what, "cro - cro_zero, paired - cro_zero and cro - paired rows")])
    steps = pathway["finetune_steps"]
    lines = [f"The models fine-tuned {steps} steps (the shipped ones), from the noised input: {said(fading)}; "
             f"{said(plain)}."]
    if budget_verdict(fading) == 1 and budget_verdict(plain) == 1:
        lines.append("So cro_zero takes the object out less often than both cro and paired. paired has no pathway "
                     "either, so the missing pathway is not the whole story. It lacks training signal at mid-noise "
                     "steps, where from the noised input x_t still holds the object: CRO's weight there is a small "
                     "fraction of the plain loss's (notebook 03, the w_bar column). cro's pathway supplies that "
                     "signal one way, paired's full weight another.")
    else:
        lines.append("So cro's pathway and the plain loss's full weight are not both shown to help cro_zero take "
                     "the object out here.")
    trained, new = where("cro - paired", "trained families"), where("cro - paired", "new families")
    lines.append(f"The paper's claim proper, cro over the plain loss (the fading path proper, against the full "
                 f"weight): {said(pathway)} after {steps} steps. Over all "
                 f"the fine-tunes it is shown ahead at: {where('cro - paired')}; split by family, on the trained "
                 f"families at: {trained}; on the new families (buttons, eggs) at: {new}.")
    lines.append(f"SRA trained in: {said(sra)}." if sra else not_measured("SRA trained in", "cro_sra - cro rows"))
    return markdown_list(lines)


def budget_pivot(budget: dict | None) -> str:
    """Notebook 08, part 3: every comparison of ``budget`` at a glance, as fixed-width text. One row per
    comparison, strength and kind of scenes (all, trained families, new families), one column per learning rate
    and fine-tune length; a cell is ``+`` (A shown ahead of B in elimination, by the one rule), ``-`` (shown behind)
    or ``.`` (not shown); a setting that was not run is blank. The numbers behind each cell stay in the file."""
    if budget is None or not budget.get("rows"):
        return not_measured("The short fine-tunes", "data/results/cro_where_it_matters.json") + "\n"
    rows = budget["rows"]
    columns = sorted({(r["learning_rate"], r["finetune_steps"]) for r in rows}, key=lambda c: (-c[0], c[1]))
    kinds = ["all", "trained families", "new families"]
    kinds += sorted({r.get("scenes_of", "all") for r in rows} - set(kinds))
    order = list(BUDGET_COMPARISONS)
    order += sorted({r["comparison"] for r in rows} - set(order))
    cell = {(r["comparison"], r["strength"], r.get("scenes_of", "all"), r["learning_rate"], r["finetune_steps"]):
            "+-."[[1, -1, 0].index(budget_verdict(r))] for r in rows}
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
