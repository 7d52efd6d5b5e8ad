"""Geodata files streamed in chunks: the output does not depend on chunk_rows, keeps the index and the CRS,
appears atomically; reprojection failures, mislabelled CRSs, normalised regions and multipoints.

The encoders are deterministic functions of each point (sphereC+), and a region's sampled points depend
only on the region and the seed, so outputs for any chunk size are compared for exact equality.
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from geoembed import GeoEmbedder, RegionEmbedder
from geoembed.geofiles import embed_geofile

gpd = pytest.importorskip("geopandas")
pytest.importorskip("pyogrio")
shapely = pytest.importorskip("shapely")
pq = pytest.importorskip("pyarrow.parquet")
from shapely.geometry import MultiPoint, MultiPolygon, Point, box  # noqa: E402

ENCODER = "sphereC+"
NAMES_LIKE = "sphereCplus_"
X0, Y0 = 500_000.0, 5_600_000.0  # EPSG:25832 metres, in Germany


@pytest.fixture
def addresses(tmp_path):
    """Seven points in EPSG:25832 indexed by a name, with a float column that has a missing value."""
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(7, 11, 7), rng.uniform(48, 54, 7)
    frame = gpd.GeoDataFrame(
        {"name": [f"a{i}" for i in range(7)], "floors": [1, np.nan, 3, 4, 2, 1, 5], "v": rng.normal(size=7)},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    ).to_crs(25832)
    frame = frame.set_index("name")
    path = tmp_path / "addresses.parquet"
    frame.to_parquet(path)
    gpkg = tmp_path / "addresses.gpkg"
    frame.reset_index().to_file(gpkg, layer="addresses")
    return path, gpkg, frame


@pytest.fixture
def districts(tmp_path):
    """Regions of every accepted kind in EPSG:25832, points first (a chunk of points only, then mixed)."""
    geoms = [
        Point(X0, Y0),
        Point(X0 + 1000, Y0),
        box(X0, Y0, X0 + 5000, Y0 + 3000),
        MultiPolygon([box(X0 + 10_000, Y0, X0 + 12_000, Y0 + 2000), box(X0 + 20_000, Y0, X0 + 21_000, Y0 + 4000)]),
        Point(X0 + 5000, Y0 + 5000),
        MultiPoint([(X0, Y0), (X0 + 3000, Y0 + 100)]),
        box(X0 - 9000, Y0 - 9000, X0 - 1000, Y0 - 2000),
    ]
    frame = gpd.GeoDataFrame({"code": list("abcdefg"), "pop": range(7)}, geometry=geoms, crs=25832).set_index("code")
    path = tmp_path / "districts.parquet"
    frame.to_parquet(path)
    return path, frame


def read_output(path):
    suffix = path.suffix
    if suffix == ".parquet":
        return gpd.read_parquet(path)
    if suffix == ".gpkg":
        return gpd.read_file(path)
    if suffix == ".csv":
        return path.read_text()
    return np.load(path)


def assert_same(a, b):
    if isinstance(a, (pd.DataFrame, pd.Series)):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, str):
        assert a == b
    else:
        np.testing.assert_array_equal(a, b)


# -- chunked output equals whole-file output ------------------------------------------------------
@pytest.mark.parametrize("suffix", [".parquet", ".gpkg", ".csv", ".npy"])
@pytest.mark.parametrize("source", ["parquet", "gpkg"])
def test_points_give_the_same_output_for_any_chunk_size(addresses, tmp_path, suffix, source):
    path = addresses[0] if source == "parquet" else addresses[1]
    frame = addresses[2]
    whole = tmp_path / f"whole{suffix}"
    assert embed_geofile(path, whole, encoder=ENCODER, chunk_rows=1_000_000) == 7
    expected = read_output(whole)
    for chunk_rows in (1, 2, 3):
        out = tmp_path / f"chunked{chunk_rows}{suffix}"
        assert embed_geofile(path, out, encoder=ENCODER, chunk_rows=chunk_rows) == 7
        assert_same(read_output(out), expected)
    reference = GeoEmbedder(ENCODER).fit_transform(frame)
    if suffix == ".npy":
        np.testing.assert_array_equal(expected, reference)
    elif suffix != ".csv":
        np.testing.assert_array_equal(expected.filter(like=NAMES_LIKE).to_numpy(), reference)


@pytest.mark.parametrize("suffix", [".parquet", ".gpkg", ".csv"])
def test_regions_give_the_same_output_for_any_chunk_size(districts, tmp_path, suffix):
    path, frame = districts
    params = dict(encoder=ENCODER, regions=True, points_per_region=16)
    whole = tmp_path / f"whole{suffix}"
    embed_geofile(path, whole, chunk_rows=1_000_000, **params)
    expected = read_output(whole)
    for chunk_rows in (1, 2, 3, 4):  # chunks of points only (the point embedder) and mixed ones
        out = tmp_path / f"chunked{chunk_rows}{suffix}"
        embed_geofile(path, out, chunk_rows=chunk_rows, **params)
        assert_same(read_output(out), expected)
    if suffix != ".csv":
        reference = RegionEmbedder(ENCODER, n_points=16).fit_transform(frame)
        np.testing.assert_array_equal(expected.filter(like=NAMES_LIKE).to_numpy(), reference)


def test_a_region_sample_depends_on_the_region_not_on_its_row(districts):
    frame = districts[1]
    embedder = RegionEmbedder(ENCODER, n_points=16).fit(frame)
    whole = embedder.transform(frame)
    shuffled = frame.iloc[[6, 3, 2, 0, 5, 1, 4]]
    np.testing.assert_array_equal(embedder.transform(shuffled), whole[[6, 3, 2, 0, 5, 1, 4]])
    for i in range(len(frame)):
        np.testing.assert_array_equal(embedder.transform(frame.iloc[[i]]), whole[[i]])


@pytest.mark.parametrize("source", ["parquet", "gpkg"])
def test_the_embedder_sees_one_chunk_at_a_time(addresses, tmp_path, monkeypatch, source):
    path = addresses[0] if source == "parquet" else addresses[1]
    sizes = []
    transform = GeoEmbedder.transform

    def counting(self, X):
        sizes.append(len(X))
        return transform(self, X)

    monkeypatch.setattr(GeoEmbedder, "transform", counting)
    embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=3)
    assert sizes == [3, 3, 1]


def test_a_progress_bar_counts_the_rows(addresses, tmp_path, capsys):
    embed_geofile(addresses[0], tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2, progress=True)
    assert "7/7" in capsys.readouterr().err


# -- the index and the CRS --------------------------------------------------------------------------
def test_a_named_index_is_kept_in_every_output(addresses, tmp_path):
    path, _, frame = addresses
    embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    written = gpd.read_parquet(tmp_path / "out.parquet")
    assert written.index.name == "name" and list(written.index) == list(frame.index)
    embed_geofile(path, tmp_path / "out.gpkg", encoder=ENCODER, chunk_rows=2)
    assert gpd.read_file(tmp_path / "out.gpkg").columns[0] == "name"
    assert gpd.read_file(tmp_path / "out.gpkg")["name"].tolist() == list(frame.index)
    embed_geofile(path, tmp_path / "out.csv", encoder=ENCODER, chunk_rows=2)
    assert pd.read_csv(tmp_path / "out.csv")["name"].tolist() == list(frame.index)
    embed_geofile(path, tmp_path / "bare.parquet", encoder=ENCODER, keep_columns=False, chunk_rows=2)
    bare = gpd.read_parquet(tmp_path / "bare.parquet")
    assert list(bare.index) == list(frame.index) and "floors" not in bare.columns
    embed_geofile(path, tmp_path / "bare.csv", encoder=ENCODER, keep_columns=False, chunk_rows=2)
    assert pd.read_csv(tmp_path / "bare.csv").columns[0] == "name"


def test_a_default_index_stays_implicit_and_a_subset_keeps_its_labels(addresses, tmp_path):
    frame = addresses[2].reset_index()
    frame.to_parquet(tmp_path / "plain.parquet")
    embed_geofile(tmp_path / "plain.parquet", tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    assert isinstance(gpd.read_parquet(tmp_path / "out.parquet").index, pd.RangeIndex)
    embed_geofile(tmp_path / "plain.parquet", tmp_path / "out.csv", encoder=ENCODER, chunk_rows=2)
    assert pd.read_csv(tmp_path / "out.csv").columns[0] == "name"  # no index column
    subset = frame[frame["floors"] > 1]  # labels 0, 2, 3, 4, 6: the rows of the original frame
    subset.to_parquet(tmp_path / "subset.parquet")
    embed_geofile(tmp_path / "subset.parquet", tmp_path / "subset_out.parquet", encoder=ENCODER, chunk_rows=2)
    assert list(gpd.read_parquet(tmp_path / "subset_out.parquet").index) == list(subset.index)


def test_the_crs_and_geometries_round_trip(addresses, tmp_path):
    path, _, frame = addresses
    out = tmp_path / "out.parquet"
    embed_geofile(path, out, encoder=ENCODER, chunk_rows=3)
    written = gpd.read_parquet(out)
    assert written.crs == frame.crs and written.crs.to_epsg() == 25832
    assert written.geometry.geom_equals(frame.geometry).all()
    geo = json.loads(pq.read_schema(out).metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    embed_geofile(path, tmp_path / "out.gpkg", encoder=ENCODER, chunk_rows=3)
    assert gpd.read_file(tmp_path / "out.gpkg").crs.to_epsg() == 25832


def test_geoparquet_without_a_crs_key_is_lonlat(addresses, tmp_path):
    import pyarrow.parquet as parquet

    lonlat = addresses[2].to_crs(4326)
    lonlat.to_parquet(tmp_path / "lonlat.parquet")
    table = parquet.read_table(tmp_path / "lonlat.parquet")
    geo = json.loads(table.schema.metadata[b"geo"])
    del geo["columns"]["geometry"]["crs"]  # the GeoParquet specification: OGC:CRS84
    metadata = {**table.schema.metadata, b"geo": json.dumps(geo).encode()}
    parquet.write_table(table.replace_schema_metadata(metadata), tmp_path / "nocrs.parquet")
    out = tmp_path / "out.parquet"
    embed_geofile(tmp_path / "nocrs.parquet", out, encoder=ENCODER, chunk_rows=2)
    written = gpd.read_parquet(out)
    assert written.crs.equals("OGC:CRS84")
    expected = GeoEmbedder(ENCODER).fit_transform(lonlat)
    np.testing.assert_array_equal(written.filter(like=NAMES_LIKE).to_numpy(), expected)


# -- checks before any embedding, and atomic output -------------------------------------------------
def test_an_error_in_a_late_chunk_leaves_no_output(addresses, tmp_path):
    frame = addresses[2].copy()
    frame.loc["a6", "geometry"] = None  # the last row, in the last chunk
    frame.to_parquet(tmp_path / "gap.parquet")
    for suffix in (".parquet", ".gpkg", ".csv", ".npy"):
        out = tmp_path / f"out{suffix}"
        out.write_bytes(b"previous")
        with pytest.raises(ValueError, match=r"rows \['a6'\] have a missing or empty geometry"):
            embed_geofile(tmp_path / "gap.parquet", out, encoder=ENCODER, chunk_rows=2)
        assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "addresses.gpkg",
        "addresses.parquet",
        "gap.parquet",
        "out.csv",
        "out.gpkg",
        "out.npy",
        "out.parquet",
    ]
    nan_rows = tmp_path / "nan.parquet"
    embed_geofile(tmp_path / "gap.parquet", nan_rows, encoder=ENCODER, chunk_rows=2, on_invalid="nan")
    features = gpd.read_parquet(nan_rows).filter(like=NAMES_LIKE)
    assert features.loc["a6"].isna().all() and features.drop(index="a6").notna().all(axis=None)


def test_a_polygon_in_a_late_chunk_asks_for_regions(addresses, tmp_path):
    frame = addresses[2].reset_index()
    frame.loc[6, "geometry"] = box(X0, Y0, X0 + 100, Y0 + 100)
    path = tmp_path / "late.gpkg"
    frame.to_file(path)
    with pytest.raises(ValueError, match=r"Polygon geometries; embed them as regions.*--regions.*rows \[6\]"):
        embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    assert not (tmp_path / "out.parquet").exists()


def test_the_clash_and_crs_checks_come_before_any_embedding(addresses, tmp_path, monkeypatch):
    frame = addresses[2]
    monkeypatch.setattr(GeoEmbedder, "transform", lambda *a, **k: pytest.fail("embedded before the checks"))
    frame.assign(sphereCplus_s0_sin_phi=1.0).to_parquet(tmp_path / "clash.parquet")
    with pytest.raises(ValueError, match=r"input columns \['sphereCplus_s0_sin_phi'\] clash"):
        embed_geofile(tmp_path / "clash.parquet", tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    frame.rename_axis("sphereCplus_s0_sin_phi").to_parquet(tmp_path / "index_clash.parquet")
    with pytest.raises(ValueError, match=r"clash with the embedding's names"):
        embed_geofile(tmp_path / "index_clash.parquet", tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    frame.set_crs(None, allow_override=True).to_parquet(tmp_path / "nocrs.parquet")
    with pytest.raises(ValueError, match=r"has no CRS.*set_crs"):
        embed_geofile(tmp_path / "nocrs.parquet", tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize("name", ["gaps.parquet", "gaps.gpkg"])
def test_a_first_pass_finds_every_bad_row_before_any_embedding(addresses, tmp_path, monkeypatch, name):
    # a missing geometry in the last row failed the run only when its chunk came, after the rest was
    # embedded, and only the first bad chunk's rows were named
    frame = addresses[2].copy()
    frame.loc[["a1", "a6"], "geometry"] = None
    path = tmp_path / name
    frame.to_parquet(path) if name.endswith(".parquet") else frame.reset_index().to_file(path)
    rows = r"\['a1', 'a6'\]" if name.endswith(".parquet") else r"\[1, 6\]"
    with monkeypatch.context() as patched:
        patched.setattr(GeoEmbedder, "transform", lambda *a, **k: pytest.fail("embedded before the first pass"))
        with pytest.raises(ValueError, match=rf"rows {rows} have a missing or empty geometry \(found by a first pass"):
            embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER, chunk_rows=2)
    embed_geofile(path, tmp_path / "nan.parquet", encoder=ENCODER, chunk_rows=2, on_invalid="nan")
    assert gpd.read_parquet(tmp_path / "nan.parquet").filter(like=NAMES_LIKE).isna().all(axis=1).sum() == 2
    # a line among regions, in the last row
    regions = addresses[2].copy()
    regions.loc["a6", "geometry"] = shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)])
    regions.to_parquet(tmp_path / "line.parquet")
    with monkeypatch.context() as patched:
        patched.setattr(RegionEmbedder, "transform", lambda *a, **k: pytest.fail("embedded before the first pass"))
        with pytest.raises(ValueError, match=r"rows \['a6'\] hold LineString geometries; regions must be"):
            embed_geofile(tmp_path / "line.parquet", tmp_path / "out.parquet", encoder=ENCODER, regions=True)
    assert not (tmp_path / "out.parquet").exists()


def test_a_minority_far_outside_the_crs_warns_and_the_run_does_not_depend_on_chunks(tmp_path):
    # 25% of the rows degrees labelled EPSG:2154 (Lambert-93), all at the end: a chunk of them alone
    # failed the run with --chunk-rows 1000 and passed silently with the default
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(0, 6, 300), rng.uniform(44, 49, 300)
    france = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(2154)
    stray = gpd.GeoSeries(gpd.points_from_xy(lon[:100], lat[:100]), crs=2154)  # degrees, mislabelled
    frame = gpd.GeoDataFrame(geometry=pd.concat([france, stray], ignore_index=True), crs=2154)
    frame.to_parquet(tmp_path / "mixed.parquet")
    outputs = []
    for chunk_rows in (50, 100_000):
        out = tmp_path / f"out{chunk_rows}.parquet"
        with pytest.warns(UserWarning, match=r"100 of 400 geometries lie far outside the area of use.*rows \[300,"):
            embed_geofile(tmp_path / "mixed.parquet", out, encoder=ENCODER, chunk_rows=chunk_rows)
        outputs.append(gpd.read_parquet(out).filter(like=NAMES_LIKE))
    pd.testing.assert_frame_equal(outputs[0], outputs[1])
    # most of the file mislabelled: refused before any embedding, whatever the chunks
    gpd.GeoDataFrame(geometry=pd.concat([france[:50], stray], ignore_index=True), crs=2154).iloc[::-1].to_parquet(
        tmp_path / "most.parquet"
    )
    for chunk_rows in (50, 100_000):
        with pytest.raises(ValueError, match="do not look like"):
            embed_geofile(tmp_path / "most.parquet", tmp_path / "x.parquet", encoder=ENCODER, chunk_rows=chunk_rows)


def test_an_empty_file_gives_an_empty_output(addresses, tmp_path):
    addresses[2].iloc[:0].to_parquet(tmp_path / "empty.parquet")
    for suffix in (".parquet", ".csv", ".npy"):
        assert embed_geofile(tmp_path / "empty.parquet", tmp_path / f"out{suffix}", encoder=ENCODER) == 0
    assert gpd.read_parquet(tmp_path / "out.parquet").shape[0] == 0
    assert np.load(tmp_path / "out.npy").shape == (0, GeoEmbedder(ENCODER).fit_without_data().n_features_out_)


# -- reprojection failures and mislabelled CRSs -----------------------------------------------------
def test_points_that_cannot_be_reprojected_are_named_and_become_nan_rows():
    frame = gpd.GeoDataFrame(
        {"v": [1, 2, 3]}, geometry=[Point(X0, Y0), Point(1e12, 1e12), Point(X0 + 1, Y0)], crs=25832
    ).set_axis(["ok", "far", "ok2"])
    with pytest.warns(UserWarning, match=r"rows \['far'\] lie outside the area where 'ETRS89 / UTM zone 32N'"):
        with pytest.raises(ValueError, match=r"rows \['far'\] hold points that their CRS cannot reproject"):
            GeoEmbedder(ENCODER).fit_transform(frame)
    with pytest.warns(UserWarning, match="could not be reprojected"):
        out = GeoEmbedder(ENCODER, on_invalid="nan").set_output(transform="pandas").fit_transform(frame)
    assert out.loc["far"].isna().all() and out.loc[["ok", "ok2"]].notna().all(axis=None)


def test_regions_that_cannot_be_reprojected_are_named_and_become_nan_rows():
    regions = gpd.GeoSeries([box(X0, Y0, X0 + 1000, Y0 + 1000), box(0, 0, 1e12, 1e12)], crs=25832, index=["ok", "far"])
    with pytest.raises(ValueError, match=r"could not be reprojected.*rows \['far'\]"):
        RegionEmbedder(ENCODER, n_points=8).fit(regions)
    out = RegionEmbedder(ENCODER, n_points=8, on_invalid="nan").fit_transform(regions)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_degrees_labelled_with_a_projected_crs_are_refused():
    degrees = gpd.GeoDataFrame({"v": [1, 2]}, geometry=[Point(9, 51), Point(10.5, 52)], crs=25832, index=["x", "y"])
    with pytest.raises(ValueError, match=r"'ETRS89 / UTM zone 32N' \(EPSG:25832\).*rows \['x', 'y'\].*set_crs\(4326"):
        GeoEmbedder(ENCODER).fit_transform(degrees)
    london = gpd.GeoSeries([Point(-0.1, 51.5), Point(-2.0, 53.0)], crs=27700)  # degrees in the British grid
    near_origin = gpd.GeoDataFrame({"v": [1, 2]}, geometry=london)  # land near its origin, inside its area
    with pytest.raises(ValueError, match=r"longitude/latitude degrees inside its area of use"):
        GeoEmbedder(ENCODER).fit_transform(near_origin)
    with pytest.raises(ValueError, match="do not look like"):
        RegionEmbedder(ENCODER).fit(gpd.GeoSeries([box(9, 51, 10, 52)], crs=25832))


def test_legitimate_data_near_the_edges_of_the_area_of_use_passes():
    # all of Germany in UTM 32N (its area of use stops at 12 E), Bornholm in UTM 33N, the Shetlands in
    # the British grid, and one stray point far away among points at home
    cases = [
        ([(5.9, 47.3), (15.0, 54.9), (14.9, 51.0)], 25832),
        ([(14.9, 55.1), (15.1, 55.3)], 32633),
        ([(-1.3, 60.4), (-6.3, 49.9)], 27700),
        ([(9.0, 51.0), (9.5, 51.5), (-70.0, -30.0)], 25832),
    ]
    for lonlat, crs in cases:
        points = gpd.GeoSeries([Point(p) for p in lonlat], crs=4326).to_crs(crs)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = GeoEmbedder(ENCODER).fit_transform(points)
        expected = GeoEmbedder(ENCODER).fit_transform([(lat, lon) for lon, lat in lonlat])
        np.testing.assert_allclose(out, expected, atol=1e-5)


# -- normalised regions and multipoints --------------------------------------------------------------
def test_normalised_regions_are_unit_vectors(districts, tmp_path):
    path, frame = districts
    point_unit = RegionEmbedder(GeoEmbedder(ENCODER, normalize=True), n_points=16).fit_transform(frame)
    np.testing.assert_allclose(np.linalg.norm(point_unit, axis=1), 1.0, atol=1e-6)
    raw = RegionEmbedder(ENCODER, n_points=16).fit_transform(frame)
    direction = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.linalg.norm(raw, axis=1).max() > 1.01  # sphereC+ rows are not unit vectors: the test can fail
    assert np.all(np.sum(point_unit * direction, axis=1) > 0.99)
    embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER, regions=True, points_per_region=16, normalize=True)
    written = gpd.read_parquet(tmp_path / "out.parquet").filter(like=NAMES_LIKE).to_numpy()
    np.testing.assert_allclose(np.linalg.norm(written, axis=1), 1.0, atol=1e-6)
    spread = RegionEmbedder(GeoEmbedder(ENCODER, normalize=True), n_points=16, aggregate="mean+std")
    k = point_unit.shape[1]
    np.testing.assert_allclose(np.linalg.norm(spread.fit_transform(frame)[:, :k], axis=1), 1.0, atol=1e-6)


def test_a_multipoint_is_the_mean_of_its_points(tmp_path):
    spots = [(9.0, 51.0), (9.2, 51.1), (9.0, 51.0)]  # a repeated point counts twice
    frame = gpd.GeoDataFrame({"id": ["m"]}, geometry=[MultiPoint(spots)], crs=4326).to_crs(25832)
    path = tmp_path / "multi.gpkg"
    frame.to_file(path)
    with pytest.raises(ValueError, match=r"MultiPoint geometries; embed them as regions.*--regions"):
        embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER)
    embed_geofile(path, tmp_path / "out.parquet", encoder=ENCODER, regions=True, points_per_region=64)
    written = gpd.read_parquet(tmp_path / "out.parquet").filter(like=NAMES_LIKE).to_numpy()
    expected = GeoEmbedder(ENCODER).fit_transform([(lat, lon) for lon, lat in spots]).astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(written[0], expected, rtol=0, atol=1e-6)
    sample = RegionEmbedder(ENCODER).fit(frame).sample(frame)
    assert sample.counts.tolist() == [3] and not sample.fallback.any()
