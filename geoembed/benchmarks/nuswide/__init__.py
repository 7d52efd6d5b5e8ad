"""NUS-WIDE geo-tagged multi-label classification: GeoCLIP's benchmark, in one room.

Run it with ``geoembed bench nuswide --root DIR --geotags FILE`` on the real release, or
``geoembed bench nuswide --miniature DIR`` on a synthetic miniature in the same layout.

- :mod:`~geoembed.benchmarks.nuswide.data`: the release layout, the geotag join, the miniature
- :mod:`~geoembed.benchmarks.nuswide.protocol`: the feature sets (V, each location encoder,
  each fused with V) scored by macro mAP over seeds
- :mod:`~geoembed.benchmarks.nuswide.table`: the paper-style table and GeoCLIP's published mAP
- :mod:`~geoembed.benchmarks.nuswide.run`: all of it, end to end, with checked arguments and
  results files
"""

from geoembed.benchmarks.nuswide.data import (
    NUSWide,
    load_nuswide,
    make_miniature_nuswide,
    photo_id_from_path,
    read_geotags,
)
from geoembed.benchmarks.nuswide.protocol import default_geo_encoders, run_nuswide_benchmark
from geoembed.benchmarks.nuswide.run import run_benchmark
from geoembed.benchmarks.nuswide.table import COLUMNS, NUSWIDE_MAP, format_table, split_line, table_rows

__all__ = [
    "COLUMNS",
    "NUSWIDE_MAP",
    "NUSWide",
    "default_geo_encoders",
    "format_table",
    "load_nuswide",
    "make_miniature_nuswide",
    "photo_id_from_path",
    "read_geotags",
    "run_benchmark",
    "run_nuswide_benchmark",
    "split_line",
    "table_rows",
]
