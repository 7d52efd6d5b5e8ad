"""How often LocationTargetEncoder keeps a location signal: the power of its no-signal rule.

    python -m benchmarks.skill_power [--draws 30]

Synthetic points over western Europe (the encoder tests' ``region``: uniform in 36-60 N, 10 W-20 E),
y = a * (a smooth pattern of latitude and longitude) + standard normal noise, for a few signal
strengths and table sizes. Each draw fits ``LocationTargetEncoder("cartesian3d", random_state=d)``
on a fresh noise draw and counts whether the signal was kept (``weights_`` not all zero) or the
encoder returned its constant (``skill_`` not significantly above zero). The signal share is the
pattern's part of y's variance. Results go to ``benchmarks/results/skill_power.{md,json}``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._report import machine_info, write_results
from geoembed.target_encoder import SKILL_Z, LocationTargetEncoder

SETTINGS = ((600, 0.0), (2000, 0.15), (1500, 0.3), (1500, 0.4))  # (rows, a)


def region(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"lat": rng.uniform(36, 60, n), "lon": rng.uniform(-10, 20, n)})
    smooth = np.sin(np.radians(frame["lat"] * 6)) + np.cos(np.radians(frame["lon"] * 8))
    return frame, smooth.to_numpy()


def kept_share(rows, a, draws) -> tuple[int, float]:
    frame, smooth = region(rows, seed=6)
    kept = 0
    for draw in range(draws):
        y = a * smooth + np.random.default_rng(1000 + draw).normal(size=rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the no-signal warning: counted here
            encoder = LocationTargetEncoder("cartesian3d", random_state=draw).fit(frame, y)
        kept += bool(encoder.weights_.sum() > 0)
    share = a * a * smooth.var() / (a * a * smooth.var() + 1.0)
    return kept, share


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=30)
    args = parser.parse_args(argv)
    start, rows = time.perf_counter(), []
    for n, a in SETTINGS:
        kept, share = kept_share(n, a, args.draws)
        rows.append(
            {
                "rows": f"{n:,}",
                "a": a,
                "signal share of y's variance": f"{share:.1%}",
                "kept": f"{kept} of {args.draws}",
            }
        )
        print(rows[-1], flush=True)
    notes = [
        "Rule: keep the location signal when the rows' paired out-of-fold gains over a constant give "
        f"z > {SKILL_Z:.3f} (one-sided 95%). Encoder: LocationTargetEncoder('cartesian3d', random_state=draw), "
        "default learners and folds.",
        f"Wall time {(time.perf_counter() - start) / 60:.1f} min.",
    ]
    write_results(
        "skill_power",
        "LocationTargetEncoder's no-signal rule: how often a signal is kept",
        rows,
        ["rows", "a", "signal share of y's variance", "kept"],
        notes,
        machine_info(probe_gemm=False),
    )


if __name__ == "__main__":
    main()
