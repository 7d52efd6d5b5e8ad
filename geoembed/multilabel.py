"""Deprecated: the multi-label protocol moved to :mod:`geoembed.evaluation.multilabel` (this path goes in the
next release).

The published NUS-WIDE numbers (``PAPER_MAP``) and the markdown table (``format_table``) left the
library for the source checkout's ``benchmarks/`` (``benchmarks.paper_results.NUSWIDE_MAP``,
``benchmarks.nuswide.format_table``); here they are forwarded there when it is importable.
``run_nuswide_benchmark``'s table no longer has a ``paper mAP`` column.
"""

from __future__ import annotations

import warnings

from ._utils import import_benchmark
from .evaluation.multilabel import (
    default_geo_encoders,
    mean_average_precision,
    run_nuswide_benchmark,
    train_multilabel_mlp,
)

__all__ = [
    "default_geo_encoders",
    "format_table",
    "mean_average_precision",
    "run_nuswide_benchmark",
    "train_multilabel_mlp",
]

warnings.warn(
    "geoembed.multilabel is deprecated and will be removed in the next release: import from "
    "geoembed.evaluation.multilabel; format_table and the paper's numbers moved to benchmarks/ "
    "(benchmarks.nuswide, benchmarks.paper_results)",
    FutureWarning,
    stacklevel=2,
)


def format_table(table):
    """Deprecated: :func:`benchmarks.nuswide.format_table` of the source checkout.

    Parameters
    ----------
    table : DataFrame
        From :func:`geoembed.evaluation.run_nuswide_benchmark`.

    Returns
    -------
    text : str
        Markdown, our mAP beside the paper's.
    """
    return import_benchmark("nuswide", "format_table").format_table(table)


def __getattr__(name):
    if name == "PAPER_MAP":
        return import_benchmark("paper_results", "PAPER_MAP (now NUSWIDE_MAP)").NUSWIDE_MAP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
