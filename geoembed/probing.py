"""Probing protocol: how much do location features help a downstream model?

Spatially blocked k-fold cross-validation (blocks of ``task.block_degrees`` assigned to folds
at random, so that neighbours never straddle train and test), a linear probe as in RANGE
(CVPR 2025: ``MinMaxScaler`` then ``RidgeClassifierCV`` / ``RidgeCV`` over alphas 0.1, 1, 10)
and a non-linear probe: k-nearest neighbours on standardised features (``"knn"``, k = 10, the
usual k-NN evaluation of representations). Also available: a one-hidden-layer MLP (``"mlp"``,
256 units, early stopping) and gradient-boosted trees (``"hgb"``; one tree per class per
round, so slow for tasks with ~100 classes). Metrics are reported as mean and standard
deviation over folds: accuracy and macro-F1 for classes, R^2 and RMSE for regression.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import RidgeClassifierCV, RidgeCV
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.compose import TransformedTargetRegressor
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

RIDGE_ALPHAS = (0.1, 1.0, 10.0)
METRICS = {"classification": ("accuracy", "macro_f1"), "regression": ("r2", "rmse")}


def spatial_block_folds(lat, lon, *, block_degrees: float, n_splits: int = 5, random_state: int = 0):
    """(train, test) index pairs where whole lat/lon blocks go to one fold."""
    lat, lon = np.asarray(lat), np.asarray(lon)
    blocks = np.floor((lat + 90) / block_degrees).astype(np.int64) * 100_000 + np.floor(
        (lon + 180) / block_degrees).astype(np.int64)
    unique, block_of_row = np.unique(blocks, return_inverse=True)
    if len(unique) < n_splits:
        raise ValueError(f"only {len(unique)} spatial blocks of {block_degrees} degrees for {n_splits} folds")
    fold_of_block = np.random.default_rng(random_state).permutation(len(unique)) % n_splits
    fold = fold_of_block[block_of_row]
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]


def make_probe(probe: str, kind: str, random_state: int = 0):
    """The probe model: "linear" (RANGE's ridge probe), "knn", "mlp" or "hgb" (gradient-boosted trees)."""
    if probe == "linear":
        head = RidgeClassifierCV(alphas=RIDGE_ALPHAS) if kind == "classification" else RidgeCV(alphas=RIDGE_ALPHAS)
        return make_pipeline(MinMaxScaler(), head)
    if probe == "knn":
        knn = KNeighborsClassifier(n_neighbors=10) if kind == "classification" else KNeighborsRegressor(n_neighbors=10)
        return make_pipeline(StandardScaler(), knn)
    if probe == "mlp":
        options = dict(hidden_layer_sizes=(256,), early_stopping=True, max_iter=200, random_state=random_state)
        if kind == "classification":
            return make_pipeline(StandardScaler(), MLPClassifier(**options))
        return make_pipeline(StandardScaler(), TransformedTargetRegressor(MLPRegressor(**options),
                                                                           transformer=StandardScaler()))
    if probe == "hgb":
        options = dict(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False,
                       random_state=random_state)
        return HistGradientBoostingClassifier(**options) if kind == "classification" else \
            HistGradientBoostingRegressor(**options)
    raise ValueError(f"probe must be 'linear', 'knn', 'mlp' or 'hgb'; got {probe!r}")


def _scores(kind, y_true, y_pred) -> dict:
    if kind == "classification":
        return {"accuracy": accuracy_score(y_true, y_pred), "macro_f1": f1_score(y_true, y_pred, average="macro")}
    return {"r2": r2_score(y_true, y_pred), "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred)))}


def embed_task(encoder, task):
    """Feature matrix for ``task`` (location features, then the task's extra columns) and seconds spent."""
    start = time.perf_counter()
    parts = []
    if encoder is not None:
        features = clone(encoder).fit(task.frame[["lat", "lon"]]).transform(task.frame[["lat", "lon"]])
        parts.append(features.toarray() if sp.issparse(features) else np.asarray(features, dtype=np.float64))
    seconds = time.perf_counter() - start
    if task.extra_features:
        parts.append(task.frame[task.extra_features].to_numpy(np.float64))
    if not parts:
        raise ValueError(f"task {task.name!r} has no extra features, so it needs a location encoder")
    return np.hstack(parts), seconds


def evaluate(encoder, task, *, probe: str = "linear", n_splits: int = 5, random_state: int = 0,
             features=None) -> dict:
    """Cross-validated scores of ``probe`` on ``encoder``'s features (``None``: extra features only)."""
    X, seconds = features if features is not None else embed_task(encoder, task)
    folds = spatial_block_folds(task.frame["lat"], task.frame["lon"], block_degrees=task.block_degrees,
                                n_splits=n_splits, random_state=random_state)
    per_fold = []
    for train, test in folds:
        model = make_probe(probe, task.kind, random_state).fit(X[train], task.y[train])
        per_fold.append(_scores(task.kind, task.y[test], model.predict(X[test])))
    result = {"task": task.name, "probe": probe, "n_samples": len(task), "n_features": X.shape[1],
              "embed_seconds": seconds}
    for metric in METRICS[task.kind]:
        values = np.array([f[metric] for f in per_fold])
        result[metric] = float(values.mean())
        result[f"{metric}_std"] = float(values.std())
    return result


def compare_encoders(encoders: dict, tasks, *, probes=("linear", "knn"), n_splits: int = 5, random_state: int = 0,
                     progress: bool = True) -> pd.DataFrame:
    """Every encoder x task x probe; one row each. ``encoders`` maps names to transformers (or None)."""
    from tqdm.auto import tqdm

    rows = []
    jobs = [(task, name, enc) for task in tasks for name, enc in encoders.items()
            if enc is not None or task.extra_features]
    for task, name, encoder in tqdm(jobs, disable=not progress, desc="probing"):
        features = embed_task(encoder, task)
        for probe in probes:
            rows.append({"encoder": name, **evaluate(encoder, task, probe=probe, n_splits=n_splits,
                                                      random_state=random_state, features=features)})
    return pd.DataFrame(rows)
