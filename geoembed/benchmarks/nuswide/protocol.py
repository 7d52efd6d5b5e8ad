"""The NUS-WIDE protocol: visual (V), location and fused feature sets, each scored by macro mAP.

GPS2Vec's protocol (SIGSPATIAL 2019), as used by GeoCLIP: the official train/test split
restricted to geotagged images, one classifier per feature set
(:func:`~geoembed.evaluation.multilabel.train_multilabel_mlp`), macro mAP on the test images
(:func:`~geoembed.evaluation.multilabel.mean_average_precision`), repeated over seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoembed.evaluation.multilabel import mean_average_precision, train_multilabel_mlp

__all__ = ["default_geo_encoders", "run_nuswide_benchmark"]


def default_geo_encoders() -> dict:
    """The location encoders of the NUS-WIDE table.

    Returns
    -------
    encoders : dict
        Row name -> unfitted transformer: UTM one-hot, raw lat/lon, spherical harmonics,
        Sphere2Vec's sphereC+ and GeoCLIP (L2-normalised).
    """
    from geoembed.encoders.embedder import GeoEmbedder
    from geoembed.encoders.registry import make_encoder

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
        From :func:`~geoembed.benchmarks.nuswide.load_nuswide`: ``latlon`` (n, 2), ``visual`` (n, d),
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
