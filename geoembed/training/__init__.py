"""Training and fine-tuning location encoders (contrastive, GeoCLIP recipe)."""

from geoembed.training.columns import default_feature_columns
from geoembed.training.distill import DistillConfig, Distiller, distillation_points
from geoembed.training.noise import jitter_latlon
from geoembed.training.queue import GPSQueue
from geoembed.training.trainer import ContrastiveLocationTrainer, TrainConfig, build_location_encoder

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
