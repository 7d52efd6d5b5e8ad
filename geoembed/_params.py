"""Checking estimator parameters against declared constraints, and renaming parameters.

Each estimator declares ``_parameter_constraints``: for each parameter, a list of what it
may be (any one suffices):

- ``None``: the value ``None``;
- ``"boolean"``: ``True`` or ``False`` (numpy booleans included);
- a type, e.g. ``str``, ``dict``, ``Path``: an instance of it;
- :class:`Options`: one of the listed values;
- :class:`Interval`: a number of the given kind inside the interval (``bool`` is never a number);
- ``"random_state"``: None, an int or a ``numpy.random.RandomState``.

:func:`validate_params` checks them at ``fit`` and raises :class:`InvalidParameterError`,
which is both a ``ValueError`` and a ``TypeError``, as scikit-learn's is.
"""

from __future__ import annotations

import functools
import json
import warnings
from numbers import Integral, Real

import numpy as np

__all__ = [
    "DEPRECATED",
    "InvalidParameterError",
    "Interval",
    "Options",
    "options_from_json",
    "renamed_keyword",
    "renamed_parameter",
    "validate_params",
]

#: Default of a renamed parameter's old name: "not given".
DEPRECATED = "deprecated"


class InvalidParameterError(ValueError, TypeError):
    """A parameter has a value outside its declared constraints."""


class Options:
    """One of a fixed set of values, e.g. ``Options("exact", "fast")``."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class Interval:
    """A number of kind ``Integral`` or ``Real`` between ``low`` and ``high`` (``None``: unbounded).

    ``closed`` is "both", "left", "right" or "neither".
    """

    def __init__(self, kind, low=None, high=None, *, closed: str = "both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if isinstance(value, Real) and np.isnan(value):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        kind = "an int" if self.kind is Integral else "a float"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{kind} in the range {left}{low}, {high}{right}"


def _accepts(constraint, value) -> bool:
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "random_state":
        return (
            value is None
            or isinstance(value, np.random.RandomState)
            or (isinstance(value, Integral) and not isinstance(value, (bool, np.bool_)))
        )
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.accepts(value)


def _describe(constraint) -> str:
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "a bool"
    if constraint == "random_state":
        return "None, an int or a numpy RandomState"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    return str(constraint)


def validate_params(estimator) -> None:
    """Raise :class:`InvalidParameterError` for the first parameter outside its constraints."""
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not any(_accepts(c, value) for c in allowed):
            expected = " or ".join(_describe(c) for c in allowed)
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be {expected}. Got {value!r} instead."
            )


def renamed_parameter(estimator, old: str, new: str):
    """The value of parameter ``new``, or of its old name ``old`` with a ``FutureWarning``.

    For parameters renamed in the scikit-learn way: the old name stays in ``__init__`` for
    one release with the default :data:`DEPRECATED`.
    """
    old_value = getattr(estimator, old)
    if isinstance(old_value, str) and old_value == DEPRECATED:
        return getattr(estimator, new)
    warnings.warn(
        f"{type(estimator).__name__}: the parameter {old!r} was renamed to {new!r} in 0.2 and the old name will "
        f"be removed in 0.3; use {new}={old_value!r}.",
        FutureWarning,
        stacklevel=3,
    )
    return old_value


def renamed_keyword(old: str, new: str):
    """Decorator: a function's keyword ``new`` also answers to ``old``, with a ``FutureWarning``."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{function.__name__}() got both {old!r} and its new name {new!r}")
                warnings.warn(
                    f"{function.__name__}(): the keyword {old!r} was renamed to {new!r} in 0.2 and the "
                    "old name will be removed in 0.3",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def options_from_json(text: str, known, what: str) -> dict:
    """A JSON object of options, every key among ``known`` (a config dataclass's field names).

    ``what`` names the options in errors, e.g. "training" gives "unknown training options [...]".
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"a {what} config must be a JSON object; got {type(data).__name__}")
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown {what} options {sorted(unknown)}")
    return data
