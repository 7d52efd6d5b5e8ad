"""Locating precomputed CLIP features against the 100K MP-16 gallery: ours vs the official loop.

    python -m benchmarks.retrieval_speed [--queries 1000] [--official-queries 2]

Ours: ``GeoLocator.predict_features`` on 1,000 feature vectors, with the gallery's location
embeddings cached on disk (the one-off build is timed separately). Official: what
``GeoCLIP.predict`` does per image after CLIP (image MLP, re-encoding all 100K gallery
coordinates, scoring, softmax, top-k), timed on a small sample because each call re-encodes
the gallery. CLIP itself is left out of both (its weights cannot be fetched here).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._report import write_results
from benchmarks.encoder_speed import load_official_location_encoder
from geoembed.models.weights import load_gps_gallery
from geoembed.retrieval import GeoLocator


def official_predict_loop(features: np.ndarray, top_k: int = 5):
    """The official per-image predict path after CLIP, with the official modules and weights."""
    import importlib.util

    official_encoder = load_official_location_encoder()
    if official_encoder is None:
        return None
    weights = Path(importlib.util.find_spec("geoclip").submodule_search_locations[0]) / "model" / "weights"
    mlp = torch.nn.Sequential(torch.nn.Linear(768, 768), torch.nn.ReLU(), torch.nn.Linear(768, 512))
    mlp.load_state_dict(torch.load(weights / "image_encoder_mlp_weights.pth", weights_only=True))
    logit_scale = torch.load(weights / "logit_scale_weights.pth", weights_only=True)
    gallery = torch.tensor(load_gps_gallery())
    results = []
    start = time.perf_counter()
    with torch.no_grad():
        for row in torch.tensor(features):
            image = torch.nn.functional.normalize(mlp(row[None]), dim=1)
            locations = torch.nn.functional.normalize(official_encoder(gallery), dim=1)
            probs = (logit_scale.exp() * image @ locations.T).softmax(dim=-1)
            results.append(torch.topk(probs, top_k, dim=1))
    return (time.perf_counter() - start) / len(features), results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--official-queries", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    golden = np.load(Path(__file__).resolve().parents[1] / "tests" / "golden" / "geoclip_retrieval.npz")
    base = golden["clip_features"]
    features = (base[rng.integers(0, len(base), args.queries)] + 0.1 * rng.normal(size=(args.queries, 768))).astype(
        np.float32
    )
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        locator = GeoLocator(cache_dir=cache)
        start = time.perf_counter()
        locator.gallery_embeddings()
        build = time.perf_counter() - start
        fresh = GeoLocator(cache_dir=cache)
        start = time.perf_counter()
        fresh.gallery_embeddings()
        load = time.perf_counter() - start
        fresh.predict_features(features[:16])  # warm-up
        locations = fresh.gallery_embeddings()
        queries = fresh._scaled_queries(torch.from_numpy(fresh.embed_features(features)))
        times, floor = [], []
        for _ in range(args.rounds):  # interleaved with the bare score GEMM, the floor for exact float32
            start = time.perf_counter()
            fresh.predict_features(features, top_k=5)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            with torch.inference_mode():
                queries @ locations.T
            floor.append(time.perf_counter() - start)
    ours = float(np.median(times))
    rows.append(
        {
            "implementation": "geoembed GeoLocator.predict_features",
            "queries": args.queries,
            "seconds": f"{ours:.3f} (best {min(times):.3f})",
            "ms per query": f"{1000 * ours / args.queries:.2f}",
        }
    )
    rows.append(
        {
            "implementation": f"floor: the float32 score GEMM alone ({args.queries} x 100K x 512)",
            "queries": args.queries,
            "seconds": f"{np.median(floor):.3f} (best {min(floor):.3f})",
            "ms per query": f"{1000 * np.median(floor) / args.queries:.2f}",
        }
    )
    official = official_predict_loop(features[: args.official_queries])
    if official is not None:
        per_query = official[0]
        rows.append(
            {
                "implementation": "official GeoCLIP.predict loop (after CLIP)",
                "queries": args.official_queries,
                "seconds": f"{per_query * args.official_queries:.1f}",
                "ms per query": f"{1000 * per_query:,.0f}",
                "speed-up": "1x",
            }
        )
        rows[0]["speed-up"] = f"{per_query / (ours / args.queries):,.0f}x"
    notes = [
        f"Gallery: 100,000 MP-16 coordinates. One-off cache build (exact, float32): {build:.1f} s; "
        f"loading the cache in a new locator: {load:.2f} s.",
        f"Ours: median (best) of {args.rounds} rounds, each followed by the bare GEMM for comparison.",
        "Features: perturbed copies of the golden CLIP stand-ins; CLIP ViT-L/14 is not run by either side.",
    ]
    write_results(
        "retrieval_speed",
        "Image-to-GPS retrieval from precomputed CLIP features",
        rows,
        ["implementation", "queries", "seconds", "ms per query", "speed-up"],
        notes,
    )


if __name__ == "__main__":
    main()
