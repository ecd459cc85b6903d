"""Notebook 06, section 9: the shipped models from the noised input (strength 0.6) as one compact table, above
`budget_readings.noised_input_reading` (the same rows in sentences). The rows are those of
``data/results/cro_where_it_matters.json`` after the longest fine-tunes (the shipped 1000 steps), read by
`budget_readings.longest_row` and printed by `budget_readings.row_cells`, so table and sentences cannot disagree."""

from __future__ import annotations

from .budget_readings import BUDGET_COMPARISONS, longest_row, row_cells
from .findings import not_measured

#: What each comparison of `BUDGET_COMPARISONS` changes, in a few words.
CHANGES = {"cro - cro_zero": "the pathway in target and input, same weights",
           "paired - cro_zero": "the weighting",
           "cro - paired": "closest to the fading path alone",
           "cro_sra - cro": "SRA trained in"}


def noised_input_table(budget: dict | None) -> str:
    """The four comparisons of `BUDGET_COMPARISONS` from the noised input (strength 0.6) after the longest
    fine-tunes of ``budget``, as a Markdown table: what the comparison changes, the elimination difference A - B in
    points with its 95 % interval, McNemar's p, and the verdict by the one rule. A comparison without rows (or no
    ``budget`` at all) reads "not measured"; the line above the table says after how many fine-tune steps."""
    found = {c: longest_row(budget, c) if budget else None for c in BUDGET_COMPARISONS}
    steps = sorted({r["finetune_steps"] for r in found.values() if r})
    what = "Elimination from the noised input (strength 0.6)"
    lines = [f"{what}, the models fine-tuned {' / '.join(map(str, steps))} steps (the shipped ones):" if steps
             else not_measured(what, "data/results/cro_where_it_matters.json"), "",
             "| A - B | what the comparison changes | difference, points [95 % CI] | McNemar p | verdict |",
             "|---|---|---|---|---|"]
    for comparison, row in found.items():
        if row is None:
            lines.append(f"| {comparison} | {CHANGES[comparison]} | not measured | | |")
            continue
        difference, interval, p, verdict = row_cells(row)
        lines.append(f"| {comparison} | {CHANGES[comparison]} | {difference} {interval} | {p} | {verdict} |")
    return "\n".join(lines) + "\n"
