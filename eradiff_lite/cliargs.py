"""What every command's parser shares: numbers checked for their range, and errors in one line.

A numeric option is declared with its range, once, where it is declared::

    p.add_argument("--steps", type=count(1), default=25)          # an integer >= 1
    p.add_argument("--strength", type=number(0, 1, low_open=True))  # a float in (0, 1]

so ``--steps 0`` or ``--time-budget -5`` ends, before anything runs, in one line
``error: argument --steps: must be an integer >= 1, got '0' (see python -m eradiff_lite erase --help)``
and exit status 2 (argparse's own status for a bad command line). `Parser` is `argparse.ArgumentParser` with
that one-line error; sub-commands made with ``add_subparsers`` inherit it.
"""

from __future__ import annotations

import argparse
import math

#: Seeds are handed to numpy, which takes 0 .. 2**32 - 1.
SEED_MAX = 2**32 - 1


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``error: <what>, got <value> (see <prog> --help)``."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"error: {' '.join(message.split())} (see {self.prog} --help)\n")


class Range:
    """An argparse ``type``: ``kind(text)`` checked against ``low``/``high`` (open or closed ends)."""

    def __init__(self, kind: type, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False):
        self.kind, self.low, self.high, self.low_open, self.high_open = kind, low, high, low_open, high_open
        self.__name__ = kind.__name__  # argparse names the type in its own messages

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{what} {'>' if self.low_open else '>='} {self.low}"
        if self.high is not None:
            return f"{what} {'<' if self.high_open else '<='} {self.high}"
        return what

    def __call__(self, text: str):
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            value = None
        bad = value is None or (isinstance(value, float) and not math.isfinite(value))
        if not bad and self.low is not None:
            bad = value <= self.low if self.low_open else value < self.low
        if not bad and self.high is not None:
            bad = value >= self.high if self.high_open else value > self.high
        if bad:
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        return value

    def __repr__(self) -> str:
        return f"Range({self.describe()})"


def count(low: int = 1, high: int | None = None) -> Range:
    """An integer option of at least ``low`` (steps, scenes, repeats, ...)."""
    return Range(int, low, high)


def number(low: float | None = None, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False) -> Range:
    """A finite float option in the given range."""
    return Range(float, low, high, low_open=low_open, high_open=high_open)


def seed() -> Range:
    """A seed: an integer in [0, 2**32 - 1]."""
    return Range(int, 0, SEED_MAX)


def duration() -> Range:
    """A duration in seconds: a finite float > 0."""
    return Range(float, 0, low_open=True)
