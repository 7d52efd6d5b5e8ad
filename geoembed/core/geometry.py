"""Geometries as inputs: geopandas frames and series, shapely arrays, and coordinate reference systems.

Reads points (and, for the region embedder, any geometry) out of a GeoDataFrame, a GeoSeries or
an array of shapely geometries, and reprojects them to longitude/latitude degrees on WGS84 with
pyproj (``always_xy=True``, so the axis order is (x, y) = (lon, lat) whatever the CRS's own).
geopandas is never imported here: its objects are recognised by their module and attributes,
so the package works without it. shapely is imported only once such an input arrived (it
comes with geopandas).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "GeometryInput",
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

    return CRS.from_user_input(crs)


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


def to_wgs84(x, y, crs):
    """Longitude and latitude (degrees, WGS84) of ``x``, ``y`` in ``crs`` (float64; NaN stays NaN).

    Parameters
    ----------
    x, y : array-like
        Coordinates in the CRS's (x, y) = (easting, northing) or (lon, lat) order, as geopandas
        and shapely store them.
    crs : pyproj.CRS, str, int or None
        None or WGS84 (EPSG:4326, OGC:CRS84) returns the input unchanged.

    Returns
    -------
    lon, lat : ndarray of float64
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if crs is None:
        return x, y
    crs = check_crs(crs)
    if _is_wgs84(crs):
        return x, y
    lon, lat = _transformer(crs.to_wkt()).transform(x, y)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    failed = finite & ~(np.isfinite(lon) & np.isfinite(lat))
    if failed.any():
        raise ValueError(
            f"coordinates outside the area where {crs.name!r} is defined: {int(failed.sum())} point(s) "
            "could not be reprojected to longitude/latitude"
        )
    return lon, lat


def read_points(X, *, what: str = "input"):
    """(lat, lon, GeometryInput) of point geometries in any CRS, in WGS84 degrees.

    Missing (None) and empty geometries come out as NaN, the invalid rows of the featurizers
    (``on_invalid`` decides). Other geometry types raise ``ValueError`` naming the rows and
    the region embedder.
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
    lon, lat = to_wgs84(x, y, data.crs)
    data.missing = missing
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
