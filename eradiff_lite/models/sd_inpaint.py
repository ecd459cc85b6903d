"""Moved: Stable Diffusion lives in one subpackage, `eradiff_lite.sd` (this is `eradiff_lite.sd.model`);
the old import path keeps working."""

from ..sd.model import (  # noqa: F401 - re-exported names
    SD2_INPAINT_ID,
    SD2_SCHEDULER,
    build_tiny_sd_inpaint,
    build_tiny_tokenizer,
    load_sd_inpaint,
    native_size,
)
