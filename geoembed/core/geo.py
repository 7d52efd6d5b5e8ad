"""Coordinates: validation, projections and distances.

This is the one module where (latitude, longitude) in degrees becomes anything else.
Every public function takes latitude first, then longitude, both in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = [
    "EARTH_RADIUS_KM",
    "GEOCLIP_PROJECTION_SCALE",
    "GEOCLIP_PROJECTION_SCALE_DEG",
    "WHOLE_GLOBE",
    "BoundingBox",
    "KM_PER_DEGREE",
    "azimuthal_equal_area",
    "azimuthal_equal_area_inverse",
    "bilinear_grid_cells",
    "equal_area_points",
    "equal_earth",
    "grid_node_keys",
    "haversine_km",
    "latlon_to_unit_xyz",
    "validate_latlon",
    "wrapped_longitude",
]

#: Mean Earth radius in km (IUGG), used by every distance in the package.
EARTH_RADIUS_KM = 6371.0088

#: Kilometres along a meridian per degree of latitude, on the mean Earth radius (~111.195).
KM_PER_DEGREE = np.pi * EARTH_RADIUS_KM / 180.0

#: GeoCLIP multiplies unit-sphere Equal Earth coordinates by this and divides by 180.
GEOCLIP_PROJECTION_SCALE_DEG = 66.50336
#: ``GEOCLIP_PROJECTION_SCALE_DEG / 180``: the factor GeoCLIP applies to unit-sphere Equal Earth coordinates.
GEOCLIP_PROJECTION_SCALE = GEOCLIP_PROJECTION_SCALE_DEG / 180.0

_MAX_ROWS_IN_MESSAGE = 5


def _describe_rows(labels, values, mask) -> str:
    """'rows [3, 'r9'] have 91.2, 95.0' for the first few rows where ``mask`` holds."""
    where = np.flatnonzero(mask)
    shown = where[:_MAX_ROWS_IN_MESSAGE]
    names = [labels[i] if labels is not None else int(i) for i in shown]
    names = [n.item() if isinstance(n, np.generic) else n for n in names]
    vals = ", ".join(f"{values[i]:g}" for i in shown)
    more = f" (and {where.size - shown.size} more)" if where.size > shown.size else ""
    return f"rows {names}{more} have {vals}"


def wrapped_longitude(lon) -> np.ndarray:
    """Longitudes in degrees wrapped into [-180, 180) (float64; NaN stays NaN)."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class BoundingBox:
    """A latitude/longitude box in degrees, the one box type of the package.

    Every function that takes a ``bbox`` accepts a ``BoundingBox`` or a 4-sequence in the same
    field order, **(south, west, north, east)**. The antimeridian rule is the same everywhere:
    ``west > east`` means the box crosses it (e.g. west=170, east=-170 is 20 degrees wide).

    Parameters
    ----------
    south, west, north, east : float
        Edges in degrees: ``-90 <= south < north <= 90`` and both longitudes in [-180, 180].

    Examples
    --------
    >>> from geoembed.core.geo import BoundingBox
    >>> box = BoundingBox(south=-20, west=170, north=-10, east=-170)
    >>> box.crosses_antimeridian, box.width_deg
    (True, 20.0)
    >>> box.contains([-15.0, -15.0], [179.0, 0.0]).tolist()
    [True, False]
    """

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self):
        values = (self.south, self.west, self.north, self.east)
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v) for v in values):
            raise ValueError(f"bounding box edges must be finite numbers; got {values}")
        if not -90 <= self.south < self.north <= 90:
            raise ValueError(
                f"bounding box needs -90 <= south < north <= 90; got south={self.south}, north={self.north}"
            )
        if not (-180 <= self.west <= 180 and -180 <= self.east <= 180) or self.west == self.east:
            raise ValueError(
                f"bounding box longitudes must lie in [-180, 180] and differ; got west={self.west}, "
                f"east={self.east} (west > east crosses the antimeridian)"
            )
        for name in ("south", "west", "north", "east"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @classmethod
    def coerce(cls, bbox) -> BoundingBox | None:
        """``None``, a ``BoundingBox``, or a (south, west, north, east) sequence as a ``BoundingBox``."""
        if bbox is None or isinstance(bbox, cls):
            return bbox
        values = tuple(bbox)
        if len(values) != 4:
            raise ValueError(f"bbox must be (south, west, north, east); got {bbox!r}")
        return cls(*values)

    @property
    def crosses_antimeridian(self) -> bool:
        return self.west > self.east

    @property
    def width_deg(self) -> float:
        """Longitude extent in degrees, counted eastwards from ``west`` to ``east``."""
        return (self.east - self.west) % 360.0 or 360.0

    def contains(self, lat, lon) -> np.ndarray:
        """Boolean mask of the points inside the box (edges included)."""
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        inside_lat = (lat >= self.south) & (lat <= self.north)
        if self.crosses_antimeridian:
            return inside_lat & ((lon >= self.west) | (lon <= self.east))
        return inside_lat & (lon >= self.west) & (lon <= self.east)


#: The whole sphere as a bounding box.
WHOLE_GLOBE = BoundingBox(south=-90.0, west=-180.0, north=90.0, east=180.0)


def validate_latlon(
    lat,
    lon,
    *,
    row_labels=None,
    wrap_longitude: bool = False,
    on_invalid: str = "raise",
    wrap_option: str | None = "wrap_longitude=True",
    names=None,
    population=None,
):
    """Check latitude/longitude in degrees and return them as float64 arrays.

    Parameters
    ----------
    lat, lon : array-like of shape (n,)
        Latitude and longitude in degrees.
    row_labels : sequence, default=None
        Labels used to name offending rows in error messages (e.g. a pandas index).
    wrap_longitude : bool, default=False
        Map any finite longitude into [-180, 180) instead of rejecting ``|lon| > 180``.
    on_invalid : {"raise", "nan"}, default="raise"
        "raise" raises ``ValueError`` naming the problem and the first offending rows.
        "nan" returns a mask of valid rows instead, so callers can emit NaN rows.
    wrap_option : str or None, default="wrap_longitude=True"
        How the caller's user asks for ``wrap_longitude``, named in the error for ``|lon| > 180``;
        None where the caller has no such option (the error then says how to wrap the column).
    names : (str, str), default=None
        The latitude and longitude columns' names, when they were read from a frame by name:
        errors name them, and a hint about swapped columns speaks of their names, not of the
        [lat, lon] order of an array, and comes only when most rows are out of range.
    population : (int, bool, bool, int), default=None
        For a caller that passes only the invalid rows of a larger table (a first pass over a
        file, which may keep only the first of them): that table's number of finite rows, whether
        all its finite longitudes are within [-90, 90], whether all its finite latitudes are within
        [-180, 180], and its number of finite rows out of range. The hints about
        swapped columns and projected coordinates are judged on it (by default on the rows given).

    Returns
    -------
    lat, lon : ndarray of float64
        Longitude 180 comes back as -180: the same meridian, so one place gets one embedding.
        (The official GeoCLIP model gives the two different embeddings.)
    valid : ndarray of bool
        All True when ``on_invalid="raise"``.
    """
    lat = np.asarray(lat, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon, dtype=np.float64).reshape(-1)
    if lat.shape != lon.shape:
        raise ValueError(f"latitude and longitude differ in length: {lat.size} vs {lon.size}")
    finite = np.isfinite(lat) & np.isfinite(lon)
    if wrap_longitude:
        lon = np.where(finite, wrapped_longitude(lon), lon)
    with np.errstate(invalid="ignore"):
        bad_lat = finite & (np.abs(lat) > 90.0)
        bad_lon = finite & (np.abs(lon) > 180.0)
    valid = finite & ~bad_lat & ~bad_lon
    lon = np.where(lon == 180.0, -180.0, lon)  # one place, one embedding
    if on_invalid == "nan" or valid.all():
        return lat, lon, valid
    if on_invalid != "raise":
        raise ValueError(f"on_invalid must be 'raise' or 'nan'; got {on_invalid!r}")

    problems = []  # every kind of problem in one error, each with its rows
    out_of_range = bad_lat | bad_lon
    if population is None:
        population = (
            int(finite.sum()),
            bool(np.all(np.abs(lon[finite]) <= 90.0)),
            bool(np.all(np.abs(lat[finite]) <= 180.0)),
            int(out_of_range.sum()),
        )
    n_finite, lon_within_90, lat_within_180, n_out_of_range = population
    if n_out_of_range > n_finite / 2 and np.median(np.abs(np.r_[lat[out_of_range], lon[out_of_range]])) > 1000:
        # most rows far beyond degrees: metres (or feet) of a projected CRS, not a typo or a wrap
        columns = "" if names is None else f" (columns {names[0]!r}, {names[1]!r})"
        problems.append(
            f"coordinates must be degrees; {n_out_of_range:,} of {n_finite:,} rows{columns} are "
            f"far outside them (median |lat| {np.median(np.abs(lat[out_of_range])):,.0f}, |lon| "
            f"{np.median(np.abs(lon[out_of_range])):,.0f}; {_describe_rows(row_labels, lat, out_of_range)}): "
            "projected coordinates, such as metres of a national CRS (EPSG:25832...)? Give them with their CRS: "
            "a GeoDataFrame (geopandas.points_from_xy(x, y, crs=...)) is reprojected; geoembed embed reads "
            "GeoParquet and GeoPackage files in their CRS, and tables' x/y columns with --crs"
        )
        raise ValueError(problems[0] + ".")
    if not finite.all():
        bad = ~finite
        shown = np.where(np.isfinite(lat), lon, lat)
        where = ""
        if names is not None:
            columns = [name for name, values in zip(names, (lat, lon)) if not np.isfinite(values).all()]
            where = f" in column{'s' if len(columns) > 1 else ''} {' and '.join(map(repr, columns))}"
        problems.append(f"coordinates must be finite (no NaN or inf); {_describe_rows(row_labels, shown, bad)}{where}")
    if bad_lat.any():
        # swapping would make every row valid: a hint for arrays; for named columns a conditional one,
        # and only when most rows are out of range (a typo in data whose longitudes lie in [-90, 90],
        # all of Europe and Africa, is not a swap)
        swap_fixes = lon_within_90 and lat_within_180
        if names is None:
            hint = (
                " The longitude column is entirely within [-90, 90]: are the columns in [lon, lat] "
                "order? Arrays must be [lat, lon]."
                if swap_fixes
                else ""
            )
            where = ""
        else:
            # (rows given may be the first invalid rows of a larger file: their share of latitudes out of
            # range, scaled to the file's count of out-of-range rows)
            most = bad_lat.sum() / max(out_of_range.sum(), 1) * n_out_of_range > n_finite / 2
            hint = (
                f" If the two columns' names are swapped (column {names[1]!r} is entirely within [-90, 90]), "
                "name them with lat_col= and lon_col=."
                if swap_fixes and most
                else ""
            )
            where = f" in column {names[0]!r}"
        problems.append(f"latitude must be in [-90, 90]; {_describe_rows(row_labels, lat, bad_lat)}{where}.{hint}")
    if bad_lon.any():
        remedy = (
            f"Pass {wrap_option} to wrap longitudes into [-180, 180)."
            if wrap_option
            else "Wrap them into [-180, 180) first: lon = (lon + 180) % 360 - 180."
        )
        where = "" if names is None else f" in column {names[1]!r}"
        problems.append(
            f"longitude must be in [-180, 180]; {_describe_rows(row_labels, lon, bad_lon)}{where}. {remedy}"
        )
    raise ValueError(" Also: ".join(p if p.endswith(".") else p + "." for p in problems))


@lru_cache(maxsize=1)
def _equal_earth_transformer():
    from pyproj import Transformer

    return Transformer.from_pipeline("+proj=eqearth +R=1")


def equal_earth(lat, lon):
    """Equal Earth projection (Šavrič et al. 2018) on the unit sphere, via PROJ.

    Parameters
    ----------
    lat, lon : array-like
        Degrees.

    Returns
    -------
    x, y : ndarray of float64
        x in about [-2.71, 2.71], y in about [-1.32, 1.32].
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    x, y = _equal_earth_transformer().transform(lon, lat)  # PROJ wants (lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def latlon_to_unit_xyz(lat, lon):
    """Unit-sphere Cartesian coordinates (x towards (0, 0), z towards the North Pole)."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    return cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km on a sphere of radius :data:`EARTH_RADIUS_KM`."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def azimuthal_equal_area(lat, lon, lat0, lon0):
    """Lambert azimuthal equal-area projection on the unit sphere, centred on (``lat0``, ``lon0``).

    Equal-area: a region's area on the unit sphere equals the area of its image, so points
    uniform in the image are uniform on the sphere. Every argument is in degrees and
    broadcasts (one centre per point is allowed). Snyder, *Map Projections: A Working Manual*
    (USGS 1987), eqs. (24-2)-(24-4).

    Returns
    -------
    x, y : ndarray of float64
        Inside the disk of radius 2 (the antipode of the centre maps to its rim).
    """
    phi, lam = np.radians(np.asarray(lat, dtype=np.float64)), np.radians(np.asarray(lon, dtype=np.float64))
    phi0, lam0 = np.radians(np.asarray(lat0, dtype=np.float64)), np.radians(np.asarray(lon0, dtype=np.float64))
    cos_c = np.sin(phi0) * np.sin(phi) + np.cos(phi0) * np.cos(phi) * np.cos(lam - lam0)
    k = np.sqrt(2.0 / np.maximum(1.0 + cos_c, 1e-300))
    x = k * np.cos(phi) * np.sin(lam - lam0)
    y = k * (np.cos(phi0) * np.sin(phi) - np.sin(phi0) * np.cos(phi) * np.cos(lam - lam0))
    return x, y


def azimuthal_equal_area_inverse(x, y, lat0, lon0):
    """Latitude and longitude (degrees, longitude in [-180, 180)) of unit-sphere Lambert
    azimuthal equal-area coordinates centred on (``lat0``, ``lon0``); NaN outside the disk of
    radius 2. The inverse of :func:`azimuthal_equal_area` (Snyder 1987, eqs. (24-16)-(24-18)).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    phi0, lam0 = np.radians(np.asarray(lat0, dtype=np.float64)), np.radians(np.asarray(lon0, dtype=np.float64))
    rho = np.hypot(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = 2.0 * np.arcsin(rho / 2.0)  # NaN beyond the rim
        sin_c, cos_c = np.sin(c), np.cos(c)
        ratio = np.where(rho > 0, y * sin_c / np.where(rho > 0, rho, 1.0), 0.0)
        phi = np.arcsin(np.clip(cos_c * np.sin(phi0) + ratio * np.cos(phi0), -1.0, 1.0))
        lam = lam0 + np.arctan2(x * sin_c, rho * np.cos(phi0) * cos_c - y * np.sin(phi0) * sin_c)
    lat = np.where(np.isnan(c), np.nan, np.degrees(phi))
    return lat, wrapped_longitude(np.degrees(lam))


def equal_area_points(rng, n: int, south: float, west: float, north: float, east: float) -> np.ndarray:
    """``n`` random (lat, lon) points, uniform by area inside a box: uniform in sin(latitude) and in
    longitude (the whole sphere with -90, -180, 90, 180).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws latitudes first, then longitudes.
    n : int
        Number of points.
    south, west, north, east : float
        The box, in degrees.

    Returns
    -------
    ndarray of shape (n, 2), float64: (lat, lon) in degrees.

    Examples
    --------
    >>> import numpy as np
    >>> points = equal_area_points(np.random.default_rng(0), 1000, 40.0, -97.0, 44.0, -90.0)
    >>> points.shape, bool((points[:, 0] >= 40).all() and (points[:, 1] <= -90).all())
    ((1000, 2), True)
    """
    sin_lat = rng.uniform(np.sin(np.radians(south)), np.sin(np.radians(north)), n)
    return np.column_stack([np.degrees(np.arcsin(sin_lat)), rng.uniform(west, east, n)])


def bilinear_grid_cells(lat, lon, step):
    """The grid nodes around each point of a regular latitude/longitude grid, and bilinear weights.

    The grid's nodes lie at every integer multiple of ``step`` degrees in latitude and in
    longitude; each point falls in one cell, and its four corners (south-west, north-west,
    south-east, north-east) carry the weights of bilinear interpolation. The nodes depend on
    ``step`` alone, never on the other points, so a value interpolated from them is a fixed
    function of the point. Nodes are not wrapped: a cell at the antimeridian or a pole has
    corners up to one step beyond 180 degrees of longitude or 90 of latitude.

    Parameters
    ----------
    lat, lon : array-like of shape (n,)
        Degrees.
    step : float
        Node spacing in degrees.

    Returns
    -------
    nodes : ndarray of shape (m, 2), float64
        The distinct corners used, (lat, lon) in degrees.
    rows : ndarray of shape (n, 4), int64
        For each point, its corners' rows in ``nodes``.
    weights : ndarray of shape (n, 4), float64
        Bilinear weights, non-negative and summing to 1; a point on a node gives that node weight 1.

    Examples
    --------
    >>> nodes, rows, weights = bilinear_grid_cells([0.25], [0.5], step=1.0)
    >>> nodes[rows[0]].tolist(), weights[0].tolist()
    ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.375, 0.125, 0.375, 0.125])
    """
    a = np.asarray(lat, dtype=np.float64) / step
    b = np.asarray(lon, dtype=np.float64) / step
    i, j = np.floor(a), np.floor(b)
    fa, fb = a - i, b - j
    # one int64 key per cell (its south-west node); |i| and |j| stay below span / 2 for any step
    span = 2 * int(np.ceil(181.0 / step)) + 4
    # hash-based (pandas), not sort-based: many points share few cells, and this is O(n)
    cell, cell_keys = pd.factorize(i.astype(np.int64) * span + j.astype(np.int64), sort=False)
    corner_keys = cell_keys[:, None] + np.array([0, span, 1, span + 1])  # SW, NW, SE, NE
    corner, node_keys = pd.factorize(corner_keys.reshape(-1), sort=False)
    node_i, node_j = np.divmod(node_keys + span // 2, span)
    nodes = np.column_stack([node_i * step, (node_j - span // 2) * step])
    weights = np.column_stack([(1 - fa) * (1 - fb), fa * (1 - fb), (1 - fa) * fb, fa * fb])
    return nodes, corner.reshape(-1, 4)[cell], weights


def grid_node_keys(nodes, step):
    """One int64 per node of :func:`bilinear_grid_cells`'s grid of ``step`` degrees, the same in every
    call (for keeping node values across calls).

    Examples
    --------
    >>> nodes, _, _ = bilinear_grid_cells([0.25, 0.75], [0.5, 0.5], step=1.0)
    >>> keys = grid_node_keys(nodes, 1.0)
    >>> len(set(keys.tolist())) == len(nodes)
    True
    """
    index = np.rint(np.asarray(nodes, dtype=np.float64) / step).astype(np.int64)
    return index[:, 0] * 2**32 + index[:, 1]  # |index| < 2**30 for any spacing interpolation_km allows
