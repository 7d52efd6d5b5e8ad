"""Compute the PCA basis behind ``GeoEmbedder(n_components=k)`` and bundle it with the weights.

    python tools/make_pca_basis.py [--points 200000]

GeoCLIP's raw 512-d embeddings of a Fibonacci lattice on the sphere (deterministic and equal-area:
every region weighs by its area, no user data is involved, so the basis cannot leak a target)
are centred and decomposed in float64. Writes ``pca_basis.safetensors`` (``mean`` (512,),
``components`` (512, 512) rows by decreasing variance, ``explained_variance_ratio`` (512,))
into ``geoembed/models/weights/geoclip-1.3.0/`` atomically, with its provenance in the metadata, and
records its sha256 in ``PROVENANCE.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoembed.io.atomic import atomic_output  # noqa: E402
from geoembed.models.geoclip import load_location_encoder  # noqa: E402
from geoembed.models.weights import get_weights  # noqa: E402


def file_sha256(path) -> str:
    """The hex sha256 of a file (what the weights registry records)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fibonacci_lattice(n: int) -> np.ndarray:
    """``n`` (lat, lon) points in degrees, equal-area on the sphere (golden-angle spiral)."""
    i = np.arange(n) + 0.5
    lat = np.degrees(np.arcsin(1 - 2 * i / n))
    lon = (np.degrees(np.pi * (3 - np.sqrt(5)) * i) + 180) % 360 - 180
    return np.column_stack([lat, lon])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    latlon = fibonacci_lattice(args.points)
    encoder = load_location_encoder()
    embedding = np.concatenate(
        [encoder.embed(torch.tensor(latlon[i : i + 8192])).numpy() for i in range(0, len(latlon), 8192)]
    ).astype(np.float64)
    mean = embedding.mean(axis=0)
    covariance = np.cov(embedding - mean, rowvar=False)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0, None), vectors[:, order]
    # a deterministic sign: the largest-magnitude loading of each component is positive
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    components = (vectors * signs).T
    ratio = values / values.sum()
    entry = get_weights("geoclip-1.3.0")
    target = entry.directory / "pca_basis.safetensors"
    tensors = {
        "mean": torch.tensor(mean, dtype=torch.float32),
        "components": torch.tensor(components, dtype=torch.float32),
        "explained_variance_ratio": torch.tensor(ratio, dtype=torch.float32),
    }
    metadata = {
        "weights": entry.name,
        "sample": f"Fibonacci lattice, {args.points} points, equal-area",
        "precision": "exact (float32)",
        "command": f"python tools/make_pca_basis.py --points {args.points}",
    }
    with atomic_output(target) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    provenance_file = entry.directory / "PROVENANCE.json"
    provenance = json.loads(provenance_file.read_text())
    provenance["files"]["pca_basis.safetensors"] = file_sha256(target)
    provenance["pca_basis"] = metadata
    with atomic_output(provenance_file) as tmp:
        tmp.write_text(json.dumps(provenance, indent=2) + "\n")
    cumulative = np.cumsum(ratio)
    print(f"{args.points:,} points embedded and decomposed in {time.perf_counter() - start:.1f} s")
    for k in (8, 16, 32, 64, 128):
        print(f"k = {k:3d}: {100 * cumulative[k - 1]:.1f}% of the variance")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
