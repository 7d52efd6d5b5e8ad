"""Deprecated: NUS-WIDE moved to :mod:`geoembed.benchmarks.nuswide` in 0.3 (this path goes in 0.4)."""

from __future__ import annotations

from geoembed.core.utils import moved_attribute

#: Every name of this module, and where it lives now.
MOVED = {
    name: "geoembed.benchmarks.nuswide"
    for name in ("NUSWide", "load_nuswide", "make_miniature_nuswide", "photo_id_from_path", "read_geotags")
}


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
