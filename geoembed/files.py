"""Embedding whole files: a CSV/Parquet table streamed through GeoEmbedder into Parquet, CSV or npy.

The job behind ``geoembed embed``. Reading and writing live in :mod:`geoembed.io`; this module
composes them with :class:`~geoembed.GeoEmbedder`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .embedder import GeoEmbedder
from .io.tables import ChunkWriter, iter_input_chunks

__all__ = ["embed_file"]


def embed_file(
    input_path,
    output_path,
    *,
    chunk_rows: int = 50_000,
    keep_columns: bool = True,
    progress: bool = True,
    **embedder_params,
) -> int:
    """Stream a CSV or Parquet file through :class:`~geoembed.GeoEmbedder` into Parquet, CSV or npy.

    Memory stays bounded by ``chunk_rows``. The output appears only when every row has been
    embedded: an invalid row in any chunk (with ``on_invalid="raise"``) or an interruption
    leaves no file at ``output_path``.

    Parameters
    ----------
    input_path : str or Path
        ``.csv`` or ``.parquet`` with latitude and longitude columns (found by name, or
        ``lat_col``/``lon_col``), in degrees.
    output_path : str or Path
        ``.parquet``, ``.csv`` or ``.npy``. npy holds the embedding only.
    chunk_rows : int, default=50_000
        Rows read, embedded and written at a time.
    keep_columns : bool, default=True
        Write the input columns before the embedding columns (Parquet and CSV).
    progress : bool, default=True
        Show a progress bar.
    **embedder_params
        Passed to :class:`~geoembed.GeoEmbedder` (``lat_col``, ``precision``, ``dtype``, ...).

    Returns
    -------
    int
        The number of rows written.
    """
    from tqdm.auto import tqdm

    chunks = iter_input_chunks(input_path, chunk_rows)
    n_rows = next(chunks)
    embedder = GeoEmbedder(**embedder_params)
    writer = None
    written = 0
    try:
        with tqdm(total=n_rows, unit="pt", disable=not progress, desc="embedding") as bar:
            for chunk in chunks:
                chunk.index = pd.RangeIndex(written, written + len(chunk))  # row numbers in errors
                if writer is None:
                    embedder.fit(chunk)
                    writer = ChunkWriter(output_path, n_rows, embedder.get_feature_names_out(), embedder.dtype)
                embedding = embedder.transform(chunk)
                writer.write(embedding, chunk if keep_columns else None)
                written += len(chunk)
                bar.update(len(chunk))
        if writer is None:  # empty input: still write a valid, empty output
            embedder.fit(np.zeros((0, 2)))
            writer = ChunkWriter(output_path, 0, embedder.get_feature_names_out(), embedder.dtype)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    writer.close()
    return written
