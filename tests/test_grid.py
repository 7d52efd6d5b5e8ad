"""Gridded embeddings (in memory and streamed to Zarr) and the map command."""

import numpy as np
import pytest

from numerics import assert_geoclip_close

from geoembed import GeoEmbedder, make_encoder
from geoembed.grid import embed_grid, grid_axes, pca_rgb


def test_grid_axes_are_cell_centres():
    lat, lon = grid_axes(10.0)
    assert lat[0] == -85 and lat[-1] == 85 and len(lat) == 18 and len(lon) == 36 and lon[0] == -175
    lat, lon = grid_axes(0.5, bbox=(40, -75, 42, -70))
    assert lat[0] == 40.25 and len(lat) == 4 and len(lon) == 10
    with pytest.raises(ValueError, match="bbox"):
        grid_axes(1.0, bbox=(10, 0, 5, 20))


def test_embed_grid_in_memory_matches_pointwise():
    grid = embed_grid(15.0, encoder=make_encoder("spherical_harmonics"), max_points_per_band=100)
    assert grid.dims == ("lat", "lon", "feature") and grid.shape == (12, 24, 121)
    expected = make_encoder("spherical_harmonics").fit_transform(np.array([[grid.lat[3], grid.lon[5]]]))[0]
    np.testing.assert_allclose(grid.isel(lat=3, lon=5).values, expected)


def test_embed_grid_streams_to_zarr(tmp_path):
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    encoder = GeoEmbedder(precision="exact")
    in_memory = embed_grid(20.0, bbox=(-60, -180, 60, 180), encoder=encoder)
    streamed = embed_grid(20.0, bbox=(-60, -180, 60, 180), encoder=encoder, path=tmp_path / "grid.zarr",
                          max_points_per_band=40)  # 2 latitude rows per band: several region writes
    assert (tmp_path / "grid.zarr").exists() and streamed.chunks is not None
    latlon = np.array([[la, lo] for la in streamed.lat.values for lo in streamed.lon.values])
    for grid, what in ((in_memory, "in-memory grid"), (streamed, "zarr grid")):
        assert_geoclip_close(grid.values.reshape(len(latlon), -1), latlon, what=what)
    assert list(streamed.feature.values[:2]) == ["geoclip_0", "geoclip_1"]
    with pytest.raises(ValueError, match=".zarr"):
        embed_grid(20.0, encoder=encoder, path=tmp_path / "grid.nc")


def test_pca_rgb_in_unit_range():
    rgb = pca_rgb(embed_grid(20.0, encoder=make_encoder("cartesian3d")))
    assert rgb.shape == (9, 18, 3) and np.nanmin(rgb) >= 0 and np.nanmax(rgb) <= 1 and np.nanstd(rgb) > 0.1


def test_map_command_writes_a_world_map(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from geoembed.cli import main

    out = tmp_path / "map.png"
    assert main(["map", "-o", str(out), "--resolution", "6", "-q"]) == 0
    image = np.asarray(Image.open(out).convert("RGB")).astype(float)
    assert out.stat().st_size > 20_000 and image.shape[1] > 1.5 * image.shape[0] > 300
    assert image.std() > 20  # not a blank or constant picture
    assert "30 x 60 cells" in capsys.readouterr().out
