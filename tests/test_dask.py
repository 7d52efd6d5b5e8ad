"""Dask: lazy transforms of dask DataFrames and dask-backed xarray, on a real LocalCluster."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from numerics import assert_geoclip_close, assert_rounded_once_close  # noqa: E402

from geoembed import GeoEmbedder, make_encoder  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    index = pd.Index([f"p{i}" for i in range(2000)], name="point")
    return pd.DataFrame({"lat": rng.uniform(-80, 80, 2000), "lon": rng.uniform(-180, 180, 2000)}, index=index)


@pytest.mark.parametrize("make", [lambda: GeoEmbedder(), lambda: make_encoder("sphereC+")], ids=["geoclip", "sphereC+"])
def test_dask_dataframe_matches_in_memory(client, points, make):
    encoder = make().fit(points)
    ddf = dd.from_pandas(points, npartitions=8)  # dask sorts the index into partitions
    lazy = encoder.transform(ddf)
    assert isinstance(lazy, dd.DataFrame)  # nothing computed yet; metadata known up front
    assert list(lazy.columns) == list(encoder.get_feature_names_out())
    result = lazy.compute()
    assert result.index.equals(ddf.index.compute())  # every row keeps its label and position
    in_memory = encoder.transform(points)
    if isinstance(encoder, GeoEmbedder):
        some = points.index[::7]  # the float64 reference costs ~10 ms a point
        assert_geoclip_close(result.loc[some].to_numpy(), points.loc[some, ["lat", "lon"]].to_numpy(), what="dask")
    else:
        assert_rounded_once_close(result.loc[points.index].to_numpy(), in_memory)


def test_weights_load_once_per_worker(client, points):
    encoder = GeoEmbedder().fit(points)

    def count_loads():  # in each worker: every checkpoint read goes through from_checkpoint
        import geoembed.models.geoclip as module

        module._LOADED.clear()
        original = module.GeoCLIPLocationEncoder.from_checkpoint.__func__
        module.LOADS = 0

        def counted(cls, *args, **kwargs):
            module.LOADS += 1
            return original(cls, *args, **kwargs)

        module.GeoCLIPLocationEncoder.from_checkpoint = classmethod(counted)

    client.run(count_loads)
    encoder.transform(dd.from_pandas(points, npartitions=16)).compute()
    loads = client.run(lambda: __import__("geoembed.models.geoclip", fromlist=["x"]).LOADS)
    assert len(loads) == 2 and all(n <= 1 for n in loads.values()) and sum(loads.values()) >= 1


def test_grid_nodes_are_computed_once_per_worker(client):
    # interpolation over one city: the nodes a worker computed for one partition serve its next ones
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"lat": 44.9 + rng.uniform(-0.2, 0.2, 4000), "lon": -93.2 + rng.uniform(-0.2, 0.2, 4000)})
    encoder = GeoEmbedder(interpolation_km=1.0).fit(frame)

    def count_rows():  # in each worker: rows through the model
        import geoembed.models.geoclip as module

        original = module.GeoCLIPLocationEncoder.embed_resolved
        module.ROWS, module.ORIGINAL = 0, original

        def counted(self, latlon, **kwargs):
            module.ROWS += latlon.shape[0]
            return original(self, latlon, **kwargs)

        module.GeoCLIPLocationEncoder.embed_resolved = counted

    def restore():
        import geoembed.models.geoclip as module

        module.GeoCLIPLocationEncoder.embed_resolved = module.ORIGINAL

    client.run(count_rows)
    lazy = encoder.transform(dd.from_pandas(frame, npartitions=16))
    result = lazy.compute()
    rows = client.run(lambda: __import__("geoembed.models.geoclip", fromlist=["x"]).ROWS)
    from geoembed.core.geo import KM_PER_DEGREE, bilinear_grid_cells

    nodes, _, _ = bilinear_grid_cells(frame["lat"], frame["lon"], 1.0 / KM_PER_DEGREE)
    # each of the 2 workers computes each node at most once (16 partitions each touch most nodes)
    assert 0 < sum(rows.values()) <= 2 * len(nodes)
    np.testing.assert_allclose(result.to_numpy(), encoder.transform(frame), rtol=0, atol=1e-5)
    # a second compute of the same graph reuses them (only nodes of partitions a worker did not run before)
    lazy.compute()
    again = client.run(lambda: __import__("geoembed.models.geoclip", fromlist=["x"]).ROWS)
    assert sum(again.values()) - sum(rows.values()) < 0.1 * sum(rows.values())
    client.run(restore)


def test_grid_nodes_are_computed_once_by_the_threaded_scheduler(monkeypatch):
    # one process, two threads: one transformer and one node cache for every partition
    from geoembed.core.geo import KM_PER_DEGREE, bilinear_grid_cells

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"lat": 48.8 + rng.uniform(-0.2, 0.2, 3000), "lon": 2.3 + rng.uniform(-0.2, 0.2, 3000)})
    encoder = GeoEmbedder(interpolation_km=1.0).fit(frame)
    rows = []
    loaded = encoder.encoder_.module_  # the process's one loaded model, which every copy uses
    original = loaded.embed_resolved

    def counted(latlon, **kwargs):
        rows.append(latlon.shape[0])
        return original(latlon, **kwargs)

    monkeypatch.setattr(loaded, "embed_resolved", counted)
    result = encoder.transform(dd.from_pandas(frame, npartitions=12)).compute(scheduler="threads", num_workers=2)
    nodes, _, _ = bilinear_grid_cells(frame["lat"], frame["lon"], 1.0 / KM_PER_DEGREE)
    # two threads may both compute a node neither had cached yet, never more
    assert 0 < sum(rows) <= 2 * len(nodes)
    np.testing.assert_allclose(result.to_numpy(), encoder.transform(frame), rtol=0, atol=1e-5)


def test_dask_backed_xarray(client):
    grid = xr.Dataset(
        {"t": (("lat", "lon"), np.zeros((13, 18)))},
        coords={"lat": np.arange(-60, 61, 10.0), "lon": np.arange(-180, 180, 20.0)},
    )
    encoder = GeoEmbedder().fit(grid)
    lazy = encoder.transform(grid.chunk({"lat": 5, "lon": 6}))
    assert lazy.dims == ("lat", "lon", "feature") and lazy.chunks is not None
    values = lazy.compute().values
    latlon = np.array([[la, lo] for la in grid.lat.values for lo in grid.lon.values])
    assert_geoclip_close(values.reshape(-1, values.shape[-1]), latlon, what="dask-backed xarray")


def test_pandas_output_config_with_dask_is_a_clear_error(points):
    encoder = GeoEmbedder().set_output(transform="pandas").fit(points)
    with pytest.raises(ValueError, match="dask inputs return lazy dask objects"):
        encoder.transform(dd.from_pandas(points, npartitions=2))


def test_the_output_keeps_a_named_index_that_writers_need(points, tmp_path):
    # the metadata once dropped the index's name: to_parquet failed after every partition was embedded
    import dask

    encoder = make_encoder("sphereC+").fit(points)
    ddf = dd.from_pandas(points, npartitions=4)
    lazy = encoder.transform(ddf)
    assert lazy.index.name == "point" and lazy.index.dtype == ddf.index.dtype
    with dask.config.set(scheduler="synchronous"):
        lazy.to_parquet(tmp_path / "features")
    back = pd.read_parquet(tmp_path / "features")
    assert back.index.name == "point" and set(back.index) == set(points.index)
    assert_rounded_once_close(back.loc[points.index].to_numpy(), encoder.transform(points))


def test_a_bad_row_is_named_with_its_partition(points):
    bad = points.copy()
    bad.iloc[1500, 0] = 95.0  # in the fourth of four partitions
    encoder = make_encoder("sphereC+").fit(points)
    lazy = encoder.transform(dd.from_pandas(bad, npartitions=4, sort=False))
    with pytest.raises(ValueError, match=r"dask partition 3 of 4 .*latitude must be in \[-90, 90\]; rows \['p1500'\]"):
        lazy.compute(scheduler="synchronous")


def test_a_process_keeps_the_objects_of_the_last_two_calls():
    # two transforms in one query alternate on a worker: each is unpickled once, not once per task
    from geoembed.core.utils import ONE_PER_PROCESS_KEPT, one_per_process

    assert ONE_PER_PROCESS_KEPT == 2
    loads = []

    def loader(key):
        return lambda: loads.append(key) or object()

    first = one_per_process("test-a", loader("a"))
    second = one_per_process("test-b", loader("b"))
    for _ in range(3):
        assert one_per_process("test-a", loader("a")) is first
        assert one_per_process("test-b", loader("b")) is second
    assert loads == ["a", "b"]
    one_per_process("test-c", loader("c"))  # a third call: the least recently used ("a") goes
    assert one_per_process("test-b", loader("b")) is second
    assert one_per_process("test-a", loader("a")) is not first and loads == ["a", "b", "c", "a"]


def test_fit_reads_a_dask_frames_columns_and_transform_checks_them_before_any_work(points):
    ddf = dd.from_pandas(points.assign(name="x"), npartitions=4)
    encoder = make_encoder("sphereC+")
    lazy = encoder.fit_transform(ddf)  # fit reads the columns alone: nothing is computed
    assert list(encoder.feature_names_in_) == ["lat", "lon", "name"]
    expected = make_encoder("sphereC+").fit_transform(points)  # dask sorts the index into partitions
    np.testing.assert_array_equal(lazy.compute().loc[points.index].to_numpy(), expected)
    fitted = make_encoder("sphereC+").fit(points)
    problems = {
        "no latitude column found": ddf.drop(columns="lat"),
        r"ambiguous latitude columns \['lat', 'latitude'\]": ddf.assign(latitude=ddf.lat),
        "holds booleans": ddf.assign(lat=ddf.lat > 0),
    }
    for message, bad in problems.items():
        with pytest.raises(ValueError, match=message):  # at the call, not when a partition computes
            fitted.transform(bad)


def test_estimators_that_need_rows_in_memory_say_how_to_apply_them_to_dask(points):
    from geoembed import LocationTargetEncoder

    prior = LocationTargetEncoder("sphereC+", learners=("knn",), random_state=0).fit(points, points["lat"] * 2)
    with pytest.raises(
        TypeError, match=r"ddf.map_partitions\(transformer.set_output\(transform='pandas'\).transform\)"
    ):
        prior.transform(dd.from_pandas(points, npartitions=2))


def test_sparse_rows_through_dask_warn_with_their_dense_size(points):
    encoder = make_encoder("grid_onehot").fit(points)
    with pytest.warns(UserWarning, match=r"64,800 float64 columns, 518 KB a row"):
        encoder.transform(dd.from_pandas(points.iloc[:10], npartitions=1))


def test_bad_coordinates_of_a_dask_backed_grid_are_named_as_in_memory():
    lat = np.linspace(-80, 80, 40)
    lat[25] = np.nan
    grid = xr.DataArray(np.zeros((40, 30)), dims=("lat", "lon"), coords={"lat": lat, "lon": np.linspace(-170, 170, 30)})
    encoder = make_encoder("sphereC+").fit_without_data()
    with pytest.raises(ValueError) as in_memory:
        encoder.transform(grid)
    with pytest.raises(ValueError) as lazy:  # when transform is called: the coordinates are in memory
        encoder.transform(grid.chunk({"lat": 10}))
    assert str(lazy.value) == str(in_memory.value) and "rows [750, 751" in str(lazy.value)


@pytest.mark.parametrize("chunks", [{"lat": 5, "time": 1}, {"time": 1}])
def test_a_dask_backed_grid_with_another_dimension_is_embedded_as_in_memory(chunks):
    """A (time, lat, lon) grid: the embedding is (lat, lon, feature) in memory, and lazily alike."""
    grid = xr.DataArray(
        np.zeros((3, 20, 30)),
        dims=("time", "lat", "lon"),
        coords={"lat": np.linspace(-60, 60, 20), "lon": np.linspace(-170, 170, 30)},
    )
    encoder = make_encoder("sphereC+").fit_without_data()
    lazy = encoder.transform(grid.chunk(chunks))
    assert lazy.chunks is not None and lazy.dims == ("lat", "lon", "feature")
    np.testing.assert_array_equal(lazy.compute().values, encoder.transform(grid).values)
