"""Training the lite model: the accelerate loop, its config, data and losses, checkpoints and exact resume.

The ablation that trains every variant, and the recipe study, are experiments: `eradiff_lite.experiments`.
"""

from ..variants import TRAINED_VARIANTS, VARIANTS, Variant, get_variant
from .config import TrainConfig, make_config
from .hooks import TrainingDiverged
from .loop import train
from .record import TrainResult

__all__ = ["TRAINED_VARIANTS", "VARIANTS", "TrainConfig", "TrainResult", "TrainingDiverged", "Variant", "get_variant",
           "make_config", "train"]
