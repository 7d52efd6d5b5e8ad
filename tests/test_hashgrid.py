"""The multiresolution grid branch of location encoders (geoembed.models.hashgrid)."""

import numpy as np
import pytest
import torch

from geoembed.core.params import InvalidParameterError
from geoembed.models.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig, geoclip_projection
from geoembed.models.hashgrid import HashGridBranch, grid_corner_rows
from geoembed.training import DistillConfig, distillation_points


def _points(n=500, seed=0):
    rng = np.random.default_rng(seed)
    latlon = np.column_stack([rng.uniform(-89.99, 89.99, n), rng.uniform(-180, 180, n)])
    # the plane's edges: both poles, the antimeridian from either side
    latlon = np.vstack([latlon, [[90, 180], [-90, -180], [0, -180], [0, 180], [45.5, 179.9999]]])
    return torch.from_numpy(latlon).float()


def test_a_dense_level_interpolates_a_linear_function_exactly():
    # corners hold a linear function of their position: bilinear interpolation must return that
    # function at the point itself (to float32 rounding), which fails if a corner's row, its
    # weight or the cell it belongs to is wrong
    branch = HashGridBranch(1, 2, 16, 64.0, 64.0, 4, 8)
    assert bool(branch.dense.all())
    width = 2 * 64 + 2
    rows = torch.arange(branch.table_rows)
    i, j = (rows % width).double(), (rows // width).double()
    with torch.no_grad():
        branch.table.copy_(torch.stack([i / 64 - 1.0, j / 64 - 0.5], dim=1).float())
    xy = geoclip_projection(_points())
    encoded = branch.encode(xy).detach()
    np.testing.assert_allclose(encoded.numpy(), xy.numpy(), atol=1e-5)


def test_corner_rows_are_in_range_weights_sum_to_one_and_fine_levels_hash():
    branch = HashGridBranch(6, 2, 10, 4.0, 4096.0, 4, 8)
    assert branch.dense.tolist() == [True, True, False, False, False, False]  # (2r + 2)(r + 2) <= 1024
    xy = geoclip_projection(_points())
    rows, weights = grid_corner_rows(xy, branch.resolutions, branch.dense, branch.table_rows)
    assert rows.shape == weights.shape == (len(xy), 6, 4)
    assert int(rows.min()) >= 0 and int(rows.max()) < branch.table_rows
    assert bool((weights >= 0).all())
    np.testing.assert_allclose(weights.sum(-1).numpy(), 1.0, atol=1e-6)
    # a hashed level still tells nearby cells apart: neighbours 1/4096 apart get different rows
    step = torch.tensor([[1 / 4096, 0.0]])
    shifted, _ = grid_corner_rows(xy + step, branch.resolutions, branch.dense, branch.table_rows)
    assert (shifted[:, -1, 0] != rows[:, -1, 0]).float().mean() > 0.95


def _grid_config(**changes):
    fields = dict(
        sigmas=(1.0, 16.0),
        n_frequencies=8,
        hidden_dim=16,
        n_hidden_layers=1,
        embed_dim=32,
        grid_levels=4,
        grid_features=2,
        grid_table_log2=10,
        grid_resolutions=(4.0, 512.0),
        grid_hidden_dim=16,
    )
    return LocationEncoderConfig(**{**fields, **changes})


def test_encoder_with_a_grid_embeds_the_same_way_on_every_path_and_round_trips(tmp_path):
    from geoembed.models.kernels import prepare_inference_weights

    model = GeoCLIPLocationEncoder(_grid_config(), random_state=3)
    with torch.no_grad():  # the head starts at zero; give the grid a large part in the output
        model.grid.head.weight.normal_(std=10.0)
        model.grid.table.normal_()
    latlon = _points()
    xy = geoclip_projection(latlon)
    with torch.no_grad():  # float64 reference of the whole forward pass
        reference = model.double().forward_projected(xy.double()).float()
        grid_part = model.grid(xy.double()).float()
    model = model.float()
    scale = float(reference.abs().max())
    # the grid's share is large, so leaving it out (or adding it twice) fails every check below
    assert float(grid_part.abs().max()) > 0.2 * scale
    # exact: sigma <= 16 keeps the Fourier angles below ~100 rad, so float32 rounding stays far under
    # 1e-5 of the largest output. fast: bfloat16 keeps 8 bits, so each of the few products and sums
    # per output carries a relative error of at most 2**-8 of its terms, well under 5% of the largest
    # output. Both fuse the grid's head into the shared head GEMM; "plain" is F.linear (any CPU).
    out = model.embed(latlon)
    np.testing.assert_allclose(out.numpy(), reference.numpy(), atol=1e-5 * scale)
    with torch.no_grad():
        np.testing.assert_allclose(model(latlon).numpy(), reference.numpy(), atol=1e-5 * scale)
        for precision, tolerance in (("exact", 1e-5), ("fast", 5e-2)):
            weights = prepare_inference_weights(model, precision, xy.device, prepack=False)
            np.testing.assert_allclose(model._mlp(xy, weights).numpy(), reference.numpy(), atol=tolerance * scale)
            into = torch.full_like(reference, float("nan"))  # GeoEmbedder's loop: into its rows, a workspace
            model._mlp(xy, weights, into, {})
            np.testing.assert_allclose(into.numpy(), reference.numpy(), atol=tolerance * scale)
    path = model.save(tmp_path / "grid.safetensors")
    loaded = GeoCLIPLocationEncoder.from_checkpoint(path)
    assert loaded.config == model.config
    assert torch.equal(loaded.embed(latlon), out)


def test_checkpoints_without_grid_fields_still_load():
    # a config written before the grid branch existed (no grid_* keys) rebuilds a grid-free model
    old = '{"sigmas": [1.0, 16.0], "n_frequencies": 8, "hidden_dim": 16, "n_hidden_layers": 1, "embed_dim": 32}'
    config = LocationEncoderConfig.from_json(old)
    assert config.grid_levels == 0
    assert GeoCLIPLocationEncoder(config).grid is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grid_levels": -1}, "grid_levels"),
        ({"grid_table_log2": 40}, "grid_table_log2"),
        ({"grid_resolutions": [512.0, 4.0]}, "grid_resolutions"),
        ({"grid_resolutions": [4.0]}, "grid_resolutions"),
    ],
)
def test_grid_fields_are_checked_and_named(changes, field):
    fields = {"sigmas": [1.0], "n_frequencies": 2, "hidden_dim": 4, "n_hidden_layers": 1, "embed_dim": 4}
    with pytest.raises(InvalidParameterError, match=f"student.{field}"):
        LocationEncoderConfig.coerce({**fields, **changes}, name="student", owner="DistillConfig")


def test_region_points_fall_in_the_box_with_their_share():
    config = DistillConfig(n_points=4000, region=[40.3, -96.7, 43.6, -90.1], region_fraction=0.5)
    points = distillation_points(config)
    assert points.shape == (4000, 2)
    inside = (points[:, 0] >= 40.3) & (points[:, 0] <= 43.6) & (points[:, 1] >= -96.7) & (points[:, 1] <= -90.1)
    # 2,000 drawn in the box, plus the few global points that land there by chance
    assert 2000 <= inside.sum() <= 2060
    assert np.array_equal(points, distillation_points(config))


@pytest.mark.parametrize("region", [[43.6, -96.7, 40.3, -90.1], [40.3, -90.1, 43.6, -96.7], [1, 2, 3], [0, 0, 95, 10]])
def test_bad_regions_are_refused_naming_the_field(region):
    with pytest.raises(InvalidParameterError, match="region"):
        DistillConfig(region=region)
