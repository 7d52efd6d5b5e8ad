"""Direct, Cartesian and wrap encodings: the simplest baselines."""

from __future__ import annotations

import numpy as np

from geoembed.core.geo import latlon_to_unit_xyz
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.registry import register_encoder

__all__ = ["Cartesian3DEncoder", "DirectEncoder", "WrapEncoder"]


class _CoordinateEncoder(LocationFeaturizer):
    """Shared constructor for encoders whose only parameters are the input options."""

    def __init__(self, *, lat_col=None, lon_col=None, wrap_longitude=False, on_invalid="raise"):
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid


@register_encoder("direct")
class DirectEncoder(_CoordinateEncoder):
    """Latitude and longitude scaled to [-1, 1]: ``[lat / 90, lon / 180]``.

    Input: (lat, lon) in degrees. Output: 2 features, ``direct_lat`` and ``direct_lon``.
    Not periodic: longitudes on either side of the antimeridian (179.9 and -179.9) encode far
    apart, which is the point of this baseline ("direct lat/lon" in RANGE, CVPR 2025, and
    SatCLIP's comparisons). Longitude 180 is read as -180, as everywhere in the package.
    """

    feature_prefix = "direct"

    def _n_output_features(self):
        return 2

    def _feature_suffixes(self):
        return ["lat", "lon"]

    def _encode(self, lat, lon):
        return np.column_stack([lat / 90.0, lon / 180.0])


@register_encoder("cartesian3d")
class Cartesian3DEncoder(_CoordinateEncoder):
    """Unit-sphere Cartesian coordinates.

    ``x = cos(lat) cos(lon)``, ``y = cos(lat) sin(lon)``, ``z = sin(lat)``; input in degrees.
    Continuous everywhere on the sphere, including the antimeridian and the poles.
    """

    feature_prefix = "xyz"

    def _n_output_features(self):
        return 3

    def _feature_suffixes(self):
        return ["x", "y", "z"]

    def _encode(self, lat, lon):
        return np.column_stack(latlon_to_unit_xyz(lat, lon))


@register_encoder("wrap")
class WrapEncoder(_CoordinateEncoder):
    """The "wrap" encoding of Mac Aodha, Cole & Perona (ICCV 2019).

    With ``x = lon / 180`` and ``y = lat / 90`` (degrees in), the features are
    ``[sin(pi x), sin(pi y), cos(pi x), cos(pi y)]``: periodic in longitude.

    Notes
    -----
    Mac Aodha, Cole, Perona, "Presence-Only Geographical Priors for Fine-Grained Image
    Classification", ICCV 2019.
    """

    feature_prefix = "wrap"

    def _n_output_features(self):
        return 4

    def _feature_suffixes(self):
        return ["sin_lon", "sin_lat", "cos_lon", "cos_lat"]

    def _encode(self, lat, lon):
        x, y = np.pi * lon / 180.0, np.pi * lat / 90.0
        return np.column_stack([np.sin(x), np.sin(y), np.cos(x), np.cos(y)])
