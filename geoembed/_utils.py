"""Small helpers that several subpackages share: devices, file hashes, optional imports.

This module imports nothing from the rest of the package, so any module may import it.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

__all__ = ["DISTRIBUTION", "file_sha256", "import_benchmark", "optional_import", "resolve_device"]

#: The name under which the package is installed (``pip install <DISTRIBUTION>[extra]``).
DISTRIBUTION = "geoembed-toolkit"


def resolve_device(device: str):
    """A ``torch.device`` for "cpu", "cuda", "cuda:1", ... or "auto" (CUDA when present).

    Raises ``ValueError`` when CUDA is asked for and not available.
    """
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} requested but CUDA is not available; use device='cpu'")
    return resolved


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def optional_import(module: str, *, extra: str, purpose: str):
    """Import an optional dependency, or raise ``ImportError`` naming the pip extra to install.

    Parameters
    ----------
    module : str
        Module to import, e.g. "matplotlib.pyplot".
    extra : str
        The extra of this package that provides it, e.g. "plot".
    purpose : str
        What needs it, for the message, e.g. "maps".
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split(".")[0]
        raise ImportError(
            f"{purpose} requires {top}, which is not installed: pip install '{DISTRIBUTION}[{extra}]'"
        ) from err


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
        raise ImportError(
            f"{what} moved out of the library to benchmarks/{module}.py of the geoembed source "
            f"checkout; run from the root of a clone (python -m {name}) to use it"
        ) from err
