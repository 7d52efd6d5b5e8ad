"""GPS galleries: candidate coordinates with cached, L2-normalised location embeddings."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from geoembed.core.geo import EARTH_RADIUS_KM, BoundingBox, validate_latlon, wrapped_longitude
from geoembed.core.utils import file_sha256
from geoembed.io.atomic import atomic_output

__all__ = ["GPSGallery"]

_CACHE_FORMAT = 1
_WARNED_UNWRITABLE: set[str] = set()  # cache folders already reported as unwritable in this process


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
        validate_latlon(latlon[:, 0], latlon[:, 1], wrap_option=None)
        # float32, the dtype in which the location encoder reads coordinates; read-only, since the
        # fingerprint that keys the cached embeddings is computed once
        self._latlon = latlon.astype(np.float32)
        self._latlon.setflags(write=False)
        self.name = name

    @property
    def latlon(self) -> np.ndarray:
        """The coordinates, float32 (n, 2), read-only: a gallery's embeddings are cached by them.
        For other coordinates, make another ``GPSGallery``.
        """
        return self._latlon

    def __setstate__(self, state):
        # numpy arrays unpickle writeable: read-only again, as the fingerprint assumes
        self.__dict__.update(state)
        self._latlon = self._latlon.copy()
        self._latlon.setflags(write=False)

    def __len__(self) -> int:
        return len(self.latlon)

    def __repr__(self) -> str:
        return f"GPSGallery(name={self.name!r}, n={len(self)})"

    @classmethod
    def mp16(cls) -> GPSGallery:
        """The 100K MP-16 coordinates that ship with GeoCLIP (bundled)."""
        from geoembed.models.weights import load_gps_gallery

        return cls(load_gps_gallery(), name="mp16-100k")

    @classmethod
    def region(cls, *, bbox=None, center=None, radius_km=None, step_km: float = 1.0) -> GPSGallery:
        """A dense grid over a region, for zooming in (the paper's "Boston, Massachusetts").

        Parameters
        ----------
        bbox : BoundingBox or (south, west, north, east), optional
            Degrees. ``west > east`` crosses the antimeridian (see :class:`geoembed.core.geo.BoundingBox`).
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
            from geoembed.core.geo import haversine_km

            grid = grid[haversine_km(lat0, lon0, grid[:, 0], grid[:, 1]) <= radius_km]
        if len(grid) > 5_000_000:
            raise ValueError(f"region grid would hold {len(grid):,} points; use a larger step_km")
        return cls(grid, name=f"region-{len(grid)}")

    def fingerprint(self) -> str:
        """sha256 of the float32 coordinates (computed once: they are read-only)."""
        if getattr(self, "_fingerprint", None) is None:
            self._fingerprint = hashlib.sha256(self.latlon.tobytes()).hexdigest()
        return self._fingerprint

    def embeddings(
        self,
        encoder,
        *,
        weights_sha256: str,
        precision: str = "exact",
        dtype: str = "float32",
        cache_dir=None,
        batch_size: int = 4096,
        progress: bool = False,
    ) -> np.ndarray:
        """L2-normalised location embeddings (n, d), cached on disk.

        The cache key combines the encoder weights' sha256, the coordinates' sha256, the
        precision and the dtype. A cached entry that cannot be read or does not match its
        metadata (checksum, shape, dtype, malformed JSON) is reported with a
        ``RuntimeWarning`` and rebuilt. When the cache folder cannot be created or written
        (read-only, no permission), the embeddings are computed in memory and a
        ``RuntimeWarning`` naming the folder and the reason is issued once per process and
        folder.

        Parameters
        ----------
        encoder : GeoCLIPLocationEncoder
            The location encoder (any module with ``embed`` and ``embed_dim``).
        weights_sha256 : str
            sha256 of the encoder's weights, part of the cache key.
        precision : {"exact", "fast"}, default="exact"
        dtype : {"float32", "float16"}, default="float32"
            dtype of the returned and cached embeddings.
        cache_dir : str or Path, default=None
            See :func:`geoembed.core.cache.cache_dir`; entries go to its ``galleries`` subfolder.
        batch_size : int, default=4096
        progress : bool, default=False

        Returns
        -------
        ndarray of shape (n, d)
        """
        from geoembed.core.cache import cache_dir as resolve_cache_dir

        dtype = np.dtype(dtype).name
        folder = resolve_cache_dir(cache_dir) / "galleries"
        key = hashlib.sha256(
            f"{_CACHE_FORMAT}:{weights_sha256}:{self.fingerprint()}:{precision}:{dtype}".encode()
        ).hexdigest()[:32]
        data_path, meta_path = folder / f"{self.name}-{key}.npy", folder / f"{self.name}-{key}.json"
        meta = {
            "format": _CACHE_FORMAT,
            "weights_sha256": weights_sha256,
            "coordinates_sha256": self.fingerprint(),
            "precision": precision,
            "n": len(self),
            "dtype": dtype,
        }
        cached = _read_cache(data_path, meta_path, meta)
        if cached is not None:
            return cached
        values = self._compute(encoder, precision, batch_size, progress).astype(dtype)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_cache(values, data_path, meta_path, {**meta, "dim": int(values.shape[1])})
        except OSError as err:
            _warn_unwritable(folder, err)
        return values

    def _compute(self, encoder, precision, batch_size, progress) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        out = np.empty((len(self), encoder.embed_dim), dtype=np.float32)
        device = next(encoder.parameters()).device
        for start in tqdm(range(0, len(self), batch_size), disable=not progress, desc="gallery", unit="batch"):
            chunk = torch.tensor(self.latlon[start : start + batch_size], device=device)  # a copy: latlon is read-only
            emb = torch.nn.functional.normalize(encoder.embed(chunk, precision=precision), dim=1)
            out[start : start + len(chunk)] = emb.cpu().numpy()
        return out


def _read_cache(data_path: Path, meta_path: Path, expected: dict):
    """The cached array, or None when there is no entry or it is unusable (with a warning)."""
    try:
        if not (data_path.is_file() and meta_path.is_file()):
            return None  # no entry (or only half of one from an interrupted write): build it
    except OSError:
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict):
            raise ValueError(f"metadata is a JSON {type(meta).__name__}, not an object")
        for name, value in expected.items():
            if meta.get(name) != value or type(meta.get(name)) is not type(value):
                raise ValueError(f"metadata {name}={meta.get(name)!r} does not match {value!r}")
        dim, checksum = meta.get("dim"), meta.get("sha256")
        if type(dim) is not int or dim <= 0:
            raise ValueError(f"metadata dim={dim!r} is not a positive integer")
        if not isinstance(checksum, str):
            raise ValueError(f"metadata sha256={checksum!r} is not a checksum")
        if file_sha256(data_path) != checksum:
            raise ValueError("checksum mismatch")
        values = np.load(data_path, allow_pickle=False)
        if not isinstance(values, np.ndarray):
            raise ValueError(f"holds a {type(values).__name__}, not an array")
        shape = (expected["n"], dim)
        if values.shape != shape or values.dtype != np.dtype(expected["dtype"]):
            raise ValueError(f"{values.dtype} array of shape {values.shape}, expected {expected['dtype']} {shape}")
        return values
    except (ValueError, OSError, EOFError) as err:  # JSON and Unicode errors are ValueErrors
        warnings.warn(
            f"gallery cache {data_path} is corrupt or stale ({err}); rebuilding it", RuntimeWarning, stacklevel=3
        )
        return None


def _write_cache(values: np.ndarray, data_path: Path, meta_path: Path, meta: dict) -> None:
    # data first, then the metadata holding its checksum: an interruption leaves an entry that reads as stale
    with atomic_output(data_path) as temporary:
        np.save(temporary, values, allow_pickle=False)
        meta = {**meta, "sha256": file_sha256(temporary)}
    with atomic_output(meta_path) as temporary:
        temporary.write_text(json.dumps(meta, indent=1))


def _warn_unwritable(folder: Path, err: OSError) -> None:
    key = os.path.abspath(folder)
    if key in _WARNED_UNWRITABLE:
        return
    _WARNED_UNWRITABLE.add(key)
    reason = f"{type(err).__name__}: {err.strerror or err}"
    warnings.warn(
        f"gallery cache folder {folder} cannot be written ({reason}); gallery embeddings are computed "
        "in memory and not cached",
        RuntimeWarning,
        stacklevel=3,
    )
