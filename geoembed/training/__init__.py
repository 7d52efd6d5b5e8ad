"""Training and fine-tuning location encoders (contrastive, GeoCLIP recipe)."""

from .columns import default_feature_columns
from .distill import DistillConfig, Distiller, distillation_points
from .noise import jitter_latlon
from .queue import GPSQueue
from .trainer import ContrastiveLocationTrainer, TrainConfig, build_location_encoder

__all__ = [
    "ContrastiveLocationTrainer",
    "DistillConfig",
    "Distiller",
    "GPSQueue",
    "TrainConfig",
    "build_location_encoder",
    "default_feature_columns",
    "distillation_points",
    "jitter_latlon",
]
