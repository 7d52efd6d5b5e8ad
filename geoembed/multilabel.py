"""Deprecated: the multi-label metric and classifier are in :mod:`geoembed.evaluation.multilabel`, the
NUS-WIDE benchmark (its table and the paper's numbers included) in :mod:`geoembed.benchmarks.nuswide`.
This path goes in 0.4.
"""

from __future__ import annotations

import warnings

from geoembed.core.utils import moved_attribute

#: Every name of this module, and where it lives now.
MOVED = {
    "mean_average_precision": "geoembed.evaluation.multilabel",
    "train_multilabel_mlp": "geoembed.evaluation.multilabel",
    "default_geo_encoders": "geoembed.benchmarks.nuswide",
    "run_nuswide_benchmark": "geoembed.benchmarks.nuswide",
    "format_table": "geoembed.benchmarks.nuswide",
    "PAPER_MAP": "geoembed.benchmarks.nuswide:NUSWIDE_MAP",
}
__all__ = sorted(MOVED)

warnings.warn(
    "geoembed.multilabel is deprecated and will be removed in 0.4: import from geoembed.evaluation.multilabel "
    "(mean_average_precision, train_multilabel_mlp) or geoembed.benchmarks.nuswide (the NUS-WIDE benchmark, "
    "its table and the paper's numbers)",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
