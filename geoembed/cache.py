"""Moved to :mod:`geoembed.core.cache` in 0.3; this path warns and is removed in 0.4."""

from geoembed.core.utils import moved_attribute, moved_names

#: Every public name of this module, and where it lives now.
MOVED = moved_names("geoembed.core.cache")
__all__ = sorted(MOVED)


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
