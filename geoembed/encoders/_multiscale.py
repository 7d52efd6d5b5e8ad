"""The geometric scale list shared by Space2Vec and Sphere2Vec, and their parameters."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from geoembed.core.params import MAX_FREQUENCIES, Interval, renamed_parameter
from geoembed.encoders.base import LocationFeaturizer

__all__ = ["MultiScaleEncoder", "geometric_frequencies"]


def geometric_frequencies(n_frequencies: int, min_radius: float, max_radius: float) -> np.ndarray:
    """``1 / r_s`` with ``r_s = min_radius * (max_radius / min_radius)^(s / (S - 1))``, s = 0..S-1.

    Highest frequency first, as in Space2Vec/Sphere2Vec (``_cal_freq_list``, "geometric").
    The radii and the returned frequencies share one unit (degrees or radians). Every variant
    uses them, as the papers define; TorchSpatial's own sphereM+ class sets its scales without
    ``min_radius`` (``min_radius_rad=1.0`` here reproduces it).
    """
    if n_frequencies == 1:
        return np.array([1.0 / min_radius])
    radii = min_radius * (max_radius / min_radius) ** (np.arange(n_frequencies) / (n_frequencies - 1))
    return 1.0 / radii


class MultiScaleEncoder(LocationFeaturizer):
    """Base for encoders with S geometric scales between a smallest and a largest radius.

    Subclasses set ``radius_unit`` ("deg" or "rad"); their radius parameters carry the unit in
    their names (``min_radius_deg`` for Space2Vec, ``min_radius_rad`` for Sphere2Vec). The
    old names ``frequency_num``, ``min_radius`` and ``max_radius`` still work, with a
    ``FutureWarning``, until 0.3.
    """

    radius_unit = "deg"
    #: features per scale
    features_per_scale = 1

    @classmethod
    def _radius_names(cls) -> tuple[str, str]:
        return f"min_radius_{cls.radius_unit}", f"max_radius_{cls.radius_unit}"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        low, high = cls._radius_names()
        cls._parameter_constraints = {
            **LocationFeaturizer._parameter_constraints,
            "n_frequencies": [Interval(Integral, 1, MAX_FREQUENCIES)],  # bounds the output width
            low: [Interval(Real, 0, None, closed="neither")],
            high: [Interval(Real, 0, None, closed="neither")],
        }

    def _scale_settings(self) -> tuple[int, float, float]:
        """(n_frequencies, smallest radius, largest radius), honouring the deprecated names."""
        low, high = self._radius_names()
        n = renamed_parameter(self, "frequency_num", "n_frequencies")
        return n, renamed_parameter(self, "min_radius", low), renamed_parameter(self, "max_radius", high)

    def _fit_encoder(self):
        n, low, high = self._scale_settings()
        for value, name in ((n, "n_frequencies"), (low, "min radius"), (high, "max radius")):
            if (
                isinstance(value, bool)
                or not isinstance(value, (Integral if name == "n_frequencies" else Real))
                or value <= 0
            ):
                raise ValueError(f"{type(self).__name__}: {name} must be a positive number; got {value!r}")
        if low > high:
            raise ValueError(f"min radius must be <= max radius; got {low} > {high} ({self.radius_unit})")
        self.n_frequencies_ = int(n)
        self.frequencies_ = geometric_frequencies(int(n), low, high)

    def _n_output_features(self):
        return self.features_per_scale * self.n_frequencies_
