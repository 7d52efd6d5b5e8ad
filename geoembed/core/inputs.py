"""Reading (lat, lon) out of whatever users pass: frames, arrays, lists and xarray objects.

Data frames of any kind (pandas, polars, pyarrow Tables and RecordBatches, any object with
the Arrow PyCapsule stream interface ``__arrow_c_stream__`` such as DuckDB or narwhals-backed
frames, and, as a fallback, the dataframe interchange protocol ``__dataframe__``) are read by
column name, never by position. GeoDataFrames, GeoSeries and arrays of shapely points are read
from their point geometries, reprojected from their CRS to WGS84 degrees (see
:mod:`geoembed.core.geometry`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoembed.core.geometry import is_geopandas, is_shapely_array, read_points, to_wgs84, xarray_crs

__all__ = [
    "check_input_features",
    "LAT_NAMES",
    "LON_NAMES",
    "X_NAMES",
    "Y_NAMES",
    "Coordinates",
    "broadcast_latlon",
    "is_xarray",
    "read_coordinates",
    "to_xarray",
]

#: Column names recognised as latitude, in any case.
LAT_NAMES = ("lat", "latitude")
#: Column names recognised as longitude, in any case.
LON_NAMES = ("lon", "lng", "long", "longitude")
#: Coordinate names (any case) or CF standard names recognised as projected x and y.
X_NAMES = ("x", "easting", "projection_x_coordinate")
Y_NAMES = ("y", "northing", "projection_y_coordinate")


@dataclass
class Coordinates:
    """Coordinates read from an input, plus what is needed to shape the output like it."""

    lat: np.ndarray  # float64 (n,)
    lon: np.ndarray  # float64 (n,)
    row_labels: object = None  # pandas index (or None) for error messages
    grid: object = None  # xarray template: (dims, shape, coords) when the input was a grid
    one_column: bool = False  # one column of geometries (a GeoSeries or an array of shapely points)
    no_geometry: object = None  # bool mask of missing or empty geometries (point geometry inputs only)
    names: tuple | None = None  # the (latitude, longitude) columns' names, when read from a frame by name
    unprojectable: object = None  # bool mask of points whose CRS could not reproject them (geometry inputs)

    def __len__(self) -> int:
        return self.lat.size


def is_xarray(X) -> bool:
    """An xarray Dataset or DataArray."""
    return type(X).__module__.startswith("xarray.")


def _find_column(columns, names, what: str, explicit, hint: str | None = None) -> object:
    """The column holding ``what``; ``hint`` spells the option that names it (default ``lat_col=...``)."""
    hint = hint or f"{what[:3]}_col=..."
    if explicit is not None:
        if explicit not in columns:
            cased = [
                c for c in columns if isinstance(c, str) and isinstance(explicit, str) and c.lower() == explicit.lower()
            ]
            maybe = f" (did you mean {cased[0]!r}? names are matched exactly)" if cased else ""
            raise ValueError(
                f"{what} column {explicit!r} not found (given as {hint.split()[0].rstrip('=.')}){maybe}; "
                f"columns are {list(columns)}"
            )
        return explicit
    matches = [c for c in columns if isinstance(c, str) and c.strip().lower() in names]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        if not any(isinstance(c, str) for c in columns):
            remedy = "pass the values as an array of [lat, lon] (frame.to_numpy()) or give the columns names"
        else:
            remedy = f"Name it explicitly with {hint}"
        projected = [c for c in columns if isinstance(c, str) and c.strip().lower() in (*X_NAMES, *Y_NAMES)]
        if projected and names in (LAT_NAMES, LON_NAMES):
            how = (
                "pass their CRS with --crs (e.g. --crs EPSG:25832)"
                if hint.startswith("--")
                else "give them with their CRS, as a GeoDataFrame (geopandas.points_from_xy(x, y, crs=...)), "
                "which is reprojected to degrees"
            )
            remedy += f"; columns {projected} look like projected coordinates: {how}"
        raise ValueError(
            f"no {what} column found; expected one named like {list(names)} (any case), "
            f"got columns {list(columns)}. {remedy[0].upper()}{remedy[1:]}"
        )
    raise ValueError(f"ambiguous {what} columns {matches}; choose one with {hint}")


def find_latlon_columns(columns, *, lat_col=None, lon_col=None, hints=(None, None)) -> tuple:
    """The (latitude, longitude) column names among ``columns``, found as :func:`read_coordinates` finds them.

    ``hints`` spell the options that name the columns in errors, e.g. ``("--lat-col", "--lon-col")``
    on the command line (default ``lat_col=...``/``lon_col=...``). Raises ``ValueError`` for a
    missing or ambiguous column.
    """
    columns = list(columns)
    return (
        _find_column(columns, LAT_NAMES, "latitude", lat_col, hints[0]),
        _find_column(columns, LON_NAMES, "longitude", lon_col, hints[1]),
    )


def find_xy_columns(columns, *, x_col=None, y_col=None, hints=(None, None)) -> tuple:
    """The (x, y) column names of projected coordinates among ``columns``: named x/easting and
    y/northing (any case, :data:`X_NAMES`, :data:`Y_NAMES`), or given as ``x_col``/``y_col``.

    ``hints`` spell the options that name the columns in errors (default ``x_col=...``/``y_col=...``).
    Raises ``ValueError`` for a missing or ambiguous column.
    """
    columns = list(columns)
    return (
        _find_column(columns, X_NAMES, "projected x", x_col, hints[0] or "x_col=..."),
        _find_column(columns, Y_NAMES, "projected y", y_col, hints[1] or "y_col=..."),
    )


def read_valid_latlon(X, *, lat_col=None, lon_col=None, wrap_longitude: bool = False) -> tuple:
    """Latitude and longitude of ``X`` (read as :func:`read_coordinates` reads it), every row
    valid, or a ``ValueError`` naming the columns and the rows (:func:`~geoembed.core.geo.validate_latlon`):
    for estimators that need every row, such as a location prior or spatial folds.
    """
    from geoembed.core.geo import validate_latlon

    coords = read_coordinates(X, lat_col=lat_col, lon_col=lon_col)
    lat, lon, _ = validate_latlon(
        coords.lat, coords.lon, row_labels=coords.row_labels, wrap_longitude=wrap_longitude, names=coords.names
    )
    return lat, lon


def numeric_values(values, label: str, row_labels) -> np.ndarray:
    """``values`` as float64 degrees or metres, or a ``ValueError`` naming ``label`` and the rows
    (their ``row_labels``, else positions) that hold non-numbers or booleans.
    """
    values = np.asarray(values)
    if values.dtype.kind == "b" or (values.dtype.kind == "O" and any(isinstance(v, (bool, np.bool_)) for v in values)):
        raise ValueError(f"{label} holds booleans (True/False), not degrees; convert it to numbers first")
    if values.dtype.kind in "iuf":
        return values.astype(np.float64, copy=False)
    if values.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {label} must be real numbers")
    converted = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(converted) & ~pd.isna(values)
    if bad.any():
        where = np.flatnonzero(bad)[:5]
        names = [row_labels[i] if row_labels is not None else int(i) for i in where]
        names = [n.item() if isinstance(n, np.generic) else n for n in names]  # [6], not [np.int64(6)]
        shown = ", ".join(repr(values[i].item() if isinstance(values[i], np.generic) else values[i]) for i in where)
        more = f" (and {int(bad.sum()) - len(where)} more)" if bad.sum() > len(where) else ""
        hint = ""
        text = [str(values[i]) for i in where]
        if any("°" in t or "'" in t or '"' in t for t in text):
            hint = "; write degrees as decimal numbers (48.85, not 48°51')"
        elif any(re.fullmatch(r"\s*[+-]?\d*,\d+\s*", t) for t in text):
            hint = "; these look like decimal commas: read the file with decimal=',' (pd.read_csv(..., decimal=','))"
        raise ValueError(f"{label} must be numeric; rows {names}{more} have {shown}{hint}")
    return converted


def read_coordinates(X, *, lat_col=None, lon_col=None) -> Coordinates:
    """Extract latitude and longitude (degrees) from ``X``.

    - pandas DataFrame: columns found by name (lat/latitude, lon/lng/long/longitude, any case)
      or given explicitly by ``lat_col``/``lon_col``; other columns are ignored.
    - array-like of shape (n, 2): columns in **[lat, lon]** order.
    - xarray DataArray/Dataset: ``lat``/``latitude`` and ``lon``/``longitude`` coordinates,
      1-D (a regular grid, broadcast) or 2-D (a curvilinear grid); or, without them, projected
      ``x``/``y`` coordinates (cell centres) with a CRS (rioxarray's ``.rio.crs`` or a CF
      ``grid_mapping`` variable), reprojected to WGS84.
    - geopandas GeoDataFrame or GeoSeries of points, in any CRS (reprojected to WGS84; a
      GeoDataFrame is read from its columns instead when ``lat_col``/``lon_col`` are given),
      and lists or arrays of shapely points, read as (x, y) = (lon, lat) degrees.
    """
    if (is_geopandas(X) and lat_col is None and lon_col is None) or is_shapely_array(X):
        lat, lon, data = read_points(X)
        return Coordinates(
            lat=lat,
            lon=lon,
            row_labels=data.row_labels,
            one_column=not data.is_frame,
            no_geometry=data.missing,
            unprojectable=data.unprojectable,
        )
    if isinstance(X, pd.DataFrame):
        return _read_frame(list(X.columns), lambda name: X[name].to_numpy(), X.index, lat_col, lon_col)
    if type(X).__module__.startswith("dask") and hasattr(X, "map_partitions"):
        raise TypeError(
            "this reads coordinates in memory, and a dask DataFrame is not in memory: apply a fitted transformer "
            "to it partition by partition, ddf.map_partitions(transformer.set_output(transform='pandas').transform), "
            "or compute() it first (a featurizer's own transform takes a dask DataFrame as it is)"
        )
    frame = _other_frame(X)
    if frame is not None:
        columns, column_values = frame
        return _read_frame(columns, column_values, None, lat_col, lon_col)
    if is_xarray(X):
        return _read_xarray(X, lat_col=lat_col, lon_col=lon_col)
    if type(X).__name__ == "LazyFrame" and hasattr(X, "collect"):
        raise TypeError("a polars LazyFrame is a query, not rows: collect() it first (X.collect())")
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError("sparse input is not supported; pass a dense (n, 2) array of [lat, lon]")
    array = np.asarray(X)
    if array.dtype.kind == "c":
        raise ValueError("Complex data not supported: coordinates must be real numbers in degrees")
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 2)
    if array.ndim != 2:
        if array.dtype == object and any(type(v).__module__.startswith("shapely") for v in array.ravel()[:1000]):
            raise TypeError(
                f"a plain {type(X).__name__} of shapely geometries carries no CRS: make it a GeoSeries or "
                "GeoDataFrame with its CRS (geopandas.GeoSeries(values, crs=...))"
            )
        raise ValueError(f"expected a 2-D array of shape (n, 2) with [lat, lon] columns; got shape {array.shape}")
    if array.shape[1] != 2:
        # scikit-learn's wording for too few columns (its estimator checks read it); exactly 2 otherwise
        needed = "a minimum of 2 is required" if array.shape[1] < 2 else "exactly 2 are read"
        raise ValueError(
            f"expected 2 columns [lat, lon]; found array with {array.shape[1]} feature(s) "
            f"(shape={array.shape}) while {needed}. "
            "Use a DataFrame with named lat/lon columns to pass extra columns."
        )
    return Coordinates(
        lat=numeric_values(array[:, 0], "latitude (column 0)", None),
        lon=numeric_values(array[:, 1], "longitude (column 1)", None),
    )


def _read_frame(columns, column_values, index, lat_col, lon_col) -> Coordinates:
    lat_name = _find_column(columns, LAT_NAMES, "latitude", lat_col)
    lon_name = _find_column(columns, LON_NAMES, "longitude", lon_col)
    return Coordinates(
        lat=numeric_values(column_values(lat_name), f"latitude column {lat_name!r}", index),
        lon=numeric_values(column_values(lon_name), f"longitude column {lon_name!r}", index),
        row_labels=index,
        names=(lat_name, lon_name),
    )


def _other_frame(X):
    """(column names, name -> numpy values) for non-pandas data frames, or None for non-frames."""
    module = type(X).__module__
    if module.startswith("polars") and hasattr(X, "get_column"):
        return list(X.columns), lambda name: X.get_column(name).to_numpy()
    if module.startswith("pyarrow") and hasattr(X, "column_names"):
        return list(X.column_names), lambda name: X.column(name).to_numpy(zero_copy_only=False)
    if hasattr(X, "__arrow_c_stream__") and not isinstance(X, np.ndarray) and not is_xarray(X):
        import pyarrow

        try:  # Arrow PyCapsule frames; arrays and series that stream Arrow are not tables
            table = pyarrow.table(X)
        except (TypeError, ValueError):
            table = None
        if table is not None:
            return list(table.column_names), lambda name: table.column(name).to_numpy(zero_copy_only=False)
    if hasattr(X, "__dataframe__") and not isinstance(X, np.ndarray):  # deprecated by pandas (removal in 4)
        from pandas.api.interchange import from_dataframe

        converted = from_dataframe(X, allow_copy=True)
        return list(converted.columns), lambda name: converted[name].to_numpy()
    return None


def _find_coord(obj, names, explicit, what):
    if explicit is not None:
        if explicit not in obj.coords:
            raise ValueError(f"{what} coordinate {explicit!r} not found; coordinates are {list(obj.coords)}")
        return obj.coords[explicit]
    matches = [c for c in obj.coords if str(c).lower() in names]
    if len(matches) != 1:
        raise ValueError(
            f"expected one {what} coordinate named like {list(names)}; found {matches or 'none'} "
            f"among {list(obj.coords)}"
        )
    return obj.coords[matches[0]]


def broadcast_latlon(X, *, lat_col=None, lon_col=None):
    """The latitude and longitude coordinates of an xarray object, broadcast to one grid."""
    import xarray as xr

    lat = _find_coord(X, LAT_NAMES, lat_col, "latitude")
    lon = _find_coord(X, LON_NAMES, lon_col, "longitude")
    lat_b, lon_b = xr.broadcast(lat, lon)
    return lat_b, lon_b.transpose(*lat_b.dims)


def _projected_axis(X, names):
    found = [
        c
        for c in X.coords
        if X.coords[c].ndim == 1
        and (str(c).lower() in names or str(X.coords[c].attrs.get("standard_name", "")).lower() in names)
    ]
    return X.coords[found[0]] if len(found) == 1 else None


def _read_projected_grid(X):
    """Cell centres of a grid on projected x/y coordinates with a CRS, or None when it has none."""
    import xarray as xr

    x, y = _projected_axis(X, X_NAMES), _projected_axis(X, Y_NAMES)
    if x is None or y is None:
        return None
    crs = xarray_crs(X)
    if crs is None:
        raise ValueError(
            f"the grid has projected coordinates {x.name!r} and {y.name!r} but no CRS to read them with. Add a CF "
            "grid mapping (a variable with a crs_wkt attribute, named by the data's grid_mapping attribute), or "
            "with rioxarray: grid.rio.write_crs('EPSG:...'); or give latitude/longitude coordinates"
        )
    y_b, x_b = xr.broadcast(y, x)
    x_b = x_b.transpose(*y_b.dims)
    lon, lat = to_wgs84(x_b.values.reshape(-1), y_b.values.reshape(-1), crs)
    dims, shape = y_b.dims, y_b.shape
    coords = {x.name: x, y.name: y, "lat": (dims, lat.reshape(shape)), "lon": (dims, lon.reshape(shape))}
    for name, coord in X.coords.items():  # keep the grid mapping (a scalar coordinate such as spatial_ref)
        if coord.ndim == 0 and {"crs_wkt", "spatial_ref", "grid_mapping_name"} & set(coord.attrs):
            coords[name] = coord
    return Coordinates(
        lat=numeric_values(lat, "latitude of the projected grid", None),
        lon=numeric_values(lon, "longitude of the projected grid", None),
        grid=(dims, shape, coords),
    )


def _has_latlon(X) -> bool:
    names = [str(c).lower() for c in X.coords]
    return any(n in LAT_NAMES for n in names) or any(n in LON_NAMES for n in names)


def _read_xarray(X, *, lat_col, lon_col) -> Coordinates:
    if lat_col is None and lon_col is None and not _has_latlon(X):
        projected = _read_projected_grid(X)
        if projected is not None:
            return projected
    lat_b, lon_b = broadcast_latlon(X, lat_col=lat_col, lon_col=lon_col)
    dims = lat_b.dims
    coords = {name: c for name, c in lat_b.coords.items()}
    coords.update({name: c for name, c in lon_b.coords.items() if name not in coords})
    return Coordinates(
        lat=numeric_values(lat_b.values.reshape(-1), "latitude coordinate", None),
        lon=numeric_values(lon_b.values.reshape(-1), "longitude coordinate", None),
        grid=(dims, lat_b.shape, coords),
    )


def to_xarray(values: np.ndarray, grid, feature_names) -> xarray.DataArray:  # noqa: F821
    """Reshape (n_points, k) features into a DataArray over the input's grid."""
    import xarray as xr

    dims, shape, coords = grid
    return xr.DataArray(
        values.reshape(*shape, values.shape[1]),
        dims=(*dims, "feature"),
        coords={**coords, "feature": np.asarray(feature_names, dtype=object)},
        name="embedding",
    )


def check_input_features(estimator, input_features) -> None:
    """Refuse ``input_features`` that do not name the fitted input, as scikit-learn's transformers do.

    For ``get_feature_names_out(input_features)``: None passes; otherwise the names must equal
    ``feature_names_in_`` when the estimator saw names, or count ``n_features_in_``.
    """
    if input_features is None:
        return
    given = np.asarray(input_features, dtype=object)
    seen = getattr(estimator, "feature_names_in_", None)
    if seen is not None and (given.shape != seen.shape or not (given == seen).all()):
        raise ValueError(f"input_features is not equal to feature_names_in_: {list(given)} against {list(seen)}")
    n_features = getattr(estimator, "n_features_in_", None)
    if seen is None and n_features is not None and len(given) != n_features:
        raise ValueError(
            f"input_features should have length equal to number of features ({n_features}), got {len(given)}"
        )
