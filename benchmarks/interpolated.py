"""GeoCLIP interpolated on a grid (``GeoEmbedder(interpolation_km=...)``): fidelity and speed.

    python -m benchmarks.interpolated [--part fidelity|speed|both] [--points 1000000]

Fidelity: on every location task of the held-out pool (both halves), the cosine of each
point's interpolated embedding to the exact one and the suite's linear probe on both
(spatially blocked 5-fold CV, the task's blocks, seed 0), at 1 km and 0.5 km.
Speed: ``GeoEmbedder.transform`` on the same points, exact (rate on a subsample: the exact
model costs the same per point however many there are) against interpolated on all of them,
for points inside one city, inside one US state and spread over the globe (the case where
interpolation cannot help), and a stream over one country measured against its projection.
Country streams: model evaluations of 100 million points over one country, counted with the node
cache's policy for the default ``interpolation_cache_gb`` and a larger one, in random order and
sorted by location, turned into hours at the rates measured in the same run. Writes
``benchmarks/results/interpolated.{md,json}`` (fidelity), ``interpolated_speed.{md,json}`` and
``interpolated_country.{md,json}`` (speed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.base import clone

from benchmarks._report import machine_info, write_results
from benchmarks.encoder_speed import cosine_rows
from geoembed import GeoEmbedder
from geoembed.core.geo import KM_PER_DEGREE, bilinear_grid_cells, equal_area_points, grid_node_keys
from geoembed.datasets.heldout import list_heldout_tasks, load_heldout_task
from geoembed.evaluation import evaluate
from geoembed.evaluation.probing import METRICS, embed_task

SPACINGS_KM = (1.0, 0.5)
MARGIN = 0.01

#: (name, south, west, north, east): the extents a user with many points has.
EXTENTS = [
    ("one city (Minneapolis, 30 x 30 km)", 44.84, -93.46, 45.11, -93.08),
    ("one state (Iowa, ~150,000 km2)", 40.38, -96.64, 43.50, -90.14),
]

#: The country of the 100-million-point streams (its bounding box, ~620,000 km2; Germany is ~357,000).
COUNTRY = ("Germany's bounding box", 47.27, 5.87, 55.06, 15.04)

#: The compact output the streams also time: nodes are then kept projected, 64 columns each.
COMPONENTS = 64


def fidelity():
    rows = []
    for half in ("development", "evaluation"):
        for name in list_heldout_tasks(half, group="location"):
            task = load_heldout_task(name)
            metric = METRICS[task.kind][0]
            exact, seconds = embed_task(GeoEmbedder(), task)
            base = evaluate(None, task, probe="linear", features=(exact, seconds))[metric]
            row = {"half": half, "task": name, "n": len(task.y), "metric": metric, "GeoCLIP exact": f"{base:.3f}"}
            for km in SPACINGS_KM:
                interpolated, seconds = embed_task(GeoEmbedder(interpolation_km=km), task)
                cos = cosine_rows(interpolated.astype(np.float64), exact.astype(np.float64))
                score = evaluate(None, task, probe="linear", features=(interpolated, seconds))[metric]
                row[f"{km:g} km: min cosine"] = f"{cos.min():.4f}"
                row[f"{km:g} km: Δ probe"] = f"{score - base:+.4f}"
            rows.append(row)
            print(row, flush=True)
    return rows


def _timed(encoder, points, repeats: int = 5, chunk_rows: int = 100_000):
    """Seconds to transform ``points`` in chunks of ``chunk_rows`` (as ``geoembed embed`` streams a
    file), each run by a fresh clone (an empty node cache): (median, fastest, slowest) of ``repeats``."""
    clone(encoder).fit(points[:10]).transform(points[:2000])  # warm-up: kernels and weights
    seconds = []
    for _ in range(repeats):
        fresh = clone(encoder).fit(points[:10])
        start = time.perf_counter()
        for first in range(0, len(points), chunk_rows):
            out = fresh.transform(points[first : first + chunk_rows])
            del out
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), min(seconds), max(seconds)


def _copy_bandwidth_gb_s() -> float:
    """Memory bandwidth of a plain 1 GiB copy (read + write), best of three."""
    source = np.ones(2**28, dtype=np.float32)
    target = np.empty_like(source)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best / 1e9


def speed(n_points: int, exact_points: int):
    rng = np.random.default_rng(0)
    sphere = equal_area_points(rng, n_points, -90.0, -180.0, 90.0, 180.0)
    cases = [(label, equal_area_points(rng, n_points, *box)) for label, *box in EXTENTS]
    cases.append(("the whole globe (uniform)", sphere))
    rows, exact_rates = [], {}
    for label, points in cases:
        exact = GeoEmbedder().fit(points[:10])
        exact_rates[label] = exact_rate = exact_points / _timed(exact, points[:exact_points], repeats=3)[0]
        for km in SPACINGS_KM:
            nodes, _, _ = bilinear_grid_cells(points[:, 0], points[:, 1], km / KM_PER_DEGREE)
            n = n_points if len(nodes) <= 4 * n_points // 10 else exact_points
            encoder = GeoEmbedder(interpolation_km=km).fit(points[:10])
            median, fastest, slowest = _timed(encoder, points[:n], repeats=5 if n == n_points else 3)
            rate = n / median
            rows.append(
                {
                    "points inside": label,
                    "spacing": f"{km:g} km",
                    "call": "chunks of 100,000",
                    "points": f"{n:,}",
                    "grid nodes touched": f"{len(nodes):,}" if n == n_points else "(4 per point)",
                    "exact points/s": f"{exact_rate:,.0f}",
                    "interpolated points/s": f"{rate:,.0f} ({n / slowest:,.0f} to {n / fastest:,.0f})",
                    "speed-up": f"{rate / exact_rate:.1f}x",
                }
            )
            print(rows[-1], flush=True)
    # a stream of chunks over one state: the first chunk computes the nodes, the next ones reuse them
    label, points = cases[1]
    chunks = np.array_split(points, 5)
    streams = {None: [], COMPONENTS: []}
    for _ in range(3):  # three streams of each, interleaved, each by a fresh transformer; the median one is kept
        for n_components, mine in streams.items():
            encoder = GeoEmbedder(interpolation_km=1.0, n_components=n_components).fit(points[:10])
            seconds = []
            for chunk in chunks:
                start = time.perf_counter()
                out = encoder.transform(chunk)
                seconds.append(time.perf_counter() - start)
                del out
            mine.append(seconds)
    seconds, seconds_projected = (sorted(streams[k], key=sum)[1] for k in (None, COMPONENTS))
    nodes, _, _ = bilinear_grid_cells(points[:, 0], points[:, 1], 1.0 / KM_PER_DEGREE)
    steady = sum(len(c) for c in chunks[1:]) / sum(seconds[1:])
    steady_projected = sum(len(c) for c in chunks[1:]) / sum(seconds_projected[1:])
    exact_rate = exact_rates[label]
    for what, n, rate in [
        (f"first of 5 chunks ({seconds[0]:.1f} s)", len(chunks[0]), len(chunks[0]) / seconds[0]),
        ("chunks 2-5, nodes cached", sum(len(c) for c in chunks[1:]), steady),
        ("all 5 chunks", len(points), len(points) / sum(seconds)),
        (f"chunks 2-5, nodes cached, n_components={COMPONENTS}", sum(len(c) for c in chunks[1:]), steady_projected),
    ]:
        rows.append(
            {
                "points inside": label,
                "spacing": "1 km",
                "call": what,
                "points": f"{n:,}",
                "grid nodes touched": f"{len(nodes):,}",
                "exact points/s": f"{exact_rate:,.0f}",
                "interpolated points/s": f"{rate:,.0f}",
                "speed-up": f"{rate / exact_rate:.1f}x",
            }
        )
        print(rows[-1], flush=True)
    # the country at 1 km, measured, against the count-based projection for the same points
    _, south, west, north, east = COUNTRY
    points = equal_area_points(rng, 2 * n_points, south, west, north, east)
    encoder = GeoEmbedder(interpolation_km=1.0).fit(points[:10])
    start = time.perf_counter()
    for chunk in np.array_split(points, 5):
        out = encoder.transform(chunk)
        del out
    measured = time.perf_counter() - start
    seen = np.empty(0, dtype=np.int64)
    for chunk in np.array_split(points, 5):
        keys = _grid_keys(chunk, 1.0)
        seen = np.union1d(seen, keys)
    predicted = len(seen) / exact_rate + len(points) / steady
    rows.append(
        {
            "points inside": COUNTRY[0],
            "spacing": "1 km",
            "call": f"5 chunks of {len(points) // 5:,}, measured ({measured:.0f} s; projected from the node count "
            f"and the state's rates: {predicted:.0f} s)",
            "points": f"{len(points):,}",
            "grid nodes touched": f"{len(seen):,}",
            "exact points/s": f"{exact_rate:,.0f}",
            "interpolated points/s": f"{len(points) / measured:,.0f}",
            "speed-up": f"{len(points) / measured / exact_rate:.1f}x",
        }
    )
    print(rows[-1], flush=True)
    streams = country_streams(exact_rate, {None: steady, COMPONENTS: steady_projected})
    hundred_million = seconds[0] + 1e8 / steady
    projection = (
        f"Projected from these rates, 100 million points inside the state at 1 km: {hundred_million / 60:,.0f} min "
        f"(the nodes once, then the cached rate) against {1e8 / exact_rate / 3600:,.1f} h exact "
        f"({1e8 / exact_rate / hundred_million:,.0f}x)."
    )
    return rows, projection, streams


def _grid_keys(points: np.ndarray, km: float) -> np.ndarray:
    """One int64 per grid node that ``points`` touch at ``km`` spacing, in the grid's order."""
    step = km / KM_PER_DEGREE
    nodes, _, _ = bilinear_grid_cells(points[:, 0], points[:, 1], step)
    return grid_node_keys(nodes, step)


def _stream_evaluations(km, cache_gb, chunks, chunk_rows, rng, *, sorted_rows=False, columns=512):
    """Model evaluations of a stream of ``chunks`` chunks over :data:`COUNTRY`, with the node cache's
    policy (each call computes the nodes it lacks and keeps as many as fit, in the order the grid
    lists them). Points uniform in area; ``sorted_rows``: the stream ordered by latitude (chunk c
    holds the c-th band), as rows sorted by location would be. Counts only, no model runs:
    (evaluations, the most nodes one call computed: rows it holds next to the cache while it runs).
    """
    _, south, west, north, east = COUNTRY
    limit = int(cache_gb * 2**30) // (columns * 4)
    cached = np.empty(0, dtype=np.int64)
    evaluations = most_computed = 0
    sin_edges = np.linspace(np.sin(np.radians(south)), np.sin(np.radians(north)), chunks + 1)
    for c in range(chunks):
        if sorted_rows:
            band = np.degrees(np.arcsin(sin_edges[c : c + 2]))
            points = equal_area_points(rng, chunk_rows, band[0], west, band[1], east)
        else:
            points = equal_area_points(rng, chunk_rows, south, west, north, east)
        keys = _grid_keys(points, km)
        new = keys[~np.isin(keys, cached, assume_unique=True)]
        evaluations += len(new)
        most_computed = max(most_computed, len(new))
        cached = np.concatenate([cached, new[: max(limit - len(cached), 0)]])
    return evaluations, most_computed


def country_streams(exact_rate: float, cached_rates: dict, chunks: int = 100, chunk_rows: int = 1_000_000):
    """100 million points over :data:`COUNTRY` in chunks of a million: model evaluations counted with the
    cache's policy, and the hours they imply at this run's exact and cached rates (``cached_rates``:
    n_components -> points/s)."""
    rng = np.random.default_rng(1)
    n = chunks * chunk_rows
    exact_hours = n / exact_rate / 3600
    rows = []
    cli_rows = 50_000  # geoembed embed's default --chunk-rows
    for km, cache_gb, sorted_rows, n_components, rows_per_chunk in [
        (1.0, 2.0, False, None, chunk_rows),
        (0.5, 2.0, False, None, chunk_rows),
        (0.5, 2.0, False, None, cli_rows),
        (0.5, 6.0, False, None, chunk_rows),
        (0.5, 8.0, False, None, chunk_rows),
        (0.5, 2.0, True, None, chunk_rows),
        (0.5, 2.0, False, COMPONENTS, chunk_rows),
    ]:
        start = time.perf_counter()
        n_chunks = n // rows_per_chunk
        columns = n_components or 512
        evaluations, most_computed = _stream_evaluations(
            km, cache_gb, n_chunks, rows_per_chunk, rng, sorted_rows=sorted_rows, columns=columns
        )
        hours = evaluations / exact_rate / 3600 + n / cached_rates[n_components] / 3600
        rows.append(
            {
                "points inside": COUNTRY[0],
                "spacing": f"{km:g} km",
                "call": f"{n_chunks:,} chunks of {rows_per_chunk:,}, "
                f"{'sorted by latitude' if sorted_rows else 'random order'}",
                "interpolation_cache_gb": f"{cache_gb:g}",
                "n_components": str(n_components),
                "model evaluations": f"{evaluations:,} ({evaluations / n:.3f} per point)",
                "projected hours": f"{hours:.2f} (exact: {exact_hours:.1f})",
                "largest call's computed nodes": f"{most_computed * columns * 4 / 2**30:.2f} GiB",
                "speed-up": f"{exact_hours / hours:.1f}x",
            }
        )
        print(rows[-1], f"{time.perf_counter() - start:.0f} s", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["fidelity", "speed", "both"], default="both")
    parser.add_argument("--points", type=int, default=1_000_000, help="points per extent for the speed part")
    parser.add_argument("--exact-points", type=int, default=40_000, help="points the exact model's rate is timed on")
    args = parser.parse_args(argv)
    info = machine_info()
    start = time.perf_counter()
    if args.part in ("fidelity", "both"):
        rows = fidelity()
        notes = []
        for half in ("development", "evaluation"):
            mine = [r for r in rows if r["half"] == half]
            for km in SPACINGS_KM:
                deltas = np.array([float(r[f"{km:g} km: Δ probe"]) for r in mine])
                cosines = np.array([float(r[f"{km:g} km: min cosine"]) for r in mine])
                notes.append(
                    f"{half} half, {km:g} km: probe within {MARGIN} of exact GeoCLIP on "
                    f"{int((deltas >= -MARGIN).sum())} of {len(mine)} tasks; Δ median {np.median(deltas):+.4f}, "
                    f"range {deltas.min():+.4f} to {deltas.max():+.4f}; lowest min cosine {cosines.min():.4f}."
                )
        notes.append(
            "Linear probe of the downstream suite (geoembed.evaluation.evaluate, probe='linear'), spatially "
            "blocked 5-fold CV with each task's blocks, seed 0; cosine of each point's interpolated embedding "
            f"to its exact one. Wall time {(time.perf_counter() - start) / 60:.1f} min."
        )
        columns = list(rows[0])
        write_results(
            "interpolated", "GeoCLIP interpolated on a grid: fidelity on the held-out pool", rows, columns, notes, info
        )
    if args.part in ("speed", "both"):
        bandwidth = _copy_bandwidth_gb_s()  # also touches 2 GiB, so that timings pay no first-touch cost
        rows, projection, streams = speed(args.points, args.exact_points)
        notes = [
            f"GeoEmbedder.transform on {args.points:,} points uniform in area inside each extent (exact: its rate "
            f"on the first {args.exact_points:,}, since it costs the same per point at any size; interpolated: on "
            f"all of them, unless the grid touches more than 0.4 nodes per point, then on {args.exact_points:,}). "
            "Interpolated: streamed in chunks of 100,000 rows, as `geoembed embed` does; the median of 5 runs (3 "
            "where each point needs its own nodes) "
            "by fresh transformers (empty node cache), with the slowest and fastest in brackets. The spread "
            "is this VM's memory: the first touch of fresh pages for the 200 MB outputs varies run to run "
            "(a plain 2 GB allocation and fill took 10.7 s once, then 0.24 s). Exact: median of 3 runs. "
            "The state stream: chunks of 200,000, the median of 3 streams (and of 3 with "
            f"n_components={COMPONENTS}, interleaved; their nodes are kept projected, 64 columns each).",
            "Interpolated cost = the exact model on each grid node touched + a gather of 4 rows of 512 floats per "
            f"point (8 KiB read, 2 KiB written). This run's plain-copy memory bandwidth: {bandwidth:.1f} GB/s, "
            f"so the gather alone allows about {bandwidth * 1e9 / 10240:,.0f} points/s.",
            "The exact model's share of its float32 GEMM limit is in encoder_speed.md; here the interpolated "
            "rate is bounded by the nodes (area / spacing^2) and by the gather's memory traffic.",
            projection,
        ]
        columns = list(rows[0])
        write_results(
            "interpolated_speed",
            "GeoCLIP interpolated on a grid: speed through GeoEmbedder.transform",
            rows,
            columns,
            notes,
            info,
        )
        write_results(
            "interpolated_country",
            "GeoCLIP interpolated on a grid: 100 million points inside one country",
            streams,
            list(streams[0]),
            [
                "Model evaluations of a stream of 100 million points (chunks of 1,000,000, uniform in area over "
                "the country's bounding box) counted with the node cache's policy: each call computes the nodes "
                "it lacks and keeps as many as fit in interpolation_cache_gb (2 KiB per node; 256 bytes with "
                f"n_components={COMPONENTS}, the nodes being kept projected). 'sorted by "
                "latitude': the same stream with rows ordered by location (chunk c holds the c-th band). No "
                "model runs here: hours = evaluations / the exact rate + points / the cached rate, both "
                "measured in this run (interpolated_speed.md, whose country row checks such a projection "
                "against a measured stream). 'largest call's computed nodes': the embeddings one call computes, "
                "held next to the cache while it runs (the cache keeps those that fit; the call gathers the "
                "others from where they were computed, without copying the nodes it touches).",
            ],
            info,
        )


if __name__ == "__main__":
    main()
