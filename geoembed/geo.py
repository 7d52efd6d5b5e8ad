"""Moved to :mod:`geoembed.core.geo` in 0.3; this path warns and is removed in 0.4."""

from geoembed.core.utils import moved_attribute

#: Every public name of this module, and where it lives now.
MOVED = dict.fromkeys(
    [
        "EARTH_RADIUS_KM",
        "GEOCLIP_PROJECTION_SCALE",
        "GEOCLIP_PROJECTION_SCALE_DEG",
        "WHOLE_GLOBE",
        "BoundingBox",
        "azimuthal_equal_area",
        "azimuthal_equal_area_inverse",
        "equal_earth",
        "haversine_km",
        "latlon_to_unit_xyz",
        "validate_latlon",
        "wrapped_longitude",
    ],
    "geoembed.core.geo",
)
__all__ = sorted(MOVED)


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
