"""Spatially blocked cross-validation.

Points are binned into square blocks, either of ``block_size_deg`` degrees of latitude and
longitude or of ``block_size_km`` kilometres on an equal-area grid (the Equal Earth projection),
and whole blocks are assigned to folds, so that close neighbours never straddle train and test.
Blocks go to folds greedily, largest first, each to the fold with the fewest rows so far, which
keeps the folds balanced in rows (as verde's ``BlockKFold`` with ``balance=True`` does).
"""

from __future__ import annotations

import heapq
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state

from geoembed.core.geo import EARTH_RADIUS_KM, equal_earth, validate_latlon
from geoembed.core.geometry import is_geopandas
from geoembed.core.inputs import read_valid_latlon
from geoembed.core.params import Interval, renamed_keyword, validate_params

__all__ = ["ROWS_PER_BLOCK", "SpatialBlockKFold", "automatic_block_size_km", "block_labels", "spatial_block_folds"]

#: Average rows per occupied block aimed at by :func:`automatic_block_size_km`.
ROWS_PER_BLOCK = 10


def block_labels(lat, lon, *, block_size_deg=None, block_size_km=None) -> np.ndarray:
    """The spatial block of every point, as integers 0 ... n_blocks - 1.

    Parameters
    ----------
    lat, lon : array-like of shape (n_samples,)
        Coordinates in degrees (validated: finite, ``|lat| <= 90``, ``|lon| <= 180``).
    block_size_deg : float, default=None
        Side of square latitude/longitude blocks, in degrees.
    block_size_km : float, default=None
        Side of square blocks on the Equal Earth equal-area grid, in km: every block covers
        the same area on the ground, ``block_size_km ** 2`` square km. Give exactly one of the two sizes.

    Returns
    -------
    labels : ndarray of int64, shape (n_samples,)
        Points share a label exactly when they share a block. Labels are dense, in the order
        of the blocks (south to north, then west to east in degrees; by projected y, then x in km).

    Examples
    --------
    >>> from geoembed.evaluation import block_labels
    >>> block_labels([10.2, 10.8, 12.5], [20.1, 20.9, 20.5], block_size_deg=1).tolist()
    [0, 0, 1]
    """
    if (block_size_deg is None) == (block_size_km is None):
        raise ValueError("give exactly one of block_size_deg and block_size_km")
    size = block_size_deg if block_size_km is None else block_size_km
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, Real) or not size > 0:
        raise ValueError(f"the block size must be a positive number; got {size!r}")
    lat, lon, _ = validate_latlon(lat, lon, wrap_option=None)
    if block_size_km is None:
        rows, cols = (lat + 90.0) / block_size_deg, (lon + 180.0) / block_size_deg
    else:
        x, y = equal_earth(lat, lon)
        rows, cols = y * EARTH_RADIUS_KM / block_size_km, x * EARTH_RADIUS_KM / block_size_km
    cells = np.column_stack([np.floor(rows), np.floor(cols)]).astype(np.int64)
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64)
    _, labels = np.unique(cells, axis=0, return_inverse=True)
    return labels.reshape(-1).astype(np.int64)


class SpatialBlockKFold(BaseCrossValidator):
    """K-fold cross-validation over spatial blocks, with folds balanced in rows.

    Every point falls in a square block, of ``block_size_deg`` degrees or of ``block_size_km``
    km on an equal-area grid; whole blocks form the test folds, so most of a test point's close
    neighbours are not in its training set (points on either side of a block edge, the
    antimeridian included, can fall in different folds: there is no buffer zone). Blocks are
    assigned greedily, largest first, each to the fold that holds the fewest rows so far, so
    folds have nearly equal numbers of rows.
    Each row is in exactly one test fold, so the splitter works in ``cross_val_score``,
    ``GridSearchCV`` and ``cross_val_predict``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    block_size_deg : float, default=None
        Side of square latitude/longitude blocks, in degrees. Blocks narrow towards the
        poles; for global data, ``block_size_km`` keeps their area constant.
    block_size_km : float, default=None
        Side of square blocks of equal area on the Equal Earth projection, in km. Give exactly
        one of ``block_size_deg`` and ``block_size_km``. Square on the projection, not on the
        ground: away from the equator a block is narrower east-west and longer north-south
        (100 km steps east and north of a point on the central meridian cover 116 x 87 km at
        the equator, 77 x 131 km at 60 degrees, 58 x 175 km at 70), so at high latitudes the
        east-west gap between training and test rows is smaller than the size suggests.
    shuffle : bool, default=False
        Visit blocks of equal size in random order and break ties between equally full folds
        at random. Without it the folds are a deterministic function of the coordinates.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling; only with ``shuffle=True``.
    lat_col, lon_col : str, default=None
        Column names in data frames. By default they are found by name, as in
        :class:`~geoembed.GeoEmbedder`: lat/latitude and lon/lng/long/longitude, in any case.
    wrap_longitude : bool, default=False
        Map any finite longitude into [-180, 180) instead of rejecting ``|lon| > 180`` (data
        given in [0, 360), or across the antimeridian as 165 to 188), as in
        :class:`~geoembed.GeoEmbedder`.

    See Also
    --------
    block_labels : the blocks themselves, e.g. as ``groups`` for ``GroupKFold``.
    spatial_block_folds : the folds as a list, from latitude and longitude arrays.

    Notes
    -----
    ``split`` reads latitude and longitude from ``X`` by column name: pandas, polars and pyarrow
    frames (other columns are ignored) or an array of shape (n_samples, 2) in **[lat, lon]**
    order. The design follows verde's ``BlockKFold`` (Uieda, 2018); the greedy assignment
    replaces its contiguous partition of the block sequence.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from geoembed.evaluation import SpatialBlockKFold
    >>> rng = np.random.default_rng(0)
    >>> places = pd.DataFrame({"lat": rng.uniform(40, 50, 300), "lon": rng.uniform(0, 10, 300)})
    >>> cv = SpatialBlockKFold(n_splits=3, block_size_km=200, shuffle=True, random_state=0)
    >>> [len(test) for _, test in cv.split(places)]
    [100, 100, 100]
    >>> scores = cross_val_score(Ridge(), places, places["lat"], cv=cv)
    >>> bool(scores.min() > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "block_size_deg": [None, Interval(Real, 0, None, closed="neither")],
        "block_size_km": [None, Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "lat_col": [None, str],
        "lon_col": [None, str],
        "wrap_longitude": ["boolean"],
    }

    def __init__(
        self,
        n_splits=5,
        *,
        block_size_deg=None,
        block_size_km=None,
        shuffle=False,
        random_state=None,
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
    ):
        self.n_splits = n_splits
        self.block_size_deg = block_size_deg
        self.block_size_km = block_size_km
        self.shuffle = shuffle
        self.random_state = random_state
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude

    def get_params(self, deep=True):
        """The constructor's parameters, by name (as for estimators).

        Parameters
        ----------
        deep : bool, default=True
            Ignored; the splitter holds no estimators.

        Returns
        -------
        params : dict
        """
        return {name: getattr(self, name) for name in self._parameter_constraints}

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, one pair per fold.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            A frame with latitude and longitude columns (found by name; other columns are
            ignored), an array of **[lat, lon]** in degrees, or a GeoDataFrame or GeoSeries in
            any CRS: points, or regions (polygons, as :class:`~geoembed.RegionEmbedder` takes),
            each blocked by its representative point (a point inside it).
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Ignored, with a warning (as scikit-learn's ``KFold`` gives): the blocks are the groups.

        Yields
        ------
        train : ndarray of int
            Positions of the training rows.
        test : ndarray of int
            Positions of the test rows: the rows of whole blocks.

        Raises
        ------
        ValueError
            When the points occupy fewer blocks than ``n_splits``.
        """
        if groups is not None:  # as scikit-learn's KFold says of groups it ignores
            warnings.warn(
                f"The groups parameter is ignored by {type(self).__name__}: its spatial blocks are the groups "
                "(to keep other groups together, use GroupKFold on labels that combine them)",
                UserWarning,
                stacklevel=2,
            )
        fold = self._fold_of_rows(X)
        rows = np.arange(len(fold))
        for k in range(self.n_splits):
            test = fold == k
            yield rows[~test], rows[test]

    def _iter_test_indices(self, X=None, y=None, groups=None):
        fold = self._fold_of_rows(X)
        for k in range(self.n_splits):
            yield np.flatnonzero(fold == k)

    def _fold_of_rows(self, X) -> np.ndarray:
        validate_params(self)
        if (self.block_size_deg is None) == (self.block_size_km is None):
            raise ValueError(
                "SpatialBlockKFold needs exactly one of block_size_deg and block_size_km; got "
                f"block_size_deg={self.block_size_deg!r}, block_size_km={self.block_size_km!r}"
            )
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. Leave random_state "
                "to its default (None), or set shuffle=True."
            )
        if self.lat_col is None and self.lon_col is None and is_geopandas(X):
            X = _points_of_regions(X)
        lat, lon = read_valid_latlon(X, lat_col=self.lat_col, lon_col=self.lon_col, wrap_longitude=self.wrap_longitude)
        labels = block_labels(lat, lon, block_size_deg=self.block_size_deg, block_size_km=self.block_size_km)
        sizes = np.bincount(labels)
        if len(sizes) < self.n_splits:
            size = f"{self.block_size_deg:g} degrees" if self.block_size_km is None else f"{self.block_size_km:g} km"
            raise ValueError(
                f"Cannot split into n_splits={self.n_splits} folds: the {len(labels)} points occupy "
                f"only {len(sizes)} spatial blocks of {size}. Use smaller blocks or fewer splits."
            )
        fold_of_block = _greedy_balanced_folds(
            sizes, self.n_splits, check_random_state(self.random_state) if self.shuffle else None
        )
        return fold_of_block[labels]


def _greedy_balanced_folds(sizes, n_splits: int, rng) -> np.ndarray:
    """Fold of each block: largest block first, each to the fold with the fewest rows so far.

    With ``rng``, blocks of equal size come in random order and ties between folds are broken
    at random; without it, by block label and fold number.
    """
    order = rng.permutation(len(sizes)) if rng is not None else np.arange(len(sizes))
    order = order[np.argsort(-sizes[order], kind="stable")]
    draws = rng.random(len(sizes) + n_splits) if rng is not None else None
    heap = [(0, draws[k] if rng is not None else k, k) for k in range(n_splits)]
    heapq.heapify(heap)
    fold_of_block = np.empty(len(sizes), dtype=np.int64)
    for step, block in enumerate(order):
        rows, _, fold = heapq.heappop(heap)
        fold_of_block[block] = fold
        tiebreak = draws[n_splits + step] if rng is not None else fold
        heapq.heappush(heap, (rows + int(sizes[block]), tiebreak, fold))
    return fold_of_block


@renamed_keyword("block_degrees", "block_size_deg", since="0.3", removal="0.4")
def spatial_block_folds(lat, lon, *, block_size_deg: float, n_splits: int = 5, random_state: int = 0):
    """(train, test) index pairs where all points of a lat/lon block go to the same fold.

    A thin function over :class:`SpatialBlockKFold` with ``shuffle=True``.

    Parameters
    ----------
    lat, lon : array-like of shape (n_samples,)
        Coordinates in degrees.
    block_size_deg : float
        Side of the square blocks, in degrees (``block_degrees`` before 0.3, as in
        :class:`SpatialBlockKFold`).
    n_splits : int, default=5
        Number of folds.
    random_state : int, default=0
        Seed of the shuffled block order.

    Returns
    -------
    folds : list of n_splits (train, test) tuples
        Integer index arrays into the samples; every sample is in exactly one test set. Usable
        as ``cv=`` in scikit-learn's ``cross_val_score`` and friends.

    Raises
    ------
    ValueError
        When there are fewer occupied blocks than folds.

    Examples
    --------
    >>> from geoembed.evaluation import spatial_block_folds
    >>> folds = spatial_block_folds([0, 0, 20, 20], [0, 1, 0, 1], block_size_deg=10, n_splits=2)
    >>> [test.tolist() for _, test in folds]
    [[2, 3], [0, 1]]
    """
    coords = np.column_stack([np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)])
    cv = SpatialBlockKFold(n_splits, block_size_deg=block_size_deg, shuffle=True, random_state=random_state)
    return list(cv.split(coords))


def automatic_block_size_km(lat, lon, n_splits: int, *, rows_per_block: int = None) -> float:
    """The block side for spatially blocked cross-fitting when none is given: the smallest side
    (powers of sqrt(2) km, about 1 m to 32,768 km) at which the occupied blocks hold
    ``rows_per_block`` rows on average (default :data:`ROWS_PER_BLOCK`), or else the largest that
    still gives ``n_splits`` blocks. Used by :class:`geoembed.target_encoder.LocationTargetEncoder`.

    Parameters
    ----------
    lat, lon : ndarray of shape (n_samples,)
        Validated coordinates in degrees.
    n_splits : int
    rows_per_block : int, default=None
        None means :data:`ROWS_PER_BLOCK`.

    Returns
    -------
    block_size_km : float
    """
    rows_per_block = ROWS_PER_BLOCK if rows_per_block is None else rows_per_block
    sizes = 2.0 ** (np.arange(-20, 31) / 2)  # ~1 m to 32,768 km

    def n_blocks(size):
        return int(block_labels(lat, lon, block_size_km=size).max()) + 1 if len(lat) else 0

    low, high = 0, len(sizes) - 1  # binary search: blocks get fewer as they grow
    while low < high:
        middle = (low + high) // 2
        if len(lat) / n_blocks(sizes[middle]) >= rows_per_block:
            high = middle
        else:
            low = middle + 1
    while low > 0 and n_blocks(sizes[low]) < n_splits:
        low -= 1
    return float(sizes[low])


def _points_of_regions(X):
    """A GeoDataFrame or GeoSeries of regions (polygons, lines) as points: each geometry's
    representative point (a point inside it), in its CRS; points stay as they are.
    """
    geometry = X.geometry if hasattr(X, "columns") else X
    kinds = set(geometry.geom_type.dropna())
    if kinds <= {"Point"}:
        return X
    return geometry.representative_point()
