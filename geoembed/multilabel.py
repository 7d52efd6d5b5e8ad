"""NUS-WIDE multi-label benchmark: geo, visual and fused features, macro mAP (GeoCLIP's Table).

Protocol (GPS2Vec, SIGSPATIAL 2019, as used by GeoCLIP): the official train/test split
restricted to geotagged images; features are standardised on the training set; a network with
one hidden layer of 512 units (ReLU), Adam with lr 1e-3, mini-batches of 32, a multi-label
binary cross-entropy loss, and early stopping on the loss of a 10% validation slice of the
training set (patience 3, at most 30 epochs). Fusion concatenates the location embedding with
the visual features. The metric is the mean over concepts of the average precision; concepts
with no positive test image are excluded and counted. Each row is repeated over seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score

#: mAP in GeoCLIP's NUS-WIDE table (GPS2Vec's protocol).
PAPER_MAP = {
    "V": 0.234, "OneHot": 0.066, "GPS2Vec": 0.182, "GPS2Vec+": 0.210, "GeoCLIP": 0.249,
    "OneHot + V": 0.238, "GPS2Vec + V": 0.300, "GPS2Vec+ + V": 0.348, "GeoCLIP + V": 0.362,
}


def mean_average_precision(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, int]:
    """Macro mAP over concepts with at least one positive; returns (mAP, concepts excluded)."""
    y_true = np.asarray(y_true)
    has_positive = y_true.sum(axis=0) > 0
    if not has_positive.any():
        raise ValueError("no concept has a positive example")
    aps = [average_precision_score(y_true[:, j], scores[:, j]) for j in np.flatnonzero(has_positive)]
    return float(np.mean(aps)), int((~has_positive).sum())


def train_multilabel_mlp(X: np.ndarray, Y: np.ndarray, *, seed: int = 0, hidden: int = 512, lr: float = 1e-3,
                         batch_size: int = 32, max_epochs: int = 30, patience: int = 3, val_fraction: float = 0.1):
    """Fit the one-hidden-layer classifier; returns a function mapping features to scores."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-6
    Xs = torch.tensor((X - mean) / std, dtype=torch.float32)
    Yt = torch.tensor(Y, dtype=torch.float32)
    order = torch.randperm(len(Xs), generator=generator)
    n_val = max(1, int(val_fraction * len(Xs)))
    val, train = order[:n_val], order[n_val:]
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, Y.shape[1]))
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
    model.load_state_dict(best_state)
    model.eval()

    def scores(features: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor((features - mean) / std, dtype=torch.float32)).numpy()

    return scores


def default_geo_encoders() -> dict:
    from .embedder import GeoEmbedder
    from .encoders.registry import make_encoder

    return {
        "OneHot": make_encoder("utm_onehot"),
        "direct": make_encoder("direct"),
        "spherical harmonics": make_encoder("spherical_harmonics"),
        "sphereC+": make_encoder("sphereC+"),
        "GeoCLIP": GeoEmbedder(normalize=True),
    }


def run_nuswide_benchmark(data, *, seeds: int = 3, encoders: dict | None = None, max_epochs: int = 30,
                          progress: bool = True) -> pd.DataFrame:
    """All rows of the table (V, each geo encoder, each fused with V), mean and std over seeds."""
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
        rows.append({"features": name, "kind": kind, "mAP": float(np.mean(values)), "mAP_std": float(np.std(values)),
                     "seeds": len(values), "paper mAP": PAPER_MAP.get(name, np.nan),
                     "dimension": feature_sets[name].shape[1]})
    table = pd.DataFrame(rows)
    table.attrs.update(concepts_excluded=excluded, n_train=int(train.sum()), n_test=int(test.sum()),
                       miniature=data.miniature)
    return table


def format_table(table: pd.DataFrame) -> str:
    """Markdown in the paper's form, our mAP beside the paper's, with a banner for the miniature."""
    lines = []
    if table.attrs.get("miniature"):
        lines.append("**MINIATURE run: synthetic data in the NUS-WIDE layout, not the real release. "
                     "The paper column is for reference only.**\n")
    lines += ["| features | kind | dim | mAP (ours, mean ± std) | mAP (paper) |", "|---|---|---|---|---|"]
    for _, r in table.iterrows():
        paper = f"{r['paper mAP']:.3f}" if np.isfinite(r["paper mAP"]) else "-"
        lines.append(f"| {r['features']} | {r['kind']} | {r['dimension']} | {r['mAP']:.3f} ± {r['mAP_std']:.3f} "
                     f"({r['seeds']} seeds) | {paper} |")
    attrs = table.attrs
    lines.append(f"\n{attrs.get('n_train')} train / {attrs.get('n_test')} test geotagged images; "
                 f"{attrs.get('concepts_excluded')} concepts without a positive test image excluded.")
    return "\n".join(lines)
