"""Image-to-GPS retrieval: golden agreement, tiny-CLIP end to end, caches and evaluation."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import GOLDEN_DIR
from numerics import softmax_rtol
from tiny_clip import save_tiny_clip

from geoembed.core.geo import EARTH_RADIUS_KM, haversine_km
from geoembed.evaluation import GEOCLIP_GEOLOCATION, accuracy_table, evaluate_geolocation
from geoembed.retrieval import GeoLocator, GPSGallery
from geoembed.retrieval.backbone import BackboneNotAvailableError
from geoembed.retrieval.images import ImageLoadError

pytest.importorskip("transformers")
pytest.importorskip("PIL")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    return save_tiny_clip(tmp_path_factory.mktemp("tiny_clip"))


@pytest.fixture(scope="module")
def small_gallery():
    rng = np.random.default_rng(5)
    return GPSGallery(np.column_stack([rng.uniform(-60, 70, 500), rng.uniform(-180, 180, 500)]), name="small")


@pytest.fixture(scope="module")
def tiny_locator(tiny_clip_dir, small_gallery, cache):
    return GeoLocator(str(tiny_clip_dir), gallery=small_gallery, cache_dir=cache)


@pytest.mark.parametrize("cache_dtype, rtol", [("float32", 1e-3), ("float16", 3e-3)])
def test_matches_official_retrieval_golden(cache, cache_dtype, rtol):
    """The default float32 cache meets rtol 1e-3; a float16 cache (half the disk) stays within 3e-3."""
    golden = np.load(GOLDEN_DIR / "geoclip_retrieval.npz")
    locator = GeoLocator(cache_dir=cache, cache_dtype=cache_dtype)
    result = locator.predict_features(golden["clip_features"], top_k=5)
    probs = result["probability"].to_numpy().reshape(16, 5)
    np.testing.assert_allclose(probs, golden["top5_prob"], rtol=rtol)
    latlon = result[["lat", "lon"]].to_numpy().reshape(16, 5, 2)
    for i in range(16):
        for k in range(5):
            # equal coordinates tie (the gallery repeats some), and near-equal probabilities may
            # swap ranks: accept any golden coordinate of (almost) the same probability
            close = np.abs(golden["top5_prob"][i] - probs[i, k]) <= rtol * probs[i, k]
            assert np.any(np.all(np.abs(golden["top5_latlon"][i][close] - latlon[i, k]) < 1e-4, axis=1)), (i, k)


def test_predict_features_frame_and_validation(tiny_locator):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(3, 768)).astype(np.float32)
    out = tiny_locator.predict_features(features, top_k=4, ids=["a", "b", "c"])
    assert list(out.columns) == ["input_id", "rank", "lat", "lon", "probability", "gallery_index"]
    assert len(out) == 12 and list(out["rank"][:4]) == [1, 2, 3, 4]
    assert (out.groupby("input_id", sort=False)["probability"].apply(lambda p: p.is_monotonic_decreasing)).all()
    full = tiny_locator.probabilities(features)
    np.testing.assert_allclose(full.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out["probability"].to_numpy()[:4], np.sort(full[0])[::-1][:4], rtol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(n, 768\)"):
        tiny_locator.predict_features(np.zeros((2, 512)))
    with pytest.raises(ValueError, match="top_k"):
        tiny_locator.predict_features(features, top_k=0)
    features[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"finite; rows \[1\]"):
        tiny_locator.predict_features(features)


def _save_images(folder, n=3):
    from PIL import Image

    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        path = folder / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (40 + i, 50, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_images_end_to_end_with_tiny_clip(tiny_locator, tmp_path):
    from PIL import Image

    paths = _save_images(tmp_path / "photos")
    by_path = tiny_locator.predict([str(p) for p in paths], top_k=2, batch_size=2)
    assert len(by_path) == 6 and set(by_path["input_id"]) == {str(p) for p in paths}
    by_folder = tiny_locator.predict(tmp_path / "photos", top_k=2)
    pd.testing.assert_frame_equal(by_folder, by_path)
    pil = [Image.open(p) for p in paths]
    arrays = [np.asarray(im) for im in pil]
    np.testing.assert_allclose(tiny_locator.predict(pil, top_k=2)["probability"], by_path["probability"], rtol=1e-5)
    np.testing.assert_allclose(tiny_locator.predict(arrays, top_k=2)["probability"], by_path["probability"], rtol=1e-5)
    embeddings = tiny_locator.embed_images(paths)
    assert embeddings.shape == (3, 512) and np.isfinite(embeddings).all()


def test_corrupt_images_are_reported_not_fatal(tiny_locator, tmp_path):
    paths = _save_images(tmp_path / "mixed", n=2)
    broken = tmp_path / "mixed" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    missing = tmp_path / "mixed" / "missing.png"
    inputs = [str(paths[0]), str(broken), str(missing), str(paths[1])]
    with pytest.raises(ImageLoadError, match="broken.jpg"):
        tiny_locator.predict(inputs)
    out = tiny_locator.predict(inputs, top_k=1, on_error="report")
    assert len(out) == 4
    errors = out.set_index("input_id")["error"]
    assert errors[str(paths[0])] is None and "unreadable image broken.jpg" in errors[str(broken)]
    assert "file not found" in errors[str(missing)]
    assert out.set_index("input_id").loc[str(broken), ["lat", "lon"]].isna().all()


def test_reported_errors_keep_input_order_and_repeats(tiny_locator, tmp_path):
    paths = _save_images(tmp_path / "order", n=2)
    broken = tmp_path / "order" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    inputs = [str(broken), str(paths[0]), str(tmp_path / "missing.png"), str(paths[1]), str(broken)]
    out = tiny_locator.predict(inputs, top_k=2, batch_size=2, on_error="report")
    # each input in turn: two ranked rows for an image, one error row for a bad one (each time it is given)
    expected = [inputs[0], inputs[1], inputs[1], inputs[2], inputs[3], inputs[3], inputs[4]]
    assert out["input_id"].tolist() == expected
    assert out["rank"].tolist() == [1, 1, 2, 1, 1, 2, 1]
    assert out["error"].notna().tolist() == [True, False, False, True, False, False, True]


def test_images_are_read_upright_and_transparency_is_white():
    from PIL import Image

    from geoembed.retrieval.images import load_rgb

    rng = np.random.default_rng(2)
    upright = rng.integers(0, 255, (64, 48, 3), dtype=np.uint8)  # 48 wide, 64 high
    # stored sideways (rotated 90 degrees clockwise) with EXIF orientation 6 ("rotate 90 CW to view"),
    # as phones store portrait photos
    stored = Image.fromarray(np.rot90(upright, k=1))
    exif = stored.getexif()
    exif[0x0112] = 6
    buffer = __import__("io").BytesIO()
    stored.save(buffer, format="PNG", exif=exif.tobytes())
    buffer.seek(0)
    read = load_rgb(Image.open(buffer))
    assert read.size == (48, 64)
    np.testing.assert_array_equal(np.asarray(read), upright)
    # transparent pixels are white (as CLIP's image processor blends them), whatever colour hides under them
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red under full transparency, ...
    rgba[:4, :, 3] = 255  # ... opaque in the top half
    read = np.asarray(load_rgb(Image.fromarray(rgba, mode="RGBA")))
    np.testing.assert_array_equal(read[:4], np.broadcast_to([255, 0, 0], (4, 8, 3)))
    np.testing.assert_array_equal(read[4:], np.full((4, 8, 3), 255))
    np.testing.assert_array_equal(np.asarray(load_rgb(rgba)), read)  # arrays alike
    # 16-bit grey (a PNG from a scanner or a DEM) keeps its shades; PIL's own RGB conversion clipped them white
    grey16 = Image.fromarray(np.array([[0, 32768, 65535]], dtype=np.uint16))
    assert grey16.mode.startswith("I;16")
    np.testing.assert_array_equal(np.asarray(load_rgb(grey16))[0, :, 0], [0, 128, 255])


def test_gallery_coordinates_are_read_only_and_cache_dtype_is_checked(small_gallery, tmp_path):
    with pytest.raises(ValueError, match="read-only"):
        small_gallery.latlon[0, 0] = 1.0
    with pytest.raises(AttributeError):
        small_gallery.latlon = np.zeros((3, 2))
    for dtype in ("int8", "bool", "float64", "nonsense"):
        with pytest.raises(ValueError, match=r"cache_dtype must be one of \['float32', 'float16'\]"):
            GeoLocator(gallery=small_gallery, cache_dtype=dtype, cache_dir=tmp_path)
    assert GeoLocator(gallery=small_gallery, cache_dtype=np.float16, cache_dir=tmp_path).cache_dtype == "float16"


def test_gallery_cache_is_keyed_by_the_checkpoint_the_locator_loaded(small_gallery, tmp_path):
    """A checkpoint replaced after the locator loaded it (a training run writing its next epoch)
    must not get the loaded model's gallery embeddings cached under its digest.
    """
    import shutil

    from geoembed import GeoEmbedder
    from geoembed.models.weights import get_weights

    checkpoint = tmp_path / "run" / "location_encoder.safetensors"
    checkpoint.parent.mkdir()
    shutil.copy(get_weights("geoclip-lite").location_encoder_path, checkpoint)
    locator = GeoLocator(gallery=small_gallery, location_weights=str(checkpoint), cache_dir=tmp_path / "cache")
    shutil.copy(get_weights("geoclip-1.3.0").location_encoder_path, checkpoint)  # the next epoch
    lite = GeoEmbedder(weights="geoclip-lite", normalize=True).fit_transform(small_gallery.latlon)
    np.testing.assert_allclose(locator.gallery_embeddings().cpu().numpy(), lite, atol=1e-5)
    later = GeoLocator(gallery=small_gallery, location_weights=str(checkpoint), cache_dir=tmp_path / "cache")
    exact = GeoEmbedder(weights="geoclip-1.3.0", normalize=True).fit_transform(small_gallery.latlon)
    np.testing.assert_allclose(later.gallery_embeddings().cpu().numpy(), exact, atol=1e-5)


def test_text_queries_zoom_and_map(tiny_locator):
    out = tiny_locator.locate_text(["Pyramids of Giza", "Desert"], top_k=3)
    assert list(out["input_id"]) == ["Pyramids of Giza"] * 3 + ["Desert"] * 3
    zoom = tiny_locator.zoom("Boston, Massachusetts", center=(42.36, -71.06), radius_km=20, step_km=2, top_k=5)
    assert len(zoom) == 5
    assert (haversine_km(42.36, -71.06, zoom["lat"], zoom["lon"]) <= 20.0 + 1e-6).all()
    prob_map = tiny_locator.probability_map("Desert")
    assert prob_map.dims == ("point",) and prob_map.size == 500
    assert float(prob_map.sum()) == pytest.approx(1.0, rel=1e-5)


def test_region_gallery_geometry():
    box = GPSGallery.region(bbox=(42.0, -71.5, 42.5, -70.5), step_km=5)
    lat, lon = box.latlon[:, 0], box.latlon[:, 1]
    assert lat.min() >= 42.0 and lat.max() <= 42.5 + 1e-4 and lon.min() >= -71.5 and lon.max() <= -70.5 + 1e-4
    step_deg = np.degrees(5 / EARTH_RADIUS_KM)
    assert np.allclose(np.diff(np.unique(lat)), step_deg, rtol=1e-4)
    across = GPSGallery.region(bbox=(-10, 175, 10, -175), step_km=100)  # crosses the antimeridian
    assert across.latlon[:, 1].min() >= -180 and ((across.latlon[:, 1] > 170) | (across.latlon[:, 1] < -170)).all()
    with pytest.raises(ValueError, match="either bbox"):
        GPSGallery.region(step_km=1)
    with pytest.raises(ValueError, match="latitude must be in"):
        GPSGallery(np.array([[95.0, 0.0]]))


def test_gallery_cache_reuse_and_invalidation(tiny_locator, small_gallery, cache, monkeypatch):
    first = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=cache)
    np.testing.assert_allclose(np.linalg.norm(first.astype(np.float32), axis=1), 1.0, atol=2e-3)

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite a valid cache")

    with monkeypatch.context() as m:
        m.setattr(GPSGallery, "_compute", fail)
        np.testing.assert_array_equal(
            small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=cache), first
        )
        with pytest.raises(AssertionError, match="recomputed"):  # other weights: another key, recomputed
            small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w2", cache_dir=cache)
    files = sorted((cache / "galleries").glob("small-*.npy"))
    assert files
    for f in files:
        with open(f, "r+b") as handle:  # corrupt the cached data
            handle.seek(200)
            handle.write(b"\x00garbage\x00")
    with pytest.warns(RuntimeWarning, match="corrupt or stale"):
        again = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=cache)
    np.testing.assert_array_equal(again, first)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=cache)


def test_missing_backbone_says_how_to_get_it(small_gallery, cache):
    locator = GeoLocator("no-such-org/no-such-clip", gallery=small_gallery, cache_dir=cache)
    with pytest.raises(BackboneNotAvailableError, match="allow_download=True"):
        locator.locate_text("Desert")


def test_accuracy_table_known_distances():
    errors = np.array([0.5, 20.0, 150.0, 500.0, 3000.0])
    row = accuracy_table(errors)
    assert row == {"1 km": 20.0, "25 km": 40.0, "200 km": 60.0, "750 km": 80.0, "2500 km": 80.0, "median km": 150.0}
    # a row without a prediction (NaN) is a miss everywhere and an infinite error in the median
    missing = accuracy_table(np.array([0.5, 20.0, np.nan, np.nan]))
    assert missing["1 km"] == 25.0 and missing["2500 km"] == 50.0 and missing["median km"] == np.inf
    with pytest.raises(ValueError, match=r"must be distances \(>= 0\); 1 are negative, e.g. at positions \[1\]"):
        accuracy_table(np.array([1.0, -2.0]))


def test_evaluate_predictions_refuses_coordinates_that_are_not_degrees():
    from geoembed.evaluation import evaluate_predictions

    truth = pd.DataFrame({"image": ["a", "b", "c"], "true_lat": [10.0, 20.0, 30.0], "true_lon": [0.0, 0.0, 0.0]})
    top1 = pd.DataFrame({"image": ["a", "b"], "pred_lat": [10.0, 95.0], "pred_lon": [1.0, 0.0]})
    with pytest.raises(ValueError, match=r"pred_lat/pred_lon must be degrees.*1 row\(s\) are not, e.g. images \['b'\]"):
        evaluate_predictions(truth, top1)
    merged = evaluate_predictions(truth, top1.iloc[:1])  # c and b without a prediction: NaN errors
    assert merged["error_km"].isna().tolist() == [False, True, True]
    with pytest.raises(ValueError, match=r"true_lat/true_lon must be degrees.*finite"):
        evaluate_predictions(truth.assign(true_lat=[10.0, np.nan, 0.0]), top1.iloc[:1])


def test_evaluation_harness_on_synthetic_dataset(tiny_locator, tmp_path, monkeypatch):
    """Predictions placed 1, 20, 150, 500 and 3000 km north of the truth give known accuracies."""
    paths = _save_images(tmp_path / "ds", n=5)
    (tmp_path / "ds" / "bad.jpg").write_bytes(b"not an image")
    truth = pd.DataFrame({"IMG_FILE": [p.name for p in paths] + ["bad.jpg"], "LAT": [10.0] * 6, "LON": [20.0] * 6})
    truth.to_csv(tmp_path / "ds.csv", index=False)
    offsets_km = dict(zip([str(p) for p in paths], [0.9, 20.0, 150.0, 500.0, 3000.0]))
    real_predict = GeoLocator.predict

    def predict_at_known_distance(self, images, top_k=5, **kwargs):
        out = real_predict(self, images, top_k=top_k, **kwargs)
        ok = out["error"].isna()
        out.loc[ok, "lat"] = 10.0 + np.degrees(out.loc[ok, "input_id"].map(offsets_km) / EARTH_RADIUS_KM)
        out.loc[ok, "lon"] = 20.0
        return out

    monkeypatch.setattr(GeoLocator, "predict", predict_at_known_distance)
    per_image, summary = evaluate_geolocation(
        tiny_locator, tmp_path / "ds.csv", tmp_path / "ds", batch_size=2, reference_results=GEOCLIP_GEOLOCATION
    )
    assert len(per_image) == 6 and per_image.set_index("image").loc["bad.jpg", "error"] is not None
    np.testing.assert_allclose(per_image["error_km"].iloc[:5], [0.9, 20.0, 150.0, 500.0, 3000.0], rtol=1e-6)
    ours = summary.iloc[0]
    assert "5 images, 1 unreadable" in ours["run"]
    assert [ours[f"{t} km"] for t in (1, 25, 200, 750, 2500)] == [20.0, 40.0, 60.0, 80.0, 80.0]
    assert summary["run"].str.contains("Im2GPS3k").any()


def test_cli_locate_text_and_eval(tiny_clip_dir, tmp_path, capsys, monkeypatch):
    from geoembed.cli import main

    monkeypatch.setenv("GEOEMBED_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(2)
    gallery = GPSGallery(np.column_stack([rng.uniform(-50, 50, 300), rng.uniform(-170, 170, 300)]), name="cli")
    monkeypatch.setattr(GPSGallery, "mp16", classmethod(lambda cls: gallery))  # keep the CLI test small
    paths = _save_images(tmp_path / "imgs", n=2)
    assert (
        main(
            [
                "locate",
                *map(str, paths),
                "--backbone",
                str(tiny_clip_dir),
                "--top-k",
                "2",
                "-o",
                str(tmp_path / "pred.csv"),
            ]
        )
        == 0
    )
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert len(pred) == 4 and {"lat", "lon", "probability"} <= set(pred.columns)
    assert main(["locate-text", "Desert", "--backbone", str(tiny_clip_dir), "--top-k", "3"]) == 0
    assert capsys.readouterr().out.count("Desert") == 3
    pd.DataFrame({"IMG_FILE": [p.name for p in paths], "LAT": [0.0, 10.0], "LON": [0.0, 10.0]}).to_csv(
        tmp_path / "ds.csv", index=False
    )
    assert (
        main(["eval-geoloc", str(tmp_path / "ds.csv"), str(tmp_path / "imgs"), "--backbone", str(tiny_clip_dir)]) == 0
    )
    out = capsys.readouterr().out
    assert "this run (2 images, 0 unreadable)" in out and "Im2GPS3k" in out
    assert main(["locate-text", "Desert", "--backbone", "no-such/clip"]) == 2
    assert "allow-download" in capsys.readouterr().err


@pytest.mark.parametrize("block, top_k", [(7, 3), (7, 10), (64, 1), (1000, 5)])
def test_streaming_top_k_matches_full_softmax(block, top_k):
    """Blocked top-k with an online log-sum-exp equals softmax-then-topk, for any block size."""
    from geoembed.retrieval.locator import streaming_top_k

    rng = np.random.default_rng(3)
    queries = torch.from_numpy(rng.normal(size=(6, 16)).astype(np.float32)) * 4
    locations = torch.from_numpy(rng.normal(size=(50, 16)).astype(np.float32))
    probs, index = streaming_top_k(queries, locations, top_k, block=block)
    full = (queries.double() @ locations.double().T).softmax(dim=1)  # float64 reference
    expected = torch.topk(full, top_k, dim=1)
    rtol = softmax_rtol(queries, locations)
    np.testing.assert_allclose(probs.numpy(), expected.values.numpy(), rtol=rtol)
    # the ranking is the reference's wherever neighbouring probabilities are further apart than the error bound
    distinct = np.diff(expected.values.numpy(), axis=1) < -2 * rtol * expected.values.numpy()[:, 1:]
    assert top_k == 1 or distinct.mean() > 0.9
    for row in range(len(queries)):
        for k in range(top_k):
            if (k == 0 or distinct[row, k - 1]) and (k == top_k - 1 or distinct[row, k]):
                assert index[row, k] == expected.indices[row, k]


def test_geoloc_csv_rejects_bad_coordinates_by_row(tmp_path):
    from geoembed.evaluation import read_geoloc_csv

    path = tmp_path / "truth.csv"
    pd.DataFrame({"IMG_FILE": ["a.jpg", "b.jpg", "c.jpg"], "LAT": [10.0, 12.0, 95.0], "LON": [0.0, 100.0, 1.0]}).to_csv(
        path, index=False
    )
    with pytest.raises(ValueError, match=r"latitude must be in \[-90, 90\]; rows \[2\]"):
        read_geoloc_csv(path)
    pd.DataFrame({"IMG_FILE": ["a.jpg", "b.jpg"], "LAT": [10.0, "x"], "LON": [0.0, 1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"rows \[1\] have missing or non-numeric"):
        read_geoloc_csv(path)


# -- gallery cache: corrupt entries rebuilt, unwritable folders tolerated ------------------------


def _entry(folder):
    (data,) = folder.glob("small-*.npy")
    return data, data.with_suffix(".json")


def _rewrite_meta(meta_path, **changes):
    import json

    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    meta_path.write_text(json.dumps(meta))


def _save_with_checksum(data_path, meta_path, array=None, raw=None):
    """Replace the cached data and give the metadata its checksum, so that only the content is wrong."""
    from geoembed.core.utils import file_sha256

    if raw is not None:
        data_path.write_bytes(raw)
    else:
        np.save(data_path, array, allow_pickle=True)  # a pickled object array must still be refused
    _rewrite_meta(meta_path, sha256=file_sha256(data_path))


CORRUPTIONS = {
    "meta []": lambda data, meta: meta.write_text("[]"),
    "meta null": lambda data, meta: meta.write_text("null"),
    "meta string": lambda data, meta: meta.write_text('"cache"'),
    "meta not json": lambda data, meta: meta.write_text("{not json"),
    "meta not utf-8": lambda data, meta: meta.write_bytes(b"\xff\xfe\x00"),
    "meta empty": lambda data, meta: meta.write_text(""),
    "n as text": lambda data, meta: _rewrite_meta(meta, n="500"),
    "dim as text": lambda data, meta: _rewrite_meta(meta, dim="512"),
    "dim zero": lambda data, meta: _rewrite_meta(meta, dim=0),
    "dim wrong": lambda data, meta: _rewrite_meta(meta, dim=511),
    "checksum missing": lambda data, meta: _rewrite_meta(meta, sha256=None),
    "checksum a list": lambda data, meta: _rewrite_meta(meta, sha256=[1, 2]),
    "wrong checksum": lambda data, meta: _rewrite_meta(meta, sha256="0" * 64),
    "wrong precision": lambda data, meta: _rewrite_meta(meta, precision="fast"),
    "wrong shape": lambda data, meta: _save_with_checksum(data, meta, np.zeros((500, 513), np.float32)),
    "transposed": lambda data, meta: _save_with_checksum(data, meta, np.zeros((512, 500), np.float32)),
    "wrong dtype": lambda data, meta: _save_with_checksum(data, meta, np.zeros((500, 512), np.float64)),
    "truncated": lambda data, meta: data.write_bytes(data.read_bytes()[:1000]),
    "truncated, checksum updated": lambda data, meta: _save_with_checksum(data, meta, raw=data.read_bytes()[:1000]),
    "empty data, checksum updated": lambda data, meta: _save_with_checksum(data, meta, raw=b""),
    "pickled object": lambda data, meta: _save_with_checksum(data, meta, np.array([{"a": 1}], dtype=object)),
    "npz, not npy": lambda data, meta: _save_with_checksum(data, meta, raw=_npz_bytes()),
}


def _npz_bytes():
    import io

    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros((500, 512), np.float32))
    return buffer.getvalue()


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_malformed_gallery_cache_entries_are_rebuilt_with_a_warning(tiny_locator, small_gallery, tmp_path, corruption):
    encoder = tiny_locator.location_encoder
    first = small_gallery.embeddings(encoder, weights_sha256="w1", cache_dir=tmp_path)
    data, meta = _entry(tmp_path / "galleries")
    CORRUPTIONS[corruption](data, meta)
    with pytest.warns(RuntimeWarning, match="corrupt or stale"):
        again = small_gallery.embeddings(encoder, weights_sha256="w1", cache_dir=tmp_path)
    np.testing.assert_array_equal(again, first)
    with warnings.catch_warnings():  # rebuilt: read back silently
        warnings.simplefilter("error")
        np.testing.assert_array_equal(small_gallery.embeddings(encoder, weights_sha256="w1", cache_dir=tmp_path), first)
    # no temporary files left
    assert sorted(p.name for p in (tmp_path / "galleries").iterdir()) == sorted([data.name, meta.name])


def test_half_written_gallery_cache_entry_is_rebuilt_silently(tiny_locator, small_gallery, tmp_path):
    first = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=tmp_path)
    data, meta = _entry(tmp_path / "galleries")
    meta.unlink()  # interrupted between the data and its metadata
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=tmp_path)
    np.testing.assert_array_equal(again, first)
    assert meta.exists()


def _unwritable_cache_dir(tmp_path):
    """A folder that cannot be created even by root: its parent is a regular file."""
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file")
    cache_dir = blocker / "cache"
    try:
        (cache_dir / "galleries").mkdir(parents=True)
    except OSError:
        return cache_dir
    pytest.skip("a folder could be created under a regular file here")


def test_unwritable_gallery_cache_computes_in_memory_and_warns_once(
    tiny_locator, tiny_clip_dir, small_gallery, cache, tmp_path
):
    from geoembed.core.cache import cache_dir as resolve_cache_dir

    cache_dir = _unwritable_cache_dir(tmp_path)
    assert resolve_cache_dir(cache_dir) == cache_dir  # does not raise; the caller falls back
    expected = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=cache)
    with pytest.warns(RuntimeWarning) as record:
        values = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=cache_dir)
    messages = [str(w.message) for w in record if "cannot be written" in str(w.message)]
    assert len(messages) == 1 and str(cache_dir / "galleries") in messages[0] and "NotADirectoryError" in messages[0]
    np.testing.assert_array_equal(values, expected)
    locator = GeoLocator(str(tiny_clip_dir), gallery=small_gallery, cache_dir=cache_dir)
    features = np.random.default_rng(0).normal(size=(2, 768)).astype(np.float32)
    with warnings.catch_warnings():  # once per process and folder
        warnings.simplefilter("error")
        out = locator.predict_features(features, top_k=3)
    pd.testing.assert_frame_equal(out, tiny_locator.predict_features(features, top_k=3))
    assert (tmp_path / "not_a_folder").read_text() == "a file"


def test_gallery_cache_write_failure_keeps_working(tiny_locator, small_gallery, tmp_path, monkeypatch):
    """A folder that exists but refuses writes (read-only, permission denied: not testable as root)."""
    from geoembed.retrieval import gallery as gallery_module

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(gallery_module, "atomic_output", refuse)
    for _ in range(2):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            values = small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=tmp_path)
        assert values.shape == (500, 512)
        messages = [str(w.message) for w in record]
        if _ == 0:
            assert len(messages) == 1 and "PermissionError: Permission denied" in messages[0]
        else:
            assert messages == []
    assert list((tmp_path / "galleries").iterdir()) == []


def test_gallery_cache_files_are_written_atomically(tiny_locator, small_gallery, tmp_path, monkeypatch):
    """An interruption while the cache is written leaves no entry and no temporary file."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small_gallery.embeddings(tiny_locator.location_encoder, weights_sha256="w1", cache_dir=tmp_path)
    assert list((tmp_path / "galleries").iterdir()) == []


def test_failed_download_says_it_failed(monkeypatch):
    """With downloads allowed, a failure names the download and its reason, not the flag the user gave."""
    transformers = pytest.importorskip("transformers")
    from geoembed.retrieval.backbone import BackboneNotAvailableError, CLIPBackbone

    def offline(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files")

    monkeypatch.setattr(transformers.CLIPModel, "from_pretrained", offline)
    with pytest.raises(
        BackboneNotAvailableError, match="downloading it from the Hugging Face Hub failed: We couldn't"
    ) as error:
        CLIPBackbone.from_pretrained("openai/clip-vit-base-patch32", allow_download=True)
    assert "allow_download=True" not in str(error.value)
    with pytest.raises(BackboneNotAvailableError, match="downloads are off"):
        CLIPBackbone.from_pretrained("openai/clip-vit-base-patch32", allow_download=False)


@pytest.mark.parametrize("weights", ["geoclip-lite", "registered path"])
def test_locator_takes_registered_weights_by_name_or_path(weights, small_gallery, tmp_path):
    """GeoLocator(location_weights="geoclip-lite") locates with the lite encoder (it once hashed the name as a file)."""
    from geoembed import GeoEmbedder
    from geoembed.models.weights import get_weights

    entry = get_weights("geoclip-lite")
    given = entry.name if weights == "geoclip-lite" else str(entry.location_encoder_path)
    locator = GeoLocator(gallery=small_gallery, location_weights=given, cache_dir=tmp_path)
    rng = np.random.default_rng(0)
    result = locator.predict_features(rng.normal(size=(3, 768)).astype(np.float32), top_k=2)
    assert len(result) == 6 and np.isfinite(result["probability"]).all()
    gallery = locator.gallery_embeddings().cpu().numpy()
    expected = GeoEmbedder(weights="geoclip-lite", normalize=True).fit_transform(small_gallery.latlon)
    np.testing.assert_allclose(gallery, expected, atol=1e-5)  # unit rows, float32: a few ulp of 1
