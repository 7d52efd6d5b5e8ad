"""GeoEmbedder: GeoCLIP location features as a scikit-learn transformer."""

from __future__ import annotations

import copy
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._utils import resolve_device
from .base import LocationFeaturizer
from .encoders.registry import make_encoder, register_encoder


def _unique_rows(latlon32: np.ndarray):
    """Unique (lat, lon) float32 pairs and the inverse index, via one 64-bit key per row."""
    keys = np.ascontiguousarray(latlon32).view(np.uint64).reshape(-1)
    unique_keys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if unique_keys.size == keys.size:
        return latlon32, None
    return latlon32[first], inverse.reshape(-1)


@register_encoder("geoclip")
class GeoEmbedder(LocationFeaturizer):
    """GeoCLIP's pretrained location embedding (or any registered encoder) as a transformer.

    Maps (latitude, longitude) in degrees to GeoCLIP's 512-d location features: the location
    encoder of Vivanco Cepeda et al. (NeurIPS 2023), trained contrastively on 4.7M geotagged
    Flickr photos so that a place's embedding captures what the place looks like. The
    published weights (``geoclip==1.3.0``, MIT) ship with the package; nothing is downloaded.

    Parameters
    ----------
    encoder : str, default="geoclip"
        The encoder, by registry name (see :func:`geoembed.list_encoders`): "geoclip" or a
        classic encoder such as "sphereC+", "spherical_harmonics" or "utm_onehot", so that
        encoders can be swapped with one argument. ``normalize`` and ``dtype`` apply to all;
        ``weights``, ``precision``, ``batch_size`` and ``device`` to GeoCLIP.
    encoder_params : dict, default=None
        Parameters of a classic encoder, e.g. ``{"max_degree": 20}``.
    weights : str or Path, default=None
        A location-encoder checkpoint (geoembed ``.safetensors`` or an official ``.pth``
        state dict; any sigma list). ``None`` uses the bundled published weights.
    normalize : bool, default=False
        L2-normalise each row. The default returns the raw reference embedding, the same
        numbers as the official ``LocationEncoder``.
    precision : {"exact", "fast"}, default="exact"
        "exact" computes in float32 (max abs deviation from the official model < 5e-8).
        "fast" keeps the projection and Fourier features in float32 and runs the MLPs in
        bfloat16 on CPUs with AVX512-BF16/AMX and on GPUs (cosine to exact >= 0.9999);
        elsewhere it falls back to float32.
    dtype : {"float32", "float16"}, default="float32"
        Output dtype.
    batch_size : int, default=4096
        Points per forward pass. Outputs do not depend on it beyond float32 rounding.
    device : str, default="cpu"
        Torch device: "cpu", "cuda", "cuda:1", ... or "auto" (CUDA when present).
    lat_col, lon_col : str, default=None
        DataFrame column or xarray coordinate names. By default they are found by name:
        lat/latitude and lon/lng/long/longitude, in any case.
    wrap_longitude : bool, default=False
        Wrap longitudes into [-180, 180) instead of rejecting values outside [-180, 180].
    on_invalid : {"raise", "nan"}, default="raise"
        "raise": NaN/inf or out-of-range coordinates raise ``ValueError`` naming the rows.
        "nan": such rows come out as NaN rows, so outputs stay aligned with inputs.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Input column names, when fitted on a DataFrame with string column names.
    n_features_out_ : int
        Embedding size (512 for the published model).
    sigmas_ : tuple of float
        GeoCLIP's Fourier scales (encoder="geoclip" only).
    encoder_ : torch.nn.Module or LocationFeaturizer
        The GeoCLIP torch module (loaded lazily), or the fitted classic encoder.

    See Also
    --------
    geoembed.encoders.geoclip.GeoCLIPLocationEncoder : the underlying torch module.

    Notes
    -----
    Input order is **[lat, lon]** for arrays. Repeated coordinates are computed once.
    Pickles do not contain the weights; they are reloaded lazily from ``weights``.

    Examples
    --------
    >>> import pandas as pd
    >>> from geoembed import GeoEmbedder
    >>> cities = pd.DataFrame({"lat": [48.8566, 40.7128], "lon": [2.3522, -74.0060]},
    ...                       index=["paris", "new_york"])
    >>> embedder = GeoEmbedder().set_output(transform="pandas")
    >>> features = embedder.fit_transform(cities)
    >>> features.shape, list(features.index)
    ((2, 512), ['paris', 'new_york'])
    """

    _parameter_constraints: dict = {
        **LocationFeaturizer._parameter_constraints,
        "encoder": [str],
        "encoder_params": [None, dict],
        "weights": [None, str, Path],
        "normalize": ["boolean"],
        "precision": [StrOptions({"exact", "fast"})],
        "dtype": [StrOptions({"float32", "float16"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    feature_prefix = "geoclip"

    def __init__(
        self,
        encoder="geoclip",
        *,
        encoder_params=None,
        weights=None,
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
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.weights = weights
        self.normalize = normalize
        self.precision = precision
        self.dtype = dtype
        self.batch_size = batch_size
        self.device = device
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    # -- encoder loading (lazy, never pickled) -----------------------------------------
    def _load_module(self):
        from .weights import load_location_encoder

        module = load_location_encoder(self.weights)
        device = resolve_device(self.device)
        if device.type != "cpu":
            module = copy.deepcopy(module).to(device)  # the cached CPU copy stays shared
        self._module = (self.weights, self.device, module)
        return module

    @property
    def encoder_(self):
        """The GeoCLIP torch module (loaded on first use) or the fitted classic encoder."""
        if self.encoder != "geoclip":
            return self._classic_encoder
        cached = getattr(self, "_module", None)
        if cached is not None and cached[:2] == (self.weights, self.device):
            return cached[2]
        return self._load_module()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_module", None)
        return state

    # -- LocationFeaturizer hooks --------------------------------------------------------
    def _fit_encoder(self):
        if self.encoder == "geoclip":
            if self.encoder_params:
                raise ValueError("encoder_params applies to classic encoders; GeoCLIP takes weights=...")
            self.sigmas_ = tuple(self.encoder_.config.sigmas)
            return
        if self.weights is not None:
            raise ValueError(f"weights applies to encoder='geoclip' only; got encoder={self.encoder!r}")
        self._classic_encoder = make_encoder(self.encoder, **(self.encoder_params or {}))._fit_without_data()

    def _n_output_features(self):
        if self.encoder == "geoclip":
            return self.encoder_.embed_dim
        return self._classic_encoder.n_features_out_

    def get_feature_names_out(self, input_features=None):
        if self.encoder == "geoclip":
            return super().get_feature_names_out(input_features)
        return self._classic_encoder.get_feature_names_out()

    def _output_dtype(self):
        return np.dtype(self.dtype)

    def _encode(self, lat, lon):
        if self.encoder != "geoclip":
            out = self._classic_encoder._encode(lat, lon)
            if self.normalize:
                from sklearn.preprocessing import normalize

                out = normalize(out)
            return out.astype(self._output_dtype())
        return self._encode_geoclip(lat, lon)

    def _encode_geoclip(self, lat, lon):
        import torch

        module = self.encoder_
        device = next(module.parameters()).device
        latlon, inverse = _unique_rows(np.stack([lat, lon], axis=1).astype(np.float32))
        out = np.empty((latlon.shape[0], self.n_features_out_), dtype=self._output_dtype())
        for start in range(0, latlon.shape[0], self.batch_size):
            chunk = torch.from_numpy(latlon[start : start + self.batch_size]).to(device)
            embedding = module.embed(chunk, precision=self.precision)
            if self.normalize:
                embedding = torch.nn.functional.normalize(embedding, dim=1)
            out[start : start + chunk.shape[0]] = embedding.cpu().numpy()
        return out if inverse is None else out[inverse]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The output is a fixed function of (lat, lon); fit learns nothing from the data.
        tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags
