"""The PCA basis behind n_components: its computation, nested prefixes, the bundled bases and a
checkpoint's sibling basis."""

import dataclasses
import shutil

import numpy as np
import pytest
from numerics import (
    FLOAT32_UNIT_ROUNDOFF,
    LAMBDA,
    covariance_perturbation,
    eigenvector_atol,
    float32_matmul_bound,
    float64_covariance_eigh_perturbation,
    geoclip_reference,
    rounded_orthonormal_atol,
)
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from geoembed import GeoEmbedder
from geoembed.core.errors import CheckpointError
from geoembed.core.utils import file_sha256
from geoembed.encoders.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig
from geoembed.models.pca_basis import (
    compute_pca_basis,
    fibonacci_lattice,
    pca_basis_path,
    principal_components,
    write_pca_basis,
)
from geoembed.models.weights import get_weights, load_pca_basis

POINTS = np.array(
    [[48.8566, 2.3522], [40.7128, -74.006], [-33.8688, 151.2093], [35.6762, 139.6503], [-1.29, 36.82], [64.1, -21.9]]
)
SMALL = LocationEncoderConfig(sigmas=(1.0, 16.0), n_frequencies=8, hidden_dim=16, n_hidden_layers=1, embed_dim=12)


def small_checkpoint(folder, random_state=0):
    folder.mkdir(parents=True, exist_ok=True)
    return GeoCLIPLocationEncoder(SMALL, random_state=random_state).save(folder / "location_encoder.safetensors")


def aligned(reference, components):
    """The reference rows with the signs of ``components`` (a sign is a convention, not a result)."""
    return reference * np.sign(np.sum(reference * components, axis=1, keepdims=True))


def test_principal_components_against_a_float64_svd():
    rng = np.random.default_rng(0)
    n, d = 3000, 10
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    data = rng.normal(size=(n, d)) * np.geomspace(10, 0.1, d) @ rotation + rng.normal(size=d)
    mean, components, ratio = principal_components(data)
    centred = data - data.mean(axis=0)
    _, singular, reference = np.linalg.svd(centred, full_matrices=False)  # an independent method
    values = singular**2 / (n - 1)
    perturbation = 2 * float64_covariance_eigh_perturbation(centred)
    np.testing.assert_allclose(mean, data.mean(axis=0), rtol=0, atol=n * 2.0**-53 * np.abs(data).max())
    np.testing.assert_allclose(components @ components.T, np.eye(d), rtol=0, atol=rounded_orthonormal_atol(2.0**-53))
    tolerance = eigenvector_atol(values, perturbation)
    errors = np.linalg.norm(components - aligned(reference, components), axis=1)
    assert np.all(errors <= tolerance), (errors, tolerance)
    # ordered by variance, the variance along each component its eigenvalue (Weyl: within ||E||)
    assert np.all(np.diff(ratio) <= 0)
    np.testing.assert_allclose(ratio * values.sum(), values, rtol=0, atol=perturbation)
    # the sign convention: each component's largest-magnitude loading is positive
    assert np.all(components[np.arange(d), np.abs(components).argmax(axis=1)] > 0)


def test_compute_pca_basis_against_a_float64_reference(tmp_path):
    checkpoint = small_checkpoint(tmp_path / "run")
    n = 4000
    basis = compute_pca_basis(checkpoint, n_points=n)
    assert {k: v.dtype for k, v in basis.items()} == dict.fromkeys(basis, np.float32)
    components = basis["components"].astype(np.float64)
    np.testing.assert_allclose(components @ components.T, np.eye(12), rtol=0, atol=rounded_orthonormal_atol())
    assert np.all(np.diff(basis["explained_variance_ratio"]) <= 0)

    latlon = fibonacci_lattice(n)
    reference, scale = geoclip_reference(latlon, checkpoint)  # float64 embedding, float32 rounding scale
    ref_mean, ref_components, ref_ratio = principal_components(reference)
    centred = reference - ref_mean
    error = LAMBDA * scale  # the float32 embedding is within this of the float64 one
    perturbation = covariance_perturbation(centred, error) + 2 * float64_covariance_eigh_perturbation(centred)
    values = ref_ratio * np.trace(np.cov(centred, rowvar=False))
    tolerance = eigenvector_atol(values, perturbation) + FLOAT32_UNIT_ROUNDOFF
    checked = tolerance < 0.5
    assert checked[:4].all(), tolerance  # the leading components are well separated
    errors = np.linalg.norm(components - aligned(ref_components, components), axis=1)
    assert np.all(errors[checked] <= tolerance[checked]), (errors, tolerance)
    mean_bound = error.max() + FLOAT32_UNIT_ROUNDOFF * np.abs(ref_mean)
    assert np.all(np.abs(basis["mean"] - ref_mean) <= mean_bound)


@pytest.mark.parametrize("weights", [None, "geoclip-lite"])
def test_outputs_are_nested(weights):
    """The first k columns of n_components=256 are the n_components=k output (Matryoshka prefixes)."""
    raw = GeoEmbedder(weights=weights).fit_transform(POINTS)
    basis = load_pca_basis(weights or "geoclip-1.3.0")
    centred = (raw - basis["mean"]).astype(np.float32)
    wide = GeoEmbedder(weights=weights, n_components=256).fit_transform(POINTS)
    exact = centred.astype(np.float64) @ basis["components"][:256].astype(np.float64).T
    assert np.all(np.abs(wide - exact) <= float32_matmul_bound(centred, basis["components"][:256]))
    for k in (64, 128):
        narrow = GeoEmbedder(weights=weights, n_components=k).fit_transform(POINTS)
        bound = 2 * float32_matmul_bound(centred, basis["components"][:k])
        assert narrow.shape == (len(POINTS), k)
        assert np.all(np.abs(wide[:, :k] - narrow) <= bound)


def test_the_lite_basis_is_its_own_bundled_and_checked(tmp_path, monkeypatch):
    import geoembed.models.weights as registry

    lite = get_weights("geoclip-lite")
    lite.verify()  # every file, the basis included, against PROVENANCE.json
    path = lite.path("pca_basis")
    provenance = lite.provenance()
    assert provenance["files"][path.name] == file_sha256(path)
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata["checkpoint_sha256"] == provenance["files"]["location_encoder.safetensors"]
    assert "tools/make_pca_basis.py --weights geoclip-lite" in metadata["command"]
    basis = load_pca_basis("geoclip-lite")
    assert basis["components"].shape == (512, 512)
    assert not np.allclose(basis["mean"], load_pca_basis("geoclip-1.3.0")["mean"])  # lite's own outputs
    out = GeoEmbedder(weights="geoclip-lite", n_components=8).set_output(transform="pandas").fit_transform(POINTS)
    assert list(out.columns[:2]) == ["geoclip_lite_pc0", "geoclip_lite_pc1"]

    # a tampered copy of the folder: the basis no longer matches its recorded sha256
    folder = tmp_path / "lite-copy"
    shutil.copytree(lite.directory, folder)
    entry = dataclasses.replace(lite, name="geoclip-lite-copy", directory=folder)
    monkeypatch.setitem(registry._REGISTRY, entry.name, entry)
    tampered = load_file(str(folder / path.name))
    tampered["mean"][0] += 0.01
    save_file(tampered, str(folder / path.name), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"pca_basis.safetensors of 'geoclip-lite-copy' does not match"):
        load_pca_basis(entry.name)
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        GeoEmbedder(weights=entry.name, n_components=8).fit(POINTS)


def test_a_checkpoint_uses_its_own_basis_only(tmp_path, monkeypatch):
    checkpoint = small_checkpoint(tmp_path / "a")
    basis_file = pca_basis_path(checkpoint)
    with monkeypatch.context() as patch:  # refused before the encoder is loaded
        patch.setattr("geoembed.models.geoclip.load_location_encoder", lambda *a: pytest.fail("encoder loaded"))
        with pytest.raises(CheckpointError) as missing:
            GeoEmbedder(weights=str(checkpoint), n_components=4).fit(POINTS)
    message = str(missing.value)
    assert "n_components=4" in message and str(basis_file) in message and "write_pca_basis" in message

    assert write_pca_basis(checkpoint, n_points=2000) == basis_file
    with safe_open(str(basis_file), framework="numpy") as f:
        assert f.metadata()["checkpoint_sha256"] == file_sha256(checkpoint)
    basis = load_file(str(basis_file))
    raw = GeoEmbedder(weights=str(checkpoint)).fit_transform(POINTS)
    out = GeoEmbedder(weights=str(checkpoint), n_components=4).fit_transform(POINTS)
    centred = (raw - basis["mean"]).astype(np.float32)
    exact = centred.astype(np.float64) @ basis["components"][:4].astype(np.float64).T
    assert np.all(np.abs(out - exact) <= float32_matmul_bound(centred, basis["components"][:4]))
    with pytest.raises(ValueError, match="n_components=13 exceeds the 12 components"):
        GeoEmbedder(weights=str(checkpoint), n_components=13).fit(POINTS)

    # another checkpoint next to this basis (e.g. a later epoch, or a copied folder): refused
    other = small_checkpoint(tmp_path / "b", random_state=1)
    shutil.copyfile(basis_file, pca_basis_path(other))
    with pytest.raises(CheckpointError) as mismatched:
        GeoEmbedder(weights=str(other), n_components=4).fit(POINTS)
    message = str(mismatched.value)
    assert "n_components=4" in message and "was not computed from" in message and file_sha256(other) in message
    assert "write_pca_basis" in message
