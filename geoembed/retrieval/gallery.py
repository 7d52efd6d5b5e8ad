"""GPS galleries: candidate coordinates with cached, L2-normalised location embeddings."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from .._utils import file_sha256
from ..geo import EARTH_RADIUS_KM, BoundingBox, validate_latlon, wrapped_longitude

_CACHE_FORMAT = 1


class GPSGallery:
    """Candidate coordinates for image-to-GPS retrieval.

    Parameters
    ----------
    latlon : array-like of shape (n, 2)
        [lat, lon] in degrees.
    name : str, default="custom"
        A label for tables and cache file names.
    """

    def __init__(self, latlon, *, name: str = "custom"):
        latlon = np.asarray(latlon, dtype=np.float64)
        if latlon.ndim != 2 or latlon.shape[1] != 2 or len(latlon) == 0:
            raise ValueError(f"a gallery needs a non-empty (n, 2) array of [lat, lon]; got shape {latlon.shape}")
        validate_latlon(latlon[:, 0], latlon[:, 1])
        # float32, the dtype in which the location encoder reads coordinates
        self.latlon = latlon.astype(np.float32)
        self.name = name

    def __len__(self) -> int:
        return len(self.latlon)

    def __repr__(self) -> str:
        return f"GPSGallery(name={self.name!r}, n={len(self)})"

    @classmethod
    def mp16(cls) -> "GPSGallery":
        """The 100K MP-16 coordinates that ship with GeoCLIP (bundled)."""
        from ..weights import load_gps_gallery

        return cls(load_gps_gallery(), name="mp16-100k")

    @classmethod
    def region(cls, *, bbox=None, center=None, radius_km=None, step_km: float = 1.0) -> "GPSGallery":
        """A dense grid over a region, for zooming in (the paper's "Boston, Massachusetts").

        Parameters
        ----------
        bbox : BoundingBox or (south, west, north, east), optional
            Degrees. ``west > east`` crosses the antimeridian (see :class:`geoembed.geo.BoundingBox`).
        center : (lat, lon), optional
            With ``radius_km``: a disc instead of a box.
        radius_km : float, optional
            Radius of the disc around ``center`` (great-circle distance).
        step_km : float, default=1.0
            Grid spacing on the ground (longitude steps widen with latitude to keep it).
        """
        if (bbox is None) == (center is None):
            raise ValueError("give either bbox=(south, west, north, east) or center=(lat, lon) with radius_km")
        if step_km <= 0:
            raise ValueError(f"step_km must be positive; got {step_km}")
        if center is not None:
            if radius_km is None or radius_km <= 0:
                raise ValueError(f"radius_km must be positive with center; got {radius_km}")
            lat0, lon0 = map(float, center)
            dlat = np.degrees(radius_km / EARTH_RADIUS_KM)
            south, north = max(lat0 - dlat, -90.0), min(lat0 + dlat, 90.0)
            dlon = min(180.0, dlat / max(np.cos(np.radians(max(abs(south), abs(north)))), 1e-6))
            west, east = lon0 - dlon, lon0 + dlon
        else:
            box = BoundingBox.coerce(bbox)
            south, west, north = box.south, box.west, box.north
            east = west + box.width_deg
        step_lat = np.degrees(step_km / EARTH_RADIUS_KM)
        rows = []
        for lat in np.arange(south, north + 1e-9, step_lat):
            step_lon = step_lat / max(np.cos(np.radians(lat)), 1e-6)
            lons = np.arange(west, east + 1e-9, step_lon)
            rows.append(np.column_stack([np.full(lons.size, lat), lons]))
        grid = np.vstack(rows)
        grid[:, 1] = wrapped_longitude(grid[:, 1])
        if center is not None:
            from ..geo import haversine_km

            grid = grid[haversine_km(lat0, lon0, grid[:, 0], grid[:, 1]) <= radius_km]
        if len(grid) > 5_000_000:
            raise ValueError(f"region grid would hold {len(grid):,} points; use a larger step_km")
        return cls(grid, name=f"region-{len(grid)}")

    def fingerprint(self) -> str:
        """sha256 of the float32 coordinates (computed once; a gallery's coordinates are fixed)."""
        if getattr(self, "_fingerprint", None) is None:
            self._fingerprint = hashlib.sha256(self.latlon.tobytes()).hexdigest()
        return self._fingerprint

    def embeddings(self, encoder, *, weights_sha256: str, precision: str = "exact", dtype: str = "float32",
                   cache_dir=None, batch_size: int = 4096, progress: bool = False) -> np.ndarray:
        """L2-normalised location embeddings (n, d), cached on disk.

        The cache key combines the encoder weights' sha256, the coordinates' sha256, the
        precision and the dtype. A cached file whose checksum or shape does not match its
        metadata is reported and rebuilt.
        """
        from ..cache import cache_dir as resolve_cache_dir

        folder = resolve_cache_dir(cache_dir) / "galleries"
        folder.mkdir(exist_ok=True)
        key = hashlib.sha256(
            f"{_CACHE_FORMAT}:{weights_sha256}:{self.fingerprint()}:{precision}:{dtype}".encode()
        ).hexdigest()[:32]
        data_path, meta_path = folder / f"{self.name}-{key}.npy", folder / f"{self.name}-{key}.json"
        cached = _read_cache(data_path, meta_path, len(self))
        if cached is not None:
            return cached
        values = self._compute(encoder, precision, batch_size, progress).astype(dtype)
        _write_cache(values, data_path, meta_path, {
            "format": _CACHE_FORMAT, "weights_sha256": weights_sha256, "coordinates_sha256": self.fingerprint(),
            "precision": precision, "n": len(self), "dim": int(values.shape[1]), "dtype": dtype,
        })
        return values

    def _compute(self, encoder, precision, batch_size, progress) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        out = np.empty((len(self), encoder.embed_dim), dtype=np.float32)
        device = next(encoder.parameters()).device
        for start in tqdm(range(0, len(self), batch_size), disable=not progress, desc="gallery", unit="batch"):
            chunk = torch.from_numpy(self.latlon[start : start + batch_size]).to(device)
            emb = torch.nn.functional.normalize(encoder.embed(chunk, precision=precision), dim=1)
            out[start : start + len(chunk)] = emb.cpu().numpy()
        return out


def _read_cache(data_path: Path, meta_path: Path, n: int):
    if not (data_path.exists() and meta_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != _CACHE_FORMAT or meta.get("n") != n:
            raise ValueError("metadata does not match the gallery")
        if file_sha256(data_path) != meta.get("sha256"):
            raise ValueError("checksum mismatch")
        values = np.load(data_path, allow_pickle=False)
        if values.shape != (n, meta["dim"]):
            raise ValueError(f"shape {values.shape} != {(n, meta['dim'])}")
        return values
    except (ValueError, OSError, KeyError) as err:
        warnings.warn(f"gallery cache {data_path} is corrupt or stale ({err}); rebuilding it", RuntimeWarning)
        return None


def _write_cache(values: np.ndarray, data_path: Path, meta_path: Path, meta: dict) -> None:
    tmp = data_path.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, values, allow_pickle=False)
    meta["sha256"] = file_sha256(tmp)
    os.replace(tmp, data_path)
    meta_path.write_text(json.dumps(meta, indent=1))
