"""Encoders by name: ``make_encoder("sphereC+")``, ``list_encoders()``.

A featurizer class registers itself where it is defined, with :func:`register_encoder`.
"""

from __future__ import annotations

import importlib

__all__ = ["encoder_class", "list_encoders", "make_encoder", "register_encoder"]

_REGISTRY: dict[str, type] = {}

# Modules whose import registers encoders; imported on first lookup to keep imports light.
_ENCODER_MODULES = (
    "geoembed.encoders.geoclip.estimator",
    "geoembed.encoders.simple",
    "geoembed.encoders.space2vec",
    "geoembed.encoders.sphere2vec",
    "geoembed.encoders.spherical_harmonics",
    "geoembed.encoders.fourier",
    "geoembed.encoders.onehot",
)


def register_encoder(name: str):
    """Class decorator: make a featurizer reachable as ``make_encoder(name)``."""

    def decorator(cls):
        _REGISTRY[name] = cls
        return cls

    return decorator


def _load_all() -> None:
    for module in _ENCODER_MODULES:
        importlib.import_module(module)


def list_encoders(pattern: str | None = None) -> list[str]:
    """Registered encoder names, optionally those containing ``pattern`` (any case)."""
    _load_all()
    names = sorted(_REGISTRY, key=str.lower)
    if pattern:
        names = [n for n in names if pattern.lower() in n.lower()]
    return names


def encoder_class(name: str) -> type:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        from geoembed.models.weights import list_weights

        hint = ""
        if name in list_weights():
            hint = f"; {name!r} names weights of the 'geoclip' encoder: pass weights={name!r}"
        raise ValueError(f"unknown encoder {name!r}; available: {list_encoders()}{hint}") from None


def make_encoder(name: str, **params):
    """A new (unfitted) featurizer for encoder ``name`` with the given parameters."""
    return encoder_class(name)(**params)
