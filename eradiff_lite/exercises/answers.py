"""Your answers travel between notebooks: `check` keeps each passing answer, `load_answer` brings it back.

A build exercise of one notebook is used again in a later one (notebook 02's ``noisy_mix`` in 03's CRO loss,
notebook 04's SRA processor on Stable Diffusion in 07). Each notebook starts a fresh kernel, so instead of pasting:

- when `check` passes inside a notebook, it saves the answer's source to ``runs/answers/<name>.py``
  (`answers_dir`; ``ERADIFF_RUNS`` moves ``runs/``), written atomically;
- ``my_fn = load_answer("noisy_mix", my_fn)`` in the later notebook returns the saved answer when it still passes
  its check (``check_as``: the later notebook's check of the same code), else the cell's own ``my_fn``, and says
  which one it returns.

The source comes from `inspect.getsource`, or, for a class typed in a notebook cell (which `inspect` cannot
always read back), from the cell history of the running IPython kernel. An answer whose source cannot be found,
or whose saved source does not define a passing answer on its own (it used another cell's variable), is not kept.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import torch

from ..paths import runs_dir, write_text_atomic
from .check import NotYet


def answers_dir() -> Path:
    """Where passing answers are kept: ``runs/answers`` (``ERADIFF_RUNS`` moves ``runs/``)."""
    return runs_dir() / "answers"


def source_in_history(name: str, history: list[str]) -> str | None:
    """The last top-level ``def name`` or ``class name`` in ``history`` (cell sources, oldest first), or None."""
    for cell in reversed(history):
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            continue
        for node in reversed(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                return ast.get_source_segment(cell, node)
    return None


def _history() -> list[str] | None:
    """The running IPython kernel's cell sources, oldest first; None outside a notebook."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return list(shell.user_ns.get("In", [])) if shell is not None else None


def answer_from(source: str, filename: str = "<your answer>", **names):
    """The ``my_...`` function or ``My...`` class that ``source`` defines on its own (``torch``, ``np`` and
    ``names`` given): a kept answer here, a solution or wrong answer of the registry (`answer_from_source`)."""
    namespace = {"torch": torch, "np": np, "__name__": "eradiff_answer", **names}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the learner's or the course's own code
    return next(v for k, v in namespace.items() if k.startswith(("my_", "My")) and callable(v))


def _passes(grade, answer) -> bool:
    try:
        grade(answer)
    except NotYet:
        return False
    except Exception:  # noqa: BLE001 - a crash is a failed check here too
        return False
    return True


def save_answer(name: str, answer, grade, history: list[str] | None = None, folder: Path | None = None) -> Path | None:
    """Keep ``answer`` (it passed exercise ``name``'s ``grade``) as ``<folder>/<name>.py``; None when its source
    cannot be found or does not pass on its own. ``history``: cell sources to search (None: the running kernel's;
    outside a notebook nothing is kept then, so the tests' own checks leave no files)."""
    history = _history() if history is None else history
    if history is None:
        return None
    try:
        source = inspect.getsource(answer)
    except (OSError, TypeError):
        source = source_in_history(getattr(answer, "__name__", ""), history)
    if not source:
        return None
    try:
        alone = answer_from(source)
    except Exception:  # noqa: BLE001 - it needs another cell's variable: not kept
        return None
    if not _passes(grade, alone):
        return None
    return write_text_atomic((folder or answers_dir()) / f"{name}.py", source.rstrip() + "\n")


def load_answer(name: str, fallback, check_as: str | None = None, folder: Path | None = None, quiet: bool = False):
    """The answer kept for exercise ``name`` when it passes the check of exercise ``check_as`` (None: ``name``), else
    ``fallback``; prints which one."""
    from . import EXERCISES  # the registry imports this module

    grade = EXERCISES[check_as or name].grade
    path = (folder or answers_dir()) / f"{name}.py"
    if path.is_file():
        try:
            kept = answer_from(path.read_text())
        except Exception:  # noqa: BLE001 - a broken file reads as none kept
            kept = None
        if kept is not None and _passes(grade, kept):
            quiet or print(f"{name}: your answer, kept when its check passed ({path.parent.name}/{path.name})")
            return kept
    quiet or print(f"{name}: no passing answer kept yet (its check saves it when it passes): this cell's own")
    return fallback
