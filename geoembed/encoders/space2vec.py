"""Space2Vec's "grid" and "theory" encoders (Mai et al., ICLR 2020)."""

from __future__ import annotations

import numpy as np

from geoembed.core.params import DEPRECATED
from geoembed.encoders._multiscale import MultiScaleEncoder
from geoembed.encoders.registry import register_encoder

__all__ = ["GridEncoder", "TheoryEncoder"]

_THEORY_DIRECTIONS = np.array([[1.0, 0.0], [-0.5, np.sqrt(3) / 2], [-0.5, -np.sqrt(3) / 2]])


def _sin_cos_interleaved(angles: np.ndarray) -> np.ndarray:
    """[..., a_k, ...] -> [..., sin a_k, cos a_k, ...] along the last axis."""
    out = np.empty(angles.shape[:-1] + (2 * angles.shape[-1],))
    out[..., 0::2] = np.sin(angles)
    out[..., 1::2] = np.cos(angles)
    return out


class _PlanarMultiScaleEncoder(MultiScaleEncoder):
    """Space2Vec's defaults: 16 scales between 1 and 360 degrees."""

    radius_unit = "deg"

    def __init__(
        self,
        n_frequencies=16,
        *,
        min_radius_deg=1.0,
        max_radius_deg=360.0,
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        on_invalid="raise",
        frequency_num=DEPRECATED,
        min_radius=DEPRECATED,
        max_radius=DEPRECATED,
    ):
        self.n_frequencies = n_frequencies
        self.min_radius_deg = min_radius_deg
        self.max_radius_deg = max_radius_deg
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid
        self.frequency_num = frequency_num
        self.min_radius = min_radius
        self.max_radius = max_radius


@register_encoder("grid")
class GridEncoder(_PlanarMultiScaleEncoder):
    """Space2Vec "grid": sinusoids of longitude and latitude at S geometric scales.

    As in the reference code (Space2Vec / TorchSpatial ``GridCellSpatialRelationEncoder``) the
    input is (lon, lat) in **degrees**, treated as a plane; scale s multiplies degrees by
    ``f_s = 1 / r_s`` (see ``geometric_frequencies``). Features, 4S in all:
    ``[sin(lon f_0), cos(lon f_0), ..., sin(lon f_{S-1}), cos(lon f_{S-1}),
    sin(lat f_0), cos(lat f_0), ...]``. Periodic in longitude only when every f_s * 360 is a
    multiple of 2 pi.

    Parameters
    ----------
    n_frequencies : int, default=16
        S, the number of scales.
    min_radius_deg, max_radius_deg : float, default=1.0, 360.0
        Smallest and largest scale, in degrees.
    lat_col, lon_col : str, default=None
        DataFrame column or xarray coordinate names; by default found by name.
    wrap_longitude : bool, default=False
        Wrap longitudes into [-180, 180) instead of rejecting values outside [-180, 180].
    on_invalid : {"raise", "nan"}, default="raise"
        "raise": invalid coordinates raise ``ValueError`` naming the rows; "nan": NaN rows.
    frequency_num, min_radius, max_radius : deprecated
        Old names of ``n_frequencies``, ``min_radius_deg`` and ``max_radius_deg``; removed in 0.3.

    Notes
    -----
    Mai, Janowicz, Yan, Zhu, Cai & Lao, "Multi-Scale Representation Learning for Spatial
    Feature Distributions using Grid Cells", ICLR 2020.
    """

    feature_prefix = "space2vec_grid"
    features_per_scale = 4

    def _encode(self, lat, lon):
        lonlat = np.column_stack([lon, lat])  # (n, 2)
        angles = lonlat[:, :, None] * self.frequencies_  # (n, 2, S)
        return _sin_cos_interleaved(angles).reshape(len(lat), -1)


@register_encoder("theory")
class TheoryEncoder(_PlanarMultiScaleEncoder):
    """Space2Vec "theory": projections on three unit vectors 120 degrees apart, S scales.

    Input (lon, lat) in **degrees** as a plane vector x (reference-code convention). With
    ``a_1 = (1, 0)``, ``a_2 = (-1/2, sqrt(3)/2)``, ``a_3 = (-1/2, -sqrt(3)/2)``, the features are,
    scale by scale, ``[sin(<x, a_j> f_s), cos(<x, a_j> f_s)]`` for j = 1, 2, 3: 6S in all.

    Parameters
    ----------
    n_frequencies : int, default=16
        S, the number of scales.
    min_radius_deg, max_radius_deg : float, default=1.0, 360.0
        Smallest and largest scale, in degrees.
    lat_col, lon_col : str, default=None
        DataFrame column or xarray coordinate names; by default found by name.
    wrap_longitude : bool, default=False
        Wrap longitudes into [-180, 180) instead of rejecting values outside [-180, 180].
    on_invalid : {"raise", "nan"}, default="raise"
        "raise": invalid coordinates raise ``ValueError`` naming the rows; "nan": NaN rows.
    frequency_num, min_radius, max_radius : deprecated
        Old names of ``n_frequencies``, ``min_radius_deg`` and ``max_radius_deg``; removed in 0.3.

    Notes
    -----
    Mai et al., ICLR 2020 (see :class:`GridEncoder`); grid-cell theory of Gao et al., ICLR 2019.
    """

    feature_prefix = "space2vec_theory"
    features_per_scale = 6

    def _encode(self, lat, lon):
        projections = np.column_stack([lon, lat]) @ _THEORY_DIRECTIONS.T  # (n, 3)
        angles = self.frequencies_[None, :, None] * projections[:, None, :]  # (n, S, 3)
        return _sin_cos_interleaved(angles).reshape(len(lat), -1)
