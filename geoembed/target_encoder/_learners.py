"""The base models the location prior stacks: ridge on GeoCLIP features, k-NN on the sphere, and
trees and boosting on coordinates.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

__all__ = [
    "BoostingLearner",
    "LEARNERS",
    "Learner",
    "MIN_CHORD",
    "NEIGHBOURS",
    "NeighboursLearner",
    "RIDGE_ALPHAS",
    "RidgeLearner",
    "TreesLearner",
    "as_probabilities",
    "make_learner",
    "one_hot",
]

#: The base models a :class:`LocationTargetEncoder` can stack, by name.
LEARNERS = ("linear", "knn", "trees", "boosting")
#: Ridge penalties searched by the ``"linear"`` model (on standardised features).
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 6, 17))
#: Neighbour counts searched by the ``"knn"`` model.
NEIGHBOURS = (5, 10, 20, 40, 80)
#: Chord distance (unit sphere) below which neighbours count as one place: about 6 micrometres.
MIN_CHORD = 1e-12


def make_learner(name, classification, seed, n_jobs):
    classes = {"linear": RidgeLearner, "knn": NeighboursLearner, "trees": TreesLearner, "boosting": BoostingLearner}
    return classes[name](classification, seed, n_jobs)


def one_hot(codes, n_classes):
    out = np.zeros((len(codes), n_classes))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def as_probabilities(scores):
    """Scores of a linear or averaging model as probabilities: clipped at 0, rows summing to 1."""
    scores = np.clip(scores, 0.0, None)
    total = scores.sum(axis=1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / scores.shape[1])
    return np.where(total > 0, scores / np.where(total > 0, total, 1.0), uniform)


class Learner:
    """What every base model shares: the target as regression columns (one-hot for classes)."""

    input = ""  # the key of the model's input among LocationTargetEncoder._inputs

    def __init__(self, classification, seed=None, n_jobs=None):
        self.classification, self.seed, self.n_jobs = classification, seed, n_jobs

    def _start(self, target):
        """Called first by ``cross_fit``: note the number of classes."""
        if self.classification:
            self.n_classes = int(target.max()) + 1

    def _targets(self, target):
        return one_hot(target, self.n_classes) if self.classification else target


class RidgeLearner(Learner):
    """Ridge regression on standardised location features; alpha chosen on the folds.

    Every fold's solution for every alpha comes from one eigendecomposition of the fold's Gram
    matrix, itself the full Gram matrix less the test rows' part. Classes are one-hot targets
    whose predictions are clipped into probabilities (scikit-learn's ``RidgeClassifier``).
    """

    input = "features"

    def cross_fit(self, X, target, folds):
        # products of a few hundred columns gain little from BLAS threads and lose much when the
        # cores are shared (oversubscribed OpenBLAS threads spin): one thread here
        with threadpool_limits(limits=1, user_api="blas"):
            return self._cross_fit(X, target, folds)

    def _cross_fit(self, X, target, folds):
        self._start(target)
        self.mean, self.scale = X.mean(axis=0), X.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        X = (X - self.mean) / self.scale
        Y = self._targets(target)
        gram, sums, cross, y_sums = X.T @ X, X.sum(axis=0), X.T @ Y, Y.sum(axis=0)
        alphas = np.asarray(RIDGE_ALPHAS)
        errors, solved = np.zeros(len(alphas)), []
        for train, test in folds:
            X_test, Y_test = X[test], Y[test]
            n = len(train)
            mean = (sums - X_test.sum(axis=0)) / n
            y_mean = (y_sums - Y_test.sum(axis=0)) / n
            centred_gram = gram - X_test.T @ X_test - n * np.outer(mean, mean)
            centred_cross = cross - X_test.T @ Y_test - n * np.outer(mean, y_mean)
            eigenvalues, vectors = np.linalg.eigh(centred_gram)
            projected, rotated = (X_test - mean) @ vectors, vectors.T @ centred_cross
            for i, alpha in enumerate(alphas):
                residual = projected @ (rotated / (eigenvalues + alpha)[:, None]) + y_mean - Y_test
                errors[i] += np.sum(residual**2)
            solved.append((test, projected, rotated, eigenvalues, y_mean))
        self.alpha = float(alphas[int(np.argmin(errors))])
        oof = np.zeros_like(Y)
        for test, projected, rotated, eigenvalues, y_mean in solved:
            oof[test] = projected @ (rotated / (eigenvalues + self.alpha)[:, None]) + y_mean
        self._full = (gram, sums, cross, y_sums, len(X))
        return self._output(oof)

    def fit(self, X, target):
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, target)

    def _fit(self, X, target):
        gram, sums, cross, y_sums, n = self._full
        mean, y_mean = sums / n, y_sums / n
        centred_gram = gram - n * np.outer(mean, mean) + self.alpha * np.eye(len(mean))
        coef = np.linalg.solve(centred_gram, cross - n * np.outer(mean, y_mean))
        self.coef = coef / self.scale[:, None]
        self.intercept = y_mean - (mean * self.scale + self.mean) @ self.coef
        del self._full
        return self

    def predict(self, X):
        return self._output(X @ self.coef + self.intercept)

    def _output(self, scores):
        return as_probabilities(scores) if self.classification else scores

    def params(self):
        return {"alpha": self.alpha}


class NeighboursLearner(Learner):
    """Inverse-distance-weighted k nearest neighbours on the unit sphere; k chosen on the folds.

    Chord distances on the unit sphere order neighbours as great-circle distances do.
    """

    input = "xyz"

    @staticmethod
    def _weights(distances, k):
        distances = distances[:, :k]
        # distances below a tenth of the k-th neighbour's count as that tenth, so that a training
        # point at the query's exact location weighs most but does not decide alone; when all k
        # neighbours share the query's location (geocoded centroids), the floor makes them equal
        floor = np.maximum(0.1 * distances[:, -1:], MIN_CHORD)
        weights = 1.0 / np.maximum(distances, floor)
        return weights / weights.sum(axis=1, keepdims=True)

    def _average(self, distances, indices, Y, k):
        k = min(k, indices.shape[1])
        weights = self._weights(distances, k)
        rows = np.repeat(np.arange(len(indices)), k)
        matrix = sp.csr_matrix((weights.ravel(), (rows, indices[:, :k].ravel())), shape=(len(indices), len(Y)))
        return np.asarray(matrix @ Y)

    def cross_fit(self, X, target, folds):
        self._start(target)
        Y = self._targets(target)
        errors, found = np.zeros(len(NEIGHBOURS)), []
        for train, test in folds:
            search = NearestNeighbors(n_neighbors=min(max(NEIGHBOURS), len(train)), n_jobs=self.n_jobs)
            distances, indices = search.fit(X[train]).kneighbors(X[test])
            for i, k in enumerate(NEIGHBOURS):
                errors[i] += np.sum((self._average(distances, indices, Y[train], k) - Y[test]) ** 2)
            found.append((train, test, distances, indices))
        self.k = NEIGHBOURS[int(np.argmin(errors))]
        oof = np.zeros_like(Y)
        for train, test, distances, indices in found:
            oof[test] = self._average(distances, indices, Y[train], self.k)
        return oof

    def fit(self, X, target):
        self.Y = self._targets(target)
        self.search = NearestNeighbors(n_neighbors=min(self.k, len(X)), n_jobs=self.n_jobs).fit(X)
        return self

    def predict(self, X):
        distances, indices = self.search.kneighbors(X)
        return self._average(distances, indices, self.Y, self.k)

    def params(self):
        return {"n_neighbors": self.k}


class TreesLearner(Learner):
    """Extremely randomised trees on latitude, longitude and unit-sphere xyz (no tuning)."""

    input = "coordinates"
    options = {"n_estimators": 30, "min_samples_leaf": 3, "max_features": 0.6}

    def _model(self):
        cls = ExtraTreesClassifier if self.classification else ExtraTreesRegressor
        return cls(**self.options, random_state=self.seed, n_jobs=self.n_jobs)

    def _predict(self, model, X):
        if not self.classification:
            return model.predict(X)[:, None]
        out = np.zeros((len(X), self.n_classes))
        out[:, model.classes_] = model.predict_proba(X)
        return out

    def _labels(self, target):
        return target if self.classification else target[:, 0]

    def cross_fit(self, X, target, folds):
        self._start(target)
        oof = np.zeros((len(X), self.n_classes if self.classification else 1))
        for train, test in folds:
            oof[test] = self._predict(self._model().fit(X[train], self._labels(target[train])), X[test])
        return oof

    def fit(self, X, target):
        self.model = self._model().fit(X, self._labels(target))
        return self

    def predict(self, X):
        return self._predict(self.model, X)

    def params(self):
        return {}


class BoostingLearner(TreesLearner):
    """Gradient-boosted trees on the coordinates; the number of rounds chosen on the folds."""

    rounds = tuple(range(10, 201, 10))

    def _model(self, rounds=None):
        cls = HistGradientBoostingClassifier if self.classification else HistGradientBoostingRegressor
        return cls(
            max_iter=rounds or max(self.rounds),
            learning_rate=0.1,
            max_leaf_nodes=31,
            early_stopping=False,
            random_state=self.seed,
        )

    def _staged(self, model, X):
        if not self.classification:
            yield from (p[:, None] for p in model.staged_predict(X))
            return
        for p in model.staged_predict_proba(X):
            out = np.zeros((len(X), self.n_classes))
            out[:, model.classes_] = p
            yield out

    def cross_fit(self, X, target, folds):
        self._start(target)
        Y = self._targets(target)
        stages = np.zeros((len(self.rounds), *Y.shape))
        for train, test in folds:
            labels = self._labels(target[train])
            if self.classification and len(np.unique(labels)) < 2:
                stages[:, test] = one_hot(labels[:1], self.n_classes)  # one class seen: predict it
                continue
            model = self._model().fit(X[train], labels)
            for i, p in enumerate(self._staged(model, X[test]), 1):
                if i % 10 == 0:
                    stages[i // 10 - 1][test] = p
        best = int(np.argmin([np.sum((s - Y) ** 2) for s in stages]))
        self.n_rounds = self.rounds[best]
        return stages[best]

    def fit(self, X, target):
        self.model = self._model(self.n_rounds).fit(X, self._labels(target))
        return self

    def params(self):
        return {"max_iter": self.n_rounds}
