"""Out-of-core and distributed transforms: dask DataFrames and dask-backed xarray objects.

Dask is optional (``pip install "geoembed-toolkit[dask]"``). The fitted featurizer is shipped to
workers pickled, without its weights (GeoEmbedder pickles hold none), and unpickled once per
worker process and call of :func:`transform_dask`, not once per partition: each process loads
the weights once, and what the featurizer keeps from call to call (the grid nodes of
``interpolation_km``) serves every partition that process runs. A worker process keeps the last
two calls' featurizers, with those nodes (two transforms in one graph alternate on a worker); in the
process that made the call (Dask's threaded scheduler) the partitions use the featurizer itself, no
copy. The output keeps the input's index (name and dtype in its metadata, which ``to_parquet``
needs); a bad row fails its partition with an error naming the partition and the row's label.
"""

from __future__ import annotations

import uuid
import warnings
import weakref

import numpy as np
import pandas as pd

from geoembed.core.geo import validate_latlon
from geoembed.core.inputs import broadcast_latlon, read_coordinates
from geoembed.core.utils import caller_stacklevel, one_per_process

__all__ = ["transform_dask"]

# the featurizers of this process's calls, by key: partitions run here use them, not a copy
_CALLERS = weakref.WeakValueDictionary()


def _process_estimator(payload: bytes, key: str):
    """The featurizer of the call of :func:`transform_dask` named ``key``, unpickled once per process.

    ``key`` is a random token made by that call, so a later call's featurizer (another fit, other
    parameters) is never mistaken for this one.
    """
    estimator = _CALLERS.get(key)
    if estimator is not None:
        return estimator
    import cloudpickle

    return one_per_process(key, lambda: cloudpickle.loads(payload))


def _transform_partition(
    frame: pd.DataFrame, payload: bytes, key: str, names, n_partitions: int, partition_info=None
) -> pd.DataFrame:
    estimator = _process_estimator(payload, key)
    try:
        coords = read_coordinates(frame, lat_col=estimator.lat_col, lon_col=estimator.lon_col)
        values = estimator.encode_latlon(coords.lat, coords.lon, row_labels=coords.row_labels)
    except ValueError as err:  # named by partition: a default index repeats its labels in every one
        number = partition_info["number"] if partition_info else "?"
        raise ValueError(
            f"dask partition {number} of {n_partitions} (rows named by the partition's index): {err}"
        ) from None
    values = values.toarray() if hasattr(values, "toarray") else values
    return pd.DataFrame(values, index=frame.index, columns=names)


def transform_dask(estimator, X):
    """Lazy transform of a dask DataFrame (``map_partitions`` with ``meta``) or a dask-backed
    xarray object (``xarray.apply_ufunc(..., dask="parallelized")``).

    ``estimator`` is a fitted featurizer: its public ``encode_latlon``, ``get_feature_names_out``,
    ``lat_col`` and ``lon_col`` are all that is used.
    """
    import cloudpickle  # dask's own dependency: a featurizer defined in a notebook pickles too

    names = list(estimator.get_feature_names_out())
    probe = estimator.encode_latlon(np.zeros(1), np.zeros(1))
    dtype = probe.dtype
    if hasattr(probe, "toarray"):  # a dask DataFrame or array holds dense values
        warnings.warn(
            f"{type(estimator).__name__}'s rows are sparse, but dask holds them dense: {len(names):,} {dtype} "
            f"columns, {len(names) * np.dtype(dtype).itemsize / 1e3:,.0f} KB a row. Transform the partitions in "
            "memory to keep them sparse, or choose a dense encoder",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    payload, key = cloudpickle.dumps(estimator), uuid.uuid4().hex
    _CALLERS[key] = estimator
    if type(X).__module__.startswith("xarray"):
        return _transform_xarray(estimator, payload, key, X, names, dtype)
    # the input's index (its name and dtype) in the metadata: writers (to_parquet) rely on it
    index = pd.Index([], dtype=X.index.dtype, name=X.index.name)
    meta = pd.DataFrame({name: pd.Series([], dtype=dtype, index=index) for name in names}, index=index)
    return X.map_partitions(_transform_partition, payload, key, names, X.npartitions, meta=meta)


def _distinct(coordinate) -> np.ndarray:
    """The values a broadcast coordinate holds, without its repeats: a 1-D axis broadcast over a
    grid is a view with zero strides, read along its own axis only (no grid-sized copy).
    """
    values = np.asarray(coordinate)
    return values[tuple(0 if stride == 0 else slice(None) for stride in values.strides)]


def _valid(values: np.ndarray, limit: float | None) -> bool:
    """Numbers, all finite, and within +-``limit`` degrees (None: any finite value)."""
    if values.dtype.kind not in "iuf":  # text and the like: the full check reads and names them
        return False
    finite = bool(np.isfinite(values).all())
    return finite and (limit is None or bool((np.abs(values) <= limit).all()))


def _transform_xarray(estimator, payload, key, X, names, dtype):
    import xarray as xr

    lat, lon = broadcast_latlon(X, lat_col=estimator.lat_col, lon_col=estimator.lon_col)
    if getattr(estimator, "on_invalid", "raise") == "raise":
        # the coordinates are in memory: bad ones are named now, by their position in the whole
        # grid (as in memory), not when a block computes, by its position in that block
        wrap = bool(getattr(estimator, "wrap_longitude", False))
        if not (_valid(_distinct(lat), 90.0) and _valid(_distinct(lon), None if wrap else 180.0)):
            validate_latlon(np.asarray(lat).ravel(), np.asarray(lon).ravel(), wrap_longitude=wrap)
    if isinstance(X, xr.Dataset):
        template = next(iter(X.data_vars.values()))
    else:
        template = X
    # the data's chunks along the coordinates' own dimensions (a grid may have others, such as time,
    # which the embedding does not have, as in memory)
    chunks = {dim: size for dim, size in template.chunksizes.items() if dim in lat.dims} if template.chunks else {}
    if template.chunks:  # lazy whatever the data is chunked along (one chunk if only along others)
        lat, lon = lat.chunk(chunks), lon.chunk(chunks)

    def block(lat_block, lon_block):
        values = _process_estimator(payload, key).encode_latlon(lat_block.reshape(-1), lon_block.reshape(-1))
        values = values.toarray() if hasattr(values, "toarray") else values
        return np.asarray(values, dtype=dtype).reshape(*lat_block.shape, len(names))

    out = xr.apply_ufunc(
        block,
        lat,
        lon,
        output_core_dims=[["feature"]],
        dask="parallelized",
        output_dtypes=[dtype],
        dask_gufunc_kwargs={"output_sizes": {"feature": len(names)}},
    )
    return out.assign_coords(feature=np.asarray(names, dtype=object)).rename("embedding")
