"""Notebook 06's reading of the judge-against-the-eye check: computed from the results file, flips with it."""

import copy
import json
from pathlib import Path

from eradiff_lite.experiments.eye_readings import eye_reading, eye_table

CHECK = json.loads((Path(__file__).resolve().parents[1] / "data/results/judge_vs_eye.json").read_text())


def test_the_table_has_one_row_per_arm_with_the_judge_and_the_eye():
    lines = eye_table(CHECK).splitlines()
    assert len(lines) == 1 + len(CHECK["arms"])
    row = next(line for line in lines if line.startswith("cro_sra "))
    assert f"{CHECK['arms']['cro_sra']['judge_elimination']:.1f}" in row


def test_the_reading_follows_the_numbers():
    text = eye_reading(CHECK)
    table = CHECK["labellers"][next(iter(CHECK["labellers"]))]["table"]
    assert f"gone in {table['judge not, eye gone']} of" in text and "lower bound" in text
    assert "not people" in text  # who the labellers were is always said
    worse = copy.deepcopy(CHECK)
    for lab in worse["labellers"].values():
        lab["table"]["judge eliminated, eye visible"] = 5
    assert "the eye still saw the object in 5 of" in eye_reading(worse)
    assert "passes no object" not in eye_reading(worse)


def test_a_missing_file_reads_not_measured():
    assert "not measured" in eye_reading(None)
    no_reference = copy.deepcopy(CHECK)
    del no_reference["arms"]["shifted_truth"]
    assert "moved 3 px" not in eye_reading(no_reference)


PAIRS = json.loads((Path(__file__).resolve().parents[1] / "data/results/judge_vs_eye_pairs.json").read_text())


def test_the_pairs_reading_follows_the_counts_and_the_sign_test():
    from eradiff_lite.experiments.eye_readings import pairs_reading

    text = pairs_reading(PAIRS)
    a, b = PAIRS["arms"]
    first = next(iter(PAIRS["labellers"].values()))
    assert f"({first[f'judge says only {a}']['scenes']} scenes)" in text
    lopsided = copy.deepcopy(PAIRS)
    for lab in lopsided["labellers"].values():
        lab["random scenes"].update({f"blends: {a}": 0, f"blends: {b}": 20, "blends: same": 10})
    assert "A preference is shown" in pairs_reading(lopsided) and "p = 0.00" in pairs_reading(lopsided)
    if "No labeller shows a preference" in text:  # the committed counts: no preference either way
        assert "A preference is shown" not in text
    assert "not measured" in pairs_reading(None)
