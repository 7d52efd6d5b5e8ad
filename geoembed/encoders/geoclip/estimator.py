"""GeoCLIPEncoder: GeoCLIP's pretrained location encoder as a scikit-learn transformer."""

from __future__ import annotations

import copy
import re
from numbers import Integral
from pathlib import Path

import numpy as np

from geoembed.core.params import PRECISIONS, Interval, Options
from geoembed.core.utils import resolve_device
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.registry import register_encoder

__all__ = ["GeoCLIPEncoder"]


def _unique_rows(latlon32: np.ndarray):
    """Unique (lat, lon) float32 pairs and the inverse index, via one 64-bit key per row."""
    keys = np.ascontiguousarray(latlon32).view(np.uint64).reshape(-1)
    unique_keys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if unique_keys.size == keys.size:
        return latlon32, None
    return latlon32[first], inverse.reshape(-1)


def weights_feature_prefix(weights) -> str:
    """The prefix of the output column names for ``weights``, so that a table says which model made it.

    - the default published weights (None, "geoclip-1.3.0" or its bundled file): ``geoclip``
      (``geoclip_0`` ... ``geoclip_511``, the names of earlier releases);
    - other registered weights: the name with every run of other characters than letters
      and digits turned into ``_``: "geoclip-lite" gives ``geoclip_lite`` (``geoclip_lite_0`` ...);
    - any other checkpoint file: ``geoclip_`` and its name in the same spelling, the file's
      stem, or its folder's name for the generic ``location_encoder.*`` that ``geoembed
      train``/``distill`` write: ``runs/europe/location_encoder.safetensors`` gives
      ``geoclip_europe`` and ``my_model.pth`` gives ``geoclip_my_model``.

    Examples
    --------
    >>> weights_feature_prefix(None), weights_feature_prefix("geoclip-lite")
    ('geoclip', 'geoclip_lite')
    >>> weights_feature_prefix("runs/europe/location_encoder.safetensors")
    'geoclip_europe'
    """
    from geoembed.models.weights import DEFAULT_WEIGHTS, list_weights, weights_for_file

    def spelled(name: str) -> str:
        return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()

    if weights is None:
        return "geoclip"
    name = str(weights) if isinstance(weights, str) and weights in list_weights() else None
    if name is None and Path(weights).is_file():
        entry = weights_for_file(weights)
        name = entry.name if entry is not None else None
    if name == DEFAULT_WEIGHTS:
        return "geoclip"
    if name is not None:
        return spelled(name)
    path = Path(weights)
    stem = path.parent.resolve().name if path.stem == "location_encoder" else path.stem
    stem = spelled(stem) or "checkpoint"
    return stem if stem.startswith("geoclip_") else f"geoclip_{stem}"


@register_encoder("geoclip")
class GeoCLIPEncoder(LocationFeaturizer):
    """GeoCLIP's pretrained 512-d location features (Vivanco Cepeda et al., NeurIPS 2023).

    The location encoder was trained contrastively on 4.7M geotagged Flickr photos so that a
    place's embedding captures what the place looks like. The published weights
    (``geoclip==1.3.0``, MIT) ship with the package; nothing is downloaded.
    :class:`geoembed.GeoEmbedder` is the front door that wraps this and every other encoder.

    Parameters
    ----------
    weights : str or Path, default=None
        A registered weights name (:func:`geoembed.models.weights.list_weights`, e.g.
        "geoclip-1.3.0"), a location-encoder checkpoint (geoembed ``.safetensors`` or an
        official ``.pth`` state dict; any sigma list), or None for the published weights.
        The output names say which: ``geoclip_0`` ... for the published weights,
        ``geoclip_lite_0`` ... for "geoclip-lite", ``geoclip_<file or folder name>_0`` ... for
        another checkpoint (the file's name, or its folder's for a ``location_encoder.safetensors``).
    n_components : int, default=None
        Project the raw embedding on its first ``n_components`` principal components: compact
        features (``geoclip_pc0`` ...). The outputs are nested (Matryoshka-style): the first k
        columns for ``n_components=256`` are the output for ``n_components=k`` (to float32
        rounding), so one model serves every size. The basis is computed once on an
        equal-area global sample of the weights' own outputs
        (:func:`geoembed.models.pca_basis.compute_pca_basis`), so it is deterministic and sees
        no user data. Registered weights ship theirs ("geoclip-1.3.0" and "geoclip-lite"); for
        a checkpoint path it is ``pca_basis.safetensors`` in the checkpoint's folder (``geoembed
        distill`` writes it), used only when the checkpoint sha256 it records matches the
        checkpoint; else fitting raises :class:`~geoembed.core.errors.CheckpointError` saying
        how to make one (:func:`geoembed.models.pca_basis.write_pca_basis`). For the published
        weights k = 8, 16, 32, 64 keep 26%, 35%, 46% and 57% of the variance (the sigma = 256
        branch spreads it over many directions).
    normalize : bool, default=False
        L2-normalise each row (after the projection, if any). The default returns the raw
        embedding, the same numbers as the official ``LocationEncoder``.
    precision : {"exact", "fast"}, default="exact"
        "exact" computes in float32. "fast" keeps the projection and Fourier features in
        float32 and runs the MLPs in bfloat16 on CPUs with AVX512-BF16/AMX and on GPUs
        (cosine to exact >= 0.9999); elsewhere it falls back to float32.
    dtype : {"float32", "float16"}, default="float32"
        Output dtype.
    batch_size : int, default=4096
        Points per forward pass. Outputs do not depend on it beyond float32 rounding.
    device : str, default="cpu"
        Torch device: "cpu", "cuda", "cuda:1", ... or "auto" (CUDA when present).
    lat_col, lon_col : str, default=None
        DataFrame column or xarray coordinate names; by default found by name.
    wrap_longitude : bool, default=False
        Wrap longitudes into [-180, 180) instead of rejecting values outside [-180, 180].
    on_invalid : {"raise", "nan"}, default="raise"
        "raise": invalid coordinates raise ``ValueError`` naming the rows; "nan": NaN rows.

    Attributes
    ----------
    n_features_in_ : int
        2.
    feature_names_in_ : ndarray of str
        Input column names, when fitted on a DataFrame with string column names.
    n_features_out_ : int
        Embedding size (512 for the published model).
    sigmas_ : tuple of float
        The Fourier scales of the loaded encoder.
    module_ : GeoCLIPLocationEncoder
        The torch module (loaded on first use, never pickled).

    Examples
    --------
    >>> from geoembed.encoders import GeoCLIPEncoder
    >>> GeoCLIPEncoder().fit_transform([[48.8566, 2.3522]]).shape
    (1, 512)
    """

    _parameter_constraints: dict = {
        **LocationFeaturizer._parameter_constraints,
        "weights": [None, str, Path],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "precision": [Options(*PRECISIONS)],
        "dtype": [Options("float32", "float16")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    feature_prefix = "geoclip"

    def __init__(
        self,
        weights=None,
        *,
        n_components=None,
        normalize=False,
        precision="exact",
        dtype="float32",
        batch_size=4096,
        device="cpu",
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        on_invalid="raise",
    ):
        self.weights = weights
        self.n_components = n_components
        self.normalize = normalize
        self.precision = precision
        self.dtype = dtype
        self.batch_size = batch_size
        self.device = device
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    @property
    def module_(self):
        """The GeoCLIP torch module for ``weights`` and ``device`` (loaded once, then cached)."""
        cached = getattr(self, "_module", None)
        if cached is not None and cached[:2] == (self.weights, self.device):
            return cached[2]
        from geoembed.models.geoclip import load_location_encoder

        module = load_location_encoder(self.weights)
        device = resolve_device(self.device)
        if device.type != "cpu":
            module = copy.deepcopy(module).to(device)  # the cached CPU copy stays shared
        self._module = (self.weights, self.device, module)
        return module

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_module", None)
        return state

    def _fit_encoder(self):
        # the basis first: a missing or mismatched one is refused before the encoder is loaded
        basis = None if self.n_components is None else self._pca_basis()
        self.sigmas_ = tuple(self.module_.config.sigmas)
        self.projection_ = None
        if basis is not None:
            self.projection_ = (basis["mean"], basis["components"][: self.n_components])
            self.explained_variance_ratio_ = basis["explained_variance_ratio"][: self.n_components].copy()

    def _pca_basis(self) -> dict:
        """The PCA basis of ``weights``: bundled with registered weights, else next to the checkpoint."""
        from geoembed.models.pca_basis import load_checkpoint_pca_basis, pca_basis_path
        from geoembed.models.weights import load_pca_basis, resolve_weights

        resolved = resolve_weights(self.weights)
        if resolved.entry is None:
            basis = load_checkpoint_pca_basis(resolved.path, parameter=f"n_components={self.n_components}")
            source = str(pca_basis_path(resolved.path))
        elif "pca_basis" in resolved.entry.extra_files:
            basis = load_pca_basis(resolved.entry.name)
            source = str(resolved.entry.path("pca_basis"))
        else:
            raise ValueError(
                f"n_components={self.n_components} needs weights with a PCA basis; the registered weights "
                f"{resolved.entry.name!r} have none (register one as extra_files['pca_basis'])"
            )
        if self.n_components > len(basis["components"]):
            raise ValueError(
                f"n_components={self.n_components} exceeds the {len(basis['components'])} components of the basis "
                f"{source}"
            )
        return basis

    def _n_output_features(self):
        return self.module_.embed_dim if self.n_components is None else self.n_components

    def _feature_name_prefix(self):
        return weights_feature_prefix(self.weights)

    def _feature_suffixes(self):
        if self.n_components is None:
            return list(range(self.n_features_out_))
        return [f"pc{i}" for i in range(self.n_features_out_)]

    def _output_dtype(self):
        return np.dtype(self.dtype)

    def _encode(self, lat, lon):
        import torch

        from geoembed.models.kernels import bfloat16_is_fast

        module = self.module_
        device = next(module.parameters()).device
        # precision was validated once, at the outermost fit; here it is only resolved for the device
        bfloat16 = self.precision == "fast" and bfloat16_is_fast(device)
        latlon, inverse = _unique_rows(np.stack([lat, lon], axis=1).astype(np.float32))
        out = np.empty((latlon.shape[0], self.n_features_out_), dtype=self._output_dtype())
        for start in range(0, latlon.shape[0], self.batch_size):
            chunk = torch.from_numpy(latlon[start : start + self.batch_size]).to(device)
            embedding = module.embed_resolved(chunk, bfloat16=bfloat16)
            if self.projection_ is not None:
                mean, components = (torch.from_numpy(a).to(embedding.device) for a in self.projection_)
                embedding = (embedding - mean) @ components.T
            if self.normalize:
                embedding = torch.nn.functional.normalize(embedding, dim=1)
            # one copy (device to host and dtype conversion together) straight into the output
            torch.from_numpy(out[start : start + chunk.shape[0]]).copy_(embedding)
        return out if inverse is None else out[inverse]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags
