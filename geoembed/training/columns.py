"""Which columns of a table are training features: the numeric ones that are not coordinates."""

from __future__ import annotations

import pandas as pd

from geoembed.core.inputs import LAT_NAMES, LON_NAMES

__all__ = ["default_feature_columns"]


def default_feature_columns(frame: pd.DataFrame, *, lat_col=None, lon_col=None) -> list:
    """The columns of ``frame`` to train on when none are named: every numeric non-coordinate column.

    Parameters
    ----------
    frame : pandas.DataFrame
        Features and coordinates, one row per sample.
    lat_col, lon_col : str, default=None
        Names of the latitude and longitude columns, when they are not among the names
        recognised by default (lat/latitude, lon/lng/long/longitude).

    Returns
    -------
    list
        Column labels in the frame's order, without the coordinate columns (names compared
        case-insensitively) and without non-numeric columns; may be empty.
    """
    coordinate_names = {*LAT_NAMES, *LON_NAMES, *(str(c).lower() for c in (lat_col, lon_col) if c)}
    return [
        c for c in frame.columns if str(c).lower() not in coordinate_names and pd.api.types.is_numeric_dtype(frame[c])
    ]
