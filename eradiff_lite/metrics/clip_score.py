"""A CLIP elimination score, as Attentive Eraser reports it (for Colab: it downloads CLIP).

For each erased image, crop around the object's box and compare it with the object's class name:

    score = 100 * cos(E_img(crop), E_txt("a photo of a {name}"))

Lower is better: the crop no longer looks like the object. The offline course uses the presence
classifier instead (`presence.py`); this module is the real thing where ``openai/clip-vit-base-patch32``
can be downloaded. ``clip_similarity`` (the maths) is tested offline on a tiny CLIP built from config.

Blind spots: CLIP knows photographs, not 32-pixel procedural scenes; a crop that shows a *different*
object also scores low, and the number depends on the prompt and the crop's context.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

CLIP_MODEL = "openai/clip-vit-base-patch32"
#: What the procedural families are called in a prompt.
FAMILY_PROMPTS = {"pepperoni": "pepperoni slice", "orange": "orange", "cookie": "cookie", "coin": "coin",
                  "button": "button", "egg": "fried egg"}


@torch.no_grad()
def clip_similarity(model, pixel_values: torch.Tensor, input_ids: torch.Tensor,
                    attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """``100 * cos(image_i, text_i)`` for each pair ``i`` (pixel values already CLIP-normalised).

    Why not torchmetrics' ``CLIPScore``: it clips the score at 0 and loads its CLIP by name from the Hub; this
    takes any ``CLIPModel``, so the maths is tested offline on a tiny one built from config."""
    if len(pixel_values) != len(input_ids):
        raise ValueError(f"need one text per image, got {len(pixel_values)} images and {len(input_ids)} texts")
    img = model.get_image_features(pixel_values=pixel_values)
    txt = model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
    img, txt = (getattr(x, "pooler_output", x) for x in (img, txt))  # some versions return an output object
    img = img / img.norm(dim=-1, keepdim=True)
    txt = txt / txt.norm(dim=-1, keepdim=True)
    return 100 * (img * txt).sum(dim=-1)


def load_clip(name: str = CLIP_MODEL, device: str = "cpu"):
    """CLIP model and processor from the Hugging Face Hub (downloads; Colab)."""
    from transformers import CLIPModel, CLIPProcessor

    return CLIPModel.from_pretrained(name).to(device).eval(), CLIPProcessor.from_pretrained(name)


def clip_object_score(crops: torch.Tensor, families: Sequence[str], model=None, processor=None) -> torch.Tensor:
    """CLIP score of each crop (``N x 3 x h x w`` in [0, 1]) against its family's name; lower = better erased."""
    if model is None or processor is None:
        model, processor = load_clip()
    unknown = sorted(set(families) - set(FAMILY_PROMPTS))
    if unknown:
        raise ValueError(f"no prompt for families {unknown}; known: {', '.join(FAMILY_PROMPTS)}")
    texts = [f"a photo of a {FAMILY_PROMPTS[f]}" for f in families]
    images = [c.permute(1, 2, 0).clamp(0, 1).mul(255).byte().cpu().numpy() for c in crops]
    batch = processor(text=texts, images=images, return_tensors="pt", padding=True)
    device = next(model.parameters()).device
    return clip_similarity(model, batch["pixel_values"].to(device), batch["input_ids"].to(device),
                           batch["attention_mask"].to(device)).cpu()
