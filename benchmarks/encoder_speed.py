"""GeoCLIP location-encoder throughput: the official release vs geoembed, in one run.

    python -m benchmarks.encoder_speed [--points 20000] [--repeats 3]

Both embed the same random points (uniform on the sphere). The official encoder gets its
best case: one call on all points under ``torch.no_grad()``. Ours is timed through the full
user path, ``GeoEmbedder.transform`` (validation, dedup, batching included).
Results go to ``benchmarks/results/encoder_speed.{md,json}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import types

import numpy as np
import torch

from benchmarks._report import write_results
from geoembed import GeoEmbedder

INSTALL_HINT = (
    "the official package is not installed; for the side-by-side numbers run\n"
    "    pip install --no-deps geoclip==1.3.0\n"
    "(its LocationEncoder needs only torch; the full `import geoclip` also needs transformers,\n"
    "torchvision, pillow, geopy and huggingface-hub, which this benchmark does not import)"
)


def load_official_location_encoder():
    """The official ``LocationEncoder`` with its bundled weights, or None if not installed.

    ``geoclip/__init__`` imports its image and training code (transformers, torchvision). The
    location encoder does not need them, so its module is imported under bare parent packages.
    """
    spec = importlib.util.find_spec("geoclip")
    if spec is None:
        return None
    root = spec.submodule_search_locations[0]
    saved = {name: sys.modules.get(name) for name in ("geoclip", "geoclip.model")}
    try:
        for name, path in (("geoclip", root), ("geoclip.model", f"{root}/model")):
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        from geoclip.model.location_encoder import LocationEncoder
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return LocationEncoder().eval()


def random_points(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    return np.column_stack([lat, lon])


def best_rate(fn, n_points: int, repeats: int) -> tuple[float, object]:
    """Best points/s over ``repeats`` timed calls, after one warm-up call on a slice."""
    result = None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return n_points / min(times), result


def cosine_rows(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--official-repeats", type=int, default=2)
    args = parser.parse_args(argv)

    points = random_points(args.points)
    rows, notes = [], []
    official_rate = official_out = None

    official = load_official_location_encoder()
    if official is None:
        print(INSTALL_HINT)
        notes.append("official geoclip not installed: ratios not measured")
    else:
        tensor = torch.tensor(points, dtype=torch.float32)
        with torch.no_grad():
            official(tensor[:256])  # warm-up
            official_rate, official_out = best_rate(
                lambda: official(tensor).numpy(), args.points, args.official_repeats
            )
        rows.append({"implementation": "official geoclip 1.3.0", "precision": "float32",
                     "points/s": f"{official_rate:,.0f}", "speed-up": "1.0x"})

    exact_out = None
    for precision in ("exact", "fast"):
        embedder = GeoEmbedder(precision=precision).fit(points[:10])
        embedder.transform(points[:2048])  # warm-up (weights, bf16 copies)
        rate, out = best_rate(lambda: embedder.transform(points), args.points, args.repeats)
        row = {"implementation": "geoembed GeoEmbedder", "precision": precision, "points/s": f"{rate:,.0f}"}
        if official_rate:
            row["speed-up"] = f"{rate / official_rate:.1f}x"
            row["max abs diff to official"] = f"{np.abs(out - official_out).max():.1e}"
        if precision == "exact":
            exact_out = out
        else:
            cos = cosine_rows(out, exact_out)
            row["min / mean cosine to exact"] = f"{cos.min():.6f} / {cos.mean():.6f}"
        rows.append(row)

    notes.append(f"{args.points:,} random points uniform on the sphere, batch of all points for the official "
                 "encoder, GeoEmbedder defaults otherwise; best of "
                 f"{args.official_repeats} (official) / {args.repeats} (ours) runs.")
    columns = ["implementation", "precision", "points/s", "speed-up", "max abs diff to official",
               "min / mean cosine to exact"]
    write_results("encoder_speed", "GeoCLIP location encoder throughput", rows, columns, notes)


if __name__ == "__main__":
    main()
