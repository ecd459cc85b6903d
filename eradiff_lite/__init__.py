"""EraDiff-lite: the helper package of the EraDiff course.

Erase Diffusion (Liu et al., CVPR 2025, arXiv 2503.07026) removes an object by re-training the
diffusion model's sampling path so that the object fades out (Chain-Rectifying Optimization, CRO)
and by keeping self-attention inside the hole away from the hole (Self-Rectifying Attention, SRA).
This package holds the pieces the notebooks import; each module is short and readable on its own.
"""

__version__ = "0.1.0"

#: Where the course lives; the notebooks' Colab cell clones it from here.
REPO_URL = "https://github.com/eradiff-lite/eradiff-lite"


def __getattr__(name: str):
    """``eradiff_lite.LiteUNet``, imported on first use: diffusers finds a saved pipeline's components by
    top-level package and class name (``model_index.json``)."""
    if name == "LiteUNet":
        from .models.lite import LiteUNet

        return LiteUNet
    raise AttributeError(f"module 'eradiff_lite' has no attribute {name!r}")
