"""Probing protocol: how much do location features help a downstream model?

Spatially blocked k-fold cross-validation (:class:`~geoembed.model_selection.SpatialBlockKFold`,
blocks of ``task.block_size_deg``, folds balanced in rows), a linear probe as in RANGE (CVPR 2025: ``MinMaxScaler`` then
``RidgeClassifierCV`` / ``RidgeCV`` over alphas 0.1, 1, 10) and a non-linear probe: k-nearest
neighbours on standardised features (``"knn"``, k = 10, the usual k-NN evaluation of
representations). Also available: a one-hidden-layer MLP (``"mlp"``, 256 units, early stopping)
and gradient-boosted trees (``"hgb"``; one tree per class per round, so slow for tasks with ~100
classes). Metrics are reported as mean and standard deviation over folds: accuracy and macro-F1
for classes, R^2 and RMSE for regression.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import RidgeClassifierCV, RidgeCV
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import get_tags

from geoembed.model_selection import SpatialBlockKFold

__all__ = ["METRICS", "RIDGE_ALPHAS", "compare_encoders", "embed_task", "evaluate", "make_probe"]

#: Regularisation strengths searched by the linear probe (RANGE's).
RIDGE_ALPHAS = (0.1, 1.0, 10.0)
#: Metrics reported per task kind.
METRICS = {"classification": ("accuracy", "macro_f1"), "regression": ("r2", "rmse")}


def make_probe(probe: str, kind: str, random_state: int = 0):
    """The probe model, an unfitted scikit-learn estimator.

    Parameters
    ----------
    probe : {"linear", "knn", "mlp", "hgb"}
        RANGE's ridge probe, k-nearest neighbours, a one-hidden-layer MLP or gradient-boosted trees.
    kind : {"classification", "regression"}
        The task kind.
    random_state : int, default=0
        Seed of the MLP and the trees.

    Returns
    -------
    estimator : scikit-learn estimator
        Fits ``(X of shape (n_samples, n_features), y of shape (n_samples,))``.
    """
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
        return make_pipeline(
            StandardScaler(), TransformedTargetRegressor(MLPRegressor(**options), transformer=StandardScaler())
        )
    if probe == "hgb":
        options = dict(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False, random_state=random_state
        )
        return (
            HistGradientBoostingClassifier(**options)
            if kind == "classification"
            else HistGradientBoostingRegressor(**options)
        )
    raise ValueError(f"probe must be 'linear', 'knn', 'mlp' or 'hgb'; got {probe!r}")


def _scores(kind, y_true, y_pred) -> dict:
    if kind == "classification":
        return {"accuracy": accuracy_score(y_true, y_pred), "macro_f1": f1_score(y_true, y_pred, average="macro")}
    return {"r2": r2_score(y_true, y_pred), "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred)))}


def _needs_target(encoder) -> bool:
    """Whether ``encoder``, or an estimator inside it (a pipeline's steps, a column transformer's
    transformers, a search's estimator), learns from the target (scikit-learn's ``target_tags.required``).
    """

    def required(estimator) -> bool:
        try:
            return bool(get_tags(estimator).target_tags.required)
        except (AttributeError, TypeError):  # not a scikit-learn estimator: a plain transformer
            return False

    try:
        inside = encoder.get_params(deep=True).values()
    except Exception:  # no get_params, or one that needs more than scikit-learn's contract
        inside = ()
    return required(encoder) or any(required(value) for value in inside if hasattr(value, "fit"))


def embed_task(encoder, task):
    """Feature matrix of a task: location features, then the task's extra columns.

    Parameters
    ----------
    encoder : scikit-learn transformer or None
        Cloned, then fitted and applied to ``task.frame[["lat", "lon"]]``. ``None``: extra
        features only.
    task : DownstreamTask
        See :func:`geoembed.datasets.load_task`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    seconds : float
        Time spent embedding the locations (0 without an encoder).
    """
    if encoder is not None and _needs_target(encoder):
        raise ValueError(
            f"{type(encoder).__name__} learns from the target, so its features cannot be computed once for "
            "every fold: score it inside the folds, as make_pipeline(encoder, head) under cross_val_score "
            "with cv=SpatialBlockKFold(...)"
        )
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


def evaluate(encoder, task, *, probe: str = "linear", n_splits: int = 5, random_state: int = 0, features=None) -> dict:
    """Spatially blocked cross-validated scores of a probe on an encoder's features.

    Parameters
    ----------
    encoder : scikit-learn transformer or None
        Location encoder; ``None`` uses the task's extra features only.
    task : DownstreamTask
        Task with ``frame`` (lat, lon, ...), ``y`` of shape (n_samples,), ``kind`` and ``block_size_deg``.
    probe : {"linear", "knn", "mlp", "hgb"}, default="linear"
        See :func:`make_probe`.
    n_splits : int, default=5
        Number of spatial folds.
    random_state : int, default=0
        Seed of the folds and the probe.
    features : tuple (X, seconds), optional
        Precomputed output of :func:`embed_task`; ``encoder`` is then not used.

    Returns
    -------
    result : dict
        ``task, probe, n_samples, n_features, embed_seconds`` and, for each metric of the task kind
        (:data:`METRICS`), its mean and ``<metric>_std`` over folds.
    """
    X, seconds = features if features is not None else embed_task(encoder, task)
    cv = SpatialBlockKFold(n_splits, block_size_deg=task.block_size_deg, shuffle=True, random_state=random_state)
    folds = cv.split(task.frame[["lat", "lon"]])
    per_fold = []
    for train, test in folds:
        model = make_probe(probe, task.kind, random_state).fit(X[train], task.y[train])
        per_fold.append(_scores(task.kind, task.y[test], model.predict(X[test])))
    result = {
        "task": task.name,
        "probe": probe,
        "n_samples": len(task),
        "n_features": X.shape[1],
        "embed_seconds": seconds,
    }
    for metric in METRICS[task.kind]:
        values = np.array([f[metric] for f in per_fold])
        result[metric] = float(values.mean())
        result[f"{metric}_std"] = float(values.std())
    return result


def compare_encoders(
    encoders: dict, tasks, *, probes=("linear", "knn"), n_splits: int = 5, random_state: int = 0, progress: bool = True
) -> pd.DataFrame:
    """Every encoder x task x probe, each embedded once per task.

    Parameters
    ----------
    encoders : dict
        Name -> scikit-learn transformer, or ``None`` (extra features only; skipped for tasks
        without extra features).
    tasks : iterable of DownstreamTask
    probes : sequence of str, default=("linear", "knn")
    n_splits, random_state : int
        As in :func:`evaluate`.
    progress : bool, default=True
        Show a progress bar.

    Returns
    -------
    results : DataFrame
        One row per (task, encoder, probe): ``encoder`` and the keys of :func:`evaluate`'s result.
    """
    from tqdm.auto import tqdm

    rows = []
    jobs = [
        (task, name, enc) for task in tasks for name, enc in encoders.items() if enc is not None or task.extra_features
    ]
    for task, name, encoder in tqdm(jobs, disable=not progress, desc="probing"):
        features = embed_task(encoder, task)
        for probe in probes:
            rows.append(
                {
                    "encoder": name,
                    **evaluate(
                        encoder, task, probe=probe, n_splits=n_splits, random_state=random_state, features=features
                    ),
                }
            )
    return pd.DataFrame(rows)
