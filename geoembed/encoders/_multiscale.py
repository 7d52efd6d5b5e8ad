"""The geometric scale list shared by Space2Vec and Sphere2Vec, and their parameters."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..base import LocationFeaturizer


def geometric_frequencies(frequency_num: int, min_radius: float, max_radius: float) -> np.ndarray:
    """``1 / r_s`` with ``r_s = min_radius * (max_radius / min_radius)^(s / (S - 1))``, s = 0..S-1.

    Highest frequency first, as in Space2Vec/Sphere2Vec (``_cal_freq_list``, "geometric").
    """
    if frequency_num == 1:
        return np.array([1.0 / min_radius])
    radii = min_radius * (max_radius / min_radius) ** (np.arange(frequency_num) / (frequency_num - 1))
    return 1.0 / radii


class MultiScaleEncoder(LocationFeaturizer):
    """Base for encoders with S geometric scales between ``min_radius`` and ``max_radius``."""

    _parameter_constraints = {
        **LocationFeaturizer._parameter_constraints,
        "frequency_num": [Interval(Integral, 1, None, closed="left")],
        "min_radius": [Interval(Real, 0, None, closed="neither")],
        "max_radius": [Interval(Real, 0, None, closed="neither")],
    }
    #: features per scale
    features_per_scale = 1

    def __init__(self, frequency_num=32, *, min_radius=0.001, max_radius=1.0, lat_col=None, lon_col=None,
                 wrap_longitude=False, on_invalid="raise"):
        self.frequency_num = frequency_num
        self.min_radius = min_radius
        self.max_radius = max_radius
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    def _fit_encoder(self):
        if self.min_radius > self.max_radius:
            raise ValueError(f"min_radius must be <= max_radius; got {self.min_radius} > {self.max_radius}")
        self.frequencies_ = geometric_frequencies(self.frequency_num, self.min_radius, self.max_radius)

    def _n_output_features(self):
        return self.features_per_scale * self.frequency_num
