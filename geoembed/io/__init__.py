"""Reading and writing files: tables in chunks, Zarr grids, and atomic writes for all of them.

- :mod:`geoembed.io.atomic`: :func:`atomic_output`, the one way the package writes a file or
  folder, so that a failure never leaves a partial output.
- :mod:`geoembed.io.paths`: the output-path checks every writer makes before any work (an output
  that is an input, an existing output, a folder that cannot be written).
- :mod:`geoembed.io.tables`: CSV/Parquet read in chunks, embeddings written to Parquet, CSV
  or npy (:func:`geoembed.files.embed_file` streams one into the other).
- :mod:`geoembed.io.zarr`: gridded embeddings streamed into a Zarr store band by band.
"""

from geoembed.io.atomic import AtomicOutput, atomic_output
from geoembed.io.tables import (
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    ChunkWriter,
    count_csv_rows,
    iter_input_chunks,
    read_table,
)
from geoembed.io.zarr import ZarrGridWriter, open_grid

__all__ = [
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "AtomicOutput",
    "ChunkWriter",
    "ZarrGridWriter",
    "atomic_output",
    "count_csv_rows",
    "iter_input_chunks",
    "open_grid",
    "read_table",
]
