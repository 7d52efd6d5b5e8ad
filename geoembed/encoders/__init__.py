"""Location encoders: every one a scikit-learn transformer of (lat, lon) in degrees.

Reachable by class or by name (:func:`make_encoder`, :func:`list_encoders`). Classes are
imported on first access, so that ``import geoembed.encoders`` does not load torch.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "GeoCLIPEncoder": "geoembed.encoders.geoclip.estimator",
    "DirectEncoder": "geoembed.encoders.simple",
    "Cartesian3DEncoder": "geoembed.encoders.simple",
    "WrapEncoder": "geoembed.encoders.simple",
    "GridEncoder": "geoembed.encoders.space2vec",
    "TheoryEncoder": "geoembed.encoders.space2vec",
    "SphereCEncoder": "geoembed.encoders.sphere2vec",
    "SphereCPlusEncoder": "geoembed.encoders.sphere2vec",
    "SphereMEncoder": "geoembed.encoders.sphere2vec",
    "SphereMPlusEncoder": "geoembed.encoders.sphere2vec",
    "SphericalHarmonicsEncoder": "geoembed.encoders.spherical_harmonics",
    "RandomFourierEncoder": "geoembed.encoders.fourier",
    "UTMOneHotEncoder": "geoembed.encoders.onehot",
    "GridOneHotEncoder": "geoembed.encoders.onehot",
    "encoder_class": "geoembed.encoders.registry",
    "list_encoders": "geoembed.encoders.registry",
    "make_encoder": "geoembed.encoders.registry",
    "register_encoder": "geoembed.encoders.registry",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geoembed.encoders' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
