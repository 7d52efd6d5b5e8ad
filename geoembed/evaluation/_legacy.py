"""Support for the deprecated module paths (one release): reaching code that moved to ``benchmarks/``."""

from __future__ import annotations

import importlib

__all__ = ["import_benchmark"]


def import_benchmark(module: str, what: str):
    """Import ``benchmarks.<module>`` from the source checkout.

    Parameters
    ----------
    module : str
        Module under ``benchmarks/``, e.g. "nuswide".
    what : str
        What the caller wanted, for the message, e.g. "make_miniature_nuswide".

    Returns
    -------
    module : module

    Raises
    ------
    ImportError
        When ``benchmarks`` is not importable (an installed package has no ``benchmarks/``).
    """
    name = f"benchmarks.{module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name not in ("benchmarks", name):
            raise  # a dependency of the benchmark is missing: report that one
        raise ImportError(f"{what} moved out of the library to benchmarks/{module}.py of the geoembed source "
                          f"checkout; run from the root of a clone (python -m {name}) to use it") from err
