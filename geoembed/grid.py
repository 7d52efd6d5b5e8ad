"""Embeddings on regular lat/lon grids, streamed band by band, optionally to Zarr."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def grid_axes(resolution: float, bbox=None):
    """Cell-centre latitudes and longitudes of a regular grid over ``bbox`` (south, west, north, east)."""
    south, west, north, east = bbox if bbox is not None else (-90.0, -180.0, 90.0, 180.0)
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ValueError(f"bbox must satisfy -90 <= south < north <= 90 and -180 <= west < east <= 180; got {bbox}")
    if resolution <= 0:
        raise ValueError(f"resolution must be positive; got {resolution}")
    lat = np.arange(south + resolution / 2, north, resolution)
    lon = np.arange(west + resolution / 2, east, resolution)
    return lat, lon


def embed_grid(resolution: float = 1.0, *, bbox=None, encoder=None, path=None, max_points_per_band: int = 200_000,
               progress: bool = False):
    """Embed every cell centre of a regular grid: an ``xarray.DataArray`` (lat, lon, feature).

    Parameters
    ----------
    resolution : float, default=1.0
        Cell size in degrees.
    bbox : (south, west, north, east), default=None
        Degrees; the whole globe by default.
    encoder : fitted or unfitted featurizer, default=None
        Any geoembed encoder; default ``GeoEmbedder()``.
    path : str or Path, default=None
        A ``.zarr`` store to stream into, band of latitudes by band, so that grids larger than
        memory work (a 0.1-degree global grid is 6.5M points). The returned DataArray is then
        the lazily opened store. Without a path the grid is built in memory. Needs the
        ``dask`` extra (dask and zarr).
    max_points_per_band : int, default=200_000
        Points embedded and written at a time.
    progress : bool, default=False
        Show a progress bar over the latitude bands.
    """
    import xarray as xr
    from tqdm.auto import tqdm

    from .embedder import GeoEmbedder

    lat, lon = grid_axes(resolution, bbox)
    encoder = encoder if encoder is not None else GeoEmbedder()
    if not hasattr(encoder, "n_features_out_"):
        encoder.fit(np.zeros((1, 2)))
    names = np.asarray(encoder.get_feature_names_out(), dtype=str)
    dtype = np.dtype(encoder._output_dtype())
    rows_per_band = max(1, max_points_per_band // len(lon))
    bands = [slice(i, min(i + rows_per_band, len(lat))) for i in range(0, len(lat), rows_per_band)]

    def band_values(band):
        lat_b, lon_b = np.meshgrid(lat[band], lon, indexing="ij")
        values = encoder._transform_memory(np.column_stack([lat_b.ravel(), lon_b.ravel()]))
        values = values.toarray() if hasattr(values, "toarray") else values
        return np.asarray(values, dtype=dtype).reshape(len(lat[band]), len(lon), len(names))

    coords = {"lat": lat, "lon": lon, "feature": names}
    if path is None:
        data = np.empty((len(lat), len(lon), len(names)), dtype=dtype)
        for band in tqdm(bands, disable=not progress, desc="grid", unit="band"):
            data[band] = band_values(band)
        return xr.DataArray(data, dims=("lat", "lon", "feature"), coords=coords, name="embedding",
                            attrs={"resolution_deg": resolution})
    import dask.array as da

    path = Path(path)
    if path.suffix != ".zarr":
        raise ValueError(f"streamed grids are written to a .zarr store; got {path}")
    # feature names go in the attributes: fixed-width strings have no stable Zarr v3 encoding
    template = xr.DataArray(
        da.zeros((len(lat), len(lon), len(names)), dtype=dtype, chunks=(rows_per_band, len(lon), len(names))),
        dims=("lat", "lon", "feature"), coords={"lat": lat, "lon": lon, "feature": np.arange(len(names))},
        name="embedding", attrs={"resolution_deg": resolution, "feature_names": list(map(str, names))},
    ).to_dataset()
    template.to_zarr(path, compute=False, mode="w", consolidated=False)
    for band in tqdm(bands, disable=not progress, desc="grid", unit="band"):
        piece = xr.Dataset({"embedding": (("lat", "lon", "feature"), band_values(band))})
        piece.to_zarr(path, region={"lat": band, "lon": slice(None), "feature": slice(None)}, consolidated=False)
    return open_grid(path)


def open_grid(path):
    """Open a grid written by :func:`embed_grid` (lazy), with its feature names restored."""
    import xarray as xr

    embedding = xr.open_zarr(path, consolidated=False)["embedding"]
    return embedding.assign_coords(feature=np.asarray(embedding.attrs["feature_names"], dtype=object))


def pca_rgb(embedding) -> np.ndarray:
    """First three principal components of a (lat, lon, feature) grid, scaled to [0, 1] RGB."""
    from sklearn.decomposition import PCA

    values = np.asarray(embedding.values if hasattr(embedding, "values") else embedding, dtype=np.float32)
    flat = values.reshape(-1, values.shape[-1])
    finite = np.isfinite(flat).all(axis=1)
    rgb = np.full((flat.shape[0], 3), np.nan)
    components = PCA(3, random_state=0).fit_transform(flat[finite])
    low, high = np.percentile(components, 1, axis=0), np.percentile(components, 99, axis=0)
    rgb[finite] = np.clip((components - low) / (high - low), 0, 1)
    return rgb.reshape(*values.shape[:-1], 3)
