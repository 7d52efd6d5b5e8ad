"""geoembed: geospatial embeddings for scikit-learn and PyTorch.

Public names are imported lazily so that ``import geoembed`` stays quick.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "GeoEmbedder": ("geoembed.embedder", "GeoEmbedder"),
    "LocationFeaturizer": ("geoembed.base", "LocationFeaturizer"),
    "GeoCLIPLocationEncoder": ("geoembed.encoders.geoclip", "GeoCLIPLocationEncoder"),
    "load_location_encoder": ("geoembed.weights", "load_location_encoder"),
    "load_sample": ("geoembed.data", "load_sample"),
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geoembed' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
