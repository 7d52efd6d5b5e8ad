"""Gridded embeddings (in memory and streamed to Zarr) and the map command."""

import numpy as np
import pytest
from numerics import assert_geoclip_close

from geoembed import GeoEmbedder, make_encoder
from geoembed.core.geo import BoundingBox
from geoembed.grid import embed_grid, grid_axes, pca_rgb


def test_grid_axes_are_cell_centres():
    lat, lon = grid_axes(10.0)
    assert lat[0] == -85 and lat[-1] == 85 and len(lat) == 18 and len(lon) == 36 and lon[0] == -175
    lat, lon = grid_axes(0.5, bbox=(40, -75, 42, -70))
    assert lat[0] == 40.25 and len(lat) == 4 and len(lon) == 10
    assert np.array_equal(grid_axes(0.5, bbox=BoundingBox(40, -75, 42, -70))[1], lon)
    with pytest.raises(ValueError, match="south < north"):  # BoundingBox's own checks
        grid_axes(1.0, bbox=(10, 0, 5, 20))
    with pytest.raises(ValueError, match="longitudes must lie in"):
        grid_axes(1.0, bbox=(0, 10, 5, 10))
    with pytest.raises(ValueError, match=r"\(south, west, north, east\)"):
        grid_axes(1.0, bbox=(0, 10, 5))
    with pytest.raises(ValueError, match="positive"):
        grid_axes(0.0)
    with pytest.raises(ValueError, match="no cell centre"):
        grid_axes(10.0, bbox=(0, 0, 4, 4))


def test_grid_crosses_the_antimeridian_when_west_exceeds_east():
    lat, lon = grid_axes(5.0, bbox=(-10, 170, 10, -170))
    np.testing.assert_allclose(lon, [172.5, 177.5, -177.5, -172.5])  # eastwards across 180, wrapped
    assert lat.tolist() == [-7.5, -2.5, 2.5, 7.5]
    _, lon = grid_axes(20.0, bbox=(0, 100, 40, -100))  # 160 degrees wide, mostly Pacific
    np.testing.assert_allclose(lon, [110, 130, 150, 170, -170, -150, -130, -110])
    assert np.all((lon >= -180) & (lon < 180))
    grid = embed_grid(5.0, bbox=BoundingBox(-10, 170, 10, -170), encoder=make_encoder("cartesian3d"))
    np.testing.assert_allclose(grid.lon.values, [172.5, 177.5, -177.5, -172.5])
    expected = make_encoder("cartesian3d").fit_transform(np.array([[grid.lat[1], grid.lon[2]]]))[0]
    np.testing.assert_allclose(grid.isel(lat=1, lon=2).values, expected)


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
    streamed = embed_grid(
        20.0, bbox=(-60, -180, 60, 180), encoder=encoder, path=tmp_path / "grid.zarr", max_points_per_band=40
    )  # 2 latitude rows per band: several region writes
    assert (tmp_path / "grid.zarr").exists() and streamed.chunks is not None
    latlon = np.array([[la, lo] for la in streamed.lat.values for lo in streamed.lon.values])
    for grid, what in ((in_memory, "in-memory grid"), (streamed, "zarr grid")):
        assert_geoclip_close(grid.values.reshape(len(latlon), -1), latlon, what=what)
    assert list(streamed.feature.values[:2]) == ["geoclip_0", "geoclip_1"]
    with pytest.raises(ValueError, match=".zarr"):
        embed_grid(20.0, encoder=encoder, path=tmp_path / "grid.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.zarr"]


def test_zarr_grid_chunks_are_bounded_along_longitude(tmp_path, monkeypatch):
    """A band of a wide grid is cut along longitude, so that reading one point reads little."""
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    import geoembed.io.zarr as zarr_io

    encoder = make_encoder("sphereC", n_frequencies=2)  # 6 float64 features
    monkeypatch.setattr(zarr_io, "CHUNK_BYTES", 2 * 3 * 6 * 8)  # 2 rows x 3 columns of them
    box = (-60, -180, 60, 180)
    in_memory = embed_grid(20.0, bbox=box, encoder=encoder)
    streamed = embed_grid(20.0, bbox=box, encoder=encoder, path=tmp_path / "g.zarr", max_points_per_band=40)
    assert streamed.shape == (6, 18, 6) and streamed.dtype == np.float64
    assert streamed.encoding["chunks"] == (2, 3, 6)  # 2 latitude rows per band, cut into 6 chunks
    np.testing.assert_array_equal(streamed.values, in_memory.values)


def test_failed_zarr_grid_leaves_no_store(tmp_path):
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    encoder = make_encoder("cartesian3d").fit(np.zeros((1, 2)))
    encode, calls = encoder.encode_latlon, []

    def fail_on_third_band(lat, lon, **kwargs):
        calls.append(len(lat))
        if len(calls) == 4:  # the dtype probe, then bands 1, 2 and 3
            raise RuntimeError("interrupted")
        return encode(lat, lon, **kwargs)

    encoder.encode_latlon = fail_on_third_band
    with pytest.raises(RuntimeError, match="interrupted"):
        embed_grid(30.0, encoder=encoder, path=tmp_path / "grid.zarr", max_points_per_band=12)
    assert len(calls) == 4 and list(tmp_path.iterdir()) == []


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_map_command_across_the_antimeridian(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from geoembed.cli import main

    out = tmp_path / "pacific.png"
    assert (
        main(
            [
                "map",
                "-o",
                str(out),
                "--resolution",
                "5",
                "--bbox",
                "-40",
                "140",
                "40",
                "-120",
                "--encoder",
                "cartesian3d",
                "-q",
            ]
        )
        == 0
    )
    assert "16 x 20 cells" in capsys.readouterr().out  # 100 degrees wide, not 260
    image = np.asarray(Image.open(out).convert("RGB")).astype(float)
    assert image.std() > 20 and image.shape[1] > image.shape[0]
