"""Geometries as inputs: geopandas frames and series, shapely arrays, and coordinate reference systems.

Reads points (and, for the region embedder, any geometry) out of a GeoDataFrame, a GeoSeries or
an array of shapely geometries, and reprojects them to longitude/latitude degrees on WGS84 with
pyproj (``always_xy=True``, so the axis order is (x, y) = (lon, lat) whatever the CRS's own).
geopandas is never imported here: its objects are recognised by their module and attributes,
so the package works without it. shapely is imported only once such an input arrived (it
comes with geopandas).
"""

from __future__ import annotations

import contextvars
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from geoembed.core.utils import caller_stacklevel

__all__ = [
    "AREA_JUDGED_BY_CALLER",
    "AreaOfUseCheck",
    "GeometryInput",
    "check_area_of_use",
    "check_crs",
    "is_geopandas",
    "is_shapely_array",
    "read_geometries",
    "read_points",
    "to_wgs84",
    "xarray_crs",
]

_MAX_ROWS = 5
_POINT = 0  # shapely.GeometryType.POINT


@dataclass
class GeometryInput:
    """Geometries read from an input: shapely objects, their CRS and the row labels."""

    geometries: np.ndarray  # object (n,) of shapely geometries or None
    crs: object  # pyproj.CRS, or None for plain shapely arrays (read as lon/lat degrees)
    row_labels: object = None  # pandas index of a frame or series, else None
    is_frame: bool = False  # a GeoDataFrame (2-D, has columns) rather than a series or an array
    missing: object = None  # bool mask of missing or empty geometries, set by read_points
    unprojectable: object = None  # bool mask of points that could not be reprojected, set by read_points


def is_geopandas(X) -> bool:
    """A geopandas GeoDataFrame or GeoSeries (recognised without importing geopandas)."""
    return type(X).__module__.startswith("geopandas") and hasattr(X, "geometry") and hasattr(X, "crs")


def _is_geometry(value) -> bool:
    return type(value).__module__.startswith("shapely")


def is_shapely_array(X) -> bool:
    """A list, tuple or 1-D object array whose non-missing items are shapely geometries."""
    if isinstance(X, (list, tuple)):
        items = X
    elif isinstance(X, np.ndarray) and X.dtype.kind == "O" and X.ndim == 1:
        items = X
    else:
        return False
    present = [v for v in items if v is not None]
    return bool(present) and all(_is_geometry(v) for v in present)


def _rows(labels, mask) -> list:
    where = np.flatnonzero(mask)[:_MAX_ROWS]
    names = [labels[i] if labels is not None else int(i) for i in where]
    names = [n.item() if isinstance(n, np.generic) else n for n in names]
    more = int(mask.sum()) - len(names)
    return names if more <= 0 else [*names, f"... and {more} more"]


def check_crs(crs, what: str = "the GeoDataFrame"):
    """The pyproj CRS of ``crs``, or a ``ValueError`` that says how to set a missing one."""
    if crs is None:
        raise ValueError(
            f"{what} has no CRS, so its coordinates cannot be read as places on Earth. Set the CRS its "
            "coordinates are in with gdf.set_crs(...) (e.g. gdf.set_crs(4326) for longitude/latitude "
            "degrees, gdf.set_crs(32633) for UTM 33N metres), or reproject with gdf.to_crs(4326)"
        )
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    if crs.is_geocentric:  # x, y, z from the Earth's centre: x and y alone are no place
        raise ValueError(
            f"{what} is in a geocentric CRS ({crs.name}, x/y/z metres from the Earth's centre), whose x and y "
            "alone are no place on Earth: reproject its 3-D points to longitude/latitude first "
            "(gdf.to_crs(4979), then gdf.set_crs(4326, allow_override=True))"
        )
    return crs


def read_geometries(X, *, what: str = "input") -> GeometryInput:
    """The geometries, CRS and row labels of a GeoDataFrame, GeoSeries or shapely array.

    A GeoDataFrame or GeoSeries must have a CRS. A plain array of shapely geometries carries
    none and is read as longitude/latitude degrees (x = lon, y = lat), as GeoJSON is.
    """
    if is_geopandas(X):
        geometry = X.geometry
        crs = check_crs(geometry.crs, f"the {type(X).__name__} ({what})")
        return GeometryInput(
            geometries=np.asarray(geometry.array, dtype=object),
            crs=crs,
            row_labels=X.index,
            is_frame=hasattr(X, "columns"),
        )
    if is_shapely_array(X):
        return GeometryInput(geometries=np.asarray(list(X), dtype=object).reshape(-1), crs=None)
    raise TypeError(f"expected a GeoDataFrame, a GeoSeries or an array of shapely geometries; got {type(X).__name__}")


@lru_cache(maxsize=16)
def _transformer(crs_wkt: str):
    from pyproj import Transformer

    return Transformer.from_crs(crs_wkt, "EPSG:4326", always_xy=True)


def _is_wgs84(crs) -> bool:
    from pyproj import CRS

    return crs.equals(CRS.from_epsg(4326), ignore_axis_order=True) or crs.to_epsg() == 4326


def to_wgs84(x, y, crs, *, row_labels=None, owner=None, on_failure: str = "raise", check_area: bool = True):
    """Longitude and latitude (degrees, WGS84) of ``x``, ``y`` in ``crs`` (float64; NaN stays NaN).

    Parameters
    ----------
    x, y : array-like
        Coordinates in the CRS's (x, y) = (easting, northing) or (lon, lat) order, as geopandas
        and shapely store them.
    crs : pyproj.CRS, str, int or None
        None or WGS84 (EPSG:4326, OGC:CRS84) returns the input unchanged.
    row_labels : sequence, default=None
        Labels naming the rows in errors (e.g. a pandas index); positions otherwise.
    owner : array-like of int, default=None
        The row of each coordinate, when rows have several (the vertices of polygons); by
        default coordinate ``i`` is row ``i``.
    on_failure : {"raise", "nan"}, default="raise"
        Finite coordinates that cannot be reprojected (outside the area where the CRS is
        defined, e.g. ``Point(1e12, 1e12)`` in a UTM zone): "raise" raises ``ValueError``
        naming their rows; "nan" returns NaN for them.
    check_area : bool, default=True
        Apply :func:`check_area_of_use` to these coordinates; False for a caller that judges a
        whole file's chunks together (:class:`AreaOfUseCheck`).

    Returns
    -------
    lon, lat : ndarray of float64

    Raises
    ------
    ValueError
        Coordinates that cannot be reprojected (with ``on_failure="raise"``), or that do not
        look like coordinates in a projected ``crs``: most of them far outside the CRS's area
        of use, or most of them longitude/latitude degrees inside it (see
        :func:`check_area_of_use`).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if crs is None:
        return x, y
    crs = check_crs(crs)
    if _is_wgs84(crs):
        return x, y
    wkt = crs.to_wkt()
    lon, lat = _transformer(wkt).transform(x, y)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    failed = finite & ~(np.isfinite(lon) & np.isfinite(lat))
    if failed.any():
        if on_failure == "raise":
            rows = _rows(row_labels, _per_row(failed, owner))
            raise ValueError(
                f"coordinates outside the area where {crs.name!r} is defined: {int(failed.sum())} point(s) "
                f"could not be reprojected to longitude/latitude, in rows {rows}. Check these rows' coordinates "
                "and the CRS they are labelled with"
            )
        lon = np.where(failed, np.nan, lon)
        lat = np.where(failed, np.nan, lat)
    if check_area and not AREA_JUDGED_BY_CALLER.get():
        check_area_of_use(x, y, lon, lat, crs, row_labels=row_labels, owner=owner, _wkt=wkt)
    return lon, lat


#: True while a caller that judged a whole file's area of use (:class:`AreaOfUseCheck`, the first
#: pass of :func:`geoembed.geofiles.embed_geofile`) embeds it chunk by chunk: the chunks are not
#: judged again one by one, so that the run does not depend on how the file is cut.
AREA_JUDGED_BY_CALLER = contextvars.ContextVar("geoembed_area_judged_by_caller", default=False)


def _per_row(mask, owner):
    """``mask`` over coordinates as a mask over rows (a row is flagged when any of its coordinates is)."""
    if owner is None:
        return mask
    owner = np.asarray(owner)
    n = int(owner.max()) + 1 if owner.size else 0
    return np.bincount(owner[mask], minlength=n) > 0


@lru_cache(maxsize=16)
def _area_of_use(crs_wkt: str):
    from pyproj import CRS

    crs = CRS.from_wkt(crs_wkt)
    area = crs.area_of_use if crs.is_projected else None
    return None if area is None else tuple(float(v) for v in area.bounds)


def _inside(lon, lat, bounds, margin_fraction: float, min_margin: float):
    """Whether (lon, lat) lies in the area (west, south, east, north), widened by a margin on each side.

    The margin is ``margin_fraction`` of the area's width (height), at least ``min_margin``
    degrees. An area whose west edge is east of its east edge crosses the antimeridian.
    """
    west, south, east, north = bounds
    width = (east - west) % 360.0 or (360.0 if east != west else 0.0)
    lon_margin = max(min_margin, margin_fraction * width)
    lat_margin = max(min_margin, margin_fraction * (north - south))
    in_lat = (lat >= south - lat_margin) & (lat <= north + lat_margin)
    if width + 2 * lon_margin >= 360.0 or south - lat_margin <= -90.0 and north + lat_margin >= 90.0:
        return in_lat
    offset = (lon - west) % 360.0  # east of the west edge, in [0, 360)
    in_lon = (offset <= width + lon_margin) | (offset >= 360.0 - lon_margin)
    return in_lat & in_lon


def check_area_of_use(x, y, lon, lat, crs, *, row_labels=None, owner=None, _wkt=None) -> None:
    """Refuse coordinates that are not what their projected CRS says, before anything is embedded.

    A frame labelled with a projected CRS but holding longitude/latitude degrees (e.g.
    ``Point(9, 51)`` labelled EPSG:25832) would otherwise be embedded near the CRS's false
    origin, silently. Two signs give it away, each judged on the majority of the points, so
    that a few stray points never raise:

    - most reprojected points lie far outside the CRS's area of use (``pyproj.CRS.area_of_use``,
      widened on each side by half its size, at least 10 degrees: legitimate data near the edges,
      or a whole country in one UTM zone, stays well inside);
    - most raw coordinates, read as longitude/latitude degrees, fall inside that area.

    CRSs without an area of use, and geographic CRSs, are not checked.

    Parameters
    ----------
    x, y : ndarray of float64
        The coordinates in ``crs``.
    lon, lat : ndarray of float64
        The same reprojected to WGS84 degrees (NaN where unknown).
    crs : pyproj.CRS
    row_labels, owner : optional
        As in :func:`to_wgs84`, to name the rows.

    Raises
    ------
    ValueError
        Naming the CRS, its area of use and the first rows concerned.
    """
    check = AreaOfUseCheck(crs, _wkt=_wkt)
    check.add(x, y, lon, lat, row_labels=row_labels, owner=owner)
    check.verdict()


class AreaOfUseCheck:
    """:func:`check_area_of_use` over the chunks of a file: counts added chunk by chunk, one verdict
    for the whole (so that it does not depend on how the file is cut).

    Parameters
    ----------
    crs : pyproj.CRS
        The CRS the coordinates are labelled with.
    """

    def __init__(self, crs, *, _wkt=None):
        self.crs = crs
        self.bounds = _area_of_use(_wkt if _wkt is not None else crs.to_wkt())
        self.known = self.far = self.degrees = 0
        self.examples = {"far": [], "degrees": []}  # the first few rows of each kind

    def add(self, x, y, lon, lat, *, row_labels=None, owner=None) -> AreaOfUseCheck:
        """Count one chunk's coordinates (``x``, ``y`` in the CRS; ``lon``, ``lat`` reprojected)."""
        if self.bounds is None:
            return self
        known = np.isfinite(lon) & np.isfinite(lat)
        far = known & ~_inside(lon, lat, self.bounds, 0.5, 10.0)
        with np.errstate(invalid="ignore"):
            degrees = known & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
        degrees &= _inside(x, y, self.bounds, 0.0, 0.0)
        self.known += int(known.sum())
        for kind, mask in (("far", far), ("degrees", degrees)):
            setattr(self, kind, getattr(self, kind) + int(mask.sum()))
            if len(self.examples[kind]) < _MAX_ROWS and mask.any():
                rows = [r for r in _rows(row_labels, _per_row(mask, owner)) if not str(r).startswith("... and")]
                self.examples[kind] = (self.examples[kind] + rows)[:_MAX_ROWS]
        return self

    def verdict(self) -> None:
        """Raise ``ValueError`` when most coordinates counted are not what the CRS says."""
        if self.bounds is None or self.known == 0:
            return
        if 2 * self.far > self.known:
            problem, rows = "most points lie far outside its area of use", self.examples["far"]
        elif 2 * self.degrees > self.known:
            problem, rows = (
                "most coordinates are longitude/latitude degrees inside its area of use",
                self.examples["degrees"],
            )
        else:
            return
        west, south, east, north = self.bounds
        crs = self.crs
        code = crs.to_string() if crs.to_epsg() is not None else "a custom CRS"
        raise ValueError(
            f"the coordinates do not look like {crs.name!r} ({code}), the CRS they are labelled with: {problem} "
            f"(longitude {west:g} to {east:g}, latitude {south:g} to {north:g}), e.g. rows {rows}. Coordinates in "
            "longitude/latitude degrees must be labelled as such (gdf.set_crs(4326, allow_override=True)); "
            "otherwise set the CRS they are really in"
        )


def read_points(X, *, what: str = "input"):
    """(lat, lon, GeometryInput) of point geometries in any CRS, in WGS84 degrees.

    Missing (None) and empty geometries come out as NaN, the invalid rows of the featurizers
    (``on_invalid`` decides). So do points that cannot be reprojected (outside the area where
    their CRS is defined, e.g. ``Point(1e12, 1e12)`` in a UTM zone): a ``UserWarning`` names
    their rows and the CRS, and ``GeometryInput.unprojectable`` marks them. Other geometry
    types raise ``ValueError`` naming the rows and the region embedder; so do coordinates
    that do not look like their projected CRS (see :func:`check_area_of_use`).
    """
    import shapely

    data = read_geometries(X, what=what)
    geoms = data.geometries
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    not_point = ~missing & (types != _POINT)
    if not_point.any():
        kinds = sorted({type(g).__name__ for g in geoms[not_point]})
        raise ValueError(
            f"points are needed, but rows {_rows(data.row_labels, not_point)} hold {', '.join(kinds)} "
            "geometries. Embed areas with geoembed.RegionEmbedder (it samples points inside each "
            "region), or reduce them to points first with gdf.representative_point() or gdf.centroid"
        )
    x = np.full(geoms.size, np.nan)
    y = np.full(geoms.size, np.nan)
    x[~missing] = shapely.get_x(geoms[~missing])
    y[~missing] = shapely.get_y(geoms[~missing])
    if data.crs is None:
        finite = np.isfinite(x) & np.isfinite(y)
        if finite.any() and np.all((np.abs(x[finite]) > 360) | (np.abs(y[finite]) > 90)):
            raise ValueError(
                "shapely geometries carry no CRS and are read as (x, y) = (longitude, latitude) in degrees, "
                "but these coordinates are not degrees (every point lies outside [-360, 360] x [-90, 90]). "
                "Wrap them in a GeoSeries with their CRS: geopandas.GeoSeries(points, crs='EPSG:...')"
            )
    lon, lat = to_wgs84(x, y, data.crs, row_labels=data.row_labels, on_failure="nan")
    failed = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(lon) & np.isfinite(lat))
    if failed.any():
        warnings.warn(
            f"{int(failed.sum())} point(s) in rows {_rows(data.row_labels, failed)} lie outside the area where "
            f"{data.crs.name!r} is defined and could not be reprojected to longitude/latitude; they are invalid "
            "rows (NaN coordinates): on_invalid='raise' refuses them, on_invalid='nan' gives them NaN rows",
            UserWarning,
            stacklevel=caller_stacklevel(),  # the user's line, through fit_transform and pipelines
        )
    data.missing = missing
    data.unprojectable = failed
    return lat, lon, data


def xarray_crs(X):
    """The CRS of an xarray object, or None: rioxarray's ``.rio.crs`` when rioxarray is loaded,
    else the CF grid mapping (the variable named by a ``grid_mapping`` attribute, or a
    ``spatial_ref``/``crs`` coordinate) through its ``crs_wkt`` or ``spatial_ref`` attribute or
    its CF parameters (``pyproj.CRS.from_cf``).
    """
    from pyproj import CRS

    try:
        rio_crs = X.rio.crs  # only where rioxarray registered its accessor
    except AttributeError:
        rio_crs = None
    except Exception:  # noqa: BLE001 - rioxarray raises its own errors for odd metadata
        rio_crs = None
    if rio_crs is not None:
        return CRS.from_user_input(rio_crs)
    names = [X.attrs.get("grid_mapping")]
    data_vars = getattr(X, "data_vars", {})
    names += [data_vars[v].attrs.get("grid_mapping") for v in data_vars]
    names += ["spatial_ref", "crs"]
    variables = getattr(X, "variables", None) or X.coords
    for name in names:
        if not name or name not in variables:
            continue
        attrs = variables[name].attrs
        text = attrs.get("crs_wkt") or attrs.get("spatial_ref")
        if text:
            return CRS.from_user_input(text)
        if "grid_mapping_name" in attrs:
            return CRS.from_cf(dict(attrs))
    return None
