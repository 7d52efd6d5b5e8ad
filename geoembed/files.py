"""Embedding whole files: a CSV/Parquet table streamed through GeoEmbedder into Parquet, CSV or npy.

The job behind ``geoembed embed``. Reading and writing live in :mod:`geoembed.io`; this module
composes them with :class:`~geoembed.GeoEmbedder`, and holds the output-path checks that every
command writing a file makes before it reads anything (:func:`check_output_path`).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.core.inputs import find_latlon_columns
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.io.tables import OUTPUT_FORMATS, ChunkWriter, iter_input_chunks, read_columns

__all__ = ["check_output_path", "check_writable_folder", "embed_file", "same_file"]


def same_file(first, second) -> bool:
    """Whether two paths name the same file.

    Parameters
    ----------
    first, second : str or Path

    Returns
    -------
    bool
        When both exist: the same device and inode (so a symlink, a hard link or another
        spelling of the path counts as the same file). Otherwise: the same fully resolved path.
    """
    try:
        return os.path.samefile(first, second)
    except OSError:  # at least one does not exist (or cannot be examined)
        pass
    try:
        return Path(first).resolve() == Path(second).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return os.path.abspath(first) == os.path.abspath(second)


def check_output_path(
    output, inputs=(), *, overwrite: bool = True, directory: bool = False, overwrite_hint: str = "overwrite=True"
) -> Path:
    """Check, before any work, that ``output`` can be written without harm.

    Parameters
    ----------
    output : str or Path
        The file (or folder, with ``directory=True``) about to be written.
    inputs : iterable of str, Path or None, default=()
        Files the job reads; None entries are skipped.
    overwrite : bool, default=True
        Whether an existing ``output`` may be replaced.
    directory : bool, default=False
        ``output`` is a folder (e.g. a ``.zarr`` store) rather than a file.
    overwrite_hint : str, default="overwrite=True"
        How the caller spells the permission to overwrite, for the error message (the CLI
        passes ``"--overwrite"``).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        ``output`` is one of ``inputs``, under any path (symlink, hard link, ``..``).
    FileExistsError
        ``output`` exists and ``overwrite`` is False.
    FileNotFoundError
        The folder of ``output`` does not exist.
    IsADirectoryError
        A file output names an existing folder.
    PermissionError
        The folder of ``output`` is not writable.
    """
    output = Path(output)
    for source in inputs:
        if source is not None and same_file(output, source):
            raise ValueError(
                f"refusing to write {output} over the input {source} (the same file); choose another output path"
            )
    if not overwrite and (output.exists() or output.is_symlink()):
        raise FileExistsError(f"{output} already exists; pass {overwrite_hint} to replace it")
    if not output.parent.is_dir():
        raise FileNotFoundError(f"cannot write {output}: folder {output.parent} does not exist")
    if not directory and output.is_dir():
        raise IsADirectoryError(f"cannot write {output}: it is a folder")
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {output}: folder {output.parent} is not writable")
    return output


def check_writable_folder(folder, *, what: str = "folder") -> Path:
    """Check, before any work, that files can be written in ``folder``, existing or to be created.

    Parameters
    ----------
    folder : str or Path
        The folder (it and missing parents are created later, by the writer).
    what : str, default="folder"
        What the folder is, for messages, e.g. "checkpoint folder".

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    NotADirectoryError
        ``folder`` or one of its parents is a file.
    PermissionError
        The nearest existing folder (``folder`` itself, or the parent it would be created in)
        is not writable for this user. (For root, as for ``os.access``, only a read-only file
        system counts.)
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot write the {what} {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write the {what} {folder}: folder {existing} is not writable")
    return folder


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
