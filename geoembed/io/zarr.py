"""Zarr stores of gridded embeddings: written one band of latitude rows at a time, atomically.

The store holds one variable, ``embedding`` (lat, lon, feature), with ``lat`` and ``lon``
coordinates in degrees. Feature names are kept in the attribute ``feature_names`` (the
``feature`` coordinate on disk is 0..k-1): fixed-width strings have no stable Zarr v3
encoding. :func:`open_grid` restores them. Needs the ``dask`` extra (dask and zarr).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoembed.core.utils import optional_import
from geoembed.io.atomic import atomic_output

__all__ = ["CHUNK_BYTES", "ZarrGridWriter", "open_grid"]

#: The most bytes a chunk of a streamed grid holds (a band is cut along longitude to fit).
CHUNK_BYTES = 32 * 2**20


class ZarrGridWriter:
    """Stream a (lat, lon, feature) grid into a new ``.zarr`` store, band by band.

    The store is built in a temporary folder next to ``path`` and moved to ``path`` by
    :meth:`close`; :meth:`abort` (or an exception inside a ``with`` block) deletes it, so a
    failed or interrupted run leaves ``path`` as it was. An existing store at ``path`` is
    replaced only once the new one is complete.

    Parameters
    ----------
    path : str or Path
        The store; its name must end in ``.zarr``.
    lat, lon : ndarray of shape (n_lat,) and (n_lon,)
        Cell-centre coordinates in degrees (``lon`` may wrap across the antimeridian).
    feature_names : sequence of str
        Names of the last axis.
    dtype : dtype-like
        Value dtype on disk.
    rows_per_band : int
        Latitude rows per band; also the store's chunk length along ``lat``. Along ``lon`` a chunk
        holds at most ``CHUNK_BYTES`` (32 MiB): reading one point reads one chunk (a whole band of
        the 0.1-degree world grid of GeoCLIP features would be 387 MiB).
    attrs : dict, default=None
        Extra attributes of the ``embedding`` variable (e.g. the resolution).
    overwrite : bool, default=True
        Replace an existing store at ``path`` once the new one is complete. With False an
        existing ``path`` raises ``FileExistsError`` here, before anything is written.

    Examples
    --------
    >>> with ZarrGridWriter("grid.zarr", lat, lon, names, dtype="float32", rows_per_band=2) as writer:  # doctest: +SKIP
    ...     for start in range(0, len(lat), 2):
    ...         writer.write_band(slice(start, start + 2), values[start:start + 2])
    """

    def __init__(self, path, lat, lon, feature_names, *, dtype, rows_per_band: int, attrs=None, overwrite: bool = True):
        self.path = Path(path)
        if self.path.suffix != ".zarr":
            raise ValueError(f"streamed grids are written to a .zarr store; got {self.path}")
        import xarray as xr

        dask_array = optional_import("dask.array", extra="dask", purpose="writing Zarr grids")
        optional_import("zarr", extra="dask", purpose="writing Zarr grids")
        self.lat, self.lon = np.asarray(lat), np.asarray(lon)
        self.feature_names = [str(name) for name in feature_names]
        shape = (len(self.lat), len(self.lon), len(self.feature_names))
        rows = max(1, min(rows_per_band, shape[0]))
        columns = max(1, min(shape[1], CHUNK_BYTES // max(1, rows * shape[2] * np.dtype(dtype).itemsize)))
        template = xr.DataArray(
            dask_array.zeros(shape, dtype=dtype, chunks=(rows, columns, shape[2])),
            dims=("lat", "lon", "feature"),
            coords={"lat": self.lat, "lon": self.lon, "feature": np.arange(shape[2])},
            name="embedding",
            attrs={**(attrs or {}), "feature_names": self.feature_names},
        ).to_dataset()
        self._output = atomic_output(self.path, directory=True, overwrite=overwrite)
        self._store = self._output.open()
        try:
            template.to_zarr(self._store, compute=False, mode="w", consolidated=False)
        except BaseException:
            self._output.discard()
            raise

    def write_band(self, rows: slice, values) -> None:
        """Write the values of latitude rows ``rows``.

        Parameters
        ----------
        rows : slice
            Rows of ``lat`` (step 1); best aligned with ``rows_per_band`` so that each band
            fills whole chunks.
        values : ndarray of shape (len(lat[rows]), n_lon, n_features)
        """
        import xarray as xr

        piece = xr.Dataset({"embedding": (("lat", "lon", "feature"), np.asarray(values))})
        piece.to_zarr(self._store, region={"lat": rows, "lon": slice(None), "feature": slice(None)}, consolidated=False)

    def close(self):
        """Move the finished store to ``path`` and open it (see :func:`open_grid`)."""
        self._output.commit()
        return open_grid(self.path)

    def abort(self) -> None:
        """Delete the unfinished store; ``path`` is left as it was."""
        self._output.discard()

    def __enter__(self) -> ZarrGridWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def open_grid(path):
    """Open a grid store written by :class:`ZarrGridWriter` (lazily), with its feature names restored.

    Parameters
    ----------
    path : str or Path
        A ``.zarr`` store.

    Returns
    -------
    xarray.DataArray of shape (n_lat, n_lon, n_features)
        Dask-backed; dims ``("lat", "lon", "feature")``.
    """
    import xarray as xr

    embedding = xr.open_zarr(path, consolidated=False)["embedding"]
    return embedding.assign_coords(feature=np.asarray(embedding.attrs["feature_names"], dtype=object))
