"""Sphere2Vec: sphereC, sphereC+, sphereM, sphereM+ (Mai et al., ISPRS J. 2023)."""

from __future__ import annotations

import numpy as np

from geoembed.core.params import DEPRECATED
from geoembed.encoders._multiscale import MultiScaleEncoder
from geoembed.encoders.registry import register_encoder

__all__ = ["Sphere2VecEncoder", "SphereCEncoder", "SphereCPlusEncoder", "SphereMEncoder", "SphereMPlusEncoder"]


def _variant_doc(summary: str) -> str:
    """A variant's docstring: its own terms, then what all Sphere2Vec variants share."""
    return summary + "\n" + Sphere2VecEncoder.__doc__.split("\n", 1)[1]


class Sphere2VecEncoder(MultiScaleEncoder):
    """Shared code of the four Sphere2Vec variants.

    Input: (lat, lon) in degrees, converted to radians phi, lambda. Scale s uses
    ``phi_s = phi f_s`` and ``lambda_s = lambda f_s`` with the geometric frequencies
    ``f_s = 1 / r_s`` between ``1 / min_radius_rad`` and ``1 / max_radius_rad`` (radii in
    radians; r_max = 1 as in TorchSpatial, whose scripts default to r_min = 1e-6; the default
    r_min = 0.001 spans wavelengths from the whole sphere down to ~40 km). Features are laid
    out scale by scale. At the scale f = 1, sphereC and sphereM are continuous on the sphere
    (poles and antimeridian included); the "+" variants add terms in longitude alone, which
    take every value around a pole.

    Parameters
    ----------
    n_frequencies : int, default=32
        S, the number of scales.
    min_radius_rad, max_radius_rad : float, default=0.001, 1.0
        Smallest and largest scale, in radians.
    lat_col, lon_col : str, default=None
        DataFrame column or xarray coordinate names; by default found by name.
    wrap_longitude : bool, default=False
        Wrap longitudes into [-180, 180) instead of rejecting values outside [-180, 180].
    on_invalid : {"raise", "nan"}, default="raise"
        "raise": invalid coordinates raise ``ValueError`` naming the rows; "nan": NaN rows.
    frequency_num, min_radius, max_radius : deprecated
        Old names of ``n_frequencies``, ``min_radius_rad`` and ``max_radius_rad``; removed in 0.3.

    Notes
    -----
    Mai, Xuan, Zuo, He, Song, Ermon, Janowicz & Lao, "Sphere2Vec: A General-Purpose Location
    Representation Learning over a Spherical Surface for Large-Scale Geospatial Predictions",
    ISPRS Journal of Photogrammetry and Remote Sensing 202, 2023. Term order follows the
    reference implementation (``SpatialRelationEncoder.py`` in sphere2vec / TorchSpatial).
    """

    radius_unit = "rad"

    def __init__(
        self,
        n_frequencies=32,
        *,
        min_radius_rad=0.001,
        max_radius_rad=1.0,
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        on_invalid="raise",
        frequency_num=DEPRECATED,
        min_radius=DEPRECATED,
        max_radius=DEPRECATED,
    ):
        self.n_frequencies = n_frequencies
        self.min_radius_rad = min_radius_rad
        self.max_radius_rad = max_radius_rad
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid
        self.frequency_num = frequency_num
        self.min_radius = min_radius
        self.max_radius = max_radius

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
        return [f"s{s}_{t}" for s in range(self.n_frequencies_) for t in names]


@register_encoder("sphereC")
class SphereCEncoder(Sphere2VecEncoder):
    __doc__ = _variant_doc(
        """sphereC: per scale ``[sin phi_s, cos phi_s cos lambda_s, cos phi_s sin lambda_s]`` (3S)."""
    )
    feature_prefix = "sphereC"
    term_names = ("sin_phi", "cos_phi_cos_lam", "cos_phi_sin_lam")

    def _terms(self, phi, lam, phi_s, lam_s):
        return [np.sin(phi_s), np.cos(phi_s) * np.cos(lam_s), np.cos(phi_s) * np.sin(lam_s)]


@register_encoder("sphereC+")
class SphereCPlusEncoder(Sphere2VecEncoder):
    __doc__ = _variant_doc(
        """sphereC+: per scale ``[sin phi_s, cos phi_s, sin lambda_s, cos lambda_s,
    cos phi_s cos lambda_s, cos phi_s sin lambda_s]`` (6S)."""
    )
    feature_prefix = "sphereCplus"
    term_names = ("sin_phi", "cos_phi", "sin_lam", "cos_lam", "cos_phi_cos_lam", "cos_phi_sin_lam")

    def _terms(self, phi, lam, phi_s, lam_s):
        cos_phi = np.cos(phi_s)
        return [np.sin(phi_s), cos_phi, np.sin(lam_s), np.cos(lam_s), cos_phi * np.cos(lam_s), cos_phi * np.sin(lam_s)]


@register_encoder("sphereM")
class SphereMEncoder(Sphere2VecEncoder):
    __doc__ = _variant_doc(
        """sphereM: per scale ``[sin phi_s, cos phi_s cos lambda, cos phi cos lambda_s,
    cos phi_s sin lambda, cos phi sin lambda_s]`` (5S): each product pairs a scaled term with
    an unscaled one."""
    )
    feature_prefix = "sphereM"
    term_names = ("sin_phi", "cos_phis_cos_lam", "cos_phi_cos_lams", "cos_phis_sin_lam", "cos_phi_sin_lams")

    def _terms(self, phi, lam, phi_s, lam_s):
        cos_phi_s, cos_phi = np.cos(phi_s), np.cos(phi)
        return [
            np.sin(phi_s),
            cos_phi_s * np.cos(lam),
            cos_phi * np.cos(lam_s),
            cos_phi_s * np.sin(lam),
            cos_phi * np.sin(lam_s),
        ]


@register_encoder("sphereM+")
class SphereMPlusEncoder(Sphere2VecEncoder):
    __doc__ = _variant_doc(
        """sphereM+: per scale ``[sin phi_s, cos phi_s, sin lambda_s, cos lambda_s,
    cos phi_s cos lambda, cos phi cos lambda_s, cos phi_s sin lambda, cos phi sin lambda_s]`` (8S)."""
    )
    feature_prefix = "sphereMplus"
    term_names = (
        "sin_phi",
        "cos_phi",
        "sin_lam",
        "cos_lam",
        "cos_phis_cos_lam",
        "cos_phi_cos_lams",
        "cos_phis_sin_lam",
        "cos_phi_sin_lams",
    )

    def _terms(self, phi, lam, phi_s, lam_s):
        cos_phi_s, cos_phi = np.cos(phi_s), np.cos(phi)
        return [
            np.sin(phi_s),
            cos_phi_s,
            np.sin(lam_s),
            np.cos(lam_s),
            cos_phi_s * np.cos(lam),
            cos_phi * np.cos(lam_s),
            cos_phi_s * np.sin(lam),
            cos_phi * np.sin(lam_s),
        ]
