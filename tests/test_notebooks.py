"""The committed notebooks follow the course's conventions (Colab cell, parameters cell, real outputs from a
cpu or gpu run, no machine path, slide metadata).

Each notebook is *executed* twice per test run, by nbval (``make test`` passes ``notebooks/NN_*.ipynb`` to
pytest with ``ERADIFF_PROFILE=smoke``): once as committed (the exercises' blank templates, each falling back to
the package's reference), then again with ``ERADIFF_SOLUTIONS=1``, where every build exercise runs its solution
(``exercises.solved``) and the rest of the notebook runs on it. In both runs a cell that raises fails, the cells
marked ``NBVAL_CHECK_OUTPUT`` must reproduce their committed output, and the last cell's ``run.write_summary``
refuses empty facts and missing or empty artifacts. Papermill's parameter injection is tested by the course
runner (test_course); that every checked exercise has the switch the second run turns on is tested here.
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
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is None]
    assert not unrun, f"cells {unrun} were never run (edited after the run?): re-execute with tools/nbbuild.py"
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


SWITCH = re.compile(r'^if use_solutions:\n[ \t]+(\w+) = solved\("(\w+)"\)', re.M)
CHECK_CALL = re.compile(r'\bcheck\(\s*"(\w+)"\s*,\s*([^,()]+?)\s*\)')
DEFINITION = re.compile(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=(?!=)", re.M)  # top level: what the learner writes


def solutions_switch_problems(nb) -> list[str]:
    """What keeps ``solutions=True`` (CI's second run) from running a notebook on every exercise's solution.

    Needs: a ``solutions`` parameter, ``use_solutions = solutions_wanted(solutions)``, and for each
    ``check("name", my_x)`` a switch ``if use_solutions:\n    my_x = solved("name")`` after the last
    top-level definition of ``my_x`` and before the call (a later cell may check the switched ``my_x`` again).
    """
    from eradiff_lite.exercises import EXERCISES

    code = _code_cells(nb)
    checks = [(i, m) for i, c in enumerate(code) for m in CHECK_CALL.finditer(c.source) if m.group(1) in EXERCISES]
    if not checks:
        return []
    problems = []
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if not params or not re.search(r"^solutions = None\b", params[0].source, re.M):
        problems.append("the parameters cell has no `solutions = None` parameter")
    wanted = [i for i, c in enumerate(code) if re.search(r"^use_solutions = solutions_wanted\(solutions\)",
                                                          c.source, re.M)]
    if not wanted or wanted[0] > checks[0][0]:
        problems.append("no `use_solutions = solutions_wanted(solutions)` before the first check")
    switched: dict[str, str | None] = {}  # my_x -> the exercise whose solution it holds now (None: the learner's)
    for i, cell in enumerate(code):
        events = [(m.start(), "switch", m.group(1), m.group(2)) for m in SWITCH.finditer(cell.source)]
        events += [(m.start(), "check", m.group(2), m.group(1)) for m in CHECK_CALL.finditer(cell.source)
                   if m.group(1) in EXERCISES]
        events += [(m.start(), "define", m.group(1) or m.group(2), None) for m in DEFINITION.finditer(cell.source)]
        for _, kind, var, name in sorted(events, key=lambda e: e[0]):
            if kind == "define":
                switched[var] = None
            elif kind == "switch":
                switched[var] = name
            elif not re.fullmatch(r"\w+", var):
                problems.append(f'code cell {i}: check("{name}", {var}) checks an expression the switch cannot replace')
            elif switched.get(var) != name:
                problems.append(f'code cell {i}: check("{name}", {var}) has no `if use_solutions:` / '
                                f'`{var} = solved("{name}")` switch before it, after {var} is defined')
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_checked_exercise_can_run_its_solution(path):
    """CI's second run (``ERADIFF_SOLUTIONS=1``) reaches every exercise: each ``check("name", my_x)`` is preceded
    by the switch that replaces ``my_x`` with ``solved("name")``, so every check passes and the rest of the
    notebook runs on the solutions."""
    problems = solutions_switch_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_the_switch_test_fails_a_notebook_without_the_switch():
    nb = nbformat.read(ROOT / "notebooks" / "01_data_synthesis.ipynb", as_version=4)
    assert solutions_switch_problems(nb) == []
    for cell in _code_cells(nb):
        cell.source = SWITCH.sub("", cell.source)
        cell.source = cell.source.replace("solutions = None", "no_solutions = None")
    problems = solutions_switch_problems(nb)
    assert any("`solutions = None`" in p for p in problems)
    assert sum('= solved("' in p for p in problems) == 3, problems  # paste, mask_from_alpha, composite
    nb = nbformat.read(ROOT / "notebooks" / "01_data_synthesis.ipynb", as_version=4)
    cell = next(c for c in _code_cells(nb) if 'check("paste"' in c.source)
    cell.source = ('if use_solutions:\n    my_paste = solved("paste")\n\n\ndef my_paste(background, cutout, y, x):\n'
                   '    return background\n\n\ncheck("paste", my_paste);\n')  # the learner's def overwrites the switch
    problems = solutions_switch_problems(nb)
    assert len(problems) == 1 and 'check("paste", my_paste)' in problems[0], problems


def test_teaching_md_states_the_committed_notebooks_run_times():
    """docs/teaching.md tells lecturers how long `make course` runs from the notebooks' `metadata.eradiff.seconds`:
    each notebook's seconds and their sum, as committed (re-executing a notebook means updating the sentence)."""
    import re

    seconds = {p.name[:2]: nbformat.read(p, as_version=4).metadata["eradiff"]["seconds"] for p in NOTEBOOKS}
    text = " ".join((ROOT / "docs" / "teaching.md").read_text().split())
    total = re.search(r"add up to (\d+) s", text)
    summed = round(sum(seconds.values()))
    assert total and int(total.group(1)) == summed, f"teaching.md: {total and total.group(1)} s, metadata: {summed} s"
    for number, value in seconds.items():
        stated = re.search(rf"\b{number}: (\d+) s\b", text)
        said = stated and stated.group(1)
        assert said and int(said) == round(value), f"notebook {number}: teaching.md {said} s, metadata {value:.0f} s"
