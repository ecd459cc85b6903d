"""Checks of the attention and latent-model exercises: Eq. 10 and the mask at a grid (04), the latent mask and
a LoRA adapter's size (07)."""

from __future__ import annotations

import torch

from .check import NotYet, close


def grade_eq10(answer) -> None:
    from ..sra.masks import sra_allowed

    m = torch.tensor([[True, False, True, False, False], [False, False, False, True, True]])
    got = answer(m.clone())
    want = sra_allowed(m, "eq10")
    close(got, want, "Eq. 10", [
        (sra_allowed(m, "keys"), "that is Attentive Eraser's rule (no query reads a hole key); EraDiff blocks a pair "
                                 "only when BOTH the query and the key are in the hole, so background queries read "
                                 "everything"),
        (~want, "inverted: True must mean 'allowed'; blocked = m_i and m_j")],
        form=f"a bool tensor [B, N, N] = {tuple(want.shape)} (True = may attend)",
        otherwise="allowed[b, i, j] = not (m[b, i] and m[b, j])")


def grade_mask_at(answer) -> None:
    from ..sra.masks import mask_at

    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 5:7, 9:10] = 1  # a small hole: 2 x 1 pixels
    got = answer(mask.clone(), (4, 4))
    want = mask_at(mask, (4, 4))
    average = torch.nn.functional.adaptive_avg_pool2d(mask, (4, 4))
    lost = ("averaging (or a majority vote) loses small holes at coarse grids; a token is in the hole if ANY of its "
            "pixels is: max-pool")
    close(got, want, "mask at a grid", [(average, lost), (average > 0.5, lost)],
          form=f"a tensor [B, 1, h, w] = {tuple(want.shape)}",
          otherwise="max-pool the pixel mask to (h, w): torch.nn.functional.adaptive_max_pool2d")


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
            raise NotYet("LoRA count: that is the frozen layers' own weights; the adapter adds A (rank x d_in) and "
                         "B (d_out x rank) per layer")
        if got == sum(rank * i for i, _ in shapes) or got == sum(rank * o for _, o in shapes):
            raise NotYet("LoRA count: only one of the two matrices is counted; A is rank x d_in and B is "
                         "d_out x rank")
        raise NotYet(f"LoRA count: rank {rank}: got {got}, expected {want}: sum over layers of rank * (d_in + d_out)")


def grade_latent_mask(answer) -> None:
    from ..sra.masks import mask_at

    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 10:13, 30:45] = 1  # a thin stroke: 3 pixels tall
    got = answer(mask.clone(), 8)
    want = mask_at(mask, (8, 8))
    nearest = torch.nn.functional.interpolate(mask, size=(8, 8), mode="nearest")
    missed = ("nearest-neighbour resizing samples one pixel per latent and misses thin strokes; a latent is in the "
              "hole if any of its 8 x 8 pixels is: max-pool by the VAE's factor")
    close(got, want, "latent mask", [(nearest, missed), (torch.zeros_like(want), missed)],
          form=f"a tensor [B, 1, H / 8, W / 8] = {tuple(want.shape)}",
          otherwise="torch.nn.functional.max_pool2d(mask, factor)")
