"""Embeddings on regular lat/lon grids, built band by band in memory or streamed to Zarr."""

from __future__ import annotations

import sys

import numpy as np

from geoembed.core.geo import WHOLE_GLOBE, BoundingBox
from geoembed.core.utils import optional_import
from geoembed.io.zarr import ZarrGridWriter, open_grid

__all__ = ["embed_grid", "grid_axes", "open_grid", "pca_rgb"]


def grid_axes(resolution: float, bbox=None):
    """Cell-centre latitudes and longitudes of a regular grid over a box.

    Parameters
    ----------
    resolution : float
        Cell size in degrees, the same along both axes.
    bbox : BoundingBox or (south, west, north, east), default=None
        Degrees; the whole globe by default. ``west > east`` crosses the antimeridian: the
        longitudes then run eastwards from ``west`` across 180 and are wrapped to [-180, 180),
        e.g. west=170, east=-170 at 5 degrees gives 172.5, 177.5, -177.5, -172.5.

    Returns
    -------
    lat : ndarray of shape (n_lat,)
        Ascending, from ``south + resolution / 2``.
    lon : ndarray of shape (n_lon,)
        Eastwards from ``west + resolution / 2``.

    Raises
    ------
    ValueError
        A box :class:`~geoembed.core.geo.BoundingBox` rejects, a resolution that is not positive,
        or one that leaves no cell centre inside the box.
    """
    box = BoundingBox.coerce(bbox) or WHOLE_GLOBE
    if not resolution > 0:
        raise ValueError(f"resolution must be positive; got {resolution}")
    lat = np.arange(box.south + resolution / 2, box.north, resolution)
    if box.crosses_antimeridian:
        lon = np.arange(box.west + resolution / 2, box.west + box.width_deg, resolution)
        lon = np.where(lon >= 180.0, lon - 360.0, lon)
    else:
        lon = np.arange(box.west + resolution / 2, box.east, resolution)
    if lat.size == 0 or lon.size == 0:
        raise ValueError(f"resolution {resolution} leaves no cell centre inside {box}")
    return lat, lon


def embed_grid(
    resolution: float = 1.0,
    *,
    bbox=None,
    encoder=None,
    path=None,
    max_points_per_band: int = 200_000,
    progress: bool = True,
):
    """Embed every cell centre of a regular grid.

    Parameters
    ----------
    resolution : float, default=1.0
        Cell size in degrees.
    bbox : BoundingBox or (south, west, north, east), default=None
        Degrees; the whole globe by default. A box with ``west > east`` crosses the
        antimeridian (see :func:`grid_axes`).
    encoder : fitted or unfitted featurizer, default=None
        Any geoembed encoder; default ``GeoEmbedder()``.
    path : str or Path, default=None
        A ``.zarr`` store to stream into, band of latitudes by band, so that grids larger than
        memory work (a 0.1-degree global grid is 6.5M points). The store appears at ``path``
        only once complete (an existing one is replaced then); see
        :class:`~geoembed.io.ZarrGridWriter`. Without a path the grid is built in memory.
        Needs the ``dask`` extra (dask and zarr).
    max_points_per_band : int, default=200_000
        Points embedded and written at a time.
    progress : bool, default=True
        Print the size of the grid before starting (a global 0.1-degree grid of GeoCLIP
        features is about 13 GB in float32) and show a progress bar over the latitude bands,
        both on stderr.

    Returns
    -------
    xarray.DataArray of shape (n_lat, n_lon, n_features)
        Dims ``("lat", "lon", "feature")``, coordinates from :func:`grid_axes` and the
        encoder's feature names; the lazily opened store when ``path`` is given.
    """
    import xarray as xr
    from tqdm.auto import tqdm

    from geoembed.encoders.embedder import GeoEmbedder

    lat, lon = grid_axes(resolution, bbox)
    encoder = encoder if encoder is not None else GeoEmbedder()
    if not hasattr(encoder, "n_features_out_"):
        encoder.fit_without_data()
    names = np.asarray(encoder.get_feature_names_out(), dtype=str)
    dtype = encoder.encode_latlon(np.zeros(1), np.zeros(1)).dtype
    if path is not None:  # before announcing the write: Zarr grids need the dask extra
        optional_import("dask.array", extra="dask", purpose="writing Zarr grids")
        optional_import("zarr", extra="dask", purpose="writing Zarr grids")
    if progress:
        n_bytes = len(lat) * len(lon) * len(names) * np.dtype(dtype).itemsize
        where = f"into {path}" if path is not None else "in memory"
        print(
            f"embedding {len(lat) * len(lon):,} points into a ({len(lat)}, {len(lon)}, {len(names)}) {dtype} grid "
            f"{where}: {n_bytes / 2**30:,.2f} GiB",
            file=sys.stderr,
        )
    rows_per_band = max(1, max_points_per_band // len(lon))
    bands = [slice(i, min(i + rows_per_band, len(lat))) for i in range(0, len(lat), rows_per_band)]

    def band_values(band):
        lat_b, lon_b = np.meshgrid(lat[band], lon, indexing="ij")
        values = encoder.encode_latlon(lat_b.ravel(), lon_b.ravel())
        values = values.toarray() if hasattr(values, "toarray") else values
        return np.asarray(values, dtype=dtype).reshape(len(lat[band]), len(lon), len(names))

    attrs = {"resolution_deg": resolution}
    if path is None:
        data = np.empty((len(lat), len(lon), len(names)), dtype=dtype)
        for band in tqdm(bands, disable=not progress, desc="grid", unit="band"):
            data[band] = band_values(band)
        return xr.DataArray(
            data,
            dims=("lat", "lon", "feature"),
            coords={"lat": lat, "lon": lon, "feature": names},
            name="embedding",
            attrs=attrs,
        )
    with ZarrGridWriter(path, lat, lon, names, dtype=dtype, rows_per_band=rows_per_band, attrs=attrs) as writer:
        for band in tqdm(bands, disable=not progress, desc="grid", unit="band"):
            writer.write_band(band, band_values(band))
    return open_grid(path)


def pca_rgb(embedding) -> np.ndarray:
    """First three principal components of a (lat, lon, feature) grid, scaled to [0, 1] RGB.

    Parameters
    ----------
    embedding : xarray.DataArray or ndarray of shape (n_lat, n_lon, n_features)
        E.g. the result of :func:`embed_grid`. Cells with a non-finite value are left out.

    Returns
    -------
    ndarray of shape (n_lat, n_lon, 3)
        Each component clipped between its 1st and 99th percentiles and scaled to [0, 1];
        NaN for the cells left out.
    """
    from sklearn.decomposition import PCA

    values = np.asarray(embedding.values if hasattr(embedding, "values") else embedding, dtype=np.float32)
    flat = values.reshape(-1, values.shape[-1])
    finite = np.isfinite(flat).all(axis=1)
    rgb = np.full((flat.shape[0], 3), np.nan)
    components = PCA(3, random_state=0).fit_transform(flat[finite])
    low, high = np.percentile(components, 1, axis=0), np.percentile(components, 99, axis=0)
    rgb[finite] = np.clip((components - low) / (high - low), 0, 1)
    return rgb.reshape(*values.shape[:-1], 3)
