"""10M points through GeoEmbedder: one process vs a dask LocalCluster with 2 workers.

    python -m benchmarks.scale_10m [--points 10000000] [--precision exact fast] [--modes single cluster]

Both modes embed the same partitions of random points (uniform on the sphere, generated
per partition from a seed, so no input is shipped) and reduce each embedding to its column
sums, so the 20 GB of float32 output is never held at once:

- ``single``: a loop over partitions in one process (``GeoEmbedder.transform``);
- ``cluster``: ``GeoEmbedder.transform`` on a dask DataFrame (``dd.from_map``), then
  ``.sum().compute()`` on ``LocalCluster(n_workers=2, threads_per_worker=1)``.

Each configuration runs in a fresh child process. Peak memory is the largest sum of RSS
over that process and all its descendants (client, scheduler, nannies and workers),
sampled every 0.2 s. Both modes' column sums are compared as a correctness check.
Results go to ``benchmarks/results/scale_10m.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

import numpy as np

from benchmarks._report import write_results
from benchmarks.encoder_speed import random_points

PARTITION = 250_000


def make_partition(index: int, size: int):
    import pandas as pd

    latlon = random_points(size, seed=1_000 + index)
    return pd.DataFrame(
        latlon, columns=["lat", "lon"], index=pd.RangeIndex(index * PARTITION, index * PARTITION + size)
    )


def partition_sizes(points: int) -> list[int]:
    return [min(PARTITION, points - start) for start in range(0, points, PARTITION)]


def run_single(points: int, precision: str) -> dict:
    from geoembed import GeoEmbedder

    embedder = GeoEmbedder(precision=precision).fit(make_partition(0, 10))
    start = time.perf_counter()
    total = np.zeros(512)
    for index, size in enumerate(partition_sizes(points)):
        total += embedder.transform(make_partition(index, size)).sum(axis=0, dtype=np.float64)
    return {"seconds": time.perf_counter() - start, "sums": total.tolist()}


def _warm_worker(embedder) -> int:
    """Load the weights into this worker's cache; report its torch thread count."""
    import torch

    embedder.transform(make_partition(0, 10))
    return torch.get_num_threads()


def run_cluster(points: int, precision: str) -> dict:
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    from geoembed import GeoEmbedder

    sizes = partition_sizes(points)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        embedder = GeoEmbedder(precision=precision).fit(make_partition(0, 10))
        frame = dd.from_map(make_partition, range(len(sizes)), sizes, meta=make_partition(0, 0))
        threads = sorted(client.run(_warm_worker, embedder).values())
        start = time.perf_counter()
        total = embedder.transform(frame).sum().compute().to_numpy(dtype=np.float64)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "sums": total.tolist(), "torch_threads": threads}


def measure(mode: str, points: int, precision: str) -> dict:
    """Run one configuration in a child process; sample the RSS of its whole process tree."""
    import psutil

    command = [
        sys.executable,
        "-m",
        "benchmarks.scale_10m",
        "--child",
        mode,
        "--points",
        str(points),
        "--precision",
        precision,
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        parent = psutil.Process(child.pid)
        while not done.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    done.set()
    sampler.join()
    if child.returncode:
        raise SystemExit(f"{mode}/{precision} failed with exit code {child.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mib"] = peak / 2**20
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--precision", nargs="+", default=["exact", "fast"])
    parser.add_argument("--modes", nargs="+", default=["single", "cluster"])
    parser.add_argument("--child", choices=["single", "cluster"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run = run_single if args.child == "single" else run_cluster
        print(json.dumps(run(args.points, args.precision[0])))
        return
    rows, sums, worker_threads = [], {}, set()
    for precision in args.precision:
        for mode in args.modes:
            result = measure(mode, args.points, precision)
            sums[mode, precision] = np.asarray(result["sums"])
            worker_threads.update(result.get("torch_threads", []))
            rows.append(
                {
                    "precision": precision,
                    "mode": "one process" if mode == "single" else "LocalCluster, 2 workers x 1 thread",
                    "points": f"{args.points:,}",
                    "seconds": f"{result['seconds']:.0f}",
                    "points/s": f"{args.points / result['seconds']:,.0f}",
                    "peak RSS, all processes (MiB)": f"{result['peak_mib']:,.0f}",
                }
            )
            print(rows[-1], flush=True)
    notes = [
        f"Partitions of {PARTITION:,} points, each embedded and reduced to its 512 column sums.",
        "Seconds exclude process start, weight loading and cluster start-up.",
    ]
    if worker_threads:
        notes.append(f"torch threads per dask worker: {sorted(worker_threads)} (one process uses all cores).")
    for precision in args.precision:
        if ("single", precision) in sums and ("cluster", precision) in sums:
            a, b = sums["single", precision], sums["cluster", precision]
            notes.append(
                f"{precision}: column sums of one process and the cluster differ by at most "
                f"{np.max(np.abs(a - b) / np.maximum(np.abs(a), 1)):.1e} (relative)."
            )
    write_results(
        "scale_10m",
        f"GeoEmbedder on {args.points:,} points: one process vs dask LocalCluster",
        rows,
        ["precision", "mode", "points", "seconds", "points/s", "peak RSS, all processes (MiB)"],
        notes,
    )


if __name__ == "__main__":
    main()
