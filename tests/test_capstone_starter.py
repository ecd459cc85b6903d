"""The capstone's equal-budget comparator: the starter's official run, shipped (data/results/capstone_starter.json),
and the second paired comparison the command prints with it, by the same rule, where the budgets are equal."""

import csv
import json

import numpy as np
import pytest

from conftest import ROOT
from eradiff_lite.cli import main
from eradiff_lite.experiments.capstone import compare
from eradiff_lite.experiments.capstone_rules import (
    BUDGETS,
    STARTER,
    STARTER_FILE,
    load_starter,
    ship_starter,
    starter_row,
    why_no_starter,
)
from eradiff_lite.experiments.capstone_table import COLUMNS, COLUMNS_BEFORE_STARTER, describe_row, read_rows, verdict
from eradiff_lite.losses import unregister_loss
from eradiff_lite.variants import unregister_variant

STARTER_PY = ROOT / "assignments" / "capstone" / "my_variant.py"


@pytest.fixture(scope="module")
def shipped():
    return load_starter()


@pytest.fixture
def starter_file():
    yield STARTER_PY
    unregister_loss("my_variant")
    unregister_variant("my_variant")


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_shipped_starter_loads_and_matches_the_benchmarks_scenes(shipped):
    from eradiff_lite.metrics.benchmark import load_benchmark

    path = ROOT / "data" / STARTER_FILE
    assert shipped is not None and path.stat().st_size < 100_000
    assert shipped["source"]["official"] == "yes" and shipped["source"]["variant"] == "my_variant"
    assert shipped["source"]["file_sha256"] and shipped["source"]["date"] and shipped["source"]["device"]
    budget = {k: v for k, v in shipped["budget"].items() if k != "name"}
    assert budget == vars(BUDGETS["cpu"]) == vars(BUDGETS["gpu"]) and shipped["source"]["steps_run"] == 400
    bench = load_benchmark(scenes=shipped["budget"]["scenes"], size=64).describe()
    assert why_no_starter(shipped, BUDGETS["cpu"], bench) == "" and bench["scenes"] == 256
    assert set(shipped["strengths"]) == {"1", "0.6"}
    for at in ("1", "0.6"):
        scored = shipped["strengths"][at]
        assert {k: len(v) for k, v in scored["per_scene"].items()} == dict.fromkeys(
            ("eliminated", "recreated", "masked_psnr", "texture_log2"), bench["scenes"])
        assert set(scored["per_scene"]["eliminated"]) <= {0, 1}
        assert scored["elimination"] == pytest.approx(100 * np.mean(scored["per_scene"]["eliminated"]), abs=1e-3)
        assert scored["masked_psnr"] == pytest.approx(np.mean(scored["per_scene"]["masked_psnr"]), abs=1e-3)


def test_a_run_is_compared_with_the_starter_only_at_its_budget_and_benchmark(shipped, tmp_path):
    bench = dict(shipped["benchmark"])
    assert why_no_starter(shipped, BUDGETS["smoke"], bench).startswith("steps 2 instead of the starter's 400")
    assert why_no_starter(shipped, BUDGETS["cpu"], {**bench, "version": "heldout-v2"}) == \
        "benchmark version heldout-v2 instead of heldout-v1"
    assert why_no_starter(None, BUDGETS["cpu"], bench) == f"no starter file (data/{STARTER_FILE})"
    assert load_starter(tmp_path / "missing.json") is None


def test_the_starter_against_itself_is_a_zero_difference_and_no_difference_shown(shipped):
    from types import SimpleNamespace

    from eradiff_lite.experiments.capstone_table import class_row
    from eradiff_lite.variants import VARIANTS

    vs = {"file": f"data/{STARTER_FILE}", "why_not": ""}
    for at in ("1", "0.6"):
        theirs = starter_row(shipped, float(at))
        mine = {**theirs, "variant": "my_variant"}
        paired = compare(mine, theirs)
        assert paired["reference"] == STARTER
        for key in ("elimination", "masked_psnr", "recreation"):
            assert (paired[key]["mean"], paired[key]["low"], paired[key]["high"]) == (0, 0, 0)
        assert paired["mcnemar"] == {"n_ab": 0, "n_ba": 0, "p_value": 1.0}
        assert verdict(paired, "the starter") == "no difference shown"
        vs[at] = {"rows": [mine, theirs], "paired": paired}
    result = SimpleNamespace(steps_done=400, seconds=870.0, device="cpu", final_loss=0.25)
    mine, theirs = vs["1"]["rows"]
    row = class_row("ada", VARIANTS["cro"], "ab" * 32, result, BUDGETS["cpu"], "cpu", "", mine,
                    {**theirs, "variant": "cro_sra"}, compare(mine, {**theirs, "variant": "cro_sra"}), None, vs)
    assert tuple(row) == COLUMNS and row["starter_elimination"] == row["elimination"]
    assert row["starter_d_elimination"] == row["s06_starter_d_masked_psnr"] == 0 and row["starter_mcnemar_p"] == 1
    assert row["starter_verdict"] == row["s06_starter_verdict"] == "no difference shown"
    printed = describe_row(row, vs["file"])
    assert (f"against the starter at the same 400 steps (data/{STARTER_FILE}; the same rule and measures; the "
            f"official verdict stays the one against cro_sra): elimination") in printed
    assert "difference 0.0 points [0.0, 0.0], McNemar p = 1.0 (0 scenes only yours erase, 0 only the starter's)" \
        in printed
    assert "against the starter from the noised input (strength 0.6): elimination" in printed
    assert printed.endswith("verdict: no difference shown")


def test_the_command_prints_the_starter_comparison_at_an_equal_budget_and_says_why_not_otherwise(starter_file,
                                                                                              tmp_path, capsys):
    """End to end on the smoke budget: the shipped starter (cpu budget) is not comparable, one line says why; a
    starter shipped from a smoke run of the starter is, and the next run prints the comparison with it."""
    table, runs, smoke_starter = tmp_path / "results.csv", tmp_path / "runs", tmp_path / "starter.json"
    args = ["capstone", str(starter_file), "--profile", "smoke", "--table", str(table)]
    assert main(args + ["--team", "lecturer", "--out", str(runs / "lecturer")]) == 0
    printed = capsys.readouterr().out
    assert "against the starter at the same budget: not compared (steps 2 instead of the starter's 400;" in printed
    assert _rows(table)[0]["starter_verdict"] == "" and "against the starter at the same 2 steps" not in printed
    assert json.loads((runs / "lecturer" / "capstone.json").read_text())["starter"]["why_not"].startswith("steps 2")

    ship = ["capstone", str(runs / "lecturer" / "capstone.json"), "--ship-starter", "--starter", str(smoke_starter)]
    assert main(ship) == 0 and "wrote" in capsys.readouterr().out
    assert load_starter(smoke_starter)["budget"]["steps"] == BUDGETS["smoke"].steps

    assert main(args + ["--team", "ada", "--out", str(runs / "ada"), "--starter", str(smoke_starter)]) == 0
    printed = capsys.readouterr().out
    assert (f"against the starter at the same 2 steps ({smoke_starter}; the same rule and measures; the official "
            f"verdict stays the one against cro_sra): elimination") in printed
    assert "against the starter from the noised input (strength 0.6): elimination" in printed
    row = _rows(table)[1]
    assert row["starter_verdict"] in ("beats the starter", "worse than the starter", "no difference shown")
    assert row["verdict"] in ("beats cro_sra", "worse than cro_sra", "no difference shown")  # still against cro_sra
    assert float(row["starter_d_elimination"]) == pytest.approx(
        float(row["elimination"]) - float(row["starter_elimination"]), abs=2e-3)
    assert int(row["starter_only_mine"]) + int(row["starter_only_starter"]) <= BUDGETS["smoke"].scenes
    assert row["s06_starter_verdict"] and row["s06_starter_mcnemar_p"]
    assert table.with_suffix(".md").read_text().splitlines()[3].endswith(f"| {row['s06_starter_verdict']} |")

    assert main(args + ["--team", "grace", "--out", str(runs / "grace"), "--starter", str(smoke_starter),
                        "--steps", "1"]) == 0
    assert "against the starter at the same budget: not compared (steps 1 instead of the starter's 2)" in \
        capsys.readouterr().out
    with pytest.raises(ValueError, match="not an official row"):
        ship_starter(runs / "grace" / "capstone.json", tmp_path / "no.json")


def test_a_table_written_before_the_starter_columns_still_reads(tmp_path):
    table = tmp_path / "results.csv"
    with open(table, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS_BEFORE_STARTER, lineterminator="\n")
        writer.writeheader()
        writer.writerow({k: "x" for k in COLUMNS_BEFORE_STARTER})
    (row,) = read_rows(table)
    assert tuple(row) == COLUMNS and all(row[k] == "" for k in COLUMNS if "starter_" in k)
