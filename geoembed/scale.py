"""Deprecated location of :mod:`geoembed.dask_transform`; kept for one release."""

import warnings

from .dask_transform import *  # noqa: F401,F403
from .dask_transform import __all__  # noqa: F401

warnings.warn(
    "geoembed.scale was renamed geoembed.dask_transform in 0.2; the old name will be removed in 0.3",
    FutureWarning,
    stacklevel=2,
)
