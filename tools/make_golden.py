"""Regenerate the golden outputs in tests/golden/ from the official GeoCLIP release.

    pip download --no-deps geoclip==1.3.0 -d /tmp/geoclip && pip install --no-deps /tmp/geoclip/geoclip-1.3.0-*.whl
    python tools/make_golden.py            # recompute the outputs for the stored inputs, report the change
    python tools/make_golden.py --write    # and overwrite tests/golden/*.npz (atomically)
    python tools/make_golden.py --new-inputs --write   # fresh inputs (edge cases + seeded random points)

Only the official package's own modules and weight files are used: its ``LocationEncoder``
(imported without the CLIP/transformers part, see ``benchmarks/encoder_speed.py``), its image
MLP and logit scale state dicts (loaded with ``weights_only=True``) and its gallery CSV. The
golden files depend on the CPU that computes them at the ~1e-5 level (the sigma = 256
branch's float32 Fourier angles); the stored files were made on an Intel Xeon.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
sys.path.insert(0, str(ROOT))

# poles, (0, 0), the antimeridian from both sides, a hair from the poles and the antimeridian, big cities
EDGE_CASES = [
    (90.0, 0.0),
    (-90.0, 0.0),
    (0.0, 0.0),
    (0.0, 180.0),
    (0.0, -180.0),
    (89.999, 179.999),
    (-89.999, -179.999),
    (45.0, 180.0),
    (45.0, -180.0),
    (1e-7, -1e-7),
    (51.5074, -0.1278),
    (40.7128, -74.006),
    (-33.8688, 151.2093),
    (29.9792, 31.1342),
    (35.6762, 139.6503),
    (-22.9068, -43.1729),
]


def official_modules():
    """(LocationEncoder, image MLP, logit scale, gallery (100000, 2) float32) of geoclip==1.3.0."""
    from benchmarks.encoder_speed import INSTALL_HINT, load_official_location_encoder

    encoder = load_official_location_encoder()
    if encoder is None:
        sys.exit(INSTALL_HINT)
    import pandas as pd

    root = Path(importlib.util.find_spec("geoclip").submodule_search_locations[0]) / "model"
    mlp = torch.nn.Sequential(torch.nn.Linear(768, 768), torch.nn.ReLU(), torch.nn.Linear(768, 512))
    mlp.load_state_dict(torch.load(root / "weights" / "image_encoder_mlp_weights.pth", weights_only=True))
    logit_scale = torch.load(root / "weights" / "logit_scale_weights.pth", weights_only=True)
    csv = pd.read_csv(root / "gps_gallery" / "coordinates_100K.csv")
    gallery = torch.tensor(csv[["LAT", "LON"]].to_numpy(), dtype=torch.float32)
    return encoder.eval(), mlp.eval(), logit_scale, gallery


def new_inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 256 - len(EDGE_CASES)
    uniform = np.column_stack([np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)])
    latlon = np.vstack([np.array(EDGE_CASES), uniform])
    clip_features = rng.normal(size=(16, 768)).astype(np.float32)
    return latlon, clip_features


@torch.no_grad()
def compute(latlon: np.ndarray, clip_features: np.ndarray) -> tuple[dict, dict]:
    encoder, mlp, logit_scale, gallery = official_modules()
    location = {"latlon": latlon, "embedding": encoder(torch.tensor(latlon, dtype=torch.float32)).numpy()}
    images = torch.nn.functional.normalize(mlp(torch.from_numpy(clip_features)), dim=1)
    places = torch.nn.functional.normalize(encoder(gallery), dim=1)
    probs = (logit_scale.exp() * images @ places.T).softmax(dim=-1)
    top = torch.topk(probs, 5, dim=1)
    retrieval = {
        "clip_features": clip_features,
        "top5_index": top.indices.numpy(),
        "top5_prob": top.values.numpy(),
        "top5_latlon": gallery[top.indices].numpy(),
    }
    return location, retrieval


def save_atomically(path: Path, arrays: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp.npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-inputs", action="store_true", help="draw new inputs instead of the stored ones")
    parser.add_argument("--write", action="store_true", help="overwrite tests/golden/*.npz")
    args = parser.parse_args(argv)
    location_file, retrieval_file = GOLDEN / "geoclip_location_encoder.npz", GOLDEN / "geoclip_retrieval.npz"
    if args.new_inputs or not location_file.exists():
        latlon, clip_features = new_inputs()
    else:
        latlon, clip_features = np.load(location_file)["latlon"], np.load(retrieval_file)["clip_features"]
    location, retrieval = compute(latlon, clip_features)
    if location_file.exists() and not args.new_inputs:
        stored = np.load(location_file)["embedding"]
        stored_probs = np.load(retrieval_file)["top5_prob"]
        print(f"location embedding: max abs change {np.abs(location['embedding'] - stored).max():.2e}")
        print(f"top-5 probabilities: max relative change {np.abs(retrieval['top5_prob'] / stored_probs - 1).max():.2e}")
    if args.write:
        save_atomically(location_file, location)
        save_atomically(retrieval_file, retrieval)
        print(f"wrote {location_file} and {retrieval_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
