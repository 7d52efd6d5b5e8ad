"""Published numbers that the benchmarks print beside their own.

The GeoCLIP geolocation accuracies stay in the library (:mod:`geoembed.evaluation.published`)
because the installed ``geoembed eval-geoloc`` prints them; they are re-exported here so that
benchmarks find every paper number in one place.
"""

from __future__ import annotations

from geoembed.evaluation.published import GEOCLIP_GEOLOCATION

__all__ = ["GEOCLIP_GEOLOCATION", "NUSWIDE_MAP"]

#: mAP in GeoCLIP's NUS-WIDE table (GPS2Vec's protocol), by feature set ("V": visual features).
NUSWIDE_MAP = {
    "V": 0.234,
    "OneHot": 0.066,
    "GPS2Vec": 0.182,
    "GPS2Vec+": 0.210,
    "GeoCLIP": 0.249,
    "OneHot + V": 0.238,
    "GPS2Vec + V": 0.300,
    "GPS2Vec+ + V": 0.348,
    "GeoCLIP + V": 0.362,
}
