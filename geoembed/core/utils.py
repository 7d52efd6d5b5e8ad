"""Small helpers that several subpackages share: devices, file hashes, optional imports.

This module imports nothing from the rest of the package, so any module may import it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

__all__ = [
    "DISTRIBUTION",
    "caller_stacklevel",
    "file_sha256",
    "moved_attribute",
    "moved_names",
    "ONE_PER_PROCESS_KEPT",
    "one_per_process",
    "optional_import",
    "resolve_device",
]

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


def caller_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` called by the caller of this function that points at
    the user's code: the first frame outside this package, scikit-learn (whose ``set_output``
    and pipelines wrap ``transform``) and joblib (through which a pipeline calls its steps' fits),
    however deep the call went.
    """
    import inspect

    folders = (
        Path(__file__).resolve().parents[1],
        *(Path(importlib.import_module(name).__file__).resolve().parent for name in ("sklearn", "joblib")),
    )
    skipped = tuple(str(folder) + os.sep for folder in folders)  # the separator: not geoembed_demo.py
    frame, level = inspect.currentframe().f_back, 1  # the function that will call warnings.warn
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(skipped):
        frame, level = frame.f_back, level + 1
    return level


#: How many distributed calls' objects a process keeps: two transforms in one Spark query or Dask
#: graph (GeoCLIP features next to a location prior, two interpolation spacings) alternate on one
#: worker, and with one kept each task unpickled its transformer again and started a fresh node cache.
ONE_PER_PROCESS_KEPT = 2

_ONE_PER_PROCESS: OrderedDict = OrderedDict()
_ONE_PER_PROCESS_LOCK = threading.Lock()


def one_per_process(key: str, load):
    """The object ``load()`` makes for ``key``, made once per process and then shared.

    For the transformer of one distributed call (Spark, Dask): every task a worker process runs
    for that call uses one unpickled copy, so the weights load once and what the transformer keeps
    between calls (the grid nodes of ``interpolation_km``) serves all of them. ``key`` is a random
    token made by the call on the driver. The objects of the last ``ONE_PER_PROCESS_KEPT`` (2) keys
    used are kept: worker processes outlive jobs, and only the current query's objects are worth
    their memory, but one query may apply two transformers.
    """
    with _ONE_PER_PROCESS_LOCK:
        if key in _ONE_PER_PROCESS:
            _ONE_PER_PROCESS.move_to_end(key)
        else:
            while len(_ONE_PER_PROCESS) >= ONE_PER_PROCESS_KEPT:
                _ONE_PER_PROCESS.popitem(last=False)
            _ONE_PER_PROCESS[key] = load()
        return _ONE_PER_PROCESS[key]


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
            f'{purpose} requires {top}, which is not installed: pip install "{DISTRIBUTION}[{extra}]"'
        ) from err


def moved_attribute(module: str, name: str, moved: dict):
    """The attribute ``name`` of ``module`` that moved elsewhere, with a ``FutureWarning``.

    The one mechanism behind every deprecated path: a module keeps a table ``moved`` of
    ``{old name: new module}`` (data, as timm's ``register_model_deprecations``) and its
    ``__getattr__`` calls this. The new module is imported only when an old name is used.

    Parameters
    ----------
    module : str
        The old module, ``__name__`` of the caller.
    name : str
        The attribute asked for.
    moved : dict
        Old attribute name -> the module that holds it now (under the same name, or under
        ``"module:new_name"``).

    Returns
    -------
    value : object

    Raises
    ------
    AttributeError
        When ``name`` is not in ``moved``.
    """
    if name not in moved:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    target, _, new_name = moved[name].partition(":")
    new_name = new_name or name
    warnings.warn(
        f"{module}.{name} moved to {target}.{new_name} in 0.3; the old path will be removed in 0.4",
        FutureWarning,
        stacklevel=3,
    )
    return getattr(importlib.import_module(target), new_name)


def moved_names(module: str, **elsewhere: str) -> dict:
    """The ``MOVED`` table of a module that moved whole: every public name of ``module`` (its
    ``__all__``), plus names that went ``elsewhere`` (name -> module).

    >>> moved_names("geoembed.core.errors")
    {'CheckpointError': 'geoembed.core.errors'}
    """
    table = dict.fromkeys(importlib.import_module(module).__all__, module)
    table.update(elsewhere)
    return table
