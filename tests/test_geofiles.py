"""Geodata files in and out: GeoParquet and GeoPackage (points, or polygons as regions), the geometry kept."""

import numpy as np
import pandas as pd
import pytest

from geoembed import GeoEmbedder, RegionEmbedder
from geoembed.cli import main
from geoembed.geofiles import embed_geofile, is_geodata_file

gpd = pytest.importorskip("geopandas")
pytest.importorskip("pyogrio")
from shapely.geometry import box  # noqa: E402


@pytest.fixture
def points(tmp_path):
    lat, lon = np.array([48.85, 40.71, -33.87]), np.array([2.35, -74.01, 151.21])
    frame = gpd.GeoDataFrame(
        {"name": ["paris", "new york", "sydney"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    ).to_crs(3857)
    path = tmp_path / "points.parquet"
    frame.to_parquet(path)
    return path, frame


@pytest.fixture
def counties(tmp_path):
    frame = gpd.GeoDataFrame(
        {"county": ["a", "b"]}, geometry=[box(400000, 5000000, 430000, 5040000), box(430000, 5000000, 470000, 5030000)]
    ).set_crs(32633)
    path = tmp_path / "counties.gpkg"
    frame.to_file(path, layer="counties")
    return path, frame


def test_geodata_files_are_recognised(points, counties, tmp_path):
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"lat": [1.0], "lon": [2.0]}).to_parquet(plain)
    assert is_geodata_file(points[0]) and is_geodata_file(counties[0])
    assert not is_geodata_file(plain) and not is_geodata_file(tmp_path / "missing.gpkg")


def test_points_keep_their_geometry_crs_and_columns(points, tmp_path):
    path, frame = points
    out = tmp_path / "out.parquet"
    assert embed_geofile(path, out, encoder="cartesian3d") == 3
    written = gpd.read_parquet(out)
    assert written.crs == frame.crs and written.geometry.geom_equals(frame.geometry).all()
    assert list(written.columns) == ["name", "geometry", "xyz_x", "xyz_y", "xyz_z"]
    expected = GeoEmbedder("cartesian3d").fit_transform(frame)
    np.testing.assert_allclose(written[["xyz_x", "xyz_y", "xyz_z"]].to_numpy(), expected)


def test_polygons_need_regions_then_keep_their_geometry(counties, tmp_path):
    path, frame = counties
    with pytest.raises(ValueError, match=r"Polygon geometries; embed them as regions.*--regions"):
        embed_geofile(path, tmp_path / "out.gpkg", encoder="cartesian3d")
    assert not (tmp_path / "out.gpkg").exists()
    assert embed_geofile(path, tmp_path / "out.gpkg", encoder="cartesian3d", regions=True, points_per_region=32) == 2
    written = gpd.read_file(tmp_path / "out.gpkg")
    assert written.crs == frame.crs and written.geometry.geom_equals(frame.geometry).all()
    expected = RegionEmbedder("cartesian3d", n_points=32).fit_transform(frame)
    np.testing.assert_allclose(written[["xyz_x", "xyz_y", "xyz_z"]].to_numpy(), expected)
    embed_geofile(path, tmp_path / "out.csv", encoder="cartesian3d", regions=True, points_per_region=32)
    csv = pd.read_csv(tmp_path / "out.csv")
    assert csv["geometry"].str.startswith("POLYGON").all()
    embed_geofile(path, tmp_path / "out.npy", encoder="cartesian3d", regions=True, points_per_region=32)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected)


def test_a_file_without_crs_is_refused_before_embedding(tmp_path):
    frame = gpd.GeoDataFrame({"v": [1]}, geometry=[box(0, 0, 1, 1)])  # no CRS: a shapefile without .prj
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        frame.to_file(path)
    with pytest.raises(ValueError, match=r"has no CRS.*--crs EPSG.*set_crs"):
        embed_geofile(path, tmp_path / "out.parquet", regions=True)


def test_crs_labels_a_file_that_records_none(tmp_path, capsys):
    # a shapefile without its .prj (libpysal's Georgia, Mexico, Columbus): the CLI had no way to embed it
    points = gpd.GeoDataFrame(
        {"v": [1, 2, 3]}, geometry=gpd.points_from_xy([500_000.0, 510_000.0, 520_000.0], [5.6e6, 5.61e6, 5.62e6])
    )
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        points.to_file(path)
    expected = GeoEmbedder("cartesian3d").fit_transform(points.set_crs(25832))
    for out in ("out.parquet", "out.npy"):
        embed_geofile(path, tmp_path / out, encoder="cartesian3d", crs="EPSG:25832")
    written = gpd.read_parquet(tmp_path / "out.parquet")
    assert written.crs.to_epsg() == 25832
    np.testing.assert_allclose(written[["xyz_x", "xyz_y", "xyz_z"]].to_numpy(), expected)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected)
    out = tmp_path / "cli.parquet"
    assert main(["embed", str(path), "-o", str(out), "--encoder", "cartesian3d", "--crs", "EPSG:25832", "-q"]) == 0
    np.testing.assert_allclose(gpd.read_parquet(out)[["xyz_x", "xyz_y", "xyz_z"]].to_numpy(), expected)
    # a file with a CRS of its own keeps it: a different --crs is refused, the same one is fine
    points.set_crs(25832).to_parquet(tmp_path / "own.parquet")
    with pytest.raises(ValueError, match=r"records its CRS.*EPSG:25832.*differs"):
        embed_geofile(tmp_path / "own.parquet", tmp_path / "x.parquet", encoder="cartesian3d", crs=2154)
    embed_geofile(tmp_path / "own.parquet", tmp_path / "same.parquet", encoder="cartesian3d", crs=25832)
    assert main(["embed", str(path), "-o", str(out), "--x-col", "x", "--crs", "EPSG:25832", "--overwrite"]) == 2
    assert "--x-col and --y-col are for tables" in capsys.readouterr().err


def test_cli_reads_and_writes_geodata(points, counties, tmp_path, capsys):
    path, frame = points
    out = tmp_path / "out.parquet"
    assert main(["embed", str(path), "-o", str(out), "--weights", "geoclip-lite", "-q"]) == 0
    written = gpd.read_parquet(out)
    assert written.crs == frame.crs and written.shape == (3, 2 + 512)
    assert main(["embed", str(counties[0]), "-o", str(tmp_path / "c.gpkg"), "-q"]) == 2
    assert "--regions" in capsys.readouterr().err
    assert (
        main(["embed", str(counties[0]), "-o", str(tmp_path / "c.gpkg"), "--regions", "--points-per-region", "4"]) == 0
    )
    assert gpd.read_file(tmp_path / "c.gpkg").shape == (2, 2 + 512)
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"lat": [1.0], "lon": [2.0]}).to_csv(plain, index=False)
    assert main(["embed", str(plain), "-o", str(tmp_path / "p.parquet"), "--regions", "-q"]) == 2
    assert "--regions needs a geodata input" in capsys.readouterr().err


def test_a_column_clash_fails_before_any_embedding(points, tmp_path, monkeypatch):
    path, frame = points
    clashing = tmp_path / "clashing.gpkg"
    frame.assign(geoclip_0=1.0).to_file(clashing)
    monkeypatch.setattr(GeoEmbedder, "transform", lambda *a, **k: pytest.fail("embedded before the clash check"))
    with pytest.raises(ValueError, match=r"input columns \['geoclip_0'\] clash"):
        embed_geofile(clashing, tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
