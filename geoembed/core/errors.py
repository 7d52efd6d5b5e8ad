"""The package's own exceptions."""

from __future__ import annotations

__all__ = ["CheckpointError"]


class CheckpointError(ValueError):
    """A weights or checkpoint file cannot be used: missing, truncated, not safetensors, wrong or
    missing keys or shapes, missing or malformed metadata, or content that would need unpickling.

    The message names the file and what is wrong with it.
    """
