"""Deprecated: geolocation evaluation moved to :mod:`geoembed.evaluation.geolocation` (this path goes in the
next release).

The published accuracies are :data:`geoembed.evaluation.published.GEOCLIP_GEOLOCATION`. The new
``evaluate_geolocation`` adds them to its summary only when passed as ``reference_results``; the
one here keeps the old behaviour and adds them by default.
"""

from __future__ import annotations

import warnings

from geoembed.evaluation.geolocation import THRESHOLDS_KM, accuracy_table, evaluate_predictions, read_geoloc_csv
from geoembed.evaluation.geolocation import evaluate_geolocation as _evaluate_geolocation
from geoembed.evaluation.published import GEOCLIP_GEOLOCATION as PAPER_RESULTS

__all__ = [
    "PAPER_RESULTS",
    "THRESHOLDS_KM",
    "accuracy_table",
    "evaluate_geolocation",
    "evaluate_predictions",
    "read_geoloc_csv",
]

warnings.warn(
    "geoembed.retrieval.evaluation is deprecated and will be removed in the next release: import "
    "from geoembed.evaluation.geolocation (PAPER_RESULTS: geoembed.evaluation.published."
    "GEOCLIP_GEOLOCATION)",
    FutureWarning,
    stacklevel=2,
)


def evaluate_geolocation(
    locator,
    csv_path,
    image_dir=None,
    *,
    batch_size: int = 32,
    limit: int | None = None,
    reference_results: dict | None = PAPER_RESULTS,
):
    """Deprecated: :func:`geoembed.evaluation.evaluate_geolocation`, with the paper's rows by default.

    Parameters
    ----------
    locator, csv_path, image_dir, batch_size, limit, reference_results
        As in :func:`geoembed.evaluation.evaluate_geolocation`; ``reference_results`` defaults to
        :data:`PAPER_RESULTS`.

    Returns
    -------
    per_image, summary : DataFrame
    """
    return _evaluate_geolocation(
        locator, csv_path, image_dir, batch_size=batch_size, limit=limit, reference_results=reference_results
    )
