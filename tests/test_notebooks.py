"""The committed notebooks follow the course's conventions (Colab cell, parameters cell, real outputs from a
cpu or gpu run, no machine path, slide metadata).

Each notebook is *executed* once per test run, by nbval (``make test`` passes ``notebooks/NN_*.ipynb`` to
pytest with ``ERADIFF_PROFILE=smoke``): a cell that raises fails, the cells marked ``NBVAL_CHECK_OUTPUT``
must reproduce their committed output, and the last cell's ``run.write_summary`` refuses empty facts and
missing or empty artifacts. Papermill's parameter injection is tested by the course runner (test_course).
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT_S = 600
MACHINE_PATH = re.compile(r"(?<![\w.])(/work|/root|/home|/tmp|/Users|/content)/|[A-Za-z]:\\\\Users")


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _output_text(output) -> str:
    """An output's text (stream, error, and every non-image MIME bundle), for the path-leak check."""
    data = {mime: v for mime, v in output.get("data", {}).items() if not mime.startswith("image/")}
    return json.dumps([output.get("text", ""), output.get("traceback", []), data])


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_follows_conventions(path):
    nb = nbformat.read(path, as_version=4)
    code = _code_cells(nb)
    assert "google.colab" in code[0].source, "first code cell must be the Colab install cell"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    for name in ("profile_name", "out_dir"):
        assert name in params[0].source, f"parameters cell must define {name}"
    with_outputs = sum(bool(c.outputs) for c in code)
    assert with_outputs >= len(code) // 2, f"committed without outputs ({with_outputs} of {len(code)} code cells)"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, "committed notebook holds error outputs"
    leaks = [i for i, c in enumerate(code) for o in c.outputs if MACHINE_PATH.search(_output_text(o))]
    assert not leaks, f"outputs of code cells {leaks} show a machine path (end the line with ';', or print it relative)"
    run = nb.metadata.get("eradiff", {})
    assert run.get("profile") in ("cpu", "gpu") and run.get("device"), \
        "metadata.eradiff must name the profile and device of the committed outputs (cpu or gpu run)"
    assert nb.cells[-1].cell_type == "markdown" and "summary" in nb.cells[-1].source.lower()
    missing = [i for i, c in enumerate(nb.cells) if "slide_type" not in c.metadata.get("slideshow", {})]
    assert not missing, f"cells {missing} lack slide metadata: build or execute with tools/nbbuild.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_two_exercises_that_check_themselves(path):
    """At least two "Your turn" exercises, each followed by a cell that calls `check` on a registered exercise
    (whose check and solution are tested in test_exercises.py)."""
    from eradiff_lite.exercises import EXERCISES

    nb = nbformat.read(path, as_version=4)
    turns = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "Your turn" in c.source]
    assert len(turns) >= 2, f"{path.name}: {len(turns)} 'Your turn' exercises, the course asks for at least 2"
    for i in turns:
        code = next(c for c in nb.cells[i + 1:] if c.cell_type == "code")
        called = re.findall(r'check\("(\w+)"', code.source)
        assert called and all(name in EXERCISES for name in called), \
            f"{path.name}: the cell after 'Your turn' (cell {i}) must call check(\"<exercise>\", ...)"
