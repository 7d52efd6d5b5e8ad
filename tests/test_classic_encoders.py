"""Classic location encoders: math, edge cases, registry and scikit-learn conventions."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_estimator_checks import NOT_APPLICABLE

from geoembed import GeoEmbedder, list_encoders, make_encoder
from geoembed.encoders.onehot import utm_grid_zones
from geoembed.encoders.spherical_harmonics import real_spherical_harmonics

CLASSIC = [name for name in list_encoders() if name != "geoclip"]
POINTS = np.array([[0.0, 180.0], [0.0, -180.0], [90.0, 10.0], [-90.0, -100.0], [51.5, -0.12], [-33.9, 151.2]])


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def test_registry_lists_all_issue_encoders():
    expected = {
        "direct",
        "cartesian3d",
        "wrap",
        "theory",
        "grid",
        "sphereC",
        "sphereC+",
        "sphereM",
        "sphereM+",
        "spherical_harmonics",
        "rff",
        "utm_onehot",
        "grid_onehot",
        "geoclip",
    }
    assert set(list_encoders()) == expected
    assert list_encoders("SPHERE") == ["sphereC", "sphereC+", "sphereM", "sphereM+"]
    with pytest.raises(ValueError, match=r"unknown encoder 'spherec'; available: \[.*'sphereC'"):
        make_encoder("spherec")


@pytest.mark.parametrize("name", CLASSIC)
def test_shapes_names_and_pandas_index(name):
    encoder = make_encoder(name).fit(POINTS)
    out = encoder.transform(POINTS)
    names = encoder.get_feature_names_out()
    assert out.shape == (len(POINTS), len(names)) == (len(POINTS), encoder.n_features_out_)
    assert len(set(names)) == len(names) and all(n.startswith(encoder.feature_prefix + "_") for n in names)
    assert np.isfinite(dense(out)).all()
    if not sp.issparse(out):
        frame = pd.DataFrame(POINTS, columns=["lat", "lon"], index=list("abcdef"))
        result = clone(encoder).set_output(transform="pandas").fit_transform(frame)
        assert list(result.index) == list("abcdef") and list(result.columns) == list(names)


@pytest.mark.parametrize(
    "name, params",
    [
        ("cartesian3d", {}),
        ("wrap", {}),
        ("spherical_harmonics", {"max_degree": 12}),
        ("rff", {"coordinates": "xyz", "sigma": 4.0}),
        ("utm_onehot", {}),
        ("grid_onehot", {"resolution": 5.0}),
        # integer frequencies (4, 2, 1 per radian) make Sphere2Vec periodic in longitude
        ("sphereC", {"n_frequencies": 3, "min_radius_rad": 0.25}),
        ("sphereC+", {"n_frequencies": 3, "min_radius_rad": 0.25}),
        ("sphereM", {"n_frequencies": 3, "min_radius_rad": 0.25}),
        ("sphereM+", {"n_frequencies": 3, "min_radius_rad": 0.25}),
    ],
)
def test_antimeridian_continuity(name, params):
    lats = np.array([-60.0, 0.0, 37.5, 80.0])
    east = np.column_stack([lats, np.full(4, 180.0)])
    west = np.column_stack([lats, np.full(4, -180.0)])
    encoder = make_encoder(name, **params).fit(east)
    np.testing.assert_allclose(dense(encoder.transform(east)), dense(encoder.transform(west)), atol=1e-9)
    # and nearly equal just either side of the line, for the continuous ones
    if name not in ("utm_onehot", "grid_onehot"):
        a = dense(encoder.transform(np.column_stack([lats, np.full(4, 179.9999)])))
        b = dense(encoder.transform(np.column_stack([lats, np.full(4, -179.9999)])))
        assert np.abs(a - b).max() < 1e-2


def test_non_periodic_encoders_are_not_claimed_periodic():
    east, west = np.array([[0.0, 179.9]]), np.array([[0.0, -179.9]])
    direct = make_encoder("direct").fit(east)
    assert np.abs(direct.transform(east) - direct.transform(west)).max() > 1.9  # the two ends of [-1, 1]
    # longitude 180 is the place -180 for every encoder: one place, one embedding
    np.testing.assert_array_equal(direct.transform([[0.0, 180.0]]), direct.transform([[0.0, -180.0]]))


@pytest.mark.parametrize(
    "name, params",
    [
        ("cartesian3d", {}),
        ("spherical_harmonics", {"max_degree": 15}),
        ("rff", {"coordinates": "xyz"}),
        ("sphereC", {"n_frequencies": 1, "min_radius_rad": 1.0}),
        ("sphereM", {"n_frequencies": 1, "min_radius_rad": 1.0}),
    ],
)
def test_poles_are_single_points(name, params):
    """At lat = +-90 every longitude is the same place: continuous encoders agree."""
    lons = np.linspace(-180, 180, 9)
    for pole in (90.0, -90.0):
        points = np.column_stack([np.full(9, pole), lons])
        out = make_encoder(name, **params).fit(points).transform(points)
        np.testing.assert_allclose(out, np.broadcast_to(out[0], out.shape), atol=1e-9)


@pytest.mark.parametrize("name", CLASSIC)
def test_all_encoders_bounded_and_finite_at_poles(name):
    points = np.array([[90.0, 0.0], [-90.0, 0.0], [90.0, 180.0], [-90.0, -180.0], [89.9999, 45.0]])
    out = dense(make_encoder(name).fit(points).transform(points))
    assert np.isfinite(out).all() and np.abs(out).max() <= 4.0


def test_sphere2vec_hand_computed_values():
    point = np.array([[30.0, 60.0]])
    c = make_encoder("sphereC", n_frequencies=1, min_radius_rad=1.0).fit(point).transform(point)[0]
    np.testing.assert_allclose(c, [0.5, np.cos(np.pi / 6) * 0.5, np.cos(np.pi / 6) * np.sin(np.pi / 3)])
    # two scales: f = 2 and 1 per radian; sphereM pairs scaled and unscaled terms
    m = make_encoder("sphereM", n_frequencies=2, min_radius_rad=0.5, max_radius_rad=1.0).fit(point).transform(point)[0]
    phi, lam = np.pi / 6, np.pi / 3
    first_scale = [
        np.sin(2 * phi),
        np.cos(2 * phi) * np.cos(lam),
        np.cos(phi) * np.cos(2 * lam),
        np.cos(2 * phi) * np.sin(lam),
        np.cos(phi) * np.sin(2 * lam),
    ]
    np.testing.assert_allclose(m[:5], first_scale, atol=1e-12)
    assert m.shape == (10,)


def test_space2vec_hand_computed_values():
    point = np.array([[10.0, 20.0]])  # lat 10, lon 20 degrees; x = (lon, lat) as a plane vector
    theory = make_encoder("theory", n_frequencies=1, min_radius_deg=40.0).fit(point).transform(point)[0]
    projections = np.array([20.0, -10.0 + 5.0 * np.sqrt(3), -10.0 - 5.0 * np.sqrt(3)]) / 40.0
    expected = np.ravel(np.column_stack([np.sin(projections), np.cos(projections)]))
    np.testing.assert_allclose(theory, expected, atol=1e-12)
    grid = (
        make_encoder("grid", n_frequencies=2, min_radius_deg=10.0, max_radius_deg=100.0).fit(point).transform(point)[0]
    )
    np.testing.assert_allclose(
        grid,
        [np.sin(2.0), np.cos(2.0), np.sin(0.2), np.cos(0.2), np.sin(1.0), np.cos(1.0), np.sin(0.1), np.cos(0.1)],
        atol=1e-12,
    )


@pytest.mark.parametrize("max_degree", [10, 40])
def test_spherical_harmonics_orthonormal(max_degree):
    """Gauss-Legendre in cos(colatitude) x uniform longitude integrates these exactly."""
    n_theta, n_lam = max_degree + 2, 2 * max_degree + 3
    z, w = np.polynomial.legendre.leggauss(n_theta)
    lat = np.degrees(np.arcsin(z))
    lon = np.linspace(-180, 180, n_lam, endpoint=False)
    lat_grid, lon_grid = np.meshgrid(lat, lon, indexing="ij")
    weights = np.repeat(w, n_lam) * (2 * np.pi / n_lam)
    Y = real_spherical_harmonics(lat_grid.ravel(), lon_grid.ravel(), max_degree)
    gram = (Y * weights[:, None]).T @ Y
    np.testing.assert_allclose(gram, np.eye((max_degree + 1) ** 2), atol=1e-10)


def test_spherical_harmonics_closed_forms():
    lat, lon = np.array([20.0, -65.0]), np.array([30.0, 140.0])
    ct, st = np.sin(np.radians(lat)), np.cos(np.radians(lat))
    lam = np.radians(lon)
    Y = real_spherical_harmonics(lat, lon, 2)
    np.testing.assert_allclose(Y[:, 0], 0.5 / np.sqrt(np.pi))  # Y_0^0
    np.testing.assert_allclose(Y[:, 2], np.sqrt(3 / (4 * np.pi)) * ct)  # Y_1^0
    np.testing.assert_allclose(Y[:, 3], np.sqrt(3 / (4 * np.pi)) * st * np.cos(lam))  # Y_1^1
    np.testing.assert_allclose(Y[:, 1], np.sqrt(3 / (4 * np.pi)) * st * np.sin(lam))  # Y_1^-1
    np.testing.assert_allclose(Y[:, 6], np.sqrt(5 / (16 * np.pi)) * (3 * ct**2 - 1))  # Y_2^0
    np.testing.assert_allclose(Y[:, 8], np.sqrt(15 / (16 * np.pi)) * st**2 * np.cos(2 * lam))  # Y_2^2


@pytest.mark.parametrize(
    "city, lat, lon, zone",
    [
        ("London", 51.5074, -0.1278, "30U"),
        ("New York", 40.7128, -74.0060, "18T"),
        ("Sydney", -33.8688, 151.2093, "56H"),
        ("Tokyo", 35.6762, 139.6503, "54S"),
        ("Rio de Janeiro", -22.9068, -43.1729, "23K"),
        ("Oslo", 59.9139, 10.7522, "32V"),
        ("Bergen (Norway exception, not 31V)", 60.3913, 5.3221, "32V"),
        ("Stavanger (Norway exception)", 58.9700, 5.7331, "32V"),
        ("Longyearbyen (Svalbard)", 78.2232, 15.6267, "33X"),
        ("Ny-Alesund (Svalbard, not 32X)", 78.9250, 11.9300, "33X"),
        ("Svalbard east, not 36X", 79.0, 30.0, "35X"),
        ("Franz Josef Land edge, not 36X", 80.5, 34.0, "37X"),
        ("north of Svalbard band", 85.0, 20.0, "Z"),
        ("84N exactly: band X reaches it", 84.0, 20.0, "33X"),
        ("84N exactly, west", 84.0, -30.0, "26X"),
        ("80S exactly: band C starts there", -80.0, 10.0, "32C"),
        ("Antarctica, west", -85.0, -60.0, "A"),
        ("antimeridian", 0.0, 180.0, "1N"),
    ],
)
def test_utm_zones_of_known_places(city, lat, lon, zone):
    assert utm_grid_zones([lat], [lon])[0] == zone, city


@pytest.mark.parametrize("name", ["utm_onehot", "grid_onehot"])
def test_one_hot_rows_sum_to_one(name, random_latlon):
    out = make_encoder(name).fit(random_latlon).transform(random_latlon)
    out = dense(out)
    np.testing.assert_array_equal(out.sum(axis=1), 1.0)
    assert set(np.unique(out)) == {0.0, 1.0}


def test_grid_onehot_cells_and_sparse_output():
    encoder = make_encoder("grid_onehot", resolution=10.0).fit(POINTS)
    assert encoder.n_features_out_ == 18 * 36
    out = encoder.transform(np.array([[-90.0, -180.0], [89.0, 179.0], [90.0, 180.0], [5.0, 5.0]]))
    assert sp.issparse(out)
    assert list(out.indices) == [0, 17 * 36 + 35, 17 * 36 + 0, 9 * 36 + 18]
    names = encoder.get_feature_names_out()
    assert names[9 * 36 + 18] == "gridcell_0_0"
    bad = make_encoder("grid_onehot", resolution=10.0, on_invalid="nan").fit(POINTS)
    with_nan = bad.transform(np.array([[5.0, 5.0], [np.nan, 1.0]]))
    assert sp.issparse(with_nan) and np.isnan(with_nan[1].toarray()).all() and with_nan[0].sum() == 1.0


def test_rff_is_seeded_and_projects_like_geoclip():
    a = make_encoder("rff", random_state=7).fit(POINTS)
    b = make_encoder("rff", random_state=7).fit(POINTS)
    c = make_encoder("rff", random_state=8).fit(POINTS)
    np.testing.assert_array_equal(a.transform(POINTS), b.transform(POINTS))
    assert not np.allclose(a.transform(POINTS), c.transform(POINTS))
    assert a.frequencies_.shape == (256, 2) and make_encoder("rff", coordinates="xyz").fit(
        POINTS
    ).frequencies_.shape == (256, 3)
    assert a.frequencies_.std() == pytest.approx(1.0, rel=0.15)


@pytest.mark.parametrize("name", ["sphereC+", "spherical_harmonics", "utm_onehot", "wrap"])
def test_geoembedder_swaps_encoders_by_name(name):
    expected = make_encoder(name).fit(POINTS).transform(POINTS)
    embedder = GeoEmbedder(encoder=name).set_output(transform="pandas")
    frame = pd.DataFrame(POINTS, columns=["lat", "lon"])
    out = embedder.fit_transform(frame)
    np.testing.assert_allclose(out.to_numpy(), dense(expected), atol=1e-6)
    assert list(out.columns) == list(make_encoder(name).fit(POINTS).get_feature_names_out())
    normalized = GeoEmbedder(encoder=name, normalize=True).fit_transform(POINTS)
    np.testing.assert_allclose(np.linalg.norm(normalized, axis=1), 1.0, rtol=1e-5)


def test_geoembedder_encoder_params_and_errors():
    out = GeoEmbedder(encoder="spherical_harmonics", encoder_params={"max_degree": 3}).fit_transform(POINTS)
    assert out.shape == (len(POINTS), 16) and out.dtype == np.float32
    with pytest.raises(ValueError, match="unknown encoder 'nope'; available") as refused:
        GeoEmbedder(encoder="nope").fit(POINTS)
    assert "names weights" not in str(refused.value)
    with pytest.raises(
        ValueError, match="'geoclip-lite' names weights of the 'geoclip' encoder: pass weights='geoclip-lite'"
    ):
        GeoEmbedder(encoder="geoclip-lite").fit(POINTS)
    with pytest.raises(
        ValueError, match=r"encoder_params \['on_invalid', 'wrap_longitude'\] set how coordinates are read"
    ):
        GeoEmbedder(encoder="sphereC+", encoder_params={"on_invalid": "nan", "wrap_longitude": True}).fit(POINTS)
    with pytest.raises(ValueError, match=r"dtype='float16' needs a dense output.*sparse_output': False"):
        GeoEmbedder(encoder="grid_onehot", dtype="float16").fit(POINTS)
    dense16 = GeoEmbedder(encoder="grid_onehot", encoder_params={"sparse_output": False}, dtype="float16")
    assert dense16.fit_transform(POINTS).dtype == np.float16
    # an invalid row keeps the output's dtype (the sparse NaN rows came back float64)
    onehot = GeoEmbedder(encoder="grid_onehot", on_invalid="nan").fit(POINTS)
    with_nan = onehot.transform(np.array([[1.0, 2.0], [np.nan, 0.0]]))
    assert with_nan.dtype == np.float32 and np.isnan(with_nan[1].toarray()).all()
    with pytest.raises(ValueError, match="weights='x.safetensors' does not apply to encoder='wrap'"):
        GeoEmbedder(encoder="wrap", weights="x.safetensors").fit(POINTS)
    with pytest.raises(ValueError, match="precision='fast' does not apply to encoder='wrap'"):
        GeoEmbedder(encoder="wrap", precision="fast").fit(POINTS)
    with pytest.raises(ValueError, match=r"encoder 'geoclip' has no parameters \['max_degree'\]"):
        GeoEmbedder(encoder_params={"max_degree": 3}).fit(POINTS)
    with pytest.raises(ValueError, match="give normalize once"):
        GeoEmbedder(normalize=True, encoder_params={"normalize": True}).fit(POINTS)
    # given once, in the wrong place: told where it goes (it was told "not both")
    with pytest.raises(ValueError, match=r"normalize is a parameter of GeoEmbedder itself.*\(normalize=True\)"):
        GeoEmbedder(encoder_params={"normalize": True}).fit(POINTS)


@pytest.mark.parametrize(
    "name, old, new",
    [
        (
            "grid",
            {"frequency_num": 2, "min_radius": 10.0, "max_radius": 100.0},
            {"n_frequencies": 2, "min_radius_deg": 10.0, "max_radius_deg": 100.0},
        ),
        (
            "sphereC+",
            {"frequency_num": 3, "min_radius": 0.25, "max_radius": 2.0},
            {"n_frequencies": 3, "min_radius_rad": 0.25, "max_radius_rad": 2.0},
        ),
    ],
)
def test_renamed_parameters_warn_and_still_work(name, old, new):
    expected = make_encoder(name, **new).fit(POINTS).transform(POINTS)
    with pytest.warns(FutureWarning, match="was renamed to") as record:
        out = make_encoder(name, **old).fit(POINTS).transform(POINTS)
    assert len(record) == 3  # one warning per renamed parameter
    np.testing.assert_array_equal(out, expected)
    # the defaults do not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_encoder(name).fit(POINTS)


def _classic_instances():
    for name in CLASSIC:
        yield make_encoder(name)


def expected_failed_checks(estimator):
    return NOT_APPLICABLE


@parametrize_with_checks(list(_classic_instances()), expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_sparse_encoder_on_xarray_grid_returns_dense_grid():
    """A grid input gets a grid output even from a sparse encoder (xarray has no sparse form)."""
    import xarray as xr

    grid = xr.Dataset(coords={"lat": [-45.0, 5.0, 45.0], "lon": [-170.0, 0.0, 10.0, 170.0]})
    out = make_encoder("grid_onehot", resolution=10.0).fit(POINTS).transform(grid)
    assert out.dims == ("lat", "lon", "feature") and out.shape == (3, 4, 18 * 36)
    np.testing.assert_array_equal(out.sum("feature").values, 1.0)
    assert float(out.sel(lat=5.0, lon=0.0, feature="gridcell_0_0")) == 1.0


@pytest.mark.parametrize(
    "name, param, value",
    [
        ("sphereC+", "n_frequencies", 10**30),
        ("theory", "n_frequencies", 2**17),
        ("rff", "n_frequencies", 10**9),
        ("spherical_harmonics", "max_degree", 10**6),
    ],
)
def test_parameters_that_size_the_output_are_bounded_and_named_at_fit(name, param, value):
    """A typo such as n_frequencies=10**30 fails at fit naming the parameter, not inside numpy."""
    from geoembed import make_encoder
    from geoembed.core.params import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=rf"'{param}' parameter of \w+ must be an int in the range"):
        make_encoder(name, **{param: value}).fit([[0.0, 0.0]])
