"""The user cache folder (gallery embeddings and other derived files)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(override: str | Path | None = None) -> Path:
    """The cache folder, created if possible.

    Parameters
    ----------
    override : str or Path, default=None
        Use this folder. Otherwise ``$GEOEMBED_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoembed``,
        else ``~/.cache/geoembed``.

    Returns
    -------
    pathlib.Path
        The folder. It is created (with its parents) when missing; when that fails (a
        read-only file system, no permission, a file in the way) the path is still returned,
        possibly not existing: callers that write there must handle ``OSError`` and decide how
        to fall back (e.g. compute in memory).
    """
    if override is not None:
        path = Path(override)
    elif os.environ.get("GEOEMBED_CACHE_DIR"):
        path = Path(os.environ["GEOEMBED_CACHE_DIR"])
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "geoembed"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # the caller finds out when it writes, and falls back
    return path
