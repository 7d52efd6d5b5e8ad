"""The bundled GeoCLIP release files, their provenance and loaders.

The files in ``geoclip-1.3.0/`` were produced by ``tools/convert_geoclip_weights.py`` from the
official PyPI wheel ``geoclip==1.3.0`` (MIT license, Vivanco Cepeda et al.). ``PROVENANCE.json``
records the sha256 of the wheel, of every source file and of every bundled file. Nothing here
touches the network and nothing is unpickled.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._utils import file_sha256

GEOCLIP_RELEASE = "geoclip-1.3.0"
WEIGHTS_DIR = Path(__file__).resolve().parent / GEOCLIP_RELEASE

LOCATION_ENCODER_FILE = WEIGHTS_DIR / "location_encoder.safetensors"
IMAGE_MLP_FILE = WEIGHTS_DIR / "image_mlp.safetensors"
GPS_GALLERY_FILE = WEIGHTS_DIR / "gps_gallery.npy"


def provenance() -> dict:
    """Source version, license and sha256 sums of the bundled files."""
    return json.loads((WEIGHTS_DIR / "PROVENANCE.json").read_text())


def verify_bundled_files() -> None:
    """Raise ``ValueError`` if a bundled file is missing or differs from PROVENANCE.json."""
    for name, expected in provenance()["files"].items():
        path = WEIGHTS_DIR / name
        if not path.is_file():
            raise ValueError(f"bundled file missing: {path}")
        actual = file_sha256(path)
        if actual != expected:
            raise ValueError(f"bundled file {path} is corrupt: sha256 {actual}, expected {expected}")


@lru_cache(maxsize=8)
def _load_location_encoder_cached(path: str, mtime_ns: int):
    from ..encoders.geoclip import GeoCLIPLocationEncoder

    return GeoCLIPLocationEncoder.from_checkpoint(path)


def load_location_encoder(path: str | Path | None = None):
    """The GeoCLIP location encoder in eval mode, on the CPU.

    Parameters
    ----------
    path : str or Path, default=None
        A checkpoint (our ``.safetensors`` or an official ``.pth`` state dict). ``None`` loads
        the bundled published weights. Loaded encoders are cached per file, so callers must
        not modify the returned module in place; use ``copy.deepcopy`` to fine-tune.
    """
    path = Path(path) if path is not None else LOCATION_ENCODER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return _load_location_encoder_cached(str(path.resolve()), path.stat().st_mtime_ns)


def load_image_mlp_state() -> dict:
    """The image MLP's state dict (``0.weight``, ``0.bias``, ``2.weight``, ``2.bias``) and
    ``logit_scale`` (a 0-d tensor; the released value is log(39.7))."""
    from safetensors.torch import load_file

    return load_file(str(IMAGE_MLP_FILE))


def load_gps_gallery() -> np.ndarray:
    """The 100K MP-16 GPS gallery, shape (100000, 2) float32, [lat, lon] in degrees."""
    return np.load(GPS_GALLERY_FILE, allow_pickle=False)
