"""RegionEmbedder: uniform-by-area sampling on the sphere, CRS independence, H3 cells, edge regions, sklearn API.

Tolerances: a region's embedding is a Monte Carlo mean over ``n`` points, so where two estimates
come from different points their difference is judged against the standard error that the
embedder itself reports (``aggregate="mean+std"``); where the points are the same, the outputs
are equal up to the points that differ, each of which moves a mean by at most ``2 max|f| / n``.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numerics import assert_geoclip_close
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline

from geoembed import GeoEmbedder, RegionEmbedder
from geoembed.core.geo import EARTH_RADIUS_KM, azimuthal_equal_area, azimuthal_equal_area_inverse, haversine_km

gpd = pytest.importorskip("geopandas")
shapely = pytest.importorskip("shapely")
h3 = pytest.importorskip("h3")
from pyproj import Transformer  # noqa: E402
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box  # noqa: E402

Z = 5.0  # standard errors allowed between two independent Monte Carlo means (per feature)


def cap_fraction(lat_low, lat_high, lat_top=90.0):
    """Share of the area of the cap above ``lat_low`` that lies above ``lat_high``."""
    s = np.sin(np.radians([lat_low, lat_high, lat_top]))
    return (s[2] - s[1]) / (s[2] - s[0])


def assert_means_agree(a, b, std, n):
    """Two independent n-point means of the same region agree within Z standard errors."""
    bound = Z * np.sqrt(2.0) * std / np.sqrt(n) + 1e-12
    assert np.all(np.abs(a - b) <= bound), np.max(np.abs(a - b) / bound)


# -- the projection -------------------------------------------------------------------------------
@pytest.mark.parametrize("centre", [(0, 0), (45, -100), (90, 0), (-90, 0), (-17, 179.5), (89.9, 10)])
def test_azimuthal_equal_area_matches_proj_and_inverts(centre):
    pyproj = pytest.importorskip("pyproj")
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)
    x, y = azimuthal_equal_area(lat, lon, *centre)
    px, py = pyproj.Proj(proj="laea", lat_0=centre[0], lon_0=centre[1], R=1)(lon, lat)
    away = np.hypot(x, y) < 1.99  # not at the antipode
    np.testing.assert_allclose(x[away], px[away], atol=1e-12)
    np.testing.assert_allclose(y[away], py[away], atol=1e-12)
    back_lat, back_lon = azimuthal_equal_area_inverse(x, y, *centre)
    np.testing.assert_allclose(back_lat[away], lat[away], atol=1e-9)
    dlon = np.abs((back_lon - lon + 180) % 360 - 180)
    assert dlon[away & (np.abs(lat) < 89.99)].max() < 1e-9
    assert np.isnan(azimuthal_equal_area_inverse(np.array([2.5]), np.array([0.0]), *centre)[0]).all()


# -- sampling -------------------------------------------------------------------------------------
def test_points_are_uniform_by_area_on_the_sphere_in_a_polar_cap():
    cap = box(-180, 60, 180, 90)  # lon/lat: everything north of 60 N
    sample = RegionEmbedder("cartesian3d", n_points=4000).fit([cap]).sample([cap])
    assert sample.counts.tolist() == [4000] and sample.lat.min() >= 60
    p = cap_fraction(60, 75)  # 0.464, not the 0.5 of uniform in latitude
    share = np.mean(sample.lat > 75)
    assert abs(share - p) < 5 * np.sqrt(p * (1 - p) / 4000)
    quadrants = np.histogram(sample.lon, bins=[-180, -90, 0, 90, 180])[0]
    assert quadrants.min() > 800  # all the way round the pole


def test_h3_samples_lie_in_their_cell_for_resolutions_0_to_9_including_poles_and_antimeridian():
    cells = [h3.latlng_to_cell(48.8566, 2.3522, r) for r in range(10)]
    cells += [h3.latlng_to_cell(90, 0, r) for r in (0, 1, 2)]  # cells containing the North Pole
    cells += [h3.latlng_to_cell(-90, 0, 1)]  # and the South Pole
    cells += [h3.latlng_to_cell(-17.5, 179.999, r) for r in (2, 5)]  # across the antimeridian
    cells += sorted(h3.get_pentagons(3))[:2]
    embedder = RegionEmbedder("cartesian3d", n_points=32).fit(cells)
    sample = embedder.sample(cells)
    assert sample.counts.tolist() == [32] * len(cells) and not sample.fallback.any()
    resolution = [h3.get_resolution(cells[r]) for r in sample.region]
    got = [h3.latlng_to_cell(a, b, res) for a, b, res in zip(sample.lat, sample.lon, resolution)]
    assert got == [cells[r] for r in sample.region]
    for pole_cell in (11, 12):  # the pole inside, not near an edge: longitudes all the way round
        assert np.ptp(sample.lon[sample.region == pole_cell]) > 300
    across = sample.lon[sample.region == 14]
    assert (across > 179).any() and (across < -179).any()
    out = embedder.transform(cells)
    assert out.shape == (len(cells), 3) and np.isfinite(out).all()
    as_ints = [h3.str_to_int(c) for c in cells]
    np.testing.assert_array_equal(embedder.transform(as_ints), out)


def test_h3_pole_cell_sampling_is_uniform_by_area():
    cell = h3.latlng_to_cell(90, 0, 1)  # contains the North Pole, centre at 86.9 N
    sample = RegionEmbedder("cartesian3d", n_points=4000).fit([cell]).sample([cell])
    # the cell is no cap, but a spherical cap around its centre lies inside it: within that cap the
    # share of points closer than an angle a is (1 - cos a) / (1 - cos r), not the (a / r)^2 of a plane
    lat0, lon0 = h3.cell_to_latlng(cell)
    turn = np.linspace(0, 2 * np.pi, 360, endpoint=False)

    def circle_inside(angle):
        radius = 2 * np.sin(angle / 2)  # equal-area projection radius of a cap of this angle
        lat, lon = azimuthal_equal_area_inverse(radius * np.cos(turn), radius * np.sin(turn), lat0, lon0)
        return all(h3.latlng_to_cell(a, b, 1) == cell for a, b in zip(lat, lon))

    r = max(a for a in np.radians(np.arange(0.5, 10, 0.25)) if circle_inside(a))
    distance = haversine_km(sample.lat, sample.lon, lat0, lon0) / EARTH_RADIUS_KM
    inner = distance[distance < r]
    p = (1 - np.cos(r / 2)) / (1 - np.cos(r))
    assert inner.size > 1000 and ((sample.lat > 89).any())
    assert abs(np.mean(inner < r / 2) - p) < 5 * np.sqrt(p * (1 - p) / inner.size)


def test_density_gives_points_in_proportion_to_area():
    small, large = box(10, 45, 10.1, 45.1), box(10, 45, 10.4, 45.4)

    def area_km2(west, south, east, north):  # exact, on the sphere
        return EARTH_RADIUS_KM**2 * np.radians(east - west) * (np.sin(np.radians(north)) - np.sin(np.radians(south)))

    sample = RegionEmbedder("cartesian3d", points_per_km2=1.0, max_points=5000).fit([small]).sample([small, large])
    for count, region in zip(sample.counts, (small, large)):
        assert abs(count - area_km2(*region.bounds)) <= 0.005 * area_km2(*region.bounds) + 1
    capped = RegionEmbedder("cartesian3d", points_per_km2=100.0, max_points=50).fit([large]).sample([large])
    assert capped.counts.tolist() == [50]


def test_tiny_and_degenerate_regions_get_one_point():
    sliver = Polygon([(10, 45), (11, 46), (12, 47)])  # zero area
    embedder = RegionEmbedder("cartesian3d").fit([sliver])
    sample = embedder.sample([sliver, Point(3.0, 50.0)])
    assert sample.counts.tolist() == [1, 1] and sample.fallback.all()
    np.testing.assert_allclose([sample.lat[1], sample.lon[1]], [50.0, 3.0])
    np.testing.assert_allclose(
        embedder.transform([Point(3.0, 50.0)]), GeoEmbedder("cartesian3d").fit_transform([[50.0, 3.0]])
    )


def test_a_shrinking_region_tends_to_the_embedding_of_its_centre():
    centre = (48.8566, 2.3522)
    point = GeoEmbedder().fit_transform([centre]).astype(np.float64)
    errors = []
    for half in (1e-1, 1e-2, 1e-3):
        square = box(centre[1] - half, centre[0] - half, centre[1] + half, centre[0] + half)
        errors.append(np.abs(RegionEmbedder(n_points=32).fit_transform([square]) - point).max())
    assert errors[0] > errors[1] > errors[2]
    tiny = box(centre[1] - 1e-9, centre[0] - 1e-9, centre[1] + 1e-9, centre[0] + 1e-9)  # 0.1 mm
    assert_geoclip_close(RegionEmbedder(n_points=8).fit_transform([tiny]), np.asarray([centre]), what="tiny region")


# -- CRS independence -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def county():
    """A ~3400 km2 quadrilateral in UTM 33N."""
    ring = [(400000, 5000000), (460000, 5010000), (450000, 5070000), (390000, 5050000)]
    return gpd.GeoDataFrame({"name": ["county"]}, geometry=[Polygon(ring)], crs="EPSG:32633", index=["c1"])


@pytest.mark.parametrize("encoder", ["cartesian3d", "geoclip"])
def test_the_same_region_in_two_crss_gives_the_same_embedding(county, encoder):
    embedder = RegionEmbedder(encoder, n_points=400).fit(county)
    other = county.to_crs(4326)
    a, b = embedder.sample(county), embedder.sample(other)
    # the same frame and candidates: the samples differ only by points near an edge, which is
    # straight in UTM for one and straight in longitude/latitude for the other
    pa = set(zip(np.round(a.lat, 9), np.round(a.lon, 9)))
    pb = set(zip(np.round(b.lat, 9), np.round(b.lon, 9)))
    differing = len(pa - pb)
    assert differing <= 0.01 * 400
    features = embedder.encoder_.transform(np.column_stack([a.lat, a.lon]))
    bound = 2 * differing * np.abs(features).max() / 400 + 1e-6 * np.abs(features).max()
    np.testing.assert_allclose(embedder.transform(county), embedder.transform(other), rtol=0, atol=bound)
    np.testing.assert_allclose(embedder.transform(county), embedder.transform(county.to_crs(3857)), atol=bound)


def test_an_antimeridian_region_three_ways():
    lonlat_split = MultiPolygon([box(178, -19, 180, -16), box(-180, -19, -178, -16)])  # GeoJSON rule
    beyond = box(178, -19, 182, -16)  # longitudes past 180
    pacific = gpd.GeoSeries([lonlat_split], crs=4326).to_crs(3832)  # Pacific Mercator, a rectangle
    assert pacific.iloc[0].geom_type == "MultiPolygon"
    pacific = gpd.GeoSeries([pacific.iloc[0].convex_hull], crs=3832)  # one polygon across 180 there
    embedder = RegionEmbedder("cartesian3d", n_points=2000, aggregate="mean+std").fit([beyond])
    outs = []
    for region in ([lonlat_split], [beyond], pacific):
        sample = embedder.sample(region)
        assert sample.counts.tolist() == [2000]
        assert (sample.lat >= -19).all() and (sample.lat <= -16).all()
        assert ((sample.lon >= 178) | (sample.lon <= -178)).all()
        east = np.mean(sample.lon > 0)
        assert abs(east - 0.5) < 5 * np.sqrt(0.25 / 2000)
        outs.append(embedder.transform(region)[0])
    for other in outs[1:]:
        assert_means_agree(outs[0][:3], other[:3], outs[0][3:], 2000)


@pytest.mark.parametrize("crs", ["OGC:CRS84", "EPSG:4269", "EPSG:4258"])
def test_longitudes_past_180_in_any_lonlat_crs(crs):
    # OGC:CRS84 is GeoParquet's default; the part past 180 was left out of every CRS but EPSG:4326
    beyond = box(177, -19, 182, -16)  # 2 of its 5 degrees past 180
    embedder = RegionEmbedder("cartesian3d", n_points=2000, aggregate="mean+std").fit([beyond])
    reference = embedder.transform(gpd.GeoSeries([beyond], crs=4326))[0]
    sample = embedder.sample(gpd.GeoSeries([beyond], crs=crs))
    assert sample.counts.tolist() == [2000]
    west = np.mean(sample.lon < 0)
    assert abs(west - 0.4) < 5 * np.sqrt(0.24 / 2000)
    out = embedder.transform(gpd.GeoSeries([beyond], crs=crs))[0]
    assert_means_agree(reference[:3], out[:3], reference[3:], 2000)


@pytest.mark.parametrize("region", [box(-180, -80, 180, 80), box(-170, -60, 170, 70), box(-180, -23.44, 180, 23.44)])
def test_bands_around_the_globe_are_sampled_uniformly_by_area(region):
    # such a region holds the antipode of its centre, beyond the box of its vertices: points there
    # were never drawn (longitude quarters 1,555 / 214 / 221 / 2,010 of 4,000)
    sample = RegionEmbedder("cartesian3d", n_points=4000).fit([region]).sample([region])
    assert sample.counts.tolist() == [4000]
    west, south, east, north = region.bounds
    quarters = np.histogram(sample.lon, bins=np.linspace(west, east, 5))[0]
    assert np.all(np.abs(quarters - 1000) < 5 * np.sqrt(4000 * 0.25 * 0.75)), quarters
    bands = np.linspace(south, north, 5)
    expected = np.diff(np.sin(np.radians(bands)))
    expected = 4000 * expected / expected.sum()
    counts = np.histogram(sample.lat, bins=bands)[0]
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected)), (counts, expected)


def test_scattered_islands_and_thin_corridors_get_all_their_points():
    # 30 islands of 5 km in a box 60 degrees wide: 2 of 64 points were found; a 200 m wide road 44
    islands = MultiPolygon(
        [box(x, y, x + 0.05, y + 0.05) for x, y in zip(np.linspace(-175, -115, 30), np.tile([-10.0, 0.0, 5.0], 10))]
    )
    road = gpd.GeoSeries([LineString([(3e5, 4e6), (4.4e5, 4.14e6), (3e5, 4.28e6)])], crs=32617).buffer(100)
    embedder = RegionEmbedder("cartesian3d", n_points=64).fit([islands])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no shortfall warning either
        for region in ([islands], road):
            sample = embedder.sample(region)
            assert sample.counts.tolist() == [64] and not sample.fallback.any()
            x, y = sample.lon, sample.lat
            if not isinstance(region, list):  # inside in the road's own CRS, where its edges are straight
                x, y = Transformer.from_crs(4326, 32617, always_xy=True).transform(x, y)
            geometry = region[0] if isinstance(region, list) else region.iloc[0]
            assert shapely.contains_xy(geometry, x, y).all()
    # the islands' points by area: two or three on each (largest remainders of 64 / 30)
    sample = embedder.sample([islands])
    per_island = np.histogram(sample.lon, bins=np.linspace(-175, -114.95, 31))[0]
    assert per_island.min() >= 2 and per_island.max() <= 3
    # two specks 60 degrees apart, one four times the other's area: their shares of the points
    specks = MultiPolygon([box(0, 0, 1e-4, 1e-4), box(60, 40, 60.0002, 40.0002)])
    sample = embedder.sample([specks])
    # systematic sampling on the cumulative area gives each part the floor or the ceiling of its share
    share = 4 * np.cos(np.radians(40.0001)) / (1 + 4 * np.cos(np.radians(40.0001)))  # areas on the sphere
    assert sample.counts.tolist() == [64] and abs(np.sum(sample.lon > 30) - 64 * share) < 1


def test_a_polar_cap_in_a_polar_crs_and_in_lonlat():
    lon = np.linspace(-180, 180, 721)[:-1]
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 3413, always_xy=True).transform(lon, np.full(lon.size, 70.0))
    polar = gpd.GeoSeries([Polygon(zip(x, y))], crs=3413)  # NSIDC north polar stereographic
    lonlat = [box(-180, 70, 180, 90)]
    embedder = RegionEmbedder("cartesian3d", n_points=2000, aggregate="mean+std").fit(lonlat)
    sample = embedder.sample(polar)
    assert sample.lat.min() > 69.99 and np.ptp(sample.lon) > 350
    a, b = embedder.transform(polar)[0], embedder.transform(lonlat)[0]
    assert_means_agree(a[:3], b[:3], b[3:], 2000)
    np.testing.assert_allclose(a[:2], 0.0, atol=Z * b[3:5].max() / np.sqrt(2000))  # centred on the pole


# -- inputs and errors ----------------------------------------------------------------------------
def test_h3_ids_in_a_frame_series_or_list_keep_the_index():
    cells = [h3.latlng_to_cell(lat, 10.0, 6) for lat in (40.0, 45.0, 50.0)]
    frame = pd.DataFrame({"h3_cell": cells, "y": [1, 2, 3]}, index=["a", "b", "c"])
    embedder = RegionEmbedder("cartesian3d", n_points=8).set_output(transform="pandas")
    out = embedder.fit_transform(frame)
    assert list(out.index) == ["a", "b", "c"] and list(out.columns) == ["xyz_x", "xyz_y", "xyz_z"]
    assert list(embedder.feature_names_in_) == ["h3_cell", "y"]
    np.testing.assert_array_equal(clone(embedder).fit_transform(frame["h3_cell"]).to_numpy(), out.to_numpy())
    np.testing.assert_array_equal(clone(embedder).set_output(transform="default").fit_transform(cells), out.to_numpy())
    with pytest.raises(ValueError, match=r"one column of H3 cell ids.*h3_col="):
        RegionEmbedder().fit(frame.rename(columns={"h3_cell": "where"}))


def test_invalid_regions_raise_with_their_rows_or_become_nan_rows(county):
    bad = county.to_crs(4326)
    bad.loc["c2"] = ["gap", None]
    bad.loc["c3"] = ["hole", Polygon()]
    with pytest.raises(ValueError, match=r"rows \['c2', 'c3'\] have a missing or empty geometry.*on_invalid='nan'"):
        RegionEmbedder("cartesian3d").fit(bad)
    out = RegionEmbedder("cartesian3d", on_invalid="nan").set_output(transform="pandas").fit_transform(bad)
    assert list(out.index) == ["c1", "c2", "c3"]
    assert out.loc["c1"].notna().all() and out.loc[["c2", "c3"]].isna().all(axis=None)
    cells = pd.Series(["872a1072bffffff", "not a cell", 0], index=["x", "y", "z"])
    with pytest.raises(ValueError, match=r"valid H3 cell ids.*rows \['y', 'z'\] have 'not a cell', 0"):
        RegionEmbedder("cartesian3d").fit(cells)
    nan_rows = RegionEmbedder("cartesian3d", on_invalid="nan").fit_transform(cells)
    assert np.isfinite(nan_rows[0]).all() and np.isnan(nan_rows[1:]).all()


def test_lines_and_missing_crs_are_refused(county):
    lines = gpd.GeoSeries([shapely.LineString([(0, 0), (1, 1)])], index=["road"], crs=4326)
    with pytest.raises(ValueError, match=r"rows \['road'\] hold LineString.*buffer"):
        RegionEmbedder("cartesian3d").fit(lines)
    with pytest.raises(ValueError, match=r"has no CRS.*set_crs"):
        RegionEmbedder("cartesian3d").fit(county.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="n_points"):
        RegionEmbedder(n_points=0).fit(county)
    with pytest.raises(ValueError, match="configure the transformer"):
        RegionEmbedder(GeoEmbedder(), weights="geoclip-lite").fit(county)


# -- scikit-learn conventions ---------------------------------------------------------------------
def test_sklearn_conventions(county):
    regions = county.to_crs(4326)
    embedder = RegionEmbedder("sphereC+", n_points=16, aggregate="mean+std")
    assert clone(embedder).get_params() == embedder.get_params()
    out = embedder.fit_transform(regions)
    names = embedder.get_feature_names_out()
    assert out.shape == (1, embedder.n_features_out_) == (1, len(names))
    assert names[-1].endswith("_std") and not names[0].endswith("_std")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(embedder)).transform(regions), out)
    np.testing.assert_array_equal(embedder.transform(regions), out)  # deterministic
    reseeded = clone(embedder).set_params(random_state=1).fit_transform(regions)
    assert not np.array_equal(reseeded, out)


def test_a_region_embeds_the_same_in_any_batch(county):
    regions = gpd.GeoSeries(
        [box(10, 45, 11, 46), box(-180, 80, 180, 90), county.to_crs(4326).geometry.iloc[0]], crs=4326
    )
    embedder = RegionEmbedder("cartesian3d", batch_points=70).fit(regions)
    together = embedder.transform(regions)
    for i in range(3):
        np.testing.assert_array_equal(embedder.transform(regions.iloc[[i]]), together[[i]])


def test_in_a_column_transformer_and_with_a_pipeline_encoder(county):
    frame = gpd.GeoDataFrame(
        {"population": [1.0, 2.0, 3.0]},
        geometry=[box(10, 45, 11, 46), box(12, 45, 13, 46), box(14, 45, 15, 46)],
        crs=4326,
        index=["p", "q", "r"],
    )
    columns = ColumnTransformer(
        [("region", RegionEmbedder("cartesian3d", n_points=8), "geometry"), ("rest", "passthrough", ["population"])]
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame)
    assert list(out.index) == ["p", "q", "r"]
    assert list(out.columns) == ["region__xyz_x", "region__xyz_y", "region__xyz_z", "rest__population"]
    reduced = RegionEmbedder(make_pipeline(GeoEmbedder("sphereC+"), PCA(2)), n_points=8).fit_transform(frame)
    assert reduced.shape == (3, 2)


def test_shapely_objects_in_plain_pandas_containers_are_told_to_carry_a_crs():
    # they were read as H3 ids ("must be valid H3 cell ids") or as a 1-D array of coordinates
    squares = [box(0, 0, 1, 1), box(1, 1, 2, 2)]
    for X in (pd.Series(squares, index=["a", "b"]), pd.DataFrame({"geometry": squares}, index=["a", "b"])):
        with pytest.raises(TypeError, match=r"rows \['a', 'b'\] are shapely geometries.*GeoSeries\(values, crs="):
            RegionEmbedder("cartesian3d").fit(X)
    with pytest.raises(TypeError, match=r"plain Series of shapely geometries carries no CRS"):
        GeoEmbedder("cartesian3d").fit(pd.Series([Point(1, 2), Point(3, 4)]))


def test_a_self_intersecting_polygon_is_sampled_by_its_valid_form():
    # a bowtie's two lobes have opposite orientations: its area read 0 (0.25 densified), not 0.5
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    lobes = MultiPolygon([Polygon([(0, 0), (0.5, 0.5), (0, 1)]), Polygon([(1, 0), (1, 1), (0.5, 0.5)])])
    density = 0.005  # points per km²: about 31 points in 0.5 square degrees (6,196 km²) at the equator
    embedder = RegionEmbedder("cartesian3d", points_per_km2=density).fit([lobes])
    assert embedder.sample([bowtie]).counts.tolist() == embedder.sample([lobes]).counts.tolist()
    sample = embedder.sample([bowtie])
    assert 25 <= sample.counts[0] <= 35 and shapely.contains_xy(lobes.buffer(1e-9), sample.lon, sample.lat).all()


def test_scattered_parts_share_points_by_area_without_bias_and_without_a_crs_verdict_of_their_own():
    # 10 islands of 5 units and 990 of 1: largest remainders gave the 10 large ones 16% of the points
    # for 4.8% of the area
    side = 0.01
    large = [box(3 * i, 0, 3 * i + side * np.sqrt(5), side * np.sqrt(5)) for i in range(10)]
    corners = [(40 + (i % 99) * 0.3, 10 + (i // 99) * 0.3) for i in range(990)]
    small = [box(x, y, x + side, y + side) for x, y in corners]
    islands = MultiPolygon(large + small)
    sample = RegionEmbedder("cartesian3d", n_points=640).fit([islands]).sample([islands])
    area = shapely.area(gpd.GeoSeries(large + small, crs=4326).to_crs(6933)).to_numpy()
    assert sample.counts.tolist() == [640]
    assert abs(np.mean(sample.lon < 35) - area[:10].sum() / area.sum()) < 0.01
    # a MultiPolygon with an empty member (GEOS's segmentize crashed the interpreter on it)
    hollow = shapely.from_wkt("MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 1, 0 0)))")
    assert RegionEmbedder("cartesian3d", n_points=16).fit([hollow]).sample([hollow]).counts.tolist() == [16]
    # a commune with overseas parts, among mainland ones in Lambert-93: its parts alone are mostly far
    # outside the CRS's area, which the whole frame is not; it is embedded, not refused
    to_lambert = Transformer.from_crs(4326, 2154, always_xy=True)

    def square(lon, lat, half=0.02):
        (x0, x1), (y0, y1) = to_lambert.transform([lon - half, lon + half], [lat - half, lat + half])
        return box(x0, y0, x1, y1)

    mainland = [square(2 + 0.1 * i, 46 + 0.05 * i) for i in range(20)]
    overseas = MultiPolygon([square(2.5, 47.0), square(55.5, -21.1), square(-61.5, 16.2), square(45.1, -12.8)])
    frame = gpd.GeoSeries([*mainland, overseas], crs=2154)
    out = RegionEmbedder("cartesian3d", n_points=32).fit_transform(frame)
    assert out.shape == (21, 3) and np.isfinite(out).all()
