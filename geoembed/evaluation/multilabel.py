"""Multi-label evaluation: macro mAP and the one-hidden-layer classifier of the NUS-WIDE protocol.

Protocol (GPS2Vec, SIGSPATIAL 2019, as used by GeoCLIP): the official train/test split
restricted to geotagged images; features are standardised on the training set; a network with
one hidden layer of 512 units (ReLU), Adam with lr 1e-3, mini-batches of 32, a multi-label
binary cross-entropy loss, and early stopping on the loss of a 10% validation slice of the
training set (patience 3, at most 30 epochs). Fusion concatenates the location embedding with
the visual features. The metric is the mean over concepts of the average precision; concepts
with no positive test image are excluded and counted. Each row is repeated over seeds.

The benchmark itself (loader, feature sets, table, published numbers) is
:mod:`geoembed.benchmarks.nuswide`, run by ``geoembed bench nuswide``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from geoembed.core.utils import moved_attribute

__all__ = ["mean_average_precision", "train_multilabel_mlp"]

#: Names that moved to :mod:`geoembed.benchmarks.nuswide` in 0.3 (deprecated here).
MOVED = {name: "geoembed.benchmarks.nuswide" for name in ("default_geo_encoders", "run_nuswide_benchmark")}


def mean_average_precision(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, int]:
    """Macro mean average precision over the concepts that have at least one positive.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_concepts)
        Binary labels.
    scores : array-like of shape (n_samples, n_concepts)
        Scores, higher meaning more likely positive.

    Returns
    -------
    mAP : float
    excluded : int
        Number of concepts left out for having no positive.
    """
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    has_positive = y_true.sum(axis=0) > 0
    if not has_positive.any():
        raise ValueError("no concept has a positive example")
    aps = [average_precision_score(y_true[:, j], scores[:, j]) for j in np.flatnonzero(has_positive)]
    return float(np.mean(aps)), int((~has_positive).sum())


def train_multilabel_mlp(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    seed: int = 0,
    hidden: int = 512,
    lr: float = 1e-3,
    batch_size: int = 32,
    max_epochs: int = 30,
    patience: int = 3,
    val_fraction: float = 0.1,
):
    """Fit the one-hidden-layer multi-label classifier of the protocol, with early stopping.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training features (standardised inside).
    Y : ndarray of shape (n_samples, n_concepts)
        Binary labels.
    seed : int, default=0
        Seed of the initialisation, the validation slice and the batch order.
    hidden, lr, batch_size, max_epochs, patience, val_fraction
        Hidden units, Adam learning rate, mini-batch size, epoch limit, epochs without a better
        validation loss before stopping, and the share of ``X`` held out for validation.

    Returns
    -------
    scores : callable
        Maps features of shape (m, n_features) to logits of shape (m, n_concepts), using the
        weights of the epoch with the lowest validation loss.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-6
    Xs = torch.tensor((X - mean) / std, dtype=torch.float32)
    Yt = torch.tensor(Y, dtype=torch.float32)
    order = torch.randperm(len(Xs), generator=generator)
    n_val = max(1, int(val_fraction * len(Xs)))
    val, train = order[:n_val], order[n_val:]
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, Y.shape[1])
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    best, best_state, waited = np.inf, None, 0
    for _ in range(max_epochs):
        model.train()
        for batch in train[torch.randperm(len(train), generator=generator)].split(batch_size):
            optimizer.zero_grad()
            loss_fn(model(Xs[batch]), Yt[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(Xs[val]), Yt[val]).item()
        if val_loss < best - 1e-5:
            best, waited = val_loss, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:  # None when the validation loss was never finite
        model.load_state_dict(best_state)
    model.eval()

    def scores(features: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor((features - mean) / std, dtype=torch.float32)).numpy()

    return scores


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
