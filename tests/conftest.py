from pathlib import Path

import numpy as np
import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def golden_location():
    """Outputs of the official geoclip==1.3.0 LocationEncoder (see golden/README.md)."""
    data = np.load(GOLDEN_DIR / "geoclip_location_encoder.npz")
    return data["latlon"], data["embedding"]


@pytest.fixture(scope="session")
def random_latlon():
    rng = np.random.default_rng(42)
    n = 3000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    return np.column_stack([lat, lon])
