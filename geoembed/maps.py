"""Maps: values on lon/lat axes over coastlines drawn from a bundled land mask.

The coastlines come from ``data/land_fraction_0.5deg.npz``: the share of land in each
0.5-degree cell, averaged from the 30-arc-second NOAA GLOBE mask packaged in
``global-land-mask==1.0.0`` (MIT, see ``data/LICENSE-global-land-mask``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from geoembed.core.data import DATA_DIR
from geoembed.core.geo import WHOLE_GLOBE, BoundingBox
from geoembed.core.utils import optional_import
from geoembed.io.atomic import atomic_output

__all__ = ["draw_coastlines", "land_fraction", "plot_points", "plot_probability_map", "plot_rgb_grid"]


def _pyplot():
    matplotlib = optional_import("matplotlib", extra="plot", purpose="drawing maps")
    matplotlib.use("Agg", force=False)
    return optional_import("matplotlib.pyplot", extra="plot", purpose="drawing maps")


@lru_cache(maxsize=1)
def land_fraction():
    """Land share (0-1) on a 0.5-degree grid of cell centres.

    Returns
    -------
    xarray.DataArray of shape (360, 720)
        Dims ``("lat", "lon")``, both ascending, in degrees.
    """
    import xarray as xr

    data = np.load(DATA_DIR / "land_fraction_0.5deg.npz")
    return xr.DataArray(
        data["land_fraction"] / 255.0,
        dims=("lat", "lon"),
        coords={"lat": data["lat"].astype(float), "lon": data["lon"].astype(float)},
        name="land",
    )


def _display_extent(box: BoundingBox):
    """Matplotlib's (left, right, bottom, top) of a box; right passes 180 when the box crosses the antimeridian."""
    return box.west, box.west + box.width_deg, box.south, box.north


def _display_longitude(lon, box: BoundingBox) -> np.ndarray:
    """Longitudes on the box's x axis: counted eastwards from ``west`` when the box crosses the antimeridian."""
    lon = np.asarray(lon, dtype=np.float64)
    return box.west + np.mod(lon - box.west, 360.0) if box.crosses_antimeridian else lon


def _label_wrapped_longitudes(ax) -> None:
    """Tick labels in [-180, 180] on an x axis that runs past 180."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x - 360 if x > 180 else x:g}"))


def _save(figure, path) -> None:
    """Save ``figure`` to a file-like object, or atomically to a path (format from its suffix, else PNG)."""
    if hasattr(path, "write"):
        figure.savefig(path, bbox_inches="tight")
        return
    image_format = Path(path).suffix[1:].lower() or _pyplot().rcParams["savefig.format"]
    with atomic_output(path) as temporary:
        figure.savefig(temporary, bbox_inches="tight", format=image_format)


def draw_coastlines(ax, *, color="0.3", linewidth=0.6, bbox=None) -> None:
    """Contour the 50% land line on ``ax`` (longitude on x, latitude on y).

    Parameters
    ----------
    ax : matplotlib Axes
    color : matplotlib colour, default="0.3"
    linewidth : float, default=0.6
    bbox : BoundingBox or (south, west, north, east), default=None
        Only draw inside this box (with a 1-degree margin); the whole globe by default. For a
        box crossing the antimeridian the x axis runs from ``west`` past 180 (longitudes east
        of 180 are drawn at lon + 360), as in :func:`plot_points`.
    """
    import xarray as xr

    land = land_fraction()
    box = BoundingBox.coerce(bbox)
    if box is not None:
        land = land.sel(lat=slice(box.south - 1, box.north + 1))
        if box.crosses_antimeridian:
            past_180 = land.sel(lon=slice(None, box.east + 1))
            land = xr.concat(
                [land.sel(lon=slice(box.west - 1, None)), past_180.assign_coords(lon=past_180.lon + 360.0)], dim="lon"
            )
        else:
            land = land.sel(lon=slice(box.west - 1, box.east + 1))
    if land.size:
        ax.contour(land.lon, land.lat, land.values, levels=[0.5], colors=color, linewidths=linewidth)


def plot_points(
    lat, lon, values=None, *, ax=None, title=None, cmap="viridis", size=4, bbox=None, colorbar_label=None, path=None
):
    """Scatter points coloured by ``values`` (or RGB rows) over coastlines; optionally save an image.

    Parameters
    ----------
    lat, lon : array-like of shape (n,)
        Degrees.
    values : array-like of shape (n,) or (n, 3), default=None
        A value per point (coloured with ``cmap``, with a colour bar) or RGB rows in [0, 1];
        None draws every point red.
    ax : matplotlib Axes, default=None
        A new figure by default.
    title : str, default=None
    cmap : str, default="viridis"
    size : float, default=4
        Marker size in points squared.
    bbox : BoundingBox or (south, west, north, east), default=None
        The area shown; the whole globe by default. A box with ``west > east`` crosses the
        antimeridian: the x axis then runs from ``west`` to ``east + 360`` (labelled in
        [-180, 180]) and points east of 180 are drawn at lon + 360.
    colorbar_label : str, default=None
    path : str, Path or file-like, default=None
        Save the figure here (written atomically; the format from the suffix, PNG without one).

    Returns
    -------
    matplotlib Axes
    """
    plt = _pyplot()
    box = BoundingBox.coerce(bbox) or WHOLE_GLOBE
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5.2), dpi=110)
    values = None if values is None else np.asarray(values)
    rgb = values is not None and values.ndim == 2
    artist = ax.scatter(
        _display_longitude(lon, box),
        lat,
        c=values if values is not None else "tab:red",
        s=size,
        cmap=cmap if values is not None and not rgb else None,
        linewidths=0,
        zorder=2,
    )
    draw_coastlines(ax, bbox=box)
    left, right, bottom, top = _display_extent(box)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    if box.crosses_antimeridian:
        _label_wrapped_longitudes(ax)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    if values is not None and not rgb:
        ax.figure.colorbar(artist, ax=ax, shrink=0.7, label=colorbar_label)
    if path is not None:
        _save(ax.figure, path)
    return ax


def plot_probability_map(prob_map, *, ax=None, top: int | None = 5000, path=None, bbox=None):
    """Plot a :meth:`GeoLocator.probability_map` result over coastlines.

    Parameters
    ----------
    prob_map : xarray.DataArray of shape (n,)
        Probabilities with ``lat`` and ``lon`` coordinates (degrees) and an optional
        ``query`` attribute used in the title.
    ax : matplotlib Axes, default=None
    top : int or None, default=5000
        Keep only the most likely points; None keeps all.
    path : str, Path or file-like, default=None
        Save the figure here (see :func:`plot_points`).
    bbox : BoundingBox or (south, west, north, east), default=None
        The area shown; the whole globe by default.

    Returns
    -------
    matplotlib Axes
    """
    probs = prob_map.values
    order = np.argsort(probs)
    if top is not None:
        order = order[-top:]
    query = prob_map.attrs.get("query", "")
    return plot_points(
        prob_map.lat.values[order],
        prob_map.lon.values[order],
        probs[order],
        ax=ax,
        title=f"GeoCLIP probability: {query}",
        cmap="magma_r",
        bbox=bbox,
        colorbar_label="probability",
        path=path,
    )


def plot_rgb_grid(rgb, lat, lon, *, title=None, path=None, ax=None):
    """Show an RGB image on a regular (lat, lon) grid of cell centres over coastlines.

    Parameters
    ----------
    rgb : ndarray of shape (n_lat, n_lon, 3)
        Values in [0, 1] (NaN cells are transparent), e.g. from :func:`geoembed.grid.pca_rgb`.
    lat : ndarray of shape (n_lat,)
        Ascending cell-centre latitudes in degrees.
    lon : ndarray of shape (n_lon,)
        Cell-centre longitudes running eastwards; they may wrap from 180 to -180 (a grid
        across the antimeridian, as :func:`geoembed.grid.grid_axes` makes), and the x axis
        then continues past 180.
    title : str, default=None
    path : str, Path or file-like, default=None
        Save the figure here (see :func:`plot_points`).
    ax : matplotlib Axes, default=None
        A new figure, sized to the grid's aspect, by default.

    Returns
    -------
    matplotlib Axes
    """
    plt = _pyplot()
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    if np.any(np.diff(lon) < 0):  # wraps across the antimeridian
        lon = lon[0] + np.mod(lon - lon[0], 360.0)
    half_lat = (lat[1] - lat[0]) / 2 if len(lat) > 1 else None
    half_lon = (lon[1] - lon[0]) / 2 if len(lon) > 1 else None
    half_lat = half_lat or half_lon or 0.5
    half_lon = half_lon or half_lat
    extent = (lon.min() - half_lon, lon.max() + half_lon, lat.min() - half_lat, lat.max() + half_lat)
    west = float(np.clip(extent[0], -180.0, 180.0))
    east = float(extent[1] - 360.0 if extent[1] > 180.0 + 1e-6 else min(extent[1], 180.0))  # rounding: not past 180
    box = BoundingBox(south=max(extent[2], -90.0), west=west, north=min(extent[3], 90.0), east=east)
    if ax is None:
        height = 10 * (extent[3] - extent[2]) / (extent[1] - extent[0]) + 0.8
        _, ax = plt.subplots(figsize=(10, height), dpi=100)
    ax.imshow(rgb, origin="lower", extent=extent, interpolation="nearest")
    draw_coastlines(ax, bbox=box, color="black")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if extent[1] > 180.0 + 1e-6:
        _label_wrapped_longitudes(ax)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    if path is not None:
        _save(ax.figure, path)
    return ax
