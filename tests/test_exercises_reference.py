"""``reference(name)`` shows the package's own version of every exercise: a real function or class of the package,
named where `check` points after a pass (the pointer itself: tests/test_exercises.py)."""

import inspect

import pytest

from eradiff_lite.exercises import EXERCISES, check, reference, solution, solved
from eradiff_lite.exercises import references as refs


def test_every_exercise_has_exactly_one_reference():
    assert list(refs.REFERENCES) == list(EXERCISES)  # the same names, in the registry's order


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_shows_the_source_of_a_package_function_or_class(name, capsys):
    qualified, note = refs.REFERENCES[name]
    obj = refs.reference_object(name)
    assert f"{obj.__module__}.{obj.__qualname__}" == qualified == refs.reference_name(name)
    assert qualified.startswith("eradiff_lite.") and ".exercises." not in qualified  # the library's, not a check's
    code = reference(name)
    assert code.strip() and ("def " in code or "class " in code) and code == inspect.getsource(obj)
    out = capsys.readouterr().out
    head = " ".join(out.split("\n\n", 1)[0].split())  # the heading, wrapped at 110 characters
    assert head.startswith(f"The package's version of {name!r}: {qualified} (eradiff_lite/") and code in out
    assert "/work/" not in out and "/root" not in out and "/tmp/" not in out  # no machine path in a notebook
    assert note == "" or note.endswith(".")


def test_an_unknown_name_raises_and_lists_the_known_ones():
    for ask in (reference, refs.reference_name):
        with pytest.raises(KeyError, match="no exercise 'nope': choose one of paste, mask_from_alpha, ") as error:
            ask("nope")
        assert all(name in str(error.value) for name in EXERCISES)


def test_in_a_notebook_the_source_is_a_highlighted_markdown_block(monkeypatch, capsys):
    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(refs, "in_notebook", lambda: True)
    monkeypatch.setattr(display, "display", shown.append)
    assert reference("cro_loss") is None  # a cell ending with it shows the block once, no echoed string
    code = inspect.getsource(inspect.unwrap(refs.reference_object("cro_loss")))
    assert capsys.readouterr().out == "" and len(shown) == 1
    text = shown[0].data
    assert text.startswith("The package's version of `cro_loss`: `eradiff_lite.cro.cro_loss` (eradiff_lite/cro.py, ")
    assert text.endswith(f"```python\n{code}```") and "def cro_loss(" in code and "Eq. 9" in code


def test_outside_a_kernel_it_is_plain_text():
    assert refs.in_notebook() is False  # pytest runs no Jupyter kernel


def test_a_failing_check_does_not_point_and_the_solution_does(capsys):
    assert check("mask_from_alpha", lambda alpha: alpha > 0) is False
    assert "reference(" not in capsys.readouterr().out
    assert check("mask_from_alpha", solved("mask_from_alpha")) is True
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == ("compare with the package's version: reference('mask_from_alpha')  "
                        "(eradiff_lite.data.compose.mask_from_alpha)")
    assert solution("mask_from_alpha") == EXERCISES["mask_from_alpha"].solution
    assert "reference('mask_from_alpha')" in capsys.readouterr().out.splitlines()[-1]


def test_in_a_notebook_hint_and_solution_print_once_and_return_nothing(monkeypatch, capsys):
    import eradiff_lite.exercises as exercises

    monkeypatch.setattr(exercises, "in_notebook", lambda: True)
    assert exercises.hint("cro_loss", 1) is None and exercises.solution("cro_loss") is None
    out = capsys.readouterr().out
    assert "def my_cro_loss" in out and out.count("def my_cro_loss") == 1  # the solution, printed once
    monkeypatch.setattr(exercises, "in_notebook", lambda: False)
    assert exercises.hint("cro_loss", 3) == exercises.solution("cro_loss")  # outside: the text, for code and tests
