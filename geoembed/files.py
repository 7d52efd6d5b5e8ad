"""Embedding whole files: a CSV/Parquet table streamed through GeoEmbedder into Parquet, CSV or npy.

The job behind ``geoembed embed``. Reading and writing live in :mod:`geoembed.io`; this module
composes them with :class:`~geoembed.GeoEmbedder`; the output-path checks it makes before it
reads anything are :func:`geoembed.io.paths.check_output_path`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.core.inputs import find_latlon_columns
from geoembed.core.utils import moved_attribute
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.io.paths import check_output_path
from geoembed.io.tables import OUTPUT_FORMATS, ChunkWriter, iter_input_chunks, read_columns

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
    **embedder_params,
) -> int:
    """Stream a CSV or Parquet file through :class:`~geoembed.GeoEmbedder` into Parquet, CSV or npy.

    Memory stays bounded by ``chunk_rows``. The output appears only when every row has been
    embedded: an invalid row in any chunk (with ``on_invalid="raise"``) or an interruption
    leaves no new file at ``output_path`` (and a previous one as it was).

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
        passes ``("--lat-col NAME", "--lon-col NAME")``); by default ``lat_col=...``/``lon_col=...``.
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
    chunks = iter_input_chunks(input_path, chunk_rows)
    n_rows = next(chunks)
    # everything that can be checked without embedding is checked before the progress bar:
    # the columns (by the header), the embedder's parameters and weights (fitted on the first chunk)
    find_latlon_columns(
        read_columns(input_path),
        lat_col=embedder_params.get("lat_col"),
        lon_col=embedder_params.get("lon_col"),
        hints=column_hints,
    )
    embedder = GeoEmbedder(**embedder_params)
    first = next(chunks, None)
    embedder.fit(first if first is not None else np.zeros((0, 2)))
    writer = None
    written = 0
    try:
        writer = ChunkWriter(output_path, n_rows, embedder.get_feature_names_out(), embedder.dtype, overwrite=overwrite)
        with tqdm(total=n_rows, unit="pt", disable=not progress, desc="embedding") as bar:
            for chunk in itertools.chain([first] if first is not None else [], chunks):
                chunk.index = pd.RangeIndex(written, written + len(chunk))  # row numbers in errors
                embedding = embedder.transform(chunk)
                writer.write(embedding, chunk if keep_columns else None)
                written += len(chunk)
                bar.update(len(chunk))
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    writer.close()
    return written
