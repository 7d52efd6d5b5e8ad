"""The torch location encoder against the official model's golden outputs."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from numerics import assert_geoclip_close, geoclip_reference

from geoembed.core.errors import CheckpointError
from geoembed.core.geo import GEOCLIP_PROJECTION_SCALE, equal_earth
from geoembed.encoders.geoclip import (
    GeoCLIPLocationEncoder,
    LocationEncoderConfig,
    bfloat16_is_fast,
    geoclip_projection,
)
from geoembed.models.geoclip import load_location_encoder
from geoembed.models.weights import (
    GPS_GALLERY_FILE,
    get_weights,
    load_gps_gallery,
    load_image_mlp_state,
    provenance,
    resolve_location_weights,
    verify_bundled_files,
    verify_weights_file,
)


def cosine_rows(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_reproduces_official_golden_embeddings(golden_location):
    latlon, expected = golden_location
    out = load_location_encoder().embed(torch.tensor(latlon)).numpy()
    assert out.dtype == np.float32 and out.shape == (256, 512)
    # the published model's float32 output on any CPU: both within the float32 error bound of
    # the float64 reference, and within the 1e-5 the README states
    assert_geoclip_close(expected, latlon, what="official geoclip==1.3.0 output")
    assert_geoclip_close(out, latlon)
    assert np.abs(out - expected).max() <= 1e-5


def test_forward_matches_embed_exact(golden_location):
    latlon, _ = golden_location
    encoder = load_location_encoder()
    with torch.no_grad():
        a = encoder(torch.tensor(latlon)).numpy()
    b = encoder.embed(torch.tensor(latlon)).numpy()
    assert_geoclip_close(a, latlon, what="forward()")
    assert_geoclip_close(b, latlon, what="embed()")


def test_fast_precision_close_to_exact(golden_location, random_latlon):
    encoder = load_location_encoder()
    x = torch.tensor(np.vstack([golden_location[0], random_latlon]))
    exact = encoder.embed(x, precision="exact").numpy()
    fast = encoder.embed(x, precision="fast").numpy()
    assert cosine_rows(exact, fast).min() >= 0.9999
    with pytest.raises(ValueError, match="precision"):
        encoder.embed(x, precision="half")


def test_projection_is_equal_earth(random_latlon):
    """The float32 reference arithmetic agrees with PROJ's Equal Earth to float32 rounding."""
    lat, lon = random_latlon[:, 0], random_latlon[:, 1]
    xy = geoclip_projection(torch.tensor(random_latlon)).double().numpy()
    lat32, lon32 = lat.astype(np.float32), lon.astype(np.float32)
    x, y = equal_earth(lat32, lon32)
    ref = np.column_stack([x, y]) * GEOCLIP_PROJECTION_SCALE
    assert np.abs(xy - ref).max() < 3e-7
    # Equal Earth's published extremes on the unit sphere (Savric et al. 2018):
    # x at the antimeridian on the equator, y at the pole
    edge = geoclip_projection(torch.tensor([[0.0, 180.0], [90.0, 0.0]])).numpy()
    assert edge[0, 0] == pytest.approx(2.7066297 * GEOCLIP_PROJECTION_SCALE, rel=1e-6)
    assert edge[1, 1] == pytest.approx(1.3173627 * GEOCLIP_PROJECTION_SCALE, rel=1e-6)


def test_outputs_do_not_depend_on_chunking_or_threads(random_latlon):
    encoder = load_location_encoder()
    x = torch.tensor(random_latlon[:600])
    whole = encoder.embed(x).numpy()
    pieces = np.concatenate([encoder.embed(x[i : i + 37]).numpy() for i in range(0, 600, 37)])
    assert_geoclip_close(whole, random_latlon[:600], what="one batch")
    assert_geoclip_close(pieces, random_latlon[:600], what="batches of 37")
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = encoder.embed(x).numpy()
    finally:
        torch.set_num_threads(threads)
    assert_geoclip_close(single, random_latlon[:600], what="one thread")


def test_bundled_files_match_provenance():
    verify_bundled_files()
    info = provenance()
    assert info["source"] == "geoclip==1.3.0"
    assert "MIT" in info["source_license"]
    assert "MIT License" in (GPS_GALLERY_FILE.parent / "LICENSE").read_text()


def test_bundled_weights_have_no_subnormals():
    tiny = torch.finfo(torch.float32).tiny
    for name, tensor in load_location_encoder().state_dict().items():
        assert not ((tensor != 0) & (tensor.abs() < tiny)).any(), name


def test_bundled_gallery_and_image_mlp():
    gallery = load_gps_gallery()
    assert gallery.shape == (100_000, 2) and gallery.dtype == np.float32
    assert np.abs(gallery[:, 0]).max() <= 90 and np.abs(gallery[:, 1]).max() <= 180
    # The CSV holds 94,123 distinct pairs; a few coincide once rounded to float32, the
    # dtype in which the official model loads them too.
    assert 94_000 < len(np.unique(gallery, axis=0)) <= 94_123
    state = load_image_mlp_state()
    assert state["0.weight"].shape == (768, 768) and state["2.weight"].shape == (512, 768)
    assert float(state["logit_scale"].exp()) == pytest.approx(39.7, abs=0.05)


def test_published_architecture():
    encoder = load_location_encoder()
    assert encoder.config.sigmas == (1.0, 16.0, 256.0)
    n_params = sum(p.numel() for p in encoder.parameters())
    assert 9.4e6 < n_params < 9.5e6
    # B ~ N(0, sigma^2): the sample std of each 256x2 matrix is close to sigma.
    for branch, sigma in zip(encoder.branches, encoder.config.sigmas):
        assert branch.frequencies.std().item() == pytest.approx(sigma, rel=0.15)


def test_checkpoint_round_trip_with_other_sigmas(tmp_path):
    config = LocationEncoderConfig(
        sigmas=(2.0, 64.0, 1024.0, 4096.0), n_frequencies=16, hidden_dim=32, n_hidden_layers=2, embed_dim=8
    )
    model = GeoCLIPLocationEncoder(config, random_state=3)
    path = model.save(tmp_path / "enc.safetensors", metadata={"note": "test"})
    loaded = GeoCLIPLocationEncoder.from_checkpoint(path)
    assert loaded.config == config
    x = torch.tensor([[10.0, 20.0], [-45.0, 170.0]])
    np.testing.assert_array_equal(model.embed(x).numpy(), loaded.embed(x).numpy())  # same kernels, same batch
    assert_geoclip_close(loaded.embed(x).numpy(), x.numpy(), weights=path)


def test_loads_official_pth_state_dict(tmp_path, golden_location):
    """An official-format .pth (LocEnc{i}.capsule.* keys) loads via weights_only and matches."""
    encoder = load_location_encoder()
    official = {}
    for i, branch in enumerate(encoder.branches):
        official[f"LocEnc{i}.capsule.0.b"] = branch.frequencies
        for j, layer in enumerate([m for m in branch.mlp if isinstance(m, torch.nn.Linear)]):
            official[f"LocEnc{i}.capsule.{2 * j + 1}.weight"] = layer.weight
            official[f"LocEnc{i}.capsule.{2 * j + 1}.bias"] = layer.bias
        official[f"LocEnc{i}.head.0.weight"] = branch.head.weight
        official[f"LocEnc{i}.head.0.bias"] = branch.head.bias
    torch.save(official, tmp_path / "location_encoder_weights.pth")
    loaded = GeoCLIPLocationEncoder.from_checkpoint(tmp_path / "location_encoder_weights.pth")
    assert loaded.config.sigmas == (1.0, 16.0, 256.0)
    latlon, expected = golden_location
    out = loaded.embed(torch.tensor(latlon)).numpy()
    assert_geoclip_close(out, latlon)
    assert np.abs(out - expected).max() <= 1e-5


def test_wrong_shaped_checkpoint_is_rejected(tmp_path):
    model = GeoCLIPLocationEncoder(LocationEncoderConfig(n_frequencies=8, hidden_dim=16, embed_dim=4))
    state = model.state_dict()
    state["branches.0.head.weight"] = torch.zeros(5, 16)
    with pytest.raises(CheckpointError, match=r"wrong shapes.*branches\.0\.head\.weight.*\(4, 16\).*\(5, 16\)"):
        model.load_checked_state_dict(state)
    del state["branches.1.mlp.0.bias"]
    with pytest.raises(ValueError, match=r"missing keys.*branches\.1\.mlp\.0\.bias"):
        model.load_checked_state_dict(state)


def test_checkpoints_with_non_finite_weights_or_out_of_range_configs_are_refused(tmp_path):
    from safetensors.torch import save_file

    model = GeoCLIPLocationEncoder(LocationEncoderConfig(n_frequencies=8, hidden_dim=16, embed_dim=4))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["branches.0.head.weight"][0, 0] = float("nan")
    with pytest.raises(CheckpointError, match=r"non-finite values.*branches\.0\.head\.weight"):
        model.load_checked_state_dict(state, source="nan.safetensors")
    config = json.loads(model.config.to_json())
    config["hidden_dim"] = -5  # reached torch's "negative dimension" before
    path = tmp_path / "negative.safetensors"
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"architecture": "geoclip-location-encoder", "config": json.dumps(config)})
    with pytest.raises(CheckpointError, match=r"negative.safetensors has malformed 'config' metadata.*hidden_dim"):
        GeoCLIPLocationEncoder.from_checkpoint(path)


def test_non_checkpoint_files_are_rejected(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"architecture": "resnet"})
    with pytest.raises(CheckpointError, match="not a geoclip-location-encoder checkpoint"):
        GeoCLIPLocationEncoder.from_checkpoint(path)
    with pytest.raises(CheckpointError, match="missing.safetensors: file not found"):
        GeoCLIPLocationEncoder.from_checkpoint(tmp_path / "missing.safetensors")
    pickled_code = tmp_path / "evil.pth"
    torch.save({"x": object()}, pickled_code)
    with pytest.raises(CheckpointError, match=r"evil\.pth holds objects other than tensors; refusing to unpickle"):
        GeoCLIPLocationEncoder.from_checkpoint(pickled_code)


def _small_checkpoint(tmp_path):
    model = GeoCLIPLocationEncoder(LocationEncoderConfig(n_frequencies=8, hidden_dim=16, embed_dim=4))
    return model, model.save(tmp_path / "small.safetensors")


@pytest.mark.parametrize(
    "damage", ["truncated", "random_bytes", "renamed_key", "no_config", "bad_config", "pth_bytes", "empty_pth"]
)
def test_damaged_checkpoints_raise_the_package_error_naming_the_file(tmp_path, damage):
    """Every way a checkpoint can be unusable gives one exception type (a ValueError) naming the file."""
    from safetensors.torch import save_file

    from geoembed import GeoEmbedder

    model, path = _small_checkpoint(tmp_path)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    expected = {
        "truncated": "not a readable safetensors file",
        "random_bytes": "not a readable safetensors file",
        "renamed_key": r"missing keys \['branches.0.head.bias'\].*unexpected keys \['branches.0.head.bias_renamed'\]",
        "no_config": "has no 'config' metadata",
        "bad_config": "malformed 'config' metadata",
        "pth_bytes": "not a readable torch state dict",
        "empty_pth": r"is empty \(0 bytes\)",
    }[damage]
    if damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "random_bytes":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "renamed_key":
        state["branches.0.head.bias_renamed"] = state.pop("branches.0.head.bias")
        save_file(
            state, str(path), metadata={"architecture": "geoclip-location-encoder", "config": model.config.to_json()}
        )
    elif damage in ("no_config", "bad_config"):
        meta = {"architecture": "geoclip-location-encoder"}
        if damage == "bad_config":
            meta["config"] = "{not json"
        save_file(state, str(path), metadata=meta)
    elif damage == "empty_pth":
        path = tmp_path / "weights.pth"
        path.write_bytes(b"")
    else:
        path = tmp_path / "weights.pth"
        path.write_bytes(b"PK\x03\x04 not really a zip")
    assert issubclass(CheckpointError, ValueError)
    with pytest.raises(CheckpointError, match=expected) as error:
        GeoCLIPLocationEncoder.from_checkpoint(path)
    assert str(path) in str(error.value)
    with pytest.raises(CheckpointError, match=expected):
        GeoEmbedder(weights=str(path)).fit([[0.0, 0.0]])


@pytest.mark.parametrize("weights", ["geoclip-1.3.0", "geoclip-lite"])
@pytest.mark.parametrize("precision", ["exact", "fast"])
def test_prepacked_and_plain_weights_agree(precision, weights, random_latlon):
    # geoclip-lite's one-layer branches run stacked (one product for all angles, a GEMM per branch)
    from geoembed.models.kernels import prepare_inference_weights

    path = resolve_location_weights(weights)
    encoder = load_location_encoder(path)
    x = torch.tensor(random_latlon[:500])
    xy = geoclip_projection(x)
    with torch.inference_mode():
        plain = encoder._mlp(xy, prepare_inference_weights(encoder, precision, xy.device, prepack=False)).numpy()
        per_branch = encoder.forward(x).numpy()  # the training path: one module per branch
    packed = encoder.embed(x, precision=precision).numpy()
    if precision == "exact":
        assert_geoclip_close(plain, random_latlon[:500], path, what="plain F.linear")
        assert_geoclip_close(packed, random_latlon[:500], path, what="pre-packed GEMM")
        assert_geoclip_close(per_branch, random_latlon[:500], path, what="forward")
    else:
        # bfloat16 MLPs: the documented contract of "fast" (cosine >= 0.9999 to the exact embedding) holds
        # for the pre-packed and the plain kernels alike, judged against the float64 reference. On CPUs
        # without native bfloat16, embed() falls back to float32 and must then meet the float32 bound.
        reference, _ = geoclip_reference(random_latlon[:500], str(path))
        assert cosine_rows(plain, reference).min() >= 0.9999
        if bfloat16_is_fast(xy.device):
            assert cosine_rows(packed, reference).min() >= 0.9999
        else:
            assert_geoclip_close(packed, random_latlon[:500], path, what="fast without native bfloat16 (float32)")
        assert_geoclip_close(per_branch, random_latlon[:500], path, what="forward")


@pytest.mark.parametrize("weights", ["geoclip-1.3.0", "geoclip-lite"])
@pytest.mark.parametrize("precision", ["exact", "fast"])
@pytest.mark.parametrize("prepack", [True, False])
def test_embedding_into_a_given_tensor_with_a_workspace(precision, weights, prepack, random_latlon):
    # GeoEmbedder's loop: each batch written into its rows of one output, intermediates kept in a
    # workspace across batches of changing size; values as from a plain call, nothing aliased
    from geoembed.models.kernels import prepare_inference_weights

    path = resolve_location_weights(weights)
    encoder = load_location_encoder(path)
    x = torch.tensor(random_latlon[:600], dtype=torch.float32)
    bfloat16 = precision == "fast" and bfloat16_is_fast(x.device)
    if prepack:

        def run(batch, out=None, workspace=None):
            return encoder.embed_resolved(batch, bfloat16=bfloat16, out=out, workspace=workspace)

    else:  # the plain F.linear kernels (CUDA, or CPU builds without the pre-packing ops)
        plain = prepare_inference_weights(encoder, "fast" if bfloat16 else "exact", x.device, prepack=False)

        def run(batch, out=None, workspace=None):
            with torch.inference_mode():
                return encoder._mlp(geoclip_projection(batch), plain, out, workspace)

    batches = [(0, 256), (256, 512), (512, 600)]
    out, workspace = torch.full((600, encoder.embed_dim), float("nan")), {}
    for start, stop in batches:
        rows = out[start:stop]
        assert run(x[start:stop], out=rows, workspace=workspace).data_ptr() == rows.data_ptr()
    kept = {}  # without out: every batch's result is its own tensor, whatever later batches do
    separate = torch.cat([run(x[start:stop], workspace=kept) for start, stop in batches])
    if weights == "geoclip-lite":
        assert set(workspace) == ({"features", "hidden"} if not bfloat16 else {"features"})
    with torch.inference_mode():  # the buffers are inference tensors
        for buffer in [*workspace.values(), *kept.values()]:  # no result shares their memory
            buffer.fill_(float("nan"))
    for what, embedded in (("into a given tensor", out.numpy()), ("returned", separate.numpy())):
        assert np.isfinite(embedded).all(), what
        if bfloat16:
            reference, _ = geoclip_reference(random_latlon[:600], str(path))
            assert cosine_rows(embedded, reference).min() >= 0.9999, what
        else:
            assert_geoclip_close(embedded, random_latlon[:600], path, what=what)
    for wrong in (torch.empty(10, 3), torch.empty(10, encoder.embed_dim, dtype=torch.float64)):
        with pytest.raises(ValueError, match="out must be a float32 tensor"):  # never silently resized
            encoder.embed_resolved(x[:10], bfloat16=bfloat16, out=wrong, workspace={})


def test_geoembedder_writes_a_students_rows_straight_into_its_output(random_latlon):
    # float32, no projection: the rows go straight into the output, the last batch short (600 = 2 x 256 + 88)
    from geoembed import GeoEmbedder

    path = resolve_location_weights("geoclip-lite")
    embedded = GeoEmbedder(weights="geoclip-lite", batch_size=256).fit_transform(random_latlon[:600])
    assert embedded.dtype == np.float32
    assert_geoclip_close(embedded, random_latlon[:600], path, what="GeoEmbedder, straight into its output")


def test_one_resolver_for_every_spelling_of_weights(tmp_path):
    """None, a name, an entry and a bundled path resolve to the same file, entry and recorded sha256."""
    import shutil

    from geoembed.core.errors import CheckpointError
    from geoembed.models.weights import DEFAULT_WEIGHTS, get_weights, resolve_weights

    lite = get_weights("geoclip-lite")
    for given in ("geoclip-lite", lite, lite.location_encoder_path, str(lite.location_encoder_path)):
        resolved = resolve_weights(given)
        assert resolved.path == lite.location_encoder_path and resolved.entry is lite and resolved.name == lite.name
    assert resolve_weights(None).entry is get_weights(DEFAULT_WEIGHTS)
    copy = tmp_path / "mine.safetensors"
    shutil.copyfile(lite.location_encoder_path, copy)
    mine = resolve_weights(copy)
    assert mine.entry is None and mine.name == "mine.safetensors"
    assert mine.sha256 == resolve_weights("geoclip-lite").sha256  # computed for a file, recorded for an entry
    with pytest.raises(CheckpointError, match="neither a registered name"):
        resolve_weights("geoclip-heavy")


def file_sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _registered_copy(tmp_path, monkeypatch, name="geoclip-lite-copy"):
    """A registry entry whose folder is a copy of geoclip-lite's (file and PROVENANCE.json)."""
    import dataclasses
    import shutil

    import geoembed.models.weights as registry

    original = registry.get_weights("geoclip-lite")
    folder = tmp_path / name
    shutil.copytree(original.directory, folder)
    entry = dataclasses.replace(original, name=name, directory=folder)
    monkeypatch.setitem(registry._REGISTRY, name, entry)
    return entry


def test_tampered_registered_weights_are_refused_before_use(tmp_path, monkeypatch):
    """One changed tensor in a registered file: its sha256 no longer matches the registry, and loading stops."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from geoembed import GeoEmbedder

    entry = _registered_copy(tmp_path, monkeypatch)
    points = np.array([[48.85, 2.35], [-33.9, 151.2]])
    untampered = GeoEmbedder(weights=entry.name).fit_transform(points)
    np.testing.assert_array_equal(untampered, GeoEmbedder(weights="geoclip-lite").fit_transform(points))

    path = entry.location_encoder_path
    expected = entry.provenance()["files"][path.name]
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    state = load_file(str(path))
    state["branches.2.head.bias"][0] += 0.01
    save_file(state, str(path), metadata=metadata)
    found = file_sha256(path)
    message = rf"{path.name} of 'geoclip-lite-copy' does not match the sha256 .*expected {expected}, found {found}"
    with pytest.raises(CheckpointError, match=message):
        GeoEmbedder(weights=entry.name).fit(points)
    with pytest.raises(CheckpointError, match=message):
        load_location_encoder(entry.name)
    with pytest.raises(CheckpointError, match=message):
        GeoCLIPLocationEncoder.from_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        get_weights(entry.name).verify()


def test_registered_weights_are_hashed_once_per_file_version(tmp_path, monkeypatch):
    import geoembed.models.weights as registry

    entry = _registered_copy(tmp_path, monkeypatch, name="geoclip-lite-hashed")
    path = entry.location_encoder_path
    calls = []
    monkeypatch.setattr(registry, "file_sha256", lambda p: calls.append(p) or file_sha256(Path(p)))
    for _ in range(3):
        verify_weights_file(path)
    assert len(calls) == 1
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))  # a new version of the file
    verify_weights_file(path)
    assert len(calls) == 2
    own = tmp_path / "own.safetensors"  # not in any registry entry: nothing recorded to compare with
    GeoCLIPLocationEncoder(LocationEncoderConfig(n_frequencies=8, hidden_dim=16, embed_dim=4)).save(own)
    assert verify_weights_file(own) == own and len(calls) == 2


@pytest.mark.parametrize("name", ["geoclip-1.3.0", "geoclip-lite"])
def test_a_registered_architecture_has_one_source_the_checkpoint(name):
    """Weights.architecture is read from the file's metadata, and is the loaded model's config;
    Weights(config=...) (a second, hand-written copy that nothing read) warns and is ignored."""
    import dataclasses

    from geoembed.models.weights import Weights, get_weights

    entry = get_weights(name)
    assert entry.config is None
    assert LocationEncoderConfig.from_json(json.dumps(entry.architecture)) == load_location_encoder(name).config
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    with pytest.warns(FutureWarning, match=r"Weights\(config=...\) is deprecated and ignored"):
        Weights(**{**fields, "config": {"sigmas": [1.0]}})


def test_a_fitted_estimator_keeps_the_checkpoint_it_was_fitted_on(tmp_path, monkeypatch):
    """A relative weights path is the fit's working directory: a pickled estimator (as joblib,
    dask and Spark ship it) loads that file from any other directory, and refuses a different
    file at that path.
    """
    import pickle
    import shutil

    from geoembed import GeoEmbedder
    from geoembed.models.weights import get_weights

    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    shutil.copy(get_weights("geoclip-lite").location_encoder_path, first / "model.safetensors")
    shutil.copy(get_weights("geoclip-1.3.0").location_encoder_path, second / "model.safetensors")
    points = np.array([[48.8566, 2.3522], [40.7128, -74.006]])
    monkeypatch.chdir(first)
    fitted = GeoEmbedder(weights="model.safetensors").fit(points)
    expected, shipped = fitted.transform(points), pickle.dumps(fitted)
    assert fitted.encoder_.weights_file_ == (first / "model.safetensors").resolve()
    monkeypatch.chdir(second)  # another model under the same relative name
    np.testing.assert_array_equal(pickle.loads(shipped).transform(points), expected)
    shutil.copy(second / "model.safetensors", first / "model.safetensors")  # the file itself replaced
    with pytest.raises(CheckpointError, match="not the checkpoint this estimator was fitted on"):
        pickle.loads(shipped).transform(points)
    # fitted again, in this process too it is the file's new content (its loaded module was kept before)
    monkeypatch.chdir(first)
    refitted = fitted.fit(points).transform(points)
    np.testing.assert_array_equal(refitted, GeoEmbedder(weights="geoclip-1.3.0").fit_transform(points))
    # registered weights are found by name, wherever the package is installed
    assert GeoEmbedder(weights="geoclip-lite").fit(points).encoder_.weights_file_ is None


def test_registering_weights_needs_their_provenance(tmp_path, monkeypatch):
    import shutil

    from geoembed import GeoEmbedder
    from geoembed.core.utils import file_sha256
    from geoembed.models import weights as registry
    from geoembed.models.weights import Weights, get_weights, register_weights

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone after the test
    folder = tmp_path / "mine"
    folder.mkdir()
    checkpoint = shutil.copy(get_weights("geoclip-lite").location_encoder_path, folder / "le.safetensors")
    entry = Weights("mine", folder, "le.safetensors", "MIT", "me", "here")
    with pytest.raises(CheckpointError, match=r"cannot register weights 'mine': its folder has no PROVENANCE.json"):
        register_weights(entry)
    (folder / "PROVENANCE.json").write_text(json.dumps({"files": {"le.safetensors": file_sha256(checkpoint)}}))
    register_weights(entry)
    points = np.array([[48.8566, 2.3522]])
    np.testing.assert_array_equal(
        GeoEmbedder(weights="mine").fit_transform(points), GeoEmbedder(weights="geoclip-lite").fit_transform(points)
    )
