"""Student width against the seed: several distillation seeds per hidden width, on the development half.

    python -m benchmarks.distill_seeds [--widths 128 64] [--seeds 0 1 2] [--half development] [--name distill_seeds]

One seed per design is not enough to compare students: a reseeded geoclip-lite (the same command
with ``--random-state 1``) moved single development tasks by up to 0.08 and was more than 0.01
below the bundled one on 12 of 24. This trains ``geoembed distill --hidden-dim W --random-state S``
for every width and seed (the defaults otherwise, 35-45 s each on 2 cores), scores each with the
linear probe of ``benchmarks.heldout_lite`` (spatially blocked 5-fold CV, the task's blocks, seed
0) on the location-only tasks of ``--half`` (the development half: widths are a design choice), and
reports per task the mean over seeds of each width, the difference of the first two widths' means
with its standard error, and how many tasks each seed puts within 0.01 of GeoCLIP. Writes
``benchmarks/results/<name>.{md,json}``; the students go to a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._report import machine_info, write_results
from geoembed import GeoEmbedder
from geoembed.datasets.heldout import list_heldout_tasks, load_heldout_task
from geoembed.evaluation import evaluate
from geoembed.evaluation.probing import METRICS
from geoembed.training import DistillConfig, Distiller

MARGIN = 0.01


def train(width: int, seed: int, out: Path, n_points: int = 200_000, epochs: int = 10) -> Path:
    """``geoembed distill --hidden-dim width --random-state seed`` into ``out``; the checkpoint's path."""
    student = dataclasses.replace(DistillConfig().student, hidden_dim=width)  # the default student, another width
    config = DistillConfig(student=student, random_state=seed, n_points=n_points, epochs=epochs)
    Distiller(config).fit(out, progress=False)
    return out / "location_encoder.safetensors"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--half", default="development")
    parser.add_argument("--tasks", nargs="*", default=None, help="only these tasks")
    parser.add_argument("--points", type=int, default=200_000, help="distillation points (the default's)")
    parser.add_argument("--epochs", type=int, default=10, help="distillation epochs (the default's)")
    parser.add_argument("--name", default="distill_seeds")
    args = parser.parse_args(argv)
    info = machine_info()
    names = [n for n in list_heldout_tasks(args.half, group="location") if args.tasks is None or n in args.tasks]
    tasks = [load_heldout_task(n) for n in names]
    start = time.perf_counter()

    def scores(encoder):
        return np.array([evaluate(encoder, t, probe="linear")[METRICS[t.kind][0]] for t in tasks])

    geoclip = scores(GeoEmbedder())
    per_width = {}
    with tempfile.TemporaryDirectory() as folder:
        for width in args.widths:
            runs = []
            for seed in args.seeds:
                path = train(width, seed, Path(folder) / f"w{width}s{seed}", args.points, args.epochs)
                runs.append(scores(GeoEmbedder(weights=str(path))))
                print(f"width {width} seed {seed}: {(runs[-1] >= geoclip - MARGIN).sum()} of {len(tasks)}", flush=True)
            per_width[width] = np.array(runs)
    first, second = args.widths[:2] if len(args.widths) > 1 else (args.widths[0], args.widths[0])
    a, b = per_width[first], per_width[second]
    k = len(args.seeds)
    diff = b.mean(axis=0) - a.mean(axis=0)
    se = np.sqrt(a.var(axis=0, ddof=1) / k + b.var(axis=0, ddof=1) / k) if k > 1 else np.full(len(tasks), np.nan)
    rows = []
    for i in np.argsort(diff):
        row = {"task": names[i], "metric": METRICS[tasks[i].kind][0], "GeoCLIP": f"{geoclip[i]:.3f}"}
        for width, runs in per_width.items():
            row[f"hidden {width}: mean over seeds"] = f"{runs[:, i].mean():.3f}"
            row[f"hidden {width}: seeds"] = " / ".join(f"{v:.3f}" for v in runs[:, i])
        row[f"Δ hidden {second} - hidden {first} (se)"] = f"{diff[i]:+.3f} ({se[i]:.3f})"
        rows.append(row)
    within = {w: [int(v) for v in (runs >= geoclip - MARGIN).sum(axis=1)] for w, runs in per_width.items()}
    notes = [
        f"{len(tasks)} location-only tasks of the {args.half} part; seeds {args.seeds}; students trained by "
        "geoembed distill --hidden-dim W --random-state S (the defaults otherwise: 200K points, 10 epochs); "
        "linear probe (MinMaxScaler + RidgeCV / RidgeClassifierCV), spatially blocked 5-fold CV, seed 0.",
        "Tasks within 0.01 of GeoCLIP, per seed: "
        + "; ".join(f"hidden {w}: {' / '.join(map(str, v))}" for w, v in within.items())
        + ".",
        f"Δ hidden {second} - hidden {first} of the seed means: median {np.median(diff):+.3f}; more than 0.01 "
        f"below on {(diff < -MARGIN).sum()} tasks, above on {(diff > MARGIN).sum()}.",
        f"Wall time {(time.perf_counter() - start) / 60:.1f} min.",
    ]
    write_results(args.name, "Student width against the seed", rows, list(rows[0]), notes, info)
    return rows


if __name__ == "__main__":
    main()
