"""GPS noise augmentation measured in metres on the ground (GeoCLIP's 150 m / 1000 m)."""

from __future__ import annotations

import torch

from geoembed.core.geo import EARTH_RADIUS_KM

__all__ = ["EARTH_RADIUS_M", "jitter_latlon"]

#: Mean Earth radius in metres (:data:`geoembed.core.geo.EARTH_RADIUS_KM` x 1000).
EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0


def jitter_latlon(latlon: torch.Tensor, sigma_m: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Move each (lat, lon) point by Gaussian north and east offsets of std ``sigma_m`` metres.

    The offsets are converted with the local scale of the sphere (a degree of longitude is
    ``cos(lat)`` times shorter than a degree of latitude). Latitudes that cross a pole are
    reflected back (and the longitude turned by 180 degrees); longitudes wrap into [-180, 180).
    """
    if sigma_m <= 0:
        return latlon.clone()
    latlon = latlon.to(torch.float64)
    north = torch.randn(latlon.shape[0], generator=generator, dtype=torch.float64) * sigma_m
    east = torch.randn(latlon.shape[0], generator=generator, dtype=torch.float64) * sigma_m
    north, east = north.to(latlon.device), east.to(latlon.device)
    lat = latlon[:, 0] + torch.rad2deg(north / EARTH_RADIUS_M)
    cos_lat = torch.cos(torch.deg2rad(latlon[:, 0])).clamp_min(1e-6)
    lon = latlon[:, 1] + torch.rad2deg(east / (EARTH_RADIUS_M * cos_lat))
    over = lat.abs() > 90
    lat = torch.where(over, torch.sign(lat) * 180 - lat, lat)
    lon = torch.where(over, lon + 180, lon)
    lon = torch.remainder(lon + 180, 360) - 180
    return torch.stack([lat, lon], dim=1).to(torch.float32)
