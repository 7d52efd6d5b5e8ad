"""A multiresolution grid branch for location encoders: learned features stored per cell of the
projected plane, interpolated bilinearly, then a small MLP (Instant-NGP's encoding, on the map).

Why it exists: GeoCLIP's sigma = 256 branch varies on a ~10-50 km scale everywhere, and a small
Fourier student cannot afford to reproduce it (the bundled geoclip-lite keeps about 2% of that
branch's variance inside a city). A grid stores detail where it was trained (table lookups, not
matrix products), so a distilled student can keep the teacher's fine structure in the places it
was sampled densely.

Layout: level ``l`` of ``levels`` divides the GeoCLIP plane (x in [-1, 1], y in about [-0.5, 0.5],
see :func:`geoembed.models.geoclip.geoclip_projection`) into square cells of side
``1 / resolution_l``, the resolutions spaced geometrically from ``min_resolution`` to
``max_resolution``. A level whose cells fit in ``2 ** table_log2`` rows is stored densely (one row
per cell corner); a finer one shares the rows through a spatial hash, and training resolves the
collisions in favour of where the points are.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["HashGridBranch", "grid_corner_rows"]

#: The hash of a finer level's cell corner (i, j): i XOR (j * prime), Teschner et al. (2003).
_HASH_PRIME = 2654435761
#: The plane's lower-left corner is moved to (0, 0): x + 1, y + 0.5 (|y| <= 0.4867 for any latitude).
_SHIFT = (1.0, 0.5)


def _resolutions(levels: int, min_resolution: float, max_resolution: float) -> list[int]:
    if levels == 1:
        return [int(min_resolution)]
    growth = (max_resolution / min_resolution) ** (1 / (levels - 1))
    return [int(math.floor(min_resolution * growth**level)) for level in range(levels)]


def grid_corner_rows(xy: Tensor, resolutions: Tensor, dense: Tensor, table_rows: int) -> tuple[Tensor, Tensor]:
    """Table rows of the four corners of each point's cell at every level, and their bilinear weights.

    Parameters
    ----------
    xy : Tensor of shape (N, 2)
        Projected coordinates (:func:`geoembed.models.geoclip.geoclip_projection`).
    resolutions : Tensor of shape (L,), float64
        Cells per unit of the plane, per level.
    dense : Tensor of shape (L,), bool
        Whether the level is stored densely (else hashed).
    table_rows : int
        Rows per level.

    Returns
    -------
    rows : Tensor of shape (N, L, 4), int64
        Row of each corner within its level's table, in ``[0, table_rows)``.
    weights : Tensor of shape (N, L, 4), float32
        Bilinear weights (each point's four sum to 1).
    """
    # float64 positions: at 16,384 cells per unit, float32 would round a point by a tenth of a cell
    shifted = xy.to(torch.float64) + torch.tensor(_SHIFT, dtype=torch.float64, device=xy.device)
    position = shifted[:, None, :] * resolutions[None, :, None]  # (N, L, 2)
    corner = position.floor()
    fraction = (position - corner).to(torch.float32)
    corner = corner.to(torch.int64)
    width = (2 * resolutions + 2).to(torch.int64)  # corners per row of a dense level: x spans 2 units
    i = corner[..., 0, None] + torch.tensor([0, 1, 0, 1], device=xy.device)
    j = corner[..., 1, None] + torch.tensor([0, 0, 1, 1], device=xy.device)
    rows = torch.where(dense[None, :, None], j * width[None, :, None] + i, i ^ (j * _HASH_PRIME)) % table_rows
    fx, fy = fraction[..., 0, None], fraction[..., 1, None]
    wx = torch.cat((1 - fx, fx, 1 - fx, fx), dim=-1)
    wy = torch.cat((1 - fy, 1 - fy, fy, fy), dim=-1)
    return rows, wx * wy


class HashGridBranch(nn.Module):
    """Multiresolution grid features of projected coordinates, a hidden layer and a linear head.

    Parameters
    ----------
    levels : int
        Grid levels.
    features : int
        Learned values per cell corner and level.
    table_log2 : int
        Each level stores at most ``2 ** table_log2`` rows.
    min_resolution, max_resolution : float
        Cells per unit of the plane at the coarsest and finest level (one unit is about 17,000 km
        on the ground, so 16 is ~1,000 km cells and 16,384 ~1 km).
    hidden_dim : int
        Width of the hidden layer.
    embed_dim : int
        Output width (the encoder's).
    """

    def __init__(
        self,
        levels: int,
        features: int,
        table_log2: int,
        min_resolution: float,
        max_resolution: float,
        hidden_dim: int,
        embed_dim: int,
    ):
        super().__init__()
        self.table_rows = 2**table_log2
        resolutions = _resolutions(levels, min_resolution, max_resolution)
        dense = [(2 * r + 2) * (r + 2) <= self.table_rows for r in resolutions]
        self.register_buffer("resolutions", torch.tensor(resolutions, dtype=torch.float64), persistent=False)
        self.register_buffer("dense", torch.tensor(dense), persistent=False)
        self.register_buffer(
            "level_offsets", torch.arange(levels, dtype=torch.int64) * self.table_rows, persistent=False
        )
        # Instant-NGP's start: near-zero features, so the branch begins as a constant and grows
        self.table = nn.Parameter(torch.empty(levels * self.table_rows, features).uniform_(-1e-4, 1e-4))
        self.hidden = nn.Linear(levels * features, hidden_dim)
        self.head = nn.Linear(hidden_dim, embed_dim)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def encode(self, xy: Tensor) -> Tensor:
        """Interpolated grid features, shape (N, levels * features), float32."""
        rows, weights = grid_corner_rows(xy, self.resolutions, self.dense, self.table_rows)
        rows = rows + self.level_offsets[None, :, None]
        # one weighted sum of 4 table rows per (point, level): embedding_bag does it without
        # materialising the (N, L, 4, F) gather (9x faster on a CPU), and has a backward pass
        encoded = F.embedding_bag(
            rows.reshape(-1, 4), self.table, per_sample_weights=weights.reshape(-1, 4).to(self.table.dtype), mode="sum"
        )
        return encoded.reshape(len(xy), -1)

    def forward(self, xy: Tensor) -> Tensor:
        """The branch's part of the embedding, shape (N, embed_dim)."""
        return self.head(torch.relu(self.hidden(self.encode(xy))))
