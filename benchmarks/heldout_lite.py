"""geoclip-lite against GeoCLIP on the held-out task pool: the suite's linear probe, both halves.

    python -m benchmarks.heldout_lite [--half evaluation] [--student LABEL=WEIGHTS] [--tasks ...] [--name NAME]

``--half confirmation`` measures the confirmation set (tasks from sources the project had not
read, added after the split; :data:`geoembed.datasets.heldout.CONFIRMATION`), ``--half
confirmation2`` the second (:data:`geoembed.datasets.heldout.CONFIRMATION_2`) and ``--half confirmation3``
the third (:data:`geoembed.datasets.heldout.CONFIRMATION_3`). The issue-26
criterion reads the evaluation half: a linear probe on the lite features at least
GeoCLIP's minus 0.01 on every task. Location-only tasks; spatially blocked 5-fold CV (the task's
blocks, seed 0); the suite's linear probe (``MinMaxScaler`` + ``RidgeCV``/``RidgeClassifierCV``,
as in RANGE). Writes ``benchmarks/results/heldout_lite.{md,json}``.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--half",
        choices=["development", "evaluation", "confirmation", "confirmation2", "confirmation3", "both"],
        default="both",
    )
    parser.add_argument(
        "--student", default="geoclip-lite", help="LABEL=WEIGHTS (a registered name or a checkpoint), or WEIGHTS"
    )
    parser.add_argument("--tasks", nargs="*", default=None, help="only these tasks")
    parser.add_argument("--name", default="heldout_lite", help="results file name")
    args = parser.parse_args(argv)
    halves = ["development", "evaluation"] if args.half == "both" else [args.half]
    label, _, weights = args.student.rpartition("=")
    label = label or weights
    info = machine_info()
    encoders = {"GeoCLIP": GeoEmbedder(), label: GeoEmbedder(weights=weights)}
    rows, start = [], time.perf_counter()
    for half in halves:
        for name in list_heldout_tasks(half, group="location"):
            if args.tasks is not None and name not in args.tasks:
                continue
            task = load_heldout_task(name)
            scores = {}
            metric = METRICS[task.kind][0]
            for label, encoder in encoders.items():
                result = evaluate(encoder, task, probe="linear")
                scores[label] = {"mean": result[metric], "std": result[f"{metric}_std"], "metric": metric}
            gap = scores[label]["mean"] - scores["GeoCLIP"]["mean"]
            rows.append(
                {
                    "half": half,
                    "task": name,
                    "n": len(task.y),
                    "metric": metric,
                    "GeoCLIP": f"{scores['GeoCLIP']['mean']:.3f} ± {scores['GeoCLIP']['std']:.3f}",
                    "student": f"{scores[label]['mean']:.3f} ± {scores[label]['std']:.3f}",
                    "Δ student - GeoCLIP": f"{gap:+.3f}",
                    f"≥ GeoCLIP - {MARGIN}": "yes" if gap >= -MARGIN else "**no**",
                }
            )
            print(rows[-1], flush=True)
    notes = []
    for half in halves:
        mine = [r for r in rows if r["half"] == half]
        gaps = np.array([float(r["Δ student - GeoCLIP"]) for r in mine])
        failing = [
            f"{r['task']} ({r['Δ student - GeoCLIP']})" for r in mine if float(r["Δ student - GeoCLIP"]) < -MARGIN
        ]
        sets = {
            "confirmation": "confirmation set",
            "confirmation2": "second confirmation set",
            "confirmation3": "third confirmation set",
        }
        part = sets.get(half, f"{half} half")
        notes.append(
            f"{part}, {len(mine)} location tasks: {label} ≥ GeoCLIP - {MARGIN} on {len(mine) - len(failing)}; "
            f"median Δ {np.median(gaps):+.3f}, worst {gaps.min():+.3f}; "
            f"below the margin: {', '.join(failing) or 'none'}."
        )
    notes.append(f"Student: {label} = {weights}.")
    notes.append(
        "Linear probe of the downstream suite (geoembed.evaluation.evaluate, probe='linear'), spatially blocked "
        f"5-fold CV with each task's blocks, seed 0. Wall time {(time.perf_counter() - start) / 60:.1f} min."
    )
    columns = ["half", "task", "n", "metric", "GeoCLIP", "student", "Δ student - GeoCLIP", f"≥ GeoCLIP - {MARGIN}"]
    write_results(args.name, f"{label} against GeoCLIP on the held-out pool (linear probe)", rows, columns, notes, info)


if __name__ == "__main__":
    main()
