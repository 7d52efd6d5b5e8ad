"""Deprecated location of :mod:`geoembed.encoders.dask`; kept for one release."""

import warnings

from geoembed.encoders.dask import *  # noqa: F401,F403
from geoembed.encoders.dask import __all__  # noqa: F401

warnings.warn(
    "geoembed.scale was renamed geoembed.encoders.dask in 0.2; the old name will be removed in 0.3",
    FutureWarning,
    stacklevel=2,
)
