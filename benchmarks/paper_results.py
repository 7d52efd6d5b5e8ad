"""Published numbers that the benchmarks print beside their own.

The numbers live in the installed package, next to what prints them (``geoembed eval-geoloc``:
:mod:`geoembed.evaluation.published`; ``geoembed bench nuswide``: :mod:`geoembed.benchmarks.nuswide`);
they are re-exported here so that benchmark scripts find every paper number in one place.
"""

from __future__ import annotations

from geoembed.benchmarks.nuswide import NUSWIDE_MAP
from geoembed.evaluation.published import GEOCLIP_GEOLOCATION

__all__ = ["GEOCLIP_GEOLOCATION", "NUSWIDE_MAP"]
