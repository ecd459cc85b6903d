"""The runner behind `make course`: executes notebooks in order and writes a one-page summary."""

import json

import pytest

from eradiff_lite.course import list_notebooks, run_course, start_notebook


def test_list_notebooks_is_ordered():
    names = [p.name for p in list_notebooks()]
    assert names == sorted(names) and names[0].startswith("01_")


def _tiny_course(folder):
    """Two notebooks in the course's shape (a parameters cell, a summary), the second failing: what the runner
    must do with a course, without executing the real notebooks a third time (tests/test_notebooks.py runs them)."""
    import nbformat

    folder.mkdir()
    for name, body in (("01_first", "x = 1"), ("02_second", "raise RuntimeError('on purpose')"),
                       ("03_never", "x = 3")):
        params = nbformat.v4.new_code_cell("profile_name = None\nout_dir = None")
        params.metadata["tags"] = ["parameters"]
        code = (f"from eradiff_lite.course import start_notebook\nrun = start_notebook({name!r}, profile_name, "
                f"out_dir)\nrun.write_summary({{'ok': True}});\n{body}")
        cells = [params, nbformat.v4.new_code_cell(code), nbformat.v4.new_markdown_cell("## Summary")]
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")


def test_run_course_runs_in_order_writes_a_summary_and_stops_at_a_failure(tmp_path, monkeypatch):
    import eradiff_lite.course as course

    _tiny_course(tmp_path / "notebooks")
    monkeypatch.setattr(course, "notebooks_dir", lambda: tmp_path / "notebooks")
    monkeypatch.setenv("ERADIFF_RUNS", str(tmp_path / "runs"))
    with pytest.raises(SystemExit, match="02_second.ipynb failed"):
        run_course(profile="smoke")
    root = next((tmp_path / "runs").iterdir())
    summary = json.loads((root / "summary.json").read_text())
    assert summary["profile"] == "smoke" and summary["device"]
    assert [(n["notebook"], n["status"].split(":")[0]) for n in summary["notebooks"]] == [
        ("01_first.ipynb", "ok"), ("02_second.ipynb", "failed")]  # 03 never ran: the runner stops
    assert json.loads((root / "01_first" / "summary.json").read_text())["profile"] == "smoke"
    page = (root / "SUMMARY.md").read_text()
    assert "| notebook | status | time (s) | headline figures |" in page
    assert "| [01_first.ipynb](01_first.ipynb) | ok |" in page and "| ok: yes |" in page  # its summary's facts
    assert summary["notebooks"][0]["facts"] == {"ok": True}
    only = run_course(profile="smoke", only=["01"])
    assert [n["notebook"] for n in json.loads((only / "summary.json").read_text())["notebooks"]] == ["01_first.ipynb"]


def test_headline_figures_are_the_plain_facts_on_one_line():
    from eradiff_lite.course import headline

    facts = {"closed_form_holds": True, "rows": [{"a": 1}], "psnr_db": {"cro": 21.456, "sra": 20.0},
             "model": "tiny | random", "seconds": 0.123456, "long": "x" * 60, "k": 1, "l": 2, "m": 3, "n": 4}
    assert headline(facts) == ("closed form holds: yes; psnr db: cro 21.46, sra 20; model: tiny \\| random; "
                               "seconds: 0.1235; k: 1; l: 2")


def test_start_notebook_writes_summary_and_checks_artifacts(tmp_path):
    run = start_notebook("99_test", "smoke", str(tmp_path))
    (tmp_path / "a.txt").write_text("x")
    path = run.write_summary({"answer": 42}, ["a.txt"])
    assert json.loads(path.read_text())["facts"] == {"answer": 42}
    import pytest

    with pytest.raises(FileNotFoundError, match="missing.txt"):
        run.write_summary({"answer": 42}, ["missing.txt"])
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match="empty artifacts"):
        run.write_summary({"answer": 42}, ["empty.png"])
    with pytest.raises(ValueError, match="facts is empty"):
        run.write_summary({}, ["a.txt"])


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
    import numpy as np

    assert run.save_json({"k": np.float32(0.5)}, "facts.json") is None
    assert json.loads((tmp_path / "facts.json").read_text()) == {"k": 0.5}
    with pytest.raises(TypeError):
        run.save_json({"k": object()}, "facts.json")  # not JSON: the good file stays as it was
    assert json.loads((tmp_path / "facts.json").read_text()) == {"k": 0.5}
