"""GeoEmbedder: inputs, outputs, validation and scikit-learn conventions."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numerics import assert_geoclip_close
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from geoembed import GeoEmbedder

CITIES = pd.DataFrame(
    {"lat": [48.8566, 40.7128, -33.8688, 35.6762], "lon": [2.3522, -74.0060, 151.2093, 139.6503]},
    index=["paris", "new_york", "sydney", "tokyo"],
)


@pytest.fixture(scope="module")
def reference():
    return GeoEmbedder().fit(CITIES).transform(CITIES)


def test_default_output_is_raw_golden_embedding(golden_location):
    latlon, expected = golden_location
    out = GeoEmbedder().fit_transform(latlon)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    # longitude 180 is embedded as -180 (one place, one embedding); the official model differs there
    east = latlon[:, 1] == 180.0
    assert east.sum() == 2
    mapped = latlon.copy()
    mapped[east, 1] = -180.0
    assert_geoclip_close(out, mapped)
    for row in np.flatnonzero(east):
        twin = np.flatnonzero((latlon[:, 0] == latlon[row, 0]) & (latlon[:, 1] == -180.0))[0]
        assert np.abs(out[row] - expected[twin]).max() <= 1e-5
    assert np.abs(out[~east] - expected[~east]).max() <= 1e-5


def test_normalize_gives_unit_rows(golden_location):
    latlon, expected = golden_location
    out = GeoEmbedder(normalize=True).fit_transform(latlon)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    mapped = np.where(latlon == 180.0, -180.0, latlon)  # only longitudes are 180 in the golden set
    assert_geoclip_close(out, mapped, normalized=True)


@pytest.mark.parametrize(
    "columns", [("lat", "lon"), ("LAT", "LON"), ("Latitude", "Longitude"), ("latitude", "lng"), ("lat", "long")]
)
def test_dataframe_columns_found_by_name(columns, reference):
    frame = CITIES.rename(columns=dict(zip(["lat", "lon"], columns)))
    frame = frame[[columns[1], columns[0]]].assign(other="x")  # order and extra columns do not matter
    np.testing.assert_array_equal(GeoEmbedder().fit_transform(frame), reference)


def test_explicit_columns_and_missing_or_ambiguous(reference):
    frame = CITIES.rename(columns={"lat": "y_deg", "lon": "x_deg"})
    np.testing.assert_array_equal(GeoEmbedder(lat_col="y_deg", lon_col="x_deg").fit_transform(frame), reference)
    with pytest.raises(ValueError, match="no latitude column found.*y_deg"):
        GeoEmbedder().fit(frame)
    with pytest.raises(ValueError, match="ambiguous latitude columns"):
        GeoEmbedder().fit(CITIES.assign(latitude=CITIES.lat))
    with pytest.raises(ValueError, match="longitude column 'nope' not found"):
        GeoEmbedder(lon_col="nope").fit(CITIES)
    # columns without names (a frame made from an array): the array itself is the remedy, not lat_col
    with pytest.raises(ValueError, match=r"got columns \[0, 1\]\. Pass the values as an array of \[lat, lon\]"):
        GeoEmbedder().fit(pd.DataFrame(CITIES.to_numpy()))
    # x/y columns: projected coordinates, which come with their CRS
    with pytest.raises(ValueError, match=r"columns \['y', 'x'\] look like projected.*points_from_xy"):
        GeoEmbedder().fit(CITIES.rename(columns={"lat": "y", "lon": "x"}))
    with pytest.raises(ValueError, match="no latitude column found") as plain:
        GeoEmbedder().fit(frame)
    assert "projected" not in str(plain.value)


def test_array_and_list_inputs_are_lat_lon(reference):
    array = CITIES.to_numpy()
    np.testing.assert_array_equal(GeoEmbedder().fit_transform(array), reference)
    np.testing.assert_array_equal(GeoEmbedder().fit_transform(array.tolist()), reference)
    np.testing.assert_array_equal(GeoEmbedder().fit_transform(np.asfortranarray(array)), reference)
    with pytest.raises(ValueError, match="expected 2 columns"):
        GeoEmbedder().fit(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        GeoEmbedder().fit(np.zeros((3, 2, 1)))


def test_pandas_output_keeps_index_and_names(reference):
    frame = CITIES.copy()
    frame.index = pd.Index([10, 3, 7, 1], name="site")
    out = GeoEmbedder().set_output(transform="pandas").fit_transform(frame)
    assert list(out.index) == [10, 3, 7, 1] and out.index.name == "site"
    assert list(out.columns[:2]) == ["geoclip_0", "geoclip_1"] and out.shape == (4, 512)
    np.testing.assert_array_equal(out.to_numpy(), reference)


def test_feature_names_out():
    embedder = GeoEmbedder().fit(CITIES)
    names = embedder.get_feature_names_out()
    assert names.shape == (512,) and names[0] == "geoclip_0" and names[-1] == "geoclip_511"
    assert list(embedder.feature_names_in_) == ["lat", "lon"]
    assert embedder.n_features_out_ == 512 and embedder.sigmas_ == (1.0, 16.0, 256.0)


def test_xarray_grid_input_returns_xarray(reference):
    lat = np.array([-30.0, 0.0, 45.0])
    lon = np.array([-120.0, 0.0, 60.0, 179.0])
    ds = xr.Dataset({"t": (("lat", "lon"), np.zeros((3, 4)))}, coords={"lat": lat, "lon": lon})
    out = GeoEmbedder().fit(ds).transform(ds)
    assert isinstance(out, xr.DataArray) and out.dims == ("lat", "lon", "feature") and out.shape == (3, 4, 512)
    np.testing.assert_array_equal(out.lat.values, lat)
    grid_points = np.array([[la, lo] for la in lat for lo in lon])
    assert_geoclip_close(out.values.reshape(-1, 512), grid_points, what="xarray grid")
    assert_geoclip_close(out.sel(lat=45.0, lon=60.0).values[None], np.array([[45.0, 60.0]]))
    out_da = GeoEmbedder().fit(ds.t).transform(ds.t)
    np.testing.assert_array_equal(out_da.values, out.values)


def test_float16_output(reference):
    out = GeoEmbedder(dtype="float16").fit_transform(CITIES)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, reference, atol=1e-3)


def test_fast_precision(reference):
    fast = GeoEmbedder(precision="fast").fit_transform(CITIES)
    cos = (fast * reference).sum(1) / np.linalg.norm(fast, axis=1) / np.linalg.norm(reference, axis=1)
    assert cos.min() >= 0.9999


def test_repeated_coordinates_computed_once_and_realigned(random_latlon):
    rng = np.random.default_rng(0)
    base = random_latlon[:50]
    idx = rng.integers(0, 50, 400)
    embedder = GeoEmbedder().fit(base)
    repeated = embedder.transform(base[idx])
    assert_geoclip_close(repeated, base[idx], what="repeated coordinates")
    # equal inputs give bitwise equal rows: each distinct point is computed once
    for i in range(50):
        rows = repeated[idx == i]
        assert (rows == rows[:1]).all()


def test_batch_size_does_not_change_output(random_latlon):
    a = GeoEmbedder(batch_size=4096).fit_transform(random_latlon[:500])
    b = GeoEmbedder(batch_size=7).fit_transform(random_latlon[:500])
    assert_geoclip_close(a, random_latlon[:500], what="batch_size=4096")
    assert_geoclip_close(b, random_latlon[:500], what="batch_size=7")


def test_empty_input():
    out = GeoEmbedder().fit(CITIES).transform(CITIES.iloc[:0])
    assert out.shape == (0, 512) and out.dtype == np.float32
    assert GeoEmbedder().fit_transform(np.empty((0, 2))).shape == (0, 512)
    frame = GeoEmbedder().set_output(transform="pandas").fit(CITIES).transform(CITIES.iloc[:0])
    assert frame.shape == (0, 512)


@pytest.mark.parametrize(
    "lat, lon, message",
    [
        ([10.0, np.nan, 20.0], [0.0, 0.0, 0.0], r"finite.*rows \['b'\] have nan in column 'lat'\."),
        ([10.0, 20.0, 30.0], [0.0, np.inf, 0.0], r"finite.*rows \['b'\] have inf in column 'lon'\."),
        ([np.nan, 20.0, 30.0], [0.0, np.inf, 0.0], r"finite.*rows \['a', 'b'\].* in columns 'lat' and 'lon'\."),
        ([10.0, 91.5, -95.0], [0.0, 0.0, 0.0], r"latitude must be in \[-90, 90\]; rows \['b', 'c'\] have 91.5, -95"),
        (
            [10.0, 20.0, 30.0],
            [0.0, 181.0, 0.0],
            r"longitude must be in \[-180, 180\]; rows \['b'\] have 181.*wrap_longitude",
        ),
    ],
)
def test_invalid_values_name_the_rows(lat, lon, message):
    frame = pd.DataFrame({"lat": lat, "lon": lon}, index=["a", "b", "c"])
    with pytest.raises(ValueError, match=message):
        GeoEmbedder().fit(frame)
    with pytest.raises(ValueError, match=message):
        GeoEmbedder().fit(CITIES).transform(frame)


def test_a_polars_lazyframe_is_told_to_collect():
    pl = pytest.importorskip("polars")
    with pytest.raises(TypeError, match=r"LazyFrame.*collect\(\)"):
        GeoEmbedder().fit(pl.from_pandas(CITIES).lazy())


def test_swapped_columns_are_detected():
    # Longitudes beyond 90 in the "lat" column while "lon" stays within +-90: names swapped
    frame = pd.DataFrame({"lat": [2.35, -104.0, 151.2], "lon": [48.9, 40.7, -33.9]})
    with pytest.raises(
        ValueError, match=r"rows \[1, 2\] have -104, 151.2 in column 'lat'.*names are swapped.*lat_col="
    ):
        GeoEmbedder().fit(frame)
    # an array's columns are in [lat, lon] order
    with pytest.raises(ValueError, match=r"rows \[1, 2\] have -104, 151.2\..*\[lon, lat\] order"):
        GeoEmbedder().fit(frame.to_numpy())
    # one typo in European data: no hint for a frame, whose columns are named
    with pytest.raises(ValueError) as error:
        GeoEmbedder().fit(pd.DataFrame({"lat": [44.0, 95.0, 43.0], "lon": [1.0, 2.0, 3.0]}))
    assert "swapped" not in str(error.value)
    # no hint where swapping would not make every row valid, and none about arrays for a frame
    frame = pd.DataFrame({"lat": [44.0, 95.0, 43.0], "lon": [1.0, 2.0, 120.0]})
    with pytest.raises(ValueError) as error:
        GeoEmbedder().fit(frame)
    assert "swapped" not in str(error.value) and "[lon, lat]" not in str(error.value)


def test_a_caller_without_wrap_longitude_says_how_to_wrap():
    from geoembed import LocationTargetEncoder
    from geoembed.core.geo import validate_latlon
    from geoembed.evaluation import SpatialBlockKFold

    lon = [170.0, 181.5, 185.0, 175.0, 178.0, 186.0]  # across the antimeridian, as R's quakes
    frame = pd.DataFrame({"lat": [-20.0, -21.0, -22.0, -23.0, -24.0, -25.0], "lon": lon})
    wrapped = frame.assign(lon=(frame["lon"] + 180) % 360 - 180)
    y = np.arange(6.0)
    message = r"rows \[1, 2, 5\] have 181.5, 185, 186 in column 'lon'.*Pass wrap_longitude=True"
    encoder = LocationTargetEncoder(encoder="sphereC+", cv=2, random_state=0)
    with pytest.raises(ValueError, match=message):
        encoder.fit(frame, y)
    encoder.set_params(wrap_longitude=True)  # the option the message names exists, and wraps
    np.testing.assert_array_equal(encoder.fit(frame, y).transform(frame), encoder.transform(wrapped))
    splitter = SpatialBlockKFold(2, block_size_km=50)
    with pytest.raises(ValueError, match=message):
        list(splitter.split(frame))
    splitter = SpatialBlockKFold(2, block_size_km=50, wrap_longitude=True)
    folds = [test.tolist() for _, test in splitter.split(frame)]
    assert folds == [test.tolist() for _, test in splitter.split(wrapped)]
    # callers without the option say how to wrap the column instead
    with pytest.raises(ValueError, match=r"Wrap them into \[-180, 180\) first"):
        validate_latlon(frame["lat"], frame["lon"], wrap_option=None)


def test_non_numeric_values_name_the_rows():
    frame = pd.DataFrame({"lat": ["48.85", "north", "12"], "lon": [2.3, 1.0, 3.0]}, index=["p", "q", "r"])
    with pytest.raises(ValueError, match=r"latitude column 'lat' must be numeric; rows \['q'\] have 'north'"):
        GeoEmbedder().fit(frame)
    ok = pd.DataFrame({"lat": ["48.85", "12"], "lon": ["2.3", "3"]})
    assert GeoEmbedder().fit_transform(ok).shape == (2, 512)


def test_wrap_longitude(reference):
    frame = CITIES.assign(lon=CITIES.lon + 360.0)
    np.testing.assert_allclose(GeoEmbedder(wrap_longitude=True).fit_transform(frame), reference, atol=2e-5)


def test_on_invalid_nan_keeps_rows_aligned(reference):
    frame = pd.concat(
        [CITIES.iloc[:2], pd.DataFrame({"lat": [np.nan, 95.0], "lon": [0.0, 0.0]}, index=["x", "y"]), CITIES.iloc[2:]]
    )
    out = GeoEmbedder(on_invalid="nan").set_output(transform="pandas").fit_transform(frame)
    assert list(out.index) == ["paris", "new_york", "x", "y", "sydney", "tokyo"]
    assert out.loc[["x", "y"]].isna().all().all()
    np.testing.assert_array_equal(out.drop(index=["x", "y"]).to_numpy(), reference)


def test_params_clone_and_set_params():
    embedder = GeoEmbedder(precision="fast", batch_size=10)
    assert embedder.get_params()["precision"] == "fast"
    cloned = clone(embedder).set_params(batch_size=99)
    assert cloned.batch_size == 99 and embedder.batch_size == 10
    with pytest.raises(ValueError, match="precision"):
        GeoEmbedder(precision="half").fit(CITIES)
    with pytest.raises(ValueError, match="batch_size"):
        GeoEmbedder(batch_size=0).fit(CITIES)


def test_numeric_parameters_of_any_size(reference):
    """Ints beyond int64, NaN, infinities and floats for ints: a verdict naming the parameter, never a TypeError."""
    from geoembed.evaluation import SpatialBlockKFold

    huge = 10**30
    np.testing.assert_array_equal(GeoEmbedder(batch_size=huge).fit_transform(CITIES), reference)
    assert_geoclip_close(GeoEmbedder(batch_size=np.int64(3)).fit_transform(CITIES), CITIES.to_numpy(), what="int64")
    with pytest.raises(ValueError, match=f"n_components={huge} exceeds the 512 components"):
        GeoEmbedder(n_components=huge).fit(CITIES)
    for bad in (-huge, float("nan"), float("inf"), 4.0, np.float64("nan")):
        with pytest.raises(ValueError, match=r"'batch_size' parameter of GeoEmbedder must be an int"):
            GeoEmbedder(batch_size=bad).fit(CITIES)
        with pytest.raises(ValueError, match="'n_components'"):
            GeoEmbedder(n_components=bad).fit(CITIES)
    for bad in (float("inf"), float("-inf"), float("nan"), -huge):
        with pytest.raises(ValueError, match=r"'block_size_km' .* range \(0, inf\)\. Got"):
            list(SpatialBlockKFold(block_size_km=bad).split(CITIES))
    as_int = list(SpatialBlockKFold(n_splits=2, block_size_km=huge).split(CITIES))  # a valid size, as a float
    as_float = list(SpatialBlockKFold(n_splits=2, block_size_km=float(huge)).split(CITIES))
    assert len(as_int) == 2 and all((a == b).all() for fa, fb in zip(as_int, as_float) for a, b in zip(fa, fb))


def test_pickle_and_joblib_round_trip_without_weights(tmp_path, reference):
    embedder = GeoEmbedder().fit(CITIES)
    payload = pickle.dumps(embedder)
    assert len(payload) < 10_000  # the 38 MB of weights are reloaded lazily, not embedded
    np.testing.assert_array_equal(pickle.loads(payload).transform(CITIES), reference)
    joblib.dump(embedder, tmp_path / "embedder.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "embedder.joblib").transform(CITIES), reference)


def test_custom_checkpoint_through_weights_param(tmp_path):
    from geoembed.encoders.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig

    config = LocationEncoderConfig(sigmas=(1.0, 4096.0), n_frequencies=8, hidden_dim=16, embed_dim=6)
    path = GeoCLIPLocationEncoder(config, random_state=1).save(tmp_path / "tiny.safetensors")
    embedder = GeoEmbedder(weights=str(path)).fit(CITIES)
    assert embedder.transform(CITIES).shape == (4, 6) and embedder.sigmas_ == (1.0, 4096.0)
    from geoembed.core.errors import CheckpointError

    with pytest.raises(CheckpointError, match="missing.safetensors' are neither a registered name"):
        GeoEmbedder(weights=str(tmp_path / "missing.safetensors")).fit(CITIES)


def test_weights_by_registered_name(reference):
    from geoembed.models.weights import get_weights, list_weights

    assert "geoclip-1.3.0" in list_weights()
    entry = get_weights("geoclip-1.3.0")
    assert entry.license == "MIT" and "GeoCLIP" in entry.citation and entry.architecture["sigmas"] == [1.0, 16.0, 256.0]
    entry.verify()  # sha256 of every file against its PROVENANCE.json
    np.testing.assert_array_equal(GeoEmbedder(weights="geoclip-1.3.0").fit_transform(CITIES), reference)
    with pytest.raises(ValueError, match="unknown weights 'nope'"):
        get_weights("nope")


def test_cuda_request_without_cuda_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        GeoEmbedder(device="cuda").fit(CITIES)
    assert GeoEmbedder(device="auto").fit_transform(CITIES).shape == (4, 512)


def test_pipeline_and_column_transformer():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {"lat": rng.uniform(-60, 70, n), "lon": rng.uniform(-180, 180, n), "rooms": rng.integers(1, 6, n)}
    )
    y = np.sin(np.radians(frame.lat)) + 0.1 * frame.rooms
    pipe = make_pipeline(GeoEmbedder(normalize=True), Ridge(alpha=1e-3)).fit(frame[["lat", "lon"]], y)
    assert pipe.score(frame[["lat", "lon"]], y) > 0.9
    ct = ColumnTransformer([("geo", GeoEmbedder(), ["lat", "lon"]), ("num", "passthrough", ["rooms"])])
    ct.set_output(transform="pandas")
    out = ct.fit_transform(frame)
    assert out.shape == (n, 513) and out.columns[0] == "geo__geoclip_0" and out.columns[-1] == "num__rooms"


# -- frames of any kind are read by column name ---------------------------------------------------
SWAPPED = pd.DataFrame({"lon": CITIES["lon"].to_numpy(), "lat": CITIES["lat"].to_numpy()})  # (lon, lat) order


class InterchangeOnly:
    """A frame known only through the dataframe interchange protocol."""

    def __init__(self, table):
        self._table = table

    def __dataframe__(self, nan_as_null=False, allow_copy=True):
        return self._table.__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)


class ArrowStreamOnly:
    """A frame known only through the Arrow PyCapsule stream interface."""

    def __init__(self, table):
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "pyarrow_batch", "interchange", "arrow_stream"])
def test_other_frames_are_read_by_name(kind, reference):
    pa = pytest.importorskip("pyarrow")
    if kind == "polars":
        frame = pytest.importorskip("polars").from_pandas(SWAPPED)
    elif kind == "pyarrow":
        frame = pa.Table.from_pandas(SWAPPED)
    elif kind == "pyarrow_batch":
        frame = pa.RecordBatch.from_pandas(SWAPPED)
    elif kind == "arrow_stream":
        frame = ArrowStreamOnly(pa.Table.from_pandas(SWAPPED))
    else:
        frame = InterchangeOnly(pa.Table.from_pandas(SWAPPED))
    np.testing.assert_array_equal(GeoEmbedder().fit_transform(frame), reference)
    with pytest.raises(ValueError, match="no latitude column found"):
        GeoEmbedder().fit(pa.Table.from_pandas(SWAPPED.rename(columns={"lat": "y"})))


def test_polars_output_for_polars_input(reference):
    pl = pytest.importorskip("polars")
    out = GeoEmbedder().set_output(transform="polars").fit_transform(pl.from_pandas(SWAPPED))
    assert isinstance(out, pl.DataFrame) and out.columns[:2] == ["geoclip_0", "geoclip_1"]
    np.testing.assert_array_equal(out.to_numpy(), reference)


def test_bool_columns_are_rejected():
    frame = pd.DataFrame({"lat": [True, False], "lon": [1.0, 2.0]})
    with pytest.raises(ValueError, match="latitude column 'lat' holds booleans"):
        GeoEmbedder().fit_transform(frame)
    with pytest.raises(ValueError, match="holds booleans"):
        GeoEmbedder().fit_transform(np.array([[1.0, True]], dtype=object))


def test_longitude_180_is_minus_180():
    out = GeoEmbedder().fit_transform(np.array([[10.0, 180.0], [10.0, -180.0], [-45.0, 180.0], [-45.0, -180.0]]))
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[2], out[3])
    assert not np.allclose(out[0], out[2])


def test_every_kind_of_problem_in_one_error():
    frame = pd.DataFrame({"lat": [np.nan, 95.0, 10.0, 0.0], "lon": [0.0, 0.0, 200.0, 0.0]}, index=["a", "b", "c", "d"])
    with pytest.raises(ValueError) as error:
        GeoEmbedder().fit_transform(frame)
    message = str(error.value)
    assert "finite" in message and "rows ['a']" in message
    assert "latitude must be in [-90, 90]; rows ['b']" in message
    assert "longitude must be in [-180, 180]; rows ['c']" in message


# -- compact features: the bundled PCA basis ------------------------------------------------------
def test_n_components_projects_on_the_bundled_basis(reference):
    from safetensors.numpy import load_file

    from geoembed.models.weights import get_weights

    basis = load_file(str(get_weights("geoclip-1.3.0").path("pca_basis")))
    components = basis["components"].astype(np.float64)
    np.testing.assert_allclose(components @ components.T, np.eye(512), atol=1e-5)  # orthonormal rows
    assert np.all(np.diff(basis["explained_variance_ratio"]) <= 1e-9) and basis[
        "explained_variance_ratio"
    ].sum() == pytest.approx(1.0, abs=1e-5)
    embedder = GeoEmbedder(n_components=16).set_output(transform="pandas")
    out = embedder.fit_transform(CITIES)
    assert list(out.columns[:2]) == ["geoclip_pc0", "geoclip_pc1"] and list(out.index) == list(CITIES.index)
    expected = (reference.astype(np.float64) - basis["mean"]) @ components[:16].T
    np.testing.assert_allclose(out.to_numpy(), expected, atol=1e-5)
    assert embedder.encoder_.explained_variance_ratio_.shape == (16,)


def test_n_components_variance_decreases_on_an_equal_area_sample():
    i = np.arange(3000) + 0.5
    lattice = np.column_stack(
        [np.degrees(np.arcsin(1 - 2 * i / 3000)), (np.degrees(np.pi * (3 - np.sqrt(5)) * i) + 180) % 360 - 180]
    )
    variance = GeoEmbedder(n_components=64).fit_transform(lattice).var(axis=0)
    assert variance[0] > variance[8] > variance[63] > 0


def test_n_components_needs_a_basis(tmp_path):
    from geoembed.encoders.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig

    path = GeoCLIPLocationEncoder(LocationEncoderConfig(n_frequencies=8, hidden_dim=16, embed_dim=6)).save(
        tmp_path / "tiny.safetensors"
    )
    with pytest.raises(ValueError, match="n_components=4 needs a PCA basis of the weights; checkpoint .* has none"):
        GeoEmbedder(weights=str(path), n_components=4).fit(CITIES)
    with pytest.raises(ValueError, match="n_components=600 exceeds the 512 components"):
        GeoEmbedder(n_components=600).fit(CITIES)
    with pytest.raises(ValueError, match="n_components=4 does not apply to encoder='wrap'"):
        GeoEmbedder(encoder="wrap", n_components=4).fit(CITIES)


def test_column_names_name_the_weights_in_every_output(tmp_path):
    """geoclip_0 ... for the published weights; geoclip_lite_0 ... for the student, alike in
    pandas, polars, xarray and the files embed_file writes, so that a table says which model made it."""
    import pyarrow.parquet as pq

    from geoembed.files import embed_file

    lite = GeoEmbedder(weights="geoclip-lite")
    names = lite.fit(CITIES).get_feature_names_out()
    assert names[0] == "geoclip_lite_0" and names[-1] == "geoclip_lite_511"
    pandas_out = clone(lite).set_output(transform="pandas").fit_transform(CITIES)
    assert list(pandas_out.columns) == list(names) and list(pandas_out.index) == list(CITIES.index)
    pl = pytest.importorskip("polars")
    polars_out = clone(lite).set_output(transform="polars").fit_transform(pl.from_pandas(CITIES))
    assert polars_out.columns == list(names)
    grid = xr.Dataset(coords={"lat": [10.0, 20.0], "lon": [30.0, 40.0, 50.0]})
    assert list(clone(lite).fit_transform(grid).feature.values) == list(names)
    CITIES.to_csv(tmp_path / "points.csv")
    embed_file(tmp_path / "points.csv", tmp_path / "out.parquet", progress=False, weights="geoclip-lite")
    assert pq.read_schema(tmp_path / "out.parquet").names[-512:] == list(names)
    # the published weights keep the names of earlier releases, by name or by file
    from geoembed.models.weights import LOCATION_ENCODER_FILE

    for weights in (None, "geoclip-1.3.0", LOCATION_ENCODER_FILE):
        assert GeoEmbedder(weights=weights).fit(CITIES).get_feature_names_out()[0] == "geoclip_0"


def test_checkpoint_column_names_come_from_the_file_or_its_run_folder(tmp_path):
    import shutil

    from geoembed.models.weights import get_weights

    student = get_weights("geoclip-lite").location_encoder_path
    (tmp_path / "runs" / "europe").mkdir(parents=True)
    run_file = shutil.copy(student, tmp_path / "runs" / "europe" / "location_encoder.safetensors")
    named_file = shutil.copy(student, tmp_path / "My Model-v2.safetensors")
    assert GeoEmbedder(weights=run_file).fit(CITIES).get_feature_names_out()[0] == "geoclip_europe_0"
    assert GeoEmbedder(weights=str(named_file)).fit(CITIES).get_feature_names_out()[0] == "geoclip_my_model_v2_0"


def test_non_numeric_coordinates_are_told_how_to_write_them():
    with pytest.raises(ValueError, match=r"rows \[0\] have '48.85°'; write degrees as decimal numbers"):
        GeoEmbedder(encoder="wrap").fit_transform([["48.85°", "2.35"]])  # the value, not np.str_('48.85°')
    commas = pd.DataFrame({"lat": ["48,85", "47,1"] + ["x"] * 6, "lon": [2.0] * 8})
    with pytest.raises(ValueError, match=r"rows \[0, 1, 2, 3, 4\] \(and 3 more\) have '48,85'.*decimal commas"):
        GeoEmbedder(encoder="wrap").fit_transform(commas)
    with pytest.raises(ValueError, match=r"column 'latitude' not found.*did you mean 'Latitude'\?"):
        GeoEmbedder(encoder="wrap", lat_col="latitude").fit_transform(pd.DataFrame({"Latitude": [1.0], "lon": [2.0]}))


def test_nan_rows_take_the_fitted_dtype():
    """A dtype set since fit applies at the next fit: the NaN rows of on_invalid='nan' follow the
    encoded rows, not the new parameter.
    """
    embedder = GeoEmbedder(encoder="wrap", on_invalid="nan", dtype="float32").fit([[0.0, 0.0]])
    embedder.set_params(dtype="float16")
    clean = embedder.transform([[10.0, 20.0], [30.0, 40.0]])
    mixed = embedder.transform([[10.0, 20.0], [95.0, 40.0]])
    assert clean.dtype == mixed.dtype and np.isnan(mixed[1]).all()
