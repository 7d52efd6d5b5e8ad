"""Point geometries as input: GeoDataFrames and GeoSeries in any CRS, and shapely arrays, for every featurizer.

"The same embeddings as its lat/lon columns" is checked in two steps that each have a derived
tolerance: (1) the geometry path reprojects with pyproj exactly as a user would, so its output
equals, bit for bit, the featurizer's output on the pyproj-reprojected lat/lon columns (the same
float64 inputs through the same code); (2) those reprojected coordinates differ from the original
degrees by the projection round-trip error only (< 1e-8 degrees, about 1 mm), and for GeoCLIP the
output stays within the float32 error bound of the float64 reference at the *original*
coordinates (tests/numerics.py).
"""

import numpy as np
import pandas as pd
import pytest
from numerics import assert_geoclip_close
from sklearn.base import clone

from geoembed import GeoEmbedder, LocationTargetEncoder, SpatialBlockKFold, list_encoders, make_encoder

gpd = pytest.importorskip("geopandas")
shapely = pytest.importorskip("shapely")

CRSS = [3857, 32633]  # Web Mercator, UTM 33N
ROUND_TRIP_DEG = 1e-8


@pytest.fixture(scope="module")
def places():
    """25 points around central Europe (inside UTM 33N's usable area), lat/lon columns and an index."""
    rng = np.random.default_rng(7)
    n = 25
    frame = pd.DataFrame(
        {"lat": rng.uniform(42, 55, n), "lon": rng.uniform(10, 20, n), "value": rng.normal(size=n)},
        index=[f"site{i}" for i in range(n)],
    )
    points = gpd.GeoDataFrame(
        frame[["value"]], geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
    return frame, points


def reprojected_columns(gdf):
    """What a user gets with gdf.to_crs(4326): lat/lon columns, through pyproj."""
    back = gdf.to_crs(4326)
    return pd.DataFrame({"lat": back.geometry.y, "lon": back.geometry.x}, index=gdf.index)


@pytest.mark.parametrize("crs", CRSS)
def test_round_trip_error_is_millimetres(places, crs):
    frame, points = places
    columns = reprojected_columns(points.to_crs(crs))
    assert np.abs(columns["lat"] - frame["lat"]).max() < ROUND_TRIP_DEG
    assert np.abs(columns["lon"] - frame["lon"]).max() < ROUND_TRIP_DEG


@pytest.mark.parametrize("crs", CRSS)
@pytest.mark.parametrize("name", list_encoders())
def test_every_encoder_reads_projected_points(places, crs, name):
    frame, points = places
    projected = points.to_crs(crs)
    encoder = make_encoder(name)
    expected = dense(clone(encoder).fit_transform(reprojected_columns(projected)))
    np.testing.assert_array_equal(dense(encoder.fit_transform(projected)), expected)
    assert encoder.n_features_in_ == 2 and list(encoder.feature_names_in_) == ["value", "geometry"]
    # a GeoSeries gives the same, and pandas output keeps the frame's index
    np.testing.assert_array_equal(dense(clone(encoder).fit_transform(projected.geometry)), expected)
    if not hasattr(encoder.transform(projected), "toarray"):
        out = clone(encoder).set_output(transform="pandas").fit_transform(projected)
        assert list(out.index) == list(frame.index)


def dense(out):
    return out.toarray() if hasattr(out, "toarray") else np.asarray(out)


@pytest.mark.parametrize("crs", CRSS)
def test_geoembedder_matches_the_float64_reference_at_the_original_coordinates(places, crs):
    frame, points = places
    embedder = GeoEmbedder().set_output(transform="pandas")
    out = embedder.fit_transform(points.to_crs(crs))
    assert list(out.index) == list(frame.index)
    assert_geoclip_close(out.to_numpy(), frame[["lat", "lon"]].to_numpy(), what=f"GeoEmbedder on EPSG:{crs}")
    np.testing.assert_array_equal(out.to_numpy(), GeoEmbedder().fit_transform(reprojected_columns(points.to_crs(crs))))


def test_geoembedder_with_a_classic_encoder_and_shapely_lists(places):
    frame, points = places
    expected = GeoEmbedder("sphereC+").fit_transform(frame[["lat", "lon"]])
    as_list = list(points.geometry)  # EPSG:4326 already: read as (lon, lat) degrees, unchanged
    np.testing.assert_array_equal(GeoEmbedder("sphereC+").fit_transform(as_list), expected)
    np.testing.assert_array_equal(GeoEmbedder("sphereC+").fit_transform(np.asarray(as_list, dtype=object)), expected)
    embedder = GeoEmbedder("sphereC+").fit(points.geometry)
    assert embedder.n_features_in_ == 1 and not hasattr(embedder, "feature_names_in_")


@pytest.mark.parametrize("crs", CRSS)
def test_spatial_block_kfold_reads_projected_points(places, crs):
    frame, points = places
    projected = points.to_crs(crs)
    cv = SpatialBlockKFold(3, block_size_deg=4)
    got = [test.tolist() for _, test in cv.split(projected)]
    assert got == [test.tolist() for _, test in cv.split(reprojected_columns(projected))]
    assert got == [test.tolist() for _, test in cv.split(frame)]  # no point within 1e-8 deg of a block edge


@pytest.mark.parametrize("crs", CRSS)
def test_location_target_encoder_reads_projected_points(places, crs):
    frame, points = places
    projected = points.to_crs(crs)
    encoder = LocationTargetEncoder("cartesian3d", learners=("knn",), cv=3, random_state=0)
    out = clone(encoder).fit_transform(projected, frame["value"])
    np.testing.assert_array_equal(out, clone(encoder).fit_transform(reprojected_columns(projected), frame["value"]))
    from_geometry = clone(encoder).fit(projected, frame["value"]).transform(projected)
    columns = reprojected_columns(projected)
    np.testing.assert_array_equal(from_geometry, clone(encoder).fit(columns, frame["value"]).transform(columns))


def test_explicit_columns_win_over_the_geometry(places):
    frame, points = places
    both = points.assign(latitude=frame["lat"] + 1, longitude=frame["lon"])
    moved = GeoEmbedder("cartesian3d", lat_col="latitude", lon_col="longitude").fit_transform(both)
    expected = GeoEmbedder("cartesian3d").fit_transform(frame[["lat", "lon"]].assign(lat=frame["lat"] + 1))
    np.testing.assert_array_equal(moved, expected)


def test_a_frame_without_crs_says_how_to_set_it(places):
    _, points = places
    with pytest.raises(ValueError, match=r"has no CRS.*set_crs\(.*to_crs\(4326\)"):
        GeoEmbedder("cartesian3d").fit_transform(points.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="has no CRS"):
        list(SpatialBlockKFold(3, block_size_deg=4).split(points.geometry.set_crs(None, allow_override=True)))


def test_non_points_are_refused_with_their_rows_and_the_region_embedder(places):
    _, points = places
    mixed = points.to_crs(3857)
    mixed.loc[["site2", "site5"], "geometry"] = mixed.loc[["site2", "site5"]].buffer(100.0)
    with pytest.raises(ValueError, match=r"rows \['site2', 'site5'\] hold Polygon.*RegionEmbedder"):
        GeoEmbedder("cartesian3d").fit_transform(mixed)
    with pytest.raises(ValueError, match=r"rows \['site2', 'site5'\] hold Polygon"):
        LocationTargetEncoder("cartesian3d", learners=("knn",), cv=3).fit(mixed, np.arange(len(mixed)))


def test_missing_and_empty_geometries_are_invalid_rows(places):
    frame, points = places
    holes = points.to_crs(32633)
    holes.loc["site1", "geometry"] = None
    holes.loc["site4", "geometry"] = shapely.Point()
    with pytest.raises(ValueError, match=r"rows \['site1', 'site4'\] have a missing or empty geometry"):
        GeoEmbedder("cartesian3d").fit_transform(holes)
    with pytest.raises(ValueError, match=r"rows \['site1', 'site4'\]"):  # NaN coordinates there
        list(SpatialBlockKFold(3, block_size_deg=4).split(holes))
    out = GeoEmbedder("cartesian3d", on_invalid="nan").set_output(transform="pandas").fit_transform(holes)
    assert list(out.index) == list(frame.index)
    assert out.loc[["site1", "site4"]].isna().all(axis=None)
    assert out.drop(index=["site1", "site4"]).notna().all(axis=None)


def test_projected_shapely_arrays_without_crs_are_refused(places):
    _, points = places
    raw = list(points.to_crs(3857).geometry)
    with pytest.raises(ValueError, match=r"carry no CRS.*GeoSeries\(points, crs="):
        GeoEmbedder("cartesian3d").fit_transform(raw)


def test_a_geocentric_crs_is_refused_with_the_remedy():
    # EPSG:4978 x/y/z: every latitude came out 0 from x and y alone, silently
    from pyproj import Transformer

    x, y, z = Transformer.from_crs(4979, 4978, always_xy=True).transform([10.0, 11.0], [52.0, 53.0], [0.0, 0.0])
    ecef = gpd.GeoSeries([shapely.Point(a, b, c) for a, b, c in zip(x, y, z)], crs=4978)
    with pytest.raises(ValueError, match=r"geocentric CRS.*gdf.to_crs\(4979\)"):
        GeoEmbedder("cartesian3d").fit(ecef)
    lonlat = ecef.to_crs(4979).set_crs(4326, allow_override=True)  # the remedy the error gives
    np.testing.assert_allclose(
        GeoEmbedder("cartesian3d").fit_transform(lonlat),
        GeoEmbedder("cartesian3d").fit_transform([[52.0, 10.0], [53.0, 11.0]]),
        rtol=0,
        atol=1e-6,
    )
