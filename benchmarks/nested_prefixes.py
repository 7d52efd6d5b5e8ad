"""Nested prefixes of geoclip-lite (``n_components`` = 64, 128, 256, all) on the held-out task pool.

    python -m benchmarks.nested_prefixes [--half both] [--tasks ...] [--name nested_prefixes]

The protocol of ``benchmarks/heldout_lite.py``: location-only tasks of both halves, spatially
blocked 5-fold CV (the task's blocks, seed 0), the suite's linear probe (``MinMaxScaler`` +
``RidgeCV``/``RidgeClassifierCV``). Each prefix is the first k columns of the projection on
lite's own PCA basis (bundled, computed on an equal-area lattice). Reports, per half, on how many
tasks each k is within 0.01 of full lite and of GeoCLIP, and the median difference. Writes
``benchmarks/results/nested_prefixes.{md,json}``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks._report import machine_info, write_results
from geoembed import GeoEmbedder
from geoembed.datasets.heldout import list_heldout_tasks, load_heldout_task
from geoembed.evaluation import evaluate
from geoembed.evaluation.probing import METRICS

MARGIN = 0.01
PREFIXES = (64, 128, 256)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["development", "evaluation", "both"], default="both")
    parser.add_argument("--tasks", nargs="*", default=None, help="only these tasks")
    parser.add_argument("--name", default="nested_prefixes", help="results file name")
    args = parser.parse_args(argv)
    halves = ["development", "evaluation"] if args.half == "both" else [args.half]
    info = machine_info()
    encoders = {
        "GeoCLIP": GeoEmbedder(),
        "lite": GeoEmbedder(weights="geoclip-lite"),
        **{f"lite k={k}": GeoEmbedder(weights="geoclip-lite", n_components=k) for k in PREFIXES},
    }
    labels = [f"lite k={k}" for k in PREFIXES]
    rows, scores, start = [], [], time.perf_counter()
    for half in halves:
        for name in list_heldout_tasks(half, group="location"):
            if args.tasks is not None and name not in args.tasks:
                continue
            task = load_heldout_task(name)
            metric = METRICS[task.kind][0]
            means = {}
            row = {"half": half, "task": name, "n": len(task.y), "metric": metric}
            for label, encoder in encoders.items():
                result = evaluate(encoder, task, probe="linear")
                means[label] = result[metric]
                row[label] = f"{result[metric]:.3f} ± {result[f'{metric}_std']:.3f}"
            for label in labels:
                row[f"Δ {label.removeprefix('lite ')} - lite"] = f"{means[label] - means['lite']:+.3f}"
            rows.append(row)
            scores.append({"half": half, "task": name, **means})
            print(row, flush=True)
    notes = []
    for half in halves:
        mine = [s for s in scores if s["half"] == half]
        if not mine:
            continue
        for label in labels:
            to_lite = np.array([s[label] - s["lite"] for s in mine])
            to_geoclip = np.array([s[label] - s["GeoCLIP"] for s in mine])
            notes.append(
                f"{half} half, {len(mine)} location tasks, {label}: ≥ full lite - {MARGIN} on "
                f"{int(np.sum(to_lite >= -MARGIN))}, ≥ GeoCLIP - {MARGIN} on {int(np.sum(to_geoclip >= -MARGIN))}; "
                f"median Δ to lite {np.median(to_lite):+.3f} (worst {to_lite.min():+.3f}), "
                f"median Δ to GeoCLIP {np.median(to_geoclip):+.3f} (worst {to_geoclip.min():+.3f})."
            )
        full = np.array([s["lite"] - s["GeoCLIP"] for s in mine])
        notes.append(
            f"{half} half, full lite (512 columns): ≥ GeoCLIP - {MARGIN} on {int(np.sum(full >= -MARGIN))}; "
            f"median Δ to GeoCLIP {np.median(full):+.3f}."
        )
    notes.append(
        "lite k=K is GeoEmbedder(weights='geoclip-lite', n_components=K): the first K columns of the projection on "
        "lite's bundled PCA basis (lite's own outputs on a 200,000-point Fibonacci lattice), the same columns as "
        "the first K of any larger K. Scores are mean ± standard deviation over the folds."
    )
    notes.append(
        "Linear probe of the downstream suite (geoembed.evaluation.evaluate, probe='linear'), spatially blocked "
        f"5-fold CV with each task's blocks, seed 0. Wall time {(time.perf_counter() - start) / 60:.1f} min."
    )
    columns = ["half", "task", "n", "metric", "GeoCLIP", "lite", *reversed(labels)]
    columns += [f"Δ k={k} - lite" for k in reversed(PREFIXES)]
    write_results(
        args.name, "Nested prefixes of geoclip-lite on the held-out pool (linear probe)", rows, columns, notes, info
    )


if __name__ == "__main__":
    main()
