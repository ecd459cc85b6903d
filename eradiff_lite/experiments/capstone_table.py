"""The capstone's class table: one row per run of `capstone.run_capstone`, a CSV and its Markdown twin.

A row says who ran what (team, variant, its loss and the file's digest), under which budget (its name, the steps
run of the budget's, threads; the training's wall clock in ``seconds`` and the ``device``, reported, never a
stopping rule), whether it is ``official`` (the profile's budget unchanged, from the shipped baseline, every step run;
otherwise ``why_not_official`` says what differed, e.g. a ``--max-seconds`` safety stop), and how it compares with the
shipped ``cro_sra`` on the same scenes and noise: elimination (the colour judge, % of scenes) with the paired
difference's 95 % bootstrap interval and McNemar's p, masked PSNR likewise, and the texture measure's shares
within the band on smooth and on textured holes for both. The verdict reads those intervals only, by the course's one
rule (`metrics.paired.difference_shown`):

- ``beats cro_sra``: the elimination interval lies above 0, McNemar's p < 0.05, and the masked PSNR interval does
  not lie below 0;
- ``worse than cro_sra``: the elimination interval lies below 0 and p < 0.05;
- ``no difference shown``: anything else (including a gain in elimination paid for in masked PSNR).

That verdict, from pure noise (strength 1), is the row's official one. The ``s06_*`` columns hold the second
comparison, from the noised input (strength 0.6, the same scenes and noise; `capstone_rules.NOISED_INPUT`): elimination
and masked PSNR for both, their paired differences (elimination with McNemar), and ``s06_verdict`` by the same rule.
A row written before they existed, or run with ``--strengths 1``, has them empty; the Markdown table shows ``-``.

The ``starter_*`` and ``s06_starter_*`` columns compare the run, by the same rule and measures, with the equal-budget
comparator: the starter as shipped fine-tuned under the same budget (`capstone_rules.STARTER_FILE`). They are filled
only where the run's budget and benchmark are the starter's, and they never change the official verdict.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

from ..metrics.paired import difference_shown
from ..paths import write_text_atomic

# the table's columns before the strength-0.6 comparison existed: such a table still reads (its rows' s06 empty)
COLUMNS_BEFORE_S06 = (
    "date", "team", "variant", "loss", "loss_options", "file_sha256", "sra", "budget", "official", "why_not_official",
    "steps_run", "steps_budget", "batch_size", "seconds", "threads", "device", "scenes", "seed", "sample_steps",
    "final_loss", "elimination", "cro_sra_elimination", "d_elimination", "d_elimination_low", "d_elimination_high",
    "mcnemar_p", "only_mine", "only_cro_sra", "masked_psnr", "cro_sra_masked_psnr", "d_masked_psnr",
    "d_masked_psnr_low", "d_masked_psnr_high", "texture_smooth_within", "cro_sra_texture_smooth_within",
    "texture_textured_within", "cro_sra_texture_textured_within", "verdict")
S06_COLUMNS = ("s06_elimination", "s06_cro_sra_elimination", "s06_d_elimination", "s06_d_elimination_low",
               "s06_d_elimination_high", "s06_mcnemar_p", "s06_only_mine", "s06_only_cro_sra", "s06_masked_psnr",
               "s06_cro_sra_masked_psnr", "s06_d_masked_psnr", "s06_d_masked_psnr_low", "s06_d_masked_psnr_high",
               "s06_verdict")
# the comparison with the starter at the same budget, at strength 1 and at 0.6: the starter's elimination and masked
# PSNR, the paired differences (mine minus the starter's), McNemar's counts, the verdict by the same rule
STARTER_KEYS = ("elimination", "d_elimination", "d_elimination_low", "d_elimination_high", "mcnemar_p", "only_mine",
                "only_starter", "masked_psnr", "d_masked_psnr", "d_masked_psnr_low", "d_masked_psnr_high", "verdict")
STARTER_COLUMNS = tuple(f"{at}starter_{k}" for at in ("", "s06_") for k in STARTER_KEYS)
COLUMNS_BEFORE_STARTER = COLUMNS_BEFORE_S06 + S06_COLUMNS
COLUMNS = COLUMNS_BEFORE_STARTER + STARTER_COLUMNS


def verdict(paired: dict, reference: str = "cro_sra") -> str:
    """The row's verdict from the paired statistics (see the module's docstring), read with the course's one rule,
    `metrics.paired.difference_shown`: elimination by its interval and McNemar's p, masked PSNR by its interval;
    ``reference`` names the model compared with (``"the starter"`` for the equal-budget comparison)."""
    e, p, psnr = paired["elimination"], paired["mcnemar"]["p_value"], paired["masked_psnr"]
    elimination = difference_shown(e["low"], e["high"], p)
    if elimination > 0 and difference_shown(psnr["low"], psnr["high"]) >= 0:  # PSNR not shown below 0
        return f"beats {reference}"
    if elimination < 0:
        return f"worse than {reference}"
    return "no difference shown"


def comparison_columns(mine: dict, reference: dict, paired: dict) -> dict:
    """The columns of one comparison with cro_sra (its rows of `capstone.score_model` and their paired statistics),
    named as at strength 1; the strength-0.6 comparison's are the same with the prefix ``s06_``."""
    r3 = lambda v: None if v is None else round(float(v), 3)  # noqa: E731
    e, psnr, mc = paired["elimination"], paired["masked_psnr"], paired["mcnemar"]
    return {"elimination": r3(mine["elimination"]), "cro_sra_elimination": r3(reference["elimination"]),
            "d_elimination": r3(e["mean"]), "d_elimination_low": r3(e["low"]), "d_elimination_high": r3(e["high"]),
            "mcnemar_p": float(f"{mc['p_value']:.3g}"), "only_mine": mc["n_ab"], "only_cro_sra": mc["n_ba"],
            "masked_psnr": r3(mine["masked_psnr"]), "cro_sra_masked_psnr": r3(reference["masked_psnr"]),
            "d_masked_psnr": r3(psnr["mean"]), "d_masked_psnr_low": r3(psnr["low"]),
            "d_masked_psnr_high": r3(psnr["high"]), "verdict": verdict(paired)}


def starter_columns(comparison: dict | None, at: str = "") -> dict:
    """The ``{at}starter_*`` columns of one comparison with the starter (``{"rows": [mine, starter], "paired": ...}``,
    or None: empty), from `comparison_columns`: the starter's values, the differences, the verdict against it."""
    if comparison is None:
        return {}
    c = comparison_columns(*comparison["rows"], comparison["paired"])
    c |= {"elimination": c["cro_sra_elimination"], "masked_psnr": c["cro_sra_masked_psnr"],
          "only_starter": c["only_cro_sra"], "verdict": verdict(comparison["paired"], "the starter")}
    return {f"{at}starter_{k}": c[k] for k in STARTER_KEYS}


def class_row(team: str, variant, digest: str, result, budget, budget_name: str, why_not_official: str, mine: dict,
              reference: dict, paired: dict, noised_input: dict | None = None, starter: dict | None = None) -> dict:
    """The table's row for one capstone run (`COLUMNS`); official when ``why_not_official`` is empty.
    ``noised_input``: the strength-0.6 comparison (``{"rows": [mine, reference], "paired": ...}``) for the ``s06_*``
    columns, or None (they stay empty); it changes no other column. ``starter``: the comparisons with the starter
    (``{"1": comparison, "0.6": comparison or None}``), or None: the ``starter_*`` columns, likewise."""
    from ..losses import loss_for

    loss = loss_for(variant).describe()
    options = {k: v for k, v in loss.items() if k not in ("name", "target", "weighting", "needs")}
    sra = "train+erase" if variant.sra_in_training else ("erase" if variant.sra_at_inference else "-")
    r3 = lambda v: None if v is None else round(float(v), 3)  # noqa: E731
    row = {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"), "team": team,
           "variant": variant.name, "loss": loss["name"], "loss_options": ";".join(f"{k}={v}" for k, v in
                                                                                    options.items()),
           "file_sha256": digest[:12], "sra": sra, "budget": budget_name,
           "official": "no" if why_not_official else "yes", "why_not_official": why_not_official,
           "steps_run": result.steps_done, "steps_budget": budget.steps, "batch_size": budget.batch_size,
           "seconds": round(result.seconds, 1), "threads": budget.threads, "device": result.device,
           "scenes": budget.scenes, "seed": budget.seed, "sample_steps": budget.sample_steps,
           "final_loss": None if result.final_loss is None else float(f"{result.final_loss:.9g}"),
           **comparison_columns(mine, reference, paired)}
    for key in ("texture_smooth_within", "texture_textured_within"):
        row[key], row[f"cro_sra_{key}"] = r3(mine.get(key)), r3(reference.get(key))
    if noised_input is not None:
        at06 = comparison_columns(*noised_input["rows"], noised_input["paired"])
        row.update({f"s06_{k}": v for k, v in at06.items()})
    if starter:
        row |= starter_columns(starter.get("1")) | starter_columns(starter.get("0.6"), "s06_")
    return {k: row.get(k) for k in COLUMNS}


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) not in (COLUMNS, COLUMNS_BEFORE_STARTER, COLUMNS_BEFORE_S06):
            raise ValueError(f"{path} is not a capstone table of this version (its columns differ): give "
                             f"--table a new file")
        return [{**dict.fromkeys(COLUMNS, ""), **r} for r in reader]  # a row from before: its new columns empty


def append_row(path: Path, row: dict) -> None:
    """Add ``row`` to the CSV at ``path`` (created with its header) and rewrite the Markdown twin (``.md``); a table
    written before the ``s06_*`` or ``starter_*`` columns existed gets them, empty in its old rows."""
    rows = read_rows(path) + [{k: "" if row[k] is None else row[k] for k in COLUMNS}]
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())
    write_text_atomic(path.with_suffix(".md"), markdown(rows) + "\n")


def _s06(r: dict) -> str:
    """The Markdown cells of the strength-0.6 comparison, ``-`` where the row has none."""
    if not r.get("s06_verdict"):
        return "| - | - | - | - | - |"
    return (f"| {r['s06_elimination']} ({r['s06_cro_sra_elimination']}) | {r['s06_d_elimination']} "
            f"[{r['s06_d_elimination_low']}, {r['s06_d_elimination_high']}] | {r['s06_mcnemar_p']} "
            f"| {r['s06_d_masked_psnr']} [{r['s06_d_masked_psnr_low']}, {r['s06_d_masked_psnr_high']}] "
            f"| {r['s06_verdict']} |")


def _vs_starter(r: dict) -> str:
    """The Markdown cells of the comparison with the starter at the same budget, ``-`` where the row has none."""
    if not r.get("starter_verdict"):
        return " - | - | - | - | - |"
    return (f" {r['starter_d_elimination']} [{r['starter_d_elimination_low']}, {r['starter_d_elimination_high']}] "
            f"| {r['starter_mcnemar_p']} | {r['starter_d_masked_psnr']} [{r['starter_d_masked_psnr_low']}, "
            f"{r['starter_d_masked_psnr_high']}] | {r['starter_verdict']} | {r['s06_starter_verdict'] or '-'} |")


def markdown(rows: list[dict]) -> str:
    """The class table: one line per run (official or, in words, why not; the steps and the clock they took), then
    the comparison with cro_sra from pure noise (the official verdict), then from the noised input (strength 0.6),
    then with the starter at the same budget (its verdicts, at 1 and at 0.6)."""
    head = ("| team | variant | loss | budget | official | steps | training s (device) | elimination % (cro_sra) "
            "| difference [95 % CI] | McNemar p | masked PSNR dB (cro_sra) | difference [95 % CI] "
            "| texture within, smooth / textured % | verdict | at 0.6: elimination % (cro_sra) "
            "| at 0.6: difference [95 % CI] | at 0.6: McNemar p | at 0.6: masked PSNR difference [95 % CI] "
            "| at 0.6: verdict | vs starter: difference [95 % CI] | vs starter: McNemar p "
            "| vs starter: masked PSNR difference [95 % CI] | vs starter: verdict | at 0.6 vs starter: verdict |")
    lines = [head, "|" + "---|" * 24]
    for r in rows:
        official = r["official"] + (f" ({r['why_not_official']})" if r["why_not_official"] else "")
        lines.append(f"| {r['team']} | {r['variant']} | {r['loss']} | {r['budget']} | {official} | {r['steps_run']}/"
                     f"{r['steps_budget']} | {r['seconds']} ({r['device']}) | {r['elimination']} "
                     f"({r['cro_sra_elimination']}) | {r['d_elimination']} "
                     f"[{r['d_elimination_low']}, {r['d_elimination_high']}] | {r['mcnemar_p']} | {r['masked_psnr']} "
                     f"({r['cro_sra_masked_psnr']}) | {r['d_masked_psnr']} [{r['d_masked_psnr_low']}, "
                     f"{r['d_masked_psnr_high']}] | {r['texture_smooth_within']} / {r['texture_textured_within']} "
                     f"| {r['verdict']} {_s06(r)}{_vs_starter(r)}")
    return "\n".join(lines)


def _starter_lines(row: dict, note: str) -> str:
    """The printed comparison with the starter at the same budget (``note``: its file), or one line why none."""
    if not row.get("starter_verdict"):
        return f"\n  against the starter at the same budget: not compared ({note or 'no comparison in this row'})"
    lines = ""
    same = (f"at the same {row['steps_budget']} steps ({note}; the same rule and measures; the official verdict "
            f"stays the one against cro_sra)")
    for at, where in (("", same), ("s06_", "from the noised input (strength 0.6)")):
        if row.get(f"{at}starter_verdict"):
            r = {k: row[f"{at}starter_{k}"] for k in STARTER_KEYS}
            lines += (f"\n  against the starter {where}: elimination {row[f'{at}elimination']} % vs the starter's "
                      f"{r['elimination']} %: difference {r['d_elimination']} points [{r['d_elimination_low']}, "
                      f"{r['d_elimination_high']}], McNemar p = {r['mcnemar_p']} ({r['only_mine']} scenes only "
                      f"yours erase, {r['only_starter']} only the starter's); masked PSNR {row[f'{at}masked_psnr']} "
                      f"dB vs {r['masked_psnr']} dB: difference {r['d_masked_psnr']} [{r['d_masked_psnr_low']}, "
                      f"{r['d_masked_psnr_high']}]; verdict: {r['verdict']}")
    return lines


def describe_row(row: dict, starter_note: str = "") -> str:
    """What the command prints at the end; ``starter_note``: the starter's file where the row was compared with it,
    else why it was not."""
    official = row["official"] + (f" ({row['why_not_official']})" if row["why_not_official"] else "")
    return (f"{row['team']} / {row['variant']} (loss {row['loss']}, budget {row['budget']}: {row['steps_run']} of "
            f"{row['steps_budget']} steps in {row['seconds']} s on {row['device']}; official: {official})\n"
            f"  elimination {row['elimination']} % vs cro_sra {row['cro_sra_elimination']} %: difference "
            f"{row['d_elimination']} points [{row['d_elimination_low']}, {row['d_elimination_high']}], McNemar p = "
            f"{row['mcnemar_p']} ({row['only_mine']} scenes only yours erase, {row['only_cro_sra']} only cro_sra's)\n"
            f"  masked PSNR {row['masked_psnr']} dB vs {row['cro_sra_masked_psnr']} dB: difference "
            f"{row['d_masked_psnr']} [{row['d_masked_psnr_low']}, {row['d_masked_psnr_high']}]\n"
            f"  texture within the band, smooth / textured holes: {row['texture_smooth_within']} / "
            f"{row['texture_textured_within']} % (cro_sra {row['cro_sra_texture_smooth_within']} / "
            f"{row['cro_sra_texture_textured_within']} %)\n"
            f"  verdict: {row['verdict']}\n"
            + (f"  from the noised input (strength 0.6): elimination {row['s06_elimination']} % vs cro_sra "
               f"{row['s06_cro_sra_elimination']} %: difference {row['s06_d_elimination']} points "
               f"[{row['s06_d_elimination_low']}, {row['s06_d_elimination_high']}], McNemar p = {row['s06_mcnemar_p']} "
               f"({row['s06_only_mine']} vs {row['s06_only_cro_sra']} scenes); masked PSNR difference "
               f"{row['s06_d_masked_psnr']} [{row['s06_d_masked_psnr_low']}, {row['s06_d_masked_psnr_high']}]; "
               f"verdict at 0.6: {row['s06_verdict']} (evidence for the report; the official verdict is above)"
               if row.get("s06_verdict") else "  from the noised input (strength 0.6): - (not scored)")
            + _starter_lines(row, starter_note))
