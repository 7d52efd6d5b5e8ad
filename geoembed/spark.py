"""Spark: any fitted geoembed transformer applied to a Spark DataFrame, by column name.

The established pattern for a model over a Spark table, as in Spark's own
``pyspark.ml.functions.predict_batch_udf``: an iterator pandas UDF that receives only the
columns the model reads (latitude and longitude), in Arrow batches, and loads the model once
per task. The other columns never leave the JVM, so a wide table costs no more than a narrow one.

- The transformer is pickled once on the driver (pyspark's cloudpickle, so a transformer defined in a
  notebook works) and broadcast; each Python worker unpickles it once. Its weights are not in
  the pickle: they reload on the worker from the installed package and are checked there like
  every load (registered weights by their recorded sha256).
- Batches are Spark's Arrow batches (``spark.sql.execution.arrow.maxRecordsPerBatch``, 10,000
  rows by default); torch runs with ``spark.task.cpus`` threads per task unless told otherwise,
  so that ``local[n]`` or n executor cores run n tasks side by side without oversubscription.
- Invalid rows follow the transformer's ``on_invalid`` exactly as in pandas: "raise" fails the
  task (and the job) with the same message, naming the partition and the rows of its batch;
  "nan" gives NaN features for those rows. A null latitude or longitude is an invalid row.

Needs the ``spark`` extra: ``pip install "geoembed-toolkit[spark]"`` and a Java runtime.
"""

from __future__ import annotations

import uuid
from typing import Iterator, Tuple  # noqa: UP035  (pandas UDF type hints are read by pyspark)

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from geoembed.core.geometry import check_crs, to_wgs84
from geoembed.core.inputs import LAT_NAMES, LON_NAMES, X_NAMES, Y_NAMES, find_latlon_columns
from geoembed.core.utils import one_per_process, optional_import

__all__ = ["DTYPES", "OUTPUTS", "transform", "write_parquet"]

#: Output forms: one array column, or one named column per feature.
OUTPUTS = ("array", "columns")
#: Output dtypes. Spark has no 16-bit float: "float16" rounds each value to float16 (as the
#: in-process ``dtype="float16"`` does) and stores it in a float column.
DTYPES = ("float32", "float16")

_numeric_types = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType", "DecimalType")


def _pyspark():
    return optional_import("pyspark.sql", extra="spark", purpose="geoembed.spark")


def _column(columns: list[str], names: tuple, what: str, explicit, case_sensitive: bool = False) -> str:
    """The column holding ``what`` ("latitude"/"longitude"): ``explicit``, else found by name.

    ``case_sensitive`` is Spark's ``spark.sql.caseSensitive`` (false by default): when false,
    ``lat`` and ``LAT`` are one name to Spark, and selecting either is ambiguous.
    """

    def same(a: str, b: str) -> bool:
        return a == b if case_sensitive else a.lower() == b.lower()

    if explicit is not None:
        spelled = [c for c in columns if same(c, explicit)]
        if not spelled:
            raise ValueError(f"{what} column {explicit!r} not found in the Spark DataFrame; columns are {columns}")
        explicit = explicit if explicit in spelled else spelled[0]  # Spark's own spelling, as it resolves it
        matches = [explicit]
    else:
        matches = [c for c in columns if c.strip().lower() in names]

    twice = sorted({c for c in matches if sum(same(c, other) for other in columns) > 1})
    if twice:  # both sides of a join, or names Spark does not tell apart by case: no name picks one
        spellings = [c for c in columns if same(c, twice[0])]
        shown = repr(twice[0]) if len(set(spellings)) == 1 else f"{twice[0]!r} (spelled {sorted(set(spellings))})"
        raise ValueError(
            f"the {what} column name {shown} appears {len(spellings)} times in the Spark DataFrame "
            + ("(both sides of a join?)" if len(set(spellings)) == 1 else "(Spark compares names without case)")
            + ", so no name picks one: rename or drop the others first "
            "(select with .alias(...), or withColumnRenamed after selecting)"
        )
    if explicit is not None:
        return explicit
    if len(matches) != 1:
        problem = f"no {what} column found" if not matches else f"ambiguous {what} columns {matches}"
        raise ValueError(
            f"{problem}; expected one named like {list(names)} (any case), got columns {columns}. "
            f"Name it with {what[:3]}_col=..."
        )
    return matches[0]


def _geographic(crs) -> bool:
    try:
        return check_crs(crs, "crs").is_geographic
    except Exception:  # an unknown CRS is named by its own error
        return False


def _coordinate_reader(transformer):
    """The estimator that reads the coordinates: the transformer, or the first step of a pipeline
    (nested ones too), whose ``lat_col``, ``lon_col``, ``on_invalid`` and ``wrap_longitude`` apply.
    """
    reader = transformer
    while hasattr(reader, "steps") and reader.steps:
        reader = reader.steps[0][1]
    return reader


def _case_sensitive(df) -> bool:
    """Spark's ``spark.sql.caseSensitive`` for ``df``'s session (false, Spark's default, if unreadable)."""
    try:
        return str(df.sparkSession.conf.get("spark.sql.caseSensitive", "false")).lower() == "true"
    except Exception:  # a session without that key readable (Spark Connect variants): Spark's default
        return False


def _column_types(df) -> dict:
    """Spark column name -> the name of its data type class (``DoubleType``...)."""
    return {field.name: type(field.dataType).__name__ for field in df.schema.fields}


def _input_columns(df, reader, lat_col, lon_col, crs, x_col, y_col) -> tuple[str, str]:
    """The Spark columns read: (latitude, longitude), or (projected y, projected x) with ``crs``."""
    columns = list(df.columns)
    case_sensitive = _case_sensitive(df)
    if crs is None:
        if x_col is not None or y_col is not None:
            raise ValueError("x_col and y_col name projected columns: give their crs as well")
        lat_col = lat_col if lat_col is not None else getattr(reader, "lat_col", None)
        lon_col = lon_col if lon_col is not None else getattr(reader, "lon_col", None)
        first = _column(columns, LAT_NAMES, "latitude", lat_col, case_sensitive)
        second = _column(columns, LON_NAMES, "longitude", lon_col, case_sensitive)
        what, allowed = "latitude and longitude", _numeric_types + ("StringType",)
    else:
        if lat_col is not None or lon_col is not None:
            raise ValueError("with crs, the coordinates are projected columns: name them with x_col and y_col")
        first = _column(columns, Y_NAMES, "y", y_col, case_sensitive)
        second = _column(columns, X_NAMES, "x", x_col, case_sensitive)
        what, allowed = "projected x and y", _numeric_types
    types = _column_types(df)
    wrong = {c: types[c] for c in (first, second) if types[c] not in allowed}
    if wrong:
        raise ValueError(f"{what} must be numeric columns; got {wrong}")
    return first, second


def _feature_names(transformer) -> list[str]:
    try:
        check_is_fitted(transformer)
    except Exception as err:  # NotFittedError, or a transformer without fitted attributes
        raise ValueError(
            f"geoembed.spark.transform needs a fitted transformer; fit it first, e.g. "
            f"{type(transformer).__name__}(...).fit(sample) on a few rows of the table ({err})"
        ) from None
    if not hasattr(transformer, "get_feature_names_out"):
        raise ValueError(f"{type(transformer).__name__} has no get_feature_names_out; it cannot declare a schema")
    return [str(name) for name in transformer.get_feature_names_out()]


def _model_columns(transformer, reader) -> tuple | None:
    """The names under which the workers hand latitude and longitude to ``transformer``: those it
    was fitted on (its ``feature_names_in_``, read as its ``reader`` reads them), whatever the Spark
    columns are called, as (latitude name, longitude name, the fitted order); None for a transformer
    fitted without names, which gets a [lat, lon] array.
    """
    fitted = getattr(transformer, "feature_names_in_", None)
    if fitted is None:
        return None
    names = [str(name) for name in fitted]
    if len(names) != 2:
        raise ValueError(
            f"{type(transformer).__name__} was fitted on the columns {names}; geoembed.spark.transform passes "
            "it only the latitude and longitude columns, so fit it on those two"
        )
    try:
        lat, lon = find_latlon_columns(
            names, lat_col=getattr(reader, "lat_col", None), lon_col=getattr(reader, "lon_col", None)
        )
    except ValueError as err:
        raise ValueError(f"{type(transformer).__name__} was fitted on the columns {names}: {err}") from None
    return lat, lon, names


def _quoted(name: str) -> str:
    """A column name for Spark SQL: in backticks, a backtick doubled."""
    return "`" + name.replace("`", "``") + "`"


_SIMPLE_TYPES = _numeric_types + ("StringType", "BooleanType", "DateType", "TimestampType", "TimestampNTZType")


def _check_coordinates(df, first: str, second: str, *, projected: bool, wrap: bool, has_on_invalid: bool) -> None:
    """Raise if any row's coordinates are invalid: one Spark job over the two columns.

    ``first``/``second`` are latitude/longitude, or projected y/x (``projected``), whose only
    check here is that they are finite numbers.
    """
    functions = optional_import("pyspark.sql.functions", extra="spark", purpose="geoembed.spark")

    def number(name):  # null for what is not a number: try_cast (Spark 3.2+), as ANSI casts raise on "51,2"
        return functions.expr(f"try_cast({_quoted(name)} AS DOUBLE)")

    def unusable(name):
        value = number(name)
        return value.isNull() | functions.isnan(value) | (functions.abs(value) == float("inf"))

    bad = unusable(first) | unusable(second)
    if not projected:
        bad = bad | (functions.abs(number(first)) > 90)
        if not wrap:
            bad = bad | (functions.abs(number(second)) > 180)
    rows = df.where(bad)
    # one job counts the bad rows, and those whose latitude beyond 90 has a longitude within 90 (swapped?)
    lat, lon = functions.abs(number(first)), functions.abs(number(second))
    swapped_rows = (lat > 90) & (lat <= 180) & (lon <= 90) if not projected else functions.lit(False)
    totals = df.agg(
        functions.count(functions.when(bad, 1)).alias("bad"),
        functions.count(functions.when(bad & swapped_rows, 1)).alias("swapped"),
    ).collect()[0]
    count = totals["bad"]
    if not count:
        return
    what = (
        "projected x/y that are null, NaN, infinite or not numbers"
        if projected
        else "null, NaN, infinite, not numbers, latitude outside [-90, 90]"
        + ("" if wrap else " or longitude outside [-180, 180]")
    )
    try:  # a few rows to find them by: id-like columns first, simple types only, values shortened
        types = _column_types(df)
        others = [c for c in df.columns if c not in (first, second) and types.get(c) in _SIMPLE_TYPES]
        others = sorted(others, key=lambda c: "id" not in c.lower())[:3]
        examples = rows.select(*[functions.col(_quoted(c)) for c in (*others, first, second)]).limit(5).collect()
        shown = "; e.g. " + str([{k: str(v)[:40] for k, v in row.asDict().items()} for row in examples])
    except Exception:  # names Spark cannot select twice (duplicates after a join): the count alone
        shown = ""
    swapped = ""
    if totals["swapped"] == count:  # every invalid row a latitude beyond 90 with a longitude within 90
        swapped = (
            f" Every one of them has |{first}| in (90, 180] and |{second}| within 90: are the two columns "
            "swapped? Name them with lat_col= and lon_col=."
        )
    remedy = (
        "give the transformer on_invalid='nan' for NaN features on them"
        if has_on_invalid
        else f"drop them first (df.dropna(subset=[{first!r}, {second!r}]) and a filter on the ranges)"
    )
    raise ValueError(
        f"geoembed.spark: {count:,} row(s) have invalid coordinates ({what}), found by a scan of columns "
        f"{first!r} and {second!r} before any embedding{shown}.{swapped} Fix or drop them (or {remedy}), or pass "
        "check=False to skip this scan"
    )


def _worker_transformer(broadcast, key: str):
    """The transformer of the call of :func:`transform` named ``key``, unpickled once per worker.

    ``key`` is a random token made by that call on the driver. Python workers outlive jobs, so
    the cache must tell one job's transformer from the next; a worker-side ``Broadcast`` carries
    no id of its own, and ``id()`` of one is reused as soon as the last is freed (which once
    handed a job the previous job's transformer).
    """
    from pyspark import cloudpickle

    return one_per_process(key, lambda: cloudpickle.loads(broadcast.value))


def transform(
    df,
    transformer,
    *,
    lat_col: str | None = None,
    lon_col: str | None = None,
    output: str = "array",
    output_col: str = "embedding",
    dtype: str = "float32",
    torch_threads: int | None = None,
    crs=None,
    x_col: str | None = None,
    y_col: str | None = None,
    check: bool = True,
):
    """Apply a fitted geoembed transformer to a Spark DataFrame.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The table; latitude and longitude columns are found by name (lat/latitude and
        lon/lng/long/longitude, any case), or given.
    transformer : fitted transformer
        Any fitted geoembed transformer: ``GeoEmbedder`` (any encoder or weights), a classic
        encoder from ``make_encoder``, ``LocationTargetEncoder``, or a pipeline of them
        whose ``transform`` takes a frame of the two columns.
    lat_col, lon_col : str, default=None
        The Spark columns; default the transformer's own ``lat_col``/``lon_col`` (a pipeline's:
        its first step's), else found by name. The transformer receives them under the names it
        was fitted on (fitted on a frame of ``lat``/``lon``, it reads ``geo_lat``/``geo_lon`` given
        here), or as a [lat, lon] array if it was fitted on one.
    output : {"array", "columns"}, default="array"
        One array column ``output_col``, or one float column per feature named as the
        transformer's ``get_feature_names_out()`` (e.g. ``geoclip_0`` ... ``geoclip_511``).
    output_col : str, default="embedding"
        Name of the array column (``output="array"``).
    dtype : {"float32", "float16"}, default="float32"
        Values are stored as Spark floats either way; "float16" rounds them to float16 first.
    torch_threads : int, default=None
        torch threads per task; default ``spark.task.cpus`` (1 unless configured).
    crs : str, int or pyproj.CRS, default=None
        The coordinates are projected x/y columns in this CRS (e.g. ``"EPSG:25832"``, metres
        of a national grid), reprojected to WGS84 degrees on the workers, batch by batch
        (pyproj, ``always_xy``), before the transformer reads them; the output keeps the x/y
        columns. Each batch is checked against the CRS's area of use (most of its points far
        outside it, or degrees labelled as metres, fail the task). Points the CRS cannot
        reproject follow the transformer's ``on_invalid``. None: latitude/longitude columns.
    x_col, y_col : str, default=None
        With ``crs``: the projected columns, found by name otherwise (x/easting, y/northing,
        any case).
    check : bool, default=True
        For a transformer with ``on_invalid="raise"`` (a pipeline: its first step's), scan the
        two coordinate columns once, now (a Spark job that reads only them), and raise before
        any embedding if any row is invalid: null, NaN, infinite, not a number, latitude outside
        [-90, 90] or longitude outside [-180, 180] (unless the transformer wraps longitudes);
        finite values for projected columns, whose area of use is checked batch by batch.
        Without it a bad row fails the job only when its task runs, hours into a long one,
        naming that row alone. False skips the scan (a table costly to compute twice: or cache
        it first); streaming DataFrames are not scanned. Strings that Spark reads as numbers
        and pandas does not ("51d") still fail at their task, as pyspark's ``PythonException``
        with the message (not a ``ValueError``); an action that does not read the output
        column (``count()``) does not run the model, so it finds no bad row without the scan.

    Returns
    -------
    pyspark.sql.DataFrame
        Every input column, in order, then the features. Lazy, as every Spark transformation:
        nothing is embedded until an action (``write``, ``count``, ...); only the scan of
        ``check`` runs when this is called.

    Raises
    ------
    ValueError
        Before any embedding: missing or ambiguous coordinate columns, non-numeric ones, an
        unfitted transformer, an output name that exists, bad ``output`` or ``dtype``, a
        ``crs`` pyproj does not know, and (``check``) invalid coordinates, counted, with examples.
    """
    sql = _pyspark()
    types = optional_import("pyspark.sql.types", extra="spark", purpose="geoembed.spark")
    functions = optional_import("pyspark.sql.functions", extra="spark", purpose="geoembed.spark")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}; got {output!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}; got {dtype!r}")
    if torch_threads is not None and (isinstance(torch_threads, bool) or not isinstance(torch_threads, int)):
        raise ValueError(f"torch_threads must be a positive int or None; got {torch_threads!r}")
    if torch_threads is not None and torch_threads < 1:
        raise ValueError(f"torch_threads must be a positive int or None; got {torch_threads!r}")
    if not isinstance(df, sql.DataFrame):
        raise TypeError(f"df must be a pyspark.sql.DataFrame; got {type(df).__name__}")
    reader = _coordinate_reader(transformer)
    try:
        lat, lon = _input_columns(df, reader, lat_col, lon_col, crs, x_col, y_col)  # y and x with crs
    except ValueError as err:
        if crs is not None and str(err).startswith(("no x column", "no y column")) and _geographic(crs):
            raise ValueError(
                f"{err} (crs={crs!r} is a longitude/latitude CRS, and crs= reads x/y columns, x the longitude "
                "in it; for WGS84 degrees in lat/lon columns, leave crs out)"
            ) from None
        raise
    names = _feature_names(transformer)
    model_columns = _model_columns(transformer, reader)
    crs_wkt = None
    if crs is not None:
        try:
            crs_wkt = check_crs(crs, "crs").to_wkt()
        except Exception as err:  # pyproj's CRSError: an unknown code or a malformed definition
            raise ValueError(f"crs {crs!r} is not a coordinate reference system pyproj knows: {err}") from None
    on_failure = "nan" if getattr(reader, "on_invalid", "raise") == "nan" else "raise"  # a prior raises
    new = [output_col] if output == "array" else names
    clash = sorted(set(new) & set(df.columns))
    if clash:
        raise ValueError(f"output columns {clash} already exist in the DataFrame; choose another output_col")
    if check and on_failure == "raise" and not df.isStreaming:
        _check_coordinates(
            df,
            lat,
            lon,
            projected=crs is not None,
            wrap=bool(getattr(reader, "wrap_longitude", False)),
            has_on_invalid=hasattr(reader, "on_invalid"),
        )

    from pyspark import cloudpickle

    spark = df.sparkSession
    threads = torch_threads or int(spark.conf.get("spark.task.cpus", "1"))
    broadcast = spark.sparkContext.broadcast(cloudpickle.dumps(transformer))
    key = uuid.uuid4().hex
    rounding = np.float16 if dtype == "float16" else np.float32
    n_features = len(names)
    if output == "array":
        return_type = types.ArrayType(types.FloatType(), containsNull=False)
    else:
        return_type = types.StructType([types.StructField(name, types.FloatType(), True) for name in names])

    def embed_batches(batches):
        import torch
        from pyspark import TaskContext

        torch.set_num_threads(threads)
        model = _worker_transformer(broadcast, key)
        context = TaskContext.get()
        partition = context.partitionId() if context is not None else None
        offset = 0
        for lat_values, lon_values in batches:
            n_rows = len(lat_values)
            try:
                if crs_wkt is not None:  # projected y and x: to degrees first
                    y_values, x_values = lat_values.to_numpy(np.float64), lon_values.to_numpy(np.float64)
                    lon_degrees, lat_degrees = to_wgs84(x_values, y_values, crs_wkt, on_failure=on_failure)
                    lat_values, lon_values = pd.Series(lat_degrees), pd.Series(lon_degrees)
                if model_columns is None:  # fitted without column names: a [lat, lon] array
                    frame = np.column_stack([lat_values.to_numpy(), lon_values.to_numpy()])
                else:  # under the names it was fitted on, whatever the Spark columns are called
                    model_lat, model_lon, order = model_columns
                    frame = pd.DataFrame({model_lat: lat_values, model_lon: lon_values})[order]
                features = model.transform(frame)
            except ValueError as err:
                nulls = " (a Spark null arrives as NaN)" if "must be finite" in str(err) else ""
                raise ValueError(
                    f"geoembed.spark: partition {partition}, rows {offset} to {offset + n_rows - 1} of the "
                    f"partition (counted from 0; the row numbers below are within this batch of {n_rows}): "
                    f"{err}{nulls}"
                ) from None
            except Exception as err:  # another type (a transformer's own error): kept, with where it happened
                if hasattr(err, "add_note"):  # Python 3.11+
                    err.add_note(
                        f"geoembed.spark: in partition {partition}, rows {offset} to {offset + n_rows - 1} of the "
                        "partition (counted from 0)"
                    )
                raise
            features = np.asarray(getattr(features, "values", features))
            if features.shape != (n_rows, n_features):
                raise ValueError(
                    f"geoembed.spark: partition {partition}, rows {offset} to {offset + n_rows - 1}: "
                    f"{type(model).__name__}.transform returned shape {features.shape}; expected "
                    f"({n_rows}, {n_features})"
                )
            offset += n_rows
            features = features.astype(rounding, copy=False).astype(np.float32, copy=False)
            if output == "array":
                yield pd.Series(list(features))
            else:
                yield pd.DataFrame(features, columns=names)

    if output == "array":

        def as_arrays(batches: Iterator[Tuple[pd.Series, pd.Series]]) -> Iterator[pd.Series]:  # noqa: UP006
            return embed_batches(batches)

        udf = functions.pandas_udf(as_arrays, return_type)
    else:

        def as_columns(batches: Iterator[Tuple[pd.Series, pd.Series]]) -> Iterator[pd.DataFrame]:  # noqa: UP006
            return embed_batches(batches)

        udf = functions.pandas_udf(as_columns, return_type)
    applied = udf(functions.col(_quoted(lat)), functions.col(_quoted(lon)))
    if output == "array":
        return df.withColumn(output_col, applied)
    struct = f"__geoembed_{output_col}"
    return df.withColumn(struct, applied).select(
        *[functions.col(_quoted(c)) for c in df.columns], *[functions.col(f"{struct}.{_quoted(n)}") for n in names]
    )


def write_parquet(df, path, *, partition_by=None, mode: str = "errorifexists") -> None:
    """Write a Spark DataFrame to Parquet, all or nothing.

    Spark's file commit protocol (the Hadoop ``FileOutputCommitter``) makes this atomic at job
    level: tasks write under ``path/_temporary`` and the driver moves their files into place only
    when every task has succeeded; a failed job is aborted and its temporary files deleted, so no
    partial output is left at ``path`` (on object stores, use the S3A committers or Databricks'
    DBIO commit for the same guarantee). A retried task's first attempt never reaches the output.
    A local output folder that the failed job created, left empty by Spark, is removed, so that the
    same call can run again. With ``mode="overwrite"`` Spark deletes the previous output when the
    job starts: a failed job leaves none.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    path : str
        Output folder (any Hadoop file system URI).
    partition_by : str or list of str, default=None
        Columns to partition the folder by, e.g. the input's own partition columns.
    mode : {"errorifexists", "overwrite", "append", "ignore"}, default="errorifexists"
        Spark's save mode; an existing output is refused by default, as everywhere in geoembed.
    """
    _pyspark()
    modes = ("errorifexists", "error", "overwrite", "append", "ignore")
    if mode not in modes:
        raise ValueError(f"mode must be one of {modes}; got {mode!r}")
    partition_by = [partition_by] if isinstance(partition_by, str) else list(partition_by or [])
    missing = [c for c in partition_by if c not in df.columns]
    if missing:
        raise ValueError(f"partition_by columns {missing} are not in the DataFrame; columns are {list(df.columns)}")
    writer = df.write.mode(mode)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    local = _local_path(str(path))
    existed = local is None or local.exists()
    try:
        writer.parquet(str(path))
    except BaseException:
        if not existed:
            _remove_if_empty(local)
        raise


def _local_path(path: str):
    """``path`` as a local ``Path`` (no scheme, or ``file:``), else None."""
    from pathlib import Path
    from urllib.parse import urlparse

    parsed = urlparse(path)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else path)
    return None


def _remove_if_empty(folder) -> None:
    """Remove the folder a failed job created, if it holds no data file: Spark's aborted commit leaves it
    empty, and a rerun with the default mode would then fail on a path that "already exists".
    """
    import shutil

    if folder.is_dir() and not any(p.is_file() and not p.name.startswith(("_", ".")) for p in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)
