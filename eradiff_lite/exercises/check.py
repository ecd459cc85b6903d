"""The checks' common parts: `NotYet` (a wrong answer, its message the hint) and `close`, which compares a
tensor answer with the reference and names the typical mistake it matches."""

from __future__ import annotations

import torch


class NotYet(AssertionError):
    """A wrong answer; the message is the hint."""


def close(got, want, what: str, hints: list[tuple[torch.Tensor, str]]) -> None:
    """Pass when ``got`` equals ``want``; else the hint of the first typical mistake ``got`` equals."""
    if not isinstance(got, torch.Tensor):
        raise NotYet(f"{what}: return a torch tensor, got {type(got).__name__}")
    if got.shape != want.shape:
        raise NotYet(f"{what}: expected shape {tuple(want.shape)}, got {tuple(got.shape)} (keep one value per "
                     f"element; no reduction)")
    if torch.allclose(got.double(), want.double(), rtol=1e-5, atol=1e-6):
        return
    for looks_like, hint in hints:
        if torch.allclose(got.double(), looks_like.double(), rtol=1e-5, atol=1e-6):
            raise NotYet(f"{what}: {hint}")
    worst = (got.double() - want.double()).abs().max().item()
    raise NotYet(f"{what}: differs from the reference by up to {worst:.3g}; re-read the equation term by term")
