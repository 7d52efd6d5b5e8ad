"""How much GeoCLIP changes over a few km, and how much of that change a student reproduces.

    python -m benchmarks.local_detail [--student LABEL=WEIGHTS ...] [--anchors 20000] [--name local_detail]

Issue 26 asks for geoclip-lite at parity inside cities. This measures the quantity that decides
it: for anchor points where people take photos (the bundled MP-16 GPS gallery, a random subset)
and a partner point d km away in a random direction (exact on the WGS84 ellipsoid, pyproj), the
teacher's change ``t(x') - t(x)`` and each student's ``s(x') - s(x)``. Per distance it reports

- **teacher change**: the root mean square of ``|t(x') - t(x)|`` as a share of that of two
  random anchors (the embedding's global spread): how rough GeoCLIP is at that scale;
- per student, **change reproduced**: ``1 - mean |Δs - Δt|² / mean |Δt|²`` (1: every local
  difference of the teacher reproduced; 0: no better than a student that does not change there;
  below 0: changes that are not the teacher's), and the student's own change as a share of its
  spread.

A student is distilled with a mean squared error on the embeddings themselves; a difference
that is a large share of the spread at 1 km, and that a student does not reproduce, is detail a
linear probe inside one city can use and the student cannot give. Writes
``benchmarks/results/local_detail.{md,json}``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from pyproj import Geod

from benchmarks._report import machine_info, write_results
from geoembed import GeoEmbedder
from geoembed.models.weights import load_gps_gallery

DISTANCES_KM = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 100.0, 1000.0)


def partners(latlon: np.ndarray, distance_km: float, rng: np.random.Generator) -> np.ndarray:
    """Each point moved ``distance_km`` along the WGS84 ellipsoid in a uniformly random direction."""
    azimuth = rng.uniform(0.0, 360.0, len(latlon))
    lon, lat, _ = Geod(ellps="WGS84").fwd(
        latlon[:, 1], latlon[:, 0], azimuth, np.full(len(latlon), distance_km * 1000.0)
    )
    return np.column_stack([lat, lon])


def local_detail(encoders: dict, anchors: np.ndarray, distances=DISTANCES_KM, random_state: int = 0) -> list[dict]:
    """One row per distance: the teacher's (first encoder's) change as a share of its spread and,
    for every other encoder, the share of the teacher's changes it reproduces.
    """
    rng = np.random.default_rng(random_state)
    embed = {
        name: (lambda points, e=encoder: np.asarray(e.transform(points), dtype=np.float64))
        for name, encoder in encoders.items()
    }
    base = {name: f(anchors) for name, f in embed.items()}
    # two random anchors: the spread against which a local change is measured
    shuffled = rng.permutation(len(anchors))
    spread = {name: float(np.sqrt(np.mean(np.sum((v - v[shuffled]) ** 2, axis=1)))) for name, v in base.items()}
    teacher = next(iter(encoders))
    rows = []
    for distance in distances:
        moved = partners(anchors, distance, rng)
        change = {name: f(moved) - base[name] for name, f in embed.items()}
        t = change[teacher]
        t_power = float(np.mean(np.sum(t**2, axis=1)))
        row = {"distance_km": distance, f"{teacher} change": np.sqrt(t_power) / spread[teacher]}
        for name in encoders:
            if name == teacher:
                continue
            s = change[name]
            row[f"{name} change"] = float(np.sqrt(np.mean(np.sum(s**2, axis=1)))) / spread[name]
            row[f"{name} reproduces"] = 1.0 - float(np.mean(np.sum((s - t) ** 2, axis=1))) / t_power
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--student", nargs="*", default=["geoclip-lite"], help="LABEL=WEIGHTS (a registered name or a checkpoint)"
    )
    parser.add_argument("--anchors", type=int, default=20000, help="gallery points drawn as anchors")
    parser.add_argument("--name", default="local_detail", help="results file name")
    args = parser.parse_args(argv)
    info = machine_info()
    rng = np.random.default_rng(0)
    gallery = load_gps_gallery().astype(np.float64)
    anchors = gallery[rng.choice(len(gallery), size=min(args.anchors, len(gallery)), replace=False)]
    encoders = {"GeoCLIP": GeoEmbedder().fit(anchors)}
    for spec in args.student:
        label, _, weights = spec.rpartition("=")
        encoders[label or weights] = GeoEmbedder(weights=weights).fit(anchors)
    start = time.perf_counter()
    rows = local_detail(encoders, anchors)
    elapsed = time.perf_counter() - start
    columns = list(rows[0])
    table = [
        {
            k: (f"{v:g}" if k == "distance_km" else f"{v:+.3f}" if "reproduces" in k else f"{v:.3f}")
            for k, v in r.items()
        }
        for r in rows
    ]
    notes = [
        f"{len(anchors):,} anchors drawn (seed 0) from the bundled MP-16 GPS gallery (where photos are taken); "
        "each one's partner lies the given distance away in a uniformly random direction (WGS84, pyproj).",
        "'<encoder> change': root mean square of |e(partner) - e(anchor)| over that of two random anchors "
        "(the embedding's global spread).",
        "'<student> reproduces': 1 - mean |Δstudent - ΔGeoCLIP|² / mean |ΔGeoCLIP|², the share of GeoCLIP's local "
        "changes the student gives (0: no better than not changing; negative: changes that are not GeoCLIP's).",
        f"Wall time {elapsed:.0f} s.",
    ]
    write_results(args.name, "GeoCLIP's local detail and what a student reproduces of it", table, columns, notes, info)


if __name__ == "__main__":
    main()
