"""Out-of-core and distributed transforms: dask DataFrames and dask-backed xarray objects.

Dask is optional (``pip install 'geoembed-toolkit[dask]'``). The fitted featurizer is shipped to
workers pickled, without its weights (GeoEmbedder pickles hold none), and unpickled once per
worker process and call of :func:`transform_dask`, not once per partition: each process loads
the weights once, and what the featurizer keeps from call to call (the grid nodes of
``interpolation_km``) serves every partition that process runs. A worker process keeps the last
call's featurizer, with those nodes, until the next call; in the process that made the call
(Dask's threaded scheduler) the partitions use the featurizer itself, no copy.
"""

from __future__ import annotations

import uuid
import weakref

import numpy as np
import pandas as pd

from geoembed.core.inputs import broadcast_latlon, read_coordinates
from geoembed.core.utils import one_per_process

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


def _transform_partition(frame: pd.DataFrame, payload: bytes, key: str, names) -> pd.DataFrame:
    estimator = _process_estimator(payload, key)
    coords = read_coordinates(frame, lat_col=estimator.lat_col, lon_col=estimator.lon_col)
    values = estimator.encode_latlon(coords.lat, coords.lon, row_labels=coords.row_labels)
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
    dtype = estimator.encode_latlon(np.zeros(1), np.zeros(1)).dtype
    payload, key = cloudpickle.dumps(estimator), uuid.uuid4().hex
    _CALLERS[key] = estimator
    if type(X).__module__.startswith("xarray"):
        return _transform_xarray(estimator, payload, key, X, names, dtype)
    meta = pd.DataFrame({name: pd.Series([], dtype=dtype) for name in names})
    return X.map_partitions(_transform_partition, payload, key, names, meta=meta)


def _transform_xarray(estimator, payload, key, X, names, dtype):
    import xarray as xr

    lat, lon = broadcast_latlon(X, lat_col=estimator.lat_col, lon_col=estimator.lon_col)
    if isinstance(X, xr.Dataset):
        template = next(iter(X.data_vars.values()))
    else:
        template = X
    lat = lat.chunk(template.chunksizes) if template.chunks else lat
    lon = lon.chunk(template.chunksizes) if template.chunks else lon

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
