"""Can a location prior help boosted trees that already have lat/lon? Seven designs, measured.

    python -m benchmarks.tree_head_variants [--tasks ames_added ...] [--repeats 5]

Needs ``pip install -e '.[bench]'``. On every task with other features, the paired Δ of
"other + lat/lon + prior" against "other + lat/lon" under the suite's boosted-tree head
(``make_probe("hgb")``), over ``--repeats`` reshuffles of the spatially blocked outer folds
(seeds 0..r-1, the prior reseeded too), for these designs of the prior:

- ``default``: ``LocationTargetEncoder()`` as shipped;
- ``cv=10``: ten inner folds, so each row's training value comes from models fit on 90% of rows;
- ``inner blocks = outer blocks``: the inner folds use the outer CV's block size;
- ``linear + knn``: without the randomised trees, whose job the head already does;
- ``mean of 3 cross-fits``: three encoders with different inner folds, averaged (less noise);
- ``prior of the residual``: the prior learned on y minus an out-of-fold prediction of y from
  the other features alone (boosted trees), i.e. location's part net of the other features;
- ``monotone head``: the default prior, and the head told that y rises with it
  (``monotonic_cst``).

The verdict per design uses the issue's margin: non-inferior when the one-sided 95% lower bound
of the mean Δ (Student t over the repeats) is above -0.005. Results go to
``benchmarks/results/tree_head_variants.{md,json}``.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from benchmarks._report import machine_info, markdown_table, write_results
from benchmarks.location_prior import (
    ADDED_TASKS,
    PrecomputedFeatures,
    default_prior,
    paired_deltas,
    paired_summary,
    precompute,
)
from geoembed import GeoEmbedder, LocationTargetEncoder, SpatialBlockKFold
from geoembed.datasets import load_task
from geoembed.target_encoder import infer_target_type

MARGIN = 0.005  # the tolerance the issue gives the location-only tasks


class AveragedPrior(TransformerMixin, BaseEstimator):
    """The mean of ``n`` encoders whose inner folds differ (seeds ``seed * 1000 + i``)."""

    def __init__(self, features_key=None, n=3, seed=0):
        self.features_key, self.n, self.seed = features_key, n, seed

    def fit_transform(self, X, y):
        self.encoders_ = [
            LocationTargetEncoder(PrecomputedFeatures(self.features_key), random_state=self.seed * 1000 + i)
            for i in range(self.n)
        ]
        return np.mean([encoder.fit_transform(X, y) for encoder in self.encoders_], axis=0)

    def fit(self, X, y):
        self.fit_transform(X, y)
        return self

    def transform(self, X):
        return np.mean([encoder.transform(X) for encoder in self.encoders_], axis=0)


class ResidualPrior(TransformerMixin, BaseEstimator):
    """The prior of y minus an out-of-fold boosted-tree prediction of y from the other columns.

    Takes the lat/lon columns and the other features; classes are scored as the indicator of
    the second class (binary targets only).
    """

    def __init__(self, features_key=None, other=None, block_size_deg=None, seed=0):
        self.features_key, self.other, self.block_size_deg, self.seed = features_key, other, block_size_deg, seed

    def fit_transform(self, X, y):
        y = np.asarray(y)
        classes = np.unique(y) if infer_target_type(y) != "continuous" else None  # the encoder's rule
        target = (y == classes[1]).astype(float) if classes is not None else y.astype(float)
        other = X[self.other].to_numpy(dtype=float)
        folds = SpatialBlockKFold(5, block_size_deg=self.block_size_deg, shuffle=True, random_state=self.seed)
        residual = np.empty_like(target)
        for train, test in folds.split(X[["lat", "lon"]]):
            if classes is not None:
                model = HistGradientBoostingClassifier(random_state=0).fit(other[train], y[train])
                residual[test] = target[test] - model.predict_proba(other[test])[:, 1]
            else:
                model = HistGradientBoostingRegressor(random_state=0).fit(other[train], target[train])
                residual[test] = target[test] - model.predict(other[test])
        self.encoder_ = LocationTargetEncoder(PrecomputedFeatures(self.features_key), random_state=self.seed)
        return self.encoder_.fit_transform(X[["lat", "lon"]], residual)

    def fit(self, X, y):
        self.fit_transform(X, y)
        return self

    def transform(self, X):
        return self.encoder_.transform(X[["lat", "lon"]])


# name -> (prior block: (transformer, its columns), whether the head is told the prior is monotone)
DESIGNS = {
    "default": lambda task, seed: (default_prior(task, seed), ["lat", "lon"]),
    "cv=10": lambda task, seed: (default_prior(task, seed, cv=10), ["lat", "lon"]),
    "inner blocks = outer blocks": lambda task, seed: (
        default_prior(task, seed, block_size_deg=task.block_size_deg),
        ["lat", "lon"],
    ),
    "linear + knn": lambda task, seed: (default_prior(task, seed, learners=("linear", "knn")), ["lat", "lon"]),
    "mean of 3 cross-fits": lambda task, seed: (AveragedPrior(f"geoclip:{task.name}", 3, seed), ["lat", "lon"]),
    "prior of the residual": lambda task, seed: (
        ResidualPrior(f"geoclip:{task.name}", task.extra_features, task.block_size_deg, seed),
        ["lat", "lon", *task.extra_features],
    ),
    "monotone head": lambda task, seed: (default_prior(task, seed), ["lat", "lon"]),
}
MONOTONE = {"monotone head"}


def monotone_in_the_prior(task):
    """The head, told that the target rises with the prior (the last column)."""
    return lambda head: head.set_params(monotonic_cst=[0] * (len(task.extra_features) + 2) + [1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=ADDED_TASKS)
    parser.add_argument("--designs", nargs="*", default=list(DESIGNS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    info = machine_info()
    rows = []
    for name in args.tasks:
        task = load_task(name, n_samples=4000)
        precompute(f"geoclip:{task.name}", task.frame, GeoEmbedder())
        baselines: dict = {}
        for design in args.designs:
            began = time.perf_counter()
            deltas = paired_deltas(
                task,
                "hgb",
                functools.partial(DESIGNS[design], task),
                args.repeats,
                configure_head=monotone_in_the_prior(task) if design in MONOTONE else None,
                baselines=baselines,
            )
            result = paired_summary(deltas)
            rows.append(
                {
                    "task": task.name,
                    "design": design,
                    "n": len(task),
                    **result,
                    "Δ (mean ± SE)": f"{result['mean']:+.4f} ± {result['se']:.4f}",
                    "95% lower bound": f"{result['lower95']:+.4f}",
                    "repeats won": f"{result['wins']}/{args.repeats}",
                    "seconds": round(time.perf_counter() - began, 1),
                }
            )
            print(f"{task.name:18s} {design:28s} {rows[-1]['Δ (mean ± SE)']}  {rows[-1]['repeats won']}", flush=True)

    by_design = []
    for design in args.designs:
        mine = [r for r in rows if r["design"] == design]
        pooled = np.mean([r["mean"] for r in mine])
        pooled_se = np.sqrt(np.sum([r["se"] ** 2 for r in mine])) / len(mine)
        worst = min(mine, key=lambda r: r["mean"])
        by_design.append(
            {
                "design": design,
                "mean Δ over tasks": f"{pooled:+.4f} ± {pooled_se:.4f}",
                "worst task": f"{worst['task']} {worst['mean']:+.4f}",
                "tasks with mean Δ > 0": f"{sum(r['mean'] > 0 for r in mine)}/{len(mine)}",
                "tasks non-inferior (95% bound > -0.005)": f"{sum(r['lower95'] > -MARGIN for r in mine)}/{len(mine)}",
                "tasks significantly worse (upper 95% bound < 0)": str(sum(r["upper95"] < 0 for r in mine)),
                "per task": mine,  # the JSON keeps every repeat's Δ
            }
        )
    notes = [
        f"Boosted-tree head (make_probe('hgb')); paired Δ of other + lat/lon + prior vs other + lat/lon; "
        f"{args.repeats} reshuffles of the spatially blocked outer folds (the suite's blocks, seeds "
        f"0-{args.repeats - 1}); the prior reseeded with them. Total wall time "
        f"{(time.perf_counter() - start) / 60:.1f} min.",
        "### Per task\n\n"
        + markdown_table(rows, ["task", "design", "n", "Δ (mean ± SE)", "95% lower bound", "repeats won", "seconds"]),
    ]
    write_results(
        "tree_head_variants",
        "Location priors under a boosted-tree head that already has lat/lon: seven designs",
        by_design,
        [c for c in by_design[0] if c != "per task"],
        notes,
        info=info,
    )
    return by_design


if __name__ == "__main__":
    main()
