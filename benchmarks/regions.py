"""Time per region of RegionEmbedder: 10,000 H3 cells (and the same cells as polygons), per encoder.

    python -m benchmarks.regions [--regions 10000] [--resolution 7] [--n-points 64]

The regions are a contiguous disk of H3 cells around Paris. Each row times ``fit_transform``
end to end (reading the ids or geometries, sampling ``n_points`` points uniform by area in each
region, encoding them, averaging); the sampling alone is timed on its own row. Results go to
``benchmarks/results/regions.{md,json}``.
"""

from __future__ import annotations

import argparse
import time

import h3
import numpy as np
import torch

from benchmarks._report import machine_info, write_results
from geoembed import RegionEmbedder

# (row name, RegionEmbedder parameters, points per region: None = --n-points). The exact GeoCLIP
# model runs at about 1,500 points/s on a 2-core CPU, so by default it gets fewer points per
# region here; its time per region scales linearly with the points.
ENCODERS = [
    ("geoclip (default)", dict(encoder="geoclip"), 16),
    ("geoclip-lite", dict(encoder="geoclip", weights="geoclip-lite"), None),
    ("sphereC+", dict(encoder="sphereC+"), None),
]


def h3_disk(n: int, resolution: int, lat: float = 48.8566, lon: float = 2.3522) -> list[str]:
    """``n`` contiguous cells around (lat, lon), sorted."""
    k = 0
    while 3 * k * (k + 1) + 1 < n:
        k += 1
    return sorted(h3.grid_disk(h3.latlng_to_cell(lat, lon, resolution), k))[:n]


def as_polygons(cells):
    import geopandas as gpd
    from shapely.geometry import Polygon

    rings = [Polygon([(b, a) for a, b in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoSeries(rings, crs="EPSG:4326")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=10_000)
    parser.add_argument("--resolution", type=int, default=7)
    parser.add_argument("--n-points", type=int, default=64)
    parser.add_argument("--output", default="regions", help="results file stem in benchmarks/results")
    args = parser.parse_args(argv)

    cells = h3_disk(args.regions, args.resolution)
    polygons = as_polygons(cells)
    n = len(cells)
    rows = []

    def add(what, inputs, seconds, width, per_region):
        rows.append(
            {
                "what": what,
                "input": inputs,
                "regions": n,
                "points per region": per_region,
                "seconds": round(seconds, 2),
                "ms per region": round(1000 * seconds / n, 3),
                "features": width,
            }
        )
        print(rows[-1], flush=True)

    sampler = RegionEmbedder("cartesian3d", n_points=args.n_points).fit(cells[:1])
    for label, regions in (("H3 ids", cells), ("polygons, EPSG:4326", polygons)):
        seconds, _ = timed(lambda regions=regions: sampler.sample(regions))
        add("sampling only", label, seconds, 0, args.n_points)
    for name, params, per_region in ENCODERS:
        per_region = per_region or args.n_points
        embedder = RegionEmbedder(n_points=per_region, **params)
        embedder.fit(cells[:1])  # loads the weights; not timed
        inputs = [("H3 ids", cells)] + ([("polygons, EPSG:4326", polygons)] if name == "sphereC+" else [])
        for label, regions in inputs:
            seconds, out = timed(lambda embedder=embedder, regions=regions: embedder.transform(regions))
            assert out.shape[0] == n and np.isfinite(out).all()
            add(name, label, seconds, out.shape[1], per_region)

    notes = [
        f"{n:,} H3 cells at resolution {args.resolution} (about {h3.average_hexagon_area(args.resolution, 'km^2'):.2f} "
        "km2 each); `transform` end to end (read, sample, encode, average) after a `fit` that loads the weights.",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads. Taken on a shared machine (other jobs "
        "running): treat the times as upper bounds.",
        "H3 cells are tested with `h3.latlng_to_cell` (one Python call per candidate point); polygons with "
        "`shapely.contains_xy`.",
    ]
    columns = ["what", "input", "regions", "points per region", "seconds", "ms per region", "features"]
    write_results(args.output, "RegionEmbedder: time per region", rows, columns, notes, machine_info())


if __name__ == "__main__":
    main()
