"""Compute the PCA basis behind ``GeoEmbedder(n_components=k)`` and bundle it with the weights.

    python tools/make_pca_basis.py [--weights geoclip-1.3.0] [--points 200000]
    python tools/make_pca_basis.py --weights geoclip-lite
    python tools/make_pca_basis.py --weights runs/lite/location_encoder.safetensors

The weights' own raw embeddings of a Fibonacci lattice on the sphere (deterministic and
equal-area: every region weighs by its area, no user data is involved, so the basis cannot leak
a target) are centred and decomposed in float64 (:func:`geoembed.models.pca_basis.compute_pca_basis`,
the function ``geoembed distill`` uses too). Writes ``pca_basis.safetensors`` (``mean`` (d,),
``components`` (d, d) rows by decreasing variance, ``explained_variance_ratio`` (d,)) atomically,
with its provenance in the metadata (the command, and the sha256 of the checkpoint it was computed
from): for registered weights into their folder, recording its sha256 in ``PROVENANCE.json``; for
a checkpoint path next to the checkpoint, where ``n_components`` looks for it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoembed.core.utils import file_sha256  # noqa: E402
from geoembed.io.atomic import atomic_output  # noqa: E402
from geoembed.models.pca_basis import DEFAULT_LATTICE_POINTS, PCA_BASIS_FILE, write_pca_basis  # noqa: E402
from geoembed.models.weights import list_weights, resolve_weights  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="geoclip-1.3.0", help="a registered name or a checkpoint path")
    parser.add_argument("--points", type=int, default=DEFAULT_LATTICE_POINTS)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    resolved = resolve_weights(args.weights)
    entry = resolved.entry if args.weights in list_weights() else None
    command = f"python tools/make_pca_basis.py --weights {args.weights} --points {args.points}"
    target = entry.directory / PCA_BASIS_FILE if entry is not None else None
    target = write_pca_basis(resolved.path, target, n_points=args.points, command=command)
    if entry is not None:
        from safetensors import safe_open

        with safe_open(str(target), framework="numpy") as f:
            metadata = {"weights": entry.name, **f.metadata()}
        provenance_file = entry.directory / "PROVENANCE.json"
        provenance = json.loads(provenance_file.read_text())
        provenance["files"][PCA_BASIS_FILE] = file_sha256(target)
        provenance["pca_basis"] = metadata
        with atomic_output(provenance_file) as tmp:
            tmp.write_text(json.dumps(provenance, indent=2) + "\n")
    cumulative = np.cumsum(load_file(str(target))["explained_variance_ratio"].astype(np.float64))
    print(f"{args.points:,} points embedded and decomposed in {time.perf_counter() - start:.1f} s")
    for k in (8, 16, 32, 64, 128, 256):
        print(f"k = {k:3d}: {100 * cumulative[k - 1]:.1f}% of the variance")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
