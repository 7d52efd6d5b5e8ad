"""geoembed.spark on a local Spark session: row-by-row agreement with the in-process transformers,
invalid rows, errors before any job, a killed task retried, and all-or-nothing Parquet output."""

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
from numerics import assert_geoclip_close, assert_rounded_once_close

pytest.importorskip("pyspark", reason="the spark extra is not installed: pip install 'geoembed-toolkit[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime (pyspark needs one): install a JDK 17 or set JAVA_HOME", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from geoembed import GeoEmbedder, LocationTargetEncoder, make_encoder  # noqa: E402
from geoembed import spark as gs  # noqa: E402
from geoembed.models.weights import resolve_location_weights  # noqa: E402

N = 600
BAD = [7, 301, 555]  # rows with invalid coordinates, in different partitions


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers run this interpreter (and its geoembed)
    session = (
        SparkSession.builder.master("local[2,4]")  # 2 threads; a failed task is retried up to 4 times
        .appName("geoembed-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "128")  # several batches per partition
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "id": np.arange(N),
            "Latitude": rng.uniform(-85, 85, N),
            "lng": rng.uniform(-180, 180, N),
            "city": rng.choice(["a", "b", "c"], N),
        }
    )
    frame["y"] = np.sin(np.radians(frame.Latitude)) * 10 + rng.normal(0, 1, N)
    frame.loc[BAD[0], "Latitude"] = 95.0
    frame.loc[BAD[1], "lng"] = np.nan
    frame.loc[BAD[2], "Latitude"] = np.inf
    return frame


@pytest.fixture(scope="module")
def sdf(spark, table):
    return spark.createDataFrame(table.drop(columns="y")).repartition(4, "id")


def spark_rows(result, column="embedding") -> tuple[np.ndarray, pd.DataFrame]:
    """The Spark output as (features ordered by id, the frame ordered by id)."""
    frame = result.toPandas().sort_values("id").reset_index(drop=True)
    return np.stack(frame[column].to_numpy()).astype(np.float32), frame


@pytest.mark.parametrize(
    "name, make",
    [
        ("geoclip exact", lambda: GeoEmbedder(on_invalid="nan")),
        ("geoclip-lite", lambda: GeoEmbedder(weights="geoclip-lite", on_invalid="nan")),
        ("sphereC+", lambda: make_encoder("sphereC+", on_invalid="nan")),
    ],
)
def test_spark_output_equals_in_process_row_by_row(name, make, sdf, table):
    good = np.setdiff1d(np.arange(N), BAD)
    frame = table[["Latitude", "lng"]]
    encoder = make().fit(frame.iloc[:5])
    got, rows = spark_rows(gs.transform(sdf, encoder))
    assert rows["id"].tolist() == list(range(N))  # every row exactly once, ids joined back
    assert rows.columns.tolist() == ["id", "Latitude", "lng", "city", "embedding"]
    assert np.isnan(got[BAD]).all() and np.isfinite(got[good]).all()  # on_invalid="nan", as in pandas
    expected = np.asarray(encoder.transform(frame), dtype=np.float32)
    assert np.isnan(expected[BAD]).all()
    if name.startswith("geoclip"):
        latlon = frame.to_numpy()[good]
        path = resolve_location_weights(None if name == "geoclip exact" else "geoclip-lite")
        assert_geoclip_close(got[good], latlon, path, what=f"{name} through Spark")
        assert_geoclip_close(expected[good], latlon, path, what=f"{name} in process")
    else:
        assert_rounded_once_close(got[good], expected[good])


def test_worker_cache_is_keyed_by_the_call_not_the_broadcast_object():
    """Python workers outlive jobs, and a worker-side Broadcast has no id: the cache once keyed on
    id() of one, which is reused once Spark's cleaner frees the last, and handed a geoclip-lite job
    the previous job's GeoCLIP transformer (a CI run on record)."""
    from types import SimpleNamespace

    from pyspark import cloudpickle

    first, second = make_encoder("sphereC+", n_frequencies=4), make_encoder("sphereC+", n_frequencies=5)
    shared = SimpleNamespace(value=cloudpickle.dumps(first))
    assert gs._worker_transformer(shared, "a").n_frequencies == 4
    shared.value = cloudpickle.dumps(second)  # the same object (same id()), another call's payload
    assert gs._worker_transformer(shared, "b").n_frequencies == 5
    assert gs._worker_transformer(shared, "b") is gs._worker_transformer(shared, "b")  # unpickled once


def test_named_columns_and_float16(sdf, table):
    encoder = make_encoder("sphereC+", on_invalid="nan").fit(table[["Latitude", "lng"]].iloc[:5])
    result = gs.transform(sdf, encoder, output="columns", dtype="float16").toPandas().sort_values("id")
    names = list(encoder.get_feature_names_out())
    assert result.columns.tolist() == ["id", "Latitude", "lng", "city", *names]
    expected = np.asarray(encoder.transform(table[["Latitude", "lng"]]), dtype=np.float64)
    got = result[names].to_numpy(np.float64)
    good = np.setdiff1d(np.arange(N), BAD)
    # one rounding to float16 of the float32 result (itself one rounding of float64)
    bound = np.spacing(np.abs(expected[good]).astype(np.float16)).astype(np.float64) + 2 * np.spacing(
        np.abs(expected[good]).astype(np.float32)
    )
    assert (np.abs(got[good] - expected[good]) <= bound).all()
    assert np.array_equal(got[good], got[good].astype(np.float16).astype(np.float64))  # really float16 values


def test_spark_columns_reach_the_transformer_under_the_names_it_was_fitted_on(sdf, table):
    """Spark columns named otherwise (given as lat_col/lon_col) are handed to a transformer fitted on
    lat/lon under its own names, to one fitted on an array as an array; the workers once looked the
    Spark names up again and failed every task."""
    good = np.setdiff1d(np.arange(N), BAD)
    renamed = sdf.withColumnRenamed("Latitude", "geo_lat").withColumnRenamed("lng", "geo_lon")
    frame = table[["Latitude", "lng"]].set_axis(["lat", "lon"], axis=1)
    expected = np.asarray(make_encoder("sphereC+", on_invalid="nan").fit(frame).transform(frame), dtype=np.float32)
    for fitted_on in (frame.iloc[:5], frame.iloc[:5].to_numpy()):
        encoder = make_encoder("sphereC+", on_invalid="nan").fit(fitted_on)
        got, rows = spark_rows(gs.transform(renamed, encoder, lat_col="geo_lat", lon_col="geo_lon"))
        assert rows["id"].tolist() == list(range(N))
        assert_rounded_once_close(got[good], expected[good])
        assert np.isnan(got[BAD]).all()
    # a pipeline whose first step names the columns (the pipeline itself has no lat_col)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    named = frame.iloc[:5].set_axis(["geo_lat", "geo_lon"], axis=1)
    pipe = make_pipeline(make_encoder("sphereC+", lat_col="geo_lat", lon_col="geo_lon"), StandardScaler()).fit(named)
    result = gs.transform(renamed.where(~renamed.id.isin(BAD)), pipe, lat_col="geo_lat", lon_col="geo_lon")
    got, rows = spark_rows(result)
    expected_pipe = pipe.transform(frame.iloc[good].set_axis(["geo_lat", "geo_lon"], axis=1))
    assert rows["id"].tolist() == good.tolist()
    assert_rounded_once_close(got, expected_pipe)
    wide = make_encoder("sphereC+").fit(table[["Latitude", "lng", "y"]].iloc[:5])
    with pytest.raises(ValueError, match=r"fitted on the columns \['Latitude', 'lng', 'y'\].*fit it on those two"):
        gs.transform(sdf, wide)


def test_projected_columns_with_their_crs(spark):
    """x/y columns in a national CRS (British National Grid), reprojected on the workers."""
    from pyproj import Transformer

    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(50.0, 55.0, 300), rng.uniform(-4.0, 1.0, 300)
    easting, northing = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
    frame = pd.DataFrame({"id": np.arange(300), "easting": easting, "northing": northing})
    sdf = spark.createDataFrame(frame).repartition(3, "id")
    encoder = make_encoder("sphereC+").fit(pd.DataFrame({"lat": lat[:5], "lon": lon[:5]}))
    got, rows = spark_rows(gs.transform(sdf, encoder, crs="EPSG:27700"))
    assert rows.columns.tolist() == ["id", "easting", "northing", "embedding"]
    back_lon, back_lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(easting, northing)
    expected = encoder.transform(pd.DataFrame({"lat": back_lat, "lon": back_lon}))
    assert_rounded_once_close(got, np.asarray(expected, dtype=np.float32))
    with pytest.raises(ValueError, match="name them with x_col and y_col"):
        gs.transform(sdf, encoder, crs="EPSG:27700", lat_col="northing")
    with pytest.raises(ValueError, match="give their crs as well"):
        gs.transform(sdf, encoder, x_col="easting")
    with pytest.raises(ValueError, match="not a coordinate reference system pyproj knows"):
        gs.transform(sdf, encoder, crs="EPSG:999999")
    with pytest.raises(ValueError, match="no x column found"):
        gs.transform(sdf.drop("easting"), encoder, crs="EPSG:27700")
    # degrees labelled as metres of the grid: refused by the area-of-use check, naming the partition
    degrees = spark.createDataFrame(pd.DataFrame({"id": np.arange(300), "x": lon, "y": lat}))
    with pytest.raises(
        Exception, match="geoembed.spark: partition .*do not look like 'OSGB36 / British National Grid'"
    ):
        gs.transform(degrees, encoder, crs="EPSG:27700").collect()


def test_location_target_encoder_through_spark(sdf, table):
    good = np.setdiff1d(np.arange(N), BAD)
    train = table.iloc[good]
    prior = LocationTargetEncoder(learners=("knn", "trees"), random_state=0).fit(train[["Latitude", "lng"]], train.y)
    clean = sdf.where(~sdf.id.isin(BAD))
    got, rows = spark_rows(gs.transform(clean, prior, output_col="prior"), "prior")
    expected = prior.transform(train[["Latitude", "lng"]])
    np.testing.assert_allclose(got[:, 0], expected[:, 0].astype(np.float32), rtol=2**-23, atol=0)
    assert rows["id"].tolist() == good.tolist()


def test_invalid_rows_raise_as_in_pandas_and_name_the_partition(sdf, table):
    encoder = make_encoder("sphereC+").fit(table[["Latitude", "lng"]].iloc[:5])  # on_invalid="raise"
    with pytest.raises(ValueError, match="latitude must be in"):
        encoder.transform(table[["Latitude", "lng"]])
    message = r"geoembed.spark: partition \d+, rows \d+ to \d+ of the partition.*(must be finite|latitude must be in)"
    with pytest.raises(Exception, match=message):
        gs.transform(sdf, encoder, check=False).collect()
    nulls = sdf.where(sdf.id.isin([BAD[1]]))  # lng is missing there: a null and a NaN reach pandas alike
    with pytest.raises(Exception, match=r"must be finite.*\(a Spark null arrives as NaN\)"):
        gs.transform(nulls, encoder, check=False).collect()


def test_invalid_rows_are_found_before_any_embedding(sdf, table, spark):
    """By default every bad row is counted by one scan of the two columns when transform is called."""
    encoder = make_encoder("sphereC+").fit(table[["Latitude", "lng"]].iloc[:5])  # on_invalid="raise"
    with pytest.raises(ValueError, match=r"3 row\(s\) have invalid coordinates .* before any embedding") as found:
        gs.transform(sdf, encoder)
    assert all(f"'id': '{row}'" in str(found.value) for row in BAD)  # the rows, with their ids
    clean = sdf.where(~sdf.id.isin(BAD))
    assert gs.transform(clean, encoder).count() == N - len(BAD)  # nothing to report: lazy as before
    wrapping = make_encoder("sphereC+", wrap_longitude=True).fit(table[["Latitude", "lng"]].iloc[:5])
    beyond = clean.withColumn("lng", clean.lng + 360.0)  # wrapped longitudes are valid for it
    assert gs.transform(beyond, wrapping).count() == N - len(BAD)
    with pytest.raises(ValueError, match="longitude outside"):
        gs.transform(beyond, encoder)
    strings = clean.withColumn("Latitude", clean.Latitude.cast("string"))
    with pytest.raises(ValueError, match="1 row"):  # a string that is no number
        gs.transform(strings.withColumn("Latitude", strings.Latitude.substr(1, 0)).limit(1), encoder)
    nan_rows = make_encoder("sphereC+", on_invalid="nan").fit(table[["Latitude", "lng"]].iloc[:5])
    assert gs.transform(sdf, nan_rows).count() == N  # NaN features for them: nothing to check
    # a pipeline reads coordinates through its first step, whose settings the scan follows
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    lenient = make_pipeline(make_encoder("sphereC+", on_invalid="nan"), StandardScaler())
    lenient.fit(table[["Latitude", "lng"]].iloc[good_rows := np.setdiff1d(np.arange(N), BAD)][:50])
    assert gs.transform(sdf, lenient, check=True).count() == N
    wraps = make_pipeline(make_encoder("sphereC+", wrap_longitude=True), StandardScaler())
    wraps.fit(table[["Latitude", "lng"]].iloc[good_rows][:50])
    assert gs.transform(beyond, wraps).count() == N - len(BAD)
    # wide columns and awkward names: the examples stay short, the coordinates are read by their names
    from pyspark.sql import functions as F

    odd = sdf.withColumnRenamed("Latitude", "geo.lat").withColumn("blob", F.repeat(F.col("city"), 5000))
    wide = make_encoder("sphereC+", lat_col="geo.lat").fit(pd.DataFrame({"geo.lat": [1.0], "lng": [2.0]}))
    with pytest.raises(ValueError, match="3 row") as found:
        gs.transform(odd, wide, lat_col="geo.lat")
    assert len(str(found.value)) < 2_000 and "'id': '" in str(found.value)
    assert gs.transform(odd.where(~odd.id.isin(BAD)), wide, lat_col="geo.lat").count() == N - len(BAD)


def test_the_scan_names_swapped_columns_duplicates_and_the_remedy_the_transformer_has(sdf, table):
    good = sdf.where(~sdf.id.isin(BAD))
    encoder = make_encoder("sphereC+").fit(table[["Latitude", "lng"]].iloc[:5])
    # longitudes beyond 90 read as latitudes, latitudes within 90 read as longitudes: swapped?
    swapped = good.where("abs(lng) > 90").withColumnRenamed("Latitude", "tmp").withColumnRenamed("lng", "Latitude")
    swapped = swapped.withColumnRenamed("tmp", "lng")
    with pytest.raises(ValueError, match=r"are the two columns swapped\? Name them with lat_col="):
        gs.transform(swapped, encoder)
    with pytest.raises(ValueError) as found:  # ordinary bad rows: no such hint
        gs.transform(sdf, encoder)
    assert "swapped" not in str(found.value) and "on_invalid='nan'" in str(found.value)
    # a transformer without on_invalid is told to drop the rows (LocationTargetEncoder has no such option)
    train = table.iloc[np.setdiff1d(np.arange(N), BAD)]
    prior = LocationTargetEncoder("cartesian3d", learners=("knn",), random_state=0).fit(
        train[["Latitude", "lng"]], train.y
    )
    with pytest.raises(ValueError, match=r"dropna\(subset=\['Latitude', 'lng'\]\)") as found:
        gs.transform(sdf, prior)
    assert "on_invalid" not in str(found.value)
    # the same name twice after a join: naming it cannot pick one, so the error says to rename
    joined = good.alias("a").join(good.alias("b"), "id").select("id", "a.Latitude", "a.lng", "b.Latitude")
    for call in (lambda: gs.transform(joined, encoder), lambda: gs.transform(joined, encoder, lat_col="Latitude")):
        with pytest.raises(ValueError, match=r"name 'Latitude' appears 2 times.*rename or drop"):
            call()
    # names that differ only in case are one name to Spark (spark.sql.caseSensitive is false by default)
    cased = good.select("id", "Latitude", "lng", (good["Latitude"] + 1).alias("LATITUDE"))
    for call in (lambda: gs.transform(cased, encoder), lambda: gs.transform(cased, encoder, lat_col="Latitude")):
        with pytest.raises(ValueError, match=r"appears 2 times.*compares names without case.*rename or drop"):
            call()
    # and a name given in another case than the table's is the column Spark resolves it to
    expected = np.stack(gs.transform(good, encoder).orderBy("id").toPandas()["embedding"])
    other_case = gs.transform(good, encoder, lat_col="LATITUDE", lon_col="LNG").orderBy("id").toPandas()
    np.testing.assert_array_equal(np.stack(other_case["embedding"]), expected)
    # crs= of longitude/latitude on a lat/lon table: crs= reads x/y columns
    with pytest.raises(ValueError, match=r"no [xy] column found.*longitude/latitude CRS.*leave crs out"):
        gs.transform(good, encoder, crs="EPSG:4326")


def test_a_transformers_own_error_keeps_its_type_and_says_where(sdf):
    from sklearn.preprocessing import FunctionTransformer

    def fails_in_the_north(X):  # local, so that the workers get it by value
        X = np.asarray(X, dtype=float)
        if (X[:, 0] > 80).any():
            raise RuntimeError("no service north of 80")
        return X

    model = FunctionTransformer(fails_in_the_north, feature_names_out="one-to-one").fit(np.zeros((1, 2)))
    with pytest.raises(Exception, match=r"(?s)RuntimeError: no service north of 80.*geoembed.spark: in partition"):
        gs.transform(sdf.where("Latitude < 90"), model, check=False).collect()


def test_bad_calls_fail_before_any_job(sdf, spark, table):
    fitted = make_encoder("sphereC+").fit(table[["Latitude", "lng"]].iloc[:5])
    with pytest.raises(ValueError, match="no latitude column found"):
        gs.transform(sdf.drop("Latitude"), fitted)
    with pytest.raises(ValueError, match="ambiguous longitude columns"):
        gs.transform(sdf.withColumn("lon", sdf.lng), fitted)
    with pytest.raises(ValueError, match="needs a fitted transformer"):
        gs.transform(sdf, GeoEmbedder())
    with pytest.raises(ValueError, match="already exist"):
        gs.transform(sdf, fitted, output_col="city")
    with pytest.raises(ValueError, match="must be numeric"):
        gs.transform(sdf.withColumn("lng", sdf.lng.cast("boolean")), fitted)
    with pytest.raises(ValueError, match="output must be one of"):
        gs.transform(sdf, fitted, output="list")
    with pytest.raises(ValueError, match="partition_by columns"):
        gs.write_parquet(sdf, "/nonexistent/x", partition_by="nope")


def test_a_killed_task_is_retried_and_every_row_lands_once(spark, tmp_path, table):
    """The Python worker of one task dies on its first attempt; Spark retries it; the Parquet holds each row once."""
    from pyspark import TaskContext

    class DiesOnce(type(make_encoder("sphereC+"))):
        def transform(self, X):
            context = TaskContext.get()
            if context is not None and context.partitionId() == 1 and context.attemptNumber() == 0:
                os._exit(1)  # as a killed executor process would
            return super().transform(X)

    good = np.setdiff1d(np.arange(N), BAD)
    frame = table.iloc[good].drop(columns="y")
    encoder = DiesOnce().fit(frame[["Latitude", "lng"]].iloc[:5])
    sdf = spark.createDataFrame(frame).repartition(4, "id")
    out = tmp_path / "features"
    gs.write_parquet(gs.transform(sdf, encoder), str(out), partition_by="city")
    back = pd.read_parquet(out).sort_values("id")
    assert back["id"].tolist() == good.tolist()  # every row exactly once
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["city=a", "city=b", "city=c"]
    assert not (out / "_temporary").exists() and (out / "_SUCCESS").exists()
    with pytest.raises(Exception, match="already exists"):
        gs.write_parquet(gs.transform(sdf, encoder), str(out))  # never replaced unless mode says so


def test_a_failed_job_leaves_no_output(sdf, tmp_path, table):
    encoder = make_encoder("sphereC+").fit(table[["Latitude", "lng"]].iloc[:5])  # raises on the bad rows
    out = tmp_path / "never"
    with pytest.raises(Exception, match="geoembed.spark"):
        gs.write_parquet(gs.transform(sdf, encoder, check=False), str(out))
    assert not out.exists()  # Spark leaves the folder empty; it is removed so that a rerun can write there


def test_the_spark_guide_example_runs(spark, tmp_path, monkeypatch, capsys):
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "spark.md").read_text()
    blocks = re.findall(r"```python\n(.*?)\n```", guide, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code.replace("/tmp/", f"{tmp_path}/"), "docs/guide/spark.md", "exec"), {})
    assert float(capsys.readouterr().out.split()[-1]) > 0.5  # the printed R² of the example model
    assert len(pd.read_parquet(tmp_path / "addresses_features")) == 1000  # the projected example
