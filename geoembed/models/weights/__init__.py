"""Named pretrained weights, their provenance, and loaders.

A registry in the manner of torchgeo's ``WeightsEnum``: each entry (:class:`Weights`) names a
folder of bundled files with their sha256 (in its ``PROVENANCE.json``), the license, the
citation and the architecture config, so that ``GeoEmbedder(weights="geoclip-1.3.0")`` works
and new weights are one more entry (:func:`register_weights`).

The files in ``geoclip-1.3.0/`` were produced by ``tools/convert_geoclip_weights.py`` from the
official PyPI wheel ``geoclip==1.3.0`` (MIT license, Vivanco Cepeda et al.). Nothing here
touches the network and nothing is unpickled.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from geoembed.core.errors import CheckpointError
from geoembed.core.utils import file_sha256

__all__ = [
    "DEFAULT_WEIGHTS",
    "GPS_GALLERY_FILE",
    "IMAGE_MLP_FILE",
    "LOCATION_ENCODER_FILE",
    "Weights",
    "get_weights",
    "list_weights",
    "load_gps_gallery",
    "load_image_mlp_state",
    "load_pca_basis",
    "provenance",
    "ResolvedWeights",
    "register_weights",
    "resolve_location_weights",
    "resolve_weights",
    "verify_bundled_files",
    "verify_weights_file",
    "weights_for_file",
]

WEIGHTS_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Weights:
    """One set of pretrained weights shipped with the package.

    Parameters
    ----------
    name : str
        Registry name, e.g. "geoclip-1.3.0".
    directory : Path
        Folder holding the files and ``PROVENANCE.json`` (sha256 of every file).
    location_encoder : str
        File name of the location encoder (safetensors, architecture config in its metadata).
    license : str
        License of the weights.
    citation : str
        What to cite when using them.
    source : str
        Where they come from.
    config : dict, default=None
        Deprecated and ignored (removed in 0.4): the architecture is read from the checkpoint
        itself, :attr:`architecture`, its single source.
    extra_files : dict
        Other files by role, e.g. {"image_mlp": "image_mlp.safetensors"}.
    """

    name: str
    directory: Path
    location_encoder: str
    license: str
    citation: str
    source: str
    config: dict | None = None
    extra_files: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.config is not None:
            warnings.warn(
                "Weights(config=...) is deprecated and ignored since 0.3 (removed in 0.4): the architecture is read "
                "from the checkpoint's metadata, Weights.architecture",
                FutureWarning,
                stacklevel=3,
            )

    @property
    def architecture(self) -> dict:
        """The location encoder's architecture (``LocationEncoderConfig`` fields), read from the
        checkpoint's own metadata: the file is the single source (only its header is read).
        """
        from safetensors import safe_open

        with safe_open(str(self.location_encoder_path), framework="numpy") as f:
            meta = f.metadata() or {}
        if "config" not in meta:
            raise CheckpointError(
                f"{self.location_encoder_path} of {self.name!r} has no architecture ('config') metadata"
            )
        return json.loads(meta["config"])

    @property
    def location_encoder_path(self) -> Path:
        return self.directory / self.location_encoder

    def path(self, role: str) -> Path:
        """Path of the file with role ``role`` ("location_encoder" or a key of ``extra_files``)."""
        if role == "location_encoder":
            return self.location_encoder_path
        if role not in self.extra_files:
            raise KeyError(f"weights {self.name!r} have no {role!r} file; roles: {sorted(self.extra_files)}")
        return self.directory / self.extra_files[role]

    def provenance(self) -> dict:
        """The folder's PROVENANCE.json: source, license and sha256 of every file."""
        return json.loads((self.directory / "PROVENANCE.json").read_text())

    def verify(self) -> None:
        """Raise :class:`~geoembed.core.errors.CheckpointError` (a ``ValueError``) if a file is missing
        or its sha256 differs from PROVENANCE.json.
        """
        for name in self.provenance()["files"]:
            path = self.directory / name
            if not path.is_file():
                raise CheckpointError(f"bundled file missing: {path}")
            verify_weights_file(path)


_REGISTRY: dict[str, Weights] = {}


def register_weights(weights: Weights) -> Weights:
    """Add an entry to the registry (its name must be new).

    The entry's folder must hold its location encoder and a ``PROVENANCE.json`` recording the
    sha256 of each file, ``{"files": {"location_encoder.safetensors": "<sha256>", ...}}``
    (files are checked against it when loaded); otherwise ``CheckpointError`` says what is missing.
    """
    if weights.name in _REGISTRY:
        raise ValueError(f"weights {weights.name!r} are already registered")
    directory = Path(weights.directory)
    record = directory / "PROVENANCE.json"
    problem = None
    if not weights.location_encoder_path.is_file():
        problem = f"its location encoder {weights.location_encoder_path} is not a file"
    elif not record.is_file():
        problem = f"its folder has no PROVENANCE.json ({record})"
    else:
        try:
            files = json.loads(record.read_text()).get("files", {})
        except (ValueError, AttributeError) as err:
            problem = f"{record} is not a JSON object: {err}"
        else:
            if weights.location_encoder not in files:
                problem = f"{record} records no sha256 for {weights.location_encoder!r} under 'files'"
    if problem is not None:
        raise CheckpointError(
            f"cannot register weights {weights.name!r}: {problem}. A registered folder holds its files and a "
            'PROVENANCE.json with the sha256 of each, {"files": {"' + weights.location_encoder + '": "<sha256>"}} '
            "(geoembed.core.utils.file_sha256 computes it); or pass the checkpoint's path as weights= instead"
        )
    _REGISTRY[weights.name] = weights
    return weights


def list_weights() -> list[str]:
    """Names of the registered weights."""
    return sorted(_REGISTRY)


def get_weights(name: str) -> Weights:
    """The registry entry called ``name``; ``ValueError`` listing the names if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown weights {name!r}; registered: {list_weights()} (or pass a checkpoint path)"
        ) from None


GEOCLIP_1_3_0 = register_weights(
    Weights(
        name="geoclip-1.3.0",
        directory=WEIGHTS_ROOT / "geoclip-1.3.0",
        location_encoder="location_encoder.safetensors",
        license="MIT",
        citation=(
            "Vivanco Cepeda, V., Nayak, G. K., & Shah, M. (2023). GeoCLIP: Clip-Inspired Alignment between "
            "Locations and Images for Effective Worldwide Geo-localization. NeurIPS 2023."
        ),
        source="PyPI geoclip==1.3.0 (converted by tools/convert_geoclip_weights.py; subnormal weights set to zero)",
        extra_files={
            "image_mlp": "image_mlp.safetensors",
            "gps_gallery": "gps_gallery.npy",
            "license": "LICENSE",
            "pca_basis": "pca_basis.safetensors",
        },
    )
)
#: The name of the weights used when none are given: ``"geoclip-1.3.0"``.
DEFAULT_WEIGHTS = GEOCLIP_1_3_0.name

GEOCLIP_LITE = register_weights(
    Weights(
        name="geoclip-lite",
        directory=WEIGHTS_ROOT / "geoclip-lite",
        location_encoder="location_encoder.safetensors",
        license="MIT",
        citation=(
            "geoembed's GeoCLIP-lite, distilled from GeoCLIP (Vivanco Cepeda, Nayak & Shah, NeurIPS 2023); cite both."
        ),
        source="geoembed distill (tools/bundle_student.py); provenance in PROVENANCE.json and the file's metadata",
        extra_files={"license": "LICENSE", "pca_basis": "pca_basis.safetensors"},
    )
)

#: The bundled GeoCLIP 1.3.0 location encoder (safetensors).
LOCATION_ENCODER_FILE = GEOCLIP_1_3_0.location_encoder_path
#: The bundled GeoCLIP 1.3.0 image MLP (safetensors).
IMAGE_MLP_FILE = GEOCLIP_1_3_0.path("image_mlp")
#: The bundled 100K MP-16 GPS gallery, (lat, lon) in degrees (npy).
GPS_GALLERY_FILE = GEOCLIP_1_3_0.path("gps_gallery")


#: sha256 of users' checkpoints, by (resolved path, size, mtime in ns): computed once per version of a file.
_DIGESTS: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ResolvedWeights:
    """What a ``weights`` argument names: the location-encoder file, its registry entry and sha256.

    Made by :func:`resolve_weights`, the one place where a ``weights`` value (``None``, a
    registered name, a :class:`Weights` entry or a checkpoint path) is interpreted.

    Attributes
    ----------
    path : Path
        The location-encoder file.
    entry : Weights or None
        The registry entry, or None for a user's checkpoint.
    """

    path: Path
    entry: Weights | None

    @property
    def sha256(self) -> str:
        """The file's sha256: as recorded in the registry for registered weights, else computed
        (once per version of the file: path, size and modification time).
        """
        if self.entry is not None:
            return self.entry.provenance()["files"][self.entry.location_encoder]
        stat = self.path.stat()
        key = (str(self.path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _DIGESTS:
            _DIGESTS[key] = file_sha256(self.path)
        return _DIGESTS[key]

    @property
    def name(self) -> str:
        """The registry name, or the file's name for a user's checkpoint."""
        return self.entry.name if self.entry is not None else self.path.name


def resolve_weights(weights: str | Path | Weights | ResolvedWeights | None) -> ResolvedWeights:
    """Interpret a ``weights`` argument: ``None`` (the default weights), a registered name, a
    :class:`Weights` entry, or a checkpoint path (matched to the registry when it is a bundled file).

    Raises
    ------
    CheckpointError
        When ``weights`` is neither a registered name nor an existing file.
    """
    if isinstance(weights, ResolvedWeights):
        return weights
    if isinstance(weights, Weights):
        return ResolvedWeights(weights.location_encoder_path, weights)
    if weights is None:
        entry = get_weights(DEFAULT_WEIGHTS)
        return ResolvedWeights(entry.location_encoder_path, entry)
    if isinstance(weights, str) and weights in _REGISTRY:
        return ResolvedWeights(_REGISTRY[weights].location_encoder_path, _REGISTRY[weights])
    if not isinstance(weights, (str, Path)):
        raise TypeError(f"weights must be None, a registered name or a checkpoint path; got {weights!r}")
    path = Path(weights)
    if not path.is_file():
        raise CheckpointError(
            f"weights {str(weights)!r} are neither a registered name {list_weights()} nor an existing checkpoint file"
        )
    return ResolvedWeights(path, weights_for_file(path))


def resolve_location_weights(weights: str | Path | None) -> Path:
    """The location-encoder file for ``weights``: ``None`` (the default weights), a registered
    name, or a checkpoint path (see :func:`resolve_weights`).
    """
    return resolve_weights(weights).path


def provenance() -> dict:
    """Source version, license and sha256 sums of the default weights' files."""
    return get_weights(DEFAULT_WEIGHTS).provenance()


def verify_bundled_files() -> None:
    """Raise :class:`~geoembed.core.errors.CheckpointError` (a ``ValueError``) if a file of any
    registered weights is missing or corrupt.
    """
    for name in list_weights():
        get_weights(name).verify()


#: Files whose sha256 matched the registry, by (resolved path, size, mtime in ns, expected digest).
_VERIFIED: set[tuple[str, int, int, str]] = set()


def _recorded_sha256(path: Path) -> tuple[Weights, str] | None:
    """The registered weights that ship ``path`` and the sha256 their PROVENANCE.json records, or None."""
    resolved = path.resolve()
    for entry in _REGISTRY.values():
        if entry.directory.resolve() == resolved.parent:
            expected = entry.provenance().get("files", {}).get(resolved.name)
            if expected is not None:
                return entry, expected
    return None


def verify_weights_file(path: str | Path) -> Path:
    """Check a file of registered weights against the sha256 its registry entry records.

    Every loader calls this before it uses a file's tensors. The digest is computed once per
    process and version of the file (the result is kept by resolved path, size and
    modification time), so only the first load pays for reading the file. Files that no
    registry entry lists (e.g. checkpoints of your own runs) have no recorded digest and pass
    unchecked.

    Parameters
    ----------
    path : str or Path
        The file about to be loaded.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    CheckpointError
        The file's sha256 differs from the recorded one; the message names the file, the
        expected and the found digest.
    """
    path = Path(path)
    recorded = _recorded_sha256(path)
    if recorded is None:
        return path
    entry, expected = recorded
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected)
    if key in _VERIFIED:
        return path
    found = file_sha256(path)
    if found != expected:
        raise CheckpointError(
            f"weights file {path} of {entry.name!r} does not match the sha256 recorded in "
            f"{entry.directory / 'PROVENANCE.json'}: expected {expected}, found {found}; the file was "
            "modified or is corrupt (reinstall the package to restore it)"
        )
    _VERIFIED.add(key)
    return path


def load_image_mlp_state() -> dict:
    """The image MLP's state dict (``0.weight``, ``0.bias``, ``2.weight``, ``2.bias``) and
    ``logit_scale`` (a 0-d tensor; the released value is log(39.7)).
    """
    from safetensors.torch import load_file

    return load_file(str(verify_weights_file(IMAGE_MLP_FILE)))


def weights_for_file(path: str | Path) -> Weights | None:
    """The registered weights whose location encoder is ``path``, or None (e.g. a user checkpoint)."""
    resolved = Path(path).resolve()
    for name in list_weights():
        if get_weights(name).location_encoder_path.resolve() == resolved:
            return get_weights(name)
    return None


@lru_cache(maxsize=4)
def load_pca_basis(name: str = DEFAULT_WEIGHTS) -> dict:
    """The PCA basis of registered weights: ``mean`` (d,), ``components`` (d, d), rows by decreasing
    variance, and ``explained_variance_ratio`` (d,), as float32 numpy arrays, checked against the
    sha256 in the folder's PROVENANCE.json (computed by :func:`geoembed.models.pca_basis.compute_pca_basis`;
    ``tools/make_pca_basis.py --weights NAME`` bundles it).
    """
    from safetensors.numpy import load_file

    entry = get_weights(name)
    if "pca_basis" not in entry.extra_files:
        raise ValueError(f"weights {name!r} have no bundled PCA basis")
    return load_file(str(verify_weights_file(entry.path("pca_basis"))))


def load_gps_gallery() -> np.ndarray:
    """The 100K MP-16 GPS gallery, shape (100000, 2) float32, [lat, lon] in degrees."""
    return np.load(verify_weights_file(GPS_GALLERY_FILE), allow_pickle=False)
