"""Training the lite model: variants of the ablation, the accelerate loop, checkpoints and exact resume."""

from .config import TRAINED_VARIANTS, VARIANTS, TrainConfig, Variant, get_variant, make_config
from .loop import TrainingDiverged, TrainResult, train

__all__ = ["TRAINED_VARIANTS", "VARIANTS", "TrainConfig", "TrainResult", "TrainingDiverged", "Variant", "get_variant",
           "make_config", "train"]
