"""Tables on disk: CSV and Parquet read in chunks, embeddings written to Parquet, CSV or npy.

Memory stays bounded by the chunk size on both sides, so files larger than memory stream
through :func:`geoembed.files.embed_file`. Every output is written atomically (:mod:`geoembed.io.atomic`):
a failure half way leaves no file at the output path.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from geoembed.io.atomic import atomic_output

__all__ = [
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "ChunkWriter",
    "CsvColumnTypes",
    "ParquetIndex",
    "count_csv_rows",
    "csv_separator",
    "iter_input_chunks",
    "parquet_index",
    "read_table",
]

#: Field separators :func:`csv_separator` recognises, in order of preference on a tie.
CSV_SEPARATORS = (",", ";", "\t", "|")

#: Output file suffix (lower case) -> format written by :class:`ChunkWriter`.
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".npy": "npy"}
#: Input file suffix (lower case) -> format read by :func:`iter_input_chunks`.
INPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".txt": "csv"}


def _input_format(path: Path) -> str:
    found = INPUT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise ValueError(
            f"unsupported input format {path.suffix!r}; use .csv (or .txt) or .parquet "
            "(a compressed CSV such as .csv.gz is not read: decompress it first)"
        )
    return found


def count_csv_rows(path) -> int:
    """Data rows of a CSV file (lines minus the header), counted without parsing.

    Parameters
    ----------
    path : str or Path
        A CSV file with one header line. A last line without a newline counts.

    Returns
    -------
    int
        The number of data rows (0 for an empty file or a header alone). Quoted fields
        holding newlines are counted as extra rows.
    """
    n_newlines, last = 0, b"\n"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            n_newlines += block.count(b"\n")
            last = block[-1:]
    return max(n_newlines + (last != b"\n") - 1, 0)


def csv_separator(path) -> str:
    """The field separator of a CSV file, from its header line: the one of ``CSV_SEPARATORS``
    (comma, semicolon, tab, pipe) it holds most often outside quotes (``,`` when it holds none).
    Semicolons are common in European exports, whose decimal comma makes the comma unusable as a
    separator.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
    """
    with open(path, "rb") as f:
        header = f.readline(1 << 20).decode("utf-8", errors="replace")
    outside, quoted = [], False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    counts = {sep: outside.count(sep) for sep in CSV_SEPARATORS}
    best = max(CSV_SEPARATORS, key=lambda sep: (counts[sep], -CSV_SEPARATORS.index(sep)))
    return best if counts[best] else ","


class ParquetIndex(NamedTuple):
    """How pandas stored a DataFrame's index in a Parquet file (its ``pandas`` schema metadata).

    ``columns``: the names of the columns holding a labelled index (empty for a RangeIndex,
    which pandas keeps as metadata only); ``start``, ``step``, ``name``: that RangeIndex.
    """

    columns: list
    start: int = 0
    step: int = 1
    name: object = None

    @property
    def kept(self) -> bool:
        """Whether the index is more than the row numbering (labelled, named, or not from 0 by 1)."""
        return bool(self.columns) or (self.start, self.step, self.name) != (0, 1, None)

    def rows(self, offset: int, n: int):
        """The RangeIndex of ``n`` rows from row ``offset`` of the file (None for a labelled index,
        which the rows' own columns carry): what a batch of the file reads as, whatever its size.
        """
        if self.columns:
            return None
        first = self.start + self.step * offset
        return pd.RangeIndex(first, first + self.step * n, self.step, name=self.name)


def parquet_index(schema) -> ParquetIndex:
    """The :class:`ParquetIndex` of a pyarrow schema (a default RangeIndex without pandas metadata).

    pyarrow rebuilds a RangeIndex kept as metadata only when a batch is the whole file, so readers
    of batches set it from this, and a named or offset index does not depend on the batch size.
    """
    import json

    metadata = (schema.metadata or {}).get(b"pandas")
    index = json.loads(metadata).get("index_columns", []) if metadata else []
    labelled = [c for c in index if isinstance(c, str)]
    ranges = [c for c in index if isinstance(c, dict) and c.get("kind") == "range"]
    if labelled or not ranges:
        return ParquetIndex(labelled)
    spec = ranges[0]
    return ParquetIndex([], int(spec.get("start", 0)), int(spec.get("step", 1)), spec.get("name"))


#: Data lines :func:`_csv_decimal` reads to judge a semicolon-separated file's decimal mark.
_DECIMAL_LINES = 1000


def _csv_decimal(path, sep: str) -> str:
    """``","`` for a semicolon-separated file whose numbers are written with decimal commas
    (48,85): more fields with a decimal comma than with a decimal point among its first
    ``_DECIMAL_LINES`` data lines (a first line that is blank, lacks its coordinates or holds
    whole degrees does not decide it).
    """
    import re

    if sep != ";":
        return "."
    commas = points = 0
    with open(path, "rb") as f:
        f.readline(1 << 20)
        for _ in range(_DECIMAL_LINES):
            line = f.readline(1 << 20)
            if not line:
                break
            fields = [field.strip().strip('"') for field in line.decode("utf-8", errors="replace").split(sep)]
            commas += sum(bool(re.fullmatch(r"[+-]?\d*,\d+", field)) for field in fields)
            points += sum(bool(re.fullmatch(r"[+-]?\d*\.\d+", field)) for field in fields)
    return "," if commas > points else "."


def iter_input_chunks(path, chunk_rows: int, *, columns=None, dtype=None, count_rows: bool = True):
    """Read a CSV or Parquet file as DataFrames of at most ``chunk_rows`` rows.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt`` or ``.parquet``/``.pq``. A CSV's separator is found by
        :func:`csv_separator` (a semicolon-separated file whose numbers mostly hold decimal
        commas, 48,85, is read with them); each chunk's column types are inferred from the whole
        chunk. A Parquet file's index, as pandas stored it, is the chunks' index
        (:func:`parquet_index`).
    chunk_rows : int
        Rows per chunk.
    columns : list of str, default=None
        Read only these columns (all by default).
    dtype : dict, default=None
        Column name -> dtype for a CSV (pandas ``read_csv``'s ``dtype``): the same types in
        every chunk, where each chunk would infer its own. Ignored for Parquet, whose types
        are in its schema.
    count_rows : bool, default=True
        Count a CSV's rows first (one more read of the file); False yields None instead.

    Yields
    ------
    int or None
        First, the total number of data rows (from Parquet metadata, or :func:`count_csv_rows`).
    pandas.DataFrame
        Then the chunks in file order, each with a fresh index starting at 0.

    Raises
    ------
    ValueError
        For any other suffix (raised at the first ``next``).
    """
    path = Path(path)
    if _input_format(path) == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        yield parquet.metadata.num_rows
        index, offset = parquet_index(parquet.schema_arrow), 0
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=columns):
            frame = batch.to_pandas()
            rows = index.rows(offset, len(frame))
            if rows is not None or columns is not None:  # labelled index columns are read only with all columns
                frame.index = rows if rows is not None else pd.RangeIndex(offset, offset + len(frame))
            offset += len(frame)
            yield frame
    else:
        yield count_csv_rows(path) if count_rows else None
        sep = csv_separator(path)
        # low_memory=False: one type per column over the whole chunk (the low-memory parser can
        # give one column ints in some blocks and strings in others)
        try:
            yield from pd.read_csv(
                path,
                chunksize=chunk_rows,
                sep=sep,
                decimal=_csv_decimal(path, sep),
                usecols=columns,
                dtype=dtype,
                low_memory=False,
            )
        except UnicodeDecodeError as err:
            raise _not_utf8(path, err) from None


def _not_utf8(path, err: UnicodeDecodeError) -> ValueError:
    byte = err.object[err.start : err.start + 1]
    return ValueError(
        f"{path} is not UTF-8 text (it holds the byte {byte!r}, {err.reason} in UTF-8); "
        "save it as UTF-8 first, e.g. pd.read_csv(path, encoding='latin-1').to_csv(new_path, index=False) "
        "for a file from Excel on Windows"
    )


#: An integer as a number is written: no leading zero ("01000" is a code, and stays text).
_INTEGER = r"[+-]?(?:0|[1-9][0-9]*)"
_ZERO_LED = r"[+-]?0[0-9]+"
#: The spellings pandas reads as booleans.
_BOOLEANS = {"true": True, "false": False}


class CsvColumnTypes:
    """The type of each of a CSV's columns read as text, judged over every chunk, so that a
    table written elsewhere gets its values exactly and one type per column.

    pandas infers each chunk's types on its own and loses what a number-like text holds: an
    identifier ``01000`` becomes ``1000``, an int64 column with a gap becomes float64 (rounding
    identifiers beyond 2**53). Read as text (``dtype=str``), a column becomes, once
    :meth:`add` has seen every chunk: int64 (``Int64`` with gaps) if every value is an integer
    written without a leading zero that fits int64; else float64 if every value is a number
    (with the file's decimal mark: in a decimal-comma file ``1.234`` is not one), none an
    integer with a leading zero, and not every one an integer (integers beyond int64 are
    identifiers that float64 would round); else booleans (``true``/``false`` in any case;
    ``boolean`` with gaps); else text, as written (pandas' string dtype).

    Parameters
    ----------
    path : str or Path
        The CSV file (its decimal separator is found as :func:`iter_input_chunks` finds it).
    columns : list of str
        The columns read as text.
    """

    def __init__(self, path, columns):
        self.columns = list(columns)
        self.decimal = _csv_decimal(path, csv_separator(path))
        self._fits = {c: {"int", "float", "bool"} for c in self.columns}
        self._missing = dict.fromkeys(self.columns, False)
        self._seen = dict.fromkeys(self.columns, False)

    @property
    def dtype(self) -> dict:
        """``read_csv``'s ``dtype`` that reads the columns as text."""
        return dict.fromkeys(self.columns, str)

    def _numbers(self, text: pd.Series) -> pd.Series:
        return text.str.replace(self.decimal, ".", regex=False) if self.decimal != "." else text

    def add(self, chunk: pd.DataFrame) -> None:
        """Take one chunk's text into the judgement."""
        for column in self.columns:
            fits = self._fits[column]
            values = chunk[column]
            missing = values.isna()
            self._missing[column] |= bool(missing.any())
            if missing.all() or not fits:
                continue
            self._seen[column] = True
            text = values[~missing].astype(str).str.strip()
            integer = text.str.fullmatch(_INTEGER)
            if not _fit_int64(text[integer]):  # an integer beyond int64: identifiers, which float64 would round
                fits.difference_update({"int", "float"})
            elif "int" in fits and not integer.all():
                fits.discard("int")
            if "float" in fits and (
                text.str.fullmatch(_ZERO_LED).any()
                or (self.decimal != "." and text.str.contains(".", regex=False).any())  # 1.234: a thousands dot
                or pd.to_numeric(self._numbers(text), errors="coerce").isna().any()
            ):
                fits.discard("float")
            if "bool" in fits and not text.str.lower().isin(list(_BOOLEANS)).all():
                fits.discard("bool")

    @property
    def types(self) -> dict:
        """Column -> the type its values all fit (columns that stay text are left out)."""
        types = {}
        for column in self.columns:
            fits, gaps = self._fits[column], self._missing[column]
            if not self._seen[column]:
                continue  # no value at all: text, as read
            if "int" in fits:
                types[column] = "Int64" if gaps else "int64"
            elif "float" in fits:
                types[column] = "float64"
            elif "bool" in fits:
                types[column] = "boolean" if gaps else "bool"
        return types

    def apply(self, chunk: pd.DataFrame, *, numbers_only: bool = False) -> pd.DataFrame:
        """The chunk with its columns in their judged types (call after :meth:`add` saw every chunk).

        The columns that stay text keep a string dtype (one Arrow type in every chunk, even
        where a chunk holds none of their values). ``numbers_only``: only the float64 columns
        are converted, the rest left as read (a CSV written back with ``.`` decimals).
        """
        types = self.types
        for column, kind in types.items():
            if numbers_only and kind != "float64":
                continue
            values = chunk[column]
            text = values.where(values.isna(), values.astype(str).str.strip()).astype(object)
            if kind in ("int64", "Int64"):
                chunk[column] = text.astype(kind)
            elif kind == "float64":
                numbers = self._numbers(text.astype(str)).where(text.notna())
                chunk[column] = pd.to_numeric(numbers, errors="raise").astype("float64")  # "7" alone is a float here
            else:
                chunk[column] = text.str.lower().map(_BOOLEANS).astype(kind)
        if not numbers_only:
            for column in self.columns:  # pandas 2 reads text as objects: a chunk of gaps alone would be Arrow null
                if column not in types and chunk[column].dtype == object:
                    chunk[column] = chunk[column].astype("string")
        return chunk


def _fit_int64(text: pd.Series) -> bool:
    """Whether integer texts (as :data:`_INTEGER` matches them) all fit int64."""
    long = text[text.str.len() >= 19]
    return all(-(2**63) <= int(value) < 2**63 for value in long)


def read_columns(path) -> list:
    """The column names of a CSV or Parquet file, from its header or schema (no data is read).

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt`` or ``.parquet``/``.pq``.

    Returns
    -------
    list of str
    """
    path = Path(path)
    if _input_format(path) == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        index = parquet_index(schema).columns
        return [name for name in schema.names if name not in index]
    try:
        return list(pd.read_csv(path, nrows=0, sep=csv_separator(path)).columns)
    except UnicodeDecodeError as err:
        raise _not_utf8(path, err) from None


def read_table(path) -> pd.DataFrame:
    """Read a whole CSV or Parquet file into a DataFrame (the format from the suffix).

    Parameters
    ----------
    path : str or Path
        ``.parquet``/``.pq`` is read as Parquet, anything else as CSV.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    sep = csv_separator(path)
    return pd.read_csv(path, sep=sep, decimal=_csv_decimal(path, sep))


class ChunkWriter:
    """Append embedding chunks to a Parquet, CSV or npy file without holding them all.

    The rows go to a temporary file next to ``path`` that replaces ``path`` only when
    :meth:`close` succeeds; :meth:`abort` (or leaving a ``with`` block with an exception)
    deletes it, so a failed run leaves no file at ``path``.

    Parameters
    ----------
    path : str or Path
        Output file; the format comes from the suffix, see :data:`OUTPUT_FORMATS`.
    n_rows : int or None
        Total rows that will be written. Required for npy, whose header holds the shape;
        :meth:`close` checks it.
    feature_names : sequence of str
        Embedding column names (Parquet and CSV); their count is the npy width.
    dtype : dtype-like
        Embedding dtype on disk.
    overwrite : bool, default=True
        Replace an existing file at ``path`` (only once the new one is complete). With False
        an existing file raises ``FileExistsError`` here, before anything is written, and
        again at :meth:`close` if one appeared in the meantime.

    Examples
    --------
    >>> with ChunkWriter("out.parquet", 2, ["f0", "f1"], "float32") as writer:  # doctest: +SKIP
    ...     writer.write(np.zeros((2, 2)), passthrough=None)
    """

    def __init__(self, path, n_rows: int | None, feature_names, dtype, *, overwrite: bool = True):
        self.path, self.n_rows, self.names, self.dtype = Path(path), n_rows, list(feature_names), dtype
        self.format = OUTPUT_FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise ValueError(f"unsupported output format {self.path.suffix!r}; use .parquet, .csv or .npy")
        if self.format == "npy" and n_rows is None:
            raise ValueError("npy output needs a known row count up front (n_rows)")
        self._output = atomic_output(self.path, overwrite=overwrite)
        self._temporary = self._output.open()
        self._handle = None  # the open npy file or ParquetWriter
        self._csv_started = False
        self._offset = 0

    def write(self, embedding: np.ndarray, passthrough: pd.DataFrame | None) -> None:
        """Append rows.

        Parameters
        ----------
        embedding : ndarray of shape (n, len(feature_names))
            The embedding rows.
        passthrough : DataFrame of n rows or None
            Input columns written before the embedding columns (Parquet and CSV; ignored for npy).
            Its index is kept when it is not a plain row numbering (an unnamed ``RangeIndex``):
            a Parquet file stores it as pandas does (``read_parquet`` gives it back as the index),
            a CSV file in its first columns.
        """
        if self.format == "npy":  # header first, then raw rows: no memory map, flat RSS
            if self._handle is None:
                self._handle = open(self._temporary, "wb")
                header = {
                    "descr": np.lib.format.dtype_to_descr(np.dtype(self.dtype)),
                    "fortran_order": False,
                    "shape": (self.n_rows, len(self.names)),
                }
                np.lib.format.write_array_header_1_0(self._handle, header)
            np.ascontiguousarray(embedding, dtype=self.dtype).tofile(self._handle)
            self._offset += len(embedding)
            return
        keep_index = passthrough is not None and not _row_numbers(passthrough.index)
        frame = pd.DataFrame(embedding, columns=self.names, index=passthrough.index if keep_index else None, copy=False)
        if passthrough is not None:
            frame = pd.concat([passthrough if keep_index else passthrough.reset_index(drop=True), frame], axis=1)
        if self.format == "csv":
            first = not self._csv_started
            frame.to_csv(self._temporary, mode="w" if first else "a", header=first, index=keep_index)
            self._csv_started = True
            self._offset += len(frame)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=keep_index)
        if self._handle is None:
            self._handle = pq.ParquetWriter(self._temporary, table.schema)
        self._handle.write_table(table)
        self._offset += len(frame)

    def close(self) -> None:
        """Finish the file and move it to ``path``; on any error the partial file is deleted.

        Raises
        ------
        ValueError
            npy output whose row count differs from ``n_rows``.
        """
        self._output.finish(self._finish)

    def abort(self) -> None:
        """Stop writing and delete the partial file; ``path`` is left as it was."""
        self._output.abandon(self._close_handle)

    def _finish(self) -> None:
        if self._handle is None and not self._csv_started:  # nothing written: still a valid, empty file
            self.write(np.zeros((0, len(self.names)), dtype=self.dtype), None)
        self._close_handle()
        if self.format == "npy" and self._offset != self.n_rows:
            raise ValueError(f"wrote {self._offset} rows to {self.path} but expected {self.n_rows}")

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    def _close_handle(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()


def _row_numbers(index) -> bool:
    """Whether ``index`` is a plain numbering of rows (an unnamed RangeIndex), which outputs leave out."""
    return isinstance(index, pd.RangeIndex) and index.name is None
