"""Peak memory and time of ``geoembed embed`` on 1M (or 10M) random points.

    python -m benchmarks.cli_memory [--points 1000000] [--configs parquet-exact parquet-fast npy-fast16 ...]

Writes a parquet file of random points to a temporary folder, runs the CLI in a child
process per configuration and records its peak resident memory (ru_maxrss).
Results go to ``benchmarks/results/cli_memory.{md,json}`` (``cli_memory_10m`` for 10M points).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks._report import write_results
from benchmarks.encoder_speed import random_points

MEASURE = (
    "import resource, subprocess, sys; "
    "rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"
)


CONFIGS = {
    "parquet-exact": ("parquet", ["--precision", "exact"]),
    "parquet-fast": ("parquet", ["--precision", "fast"]),
    "npy-fast16": ("npy", ["--precision", "fast", "--dtype", "float16"]),
    "parquet-lite": ("parquet", ["--weights", "geoclip-lite"]),
    "npy-lite-fast16": ("npy", ["--weights", "geoclip-lite", "--precision", "fast", "--dtype", "float16"]),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    args = parser.parse_args(argv)
    configs = [CONFIGS[name] for name in args.configs]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "points.parquet"
        latlon = random_points(args.points, seed=2)
        pd.DataFrame({"id": range(args.points), "lat": latlon[:, 0], "lon": latlon[:, 1]}).to_parquet(
            src, row_group_size=100_000
        )
        for fmt, options in configs:
            out = Path(tmp) / f"out.{fmt}"
            command = [sys.executable, "-m", "geoembed.cli", "embed", str(src), "-o", str(out), "-q", *options]
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if result.returncode:
                raise SystemExit(result.stderr)
            peak_mib = int(result.stdout.strip().splitlines()[-1]) / 1024
            rows.append(
                {
                    "output": fmt,
                    "options": " ".join(options),
                    "points": f"{args.points:,}",
                    "seconds": f"{elapsed:.1f}",
                    "points/s": f"{args.points / elapsed:,.0f}",
                    "peak RSS (MiB)": f"{peak_mib:,.0f}",
                    "output size (MiB)": f"{out.stat().st_size / 2**20:,.0f}",
                }
            )
            out.unlink()
    millions = f"{args.points / 1e6:g}M"
    write_results(
        "cli_memory" if args.points == 1_000_000 else f"cli_memory_{millions.lower()}",
        f"geoembed embed: {millions} points, peak memory",
        rows,
        ["output", "options", "points", "seconds", "points/s", "peak RSS (MiB)", "output size (MiB)"],
        [
            "Input: parquet with id, lat, lon (row groups of 100,000); default --chunk-rows 50,000; "
            "wall time includes interpreter start and weight loading."
        ],
    )


if __name__ == "__main__":
    main()
