"""Maps: values on lon/lat axes over coastlines drawn from a bundled land mask.

The coastlines come from ``data/land_fraction_0.5deg.npz``: the share of land in each
0.5-degree cell, averaged from the 30-arc-second NOAA GLOBE mask packaged in
``global-land-mask==1.0.0`` (MIT, see ``data/LICENSE-global-land-mask``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._utils import optional_import
from .data import DATA_DIR


def _pyplot():
    matplotlib = optional_import("matplotlib", extra="plot", purpose="drawing maps")
    matplotlib.use("Agg", force=False)
    return optional_import("matplotlib.pyplot", extra="plot", purpose="drawing maps")


@lru_cache(maxsize=1)
def land_fraction():
    """Land share (0-1) on a 0.5-degree grid, as an ``xarray.DataArray`` (lat ascending)."""
    import xarray as xr

    data = np.load(DATA_DIR / "land_fraction_0.5deg.npz")
    return xr.DataArray(data["land_fraction"] / 255.0, dims=("lat", "lon"),
                        coords={"lat": data["lat"].astype(float), "lon": data["lon"].astype(float)}, name="land")


def draw_coastlines(ax, *, color="0.3", linewidth=0.6, extent=None) -> None:
    """Contour the 50% land line on ``ax`` (lon on x, lat on y)."""
    land = land_fraction()
    if extent is not None:
        west, east, south, north = extent
        land = land.sel(lat=slice(south - 1, north + 1), lon=slice(west - 1, east + 1))
    if land.size:
        ax.contour(land.lon, land.lat, land.values, levels=[0.5], colors=color, linewidths=linewidth)


def plot_points(lat, lon, values=None, *, ax=None, title=None, cmap="viridis", size=4, extent=None,
                colorbar_label=None, path=None):
    """Scatter points coloured by ``values`` (or RGB rows) over coastlines; optionally save a PNG."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5.2), dpi=110)
    values = None if values is None else np.asarray(values)
    rgb = values is not None and values.ndim == 2
    artist = ax.scatter(lon, lat, c=values if values is not None else "tab:red", s=size, cmap=None if rgb else cmap,
                        linewidths=0, zorder=2)
    draw_coastlines(ax, extent=extent)
    west, east, south, north = extent if extent is not None else (-180, 180, -90, 90)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    if values is not None and not rgb:
        ax.figure.colorbar(artist, ax=ax, shrink=0.7, label=colorbar_label)
    if path is not None:
        ax.figure.savefig(path, bbox_inches="tight")
    return ax


def plot_probability_map(prob_map, *, ax=None, top: int | None = 5000, path=None, extent=None):
    """Plot a :meth:`GeoLocator.probability_map` result; ``top`` keeps the most likely points."""
    probs = prob_map.values
    order = np.argsort(probs)
    if top is not None:
        order = order[-top:]
    query = prob_map.attrs.get("query", "")
    return plot_points(prob_map.lat.values[order], prob_map.lon.values[order], probs[order], ax=ax,
                       title=f"GeoCLIP probability: {query}", cmap="magma_r", extent=extent,
                       colorbar_label="probability", path=path)


def plot_rgb_grid(rgb, lat, lon, *, title=None, path=None, ax=None):
    """Show an RGB image on a regular (lat, lon) grid of cell centres over coastlines."""
    plt = _pyplot()
    half = (lat[1] - lat[0]) / 2 if len(lat) > 1 else 0.5
    extent = (lon.min() - half, lon.max() + half, lat.min() - half, lat.max() + half)
    if ax is None:
        height = 10 * (extent[3] - extent[2]) / (extent[1] - extent[0]) + 0.8
        _, ax = plt.subplots(figsize=(10, height), dpi=100)
    ax.imshow(rgb, origin="lower", extent=extent, interpolation="nearest")
    draw_coastlines(ax, extent=extent, color="black")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    if path is not None:
        ax.figure.savefig(path, bbox_inches="tight")
    return ax
