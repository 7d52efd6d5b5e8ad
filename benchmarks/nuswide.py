"""NUS-WIDE multi-label mAP into ``benchmarks/results/``: the installed benchmark, run from the checkout.

    python -m benchmarks.nuswide --root NUS-WIDE/ --geotags geotags.csv [--seeds 3]
    python -m benchmarks.nuswide --miniature /tmp/nuswide-mini [--miniature-images 3000]

Users run the same benchmark from an installed package with ``geoembed bench nuswide`` (see
:mod:`geoembed.benchmarks.nuswide`); this script only fixes where the results go:
``benchmarks/results/nuswide.{md,json,csv}``, or ``nuswide_miniature`` for a miniature run.
"""

from __future__ import annotations

import argparse

from benchmarks import _report
from geoembed.benchmarks.nuswide import run_benchmark


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="unpacked NUS-WIDE release")
    parser.add_argument("--geotags", help="CSV/parquet with photo_id, latitude, longitude")
    parser.add_argument("--miniature", metavar="DIR", help="write a synthetic miniature here and run on it")
    parser.add_argument("--miniature-images", type=int, default=3000)
    parser.add_argument("--feature", default="BoW_int", help="Low_Level_Features/<name>.dat used as V")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--name", help="results file stem (default nuswide, or nuswide_miniature)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    name = args.name or ("nuswide_miniature" if args.miniature else "nuswide")
    return run_benchmark(
        args.root,
        args.geotags,
        miniature=args.miniature,
        miniature_images=args.miniature_images,
        feature=args.feature,
        seeds=args.seeds,
        max_epochs=args.max_epochs,
        output=_report.RESULTS_DIR / name,
        overwrite=True,
        progress=not args.quiet,
        info=_report.machine_info(),
    )


if __name__ == "__main__":
    main()
