"""geoembed: geospatial embeddings for scikit-learn and PyTorch.

Public names are imported lazily so that ``import geoembed`` stays quick.
"""

from __future__ import annotations

__version__ = "0.2.0"

_LAZY = {
    "GeoEmbedder": ("geoembed.encoders.embedder", "GeoEmbedder"),
    "LocationFeaturizer": ("geoembed.encoders.base", "LocationFeaturizer"),
    "GeoCLIPEncoder": ("geoembed.encoders.geoclip.estimator", "GeoCLIPEncoder"),
    "GeoCLIPLocationEncoder": ("geoembed.models.geoclip", "GeoCLIPLocationEncoder"),
    "load_location_encoder": ("geoembed.models.geoclip", "load_location_encoder"),
    "list_weights": ("geoembed.models.weights", "list_weights"),
    "BoundingBox": ("geoembed.core.geo", "BoundingBox"),
    "SpatialBlockKFold": ("geoembed.model_selection", "SpatialBlockKFold"),
    "LocationTargetEncoder": ("geoembed.target_encoder", "LocationTargetEncoder"),
    "RegionEmbedder": ("geoembed.encoders.regions", "RegionEmbedder"),
    "load_sample": ("geoembed.core.data", "load_sample"),
    "GeoLocator": ("geoembed.retrieval.locator", "GeoLocator"),
    "GPSGallery": ("geoembed.retrieval.gallery", "GPSGallery"),
    "ContrastiveLocationTrainer": ("geoembed.training.trainer", "ContrastiveLocationTrainer"),
    "TrainConfig": ("geoembed.training.trainer", "TrainConfig"),
    "make_encoder": ("geoembed.encoders.registry", "make_encoder"),
    "list_encoders": ("geoembed.encoders.registry", "list_encoders"),
    "DirectEncoder": ("geoembed.encoders.simple", "DirectEncoder"),
    "Cartesian3DEncoder": ("geoembed.encoders.simple", "Cartesian3DEncoder"),
    "WrapEncoder": ("geoembed.encoders.simple", "WrapEncoder"),
    "TheoryEncoder": ("geoembed.encoders.space2vec", "TheoryEncoder"),
    "GridEncoder": ("geoembed.encoders.space2vec", "GridEncoder"),
    "SphereCEncoder": ("geoembed.encoders.sphere2vec", "SphereCEncoder"),
    "SphereCPlusEncoder": ("geoembed.encoders.sphere2vec", "SphereCPlusEncoder"),
    "SphereMEncoder": ("geoembed.encoders.sphere2vec", "SphereMEncoder"),
    "SphereMPlusEncoder": ("geoembed.encoders.sphere2vec", "SphereMPlusEncoder"),
    "SphericalHarmonicsEncoder": ("geoembed.encoders.spherical_harmonics", "SphericalHarmonicsEncoder"),
    "RandomFourierEncoder": ("geoembed.encoders.fourier", "RandomFourierEncoder"),
    "UTMOneHotEncoder": ("geoembed.encoders.onehot", "UTMOneHotEncoder"),
    "GridOneHotEncoder": ("geoembed.encoders.onehot", "GridOneHotEncoder"),
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
