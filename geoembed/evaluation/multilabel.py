"""Multi-label evaluation: macro mAP and the NUS-WIDE MLP protocol (geo, visual and fused features).

Protocol (GPS2Vec, SIGSPATIAL 2019, as used by GeoCLIP): the official train/test split
restricted to geotagged images; features are standardised on the training set; a network with
one hidden layer of 512 units (ReLU), Adam with lr 1e-3, mini-batches of 32, a multi-label
binary cross-entropy loss, and early stopping on the loss of a 10% validation slice of the
training set (patience 3, at most 30 epochs). Fusion concatenates the location embedding with
the visual features. The metric is the mean over concepts of the average precision; concepts
with no positive test image are excluded and counted. Each row is repeated over seeds.

The published numbers and the paper-style table live with the benchmark
(``python -m benchmarks.nuswide`` in the source checkout).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score

__all__ = ["default_geo_encoders", "mean_average_precision", "run_nuswide_benchmark", "train_multilabel_mlp"]


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


def default_geo_encoders() -> dict:
    """The location encoders of the NUS-WIDE table.

    Returns
    -------
    encoders : dict
        Row name -> unfitted transformer: UTM one-hot, raw lat/lon, spherical harmonics,
        Sphere2Vec's sphereC+ and GeoCLIP (L2-normalised).
    """
    from ..embedder import GeoEmbedder
    from ..encoders.registry import make_encoder

    return {
        "OneHot": make_encoder("utm_onehot"),
        "direct": make_encoder("direct"),
        "spherical harmonics": make_encoder("spherical_harmonics"),
        "sphereC+": make_encoder("sphereC+"),
        "GeoCLIP": GeoEmbedder(normalize=True),
    }


def run_nuswide_benchmark(
    data, *, seeds: int = 3, encoders: dict | None = None, max_epochs: int = 30, progress: bool = True
) -> pd.DataFrame:
    """MAP of visual (V), geo and fused features, mean and std over seeds.

    Parameters
    ----------
    data : NUSWide
        From :func:`geoembed.datasets.nuswide.load_nuswide`: ``latlon`` (n, 2), ``visual`` (n, d),
        ``labels`` (n, n_concepts), ``is_train`` (n,).
    seeds : int, default=3
        Repetitions of each row.
    encoders : dict, optional
        Row name -> location transformer (fitted here, in place); default :func:`default_geo_encoders`.
    max_epochs : int, default=30
    progress : bool, default=True
        Show a progress bar.

    Returns
    -------
    table : DataFrame
        One row per feature set ("V", each encoder, each encoder + V) with ``features, kind
        (visual/geo/fused), mAP, mAP_std, seeds, dimension``; ``table.attrs`` holds
        ``concepts_excluded, n_train, n_test, miniature``.
    """
    from tqdm.auto import tqdm

    encoders = encoders or default_geo_encoders()
    train, test = data.is_train, ~data.is_train
    feature_sets = {"V": data.visual.astype(np.float32)}
    for name, encoder in encoders.items():
        geo = encoder.fit(data.latlon).transform(data.latlon)
        geo = np.asarray(geo.toarray() if hasattr(geo, "toarray") else geo, dtype=np.float32)
        feature_sets[name] = geo
        feature_sets[f"{name} + V"] = np.hstack([geo, feature_sets["V"]])
    rows = []
    jobs = [(name, seed) for name in feature_sets for seed in range(seeds)]
    results: dict[str, list] = {}
    excluded = 0
    for name, seed in tqdm(jobs, disable=not progress, desc="NUS-WIDE"):
        X = feature_sets[name]
        score = train_multilabel_mlp(X[train], data.labels[train], seed=seed, max_epochs=max_epochs)
        value, excluded = mean_average_precision(data.labels[test], score(X[test]))
        results.setdefault(name, []).append(value)
    for name, values in results.items():
        kind = "visual" if name == "V" else "fused" if name.endswith("+ V") else "geo"
        rows.append(
            {
                "features": name,
                "kind": kind,
                "mAP": float(np.mean(values)),
                "mAP_std": float(np.std(values)),
                "seeds": len(values),
                "dimension": feature_sets[name].shape[1],
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(
        concepts_excluded=excluded, n_train=int(train.sum()), n_test=int(test.sum()), miniature=data.miniature
    )
    return table
