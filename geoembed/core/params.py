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

import contextlib
import functools
import json
import math
import warnings
from collections.abc import Iterable, Mapping
from numbers import Integral

import numpy as np

__all__ = [
    "DEPRECATED",
    "CrossValidator",
    "PRECISIONS",
    "MAX_DEGREE",
    "MAX_FREQUENCIES",
    "MAX_INT",
    "InvalidParameterError",
    "Interval",
    "ListOf",
    "Options",
    "check_fields",
    "naming_config_file",
    "options_from_json",
    "renamed_keyword",
    "renamed_parameter",
    "validate_params",
]

#: Default of a renamed parameter's old name: "not given".
DEPRECATED = "deprecated"
#: The largest count a parameter may hold: int64, what numpy and torch index and count with.
MAX_INT = int(np.iinfo(np.int64).max)
#: The most frequencies a classic encoder takes: its output width is a small multiple of this
#: (at most ~10^6 columns), so that a typo fails at fit, naming the parameter, not in numpy.
MAX_FREQUENCIES = 2**16
#: The highest spherical-harmonic degree: (L + 1)^2 columns, about 10^6.
MAX_DEGREE = 1000


#: GeoCLIP's arithmetic: "exact" (float32) or "fast" (bfloat16 MLPs where native). Every estimator,
#: config and command that takes a precision declares it with these values.
PRECISIONS = ("exact", "fast")


class InvalidParameterError(ValueError, TypeError):
    """A parameter has a value outside its declared constraints."""


class Options:
    """One of a fixed set of values, e.g. ``Options(*PRECISIONS)``."""

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
        """Whether ``value`` is a number of this kind inside the interval.

        Any Python int (beyond the int64 range too) and numpy number is compared exactly;
        NaN and infinities are never accepted (an unbounded side is open).
        """
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if not isinstance(value, Integral):  # ints are exact and finite, of any size
            try:
                if not math.isfinite(value):
                    return False
            except (TypeError, ValueError, OverflowError):
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
        if self.low is None:
            left, low = "(", "-inf"
        else:
            low = self.low
        if self.high is None:
            right, high = ")", "inf"
        else:
            high = "2**63 - 1" if self.high == MAX_INT else self.high
        return f"{kind} in the range {left}{low}, {high}{right}"


class ListOf:
    """A list or tuple (not a string) of at least ``min_length`` items, each accepted by ``item``."""

    def __init__(self, item, *, min_length: int = 0):
        self.item, self.min_length = item, min_length

    def accepts(self, value) -> bool:
        if not isinstance(value, (list, tuple)) or len(value) < self.min_length:
            return False
        return all(_accepts(self.item, v) for v in value)

    def __str__(self) -> str:
        size = f"at least {self.min_length} " if self.min_length else ""
        return f"a list of {size}items, each {_describe(self.item)}"


class CrossValidator:
    """A ``cv`` value, as scikit-learn takes it: an int of at least ``min_splits`` (folds), a
    splitter (with ``split`` and ``get_n_splits``) or an iterable of (train, test) folds.
    """

    def __init__(self, min_splits: int = 2):
        self.min_splits = min_splits

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_, str, bytes, Mapping)):
            return False
        if isinstance(value, Integral):
            return value >= self.min_splits
        if hasattr(value, "split") and hasattr(value, "get_n_splits"):
            return True
        return isinstance(value, Iterable) and not hasattr(value, "split")

    def __str__(self) -> str:
        return (
            f"an int of at least {self.min_splits}, a splitter (split and get_n_splits) "
            "or an iterable of (train, test) folds"
        )


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


def _check(values: dict, constraints: dict, what: str) -> None:
    for name, allowed in constraints.items():
        if name not in values:
            continue
        value = values[name]
        if not any(_accepts(c, value) for c in allowed):
            expected = " or ".join(_describe(c) for c in allowed)
            raise InvalidParameterError(f"The {name!r} {what} must be {expected}. Got {value!r} instead.")


def validate_params(estimator, names=None) -> None:
    """Raise :class:`InvalidParameterError` for the first parameter outside its constraints.

    ``names`` restricts the check to those parameters (default: all). Skipped inside
    ``sklearn.config_context(skip_parameter_validation=True)``: an outer estimator that has
    validated its parameters builds its inner ones there, so each parameter is checked once, at
    the outermost ``fit`` (scikit-learn's own rule for nested estimators).
    """
    from sklearn import get_config

    if get_config().get("skip_parameter_validation"):
        return
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    if names is not None:
        constraints = {name: allowed for name, allowed in constraints.items() if name in names}
    _check(estimator.get_params(deep=False), constraints, f"parameter of {type(estimator).__name__}")


def check_fields(config, constraints: dict, *, prefix: str = "", owner: str | None = None) -> None:
    """Raise :class:`InvalidParameterError` for the first field of a config dataclass outside its constraints.

    Parameters
    ----------
    config : object or dict
        The config; its attributes (or keys) named in ``constraints`` are checked.
    constraints : dict
        Field name to a list of constraints, as ``_parameter_constraints``.
    prefix : str, default=""
        Prepended to field names in the message, e.g. "student." for a nested block.
    owner : str, default=None
        The config's name in the message (default: its class name).
    """

    def value(name):
        return config[name] if isinstance(config, dict) else getattr(config, name)

    values = {f"{prefix}{name}": value(name) for name in constraints if not isinstance(config, dict) or name in config}
    named = {f"{prefix}{name}": allowed for name, allowed in constraints.items()}
    _check(values, named, f"field of {owner or type(config).__name__}")


@contextlib.contextmanager
def naming_config_file(source):
    """Prefix the config errors raised inside (``ValueError``, ``TypeError``, ``KeyError``) with the file's name.

    Parameters
    ----------
    source : str, Path or None
        The config file; None names nothing and re-raises errors as they are.
    """
    try:
        yield
    except (ValueError, TypeError, KeyError) as err:
        if source is None:
            raise
        text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        kind = InvalidParameterError if isinstance(err, InvalidParameterError) else ValueError
        raise kind(f"config file {source}: {text}") from None


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


def renamed_keyword(old: str, new: str, *, since: str = "0.2", removal: str = "0.3"):
    """Decorator: a function's keyword ``new`` also answers to ``old``, with a ``FutureWarning``."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{function.__name__}() got both {old!r} and its new name {new!r}")
                warnings.warn(
                    f"{function.__name__}(): the keyword {old!r} was renamed to {new!r} in {since} and the "
                    f"old name will be removed in {removal}",
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
    Text that is not JSON raises ``ValueError`` saying so, with the line and column.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"the {what} config is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"a {what} config must be a JSON object; got {type(data).__name__}")
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown {what} options {sorted(unknown)}")
    return data
