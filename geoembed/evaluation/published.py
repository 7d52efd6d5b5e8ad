"""Published reference numbers that the library prints beside its own results.

Only what the installed ``geoembed`` command needs lives here: ``geoembed eval-geoloc`` prints
GeoCLIP's published accuracies beside the run. Other papers' tables (NUS-WIDE mAP, ...) are in
the source checkout's ``benchmarks/paper_results.py``.
"""

from __future__ import annotations

__all__ = ["GEOCLIP_GEOLOCATION"]

#: Published GeoCLIP top-1 accuracies (%) at 1 / 25 / 200 / 750 / 2500 km
#: (:data:`geoembed.evaluation.geolocation.THRESHOLDS_KM`), by dataset and source.
GEOCLIP_GEOLOCATION = {
    "Im2GPS3k (GeoCLIP, NeurIPS 2023)": (14.11, 34.47, 50.65, 69.67, 83.82),
    "GWS15k (GeoCLIP, NeurIPS 2023)": (0.6, 3.1, 16.9, 45.7, 74.1),
    "YFCC4k (GeoCLIP, re-run by G3)": (9.59, 19.31, 32.63, 55.0, 74.69),
}
