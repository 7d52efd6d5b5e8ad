"""One-hot encodings: UTM grid zones and regular lat/lon grid cells."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp

from geoembed.core.geo import wrapped_longitude
from geoembed.core.params import Interval
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.registry import register_encoder

__all__ = [
    "GridOneHotEncoder",
    "UPS_ZONES",
    "UTMOneHotEncoder",
    "UTM_BANDS",
    "utm_category_index",
    "utm_grid_zones",
    "utm_zone_numbers",
]

#: UTM latitude bands, 8 degrees each from 80S; X spans 72N-84N.
UTM_BANDS = "CDEFGHJKLMNPQRSTUVWX"
#: UPS zones of the polar caps: south-west, south-east, north-west, north-east.
UPS_ZONES = ("A", "B", "Y", "Z")


def utm_zone_numbers(lat, lon) -> np.ndarray:
    """UTM zone number (1-60) with the Norway (32V) and Svalbard (31X-37X) exceptions.

    Longitudes are taken modulo 360, so lon = 180 is zone 1, like lon = -180.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = wrapped_longitude(lon)
    zone = np.floor((lon + 180.0) / 6.0).astype(np.int64) % 60 + 1
    norway = (lat >= 56.0) & (lat < 64.0) & (lon >= 3.0) & (lon < 12.0)
    zone = np.where(norway, 32, zone)
    svalbard = (lat >= 72.0) & (lat <= 84.0)
    for west, east, number in ((0.0, 9.0, 31), (9.0, 21.0, 33), (21.0, 33.0, 35), (33.0, 42.0, 37)):
        zone = np.where(svalbard & (lon >= west) & (lon < east), number, zone)
    return zone


def utm_grid_zones(lat, lon) -> np.ndarray:
    """Grid zone designators such as '31U' (UTM) or 'Z' (UPS polar caps), as strings."""
    index = utm_category_index(lat, lon)
    return np.asarray(_utm_category_names())[index]


def utm_category_index(lat, lon) -> np.ndarray:
    """Column of each point in the 1,204-way UTM/UPS one-hot encoding."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = wrapped_longitude(lon)
    band = np.clip(np.floor((lat + 80.0) / 8.0).astype(np.int64), 0, len(UTM_BANDS) - 1)
    index = (utm_zone_numbers(lat, lon) - 1) * len(UTM_BANDS) + band
    n_utm = 60 * len(UTM_BANDS)
    east = lon >= 0
    index = np.where(lat < -80.0, n_utm + east, index)
    index = np.where(lat > 84.0, n_utm + 2 + east, index)  # band X reaches 84N inclusive
    return index


def _utm_category_names() -> list[str]:
    return [f"{zone}{band}" for zone in range(1, 61) for band in UTM_BANDS] + list(UPS_ZONES)


def _one_hot(index: np.ndarray, n_columns: int, sparse: bool):
    rows = np.arange(index.size)
    if sparse:
        data = np.ones(index.size)
        return sp.csr_matrix((data, (rows, index)), shape=(index.size, n_columns))
    out = np.zeros((index.size, n_columns))
    out[rows, index] = 1.0
    return out


@register_encoder("utm_onehot")
class UTMOneHotEncoder(LocationFeaturizer):
    """One-hot UTM grid zone: zone number and latitude band (e.g. ``utm_31U``).

    1,204 columns: 60 zones x 20 bands (C-X, 8 degrees each from 80S; X is 12 degrees tall),
    plus the four UPS polar caps A/B (south of 80S) and Y/Z (north of 84N), west/east of
    Greenwich. Includes the Norway (32V) and Svalbard (31X, 33X, 35X, 37X) exceptions.
    Input: (lat, lon) in degrees. This is the "OneHot" baseline of GPS2Vec (Yin et al.,
    SIGSPATIAL 2019) and of GeoCLIP's NUS-WIDE table.

    Parameters
    ----------
    sparse_output : bool, default=False
        Return a SciPy CSR matrix instead of a dense array. With ``on_invalid="nan"`` an invalid
        row stores a NaN in each of its columns, so that it stays NaN when made dense: on wide
        outputs, drop invalid coordinates before encoding.
    """

    _parameter_constraints = {**LocationFeaturizer._parameter_constraints, "sparse_output": ["boolean"]}
    feature_prefix = "utm"

    def __init__(self, *, sparse_output=False, lat_col=None, lon_col=None, wrap_longitude=False, on_invalid="raise"):
        self.sparse_output = sparse_output
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    def _n_output_features(self):
        return 60 * len(UTM_BANDS) + len(UPS_ZONES)

    def _feature_suffixes(self):
        return _utm_category_names()

    def _encode(self, lat, lon):
        return _one_hot(utm_category_index(lat, lon), self.n_features_out_, self.sparse_output)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags


@register_encoder("grid_onehot")
class GridOneHotEncoder(LocationFeaturizer):
    """One-hot cell of a regular latitude/longitude grid, as a sparse matrix.

    Cell ``(i, j)`` covers ``[-90 + i r, -90 + (i + 1) r)`` in latitude (the last row includes
    the North Pole) and ``[-180 + j r, -180 + (j + 1) r)`` in longitude, with ``r`` the
    resolution in degrees. Longitude is periodic (lon = 180 is lon = -180). Columns are
    row-major, named ``gridcell_<south>_<west>``.

    Parameters
    ----------
    resolution : float, default=1.0
        Cell size in degrees.
    sparse_output : bool, default=True
        Return a SciPy CSR matrix (the default) or a dense array. With ``on_invalid="nan"`` an
        invalid row stores a NaN in each of its columns (64,800 at the default 1 degree), so that
        it stays NaN when made dense: drop invalid coordinates before encoding many of them.
    """

    _parameter_constraints = {
        **LocationFeaturizer._parameter_constraints,
        "resolution": [Interval(Real, 0, 180, closed="right")],
        "sparse_output": ["boolean"],
    }
    feature_prefix = "gridcell"

    def __init__(
        self,
        resolution=1.0,
        *,
        sparse_output=True,
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        on_invalid="raise",
    ):
        self.resolution = resolution
        self.sparse_output = sparse_output
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    def _fit_encoder(self):
        self.n_lat_cells_ = int(np.ceil(180.0 / self.resolution - 1e-9))
        self.n_lon_cells_ = int(np.ceil(360.0 / self.resolution - 1e-9))

    def _n_output_features(self):
        return self.n_lat_cells_ * self.n_lon_cells_

    def _feature_suffixes(self):
        r = self.resolution
        return [f"{-90 + i * r:g}_{-180 + j * r:g}" for i in range(self.n_lat_cells_) for j in range(self.n_lon_cells_)]

    def cell_index(self, lat, lon) -> np.ndarray:
        """Column index of each point's cell."""
        i = np.clip(np.floor((np.asarray(lat) + 90.0) / self.resolution).astype(np.int64), 0, self.n_lat_cells_ - 1)
        j = np.floor(((np.asarray(lon) + 180.0) % 360.0) / self.resolution).astype(np.int64) % self.n_lon_cells_
        return i * self.n_lon_cells_ + j

    def _encode(self, lat, lon):
        return _one_hot(self.cell_index(lat, lon), self.n_features_out_, self.sparse_output)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
