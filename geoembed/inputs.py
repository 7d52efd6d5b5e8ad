"""Moved to :mod:`geoembed.core.inputs` in 0.3; this path warns and is removed in 0.4."""

from geoembed.core.utils import moved_attribute

#: Every public name of this module, and where it lives now.
MOVED = dict.fromkeys(
    [
        "LAT_NAMES",
        "LON_NAMES",
        "X_NAMES",
        "Y_NAMES",
        "Coordinates",
        "broadcast_latlon",
        "is_xarray",
        "read_coordinates",
        "to_xarray",
    ],
    "geoembed.core.inputs",
)
__all__ = sorted(MOVED)


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
