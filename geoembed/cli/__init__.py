"""The ``geoembed`` command line.

    geoembed demo                         embed the bundled world-cities sample
    geoembed embed INPUT -o OUTPUT        CSV/parquet in; parquet, CSV or npy out, streamed
    geoembed locate IMAGE...              top-k GPS predictions for photos
    geoembed locate-text "QUERY"...       top-k GPS predictions for text descriptions
    geoembed eval-geoloc CSV IMAGE_DIR    accuracy at 1/25/200/750/2500 km (Im2GPS3k format)
    geoembed bench nuswide --root DIR --geotags FILE   NUS-WIDE geo/visual/fused mAP table (--miniature DIR: synthetic)
    geoembed bench downstream -o STEM    the downstream suite: encoders x real tasks x probes
    geoembed train DATA --out DIR         contrastive training of a location encoder
    geoembed distill --out DIR            distil GeoCLIP into a small, fast student (GeoCLIP-lite)
    geoembed map -o map.png               PCA-to-RGB map of an embedding grid

Every file a command writes appears complete or not at all (written to a temporary file
next to it and renamed at the end; Ctrl-C and SIGTERM remove the temporary file). An
existing output named with ``-o``/``--out`` is never replaced without ``--overwrite``, and an
output that is one of the command's inputs is always refused; both checks run before anything
is read. The default outputs of ``demo`` and ``map`` (``geoembed_demo.parquet``,
``geoembed_map.png``) are the commands' own and are replaced on each run, so that both can
simply be run again.

Errors are reported on one line, ``geoembed: error: ...``, with exit status 2 for usage and
input errors (bad arguments, bad data, missing files, refused overwrites) and 1 for other
failures; 130 after Ctrl-C and 128 + N after signal N (143 for SIGTERM). ``--debug`` (or the
environment variable ``GEOEMBED_DEBUG=1``) re-raises instead, with the full traceback.
Warnings (deprecations, for instance) are one line too, ``geoembed: warning: ...``.
"""

from geoembed.cli._app import main
from geoembed.cli._parser import build_parser

__all__ = ["build_parser", "main"]
