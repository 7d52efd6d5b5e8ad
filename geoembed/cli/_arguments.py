"""Argument types of the command line: numbers checked when parsed, with the option named."""

from __future__ import annotations

import argparse
import math

__all__ = [
    "finite_float",
    "integer",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "training_batch_size",
]


from geoembed.core.params import MAX_INT

# -- argument types ----------------------------------------------------------------------------


def integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
    if abs(value) > MAX_INT:
        raise argparse.ArgumentTypeError(f"is outside the int64 range (at most {MAX_INT} in size); got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text!r}")
    return value


def training_batch_size(text: str) -> int:
    value = integer(text)
    if value < 2:  # a contrastive batch needs at least one negative
        raise argparse.ArgumentTypeError(f"must be an integer >= 2; got {text!r}")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0; got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


# -- commands ----------------------------------------------------------------------------------
