"""What a target is: ``target_type='auto'``'s rule (classes, or a quantity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target

__all__ = [
    "HANDFUL_OF_CLASSES",
    "MANY_CLASSES",
    "MAX_INTEGER_CLASSES",
    "infer_target_type",
    "integer_target",
    "numbers_as_objects",
]

#: Targets read as classes by ``target_type="auto"`` with more distinct values than this get a
#: warning: as many output columns as classes.
MANY_CLASSES = 50
#: Integer targets that ``target_type="auto"`` reads as more classes than this get a warning: with
#: 6 to 10 distinct values an integer may as well be a small count or a rating as a label code.
HANDFUL_OF_CLASSES = 5
#: Integer targets with at most this many distinct values are class labels for
#: ``target_type="auto"``; with more, a quantity (prices, elevations, depths, counts).
MAX_INTEGER_CLASSES = 10


def _one_column(y):
    """``y`` itself, or the column of a one-column pandas or polars frame (whose dtype, categorical
    or nullable, the frame does not carry as ``y.dtype``).
    """
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        return y.iloc[:, 0]
    if type(y).__name__ == "DataFrame" and hasattr(y, "to_series") and getattr(y, "width", None) == 1:
        return y.to_series()  # polars
    return y


def numbers_as_objects(y) -> bool:
    """Whether ``y`` is an object column whose values are all numbers (ints or floats read from
    JSON, or made by ``apply``), which scikit-learn reads as type ``"unknown"``.
    """
    values = np.asarray(_one_column(y))
    if values.dtype != object:
        return False
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values.ravel())


def integer_target(y) -> bool:
    """Whether ``y`` holds integers (numpy or pandas nullable), not categoricals or booleans."""
    y = _one_column(y)
    dtype = getattr(y, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    if dtype is not None and pd.api.types.is_integer_dtype(dtype):
        return True
    return np.asarray(y).dtype.kind in "iu"


def infer_target_type(y) -> str:
    """The target type that ``target_type="auto"`` reads in ``y``: the rule of the package.

    scikit-learn's :func:`~sklearn.utils.multiclass.type_of_target`, with numbers read as
    users mean them:

    - strings, booleans and pandas categoricals are classes, whatever their number;
    - any target with two distinct values is ``"binary"``;
    - floating-point targets with more are ``"continuous"``, whole numbers or not;
    - integer targets (numpy or pandas nullable) are ``"multiclass"`` with at most
      ``MAX_INTEGER_CLASSES`` (10) distinct values and ``"continuous"`` with more: int64
      prices, elevations, depths and counts are quantities, not hundreds of classes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target, without missing values.

    A one-column pandas or polars frame is read as its column.

    Dates and durations (``datetime64``, ``timedelta64``, time-zone aware pandas dates) are none
    of these: as labels, every distinct moment would be a class. They raise a ``ValueError`` that
    says how to convert them.

    Returns
    -------
    str
        ``"continuous"``, ``"binary"`` or ``"multiclass"``, or what ``type_of_target`` says for
        other targets (e.g. ``"multilabel-indicator"``, or ``"unknown"`` for an object column of
        numbers, or of numbers and strings mixed), which callers reject.

    Examples
    --------
    >>> import numpy as np
    >>> from geoembed.target_encoder import infer_target_type
    >>> infer_target_type(np.array([120, 3400, 15, 880, 42, 7, 1010, 65, 300, 12, 99]))
    'continuous'
    >>> infer_target_type(np.array([0, 1, 2, 1, 0]))
    'multiclass'
    >>> infer_target_type(["wet", "dry", "wet"])
    'binary'
    """
    y = _one_column(y)
    dtype = getattr(y, "dtype", None)
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or (dtype is None and np.asarray(y).dtype.kind in "mM")
    ):
        raise ValueError(
            "y holds dates or durations, not a target type='auto' can read: convert them to numbers for a "
            "continuous target (days since a date: (y - y.min()).dt.days) or to strings for classes"
        )
    if isinstance(dtype, pd.CategoricalDtype):
        n_classes = pd.Series(y).nunique()
        return "binary" if n_classes <= 2 else "multiclass"
    integer = dtype is not None and pd.api.types.is_integer_dtype(dtype)
    if isinstance(y, (pd.Series, pd.Index)) or hasattr(y, "to_numpy"):
        y = y.to_numpy()
    values = np.asarray(y)
    integer = integer or values.dtype.kind in "iu"
    try:
        kind = type_of_target(values, input_name="y")
    except TypeError:  # scikit-learn sorts an object column that starts with a string: "a", 1
        return "unknown"
    if kind == "multiclass" and values.dtype.kind == "f":
        return "continuous"  # whole-number floats (metres, counts as floats) are still a quantity
    if kind == "multiclass" and integer and len(pd.unique(values.ravel())) > MAX_INTEGER_CLASSES:
        return "continuous"
    return kind
