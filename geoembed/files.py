"""Embedding whole files: a CSV/Parquet table streamed through GeoEmbedder into Parquet, CSV or npy.

The job behind ``geoembed embed``. Reading and writing live in :mod:`geoembed.io`; this module
composes them with :class:`~geoembed.GeoEmbedder`; the output-path checks it makes before it
reads anything are :func:`geoembed.io.paths.check_output_path`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.core.geo import validate_latlon
from geoembed.core.geometry import AreaOfUseCheck, check_crs, to_wgs84
from geoembed.core.inputs import find_latlon_columns, find_xy_columns, numeric_values, read_coordinates
from geoembed.core.utils import caller_stacklevel, moved_attribute
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.io.paths import check_output_path
from geoembed.io.tables import (
    OUTPUT_FORMATS,
    ChunkWriter,
    CsvColumnTypes,
    iter_input_chunks,
    parquet_index,
    read_columns,
)

__all__ = ["embed_file"]

#: Output-path checks moved to :mod:`geoembed.io.paths` in 0.3 (this path is removed in 0.4).
MOVED = dict.fromkeys(["check_output_path", "check_writable_folder", "same_file"], "geoembed.io.paths")


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)


def embed_file(
    input_path,
    output_path,
    *,
    chunk_rows: int = 50_000,
    keep_columns: bool = True,
    progress: bool = True,
    overwrite: bool = True,
    column_hints=(None, None),
    crs=None,
    x_col=None,
    y_col=None,
    **embedder_params,
) -> int:
    """Stream a CSV or Parquet file through :class:`~geoembed.GeoEmbedder` into Parquet, CSV or npy.

    Memory stays bounded by ``chunk_rows``. The output appears only when every row has been
    embedded: an interruption leaves no new file at ``output_path`` (and a previous one as it was).

    Before any embedding, a first pass over the file checks what would otherwise stop a long run
    half way: the coordinates of every row (only the two columns of a Parquet file are read), all
    invalid rows reported in one error under ``on_invalid="raise"``, their count in a warning under
    ``"nan"``; and, for a CSV written to Parquet, the type of every column, judged on every row
    (:class:`~geoembed.io.tables.CsvColumnTypes`). That pass costs one more read of the file,
    small next to embedding it. A CSV's other columns are read as the text they hold, so
    identifiers come through exactly: to CSV as written (missing values, as pandas reads them,
    empty), to Parquet as int64 (``Int64`` with gaps) when every value is an integer written
    without a leading zero, float64 when every value is a number, booleans, else text (postcodes
    such as ``01000`` stay text, an int64 identifier beyond 2**53 with a gap stays exact).
    A Parquet input's index stored by pandas (a named index) is written to the output as well.

    Parameters
    ----------
    input_path : str or Path
        ``.csv`` or ``.parquet`` with latitude and longitude columns (found by name, or
        ``lat_col``/``lon_col``), in degrees.
    output_path : str or Path
        ``.parquet``, ``.csv`` or ``.npy``. npy holds the embedding only. Never the input
        itself, under any path (symlink, hard link): that raises ``ValueError``.
    chunk_rows : int, default=50_000
        Rows read, embedded and written at a time.
    keep_columns : bool, default=True
        Write the input columns before the embedding columns (Parquet and CSV).
    progress : bool, default=True
        Show a progress bar.
    overwrite : bool, default=True
        Replace an existing ``output_path`` once the new file is complete, like pandas'
        and numpy's writers. False raises ``FileExistsError`` before anything is read. The
        ``geoembed embed`` command refuses by default and passes True only with ``--overwrite``.
    column_hints : (str, str), default=(None, None)
        How errors spell the options naming the latitude and longitude columns (the CLI
        passes ``("--lat-col NAME", "--lon-col NAME")``); by default ``lat_col=...``/``lon_col=...``,
        and for projected columns ``x_col=...``/``y_col=...``.
    crs : str, int or pyproj.CRS, default=None
        The coordinates are projected x/y columns in this CRS (e.g. ``"EPSG:25832"``, metres of
        a national grid), reprojected to WGS84 degrees before embedding; the output keeps the
        input's x/y columns. None: latitude/longitude columns in degrees.
    x_col, y_col : str, default=None
        With ``crs``: the projected columns, found by name otherwise (x/easting, y/northing, any case).
    **embedder_params
        Passed to :class:`~geoembed.GeoEmbedder` (``lat_col``, ``precision``, ``dtype``, ...).

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    ValueError
        Output over the input, an unsupported format, or invalid rows.
    FileExistsError
        ``output_path`` exists and ``overwrite`` is False.
    FileNotFoundError
        A missing input file or output folder.
    """
    from tqdm.auto import tqdm

    output_path = check_output_path(output_path, [input_path], overwrite=overwrite)
    if Path(output_path).suffix.lower() not in OUTPUT_FORMATS:
        raise ValueError(f"unsupported output format {Path(output_path).suffix!r}; use .parquet, .csv or .npy")
    if not Path(input_path).is_file():
        raise FileNotFoundError(f"input file not found: {input_path}")
    # everything that can be checked without embedding is checked before the progress bar:
    # the columns (by the header), the embedder's parameters and weights (fitted on one row), the
    # names of the output columns, and every row's coordinates (and a CSV's column types)
    columns = read_columns(input_path)
    if crs is None:
        if x_col is not None or y_col is not None:
            raise ValueError("x_col and y_col name projected columns: give their crs as well")
        names = find_latlon_columns(
            columns, lat_col=embedder_params.get("lat_col"), lon_col=embedder_params.get("lon_col"), hints=column_hints
        )
        degrees = _Degrees(None, names)
    else:
        if embedder_params.get("lat_col") is not None or embedder_params.get("lon_col") is not None:
            raise ValueError("with crs, the coordinates are projected columns: name them with x_col and y_col")
        hints = ("--x-col NAME", "--y-col NAME") if column_hints[0] else (None, None)
        names = find_xy_columns(columns, x_col=x_col, y_col=y_col, hints=hints)
        try:
            degrees = _Degrees(check_crs(crs, "crs"), names)
        except Exception as err:  # pyproj's CRSError: an unknown code or a malformed definition
            raise ValueError(f"crs {crs!r} is not a coordinate reference system pyproj knows: {err}") from None
    embedder = GeoEmbedder(**embedder_params)
    # fitted on one row with the columns it will read: the output names and dtype depend on the parameters alone
    embedder.fit(pd.DataFrame({column: [0.0] for column in (columns if crs is None else ["lat", "lon"])}))
    feature_names = embedder.get_feature_names_out()
    output_format = OUTPUT_FORMATS[Path(output_path).suffix.lower()]
    if keep_columns and output_format != "npy":
        kept_index = _kept_index_names(input_path)  # written next to the columns
        clash = sorted(set(map(str, feature_names)) & set(map(str, [*columns, *kept_index])))
        if clash:
            raise ValueError(
                f"input columns {clash[:5]}{' ...' if len(clash) > 5 else ''} clash with the embedding's names; "
                "rename them first (or drop the input columns)"
            )
    # a CSV's other columns are read as written (text): an identifier 01000 or 4611686018427387911
    # is carried over exactly, and a Parquet output gets one type per column, judged on every row
    text = None
    if keep_columns and output_format != "npy" and Path(input_path).suffix.lower() not in (".parquet", ".pq"):
        text = CsvColumnTypes(input_path, [c for c in columns if c not in degrees.names])
    # to CSV, numbers written with decimal commas are converted, since the output's decimal mark is "."
    judged = text is not None and (output_format == "parquet" or text.decimal != ".")
    n_rows = _check_rows(
        input_path, chunk_rows, degrees, embedder_params, column_types=text if judged else None, progress=progress
    )
    dtype = None
    if text is not None:
        dtype = text.dtype
        if output_format == "parquet":  # one type in every chunk: 500000 in one, 500000.5 in the next
            dtype.update(dict.fromkeys(degrees.names, "float64"))
    chunks = iter_input_chunks(input_path, chunk_rows, dtype=dtype, count_rows=False)
    next(chunks)  # the first pass counted the rows themselves (quoted newlines are not rows)
    writer = None
    written = 0
    try:
        writer = ChunkWriter(output_path, n_rows, feature_names, embedder.dtype, overwrite=overwrite)
        with tqdm(total=n_rows, unit="pt", disable=not progress, desc="embedding") as bar:
            for chunk in chunks:
                if judged:
                    chunk = text.apply(chunk, numbers_only=output_format != "parquet")
                if isinstance(chunk.index, pd.RangeIndex) and chunk.index.name is None:
                    chunk.index = pd.RangeIndex(written, written + len(chunk))  # row numbers in errors
                embedding = embedder.transform(
                    degrees.frame(chunk, on_failure=embedder_params.get("on_invalid", "raise"))
                )
                writer.write(embedding, chunk if keep_columns else None)
                written += len(chunk)
                bar.update(len(chunk))
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    writer.close()
    return written


#: Invalid rows named in the warning of :func:`embed_file` under ``on_invalid="nan"``.
_SHOWN_ROWS = 5
#: Invalid rows whose values the first pass keeps for its error (the rest are counted).
_KEPT_INVALID_ROWS = 1000


def _kept_index_names(path) -> list:
    """The names of a Parquet input's index as pandas stored it, when the output keeps it."""
    if Path(path).suffix.lower() not in (".parquet", ".pq"):
        return []
    import pyarrow.parquet as pq

    index = parquet_index(pq.read_schema(path))
    if index.columns:
        return list(index.columns)
    return [index.name] if index.name is not None else []


class _Degrees:
    """What :func:`embed_file` embeds of a chunk: the chunk itself (latitude/longitude columns
    ``names``), or its projected ``names`` = (x, y) columns in ``crs`` reprojected to degrees.
    """

    def __init__(self, crs, names):
        self.crs, self.names = crs, names

    def projected(self, chunk):
        """The chunk's projected (x, y) columns as float64, non-numbers named with their rows."""
        return [numeric_values(chunk[name].to_numpy(), f"column {name!r}", chunk.index) for name in self.names]

    def latlon(self, chunk, on_failure: str, area=None):
        """Latitude and longitude of the chunk's rows (float64 degrees, not yet validated); with
        ``crs``, ``area`` (an :class:`~geoembed.core.geometry.AreaOfUseCheck`) counts them for the
        file's one verdict.
        """
        if self.crs is None:
            coords = read_coordinates(chunk, lat_col=self.names[0], lon_col=self.names[1])
            return coords.lat, coords.lon
        x, y = self.projected(chunk)
        lon, lat = to_wgs84(x, y, self.crs, row_labels=chunk.index, on_failure=on_failure, check_area=False)
        if area is not None:
            area.add(x, y, lon, lat, row_labels=chunk.index)
        return lat, lon

    def frame(self, chunk, on_failure: str):
        if self.crs is None:
            return chunk
        lat, lon = self.latlon(chunk, "nan" if on_failure == "nan" else "raise")
        return pd.DataFrame({"lat": lat, "lon": lon}, index=chunk.index)


def _check_rows(path, chunk_rows, degrees, embedder_params, *, column_types, progress: bool) -> int:
    """The first pass of :func:`embed_file`: every row's coordinates (and a CSV's column types).

    Raises the one error of :func:`~geoembed.core.geo.validate_latlon` for every invalid row under
    ``on_invalid="raise"``, warns with their count under ``"nan"``; ``column_types`` (a
    :class:`~geoembed.io.tables.CsvColumnTypes`, or None) judges the types of a CSV's other
    columns on every chunk. Returns the number of rows.
    """
    from tqdm.auto import tqdm

    wrap = bool(embedder_params.get("wrap_longitude", False))
    on_invalid = embedder_params.get("on_invalid", "raise")
    names = degrees.names
    chunks = (
        iter_input_chunks(path, chunk_rows, columns=list(names))
        if column_types is None
        else iter_input_chunks(path, chunk_rows, dtype=column_types.dtype)
    )
    latlon_names = names if degrees.crs is None else (names[1], names[0])  # (y, x): north first, as lat
    n_rows = next(chunks)
    # the first invalid rows' values (bounded), their count, and what the hints of the error judge
    # on the whole file: its finite rows, whether all longitudes fit in [-90, 90] and latitudes in [-180, 180]
    bad_rows, bad_lat, bad_lon, n_bad, start = [], [], [], 0, 0
    n_finite, n_out_of_range, lon_within_90, lat_within_180 = 0, 0, True, True
    area = AreaOfUseCheck(degrees.crs) if degrees.crs is not None else None
    with tqdm(total=n_rows, unit="pt", disable=not progress, desc="checking") as bar:
        for chunk in chunks:
            chunk.index = pd.RangeIndex(start, start + len(chunk))  # row numbers in errors
            lat, lon = degrees.latlon(chunk, "nan" if on_invalid == "nan" else "raise", area)
            _, _, valid = validate_latlon(lat, lon, wrap_longitude=wrap, on_invalid="nan")
            finite = np.isfinite(lat) & np.isfinite(lon)
            n_finite += int(finite.sum())
            n_out_of_range += int((finite & ~valid).sum())
            lon_within_90 &= bool(np.all(np.abs(lon[finite]) <= 90.0))
            lat_within_180 &= bool(np.all(np.abs(lat[finite]) <= 180.0))
            if not valid.all():
                invalid = np.flatnonzero(~valid)
                n_bad += len(invalid)
                keep = invalid[: max(_KEPT_INVALID_ROWS - sum(map(len, bad_rows)), 0)]
                bad_rows.append(keep + start)
                bad_lat.append(lat[keep])
                bad_lon.append(lon[keep])
            if column_types is not None:
                column_types.add(chunk)
            start += len(chunk)
            bar.update(len(chunk))
    if area is not None:
        area.verdict()
    if n_bad:
        rows = np.concatenate(bad_rows)
        if on_invalid == "raise":  # the usual error, for the file's invalid rows at once
            try:
                validate_latlon(
                    np.concatenate(bad_lat),
                    np.concatenate(bad_lon),
                    row_labels=rows,
                    wrap_longitude=wrap,
                    names=latlon_names,
                    population=(n_finite, lon_within_90, lat_within_180, n_out_of_range),
                )
            except ValueError as err:
                if n_bad > len(rows):
                    raise ValueError(
                        f"{err} (The file has {n_bad:,} invalid rows; the first {len(rows):,} are described.)"
                    ) from None
                raise
        shown = ", ".join(str(r) for r in rows[:_SHOWN_ROWS]) + (" ..." if n_bad > _SHOWN_ROWS else "")
        warnings.warn(
            f"{n_bad:,} of {start:,} rows ({100 * n_bad / max(start, 1):.3g}%) have invalid coordinates in "
            f"columns {latlon_names[0]!r} and {latlon_names[1]!r} (rows {shown}); they are written as NaN rows "
            "(on_invalid='nan')" + (": every row. Are these columns in degrees?" if n_bad == start else ""),
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return start
