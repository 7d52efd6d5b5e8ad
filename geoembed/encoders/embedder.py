"""GeoEmbedder: the front door to every location encoder, GeoCLIP by default."""

from __future__ import annotations

import numpy as np
from sklearn import config_context

from geoembed.core.inputs import check_input_features
from geoembed.core.params import validate_params
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.geoclip.estimator import NODE_CACHE_GB, GeoCLIPEncoder
from geoembed.encoders.registry import encoder_class

__all__ = ["GeoEmbedder"]

# GeoEmbedder parameters that configure the encoder itself, with their defaults. Those that
# the chosen encoder does not take must stay at their defaults (normalize and dtype are
# applied by the wrapper for encoders without them).
_ENCODER_SETTINGS = {
    "weights": None,
    "n_components": None,
    "interpolation_km": None,
    "interpolation_cache_gb": NODE_CACHE_GB,
    "precision": "exact",
    "batch_size": 4096,
    "device": "cpu",
    "normalize": False,
    "dtype": "float32",
}
_APPLIED_BY_WRAPPER = ("normalize", "dtype")


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
        A registered weights name (e.g. "geoclip-1.3.0", see
        :func:`geoembed.models.weights.list_weights`), a location-encoder checkpoint (geoembed
        ``.safetensors`` or an official ``.pth`` state dict; any sigma list), or None for the
        bundled published weights. Output columns name the weights: ``geoclip_0`` ... for the
        published weights, ``geoclip_lite_0`` ... for "geoclip-lite", and
        ``geoclip_<name>_0`` ... for another checkpoint, named after its file (or its folder,
        for a ``location_encoder.safetensors`` written by ``geoembed train``/``distill``).
    n_components : int, default=None
        Compact GeoCLIP features: the embedding projected on its first ``n_components``
        principal components, from a basis of the weights' own outputs (computed once on an
        equal-area global sample; see :class:`~geoembed.encoders.GeoCLIPEncoder`). Outputs are
        nested: the first k columns for any larger ``n_components`` are the output for k (to
        float32 rounding), so a size can be chosen, or truncated later, without another model
        (with ``normalize=True`` each size's rows are scaled to unit length: normalise again
        after truncating).
        The basis ships with "geoclip-1.3.0" and "geoclip-lite"; for a checkpoint path it is
        the ``pca_basis.safetensors`` that ``geoembed distill`` writes next to the checkpoint,
        used only if the checkpoint sha256 it records matches (else an error says how to make
        one: :func:`geoembed.models.pca_basis.write_pca_basis`).
    interpolation_km : float, default=None
        GeoCLIP computed on the nodes of a fixed latitude/longitude grid with this spacing
        (km) and interpolated bilinearly in between: for many points inside one city, region or
        country, the cost is bounded by the area instead of the number of points. At 0.5 km
        the linear probe matched the exact model's within 0.01 on 18 of 18 held-out
        evaluation tasks (see :class:`~geoembed.encoders.GeoCLIPEncoder`); for points spread
        over the globe it is slower. None computes every point.
    interpolation_cache_gb : float, default=2.0
        GiB of grid-node embeddings ``interpolation_km`` keeps across ``transform`` calls (about
        a million nodes: 250,000 km2 at 0.5 km). Raise it for a larger area streamed in chunks;
        outputs do not depend on it.
    normalize : bool, default=False
        L2-normalise each row. The default returns the raw reference embedding, the same
        numbers as the official ``LocationEncoder``.
    precision : {"exact", "fast"}, default="exact"
        "exact" computes in float32, the official model's output to float32 rounding.
        "fast" keeps the projection and Fourier features in float32 and runs the MLPs in
        bfloat16 on CPUs with AVX512-BF16/AMX and on GPUs (cosine to exact >= 0.9999);
        elsewhere it falls back to float32 (the same numbers and speed as
        "exact"; :func:`geoembed.models.kernels.bfloat16_is_fast` tells which a device gets).
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
    encoder_ : LocationFeaturizer
        The fitted encoder estimator that computes the features (a
        :class:`~geoembed.encoders.GeoCLIPEncoder` for "geoclip"); its torch module, if any,
        is ``encoder_.module_``.

    See Also
    --------
    geoembed.encoders.GeoCLIPEncoder : the GeoCLIP transformer this wraps by default.
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
        # declared once, by the GeoCLIP encoder that takes them
        **{name: GeoCLIPEncoder._parameter_constraints[name] for name in _ENCODER_SETTINGS},
    }

    def __init__(
        self,
        encoder="geoclip",
        *,
        encoder_params=None,
        weights=None,
        n_components=None,
        interpolation_km=None,
        interpolation_cache_gb=NODE_CACHE_GB,
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
        self.n_components = n_components
        self.interpolation_km = interpolation_km
        self.interpolation_cache_gb = interpolation_cache_gb
        self.normalize = normalize
        self.precision = precision
        self.dtype = dtype
        self.batch_size = batch_size
        self.device = device
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    def _build_encoder(self):
        """The encoder estimator for ``encoder``, configured from this wrapper's parameters."""
        cls = encoder_class(self.encoder)
        accepted = set(cls().get_params(deep=False))
        params = dict(self.encoder_params or {})
        for name, default in _ENCODER_SETTINGS.items():
            value = getattr(self, name)
            if name in accepted:
                if name in params and value != default:
                    raise ValueError(f"give {name} once: as GeoEmbedder({name}=...) or in encoder_params, not both")
                if name in params:
                    raise ValueError(
                        f"{name} is a parameter of GeoEmbedder itself: pass GeoEmbedder({name}={params[name]!r}) "
                        f"instead of encoder_params={{{name!r}: ...}} (for a RegionEmbedder: "
                        f"encoder=GeoEmbedder(..., {name}={params[name]!r}))"
                    )
                params[name] = value
            elif name not in _APPLIED_BY_WRAPPER and value != default:
                raise ValueError(
                    f"{name}={value!r} does not apply to encoder={self.encoder!r}; "
                    f"it configures encoders that take it (e.g. 'geoclip')"
                )
        # the wrapper reads and validates the coordinates itself: the encoder's own input options never apply
        inputs = sorted(set(params) & {"lat_col", "lon_col", "wrap_longitude", "on_invalid"})
        if inputs:
            raise ValueError(
                f"encoder_params {inputs} set how coordinates are read, which the wrapper does itself: give them "
                "as its own parameters (" + ", ".join(f"{name}=..." for name in inputs) + ")"
            )
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise ValueError(f"encoder {self.encoder!r} has no parameters {unknown}; it takes {sorted(accepted)}")
        # This wrapper validated the shared parameters (and reads and validates coordinates): the
        # encoder checks only what it alone was given (encoder_params), and sees valid arrays only.
        encoder = cls(**params)
        validate_params(encoder, names=set(self.encoder_params or ()))
        with config_context(skip_parameter_validation=True):
            return encoder.fit_without_data()

    def _fit_encoder(self):
        self.encoder_ = self._build_encoder()
        if self.dtype == "float16" and getattr(self.encoder_, "sparse_output", False):
            raise ValueError(
                f"dtype='float16' needs a dense output, and encoder={self.encoder!r} returns a sparse matrix "
                "(scipy.sparse has no float16): pass encoder_params={'sparse_output': False}, or dtype='float32'"
            )
        if hasattr(self.encoder_, "sigmas_"):
            self.sigmas_ = self.encoder_.sigmas_

    def _wrapper_applies(self, name: str) -> bool:
        return name not in self.encoder_.get_params(deep=False)

    def _n_output_features(self):
        return self.encoder_.n_features_out_

    def get_feature_names_out(self, input_features=None):
        """Output feature names: those of the wrapped encoder (``geoclip_0`` ... for GeoCLIP,
        ``geoclip_lite_0`` ... for its "geoclip-lite" weights).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Checked against the input seen in ``fit`` (``feature_names_in_``, or their number), as
            scikit-learn's transformers check it; the output names do not depend on it.

        Returns
        -------
        ndarray of str objects, shape (n_features_out,)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "n_features_out_")
        check_input_features(self, input_features)
        return self.encoder_.get_feature_names_out()

    def _output_dtype(self):
        return np.dtype(self.dtype)  # passed to the encoder, or applied here

    def _encode(self, lat, lon):
        out = self.encoder_.encode_validated(lat, lon)
        if self.normalize and self._wrapper_applies("normalize"):
            from sklearn.preprocessing import normalize

            out = normalize(out)
        if self._wrapper_applies("dtype"):
            out = out.astype(self.dtype)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The output is a fixed function of (lat, lon); fit learns nothing from the data.
        tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags
