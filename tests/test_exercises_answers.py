"""A passing answer is kept and comes back in a later notebook; a failing or incomplete one never does."""

import torch

from eradiff_lite.exercises import EXERCISES, answer_from_source, check
from eradiff_lite.exercises.answers import answers_dir, load_answer, save_answer, source_in_history

NOISY_MIX = EXERCISES["noisy_mix"]
SRA = EXERCISES["sra_processor"]


def test_a_passing_answer_is_kept_and_loaded_back(tmp_path, capsys):
    cell = NOISY_MIX.solution  # what a learner's cell would hold
    answer = answer_from_source(cell)
    path = save_answer("noisy_mix", answer, NOISY_MIX.grade, history=["import torch", cell], folder=tmp_path)
    assert path == tmp_path / "noisy_mix.py" and "def my_noisy_mix" in path.read_text()

    def first_guess(*args):
        return None

    loaded = load_answer("noisy_mix", first_guess, folder=tmp_path)
    assert loaded is not first_guess and check("noisy_mix", loaded)
    assert "your answer, kept when its check passed" in capsys.readouterr().out


def test_a_class_typed_in_a_cell_is_found_in_the_history_and_checked_as_the_later_exercise(tmp_path):
    cell = "x = 1\n\n" + SRA.solution + "\nprint('done')\n"
    answer = answer_from_source(SRA.solution)
    assert source_in_history("MySRAProcessor", ["x = 2", cell, "y = 3"]).startswith("class MySRAProcessor")
    assert save_answer("sra_processor", answer, SRA.grade, history=[cell], folder=tmp_path) is not None
    loaded = load_answer("sra_processor", None, check_as="sra_processor_sd", folder=tmp_path, quiet=True)
    assert loaded is not None and loaded.__name__ == "MySRAProcessor"


def test_a_wrong_or_dependent_answer_is_not_kept_and_the_fallback_comes_back(tmp_path, capsys):
    wrong = answer_from_source(NOISY_MIX.wrong)
    assert save_answer("noisy_mix", wrong, NOISY_MIX.grade, history=[NOISY_MIX.wrong], folder=tmp_path) is None
    needs_a_global = NOISY_MIX.solution.replace(
        "    ", "    helper_from_another_cell\n    ", 1)
    assert save_answer("noisy_mix", answer_from_source(NOISY_MIX.solution), NOISY_MIX.grade,
                       history=[needs_a_global], folder=tmp_path) is None
    assert not list(tmp_path.iterdir())

    (tmp_path / "noisy_mix.py").write_text(NOISY_MIX.wrong)  # a kept file that no longer passes
    assert load_answer("noisy_mix", "fallback", folder=tmp_path) == "fallback"
    assert "no passing answer kept yet" in capsys.readouterr().out


def test_check_keeps_nothing_outside_a_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("ERADIFF_RUNS", str(tmp_path))
    assert answers_dir() == tmp_path / "answers"
    assert check("noisy_mix", answer_from_source(NOISY_MIX.solution))
    assert not (tmp_path / "answers").exists()
    assert torch.is_tensor(torch.zeros(1))  # torch stays importable after the exec'd answers
