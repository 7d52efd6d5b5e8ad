"""Evaluation: spatial cross-validation, downstream probes, multi-label mAP and geolocation accuracy.

One module per concept:

- :mod:`~geoembed.model_selection`: spatially blocked cross-validation (``SpatialBlockKFold``)
- :mod:`~geoembed.evaluation.probing`: linear / k-NN / MLP / tree probes on downstream tasks
- :mod:`~geoembed.evaluation.multilabel`: macro mAP and the multi-label classifier of the NUS-WIDE protocol
- :mod:`~geoembed.evaluation.geolocation`: accuracy at 1 / 25 / 200 / 750 / 2500 km of image geolocation
- :mod:`~geoembed.evaluation.published`: published reference numbers printed beside our runs
"""

from geoembed.core.utils import moved_attribute
from geoembed.evaluation.geolocation import (
    THRESHOLDS_KM,
    accuracy_table,
    evaluate_geolocation,
    evaluate_predictions,
    read_geoloc_csv,
)
from geoembed.evaluation.multilabel import MOVED, mean_average_precision, train_multilabel_mlp
from geoembed.evaluation.probing import compare_encoders, embed_task, evaluate, make_probe
from geoembed.evaluation.published import GEOCLIP_GEOLOCATION
from geoembed.model_selection import SpatialBlockKFold, block_labels, spatial_block_folds


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)


__all__ = [
    "GEOCLIP_GEOLOCATION",
    "THRESHOLDS_KM",
    "SpatialBlockKFold",
    "accuracy_table",
    "block_labels",
    "compare_encoders",
    "embed_task",
    "evaluate",
    "evaluate_geolocation",
    "evaluate_predictions",
    "make_probe",
    "mean_average_precision",
    "read_geoloc_csv",
    "spatial_block_folds",
    "train_multilabel_mlp",
]
