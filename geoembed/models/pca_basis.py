"""The PCA basis behind ``n_components``: nested (Matryoshka-style) prefixes of an embedding.

A location encoder's raw embeddings of a Fibonacci lattice on the sphere (deterministic and
equal-area: every region weighs by its area, no user data is involved, so the basis cannot
leak a target) are centred and decomposed in float64. The components are ordered by
decreasing variance, so the projection on the first ``k`` of them is the first ``k`` columns
of the projection on any ``k' > k``: one basis serves every size.

The basis of registered weights ships in their folder (``pca_basis.safetensors``, its sha256
in ``PROVENANCE.json``). For a checkpoint of your own (``geoembed distill`` writes one next
to its student) the basis is the sibling file ``pca_basis.safetensors``, whose metadata
records the sha256 of the checkpoint it was computed from; :func:`write_pca_basis` makes it.
Nothing is unpickled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from geoembed.core.errors import CheckpointError
from geoembed.core.utils import file_sha256

__all__ = [
    "DEFAULT_LATTICE_POINTS",
    "PCA_BASIS_FILE",
    "compute_pca_basis",
    "fibonacci_lattice",
    "load_checkpoint_pca_basis",
    "pca_basis_path",
    "principal_components",
    "write_pca_basis",
]

#: The file name of a basis, in a weights folder or next to a checkpoint.
PCA_BASIS_FILE = "pca_basis.safetensors"
#: Lattice size of every bundled basis (and of the ones ``geoembed distill`` writes).
DEFAULT_LATTICE_POINTS = 200_000
_BATCH = 8192


def fibonacci_lattice(n: int) -> np.ndarray:
    """``n`` (lat, lon) points in degrees, equal-area on the sphere (golden-angle spiral), float64."""
    i = np.arange(n) + 0.5
    lat = np.degrees(np.arcsin(1 - 2 * i / n))
    lon = (np.degrees(np.pi * (3 - np.sqrt(5)) * i) + 180) % 360 - 180
    return np.column_stack([lat, lon])


def principal_components(embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, components, explained_variance_ratio)`` of the rows of ``embedding``, in float64.

    ``components`` (d, d) holds one unit vector per row, by decreasing variance; the sign of
    each is fixed (its largest-magnitude loading is positive), so the basis is deterministic.
    """
    embedding = np.asarray(embedding, dtype=np.float64)
    mean = embedding.mean(axis=0)
    covariance = np.cov(embedding - mean, rowvar=False)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0, None), vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    components = (vectors * signs).T
    return mean, components, values / values.sum()


def compute_pca_basis(weights=None, *, n_points: int = DEFAULT_LATTICE_POINTS) -> dict:
    """The PCA basis of a location encoder's raw ("exact") embeddings of the Fibonacci lattice.

    Parameters
    ----------
    weights : str, Path or GeoCLIPLocationEncoder, default=None
        A registered weights name, a checkpoint path, None for the published weights, or a
        loaded encoder.
    n_points : int, default=200_000
        Lattice size.

    Returns
    -------
    dict
        ``mean`` (d,), ``components`` (d, d) rows by decreasing variance and
        ``explained_variance_ratio`` (d,), float32 numpy arrays.
    """
    from geoembed.models.geoclip import GeoCLIPLocationEncoder, load_location_encoder

    encoder = weights if isinstance(weights, GeoCLIPLocationEncoder) else load_location_encoder(weights)
    latlon = fibonacci_lattice(n_points)
    device = next(encoder.parameters()).device
    with torch.no_grad():
        embedding = np.concatenate(
            [
                encoder.embed(torch.from_numpy(latlon[i : i + _BATCH]).to(device)).cpu().numpy()
                for i in range(0, n_points, _BATCH)
            ]
        )
    mean, components, ratio = principal_components(embedding)
    return {
        "mean": mean.astype(np.float32),
        "components": components.astype(np.float32),
        "explained_variance_ratio": ratio.astype(np.float32),
    }


def pca_basis_path(checkpoint) -> Path:
    """Where the basis of a checkpoint lives: ``pca_basis.safetensors`` in its folder."""
    return Path(checkpoint).parent / PCA_BASIS_FILE


def write_pca_basis(
    checkpoint, target=None, *, n_points: int = DEFAULT_LATTICE_POINTS, command: str | None = None
) -> Path:
    """Compute the basis of a checkpoint and write it atomically (safetensors, no pickle).

    Parameters
    ----------
    checkpoint : str or Path
        The location-encoder checkpoint (e.g. ``runs/lite/location_encoder.safetensors``).
    target : str or Path, default=None
        Output file; by default :func:`pca_basis_path` (next to the checkpoint), where
        ``n_components`` looks for it.
    n_points : int, default=200_000
        Lattice size.
    command : str, default=None
        How the file was made, recorded in its metadata.

    Returns
    -------
    Path
        The file written. Its metadata records the checkpoint's sha256 (``checkpoint_sha256``),
        the sample and the command.
    """
    from safetensors.numpy import save_file

    from geoembed.io.atomic import atomic_output
    from geoembed.models.geoclip import GeoCLIPLocationEncoder

    checkpoint = Path(checkpoint)
    digest = file_sha256(checkpoint)
    basis = compute_pca_basis(GeoCLIPLocationEncoder.from_checkpoint(checkpoint).eval(), n_points=n_points)
    if file_sha256(checkpoint) != digest:
        raise CheckpointError(f"checkpoint {checkpoint} changed while its PCA basis was computed; run again")
    target = pca_basis_path(checkpoint) if target is None else Path(target)
    metadata = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": digest,
        "sample": f"Fibonacci lattice, {n_points} points, equal-area",
        "precision": "exact (float32)",
        "command": command or f"geoembed.models.pca_basis.write_pca_basis({str(checkpoint)!r}, n_points={n_points})",
    }
    with atomic_output(target) as tmp:
        save_file(basis, str(tmp), metadata=metadata)
    return target


def _how_to_make(checkpoint: Path) -> str:
    return (
        f"make one with geoembed.models.pca_basis.write_pca_basis({str(checkpoint)!r}) "
        f"(or python tools/make_pca_basis.py --weights {checkpoint} in a source checkout)"
    )


def load_checkpoint_pca_basis(checkpoint, *, parameter: str = "n_components") -> dict:
    """The basis next to a checkpoint (:func:`pca_basis_path`), checked to belong to it.

    Only the file's header is read before the check; the tensors are read with safetensors.

    Raises
    ------
    CheckpointError
        No basis next to the checkpoint, or one whose recorded ``checkpoint_sha256`` differs
        from the checkpoint's sha256 (it was computed from another checkpoint, e.g. an earlier
        epoch); the message names the file, ``parameter`` and how to make a basis.
    """
    from safetensors import safe_open
    from safetensors.numpy import load_file

    checkpoint = Path(checkpoint)
    path = pca_basis_path(checkpoint)
    if not path.is_file():
        raise CheckpointError(
            f"{parameter} needs a PCA basis of the weights; checkpoint {checkpoint} has none ({path} not found): "
            + _how_to_make(checkpoint)
        )
    try:
        with safe_open(str(path), framework="numpy") as f:
            recorded = (f.metadata() or {}).get("checkpoint_sha256")
    except Exception as err:  # safetensors raises its own error types for a malformed header
        raise CheckpointError(f"PCA basis {path} cannot be read ({err}); " + _how_to_make(checkpoint)) from None
    found = file_sha256(checkpoint)
    if recorded != found:
        raise CheckpointError(
            f"{parameter}: the PCA basis {path} was not computed from {checkpoint} (it records checkpoint sha256 "
            f"{recorded}, the checkpoint's is {found}); " + _how_to_make(checkpoint)
        )
    return load_file(str(path))
