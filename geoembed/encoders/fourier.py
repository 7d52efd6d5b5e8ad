"""Gaussian random Fourier features (Rahimi & Recht 2007; Tancik et al. 2020)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from geoembed.core.geo import GEOCLIP_PROJECTION_SCALE, equal_earth, latlon_to_unit_xyz
from geoembed.core.params import MAX_FREQUENCIES, Interval, Options
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.registry import register_encoder

__all__ = ["RandomFourierEncoder", "project"]


def project(lat, lon, coordinates: str) -> np.ndarray:
    """(n, d) inputs for the Fourier features: scaled Equal Earth (d = 2) or unit xyz (d = 3)."""
    if coordinates == "equal_earth":
        x, y = equal_earth(lat, lon)
        return np.column_stack([x, y]) * GEOCLIP_PROJECTION_SCALE
    return np.column_stack(latlon_to_unit_xyz(lat, lon))


@register_encoder("rff")
class RandomFourierEncoder(LocationFeaturizer):
    """Gaussian random Fourier features of the location.

    ``gamma(v) = [cos(2 pi B v), sin(2 pi B v)]`` with ``B`` (n_frequencies x d) drawn from
    N(0, sigma^2) with ``random_state``. ``v`` is either the Equal Earth projection scaled as in
    GeoCLIP (x in [-1, 1], d = 2; not periodic across the antimeridian) or unit-sphere xyz
    (d = 3; continuous everywhere). Input: (lat, lon) in degrees. Output: 2 n_frequencies.

    Parameters
    ----------
    n_frequencies : int, default=256
    sigma : float, default=1.0
        Standard deviation of B: larger values resolve finer detail.
    coordinates : {"equal_earth", "xyz"}, default="equal_earth"
    random_state : int, default=0

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_frequencies, d)
        The matrix B.

    Notes
    -----
    Tancik et al., "Fourier Features Let Networks Learn High Frequency Functions in Low
    Dimensional Domains", NeurIPS 2020; used per scale by GeoCLIP (NeurIPS 2023).
    """

    _parameter_constraints = {
        **LocationFeaturizer._parameter_constraints,
        "n_frequencies": [Interval(Integral, 1, MAX_FREQUENCIES)],  # bounds the output width
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "coordinates": [Options("equal_earth", "xyz")],
        "random_state": ["random_state"],
    }
    feature_prefix = "rff"

    def __init__(
        self,
        n_frequencies=256,
        *,
        sigma=1.0,
        coordinates="equal_earth",
        random_state=0,
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        on_invalid="raise",
    ):
        self.n_frequencies = n_frequencies
        self.sigma = sigma
        self.coordinates = coordinates
        self.random_state = random_state
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    def _fit_encoder(self):
        from sklearn.utils import check_random_state

        d = 2 if self.coordinates == "equal_earth" else 3
        rng = check_random_state(self.random_state)
        self.frequencies_ = rng.normal(0.0, self.sigma, size=(self.n_frequencies, d))

    def _n_output_features(self):
        return 2 * self.n_frequencies

    def _feature_suffixes(self):
        return [f"cos{i}" for i in range(self.n_frequencies)] + [f"sin{i}" for i in range(self.n_frequencies)]

    def _encode(self, lat, lon):
        angles = 2.0 * np.pi * project(lat, lon, self.coordinates) @ self.frequencies_.T
        return np.concatenate([np.cos(angles), np.sin(angles)], axis=1)
