"""RegionEmbedder: embeddings of areas (polygons, multipolygons, H3 cells) from the points inside them."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from geoembed.core.geo import EARTH_RADIUS_KM, azimuthal_equal_area, azimuthal_equal_area_inverse, latlon_to_unit_xyz
from geoembed.core.geometry import (
    AREA_JUDGED_BY_CALLER,
    GeometryInput,
    is_geopandas,
    is_shapely_array,
    read_geometries,
    to_wgs84,
)
from geoembed.core.inputs import check_input_features
from geoembed.core.params import Interval, Options, validate_params
from geoembed.core.utils import caller_stacklevel, optional_import
from geoembed.encoders.embedder import GeoEmbedder

__all__ = ["H3_NAMES", "RegionEmbedder", "RegionSample"]

#: Column names recognised as H3 cell ids in a plain DataFrame, in any case.
H3_NAMES = ("h3", "h3_cell", "h3_index", "h3_id", "hex", "hex_id", "cell", "cell_id")

_MAX_ROWS = 5
_POLYGON, _MULTIPOLYGON, _POINT, _MULTIPOINT = 3, 6, 0, 4  # shapely type ids
#: Rejection sampling: candidates drawn at once (a few hundred bytes each while they are tested), the
#: most per region before it gives up (a region that none of them hits falls back to its
#: representative point), and the floor of a round's expected acceptance.
_ROUND_CANDIDATES = 1 << 22
_MAX_CANDIDATES = 1 << 24
_MIN_ACCEPTANCE = 1e-6
#: A MultiPolygon whose area is under this share of its box is sampled part by part.
_SCATTERED = 1e-3
_SEGMENTS = 32  # each ring is densified to about this many segments per bounding-box side


class RegionSample:
    """Points sampled inside regions, grouped by region (the output of :meth:`RegionEmbedder.sample`).

    Attributes
    ----------
    lat, lon : ndarray of float64, shape (n_points,)
        Sampled points in degrees (WGS84), region by region.
    region : ndarray of int, shape (n_points,)
        The position of each point's region in the input.
    counts : ndarray of int, shape (n_regions,)
        Points per region: 0 for invalid regions (``on_invalid="nan"``), else at least 1.
    fallback : ndarray of bool, shape (n_regions,)
        Regions too small (or too thin) for any sample to land inside: their one point is the
        region's representative point (``shapely.Geometry.representative_point``) or the H3
        cell's centre.
    """

    def __init__(self, lat, lon, region, counts, fallback):
        self.lat, self.lon, self.region, self.counts, self.fallback = lat, lon, region, counts, fallback

    def __len__(self) -> int:
        return self.counts.size


class RegionEmbedder(TransformerMixin, BaseEstimator):
    """Embeddings of regions: the mean of a location encoder's output over points uniform in each region.

    Each region (a polygon or multipolygon in any CRS, or an H3 cell) is sampled with points
    uniformly distributed by area *on the sphere*, so that a northern county is sampled as
    densely as a southern one. The points go through the encoder, and their features are
    averaged per region (optionally with their standard deviation, the spread of the region).

    Parameters
    ----------
    encoder : str or transformer, default="geoclip"
        A registered encoder name (see :func:`geoembed.list_encoders`), embedded with
        :class:`~geoembed.GeoEmbedder`, or any scikit-learn transformer of (n, 2) arrays of
        **[lat, lon]** degrees (a ``GeoEmbedder``, a classic encoder, a pipeline ending in
        PCA...). A transformer is cloned and fitted on the points sampled in :meth:`fit`.
        With a ``GeoEmbedder(normalize=True)``, each region's mean is L2-normalised again,
        so that region rows are unit vectors too (see Notes).
    encoder_params : dict, default=None
        Parameters of the named encoder, as ``GeoEmbedder(encoder_params=...)``.
    weights : str or Path, default=None
        GeoCLIP weights, as ``GeoEmbedder(weights=...)`` (a registered name such as
        "geoclip-lite", or a checkpoint path); only with a named encoder.
    n_points : int, default=64
        Points sampled per region. The mean of ``n`` points estimates the region's mean
        embedding with a standard error of ``std / sqrt(n)`` per feature.
    points_per_km2 : float, default=None
        Sample by density instead: ``round(area_km2 * points_per_km2)`` points per region,
        at least 1 and at most ``max_points``.
    max_points : int, default=1024
        Upper limit of points per region with ``points_per_km2``.
    aggregate : {"mean", "mean+std"}, default="mean"
        "mean": the region's mean features. "mean+std": also their standard deviation over
        the region (the spread), doubling the output width.
    random_state : int, RandomState instance or None, default=0
        Seeds the sampling. Each region is sampled from the same stream, independently of the
        other rows, so a region gets the same embedding in any batch or order. In another CRS
        the edges are other lines (straight in the CRS they are given in), so points near them
        can fall in or out and the embedding changes: Virginia's 136 counties given in UTM and
        in longitude/latitude differed on 10 of them, by up to 0.157 (features' spread across
        counties 0.315) at 16 points per region (an audit's measurement).
    h3_col : str, default=None
        Column of H3 cell ids in a DataFrame input; by default the only column or the one
        named like ``H3_NAMES`` (any case).
    batch_points : int, default=65536
        Points encoded per batch; memory is about ``batch_points * n_features`` floats.
    on_invalid : {"raise", "nan"}, default="raise"
        Missing or empty geometries, geometries with a vertex that cannot be reprojected to
        longitude/latitude (outside the area where their CRS is defined) and invalid H3 ids:
        "raise" names the rows; "nan" gives NaN rows, so outputs stay aligned with inputs.

    Attributes
    ----------
    encoder_ : transformer
        The fitted point encoder.
    seed_ : int
        The seed of the sampling stream (``random_state``, or drawn from it in :meth:`fit`).
    n_features_in_ : int
        Number of input columns seen in :meth:`fit` (1 for a GeoSeries or a list of ids).
    feature_names_in_ : ndarray of str
        Input column names, when fitted on a DataFrame with string column names.
    n_features_out_ : int
        Output width: the encoder's, twice that with ``aggregate="mean+std"``.

    See Also
    --------
    geoembed.GeoEmbedder : embeddings of points.

    Notes
    -----
    Sampling: each region gets a Lambert azimuthal equal-area projection centred on it (the
    normalised mean of its vertices on the unit sphere), in which candidates are drawn
    uniformly in the region's bounding box and kept when they fall inside the region. The
    projection is equal-area, so the kept points are uniform by area on the sphere. Inside
    means: the polygon contains the point *in the polygon's own CRS* (edges straight in
    that CRS, as geopandas and GIS software draw them; so a polygon in a Pacific CRS may
    cross the antimeridian and one in a polar CRS may contain the pole), and for an H3 cell,
    ``h3.latlng_to_cell`` gives that cell (exact for cells across the antimeridian and
    around the poles). A polygon in longitude/latitude that crosses the antimeridian must be
    split there into a MultiPolygon (the GeoJSON rule, RFC 7946 section 3.1.9), or use
    longitudes beyond 180 on one side. A region that holds the antipode of its centre (a band
    around the globe) is drawn from the projection's whole disk. A MultiPolygon whose parts are
    scattered (their area under 0.1% of its box: island chains, exclaves) is sampled part by
    part, the points shared among the parts by systematic sampling on their cumulative area
    (each part's expected count is its share of the area, however small the part). A region
    that no candidate hits (a sliver, a point) gets one point, its representative point; one
    of some area left short of points warns. A MultiPoint is not sampled: its points are its
    sample (all of them, whatever ``n_points``), so its embedding is the mean embedding of its
    points.

    Normalisation: with a ``GeoEmbedder(normalize=True)`` as encoder, the points' features
    are unit vectors, and their mean is shorter than 1 (the more so, the more the features
    vary over the region); the mean is therefore scaled back to unit norm, so that each
    region row is a unit vector as "L2-normalise each embedding" promises (the direction is
    that of the mean of the points' unit vectors). The standard deviation of
    ``aggregate="mean+std"`` is that of the points' unit vectors, not rescaled.

    Examples
    --------
    H3 cells (``h3`` comes with the ``geo`` extra: ``pip install "geoembed-toolkit[geo]"``):

    >>> from geoembed import RegionEmbedder
    >>> import h3
    >>> cells = [h3.latlng_to_cell(48.8566, 2.3522, 5), h3.latlng_to_cell(40.7128, -74.0060, 5)]
    >>> RegionEmbedder("sphereC+", n_points=16).fit_transform(cells).shape
    (2, 192)
    """

    _parameter_constraints: dict = {
        "encoder": [str, BaseEstimator],
        "encoder_params": [None, dict],
        "weights": [None, str, Path],
        "n_points": [Interval(Integral, 1, None, closed="left")],
        "points_per_km2": [None, Interval(Real, 0, None, closed="neither")],
        "max_points": [Interval(Integral, 1, None, closed="left")],
        "aggregate": [Options("mean", "mean+std")],
        "random_state": ["random_state"],
        "h3_col": [None, str],
        "batch_points": [Interval(Integral, 1, None, closed="left")],
        "on_invalid": [Options("raise", "nan")],
    }

    def __init__(
        self,
        encoder="geoclip",
        *,
        encoder_params=None,
        weights=None,
        n_points=64,
        points_per_km2=None,
        max_points=1024,
        aggregate="mean",
        random_state=0,
        h3_col=None,
        batch_points=65536,
        on_invalid="raise",
    ):
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.weights = weights
        self.n_points = n_points
        self.points_per_km2 = points_per_km2
        self.max_points = max_points
        self.aggregate = aggregate
        self.random_state = random_state
        self.h3_col = h3_col
        self.batch_points = batch_points
        self.on_invalid = on_invalid

    # -- scikit-learn API --------------------------------------------------------------
    def fit(self, X, y=None):
        """Check the parameters and the regions, and fit the encoder on points sampled in them.

        Parameters
        ----------
        X : GeoDataFrame, GeoSeries, array of shapely geometries, or H3 cell ids
            Polygons and multipolygons (points are regions of one point, multipoints the set
            of their points) in any CRS (shapely arrays without a CRS are longitude/latitude
            degrees); or H3 cell ids (str or int) as a list, array, Series or a DataFrame
            column (``h3_col``).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then embed the same regions (sampled once).

        Parameters
        ----------
        X : GeoDataFrame, GeoSeries, array of shapely geometries, or H3 cell ids
            As in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_regions, n_features_out)
            A DataFrame (with the input's index) under ``set_output(transform="pandas")``.
        """
        sample = self._fit(X)
        return self._embed(sample)

    def transform(self, X):
        """Embed regions.

        Parameters
        ----------
        X : GeoDataFrame, GeoSeries, array of shapely geometries, or H3 cell ids
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_regions, n_features_out)
            Rows in input order; NaN rows for invalid regions under ``on_invalid="nan"``. A
            DataFrame (with the input's index) under ``set_output(transform="pandas")``.
        """
        check_is_fitted(self, "encoder_")
        regions = self._read(X, reset=False)
        return self._embed(self._sample(regions))

    def sample(self, X) -> RegionSample:
        """The points a fitted embedder samples in each region (to inspect or map them).

        Parameters
        ----------
        X : GeoDataFrame, GeoSeries, array of shapely geometries, or H3 cell ids
            As in :meth:`fit`.

        Returns
        -------
        RegionSample
        """
        check_is_fitted(self, "seed_")
        return self._sample(self._read(X, reset=False))

    def get_feature_names_out(self, input_features=None):
        """Output names: the encoder's, then (``aggregate="mean+std"``) the same with ``_std``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Checked against the input seen in ``fit`` (``feature_names_in_``, or their number), as
            scikit-learn's transformers check it; the output names do not depend on it.

        Returns
        -------
        ndarray of str objects, shape (n_features_out,)
        """
        check_is_fitted(self, "encoder_")
        check_input_features(self, input_features)
        names = [str(n) for n in self.encoder_.get_feature_names_out()]
        if self.aggregate == "mean+std":
            names += [f"{n}_std" for n in names]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- fitting -----------------------------------------------------------------------
    def _fit(self, X):
        validate_params(self)
        if not isinstance(self.encoder, str) and (self.encoder_params is not None or self.weights is not None):
            raise ValueError(
                "encoder_params and weights configure a named encoder (encoder='geoclip', 'sphereC+', ...); "
                f"configure the transformer {type(self.encoder).__name__} itself instead"
            )
        if isinstance(self.encoder, str):
            encoder = GeoEmbedder(self.encoder, encoder_params=self.encoder_params, weights=self.weights)
        else:
            if not (hasattr(self.encoder, "fit") and hasattr(self.encoder, "transform")):
                raise TypeError(f"encoder must be a name or a transformer; got {type(self.encoder).__name__}")
            encoder = clone(self.encoder)
        rng = check_random_state(self.random_state)
        self.seed_ = int(self.random_state) if isinstance(self.random_state, Integral) else int(rng.randint(2**31))
        regions = self._read(X, reset=True)
        sample = self._sample(regions)
        points = np.column_stack([sample.lat, sample.lon])
        self.encoder_ = encoder.fit(points if points.size else np.zeros((1, 2)))
        self.n_features_out_ = len(self.encoder_.get_feature_names_out()) * (2 if self.aggregate == "mean+std" else 1)
        return sample

    # -- reading -----------------------------------------------------------------------
    def _read(self, X, *, reset):
        """The regions of ``X``: ("geometry", GeometryInput) or ("h3", ids, row labels)."""
        if is_geopandas(X) or is_shapely_array(X):
            regions = ("geometry", read_geometries(X, what="regions"))
            one_column = not regions[1].is_frame
        else:
            ids, labels, one_column = self._h3_ids(X)
            regions = ("h3", ids, labels)
        if one_column:
            if reset:
                self.n_features_in_ = 1
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        else:
            validate_data(self, X, reset=reset, skip_check_array=True)
        return regions

    def _h3_ids(self, X):
        ids, labels, one_column = self._read_h3_ids(X)
        shapes = [i for i, value in enumerate(ids[:1000]) if type(value).__module__.startswith("shapely")]
        if shapes:  # a pandas Series or frame of shapely objects: no CRS to read them in
            raise TypeError(
                f"regions at rows {_rows(labels, np.isin(np.arange(ids.size), shapes))} are shapely geometries in a "
                f"plain {type(X).__name__}, which carries no CRS: make it a GeoSeries or GeoDataFrame with its CRS "
                "(geopandas.GeoSeries(values, crs=...)); H3 cell ids go in plain columns"
            )
        return ids, labels, one_column

    def _read_h3_ids(self, X):
        if isinstance(X, pd.DataFrame):
            column = self._h3_column(list(X.columns))
            return X[column].to_numpy(dtype=object), X.index, False
        if isinstance(X, pd.Series):
            return X.to_numpy(dtype=object), X.index, True
        module = type(X).__module__
        if module.startswith(("polars", "pyarrow")):
            raise TypeError(
                f"{type(X).__name__} input: pass H3 ids as a pandas DataFrame/Series, a list or an array, "
                "and polygons as a GeoDataFrame"
            )
        values = np.asarray(X, dtype=object)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(
                "expected regions: a GeoDataFrame, a GeoSeries, an array of shapely geometries, or a "
                f"1-D sequence of H3 cell ids; got an array of shape {values.shape}"
            )
        return values, None, True

    def _h3_column(self, columns):
        if self.h3_col is not None:
            if self.h3_col not in columns:
                raise ValueError(f"h3_col {self.h3_col!r} not found; columns are {columns}")
            return self.h3_col
        if len(columns) == 1:
            return columns[0]
        matches = [c for c in columns if isinstance(c, str) and c.strip().lower() in H3_NAMES]
        if len(matches) != 1:
            raise ValueError(
                f"expected one column of H3 cell ids named like {list(H3_NAMES)} (any case); found "
                f"{matches or 'none'} among {columns}. Name it with h3_col=..., or pass polygons as a GeoDataFrame"
            )
        return matches[0]

    # -- sampling ----------------------------------------------------------------------
    def _counts(self, area_km2):
        if self.points_per_km2 is None:
            return np.full(area_km2.size, self.n_points, dtype=np.int64)
        return np.clip(np.rint(area_km2 * self.points_per_km2), 1, self.max_points).astype(np.int64)

    def _sample(self, regions) -> RegionSample:
        if regions[0] == "geometry":
            frames = _geometry_frames(regions[1], self.on_invalid)
        else:
            frames = _h3_frames(regions[1], regions[2], self.on_invalid)
        wanted = self._counts(frames.area_km2)
        given = list(frames.fixed)  # MultiPoints: their points are their sample, however many
        if regions[0] == "geometry":
            _sample_parts_of_scattered(regions[1], frames, wanted, self.seed_, self.on_invalid)
        sample = _rejection_sample(frames, wanted, self.seed_)
        # short of points: a region of some area (not a sliver) that the candidates hardly hit
        short = frames.valid & (sample.counts < wanted) & (frames.area_km2 >= 1e-6) & (wanted > 1)
        short[given] = False
        if short.any():
            labels = regions[1].row_labels if regions[0] == "geometry" else regions[2]
            warnings.warn(
                f"regions at rows {_rows(labels, short)} got fewer points than asked (the first: "
                f"{sample.counts[short][0]} of {wanted[short][0]}): their area is "
                "so small a share of their bounding box that few candidates fell inside, so their embeddings "
                "rest on those points",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return sample

    # -- embedding ---------------------------------------------------------------------
    def _embed(self, sample: RegionSample):
        n_regions = len(sample)
        k = len(self.encoder_.get_feature_names_out())
        normalize = isinstance(self.encoder_, GeoEmbedder) and self.encoder_.normalize
        width = 2 * k if self.aggregate == "mean+std" else k
        out = None
        starts = np.concatenate([[0], np.cumsum(sample.counts)])
        first = 0
        while first < n_regions:  # batches of whole regions, about batch_points points each
            last = int(np.searchsorted(starts, starts[first] + self.batch_points, side="right")) - 1
            last = max(last, first + 1)
            lo, hi = starts[first], starts[last]
            if hi == lo:  # invalid regions only: their NaN rows are there already
                first = last
                continue
            features = self.encoder_.transform(np.column_stack([sample.lat[lo:hi], sample.lon[lo:hi]]))
            features = features.toarray() if hasattr(features, "toarray") else np.asarray(features)
            if out is None:
                dtype = features.dtype if features.dtype.kind == "f" else np.float64
                out = np.full((n_regions, width), np.nan, dtype=dtype)
            counts = sample.counts[first:last]
            present = counts > 0
            if present.any():
                values = features.astype(np.float64)
                offsets = (starts[first:last] - lo)[present]
                mean = np.add.reduceat(values, offsets, axis=0) / counts[present, None]
                rows = np.flatnonzero(present) + first
                out[rows, :k] = _unit_rows(mean) if normalize else mean
                if self.aggregate == "mean+std":
                    centred = values - np.repeat(mean, counts[present], axis=0)
                    out[rows, k:] = np.sqrt(np.add.reduceat(centred**2, offsets, axis=0) / counts[present, None])
            first = last
        if out is None:  # no region had a point (none, or all invalid)
            out = np.full((n_regions, width), np.nan, dtype=np.float64)
        return out


def _unit_rows(values):
    """Rows scaled to unit L2 norm (rows of norm 0 are left as they are)."""
    norm = np.linalg.norm(values, axis=1, keepdims=True)
    return values / np.where(norm > 0, norm, 1.0)


class _Frames:
    """Per region: the projection centre, the candidate box in it, the area and the inside test.

    ``fixed`` maps the position of a region whose points are given (a MultiPoint) to their
    (lat, lon) arrays: those regions are not sampled.
    """

    def __init__(self, lat0, lon0, box, area_km2, valid, fallback_latlon, inside, fixed=None, geometries=None):
        self.lat0, self.lon0, self.box, self.area_km2 = lat0, lon0, box, area_km2
        self.valid, self.fallback_latlon, self.inside = valid, fallback_latlon, inside
        self.fixed = fixed or {}
        self.geometries = geometries  # per region, the geometry sampled (a repaired one where invalid)


def _rows(labels, mask) -> list:
    where = np.flatnonzero(mask)[:_MAX_ROWS]
    names = [labels[i] if labels is not None else int(i) for i in where]
    names = [n.item() if isinstance(n, np.generic) else n for n in names]
    more = int(np.sum(mask)) - len(names)
    return names if more <= 0 else [*names, f"... and {more} more"]


def _snap(value, step, direction):
    """``value`` rounded to a multiple of ``step`` (down, nearest or up: direction -1, 0, 1)."""
    rounding = {-1: np.floor, 0: np.rint, 1: np.ceil}[direction]
    return rounding(value / step) * step


def _power_of_two_step(size, parts):
    """The power of two nearest below ``size / parts`` (1 for size 0)."""
    with np.errstate(divide="ignore"):
        return np.where(size > 0, 2.0 ** np.floor(np.log2(np.where(size > 0, size, 1.0) / parts)), 1.0)


def _centres_and_boxes(vertex_lat, vertex_lon, owner, n, margin):
    """Per region: a projection centre and the box (xmin, ymin, xmax, ymax) of its vertices in the
    equal-area projection around it, widened by ``margin`` of its size on each side, clipped to the
    projection's disk.

    The centre is the normalised mean of the vertices on the unit sphere, and both are snapped to
    coarse power-of-two grids (an eighth of the region's size for the centre, a sixteenth for the
    box edges, outwards), so that the same region given in another CRS, whose densified vertices
    differ slightly, almost always gets the very same frame, hence the same candidate points.
    """
    x, y, z = latlon_to_unit_xyz(vertex_lat, vertex_lon)
    sx, sy, sz = (np.bincount(owner, weights=v, minlength=n) for v in (x, y, z))
    norm = np.sqrt(sx**2 + sy**2 + sz**2)
    norm = np.where(norm > 1e-12, norm, 1.0)  # a region symmetric about the centre of the Earth: any centre
    lat0 = np.degrees(np.arcsin(np.clip(sz / norm, -1, 1)))
    lon0 = np.degrees(np.arctan2(sy, sx))
    box = _box(vertex_lat, vertex_lon, owner, n, lat0, lon0)
    extent_deg = np.degrees(np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]))
    step = _power_of_two_step(extent_deg, 8)
    lat0 = np.clip(_snap(lat0, step, 0), -90, 90)
    lon0 = _snap(lon0, step, 0)
    box = _box(vertex_lat, vertex_lon, owner, n, lat0, lon0)
    width, height = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    box += np.column_stack([-width, -height, width, height]) * margin
    step = _power_of_two_step(np.maximum(width, height), 16)[:, None]
    box[:, :2] = _snap(box[:, :2], step, -1)
    box[:, 2:] = _snap(box[:, 2:], step, 1)
    return lat0, lon0, np.clip(box, -2.0, 2.0)


def _box(vertex_lat, vertex_lon, owner, n, lat0, lon0):
    px, py = azimuthal_equal_area(vertex_lat, vertex_lon, lat0[owner], lon0[owner])
    box = np.empty((n, 4))
    box[:, :2], box[:, 2:] = np.inf, -np.inf
    np.minimum.at(box[:, 0], owner, px)
    np.minimum.at(box[:, 1], owner, py)
    np.maximum.at(box[:, 2], owner, px)
    np.maximum.at(box[:, 3], owner, py)
    return box


def _geometry_frames(data, on_invalid) -> _Frames:
    shapely = optional_import("shapely", extra="geo", purpose="RegionEmbedder on polygons")
    geoms = data.geometries
    n = geoms.size
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(types, [_POLYGON, _MULTIPOLYGON, _POINT, _MULTIPOINT])
    if wrong.any():
        kinds = sorted({type(g).__name__ for g in geoms[wrong]})
        raise ValueError(
            f"regions must be Polygon or MultiPolygon geometries (a Point is a region of one point, a MultiPoint "
            f"the set of its points); rows {_rows(data.row_labels, wrong)} hold {', '.join(kinds)}. Buffer lines "
            "into areas first (gdf.buffer(distance) in a projected CRS)"
        )
    if missing.any() and on_invalid == "raise":
        raise ValueError(
            f"rows {_rows(data.row_labels, missing)} have a missing or empty geometry; drop them, or pass "
            "on_invalid='nan' to get NaN rows for them"
        )
    valid = ~missing
    good = geoms[valid]
    good = _without_empty_parts(good, types[valid], shapely)
    polygonal = np.isin(types[valid], [_POLYGON, _MULTIPOLYGON])
    broken = polygonal & ~shapely.is_valid(good)
    if broken.any():  # self-intersecting rings (a bowtie's signed lobes cancel: area 0): their valid form
        repaired = _polygonal(shapely.make_valid(good[broken]), shapely)
        kept = ~shapely.is_empty(repaired)
        good = good.copy()
        good[np.flatnonzero(broken)[kept]] = repaired[kept]
    good_labels = data.row_labels[valid] if data.row_labels is not None else np.flatnonzero(valid)
    bounds = shapely.bounds(good)
    size = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    dense = shapely.segmentize(good, np.where(size > 0, size / _SEGMENTS, 1.0))
    xy, owner = shapely.get_coordinates(dense, return_index=True)
    # vertices that cannot be reprojected (outside the CRS's domain) make their region invalid
    vertex_lon, vertex_lat = to_wgs84(
        xy[:, 0], xy[:, 1], data.crs, row_labels=good_labels, owner=owner, on_failure=on_invalid
    )
    unprojectable = np.bincount(owner[~np.isfinite(vertex_lon) & np.all(np.isfinite(xy), axis=1)], minlength=good.size)
    if unprojectable.any():  # on_invalid="nan": those regions become NaN rows
        geoms = geoms.copy()
        geoms[np.flatnonzero(valid)[unprojectable > 0]] = None
        return _geometry_frames(GeometryInput(geoms, data.crs, data.row_labels, data.is_frame), on_invalid)
    n_valid = good.size
    lat0 = np.zeros(n)
    lon0 = np.zeros(n)
    box = np.zeros((n, 4))
    lat0[valid], lon0[valid], box[valid] = _centres_and_boxes(vertex_lat, vertex_lon, owner, n_valid, 0.02)
    # area on the sphere: the polygons' vertices in each one's equal-area projection
    px, py = azimuthal_equal_area(vertex_lat, vertex_lon, lat0[valid][owner], lon0[valid][owner])
    projected = shapely.set_coordinates(dense.copy(), np.column_stack([px, py]))
    area_km2 = np.zeros(n)
    area_km2[valid] = shapely.area(projected) * EARTH_RADIUS_KM**2
    representative = shapely.get_coordinates(shapely.point_on_surface(good))
    fallback = np.full((n, 2), np.nan)
    rep_lon, rep_lat = to_wgs84(representative[:, 0], representative[:, 1], data.crs, row_labels=good_labels)
    fallback[valid] = np.column_stack([rep_lat, rep_lon])
    # a MultiPoint is the set of its points: they are its sample, whatever n_points says
    fixed = {}
    multipoint = types[valid] == _MULTIPOINT
    if multipoint.any():
        positions_mp = np.flatnonzero(valid)[multipoint]
        coords, which = shapely.get_coordinates(good[multipoint], return_index=True)
        keep = np.all(np.isfinite(coords), axis=1)  # an empty member point has no coordinates
        coords, which = coords[keep], which[keep]
        mp_lon, mp_lat = to_wgs84(coords[:, 0], coords[:, 1], data.crs, row_labels=good_labels[multipoint])
        cuts = np.searchsorted(which, np.arange(1, positions_mp.size))
        for r, la, lo in zip(positions_mp, np.split(mp_lat, cuts), np.split(mp_lon, cuts)):
            if la.size:
                fixed[int(r)] = (la, lo)

    shapely.prepare(good)
    positions = np.full(n, -1)
    positions[valid] = np.arange(n_valid)
    lonlat = data.crs is None or data.crs.is_geographic and data.crs.to_epsg() == 4326
    # in any longitude/latitude CRS (OGC:CRS84, NAD83, ETRS89; grads too), a region may run past the
    # antimeridian on one side: the inside test tries its candidates a turn east and west as well
    turn = 360.0
    if data.crs is not None and data.crs.is_geographic:
        turn = 2 * np.pi / data.crs.axis_info[0].unit_conversion_factor  # radians per unit
    geographic = data.crs is None or data.crs.is_geographic
    beyond = geographic & ((bounds[:, 0] < -turn / 2) | (bounds[:, 2] > turn / 2))

    def inside(region, lat, lon):
        geom_index = positions[region]
        target = good[geom_index]
        if lonlat:
            x, y = lon, lat
        else:
            x, y = _from_wgs84(lon, lat, data.crs)
        hit = shapely.contains_xy(target, x, y)
        if beyond.any():  # longitudes beyond the antimeridian on one side
            shifted = beyond[geom_index]
            for step in (turn, -turn):
                hit[shifted] |= shapely.contains_xy(target[shifted], x[shifted] + step, y[shifted])
        return hit

    sampled = geoms.copy()
    sampled[valid] = good
    return _Frames(lat0, lon0, box, area_km2, valid, fallback, inside, fixed, geometries=sampled)


def _without_empty_parts(geoms, types, shapely):
    """MultiPolygons with their empty members dropped (GEOS's segmentize crashes on them)."""
    multi = np.flatnonzero(types == _MULTIPOLYGON)
    if multi.size == 0:
        return geoms
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)
    empty = shapely.is_empty(parts)
    if not empty.any():
        return geoms
    geoms = geoms.copy()
    for k in np.unique(owner[empty]):
        keep = parts[(owner == k) & ~empty]
        geoms[multi[k]] = shapely.multipolygons(keep) if keep.size else shapely.from_wkt("MULTIPOLYGON EMPTY")
    return geoms


def _polygonal(geoms, shapely):
    """The polygons of ``make_valid``'s output (which may add lines and points where rings collapse)."""
    out = geoms.copy()
    for i, g in enumerate(geoms):
        if shapely.get_type_id(g) in (_POLYGON, _MULTIPOLYGON):
            continue
        parts = shapely.get_parts(g)
        kinds = shapely.get_type_id(parts)
        polygons = np.concatenate([parts[kinds == _POLYGON], shapely.get_parts(parts[kinds == _MULTIPOLYGON])])
        out[i] = shapely.multipolygons(polygons) if polygons.size else shapely.from_wkt("POLYGON EMPTY")
    return out


def _sample_parts_of_scattered(data, frames, wanted, seed, on_invalid):
    """MultiPolygons whose parts are scattered (their area under ``_SCATTERED`` of their box: island
    chains, exclaves) are sampled part by part: each part gets its share of the region's points by
    area (systematic sampling on the cumulative area), drawn in its own frame, and the region's
    sample is theirs together (put in ``frames.fixed``). Drawn in the region's box, almost every
    candidate would miss.
    """
    shapely = optional_import("shapely", extra="geo", purpose="RegionEmbedder on polygons")
    share = _area_shares(frames)
    geometries = frames.geometries
    types = shapely.get_type_id(geometries)
    scattered = np.flatnonzero(frames.valid & (types == _MULTIPOLYGON) & (share < _SCATTERED) & (wanted > 1))
    if scattered.size == 0:
        return
    parts, owner = shapely.get_parts(geometries[scattered], return_index=True)
    judged = AREA_JUDGED_BY_CALLER.set(True)  # the regions' CRS was judged on all of them, not part by part
    try:
        part_frames = _geometry_frames(GeometryInput(parts, data.crs), on_invalid)
    finally:
        AREA_JUDGED_BY_CALLER.reset(judged)
    area = np.where(part_frames.valid, part_frames.area_km2, 0.0)
    total = np.bincount(owner, weights=area, minlength=scattered.size)
    # systematic sampling on each region's cumulative area: a part's expected count is exactly its
    # share of the points, however small (largest remainders would give them all to the largest parts)
    cumulative = np.cumsum(area) - np.repeat(np.cumsum(total) - total, np.bincount(owner, minlength=scattered.size))
    fraction = np.clip(cumulative / np.where(total > 0, total, 1.0)[owner], 0.0, 1.0)
    fraction[np.r_[owner[1:] != owner[:-1], True]] = 1.0  # each region's last part closes it
    start = np.random.default_rng(seed).random()  # one offset for every region: a region alone gets the same
    ends = np.floor(wanted[scattered][owner] * fraction + start).astype(np.int64)
    begins = np.r_[0, ends[:-1]]
    begins[np.r_[True, owner[1:] != owner[:-1]]] = np.floor(start)  # each region starts at the offset
    count = ends - begins
    part_frames.valid &= count > 0  # parts with no share of the points are not drawn
    part_sample = _rejection_sample(part_frames, count, seed)
    which = owner[part_sample.region]  # sorted: parts come region by region, points part by part
    cuts = np.searchsorted(which, np.arange(scattered.size + 1))
    for k, r in enumerate(scattered):
        if cuts[k + 1] > cuts[k]:
            frames.fixed[int(r)] = (part_sample.lat[cuts[k] : cuts[k + 1]], part_sample.lon[cuts[k] : cuts[k + 1]])


def _from_wgs84(lon, lat, crs):
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _h3_frames(ids, labels, on_invalid) -> _Frames:
    h3 = optional_import("h3", extra="geo", purpose="RegionEmbedder on H3 cells")
    n = ids.size
    cells = np.empty(n, dtype=object)
    valid = np.zeros(n, dtype=bool)
    for i, value in enumerate(ids):
        cell = value
        if isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_)):
            cell = h3.int_to_str(int(value)) if int(value) > 0 else None
        if isinstance(cell, str) and h3.is_valid_cell(cell):
            cells[i], valid[i] = cell, True
    if not valid.all() and on_invalid == "raise":
        bad = ~valid
        shown = ", ".join(repr(ids[i]) for i in np.flatnonzero(bad)[:_MAX_ROWS])
        raise ValueError(
            f"regions must be valid H3 cell ids (str like '872a1072bffffff', or int); rows "
            f"{_rows(labels, bad)} have {shown}. Pass on_invalid='nan' to get NaN rows for them"
        )
    good = cells[valid]
    boundaries = [h3.cell_to_boundary(c) for c in good]
    owner = np.repeat(np.arange(good.size), [len(b) for b in boundaries])
    vertices = np.asarray([v for b in boundaries for v in b], dtype=np.float64).reshape(-1, 2)
    centres = np.asarray([h3.cell_to_latlng(c) for c in good], dtype=np.float64).reshape(-1, 2)
    # centres count as vertices too, so that a cell around a pole is boxed around the pole
    vertex_lat = np.concatenate([vertices[:, 0], centres[:, 0]])
    vertex_lon = np.concatenate([vertices[:, 1], centres[:, 1]])
    owner = np.concatenate([owner, np.arange(good.size)])
    lat0, lon0, box = np.zeros(n), np.zeros(n), np.zeros((n, 4))
    # H3 edges are arcs (gnomonic straight lines): a 10% margin covers their bulge in this projection
    lat0[valid], lon0[valid], box[valid] = _centres_and_boxes(vertex_lat, vertex_lon, owner, good.size, 0.10)
    area_km2 = np.zeros(n)
    area_km2[valid] = [h3.cell_area(c, unit="km^2") for c in good]
    fallback = np.full((n, 2), np.nan)
    fallback[valid] = centres
    resolution = np.zeros(n, dtype=np.int64)
    resolution[valid] = [h3.get_resolution(c) for c in good]
    latlng_to_cell = h3.latlng_to_cell

    def inside(region, lat, lon):
        return np.fromiter(
            (
                latlng_to_cell(a, b, r) == c
                for a, b, r, c in zip(lat.tolist(), lon.tolist(), resolution[region].tolist(), cells[region])
            ),
            dtype=bool,
            count=lat.size,
        )

    return _Frames(lat0, lon0, box, area_km2, valid, fallback, inside)


def _box_areas(frames: _Frames) -> np.ndarray:
    """Each region's candidate box area, in the unit-sphere projection's units."""
    return (frames.box[:, 2] - frames.box[:, 0]) * (frames.box[:, 3] - frames.box[:, 1])


def _area_shares(frames: _Frames) -> np.ndarray:
    """Each region's area over its box's (1 for an empty box): the share of candidates it keeps."""
    box_area = _box_areas(frames)
    return np.where(box_area > 0, frames.area_km2 / EARTH_RADIUS_KM**2 / np.where(box_area > 0, box_area, 1), 1.0)


def _uniform_stream(seed: int, n: int) -> np.ndarray:
    """The first ``n`` pairs of the seeded stream (a prefix of any longer draw)."""
    return _uniform_slice(seed, 0, n)


def _uniform_slice(seed: int, start: int, stop: int) -> np.ndarray:
    """Pairs ``start`` to ``stop`` of the seeded stream, without drawing those before them (a pair
    is two 64-bit outputs of the PCG64 generator: ``advance`` skips them).
    """
    generator = np.random.PCG64(seed)
    generator.advance(2 * int(start))
    return np.random.Generator(generator).random((int(stop - start), 2))


def _rejection_sample(frames: _Frames, wanted, seed) -> RegionSample:
    """Uniform points inside each valid region, ``wanted[i]`` of them (at least one).

    A region's points are the first ``wanted[i]`` of its candidates that fall inside it, its
    candidates being the seeded stream mapped into its box: how many are drawn per round changes
    the cost, not the points.
    """
    n = frames.valid.size
    wanted = np.where(frames.valid, wanted, 0)
    # regions of zero area (points, slivers) can contain no candidate: they go straight to their
    # representative point; regions with given points (multipoints) are not sampled
    sampled = frames.valid & (_box_areas(frames) > 0) & (frames.area_km2 > 0)
    sampled[list(frames.fixed)] = False
    todo = np.flatnonzero(sampled)
    if todo.size:
        # a region that holds the antipode of its centre reaches the rim of the projection's disk,
        # beyond the box of its vertices (a band around the globe): it is drawn from the whole disk
        antipode_lon = np.mod(frames.lon0[todo] + 360.0, 360.0) - 180.0
        holds = frames.inside(todo, -frames.lat0[todo], antipode_lon)
        frames.box[todo[holds]] = (-2.0, -2.0, 2.0, 2.0)
    # the area's share of the box: the expected acceptance (floored: an invalid ring's area can be 0)
    share = _area_shares(frames)
    acceptance = np.clip(share, 1e-4, 1.0)
    # candidates a region may use: four times what its area's share needs, at least 65,536, at most
    # _MAX_CANDIDATES (a thin strip in a wide box); 65,536 where even that many would expect fewer
    # than 8 hits (a sliver, two specks far apart: they fall back soon instead of drawing in vain)
    needed = 1.25 * wanted / np.maximum(share, 1e-300)
    useful = _MAX_CANDIDATES * share >= np.minimum(8, wanted)  # the most candidates still expect some hits
    budget = np.where(useful, np.clip(4 * needed, 1 << 16, _MAX_CANDIDATES), 1 << 16).astype(np.int64)
    got_lat: list = [[] for _ in range(n)]
    got_lon: list = [[] for _ in range(n)]
    have = np.zeros(n, dtype=np.int64)
    drawn = np.zeros(n, dtype=np.int64)  # candidates of the stream used so far, per region
    while todo.size:
        need = wanted[todo] - have[todo]
        batch = np.ceil(need / acceptance[todo] * 1.25).astype(np.int64) + 4
        batch = np.minimum(np.minimum(batch, _ROUND_CANDIDATES), budget[todo] - drawn[todo])
        for part in _groups(batch, _ROUND_CANDIDATES):  # regions drawn together, in order
            _draw(frames, seed, todo[part], batch[part], drawn, wanted, have, got_lat, got_lon)
        observed = have[todo] / np.maximum(drawn[todo], 1)
        acceptance[todo] = np.clip(np.maximum(observed, 0.5 * acceptance[todo]), _MIN_ACCEPTANCE, 1.0)
        todo = todo[(have[todo] < wanted[todo]) & (drawn[todo] < budget[todo])]
    for r, (la, lo) in frames.fixed.items():
        got_lat[r], got_lon[r] = [la], [lo]
        have[r] = la.size
    fallback = frames.valid & (have == 0)
    for r in np.flatnonzero(fallback):
        got_lat[r] = [frames.fallback_latlon[r, :1]]
        got_lon[r] = [frames.fallback_latlon[r, 1:]]
        have[r] = 1
    lat = np.concatenate([np.concatenate(p) if p else np.zeros(0) for p in got_lat]) if n else np.zeros(0)
    lon = np.concatenate([np.concatenate(p) if p else np.zeros(0) for p in got_lon]) if n else np.zeros(0)
    return RegionSample(lat, lon, np.repeat(np.arange(n), have), have, fallback)


def _groups(batch, limit):
    """Consecutive slices of ``batch`` whose sums stay within ``limit`` (a batch over it alone)."""
    start, total = 0, 0
    for i, size in enumerate(batch.tolist()):
        if total and total + size > limit:
            yield slice(start, i)
            start, total = i, 0
        total += size
    if start < len(batch):
        yield slice(start, len(batch))


def _draw(frames, seed, todo, batch, drawn, wanted, have, got_lat, got_lon):
    """One round's candidates for the regions ``todo`` (``batch`` each, after the ``drawn`` ones),
    keeping the hits each region still needs.
    """
    region = np.repeat(todo, batch)
    end = int((drawn[todo] + batch).max())
    if end <= batch.sum() + _ROUND_CANDIDATES:  # the stream's prefix, shared by the regions
        stream = _uniform_stream(seed, end)
        u = stream[np.concatenate([np.arange(d, d + b) for d, b in zip(drawn[todo], batch)])]
    else:  # far along the stream: each region's slice of it
        u = np.concatenate([_uniform_slice(seed, d, d + b) for d, b in zip(drawn[todo], batch)])
    box = frames.box[region]
    x = box[:, 0] + u[:, 0] * (box[:, 2] - box[:, 0])
    y = box[:, 1] + u[:, 1] * (box[:, 3] - box[:, 1])
    lat, lon = azimuthal_equal_area_inverse(x, y, frames.lat0[region], frames.lon0[region])
    ok = np.isfinite(lat)
    hit = np.zeros(region.size, dtype=bool)
    hit[ok] = frames.inside(region[ok], lat[ok], lon[ok])
    drawn[todo] += batch
    for r, la, lo in _split_by_region(region[hit], lat[hit], lon[hit]):
        take = wanted[r] - have[r]
        got_lat[r].append(la[:take])
        got_lon[r].append(lo[:take])
        have[r] += min(take, la.size)


def _split_by_region(region, lat, lon):
    """(region, lat, lon) groups of consecutive equal regions (candidates come region by region)."""
    if region.size == 0:
        return
    cuts = np.flatnonzero(np.diff(region)) + 1
    for r, la, lo in zip(region[np.r_[0, cuts]], np.split(lat, cuts), np.split(lon, cuts)):
        yield int(r), la, lo
