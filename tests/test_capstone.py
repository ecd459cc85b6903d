"""The capstone's one command, end to end on the smoke budget: a learner's variant file is imported, its loss trains
the fine-tune from the shipped baseline (and nothing else does), both models are scored on the same held-out scenes,
and one row per run lands in the class's table."""

import csv
import importlib
import sys
import textwrap

import pytest

from conftest import ROOT
from eradiff_lite.cli import main
from eradiff_lite.experiments.capstone import compare
from eradiff_lite.experiments.capstone_rules import BUDGETS, load_variant_file
from eradiff_lite.experiments.capstone_table import COLUMNS, COLUMNS_BEFORE_S06, verdict
from eradiff_lite.losses import get_loss, unregister_loss
from eradiff_lite.variants import unregister_variant

# A learner's file: CRO plus a constant 5 (the gradient is CRO's; every value it returns is above 5 and recorded).
VARIANT_FILE = '''
from eradiff_lite.cro import cro_loss
from eradiff_lite.losses import Loss, register_loss
from eradiff_lite.variants import Variant, register_variant


class Marked(Loss):
    """L = L_CRO + 5 (a constant: the same gradient as CRO, a loss value no other objective gives)."""

    name = "test_marked"
    target = "background"

    def __init__(self):
        self.seen = []

    def __call__(self, model, batch, t, gamma, alphas_cumprod, noise):
        value = cro_loss(lambda x, s: model.eps(x, s, alphas_cumprod), batch["x_ori"], batch["x_obj"], t, gamma,
                         alphas_cumprod, noise) + 5.0
        self.seen.append(float(value.detach()))
        return value


register_loss(Marked(), replace=True)
VARIANT = register_variant(Variant("test_marked_variant", loss="test_marked", target="background",
                                   from_baseline=True, sra_at_inference=True), replace=True)
'''


@pytest.fixture
def variant_file(tmp_path):
    path = tmp_path / "my_team.py"
    path.write_text(textwrap.dedent(VARIANT_FILE))
    yield path
    unregister_loss("test_marked")
    unregister_variant("test_marked_variant")


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_command_trains_the_learners_loss_scores_it_and_adds_a_row(variant_file, tmp_path, capsys):
    table = tmp_path / "class" / "results.csv"
    args = ["capstone", str(variant_file), "--profile", "smoke", "--table", str(table)]
    # the smoke budget unchanged, with a safety stop it does not reach: an official (smoke) row
    assert main(args + ["--team", "ada", "--out", str(tmp_path / "runs" / "ada"), "--max-seconds", "3600"]) == 0
    printed = capsys.readouterr().out
    assert "verdict:" in printed and "McNemar p =" in printed and "official: yes" in printed

    seen = get_loss("test_marked").seen  # the loss the file registered, as the fine-tune called it
    budget = BUDGETS["smoke"]
    assert len(seen) == budget.steps, "the fine-tune did not train with the variant's own loss"
    (row,) = _rows(table)
    assert tuple(row) == COLUMNS and row["team"] == "ada" and row["variant"] == "test_marked_variant"
    assert row["loss"] == "test_marked" and row["sra"] == "erase" and row["budget"] == "smoke"
    assert row["official"] == "yes" and row["why_not_official"] == ""
    assert int(row["steps_run"]) == int(row["steps_budget"]) == budget.steps and int(row["scenes"]) == budget.scenes
    assert float(row["seconds"]) > 0 and row["device"].startswith(("cpu", "cuda"))  # the clock, reported
    assert float(row["final_loss"]) == pytest.approx(seen[-1], rel=1e-5) and float(row["final_loss"]) > 5
    assert row["verdict"] in ("beats cro_sra", "worse than cro_sra", "no difference shown")
    assert 0 <= float(row["mcnemar_p"]) <= 1 and int(row["only_mine"]) + int(row["only_cro_sra"]) <= budget.scenes
    low, mean, high = (float(row[k]) for k in ("d_elimination_low", "d_elimination", "d_elimination_high"))
    assert low <= mean <= high
    assert float(row["d_elimination"]) == pytest.approx(float(row["elimination"]) - float(row["cro_sra_elimination"]),
                                                        abs=2e-3)
    assert (tmp_path / "runs" / "ada" / "capstone.json").is_file()
    assert (tmp_path / "runs" / "reference_cache").is_dir()  # cro_sra is scored once per subset
    # the second comparison, from the noised input (strength 0.6), fills its own columns by the same rule
    assert "from the noised input (strength 0.6): elimination" in printed
    assert row["s06_verdict"] in ("beats cro_sra", "worse than cro_sra", "no difference shown")
    assert float(row["s06_d_elimination"]) == pytest.approx(
        float(row["s06_elimination"]) - float(row["s06_cro_sra_elimination"]), abs=2e-3)
    low, high = float(row["s06_d_elimination_low"]), float(row["s06_d_elimination_high"])
    assert low <= float(row["s06_d_elimination"]) <= high and 0 <= float(row["s06_mcnemar_p"]) <= 1

    assert main(args + ["--team", "grace", "--out", str(tmp_path / "runs" / "grace"), "--steps", "1"]) == 0
    rows = _rows(table)
    assert [r["team"] for r in rows] == ["ada", "grace"] and rows[1]["steps_run"] == "1"
    assert rows[1]["official"] == "no" and rows[1]["why_not_official"] == "--steps 1 instead of the smoke budget's 2"
    assert rows[0]["cro_sra_elimination"] == rows[1]["cro_sra_elimination"]  # the same reference row
    assert rows[0]["s06_cro_sra_elimination"] == rows[1]["s06_cro_sra_elimination"]  # at 0.6 too
    markdown = table.with_suffix(".md").read_text().splitlines()
    assert len(markdown) == 4
    assert markdown[2].startswith("| ada | test_marked_variant | test_marked | smoke | yes | 2/2 | ")
    assert markdown[3].startswith("| grace | test_marked_variant | test_marked | smoke | no (--steps 1 instead of the "
                                  "smoke budget's 2) | 1/1 | ")


def test_an_official_row_runs_every_step_and_the_safety_stop_makes_a_row_not_official(variant_file, tmp_path,
                                                                                        capsys):
    """The budget is counted in steps: an official row trains exactly the budget's steps, whatever the clock says;
    ``--max-seconds`` is a learner's safety stop, and a row it stopped early is scored but not official, saying why."""
    from eradiff_lite.experiments.capstone_rules import Budget

    budget = BUDGETS["smoke"]
    assert "seconds" not in Budget.__dataclass_fields__  # no clock in the budget
    assert BUDGETS["cpu"].steps == BUDGETS["gpu"].steps == 400 and budget.steps == 2
    table = tmp_path / "results.csv"
    args = ["capstone", str(variant_file), "--profile", "smoke", "--table", str(table)]
    assert main(args + ["--team", "ada", "--out", str(tmp_path / "runs" / "ada")]) == 0
    assert main(args + ["--team", "lin", "--out", str(tmp_path / "runs" / "lin"), "--max-seconds", "0.001"]) == 0
    printed = capsys.readouterr().out
    assert "official: no (stopped by --max-seconds 0.001 at step 1 of 2)" in printed
    official, stopped = _rows(table)
    assert official["official"] == "yes" and int(official["steps_run"]) == int(official["steps_budget"]) == 2
    assert stopped["official"] == "no" and stopped["steps_run"] == "1" and stopped["steps_budget"] == "2"
    assert stopped["why_not_official"] == "stopped by --max-seconds 0.001 at step 1 of 2"
    assert stopped["verdict"] in ("beats cro_sra", "worse than cro_sra", "no difference shown")  # scored all the same


def test_the_command_refuses_a_shipped_name_and_a_file_without_a_variant(tmp_path, capsys):
    assert main(["capstone", "cro_sra", "--profile", "smoke", "--out", str(tmp_path / "x")]) == 2
    assert "one of the shipped variants" in capsys.readouterr().err
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["capstone", str(empty), "--profile", "smoke"]) == 2
    assert "must register one variant" in capsys.readouterr().err
    assert main(["capstone", str(tmp_path / "missing.py"), "--profile", "smoke"]) == 2
    assert "no variant file" in capsys.readouterr().err


def test_the_starter_file_registers_a_trainable_variant():
    variant, digest = load_variant_file(ROOT / "assignments" / "capstone" / "my_variant.py")
    try:
        assert variant.name == "my_variant" and variant.loss == "my_variant" and len(digest) == 64
        assert variant.from_baseline and variant.sra_in_training and variant.sra_at_inference
        assert "Eq. 6-9" in type(get_loss("my_variant")).__doc__
    finally:
        unregister_loss("my_variant")
        unregister_variant("my_variant")


@pytest.mark.parametrize("name", ["paired_sra", "cro_plus_paired", "constant_lambda"])
def test_the_lecturers_solutions_register(name):
    assert f"`{name}.py`" in (ROOT / "assignments" / "capstone" / "README.md").read_text()  # the brief lists it
    path = ROOT / "assignments" / "capstone" / "solutions" / f"{name}.py"
    variant, _ = load_variant_file(path)
    try:
        assert variant.name == name and get_loss(name).target == "background"
    finally:
        unregister_loss(name)
        unregister_variant(name)


def test_the_verdict_reads_the_intervals_only():
    def paired(e, p, psnr):
        return {"elimination": dict(zip(("low", "mean", "high"), e)), "mcnemar": {"p_value": p},
                "masked_psnr": dict(zip(("low", "mean", "high"), psnr))}

    assert verdict(paired((1, 4, 7), 0.01, (-0.2, 0.1, 0.4))) == "beats cro_sra"
    assert verdict(paired((1, 4, 7), 0.09, (-0.2, 0.1, 0.4))) == "no difference shown"  # McNemar does not confirm
    assert verdict(paired((1, 4, 7), 0.01, (-2, -1, -0.5))) == "no difference shown"  # paid for in PSNR
    assert verdict(paired((-7, -4, -1), 0.01, (0, 1, 2))) == "worse than cro_sra"
    assert sys.modules.get("eradiff_lite.experiments.capstone") is importlib.import_module(
        "eradiff_lite.experiments.capstone")


def test_the_module_plan_adds_up_and_names_every_build_exercise():
    """docs/teaching.md's two-week plan: each session's parts sum to its minutes, the sessions to each week's total,
    the weeks to the module's; every build exercise of the issue, and the capstone, has its slot."""
    import inspect
    import re

    from eradiff_lite.exercises import EXERCISES

    text = (ROOT / "docs" / "teaching.md").read_text()
    plan = text[text.index("## A two-week module"):text.index("## Exercises")]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in plan.splitlines()
            if re.match(r"\|\s*\d?\s*\|", line) and "---" not in line]
    weeks, module = {}, None
    for week, _day, session, minutes, parts in rows:
        if session == "**module**":
            module = int(minutes.strip("*"))
        elif session.startswith("**week"):
            assert int(minutes.strip("*")) == weeks[week], f"week {week}: {weeks[week]} minutes in its sessions"
        else:
            summed = sum(int(m) for m in re.findall(r"\((\d+) min\)", parts))
            assert summed == int(minutes), f"{session}: its parts add up to {summed}, not {minutes}"
            weeks[week] = weeks.get(week, 0) + int(minutes)
    assert len(weeks) == 2 and module == sum(weeks.values())
    assert f"{module / 60:g} contact hours" in plan
    builds = {name for name, e in EXERCISES.items() if hasattr(inspect.getmodule(e.grade), "STUB")
              or (inspect.getmodule(e.grade).__doc__ or "").startswith("The build exercise")}
    assert {"composite", "cro_loss", "sra_processor_sd"} <= builds
    for name in sorted(builds | {"dynamic_image"}):  # every build exercise the package registers has its slot
        assert f"`{name}`" in plan and name in EXERCISES, name
    assert "assignments/capstone/" in plan and "Capstone studio" in plan


def test_a_ctrl_c_in_the_fine_tune_names_the_command_that_goes_on(variant_file, tmp_path, capsys, monkeypatch):
    from eradiff_lite.experiments import capstone

    resumed = []

    def ctrl_c(variant, budget, out, init, progress=True, max_seconds=None, resume=False):
        resumed.append(resume)
        raise KeyboardInterrupt

    monkeypatch.setattr(capstone, "fine_tune", ctrl_c)
    out = tmp_path / "runs" / "ada"
    argv = ["capstone", str(variant_file), "--profile", "smoke", "--out", str(out)]
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and "nothing to resume; run the same command again" in err
    assert err.endswith(" ".join(argv)) and "starts the run folder anew" in err, err
    checkpoint = out / "checkpoints" / "step_000001"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.json").write_text("{}")
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith(f"python -m eradiff_lite {' '.join(argv)} --resume"), err
    assert main(argv + ["--resume"]) == 130 and resumed == [False, False, True]  # --resume reaches the fine-tune
    assert capsys.readouterr().err.strip().endswith(f"{' '.join(argv)} --resume")  # named once


def test_the_variant_is_fine_tuned_with_the_bars_loss_averaging(tmp_path):
    """The capstone fine-tunes like the shipped cro_sra it is compared with: its saved loss averaging, and the whole
    picture for a model saved before the option existed."""
    import json

    from eradiff_lite.experiments.capstone import bar_loss_averaging

    assert bar_loss_averaging(tmp_path) == {"loss_region": "image", "gradient_weight": 0.0}  # no config: the paper's
    (tmp_path / "train_config.json").write_text(json.dumps({"variant": "cro_sra"}))
    assert bar_loss_averaging(tmp_path) == {"loss_region": "image", "gradient_weight": 0.0}  # saved before the option
    (tmp_path / "train_config.json").write_text(json.dumps({"loss_region": "hole", "gradient_weight": 1.0}))
    assert bar_loss_averaging(tmp_path) == {"loss_region": "hole", "gradient_weight": 1.0}


# The loss's self-check (assignments/capstone/selfcheck.py): the starter passes it and equals CRO; each usual mistake
# is rejected with its symptom. A wrong file is the starter with one change.
CAPSTONE = ROOT / "assignments" / "capstone"
WRONG_LOSS = '''
import torch
from eradiff_lite.cro import cro_loss
from eradiff_lite.losses import Loss, register_loss
from eradiff_lite.variants import Variant, register_variant


class Wrong(Loss):
    """CRO with one mistake."""

    name = "test_wrong_loss"
    target = "background"

    def __call__(self, model, batch, t, gamma, alphas_cumprod, noise):
        a_t = alphas_cumprod[t].view(-1, 1, 1, 1)
        x_t = a_t.sqrt() * batch["x_ori"] + (1 - a_t).sqrt() * noise
        {body}


register_loss(Wrong(), replace=True)
VARIANT = register_variant(Variant("test_wrong_variant", loss="test_wrong_loss", target="background",
                                   from_baseline=True, sra_in_training=True, sra_at_inference=True), replace=True)
'''
MISTAKES = {  # the loss's body -> what the check must say
    "the raw output as the noise": ('return cro_loss(lambda x, s: model(x, s), batch["x_ori"], batch["x_obj"], t, '
                                    'gamma, alphas_cumprod, noise)', "must be lower for its own target"),
    "CRO, scaled": ('return 2 * cro_loss(lambda x, s: model.eps(x, s, alphas_cumprod), batch["x_ori"], batch["x_obj"], '
                    't, gamma, alphas_cumprod, noise)', "they differ"),
    "one loss per item": ('return ((model.x0(x_t, t, alphas_cumprod) - batch["x_ori"]) ** 2).mean(dim=(1, 2, 3))',
                          "not one number"),
    "no gradient": ('return ((model.x0(x_t, t, alphas_cumprod) - batch["x_ori"]) ** 2).mean().detach()',
                    "has no gradient"),
    "the object as the target": ('return ((model.x0(x_t, t, alphas_cumprod) - batch["x_obj"]) ** 2).mean()',
                                 "must be lower for its own target"),
    "a batch changed in place": ('batch["x_obj"].clamp_(-0.5, 0.5)\n        '
                                 'return ((model.x0(x_t, t, alphas_cumprod) - batch["x_ori"]) ** 2).mean()',
                                 "changed the batch"),
    "a NaN": ('return ((model.x0(x_t, t, alphas_cumprod) - batch["x_ori"]) ** 2).mean() * float("nan")',
              "finite"),
}


def _selfcheck_module():
    spec = importlib.util.spec_from_file_location("capstone_selfcheck", CAPSTONE / "selfcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_starter_passes_its_selfcheck_and_equals_cro():
    import os
    import subprocess

    done = subprocess.run([sys.executable, str(CAPSTONE / "my_variant.py"), "--selfcheck"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: equal to 'cro'" in done.stdout and "selfcheck passed" in done.stdout
    check = _selfcheck_module()
    try:
        found = check.selfcheck(CAPSTONE / "my_variant.py", "cro", echo=None)
    finally:
        unregister_loss("my_variant")
        unregister_variant("my_variant")
    assert found["value"] == pytest.approx(found["same_as"], rel=1e-6) and found["grad_norm"] > 0
    assert 0 <= found["answer_target"] < found["answer_other"]  # lower for the background than for the object


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_selfcheck_rejects_a_wrong_loss_and_names_the_symptom(mistake, tmp_path):
    body, symptom = MISTAKES[mistake]
    path = tmp_path / "my_team.py"
    path.write_text(textwrap.dedent(WRONG_LOSS).replace("{body}", body))
    check = _selfcheck_module()
    try:
        with pytest.raises(check.SelfCheckError, match=symptom):
            check.selfcheck(path, "cro", echo=None)
    finally:
        unregister_loss("test_wrong_loss")
        unregister_variant("test_wrong_variant")


def test_the_loss_api_example_runs_as_written(capsys):
    """LOSS_API.md's example registers a loss and calls it: 0 for the model answering x_ori, more for x_obj."""
    import re

    code = re.search(r"```python\n(.*?)```", (CAPSTONE / "LOSS_API.md").read_text(), re.DOTALL).group(1)
    try:
        exec(compile(code, "LOSS_API.md", "exec"), {})
    finally:
        unregister_loss("paired_x0_demo")
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    for name in ("paired_x0_demo", "cro"):
        good, bad = (float(v) for v in re.findall(r"answering x_\w+ ([^,\s]+)", lines[name]))
        assert 0 <= good < bad, lines[name]
    assert lines["paired_x0_demo"].startswith("answering x_ori 0,")


# The second comparison, from the noised input (strength 0.6): where notebook 08 section 7 shows CRO's fading path at
# work. It adds columns and changes nothing at strength 1.
def _scored(name, eliminated, psnr):
    """A made-up row of `capstone.score_model`: per-scene elimination (0/1) and masked PSNR."""
    import numpy as np

    return {"variant": name, "elimination": 100 * float(np.mean(eliminated)), "masked_psnr": float(np.mean(psnr)),
            "per_scene": {"eliminated": list(eliminated), "masked_psnr": list(psnr), "recreated": [0] * len(psnr)}}


def _class_row(mine, reference, noised=None):
    from types import SimpleNamespace

    from eradiff_lite.experiments.capstone_table import class_row
    from eradiff_lite.variants import VARIANTS

    result = SimpleNamespace(steps_done=2, seconds=1.5, device="cpu", final_loss=0.25)
    return class_row("ada", VARIANTS["cro"], "ab" * 32, result, BUDGETS["smoke"], "smoke", "", mine, reference,
                     compare(mine, reference), noised)


def test_the_06_columns_come_from_the_06_scenes_and_leave_the_official_verdict_alone():
    """A known case: at strength 1 the two models erase the same scenes (no difference); at 0.6 the learner's erases
    6 of 10 scenes that cro_sra's does not (and none the other way), with a fill 0.5 dB better on every scene."""
    same = _scored("mine", [1, 1, 0, 0, 1, 0, 1, 0, 1, 0], [20.0] * 10)
    reference = _scored("cro_sra", [1, 1, 0, 0, 1, 0, 1, 0, 1, 0], [20.0] * 10)
    at06 = [_scored("mine", [1] * 8 + [0] * 2, [21.5] * 10), _scored("cro_sra", [1] * 2 + [0] * 8, [21.0] * 10)]
    noised = {"strength": 0.6, "rows": at06, "paired": compare(*at06)}
    row, without = _class_row(same, reference, noised), _class_row(same, reference)

    assert tuple(row) == COLUMNS
    assert row["s06_elimination"] == 80.0 and row["s06_cro_sra_elimination"] == 20.0 and row["s06_d_elimination"] == 60
    assert (row["s06_only_mine"], row["s06_only_cro_sra"]) == (6, 0)
    assert row["s06_mcnemar_p"] == pytest.approx(2 * 0.5 ** 6, abs=1e-3)  # exact: 6 against 0 discordant scenes
    assert 0 < row["s06_d_elimination_low"] <= 60 <= row["s06_d_elimination_high"]
    assert row["s06_d_masked_psnr"] == row["s06_d_masked_psnr_low"] == row["s06_d_masked_psnr_high"] == 0.5
    assert row["s06_masked_psnr"] == 21.5 and row["s06_cro_sra_masked_psnr"] == 21.0
    assert row["s06_verdict"] == "beats cro_sra"
    # strength 1: nothing differs, with or without the 0.6 comparison
    assert row["verdict"] == "no difference shown" and row["d_elimination"] == 0 and row["mcnemar_p"] == 1
    assert {k: v for k, v in row.items() if not k.startswith("s06_") and k != "date"} == \
        {k: v for k, v in without.items() if not k.startswith("s06_") and k != "date"}
    assert all(without[k] is None for k in COLUMNS if k.startswith("s06_"))


def test_a_table_written_before_the_06_columns_still_reads_and_renders(tmp_path):
    from eradiff_lite.experiments.capstone_table import append_row, describe_row, markdown, read_rows

    mine = _scored("mine", [1, 0] * 5, [20.0] * 10)
    written = _class_row(mine, _scored("cro_sra", [1, 0] * 5, [20.0] * 10))
    old = {k: "" if written[k] is None else str(written[k]) for k in COLUMNS_BEFORE_S06}  # None as an empty cell
    table = tmp_path / "results.csv"
    with open(table, "w", newline="") as f:  # a table of the command before this change
        writer = csv.DictWriter(f, fieldnames=COLUMNS_BEFORE_S06, lineterminator="\n")
        writer.writeheader()
        writer.writerow({**old, "team": "before"})
    (before,) = read_rows(table)
    assert all(before[k] == "" for k in COLUMNS if k.startswith("s06_"))
    assert before["verdict"] == "no difference shown" and markdown([before]).splitlines()[2].endswith(
        "| no difference shown | - | - | - | - | - |" + " - | - | - | - | - |")  # then no starter comparison either
    assert "from the noised input (strength 0.6): - (not scored)\n  against the starter at the same budget: not " \
           "compared" in describe_row(before)

    at06 = [_scored("mine", [1] * 8 + [0] * 2, [21.5] * 10), _scored("cro_sra", [1] * 2 + [0] * 8, [21.0] * 10)]
    append_row(table, _class_row(mine, mine | {"variant": "cro_sra"}, {"rows": at06, "paired": compare(*at06)}))
    rows = _rows(table)  # rewritten with the new header; the old row kept, its 0.6 columns empty
    assert tuple(rows[0]) == COLUMNS and [r["team"] for r in rows] == ["before", "ada"]
    assert {k: rows[0][k] for k in COLUMNS_BEFORE_S06} == {**old, "team": "before"}
    assert rows[0]["s06_verdict"] == "" and rows[1]["s06_verdict"] == "beats cro_sra"
    lines = table.with_suffix(".md").read_text().splitlines()
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|") == lines[3].count("|") == 25
    assert lines[2].endswith("| - | - | - | - | - |" + " - | - | - | - | - |")
    assert lines[3].endswith("| beats cro_sra |" + " - | - | - | - | - |")  # no starter comparison in this row
    with open(tmp_path / "other.csv", "w") as f:
        f.write("team,score\nada,1\n")
    with pytest.raises(ValueError, match="columns differ"):
        read_rows(tmp_path / "other.csv")


def test_both_models_erase_at_06_with_the_same_noise_and_cro_sras_scores_are_cached(variant_file, tmp_path, capsys,
                                                                                    monkeypatch):
    """Every erasing of the command, by (model, strength, seed): cro_sra at 1 and at 0.6 only in the first run (then
    from the cache, one file per strength); ``--strengths 1`` skips 0.6 and its row stays official, shown with -."""
    import json

    from eradiff_lite.experiments import evaluate

    calls, erase = [], evaluate.erase_benchmark

    def spy(pipe, bench, steps, seed, sra=False, strength=1.0, **kw):
        calls.append((strength, seed))  # the seed is the starting noise (`evaluate.benchmark_noise`)
        return erase(pipe, bench, steps, seed, sra=sra, strength=strength, **kw)

    monkeypatch.setattr(evaluate, "erase_benchmark", spy)
    table, runs = tmp_path / "results.csv", tmp_path / "runs"
    args = ["capstone", str(variant_file), "--profile", "smoke", "--table", str(table)]
    assert main(args + ["--team", "ada", "--out", str(runs / "ada")]) == 0
    assert calls == [(1.0, 0), (1.0, 0), (0.6, 0), (0.6, 0)]  # mine and cro_sra at 1, then at 0.6, the same noise
    cache = sorted(p.name for p in (runs / "reference_cache").iterdir())
    assert len(cache) == 2 and cache[0].endswith(f"_{BUDGETS['smoke'].scenes}x0x2.json")  # the name it had before
    assert cache[1] == cache[0].replace(".json", "_strength0.6.json")
    saved = json.loads((runs / "ada" / "capstone.json").read_text())
    assert saved["noised_input"]["strength"] == 0.6 and [r["strength"] for r in saved["noised_input"]["rows"]] == [
        0.6, 0.6]
    assert saved["row"]["verdict"] == verdict(saved["paired"])  # the official verdict: strength 1's statistics
    assert saved["row"]["s06_verdict"] == verdict(saved["noised_input"]["paired"])

    marked = runs / "reference_cache" / cache[1]  # a mark in the cached 0.6 row shows the next run reads it
    marked.write_text(json.dumps({**json.loads(marked.read_text()), "elimination": 12.345}))
    calls.clear()
    assert main(args + ["--team", "grace", "--out", str(runs / "grace")]) == 0
    assert calls == [(1.0, 0), (0.6, 0)]  # only the learner's model: cro_sra's rows came from the cache
    assert _rows(table)[1]["s06_cro_sra_elimination"] == "12.345"

    calls.clear()
    capsys.readouterr()
    assert main(args + ["--team", "lin", "--out", str(runs / "lin"), "--strengths", "1"]) == 0
    assert calls == [(1.0, 0)] and "- (not scored)" in capsys.readouterr().out
    lin = _rows(table)[2]
    assert lin["official"] == "yes" and lin["verdict"] and lin["s06_verdict"] == "" == lin["s06_elimination"]
    assert table.with_suffix(".md").read_text().splitlines()[4].endswith(
        "| - | - | - | - | - |" + " - | - | - | - | - |")  # no 0.6 columns, and no starter comparison (smoke)
    assert main(args + ["--team", "x", "--out", str(runs / "x"), "--strengths", "0.8"]) == 2
    assert "--strengths takes 1" in capsys.readouterr().err
