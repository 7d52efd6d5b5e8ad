"""Throughput of every registered encoder on 1M points (GeoCLIP on a subsample).

    python -m benchmarks.encoder_throughput [--points 1000000] [--geoclip-points 50000]

Each encoder is timed through ``transform`` (validation included) on the same random points,
uniform on the sphere. Results go to ``benchmarks/results/encoder_throughput.{md,json}``.
"""

from __future__ import annotations

import argparse
import time

import scipy.sparse as sp

from benchmarks._report import write_results
from benchmarks.encoder_speed import random_points
from geoembed import GeoEmbedder, list_encoders, make_encoder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument(
        "--geoclip-points",
        type=int,
        default=50_000,
        help="GeoCLIP is ~100x slower per point than the classic encoders; its rate is measured on this many",
    )
    args = parser.parse_args(argv)
    points = random_points(args.points, seed=1)
    rows = []
    encoders = [(name, make_encoder(name)) for name in list_encoders() if name != "geoclip"]
    encoders += [("geoclip (exact)", GeoEmbedder()), ("geoclip (fast)", GeoEmbedder(precision="fast"))]
    for name, encoder in encoders:
        n = args.geoclip_points if name.startswith("geoclip") else args.points
        encoder.fit(points[:10])
        encoder.transform(points[:1000])  # warm-up
        start = time.perf_counter()
        out = encoder.transform(points[:n])
        elapsed = time.perf_counter() - start
        size = out.data.nbytes if sp.issparse(out) else out.nbytes
        rows.append(
            {
                "encoder": name,
                "dimension": encoder.n_features_out_,
                "points timed": f"{n:,}",
                "points/s": f"{n / elapsed:,.0f}",
                "seconds per 1M": f"{elapsed * 1_000_000 / n:.2f}",
                "output": f"{'sparse ' if sp.issparse(out) else ''}{out.dtype} ({size / 2**20:,.0f} MiB)",
            }
        )
        del out
    write_results(
        "encoder_throughput",
        "Encoder throughput (transform, default parameters)",
        rows,
        ["encoder", "dimension", "points timed", "points/s", "seconds per 1M", "output"],
        [
            f"{args.points:,} random points uniform on the sphere for classic encoders; GeoCLIP timed on "
            f"{args.geoclip_points:,} of them (its seconds per 1M are extrapolated).",
            "Classic encoders compute in float64 NumPy on one core; GeoCLIP uses torch on all cores.",
        ],
    )


if __name__ == "__main__":
    main()
