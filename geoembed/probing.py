"""Deprecated: the probing protocol moved to :mod:`geoembed.evaluation` (this path goes in the next release).

``spatial_block_folds`` is in :mod:`geoembed.evaluation.spatial_cv`; the probes, ``evaluate`` and
``compare_encoders`` in :mod:`geoembed.evaluation.probing`. All are exported by :mod:`geoembed.evaluation`.
"""

from __future__ import annotations

import warnings

from geoembed.evaluation.probing import METRICS, RIDGE_ALPHAS, compare_encoders, embed_task, evaluate, make_probe
from geoembed.evaluation.spatial_cv import spatial_block_folds

__all__ = ["METRICS", "RIDGE_ALPHAS", "compare_encoders", "embed_task", "evaluate", "make_probe", "spatial_block_folds"]

warnings.warn(
    "geoembed.probing is deprecated and will be removed in the next release: import from "
    "geoembed.evaluation (spatial_block_folds: geoembed.evaluation.spatial_cv; probes, evaluate, "
    "compare_encoders: geoembed.evaluation.probing)",
    FutureWarning,
    stacklevel=2,
)
