"""The checks' common parts: `NotYet` (a wrong answer, its message the hint) and `close`, which compares an
answer (a torch tensor or a numpy array, float or bool) with the reference and names the typical mistake it
matches."""

from __future__ import annotations

import numpy as np
import torch


class NotYet(AssertionError):
    """A wrong answer; the message is the hint."""


def _same(a, b) -> bool:
    """Equal for bool answers, equal to float precision (rtol 1e-5, atol 1e-6) otherwise."""
    if isinstance(b, np.ndarray):
        a, b = np.asarray(a), b
        return np.array_equal(a, b) if b.dtype == bool else np.allclose(a, b, rtol=1e-5, atol=1e-6)
    if b.dtype == torch.bool and a.dtype == torch.bool:
        return torch.equal(a, b)
    return torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-6)


def close(got, want, what: str, hints: list[tuple], *, form: str | None = None, otherwise: str | None = None) -> None:
    """Pass when ``got`` equals ``want`` (same kind: tensor or array; same shape; bool when ``want`` is bool);
    else the hint of the first typical mistake in ``hints`` (``(looks_like, hint)`` pairs) that ``got`` equals,
    else ``otherwise`` (or how far ``got`` is from the reference). ``form`` says what to return."""
    kind = np.ndarray if isinstance(want, np.ndarray) else torch.Tensor
    boolean = want.dtype in (bool, torch.bool)
    form = form or (f"a {'bool ' if boolean else ''}{'numpy array' if kind is np.ndarray else 'torch tensor'} "
                    f"of shape {tuple(want.shape)}")
    if not isinstance(got, kind):
        raise NotYet(f"{what}: return {form}, got {type(got).__name__}")
    if got.shape != want.shape:
        raise NotYet(f"{what}: expected shape {tuple(want.shape)}, got {tuple(got.shape)}: return {form} (keep one "
                     f"value per element; no reduction)")
    if boolean and got.dtype not in (bool, torch.bool):
        raise NotYet(f"{what}: return {form}, got {got.dtype} (a comparison gives bools)")
    if _same(got, want):
        return
    for looks_like, hint in hints:
        if _same(got, looks_like):
            raise NotYet(f"{what}: {hint}")
    if otherwise:
        raise NotYet(f"{what}: {otherwise}")
    if boolean:
        wrong = int((got != want).sum())
        raise NotYet(f"{what}: {wrong} of {want.numel() if kind is torch.Tensor else want.size} entries differ from "
                     f"the reference; re-read the rule")
    worst = float(abs(np.asarray(got, np.float64) - np.asarray(want, np.float64)).max()) if kind is np.ndarray \
        else (got.double() - want.double()).abs().max().item()
    raise NotYet(f"{what}: differs from the reference by up to {worst:.3g}; re-read the equation term by term")
