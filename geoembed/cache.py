"""The user cache folder (gallery embeddings and other derived files)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(override: str | Path | None = None) -> Path:
    """``override``, else ``$GEOEMBED_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoembed`` (``~/.cache/geoembed``)."""
    if override is not None:
        path = Path(override)
    elif os.environ.get("GEOEMBED_CACHE_DIR"):
        path = Path(os.environ["GEOEMBED_CACHE_DIR"])
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "geoembed"
    path.mkdir(parents=True, exist_ok=True)
    return path
