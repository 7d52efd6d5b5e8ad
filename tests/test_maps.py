import numpy as np
import pytest

pytest.importorskip("matplotlib")

from geoembed.core.geo import BoundingBox
from geoembed.maps import draw_coastlines, land_fraction, plot_points, plot_rgb_grid


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


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
    assert listing(tmp_path) == ["map.png"]  # written atomically: no temporary file left


def test_plot_points_bbox_sets_the_view_in_south_west_north_east_order():
    ax = plot_points([45.0], [5.0], bbox=(40, -5, 50, 15))
    assert ax.get_xlim() == (-5, 15) and ax.get_ylim() == (40, 50)
    ax = plot_points([45.0], [5.0], bbox=BoundingBox(40, -5, 50, 15))
    assert ax.get_xlim() == (-5, 15)
    with pytest.raises(ValueError, match="south < north"):
        plot_points([45.0], [5.0], bbox=(50, -5, 40, 15))


def test_plot_points_across_the_antimeridian():
    ax = plot_points([-15.0, -15.0], [175.0, -175.0], bbox=(-30, 160, 0, -160))
    assert ax.get_xlim() == (160, 200)  # eastwards from west, past 180
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], [175, 185])
    labels = [ax.xaxis.get_major_formatter()(x, None) for x in (170, 180, 190)]
    assert labels == ["170", "180", "-170"]


def test_coastlines_across_the_antimeridian_continue_past_180():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    draw_coastlines(ax, bbox=(55, 160, 75, -160))  # Chukotka and Alaska
    x = np.concatenate([path.vertices[:, 0] for c in ax.collections for path in c.get_paths()])
    assert x.size and x.min() < 180 < x.max() <= 201
    assert np.any(x > 190)  # Alaska's coast west of -170 drawn at lon + 360


def test_plot_rgb_grid_across_the_antimeridian(tmp_path):
    lat, lon = np.array([-5.0, 5.0]), np.array([165.0, 175.0, -175.0, -165.0])
    rgb = np.random.default_rng(1).uniform(size=(2, 4, 3))
    ax = plot_rgb_grid(rgb, lat, lon, path=tmp_path / "grid.png")
    assert ax.get_xlim() == (160, 200) and ax.get_ylim() == (-10, 10)
    assert ax.images[0].get_extent() == [160, 200, -10, 10]
    assert listing(tmp_path) == ["grid.png"]


def test_failed_save_leaves_no_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def write_half_then_fail(self, fname, **kwargs):
        open(fname, "wb").write(b"\x89PNG half")
        raise KeyboardInterrupt

    (tmp_path / "old.png").write_bytes(b"old")
    monkeypatch.setattr(Figure, "savefig", write_half_then_fail)
    for name in ("new.png", "old.png"):
        with pytest.raises(KeyboardInterrupt):
            plot_points([0.0], [0.0], path=tmp_path / name)
    assert listing(tmp_path) == ["old.png"] and (tmp_path / "old.png").read_bytes() == b"old"
