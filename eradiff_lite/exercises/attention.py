"""Checks of the attention and latent-model exercises: Eq. 10 and the mask at a grid (04), the latent mask and
a LoRA adapter's size (07). A wrong answer is told what is wrong with its output (the symptom), never the
expression that fixes it: that is `hint(name, 2)` and `solution(name)`."""

from __future__ import annotations

import torch

from .check import NotYet, close


def grade_eq10(answer) -> None:
    from ..sra.layer_masks import sra_allowed

    m = torch.tensor([[True, False, True, False, False], [False, False, False, True, True]])
    got = answer(m.clone())
    want = sra_allowed(m, "eq10")
    close(got, want, "Eq. 10", [
        (sra_allowed(m, "keys"), "your matrix also keeps the BACKGROUND queries away from the hole's keys: that is "
                                 "Attentive Eraser's rule, which changes every token's output, not Eq. 10"),
        (~want, "your matrix is the exact opposite of Eq. 10's: it is True where a pair is blocked (True = may "
                "attend)")],
        form=f"a bool tensor [B, N, N] = {tuple(want.shape)} (True = may attend)", otherwise=_pairs_off(got, want, m))


def _pairs_off(got, want, m) -> str | None:
    """Which kinds of (query, key) pair a wrong Eq. 10 answer gets wrong."""
    if not (isinstance(got, torch.Tensor) and got.shape == want.shape and got.dtype == torch.bool):
        return None
    q, k = m[:, :, None].expand_as(want), m[:, None, :].expand_as(want)
    kinds = {"hole query, hole key": q & k, "hole query, background key": q & ~k,
             "background query, hole key": ~q & k, "background query, background key": ~q & ~k}
    off = [f"{int((got != want)[where].sum())} of {int(where.sum())} '{kind}' pairs" for kind, where in kinds.items()
           if (got != want)[where].any()]
    return "your matrix differs from Eq. 10's on " + ", ".join(off)


def grade_mask_at(answer) -> None:
    from ..sra.layer_masks import mask_at

    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 5:7, 9:10] = 1  # a small hole: 2 x 1 pixels
    got = answer(mask.clone(), (4, 4))
    want = mask_at(mask, (4, 4))
    average = torch.nn.functional.adaptive_avg_pool2d(mask, (4, 4))
    lost = ("a hole of 2 x 1 pixels {} at the 4 x 4 grid in yours: small holes fade or vanish at coarse grids, so "
            "SRA would let the hole's tokens read each other")
    close(got, want, "mask at a grid", [(average, lost.format(f"comes out as a token of {float(average.max()):.3g}")),
                                        (average > 0.5, lost.format("leaves no token"))],
          form=f"a tensor [B, 1, h, w] = {tuple(want.shape)}", otherwise=_tokens_off(got, want, "(4, 4) grid"))


def _tokens_off(got, want, where: str) -> str | None:
    """How a wrong mask at a grid differs: hole tokens left out, background tokens marked, values not 0 or 1."""
    if not (isinstance(got, torch.Tensor) and got.shape == want.shape):
        return None
    g, w = got.float(), want.float()
    missed, extra = int(((g < 0.5) & (w > 0.5)).sum()), int(((g > 0.5) & (w < 0.5)).sum())
    between = int(((g > 0) & (g < 1)).sum())
    return (f"at the {where} your mask leaves out {missed} hole tokens, marks {extra} background tokens, and has "
            f"{between} values between 0 and 1")


def grade_lora_count(answer) -> None:
    from peft import LoraConfig, inject_adapter_in_model

    shapes = [(320, 320), (320, 768), (640, 640), (1280, 320)]
    for rank in (1, 4):
        model = torch.nn.Sequential(*[torch.nn.Linear(i, o, bias=True) for i, o in shapes])
        model = inject_adapter_in_model(LoraConfig(r=rank, target_modules=[str(k) for k in range(len(shapes))]),
                                        model)
        want = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
        got = answer(list(shapes), rank)
        if got == want:
            continue
        if got == sum(i * o for i, o in shapes):
            raise NotYet(f"LoRA count: your count ({got:,}) is the frozen layers' own weights: it stays the same "
                         f"at every rank, while the adapter's size grows with the rank")
        if got == sum(rank * i for i, _ in shapes) or got == sum(rank * o for _, o in shapes):
            raise NotYet(f"LoRA count: at rank {rank} yours is {got:,}, the adapter has {want:,}: your count grows "
                         f"with only one side of each layer (its inputs or its outputs)")
        raise NotYet(f"LoRA count: rank {rank}: got {got}, expected {want}")


def grade_latent_mask(answer) -> None:
    from ..sra.layer_masks import mask_at

    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 10:13, 30:45] = 1  # a thin stroke: 3 pixels tall
    got = answer(mask.clone(), 8)
    want = mask_at(mask, (8, 8))
    nearest = torch.nn.functional.interpolate(mask, size=(8, 8), mode="nearest")
    missed = (f"a stroke 3 pixels thin across {int(want.sum())} latent cells comes out of yours with {{}} of them "
              f"marked: your resizing reads one pixel per cell and the stroke falls between them, so SRA would not "
              f"see it")
    close(got, want, "latent mask", [(nearest, missed.format(int(nearest.sum()))), (torch.zeros_like(want),
                                                                                    missed.format(0))],
          form=f"a tensor [B, 1, H / 8, W / 8] = {tuple(want.shape)}", otherwise=_tokens_off(got, want, "latent grid"))
