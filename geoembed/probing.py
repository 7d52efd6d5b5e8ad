"""Deprecated: the probing protocol moved to :mod:`geoembed.evaluation` (this path goes in the next release).

``spatial_block_folds`` is in :mod:`geoembed.model_selection`; the probes, ``evaluate`` and
``compare_encoders`` in :mod:`geoembed.evaluation.probing`. All are exported by :mod:`geoembed.evaluation`.
"""

from __future__ import annotations

import warnings

from geoembed.evaluation.probing import METRICS, RIDGE_ALPHAS, compare_encoders, embed_task, evaluate, make_probe
from geoembed.model_selection import spatial_block_folds

__all__ = ["METRICS", "RIDGE_ALPHAS", "compare_encoders", "embed_task", "evaluate", "make_probe", "spatial_block_folds"]

warnings.warn(
    "geoembed.probing is deprecated and will be removed in the next release: import from "
    "geoembed.evaluation (spatial_block_folds: geoembed.model_selection; probes, evaluate, "
    "compare_encoders: geoembed.evaluation.probing)",
    FutureWarning,
    stacklevel=2,
)
