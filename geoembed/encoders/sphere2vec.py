"""Sphere2Vec: sphereC, sphereC+, sphereM, sphereM+ (Mai et al., ISPRS J. 2023)."""

from __future__ import annotations

import numpy as np

from ._multiscale import MultiScaleEncoder
from .registry import register_encoder


class Sphere2VecEncoder(MultiScaleEncoder):
    """Shared code of the four Sphere2Vec variants.

    Input: (lat, lon) in degrees, converted to radians phi, lambda. Scale s uses
    ``phi_s = phi f_s`` and ``lambda_s = lambda f_s`` with the geometric frequencies
    ``f_s = 1 / r_s`` between ``1 / min_radius`` and ``1 / max_radius`` (per radian; the defaults
    r_min = 0.001, r_max = 1 follow TorchSpatial's settings and span wavelengths from the whole
    sphere down to ~40 km). Features are laid out scale by scale. At the scale f = 1 the
    encodings are continuous on the sphere (poles and antimeridian included).

    Notes
    -----
    Mai, Xuan, Zhu, Zhu, Li, Ermon, Lao & Janowicz, "Sphere2Vec: A General-Purpose Location
    Representation Learning over a Spherical Surface for Large-Scale Geospatial Predictions",
    ISPRS Journal of Photogrammetry and Remote Sensing 202, 2023. Term order follows the
    reference implementation (``SpatialRelationEncoder.py`` in sphere2vec / TorchSpatial).
    """

    def _encode(self, lat, lon):
        phi = np.radians(lat)[:, None]
        lam = np.radians(lon)[:, None]
        f = self.frequencies_[None, :]
        terms = self._terms(phi, lam, phi * f, lam * f)  # each (n, S)
        return np.stack(terms, axis=2).reshape(len(lat), -1)

    @property
    def features_per_scale(self) -> int:
        return len(self.term_names)

    def _feature_suffixes(self):
        names = self.term_names
        return [f"s{s}_{t}" for s in range(self.frequency_num) for t in names]


@register_encoder("sphereC")
class SphereCEncoder(Sphere2VecEncoder):
    __doc__ = (
        """sphereC: per scale ``[sin phi_s, cos phi_s cos lambda_s, cos phi_s sin lambda_s]`` (3S).\n"""
        + Sphere2VecEncoder.__doc__.split("\n", 1)[1]
    )
    feature_prefix = "sphereC"
    term_names = ("sin_phi", "cos_phi_cos_lam", "cos_phi_sin_lam")

    def _terms(self, phi, lam, phi_s, lam_s):
        return [np.sin(phi_s), np.cos(phi_s) * np.cos(lam_s), np.cos(phi_s) * np.sin(lam_s)]


@register_encoder("sphereC+")
class SphereCPlusEncoder(Sphere2VecEncoder):
    __doc__ = (
        """sphereC+: per scale ``[sin phi_s, cos phi_s, sin lambda_s, cos lambda_s,
    cos phi_s cos lambda_s, cos phi_s sin lambda_s]`` (6S).\n"""
        + Sphere2VecEncoder.__doc__.split("\n", 1)[1]
    )
    feature_prefix = "sphereCplus"
    term_names = ("sin_phi", "cos_phi", "sin_lam", "cos_lam", "cos_phi_cos_lam", "cos_phi_sin_lam")

    def _terms(self, phi, lam, phi_s, lam_s):
        cos_phi = np.cos(phi_s)
        return [np.sin(phi_s), cos_phi, np.sin(lam_s), np.cos(lam_s), cos_phi * np.cos(lam_s), cos_phi * np.sin(lam_s)]


@register_encoder("sphereM")
class SphereMEncoder(Sphere2VecEncoder):
    __doc__ = (
        """sphereM: per scale ``[sin phi_s, cos phi_s cos lambda, cos phi cos lambda_s,
    cos phi_s sin lambda, cos phi sin lambda_s]`` (5S): each product pairs a scaled term with
    an unscaled one.\n"""
        + Sphere2VecEncoder.__doc__.split("\n", 1)[1]
    )
    feature_prefix = "sphereM"
    term_names = ("sin_phi", "cos_phis_cos_lam", "cos_phi_cos_lams", "cos_phis_sin_lam", "cos_phi_sin_lams")

    def _terms(self, phi, lam, phi_s, lam_s):
        cos_phi_s, cos_phi = np.cos(phi_s), np.cos(phi)
        return [np.sin(phi_s), cos_phi_s * np.cos(lam), cos_phi * np.cos(lam_s), cos_phi_s * np.sin(lam),
                cos_phi * np.sin(lam_s)]


@register_encoder("sphereM+")
class SphereMPlusEncoder(Sphere2VecEncoder):
    __doc__ = (
        """sphereM+: per scale ``[sin phi_s, cos phi_s, sin lambda_s, cos lambda_s,
    cos phi_s cos lambda, cos phi cos lambda_s, cos phi_s sin lambda, cos phi sin lambda_s]`` (8S).\n"""
        + Sphere2VecEncoder.__doc__.split("\n", 1)[1]
    )
    feature_prefix = "sphereMplus"
    term_names = ("sin_phi", "cos_phi", "sin_lam", "cos_lam", "cos_phis_cos_lam", "cos_phi_cos_lams",
                  "cos_phis_sin_lam", "cos_phi_sin_lams")

    def _terms(self, phi, lam, phi_s, lam_s):
        cos_phi_s, cos_phi = np.cos(phi_s), np.cos(phi)
        return [np.sin(phi_s), cos_phi_s, np.sin(lam_s), np.cos(lam_s), cos_phi_s * np.cos(lam),
                cos_phi * np.cos(lam_s), cos_phi_s * np.sin(lam), cos_phi * np.sin(lam_s)]
