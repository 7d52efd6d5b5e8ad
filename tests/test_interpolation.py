"""GeoCLIP interpolated on a latitude/longitude grid: ``GeoEmbedder(interpolation_km=...)``."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numerics import FLOAT32_UNIT_ROUNDOFF, geoclip_bound

from geoembed import GeoEmbedder
from geoembed.core.geo import KM_PER_DEGREE, bilinear_grid_cells
from geoembed.encoders import GeoCLIPEncoder


def _points(n, seed=0, lat=44.98, lon=-93.27, half_width=0.1):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [lat + rng.uniform(-half_width, half_width, n), lon + rng.uniform(-half_width, half_width, n)]
    )


def test_grid_cells_reproduce_linear_functions_and_weights_sum_to_one():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)
    step = 0.37
    nodes, rows, weights = bilinear_grid_cells(lat, lon, step)
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # bilinear interpolation of the node coordinates gives back each point (an exact identity)
    np.testing.assert_allclose(np.einsum("nk,nkd->nd", weights, nodes[rows]), np.column_stack([lat, lon]), atol=1e-9)
    # nodes sit on multiples of the step, each point inside its cell, and every node is distinct
    np.testing.assert_allclose(nodes / step, np.round(nodes / step), atol=1e-9)
    assert len(np.unique(nodes, axis=0)) == len(nodes)
    cell = nodes[rows]
    assert (cell[:, 0, 0] <= lat).all() and (lat <= cell[:, 1, 0]).all()
    assert (cell[:, 0, 1] <= lon).all() and (lon <= cell[:, 2, 1]).all()


def test_grid_cells_are_not_wrapped_at_the_antimeridian_or_the_poles():
    nodes, rows, weights = bilinear_grid_cells([89.9, -10.0], [179.9, -179.9], 0.5)
    north_east = nodes[rows[0]]
    assert north_east[:, 0].max() == 90.0 and north_east[:, 1].max() == 180.0
    west = nodes[rows[1]]
    assert west[:, 1].min() == -180.0 and west[:, 1].max() == -179.5


def test_a_point_on_a_node_takes_that_node_alone():
    nodes, rows, weights = bilinear_grid_cells([1.5], [-2.0], 0.5)
    assert weights[0].max() == 1.0
    np.testing.assert_array_equal(nodes[rows[0, weights[0].argmax()]], [1.5, -2.0])


def test_interpolated_output_is_the_bilinear_mix_of_the_exact_model_at_the_nodes():
    points = _points(300)
    km = 2.0
    out = GeoCLIPEncoder(interpolation_km=km).fit_transform(points)
    nodes, rows, weights = bilinear_grid_cells(points[:, 0], points[:, 1], km / KM_PER_DEGREE)
    nodes32 = nodes.astype(np.float32).astype(np.float64)  # the model sees float32 nodes
    at_nodes, reference, tolerance = geoclip_bound(GeoCLIPEncoder().fit_transform(nodes32), nodes32)
    mixed = np.einsum("nk,nkd->nd", weights, reference[rows])
    # each node within its float32 bound, then a 4-term float32 weighted sum (a few roundings)
    bound = np.einsum("nk,nkd->nd", weights, tolerance[rows])
    bound += 8 * FLOAT32_UNIT_ROUNDOFF * np.einsum("nk,nkd->nd", weights, np.abs(reference[rows]))
    assert (np.abs(out - mixed) <= bound).all()
    # and a missing corner would show: the mix differs from any single corner's value
    assert np.abs(mixed - reference[rows[:, 0]]).max() > 100 * bound.max()


def test_each_row_is_a_fixed_function_of_its_point():
    points = _points(200, seed=3)
    together = GeoCLIPEncoder(interpolation_km=1.0, batch_size=64).fit_transform(points)
    alone = np.concatenate(
        [GeoCLIPEncoder(interpolation_km=1.0).fit_transform(points[i : i + 1]) for i in (0, 57, 199)]
    )
    # the same float64 computation rounded independently: a few ulps of the largest value
    scale = np.abs(together).max()
    np.testing.assert_allclose(alone, together[[0, 57, 199]], rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * scale)


def test_inside_a_city_fine_spacing_keeps_the_exact_embedding():
    # a property of the model, not of a CPU: at 0.25 km the embedding barely changes within a cell
    points = _points(500, seed=5, lat=48.86, lon=2.35)
    exact = GeoEmbedder().fit_transform(points).astype(np.float64)
    interpolated = GeoEmbedder(interpolation_km=0.25).fit_transform(points).astype(np.float64)
    cosine = (exact * interpolated).sum(1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(interpolated, axis=1)
    assert cosine.min() > 0.9995
    coarse = GeoEmbedder(interpolation_km=20.0).fit_transform(points).astype(np.float64)
    cosine_coarse = (exact * coarse).sum(1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(coarse, axis=1)
    assert cosine_coarse.min() < 0.99  # the check can fail: a coarse grid loses the city's detail


def test_interpolation_composes_with_projection_normalisation_and_keeps_the_index():
    points = _points(100, seed=7)
    frame = pd.DataFrame({"longitude": points[:, 1], "latitude": points[:, 0]}, index=np.arange(100)[::-1] * 3)
    raw = GeoEmbedder(interpolation_km=1.0).fit_transform(points).astype(np.float64)
    embedder = GeoEmbedder(interpolation_km=1.0, n_components=16, normalize=True).set_output(transform="pandas")
    out = embedder.fit_transform(frame)
    assert list(out.index) == list(frame.index)
    from geoembed.models.weights import load_pca_basis

    basis = load_pca_basis()
    projected = (raw - basis["mean"]) @ basis["components"][:16].T.astype(np.float64)
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)
    np.testing.assert_allclose(out.to_numpy(), projected, rtol=0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(out.to_numpy(), axis=1), 1.0, atol=1e-5)
    # the nodes are kept projected (16 columns, not 512); another n_components is another cache
    assert embedder.encoder_._node_cache.buffer.shape[1] == 16
    embedder.set_params(n_components=8).fit(frame)
    np.testing.assert_allclose(
        embedder.transform(frame).to_numpy(),
        out.to_numpy()[:, :8] / np.linalg.norm(out.to_numpy()[:, :8], axis=1, keepdims=True),
        rtol=0,
        atol=1e-4,
    )


@pytest.mark.parametrize("value", [0, -1.0, 1e-6, 5000.0])
def test_interpolation_km_is_validated_before_any_work(value):
    with pytest.raises(ValueError, match="interpolation_km"):
        GeoEmbedder(interpolation_km=value).fit([[0.0, 0.0]])


def test_interpolation_km_is_refused_for_an_encoder_without_it():
    with pytest.raises(ValueError, match="interpolation_km"):
        GeoEmbedder(encoder="sphereC+", interpolation_km=1.0).fit([[0.0, 0.0]])


def test_the_cli_interpolates_when_asked_and_refuses_it_for_other_encoders(tmp_path, capsys):
    from geoembed.cli import main

    points = _points(150, seed=11)
    path = tmp_path / "points.csv"
    pd.DataFrame({"Latitude": points[:, 0], "Longitude": points[:, 1]}).to_csv(path, index=False)
    out = tmp_path / "out.npy"
    # chunks of 64 rows: each chunk interpolates on its own, with the same nodes
    assert main(["embed", str(path), "-o", str(out), "--interpolation-km", "1", "--chunk-rows", "64", "-q"]) == 0
    expected = GeoEmbedder(interpolation_km=1.0).fit_transform(points)
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * np.abs(expected).max())
    exact = GeoEmbedder().fit_transform(points)
    assert np.abs(np.load(out) - exact).max() > 1e-4  # it did interpolate
    refused = tmp_path / "no.npy"
    assert main(["embed", str(path), "-o", str(refused), "--encoder", "sphereC+", "--interpolation-km", "1"]) == 2
    assert "--interpolation-km 1.0 does not apply to --encoder sphereC+" in capsys.readouterr().err
    assert not refused.exists()
    # the node cache's size is an option too; chunks of points spread wide with no cache warn, same values
    wide = _points(150, seed=12, half_width=2.0)
    pd.DataFrame({"Latitude": wide[:, 0], "Longitude": wide[:, 1]}).to_csv(path, index=False)
    args = ["embed", str(path), "-o", str(out), "--overwrite", "--interpolation-km", "0.5", "--chunk-rows", "64", "-q"]
    assert main([*args, "--interpolation-cache-gb", "0"]) == 0
    assert "geoembed: warning: RuntimeWarning: --interpolation-km 0.5: " in capsys.readouterr().err
    expected = GeoEmbedder(interpolation_km=0.5).fit_transform(wide)
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * np.abs(expected).max())
    assert main([*args, "--interpolation-cache-gb", "-1"]) == 2
    assert "--interpolation-cache-gb: must be a number >= 0" in capsys.readouterr().err


def _count_embedded_rows(monkeypatch, encoder):
    """Patch the encoder's module to count the points it embeds."""
    module = encoder.module_
    counted = []
    original = module.embed_resolved

    def counting(latlon, **kwargs):
        counted.append(latlon.shape[0])
        return original(latlon, **kwargs)

    monkeypatch.setattr(module, "embed_resolved", counting)
    return counted


def test_a_stream_of_chunks_computes_each_node_once(monkeypatch):
    import copy
    import pickle

    points = _points(400, seed=13)
    encoder = GeoCLIPEncoder(interpolation_km=1.0).fit(points)
    counted = _count_embedded_rows(monkeypatch, encoder)
    first = encoder.transform(points[:200])
    n_first = sum(counted)
    second = encoder.transform(points[200:])
    nodes_all, *_ = bilinear_grid_cells(points[:, 0], points[:, 1], 1.0 / KM_PER_DEGREE)
    nodes_first, *_ = bilinear_grid_cells(points[:200, 0], points[:200, 1], 1.0 / KM_PER_DEGREE)
    assert n_first == len(nodes_first)
    assert sum(counted) == len(nodes_all)  # the second call embedded only the nodes the first did not
    again = encoder.transform(points)
    assert sum(counted) == len(nodes_all)  # everything cached now
    whole = GeoCLIPEncoder(interpolation_km=1.0).fit_transform(points)
    tolerance = 64 * FLOAT32_UNIT_ROUNDOFF * np.abs(whole).max()
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=0, atol=tolerance)
    np.testing.assert_allclose(again, whole, rtol=0, atol=tolerance)
    # the cache is not state: pickles and clones start without it, and the pickled estimator keeps
    # its own (dask and Spark pickle it for every call; it once emptied the live one)
    assert "_node_cache" not in pickle.loads(pickle.dumps(encoder)).__dict__
    assert "_node_cache" not in copy.deepcopy(encoder).__dict__
    assert encoder.__dict__.get("_node_cache") is not None and "_module" in encoder.__dict__
    before = sum(counted)  # the shared module counts the fresh encoder's nodes too
    encoder.transform(points)
    assert sum(counted) == before  # still cached: nothing embedded again
    # another spacing is another grid
    encoder.set_params(interpolation_km=2.0)
    coarse = encoder.transform(points)
    np.testing.assert_allclose(
        coarse, GeoCLIPEncoder(interpolation_km=2.0).fit_transform(points), rtol=0, atol=tolerance
    )


def test_the_node_cache_stays_within_its_bound():
    import warnings

    points = _points(300, seed=17)
    nodes_first, *_ = bilinear_grid_cells(points[:150, 0], points[:150, 1], 1.0 / KM_PER_DEGREE)
    row_bytes = 512 * 4
    limit = (len(nodes_first) + 5) * row_bytes
    encoder = GeoCLIPEncoder(interpolation_km=1.0, interpolation_cache_gb=limit / 2**30).fit(points)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fewer new nodes than points: no warning
        out = np.concatenate([encoder.transform(points[:150]), encoder.transform(points[150:])])
    assert encoder._node_cache.buffer.shape[0] * row_bytes <= limit
    # the second call kept as many of its new nodes as fit
    assert len(encoder._node_cache.sorted_keys) == len(nodes_first) + 5
    whole = GeoCLIPEncoder(interpolation_km=1.0).fit_transform(points)
    np.testing.assert_allclose(out, whole, rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * np.abs(whole).max())


def test_beyond_its_bound_the_cache_gathers_from_two_parts_without_copying_the_calls_nodes():
    import torch

    from geoembed.encoders.geoclip.estimator import _NodeCache

    def compute(latlon):  # a node's "embedding" is its own coordinates and their sum
        latlon = torch.from_numpy(np.asarray(latlon, dtype=np.float32))
        return torch.cat([latlon, latlon.sum(1, keepdim=True)], dim=1)

    nodes = np.stack([np.arange(20.0), -np.arange(20.0) / 2], axis=1)
    keys = np.arange(20, dtype=np.int64) * 7
    cache = _NodeCache("key")
    limit = 8 * 3 * 4  # eight nodes of three float32 columns
    cache.embed(keys[:6], nodes[:6], compute, limit)  # six nodes cached
    wanted = np.array([3, 15, 1, 9, 12, 5, 19])  # cached, new and kept, new beyond the bound
    parts, computed, uncached = cache.embed(keys[wanted], nodes[wanted], compute, limit)
    assert (computed, uncached) == (4, 2) and len(parts) == 2
    cached_table, new_table = (table for table, _ in parts)
    assert new_table.shape[0] == computed  # only the computed rows, no table of all 7 nodes
    assert cached_table is cache.buffer
    got = np.zeros((len(wanted), 3), dtype=np.float32)
    for table, where in parts:
        assert ((where >= 0).sum() > 0) and (where < table.shape[0]).all()
        got[where >= 0] = table[torch.from_numpy(where[where >= 0])].numpy()
    covered = sum((where >= 0).astype(int) for _, where in parts)
    assert (covered == 1).all()  # every node in exactly one part
    np.testing.assert_array_equal(got, compute(nodes[wanted]).numpy())


def test_a_full_node_cache_warns_once_when_interpolating_costs_more_than_the_model():
    import warnings

    # points spread over a region at a fine spacing: each needs about four nodes of its own
    points = _points(200, seed=19, half_width=2.0)
    encoder = GeoCLIPEncoder(interpolation_km=0.5, interpolation_cache_gb=0).fit(points)
    with pytest.warns(
        RuntimeWarning, match=r"interpolation_cache_gb=0: 0 nodes.*computed [0-9,]+ grid nodes for 100 distinct points"
    ) as seen:
        first = encoder.transform(points[:100])
    assert seen[0].filename == __file__  # it points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = encoder.transform(points[100:])  # once per transformer
    assert encoder._node_cache.buffer is None  # a zero bound caches nothing
    # the values do not depend on the cache
    whole = GeoCLIPEncoder(interpolation_km=0.5).fit_transform(points)
    atol = 64 * FLOAT32_UNIT_ROUNDOFF * np.abs(whole).max()
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=0, atol=atol)


def test_a_refit_starts_a_new_node_cache_and_a_lower_bound_a_smaller_one():
    points = _points(200, seed=23)
    encoder = GeoCLIPEncoder(interpolation_km=1.0).fit(points)
    encoder.transform(points)  # raw nodes cached
    encoder.set_params(n_components=16).fit(points)
    projected = encoder.transform(points)
    fresh = GeoCLIPEncoder(interpolation_km=1.0, n_components=16).fit_transform(points)
    np.testing.assert_allclose(projected, fresh, rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * np.abs(fresh).max())
    assert encoder._node_cache.buffer.shape[1] == 16
    # a bound set below what the cache holds is kept by the next call
    row_bytes = 16 * 4
    encoder.set_params(interpolation_cache_gb=50 * row_bytes / 2**30)
    again = encoder.transform(points)
    assert encoder._node_cache.held_bytes() <= 50 * row_bytes
    np.testing.assert_allclose(again, fresh, rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * np.abs(fresh).max())


@pytest.mark.filterwarnings("ignore:interpolation_km=25:RuntimeWarning")  # the cache is meant to fill
def test_the_benchmarks_count_of_model_evaluations_is_the_caches(monkeypatch):
    from benchmarks.interpolated import COUNTRY, _stream_evaluations
    from geoembed.core.geo import equal_area_points

    km, cache_gb, chunks, chunk_rows = 25.0, 300 * 512 * 4 / 2**30, 4, 400
    counted, most = _stream_evaluations(km, cache_gb, chunks, chunk_rows, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # the same chunks, through the estimator
    encoder = GeoCLIPEncoder(interpolation_km=km, interpolation_cache_gb=cache_gb).fit(_points(2))
    embedded = _count_embedded_rows(monkeypatch, encoder)
    per_call = []
    for _ in range(chunks):
        before = sum(embedded)
        encoder.transform(equal_area_points(rng, chunk_rows, *COUNTRY[1:]))
        per_call.append(sum(embedded) - before)
    assert sum(embedded) == counted
    assert len(encoder._node_cache.sorted_keys) == 300  # the cache filled, so the policy mattered
    assert most == max(per_call)  # the memory column: the most nodes one call computes


def test_the_interpolated_values_do_not_depend_on_what_the_cache_holds(monkeypatch):
    """Each point sums its four corners in the same order whether they come from the cache, from the
    call's computed rows or both: bit-identical outputs for any interpolation_cache_gb (the nodes'
    values made a fixed function of each node, so only the gather is compared)."""
    import torch

    def node_values(latlon, **kwargs):  # row-independent, irrational-looking values: rounding shows
        latlon = latlon.to(torch.float64)
        angles = latlon[:, :1] * torch.arange(1, 513, dtype=torch.float64) + latlon[:, 1:] * 0.37
        return torch.sin(angles).to(torch.float32)

    first, second = _points(300, seed=31), _points(300, seed=32, lat=45.05)
    outputs = []
    for cache_gb in (2.0, 300 * 512 * 4 / 2**30, 0.0):  # all cached, partly (two parts), nothing kept
        encoder = GeoCLIPEncoder(interpolation_km=1.0, interpolation_cache_gb=cache_gb).fit(first)
        monkeypatch.setattr(encoder.module_, "embed_resolved", node_values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the full cache's warning
            encoder.transform(first)
            outputs.append(encoder.transform(second))
        monkeypatch.undo()
    assert len(encoder._node_cache.sorted_keys) == 0
    np.testing.assert_array_equal(outputs[1], outputs[0])
    np.testing.assert_array_equal(outputs[2], outputs[0])
