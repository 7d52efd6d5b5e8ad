"""Real spherical harmonics, by a stable recurrence on fully normalised Legendre functions."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from geoembed.core.params import MAX_DEGREE, Interval
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.registry import register_encoder

__all__ = ["SphericalHarmonicsEncoder", "real_spherical_harmonics"]


def real_spherical_harmonics(lat, lon, max_degree: int) -> np.ndarray:
    """Orthonormal real spherical harmonics up to degree ``max_degree``.

    Parameters
    ----------
    lat, lon : ndarray of shape (n,)
        Degrees.
    max_degree : int
        L; the output has (L + 1)^2 columns.

    Returns
    -------
    ndarray of shape (n, (L + 1)^2)
        Column ``l^2 + l + m`` holds Y_l^m for m in [-l, l]: ``sqrt(2) N P_l^m cos(m lon)`` for
        m > 0, ``N P_l^0`` for m = 0 and ``sqrt(2) N P_l^|m| sin(|m| lon)`` for m < 0, with
        colatitude theta = 90 - lat, no Condon-Shortley phase, and integral over the unit
        sphere of Y_i Y_j equal to delta_ij.

    Notes
    -----
    The fully normalised associated Legendre functions come from the standard three-term
    recurrence (Holmes & Featherstone, J. Geodesy 76, 2002, eqs. 11-13), which stays stable
    to degrees in the thousands, unlike unnormalised recurrences or symbolic expansions:
    Pbar_m^m = sqrt((2m + 1) / 2m) sin(theta) Pbar_{m-1}^{m-1},
    Pbar_{m+1}^m = sqrt(2m + 3) cos(theta) Pbar_m^m,
    Pbar_l^m = a_lm (cos(theta) Pbar_{l-1}^m - b_lm Pbar_{l-2}^m),
    a_lm = sqrt((4l^2 - 1) / (l^2 - m^2)), b_lm = sqrt(((l-1)^2 - m^2) / (4(l-1)^2 - 1)).
    """
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    cos_theta, sin_theta = np.sin(phi), np.cos(phi)
    L = int(max_degree)
    out = np.empty((phi.size, (L + 1) ** 2))
    p_mm = np.full(phi.size, np.sqrt(1.0 / (4.0 * np.pi)))
    for m in range(L + 1):
        if m > 0:
            p_mm = np.sqrt((2 * m + 1) / (2.0 * m)) * sin_theta * p_mm
        if m == 0:
            cos_m = sin_m = None
        else:
            cos_m, sin_m = np.sqrt(2.0) * np.cos(m * lam), np.sqrt(2.0) * np.sin(m * lam)
        p_prev, p_cur = None, p_mm
        for l in range(m, L + 1):  # noqa: E741 (l, m: the usual names of degree and order)
            if l == m + 1:
                p_prev, p_cur = p_cur, np.sqrt(2 * m + 3) * cos_theta * p_mm
            elif l > m + 1:
                a = np.sqrt((4.0 * l * l - 1.0) / (l * l - m * m))
                b = np.sqrt(((l - 1.0) ** 2 - m * m) / (4.0 * (l - 1.0) ** 2 - 1.0))
                p_prev, p_cur = p_cur, a * (cos_theta * p_cur - b * p_prev)
            centre = l * l + l
            if m == 0:
                out[:, centre] = p_cur
            else:
                out[:, centre + m] = p_cur * cos_m
                out[:, centre - m] = p_cur * sin_m
    return out


@register_encoder("spherical_harmonics")
class SphericalHarmonicsEncoder(LocationFeaturizer):
    """Real spherical harmonics up to degree ``max_degree``: (L + 1)^2 features.

    Input: (lat, lon) in degrees. Smooth and periodic over the whole sphere, including the
    poles and the antimeridian. Features are named ``sh_<l>_<m>``. See
    :func:`real_spherical_harmonics` for the convention.

    Parameters
    ----------
    max_degree : int, default=10
        L. Degrees of 40 and beyond are supported (1,681 features at L = 40). SatCLIP's
        ``legendre_polys=L`` counts L degrees (0 to L - 1): it is ``max_degree=L - 1`` here,
        whose columns equal SatCLIP's up to the sign ``(-1)^(l + |m|)`` of the Condon-Shortley phase
        convention (these are the textbook orthonormal real harmonics).

    Notes
    -----
    Rußwurm, Klemmer, Rolf, Zbinden & Tuia, "Geographic Location Encoding with Spherical
    Harmonics and Sinusoidal Representation Networks", ICLR 2024.
    """

    _parameter_constraints = {
        **LocationFeaturizer._parameter_constraints,
        "max_degree": [Interval(Integral, 0, MAX_DEGREE)],  # (L + 1)^2 columns: at most ~1M
    }
    feature_prefix = "sh"

    def __init__(self, max_degree=10, *, lat_col=None, lon_col=None, wrap_longitude=False, on_invalid="raise"):
        self.max_degree = max_degree
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    def _n_output_features(self):
        return (self.max_degree + 1) ** 2

    def _feature_suffixes(self):
        return [f"{l}_{m}" for l in range(self.max_degree + 1) for m in range(-l, l + 1)]  # noqa: E741

    def _encode(self, lat, lon):
        return real_spherical_harmonics(lat, lon, self.max_degree)
