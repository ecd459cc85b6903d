"""The runner behind `make course`: executes notebooks in order and writes a one-page summary."""

import json

import pytest

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


def test_a_notebook_figure_is_written_whole_or_not_at_all(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eradiff_lite.course import start_notebook

    run = start_notebook("test_figures", "smoke", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert run.save_figure(fig, "line.png") is None  # nothing for a notebook cell to display
    assert (tmp_path / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        run.save_figure(fig, "line.nosuchformat")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.png"]  # no partial or temporary file
