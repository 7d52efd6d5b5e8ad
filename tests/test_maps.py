import numpy as np
import pytest

pytest.importorskip("matplotlib")

from geoembed.maps import land_fraction, plot_points


def test_land_mask_is_earth_like():
    land = land_fraction()
    assert land.shape == (360, 720)
    assert 0.25 < float(land.mean()) < 0.4  # ~29% of the surface is land, more per cell near the poles
    assert land.sel(lat=0.25, lon=20.25, method="nearest") > 0.9  # central Africa
    assert land.sel(lat=0.25, lon=-150.25, method="nearest") < 0.1  # Pacific
    assert land.sel(lat=-85.25, lon=0.25, method="nearest") > 0.9  # Antarctica


def test_plot_points_writes_a_nonconstant_png(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-80, 80, 500), rng.uniform(-180, 180, 500)
    path = tmp_path / "map.png"
    plot_points(lat, lon, lat, path=path, title="test")
    image = np.asarray(Image.open(path).convert("RGB"))
    assert path.stat().st_size > 10_000 and image.shape[1] > image.shape[0] > 200
    assert image.std() > 10
