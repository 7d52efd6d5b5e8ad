"""CUDA paths: the same numbers as the float64 reference within the float32 bound, and a
distillation that trains on the GPU. Skipped where torch sees no CUDA device."""

import numpy as np
import pytest
import torch
from numerics import assert_geoclip_close

from geoembed import GeoEmbedder
from geoembed.encoders.geoclip import LocationEncoderConfig
from geoembed.models.weights import resolve_location_weights
from geoembed.training import DistillConfig, Distiller

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

PLACES = np.array([[48.8566, 2.3522], [-33.8688, 151.2093], [40.7128, -74.0060], [0.0, 0.0], [89.9, 179.9]])


@pytest.mark.parametrize("weights", ["geoclip-1.3.0", "geoclip-lite"])
def test_cuda_embeddings_are_float32_exact(weights):
    rng = np.random.default_rng(0)
    latlon = np.concatenate([PLACES, np.column_stack([rng.uniform(-90, 90, 200), rng.uniform(-180, 180, 200)])])
    cuda = GeoEmbedder(weights=weights, device="cuda").fit_transform(latlon)
    assert cuda.dtype == np.float32
    assert_geoclip_close(cuda, latlon, resolve_location_weights(weights), what=f"{weights} on CUDA")
    fast = GeoEmbedder(weights=weights, precision="fast", device="cuda").fit_transform(latlon)
    cosine = (fast * cuda).sum(1) / np.linalg.norm(fast, axis=1) / np.linalg.norm(cuda, axis=1)
    assert cosine.min() > 0.999  # bfloat16 MLPs: 8 mantissa bits, float32 accumulation


def test_distillation_trains_on_cuda(tmp_path):
    student = LocationEncoderConfig(
        sigmas=(1.0, 16.0, 256.0), n_frequencies=16, hidden_dim=32, n_hidden_layers=1, embed_dim=512
    )
    config = DistillConfig(student=student, n_points=4000, epochs=2, batch_size=256, learning_rate=1e-2, device="cuda")
    history = Distiller(config).fit(out_dir=tmp_path / "run", progress=False)
    assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]
    out = GeoEmbedder(weights=str(tmp_path / "run" / "location_encoder.safetensors")).fit_transform(PLACES)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("weights", ["geoclip-1.3.0", "geoclip-lite"])
def test_cuda_batches_come_back_in_order_through_pinned_buffers(weights):
    """Many small batches, a ragged last one and repeated rows: every row lands in its place."""
    rng = np.random.default_rng(1)
    latlon = np.column_stack([rng.uniform(-90, 90, 997), rng.uniform(-180, 180, 997)])
    latlon = np.concatenate([latlon, latlon[:50], PLACES])  # repeats take the deduplicated path
    batched = GeoEmbedder(weights=weights, device="cuda", batch_size=64).fit_transform(latlon)
    assert_geoclip_close(batched, latlon, resolve_location_weights(weights), what=f"{weights}, batches of 64")
    np.testing.assert_array_equal(batched[997:1047], batched[:50])
    half = GeoEmbedder(weights=weights, device="cuda", batch_size=64, dtype="float16").fit_transform(latlon)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.astype(np.float32), batched, rtol=2**-10, atol=2**-14)  # one float16 rounding
    compact = GeoEmbedder(weights=weights, device="cuda", batch_size=64, n_components=16, normalize=True)
    projected = compact.fit_transform(latlon)
    on_cpu = GeoEmbedder(weights=weights, batch_size=4096, n_components=16, normalize=True).fit_transform(latlon)
    assert projected.shape == (len(latlon), 16)
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, rtol=1e-5)
    assert ((projected * on_cpu).sum(1) > 0.9999).all()  # unit rows: the same direction on both devices
