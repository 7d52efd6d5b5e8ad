"""Downstream task loaders and the evaluation protocols (probes, spatial folds, geolocation summary)."""

import importlib
import re
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from geoembed import make_encoder
from geoembed.datasets import DownstreamTask, list_tasks, load_task
from geoembed.evaluation import (
    GEOCLIP_GEOLOCATION,
    compare_encoders,
    evaluate,
    evaluate_geolocation,
    make_probe,
    spatial_block_folds,
)


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    return tmp_path_factory.mktemp("datasets")


@pytest.mark.parametrize("name", list_tasks())
def test_loaders_give_valid_tasks(name, data_home):
    task = load_task(name, n_samples=300, cache_dir=data_home)
    expected_n = {"ames_location": 2930, "ames_added": 2930, "sacramento_added": 932, "quakes_added": 1000}
    assert len(task) == len(task.frame) == expected_n.get(name, 300)
    assert task.frame["lat"].between(-90, 90).all() and task.frame["lon"].between(-180, 180).all()
    assert "==" in task.source and task.kind in ("classification", "regression")
    if task.kind == "regression":
        assert np.isfinite(task.y).all()
    assert bool(task.extra_features) == name.endswith("_added")
    assert set(task.extra_features) <= set(task.frame.columns) and np.isfinite(task.frame.to_numpy(float)).all()
    again = load_task(name, n_samples=300, cache_dir=data_home)
    pd.testing.assert_frame_equal(again.frame, task.frame)  # reproducible sample


def test_loader_contents_are_plausible(data_home):
    koppen5 = load_task("koppen5", n_samples=2000, cache_dir=data_home)
    assert set(koppen5.y) <= set("ABCDE") and len(set(koppen5.y)) == 5
    assert len(set(load_task("koppen30", n_samples=5000, cache_dir=data_home).y)) >= 25
    land = load_task("land_ocean", n_samples=4000, cache_dir=data_home)
    assert 0.24 < np.mean(land.y == "land") < 0.34  # ~29% of the sphere is land
    elevation = load_task("elevation", n_samples=2000, cache_dir=data_home)
    assert elevation.y.min() >= -450 and 4000 < elevation.y.max() <= 6700
    temperature = load_task("temperature", n_samples=2000, cache_dir=data_home)
    assert -30 < temperature.y.min() and temperature.y.max() < 35
    warm = temperature.y[np.abs(temperature.frame["lat"]) < 15].mean()
    cold = temperature.y[np.abs(temperature.frame["lat"]) > 60].mean()
    assert warm > cold + 20
    ames = load_task("ames_added", cache_dir=data_home)
    assert 4.5 < ames.y.mean() < 5.5 and ames.frame["lat"].between(41.9, 42.1).all()
    assert len(ames.extra_features) == 10
    sacramento = load_task("sacramento_added", cache_dir=data_home)
    assert 4.5 < sacramento.y.mean() < 6 and sacramento.frame["lat"].between(38, 39.1).all()
    assert sacramento.frame[["condo", "multi_family"]].isin([0.0, 1.0]).all().all()
    quakes = load_task("quakes_added", cache_dir=data_home)
    assert 4 <= quakes.y.min() and quakes.y.max() <= 6.5  # Richter magnitudes of the Fiji catalogue
    # Fiji straddles the antimeridian: the source's longitudes up to 188 are wrapped to [-180, 180)
    assert quakes.frame["lon"].between(-180, 180).all() and (quakes.frame["lon"] < -170).any()
    storms = load_task("storms_added", n_samples=2000, cache_dir=data_home)
    wind, pressure = storms.y, storms.frame["pressure"].to_numpy()
    assert np.corrcoef(wind, pressure)[0, 1] < -0.8  # lower central pressure, stronger wind
    stops = load_task("mpls_stops_added", n_samples=2000, cache_dir=data_home)
    assert set(stops.y) == {"suspicious", "traffic"} and stops.frame["lat"].between(44.8, 45.1).all()


def test_task_data_is_cached_with_source_version(tmp_path):
    from geoembed.datasets.downstream import cached_table

    calls = []

    def build():
        calls.append(1)
        return pd.DataFrame({"lat": [1.0, 2.0], "lon": [3.0, 4.0]})

    first = cached_table("demo", "somepkg", "1.2.3", build, tmp_path)
    second = cached_table("demo", "somepkg", "1.2.3", build, tmp_path)
    assert calls == [1]
    pd.testing.assert_frame_equal(first, second)
    assert (tmp_path / "datasets" / "demo-somepkg-1.2.3.parquet").exists()
    cached_table("demo", "somepkg", "1.2.4", build, tmp_path)  # a new package version rebuilds
    assert calls == [1, 1]
    assert not [p for p in (tmp_path / "datasets").iterdir() if ".tmp" in p.name]  # no temporaries left


def test_unwritable_cache_still_returns_the_data(tmp_path):
    from geoembed.datasets.downstream import cached_table

    blocked = tmp_path / "file-not-folder"
    blocked.write_text("a file where the cache folder should be")
    frame = pd.DataFrame({"lat": [1.0], "lon": [2.0]})
    with pytest.warns(UserWarning, match="could not cache the demo data"):
        out = cached_table("demo", "somepkg", "1.0", lambda: frame, blocked)
    pd.testing.assert_frame_equal(out, frame)


def test_unknown_task():
    with pytest.raises(ValueError, match="unknown task 'nope'; available"):
        load_task("nope")


def test_spatial_block_folds_do_not_leak():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-60, 60, 2000), rng.uniform(-180, 180, 2000)
    folds = spatial_block_folds(lat, lon, block_size_deg=10, n_splits=5)
    blocks = np.floor((lat + 90) / 10) * 1000 + np.floor((lon + 180) / 10)
    seen = np.zeros(2000, dtype=int)
    for train, test in folds:
        assert not set(blocks[train]) & set(blocks[test])
        seen[test] += 1
    assert (seen == 1).all()
    with pytest.raises(ValueError, match="occupy only 1 spatial blocks"):
        spatial_block_folds(lat[:3] * 0, lon[:3] * 0, block_size_deg=10, n_splits=5)


def _synthetic(kind):
    rng = np.random.default_rng(1)
    lat, lon = np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, 1500))), rng.uniform(-180, 180, 1500)
    frame = pd.DataFrame({"lat": lat, "lon": lon})
    signal = np.sin(np.radians(lat)) + 0.5 * np.cos(np.radians(lat)) * np.cos(np.radians(lon))
    y = signal if kind == "regression" else np.where(signal > 0, "north", "south")
    return DownstreamTask("synthetic", kind, frame, y, "test", "smooth function of location")


def test_probes_learn_a_smooth_function_of_location():
    task = _synthetic("regression")
    good = evaluate(make_encoder("cartesian3d"), task, probe="linear")
    assert good["r2"] > 0.99 and good["rmse"] < 0.05  # y is linear in xyz
    weak = evaluate(make_encoder("direct"), task, probe="linear")
    assert weak["r2"] < good["r2"] - 0.05
    assert evaluate(make_encoder("direct"), task, probe="knn")["r2"] > 0.9
    clf = evaluate(make_encoder("cartesian3d"), _synthetic("classification"), probe="linear")
    assert clf["accuracy"] > 0.95 and 0 < clf["accuracy_std"] < 0.05
    # an encoder that learns from y cannot be fitted once before the folds (it would see the test rows)
    from geoembed import LocationTargetEncoder

    with pytest.raises(ValueError, match="LocationTargetEncoder learns from the target.*inside the folds"):
        evaluate(LocationTargetEncoder("cartesian3d"), task)
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler

    for wrapped in (
        make_pipeline(LocationTargetEncoder("cartesian3d"), StandardScaler()),
        make_column_transformer((LocationTargetEncoder("cartesian3d"), ["lat", "lon"])),
        make_union(make_encoder("cartesian3d"), LocationTargetEncoder("cartesian3d")),
    ):
        with pytest.raises(ValueError, match="learns from the target"):
            evaluate(wrapped, task)

    class Steps(make_encoder("cartesian3d").__class__):  # a parameter called steps is not a pipeline's
        def __init__(self, steps=3, **params):
            super().__init__(**params)
            self.steps = steps

    assert evaluate(Steps(), task, probe="linear")["r2"] > 0.99


def test_metrics_match_sklearn_on_a_fold():
    task = _synthetic("classification")
    result = evaluate(make_encoder("wrap"), task, probe="linear", n_splits=2)
    folds = spatial_block_folds(task.frame.lat, task.frame.lon, block_size_deg=5, n_splits=2)
    X = make_encoder("wrap").fit_transform(task.frame)
    accs, f1s = [], []
    for train, test in folds:
        pred = make_probe("linear", "classification").fit(X[train], task.y[train]).predict(X[test])
        accs.append(accuracy_score(task.y[test], pred))
        f1s.append(f1_score(task.y[test], pred, average="macro"))
    assert result["accuracy"] == pytest.approx(np.mean(accs)) and result["macro_f1"] == pytest.approx(np.mean(f1s))


def test_compare_encoders_with_extra_features(data_home):
    ames = load_task("ames_added", cache_dir=data_home)
    location_only = load_task("ames_location", cache_dir=data_home)
    table = compare_encoders(
        {"wrap": make_encoder("wrap"), "none": None},
        [ames, location_only],
        probes=("linear",),
        n_splits=3,
        progress=False,
    )
    assert set(zip(table.task, table.encoder)) == {
        ("ames_added", "wrap"),
        ("ames_added", "none"),
        ("ames_location", "wrap"),
    }
    structural = table[(table.task == "ames_added") & (table.encoder == "none")]["r2"].item()
    assert structural > 0.6  # living area, year built... explain most of the price
    with pytest.raises(ValueError, match="probe must be"):
        make_probe("svm", "regression")


class _FakeLocator:
    """Predicts every image 1,000 km north of (0, 0), and fails on "bad.jpg"."""

    def predict(self, paths, top_k, batch_size, on_error):
        bad = [p.endswith("bad.jpg") for p in paths]
        return pd.DataFrame(
            {
                "input_id": paths,
                "lat": [np.nan if b else 8.993216 for b in bad],
                "lon": [np.nan if b else 0.0 for b in bad],
                "probability": 0.5,
                "error": ["cannot read" if b else None for b in bad],
            }
        )


def _geoloc_csv(tmp_path):
    path = tmp_path / "truth.csv"
    pd.DataFrame({"IMG_FILE": ["a.jpg", "b.jpg", "bad.jpg"], "LAT": [0.0, 8.9, 0.0], "LON": 0.0}).to_csv(
        path, index=False
    )
    return path


def test_geolocation_summary_takes_reference_rows(tmp_path):
    per_image, summary = evaluate_geolocation(_FakeLocator(), _geoloc_csv(tmp_path))
    assert len(per_image) == 3 and per_image["error"].notna().sum() == 1
    assert list(summary["run"]) == ["this run (2 images, 1 unreadable)"]
    assert summary.loc[0, "750 km"] == 50.0 and summary.loc[0, "2500 km"] == 100.0
    _, summary = evaluate_geolocation(_FakeLocator(), _geoloc_csv(tmp_path), reference_results=GEOCLIP_GEOLOCATION)
    assert list(summary["run"][1:]) == list(GEOCLIP_GEOLOCATION)
    assert summary.set_index("run").loc["Im2GPS3k (GeoCLIP, NeurIPS 2023)", "25 km"] == 34.47
    with pytest.raises(ValueError, match="expected one per threshold"):
        evaluate_geolocation(_FakeLocator(), _geoloc_csv(tmp_path), reference_results={"short": (1.0, 2.0)})


@pytest.mark.parametrize(
    "old, new, names",
    [
        (
            "geoembed.probing",
            "geoembed.evaluation.probing",
            [
                "spatial_block_folds",
                "make_probe",
                "embed_task",
                "evaluate",
                "compare_encoders",
                "RIDGE_ALPHAS",
                "METRICS",
            ],
        ),
        (
            "geoembed.multilabel",
            "geoembed.evaluation.multilabel",
            ["mean_average_precision", "train_multilabel_mlp"],
        ),
        (
            "geoembed.retrieval.evaluation",
            "geoembed.evaluation.geolocation",
            ["THRESHOLDS_KM", "accuracy_table", "evaluate_predictions", "read_geoloc_csv"],
        ),
    ],
)
def test_old_module_paths_warn_and_still_work(old, new, names, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)  # re-import, so that the import-time warning fires
    with pytest.warns(FutureWarning, match=re.escape(new)):
        module = importlib.import_module(old)
    moved = importlib.import_module(new)
    spatial_cv = importlib.import_module("geoembed.model_selection")  # spatial_block_folds' home
    assert all(getattr(module, name) is getattr(moved, name, getattr(spatial_cv, name, None)) for name in names)
    assert set(names) <= set(module.__all__)


def test_old_paths_keep_their_behaviour(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "geoembed.retrieval.evaluation", raising=False)
    monkeypatch.delitem(sys.modules, "geoembed.multilabel", raising=False)
    with pytest.warns(FutureWarning):
        old_geoloc = importlib.import_module("geoembed.retrieval.evaluation")
        old_multilabel = importlib.import_module("geoembed.multilabel")
    _, summary = old_geoloc.evaluate_geolocation(_FakeLocator(), _geoloc_csv(tmp_path))
    assert summary["run"].str.contains("Im2GPS3k").any() and old_geoloc.PAPER_RESULTS is GEOCLIP_GEOLOCATION
    nuswide = importlib.import_module("geoembed.benchmarks.nuswide")
    for name in ("default_geo_encoders", "run_nuswide_benchmark", "format_table"):
        with pytest.warns(FutureWarning, match=f"geoembed.benchmarks.nuswide.{name}"):
            assert getattr(old_multilabel, name) is getattr(nuswide, name)
    with pytest.warns(FutureWarning, match="geoembed.benchmarks.nuswide.NUSWIDE_MAP"):
        assert old_multilabel.PAPER_MAP["GeoCLIP + V"] == 0.362
    with pytest.warns(FutureWarning, match="geoembed.benchmarks.nuswide.run_nuswide_benchmark"):
        from geoembed.evaluation import run_nuswide_benchmark
    assert run_nuswide_benchmark is nuswide.run_nuswide_benchmark
    table = pd.DataFrame(
        [{"features": "GeoCLIP + V", "kind": "fused", "mAP": 0.3, "mAP_std": 0.01, "seeds": 1, "dimension": 1012}]
    )
    with pytest.warns(FutureWarning):
        format_table = old_multilabel.format_table
    assert "| GeoCLIP + V | fused | 1012 | 0.300 ± 0.010 (1 seeds) | 0.362 |" in format_table(table)
