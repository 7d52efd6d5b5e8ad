"""Bundle a distilled student (from ``geoembed distill``) as the registered weights ``geoclip-lite``.

    geoembed distill --out runs/lite              # reproduces the bundled student (see its metadata)
    python tools/bundle_student.py runs/lite      # copies it into geoembed/models/weights/geoclip-lite/

Writes ``location_encoder.safetensors`` (the student, its provenance in the metadata: teacher,
data, seed, command), ``pca_basis.safetensors`` (the student's PCA basis that ``geoembed
distill`` wrote next to it, checked to record the student's sha256), ``LICENSE`` (the teacher's:
the student is derived from MIT-licensed weights) and ``PROVENANCE.json`` (sha256 of every file,
the run's history), each atomically.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoembed.core.utils import file_sha256  # noqa: E402
from geoembed.encoders.geoclip import GeoCLIPLocationEncoder  # noqa: E402
from geoembed.io.atomic import atomic_output  # noqa: E402
from geoembed.models.pca_basis import PCA_BASIS_FILE, load_checkpoint_pca_basis, pca_basis_path  # noqa: E402
from geoembed.models.weights import get_weights  # noqa: E402

FILES = ("location_encoder.safetensors", PCA_BASIS_FILE, "LICENSE")


TARGET = ROOT / "geoembed" / "models" / "weights" / "geoclip-lite"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a geoembed distill output folder")
    args = parser.parse_args(argv)
    run = Path(args.run)
    student = run / "location_encoder.safetensors"
    GeoCLIPLocationEncoder.from_checkpoint(student)  # refuses anything that is not a valid checkpoint
    load_checkpoint_pca_basis(student, parameter="bundling")  # refuses a missing basis or another checkpoint's
    from safetensors import safe_open

    with safe_open(str(student), framework="pt") as f:
        metadata = f.metadata()
    with safe_open(str(pca_basis_path(student)), framework="numpy") as f:
        basis_metadata = {"weights": "geoclip-lite", **f.metadata()}
    TARGET.mkdir(exist_ok=True)
    for source, name in (
        (student, "location_encoder.safetensors"),
        (pca_basis_path(student), PCA_BASIS_FILE),
        (get_weights("geoclip-1.3.0").path("license"), "LICENSE"),
    ):
        with atomic_output(TARGET / name) as tmp:
            shutil.copyfile(source, tmp)
    history = json.loads((run / "history.json").read_text())
    provenance = {
        "source": "distilled from geoclip-1.3.0 by geoembed distill",
        "source_license": "MIT (derived from the GeoCLIP weights; see LICENSE in this folder)",
        "teacher": metadata.get("teacher"),
        "data": metadata.get("data"),
        "places": metadata.get("places"),
        "random_state": metadata.get("random_state"),
        "command": "geoembed distill --out runs/lite && python tools/bundle_student.py runs/lite",
        "distill_config": json.loads(metadata.get("distill_config", "{}")),
        "final_epoch": history[-1] if history else None,
        "files": {name: file_sha256(TARGET / name) for name in FILES},
        "pca_basis": basis_metadata,
    }
    with atomic_output(TARGET / "PROVENANCE.json") as tmp:
        tmp.write_text(json.dumps(provenance, indent=2) + "\n")
    size = (TARGET / "location_encoder.safetensors").stat().st_size
    print(f"bundled {student} ({size / 2**20:.2f} MiB) into {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
