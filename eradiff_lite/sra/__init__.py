"""Self-Rectifying Attention (SRA, EraDiff Sec. 4.2): keep the hole's self-attention away from the hole.

- `layer_masks`: the erase mask max-pooled to each attention grid, and the rule `sra_allowed` (Eq. 10 / "keys").
- `processor`: a diffusers attention processor applying it with ``scaled_dot_product_attention``.
- `context`: ``with self_rectifying_attention(unet, mask):`` installs it on self-attention, restores after.
- `heatmaps`: capture of attention outputs and weights for the paper's Fig. 8 analogue.
- its cost is measured by ``python -m eradiff_lite bench-sra`` (`eradiff_lite.experiments.bench.sra`).
"""

from .context import select_layers, self_attention_layers, self_rectifying_attention, short_layer_name
from .heatmaps import AttentionCapture, AttentionRecord, capture_attention, heatmap_rgb, point_index
from .layer_masks import RULES, flat_mask, layer_grid, mask_at, sra_allowed
from .processor import SelfRectifyingAttnProcessor, SRAState, attention_weights, project_qkv

__all__ = [
    "RULES", "AttentionCapture", "AttentionRecord", "SRAState", "SelfRectifyingAttnProcessor", "attention_weights",
    "capture_attention", "flat_mask", "heatmap_rgb", "layer_grid", "mask_at", "point_index",
    "project_qkv", "select_layers", "self_attention_layers", "self_rectifying_attention", "short_layer_name",
    "sra_allowed",
]
