"""Log-linear pooling of class probabilities, the meta-model for classes."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from geoembed.target_encoder._learners import one_hot

__all__ = [
    "SMOOTHING",
    "fit_constant_pool",
    "fit_log_pool",
    "fit_prior_exponent",
    "floored",
    "log_pool",
    "log_probabilities",
    "pool",
]

#: Probabilities are mixed with this share of the uniform distribution before log pooling,
#: so that one model's zero cannot veto a class that the others find likely.
SMOOTHING = 0.01


def floored(probabilities, n_classes):
    """Probabilities mixed with ``SMOOTHING`` of the uniform distribution: a forecast scored on them
    loses at most ``log((1 + SMOOTHING) * n_classes / SMOOTHING)`` on one row, however sure and wrong
    it was.
    """
    return (probabilities + SMOOTHING / n_classes) / (1 + SMOOTHING)


def log_probabilities(predictions, prior):
    n_classes = len(prior)
    logs = [np.log((1 - SMOOTHING) * p + SMOOTHING / n_classes) for p in predictions]
    logs.append(np.broadcast_to(np.log(prior + SMOOTHING / n_classes), logs[0].shape))
    return np.stack(logs)  # (n_models + 1, n_samples, n_classes)


def pool(logs, weights):
    scores = np.tensordot(weights, logs, axes=1)
    scores -= scores.max(axis=1, keepdims=True)
    probabilities = np.exp(scores)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def fit_log_pool(predictions, prior, target):
    """Non-negative weights w (models, then the class prior) minimising the log-loss of
    p ∝ prod_i p_i ** w_i.
    """
    logs = log_probabilities(predictions, prior)
    n_models, n_samples = logs.shape[0], logs.shape[1]
    truth = one_hot(target, len(prior))

    def loss(weights):
        probabilities = pool(logs, weights)
        value = -np.mean(np.log(np.sum(probabilities * truth, axis=1)))
        gradient = np.einsum("mnc,nc->m", logs, probabilities - truth) / n_samples
        return value, gradient

    start = np.full(n_models, 1.0 / n_models)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * n_models)
    return result.x[:-1].astype(np.float64), float(result.x[-1])


def log_pool(predictions, prior, weights, prior_weight):
    return pool(log_probabilities(predictions, prior), np.append(weights, prior_weight))


def fit_prior_exponent(prior, target) -> float:
    """The exponent of the class frequencies ``prior`` (as the pool reads them) that minimises the
    log-loss on ``target`` with every model's weight at zero: the pool's best constant.
    """
    n_classes = len(prior)
    logs = np.log(prior + SMOOTHING / n_classes)
    frequencies = np.bincount(target, minlength=n_classes) / len(target)
    if n_classes == 2 and 0 < frequencies[1] < 1 and logs[1] != logs[0]:
        # two classes: the exponent that gives the frequencies exactly, where it is not negative
        return max(float(np.log(frequencies[1] / frequencies[0]) / (logs[1] - logs[0])), 0.0)

    def loss(exponent):
        scores = exponent[0] * logs
        scores = scores - scores.max()
        probabilities = np.exp(scores) / np.exp(scores).sum()
        value = -np.sum(frequencies * np.log(probabilities))
        return value, np.array([np.sum(logs * (probabilities - frequencies))])

    options = {"ftol": 1e-15, "gtol": 1e-12}
    result = minimize(loss, np.ones(1), jac=True, method="L-BFGS-B", bounds=[(0.0, None)], options=options)
    return float(result.x[0])


def fit_constant_pool(prior, target):
    """The best constant the pool can give: its class frequencies ``prior`` (as the pool reads them)
    raised to the exponent that minimises the log-loss on ``target`` (:func:`fit_prior_exponent`),
    every model's weight at zero; the class frequencies themselves for two classes.

    The baseline a pool with models is judged against: the pool's prior exponent undoes the
    smoothing of the frequencies it reads, so the smoothed frequencies are a worse forecast than
    the pool gives with no model at all, and beating them is no sign of location.
    """
    logs = np.log(prior + SMOOTHING / len(prior))
    return pool(logs[None, None, :], np.array([fit_prior_exponent(prior, target)]))[0]
