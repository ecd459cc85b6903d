"""The runner behind `make course`: executes notebooks in order and writes a one-page summary."""

import json

from eradiff_lite.course import list_notebooks, run_course, start_notebook


def test_list_notebooks_is_ordered():
    names = [p.name for p in list_notebooks()]
    assert names == sorted(names) and names[0].startswith("01_")


def test_run_course_writes_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("ERADIFF_RUNS", str(tmp_path))
    root = run_course(profile="smoke", only=["01"])
    assert root.parent == tmp_path
    summary = json.loads((root / "summary.json").read_text())
    assert summary["profile"] == "smoke" and summary["device"]
    assert [n["notebook"] for n in summary["notebooks"]] == ["01_data_synthesis.ipynb"]
    assert summary["notebooks"][0]["status"] == "ok" and summary["notebooks"][0]["seconds"] > 0
    assert (root / "01_data_synthesis.ipynb").stat().st_size > 0
    assert "| notebook | status | time (s) |" in (root / "SUMMARY.md").read_text()
    assert json.loads((root / "01_data_synthesis" / "summary.json").read_text())["profile"] == "smoke"


def test_start_notebook_writes_summary_and_checks_artifacts(tmp_path):
    run = start_notebook("99_test", "smoke", str(tmp_path))
    (tmp_path / "a.txt").write_text("x")
    path = run.write_summary({"answer": 42}, ["a.txt"])
    assert json.loads(path.read_text())["facts"] == {"answer": 42}
    import pytest

    with pytest.raises(FileNotFoundError, match="missing.txt"):
        run.write_summary({}, ["missing.txt"])
