"""The architecture block of training configs (``TrainConfig.encoder``, ``DistillConfig.student``), checked."""

from __future__ import annotations

from numbers import Integral, Real

from .._params import MAX_INT, Interval, InvalidParameterError, ListOf, check_fields
from ..encoders.geoclip.model import LocationEncoderConfig

#: The fields that define a location encoder's architecture, with what each may be.
ARCHITECTURE_CONSTRAINTS = {
    "sigmas": [ListOf(Interval(Real, 0, None, closed="neither"), min_length=1)],
    "n_frequencies": [Interval(Integral, 1, MAX_INT)],
    "hidden_dim": [Interval(Integral, 1, MAX_INT)],
    "n_hidden_layers": [Interval(Integral, 1, MAX_INT)],
    "embed_dim": [Interval(Integral, 1, MAX_INT)],
    "extra": [dict],
}


def architecture_field(value, name: str, owner: str) -> LocationEncoderConfig:
    """A config's architecture block as a checked :class:`LocationEncoderConfig`.

    Parameters
    ----------
    value : LocationEncoderConfig or dict
        The block; a dict (from JSON) must name every architecture field (``extra`` may be left out).
    name : str
        The block's field name, for messages (e.g. "student").
    owner : str
        The config's class name, for messages.

    Raises
    ------
    InvalidParameterError
        A missing, unknown or out-of-range field, named as ``<name>.<field>``.
    """
    if isinstance(value, dict):
        required = [field for field in ARCHITECTURE_CONSTRAINTS if field != "extra"]
        missing = [field for field in required if field not in value]
        unknown = sorted(set(value) - set(ARCHITECTURE_CONSTRAINTS))
        if missing or unknown:
            problems = [f"lacks {missing}" if missing else "", f"has unknown keys {unknown}" if unknown else ""]
            raise InvalidParameterError(
                f"The {name!r} field of {owner} {' and '.join(p for p in problems if p)}; an architecture names "
                f"{', '.join(required)}"
            )
        check_fields(value, ARCHITECTURE_CONSTRAINTS, prefix=f"{name}.", owner=owner)
        value = LocationEncoderConfig(**{**value, "sigmas": tuple(float(s) for s in value["sigmas"])})
    if not isinstance(value, LocationEncoderConfig):
        raise InvalidParameterError(
            f"The {name!r} field of {owner} must be a LocationEncoderConfig or a dict of its fields. "
            f"Got {value!r} instead."
        )
    check_fields(value, ARCHITECTURE_CONSTRAINTS, prefix=f"{name}.", owner=owner)
    return value
