"""The scikit-learn machinery every location featurizer shares.

A featurizer subclasses :class:`LocationFeaturizer` and implements three hooks:
``_fit_encoder()`` (build or load what the encoder needs), ``_n_output_features()`` and
``_encode(lat, lon)`` (float64 degrees in, an (n, k) array out). Input reading, validation,
invalid-row handling, output dtypes and containers (numpy, pandas, polars, xarray), and
feature names live here once. Only public scikit-learn API is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from geoembed.core.geo import validate_latlon
from geoembed.core.inputs import check_input_features, is_xarray, read_coordinates, to_xarray
from geoembed.core.params import Options, validate_params

__all__ = ["LocationFeaturizer", "output_container"]

OUTPUT_CONTAINERS = ("default", "pandas", "polars")


def output_container(estimator) -> str:
    """The container ``transform`` returns: "default" (numpy), "pandas" or "polars".

    The estimator's own ``set_output(transform=...)`` wins over scikit-learn's global
    ``set_config(transform_output=...)``.
    """
    own = getattr(estimator, "_sklearn_output_config", {}).get("transform")  # also copied by sklearn.clone
    return own if own is not None else get_config()["transform_output"]


class LocationFeaturizer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class: (lat, lon) in degrees -> a fixed-length feature vector per point."""

    _parameter_constraints: dict = {
        "lat_col": [None, str],
        "lon_col": [None, str],
        "wrap_longitude": ["boolean"],
        "on_invalid": [Options("raise", "nan")],
    }

    #: Prefix of the output feature names, e.g. "geoclip" -> geoclip_0, geoclip_1, ...
    feature_prefix = "feature"

    # -- hooks -------------------------------------------------------------------------
    def _fit_encoder(self) -> None:
        """Build the encoder's fitted state (random matrices, loaded weights...)."""

    def _n_output_features(self) -> int:
        raise NotImplementedError

    def _encode(self, lat: np.ndarray, lon: np.ndarray):
        """Encode valid float64 (lat, lon) in degrees; returns (n, k) ndarray or sparse."""
        raise NotImplementedError

    def _output_dtype(self):
        return np.float64

    # -- scikit-learn API --------------------------------------------------------------
    def fit(self, X, y=None):
        """Check the input's layout and prepare the encoder.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, 2), xarray object, or point geometries
            Coordinates in degrees; arrays are in **[lat, lon]** order. A GeoDataFrame or
            GeoSeries of points in any CRS is reprojected to WGS84 (see
            :func:`geoembed.core.inputs.read_coordinates`).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        validate_params(self)
        if _is_dask_frame(X):  # the encoders learn nothing from the rows: its columns are all a fit reads
            X = _empty_like(X)
        coords = read_coordinates(X, lat_col=self.lat_col, lon_col=self.lon_col)
        self._check_columns(X, coords, reset=True)
        self._validate(coords)
        return self._fit_parameters()

    def fit_without_data(self):
        """Fit from the parameters alone: the encoders learn nothing from coordinates.

        The same fitted state as :meth:`fit`, for code that holds no input yet (a wrapper, a
        grid, a Spark job); ``n_features_in_`` is 2, as for a [lat, lon] array.

        Returns
        -------
        self
        """
        validate_params(self)
        self.n_features_in_ = 2
        return self._fit_parameters()

    def _fit_parameters(self):
        self._fit_encoder()
        self.n_features_out_ = self._n_output_features()
        return self

    def set_output(self, *, transform=None):
        """Choose the container of ``transform``'s output, as in scikit-learn.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            "default": numpy (an ``xarray.DataArray`` for xarray input); "pandas": a DataFrame
            with the input's index and :meth:`get_feature_names_out` as columns; "polars": a
            polars DataFrame; None leaves the setting unchanged.

        Returns
        -------
        self
        """
        if transform is None:
            return self
        if transform not in OUTPUT_CONTAINERS:
            raise ValueError(f"transform must be one of {OUTPUT_CONTAINERS} or None; got {transform!r}")
        self._sklearn_output_config = {"transform": transform}
        return self

    def transform(self, X):
        """Encode coordinates.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, 2), xarray object, or point geometries
            Coordinates in degrees; arrays are in **[lat, lon]** order. A GeoDataFrame or
            GeoSeries of points in any CRS is reprojected to WGS84 (see
            :func:`geoembed.core.inputs.read_coordinates`).

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            A DataFrame with the input's index under ``set_output(transform="pandas")``; an
            ``xarray.DataArray`` with a trailing ``feature`` dimension for xarray input.
        """
        check_is_fitted(self, "n_features_out_")
        if is_dask_collection(X):
            if output_container(self) != "default":
                raise ValueError(
                    "dask inputs return lazy dask objects with named columns; "
                    "call set_output(transform='default') to transform them"
                )
            from geoembed.encoders.dask import transform_dask

            if _is_dask_frame(X):  # the columns, from the frame's dtypes: checked before any work
                read_coordinates(_empty_like(X), lat_col=self.lat_col, lon_col=self.lon_col)
            return transform_dask(self, X)
        coords = read_coordinates(X, lat_col=self.lat_col, lon_col=self.lon_col)
        self._check_columns(X, coords, reset=False)
        out = self._encode_coordinates(coords)
        container = output_container(self)
        if coords.grid is not None and container == "default":
            dense = out.toarray() if hasattr(out, "toarray") else out  # a grid has no sparse form
            return to_xarray(np.asarray(dense), coords.grid, self.get_feature_names_out())
        if container == "default":
            return out
        if sp.issparse(out):
            raise ValueError(
                f"set_output(transform={container!r}) needs dense output; {type(self).__name__} "
                "returns a sparse matrix here (use a dense encoder or sparse_output=False, through GeoEmbedder in "
                "encoder_params)"
            )
        columns = [str(c) for c in self.get_feature_names_out()]
        if container == "pandas":
            index = coords.row_labels if isinstance(coords.row_labels, pd.Index) else None
            return pd.DataFrame(out, index=index, columns=columns, copy=False)
        import polars as pl

        return pl.DataFrame(out, schema=columns, orient="row")

    def encode_latlon(self, lat, lon, *, row_labels=None):
        """Features of latitude and longitude arrays (degrees), validated as in :meth:`transform`.

        The array path under :meth:`transform`, without input-column bookkeeping or output
        containers: for code that already holds coordinates (grids, dask blocks, wrappers).

        Parameters
        ----------
        lat, lon : array-like of shape (n_samples,)
            Latitude and longitude in degrees.
        row_labels : sequence, default=None
            Labels naming offending rows in errors (e.g. a pandas index); positions otherwise.

        Returns
        -------
        ndarray or scipy sparse matrix of shape (n_samples, n_features_out)
            Invalid rows are NaN rows under ``on_invalid="nan"``.
        """
        check_is_fitted(self, "n_features_out_")
        lat, lon, valid = validate_latlon(
            lat, lon, row_labels=row_labels, wrap_longitude=self.wrap_longitude, on_invalid=self.on_invalid
        )
        return self._encode_valid(lat, lon, valid)

    def encode_validated(self, lat, lon):
        """Features of coordinates that a caller has already validated, without checking them again.

        For wrappers (``GeoEmbedder``) that read and validate the input once themselves.

        Parameters
        ----------
        lat, lon : ndarray of shape (n_samples,)
            float64 degrees, finite, latitude in [-90, 90] and longitude in [-180, 180), as
            :func:`geoembed.core.geo.validate_latlon` returns them.

        Returns
        -------
        ndarray or scipy sparse matrix of shape (n_samples, n_features_out)
        """
        check_is_fitted(self, "n_features_out_")
        if lat.size == 0:
            return np.zeros((0, self.n_features_out_), dtype=self._output_dtype())
        return self._encode(lat, lon)

    def _encode_coordinates(self, coords):
        lat, lon, valid = self._validate(coords)
        return self._encode_valid(lat, lon, valid)

    def get_feature_names_out(self, input_features=None):
        """Output names ``<prefix>_<suffix>``; suffixes are 0 ... k-1 unless the encoder names them.

        ``input_features`` is checked against the input seen in ``fit``, as scikit-learn's
        transformers check it; the output names do not depend on it.
        """
        check_is_fitted(self, "n_features_out_")
        check_input_features(self, input_features)
        suffixes = self._feature_suffixes()
        prefix = self._feature_name_prefix()
        return np.asarray([f"{prefix}_{s}" for s in suffixes], dtype=object)

    def _feature_name_prefix(self) -> str:
        """The prefix of the output names: ``feature_prefix``, unless the encoder's settings refine it."""
        return self.feature_prefix

    def _feature_suffixes(self) -> list:
        return list(range(self.n_features_out_))

    # -- shared internals ----------------------------------------------------------------
    def _validate(self, coords):
        refused = [
            (
                coords.unprojectable,
                "hold points that their CRS cannot reproject to longitude/latitude (outside the "
                "area where it is defined); check their coordinates and CRS, or",
            ),
            (coords.no_geometry, "have a missing or empty geometry; drop them, or"),
        ]
        for mask, problem in refused:
            if self.on_invalid == "raise" and mask is not None and mask.any():
                where = np.flatnonzero(mask)[:5]
                labels = coords.row_labels
                names = [labels[i] if labels is not None else int(i) for i in where]
                names = [n.item() if isinstance(n, np.generic) else n for n in names]
                more = f" (and {int(mask.sum()) - where.size} more)" if mask.sum() > where.size else ""
                raise ValueError(f"rows {names}{more} {problem} pass on_invalid='nan' to get NaN rows for them")
        return validate_latlon(
            coords.lat,
            coords.lon,
            row_labels=coords.row_labels,
            wrap_longitude=self.wrap_longitude,
            on_invalid=self.on_invalid,
            names=coords.names,
        )

    def _check_columns(self, X, coords, *, reset: bool) -> None:
        """scikit-learn's n_features_in_ / feature_names_in_ bookkeeping (not for grids).

        A grid counts as 2 inputs (latitude and longitude), a GeoSeries or array of points as 1.
        """
        if coords.one_column:
            if reset:
                self.n_features_in_ = 1
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            return
        if coords.grid is not None:
            if reset:
                self.n_features_in_ = 2
            return
        validate_data(self, X, reset=reset, skip_check_array=True)

    def _encode_valid(self, lat, lon, valid):
        """Encode the valid rows; invalid rows (on_invalid='nan') become NaN rows in place."""
        dtype = self._output_dtype()
        k = self.n_features_out_
        if valid.all():
            if lat.size == 0:
                return np.zeros((0, k), dtype=dtype)
            return self._encode(lat, lon)
        encoded = self._encode(lat[valid], lon[valid]) if valid.any() else None
        if encoded is not None and sp.issparse(encoded):
            return _sparse_with_nan_rows(encoded.tocsr(), valid)
        # the encoded rows' dtype: the fitted one (a dtype set since fit is not applied before a refit)
        out = np.full((lat.size, k), np.nan, dtype=encoded.dtype if encoded is not None else dtype)
        if encoded is not None:
            out[valid] = encoded
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN rows are accepted (and passed through as NaN) only with on_invalid="nan".
        tags.input_tags.allow_nan = self.on_invalid == "nan"
        tags.requires_fit = True
        return tags


def _is_dask_frame(X) -> bool:
    return is_dask_collection(X) and hasattr(X, "dtypes") and not is_xarray(X)


def _empty_like(frame) -> pd.DataFrame:
    """An empty pandas frame with a dask DataFrame's columns and dtypes (nothing computed)."""
    return pd.DataFrame({column: pd.Series([], dtype=dtype) for column, dtype in frame.dtypes.items()})


def is_dask_collection(X) -> bool:
    """A dask DataFrame/Array, or an xarray object backed by dask arrays."""
    return type(X).__module__.startswith("dask") or (is_xarray(X) and bool(getattr(X, "chunks", None)))


def _sparse_with_nan_rows(encoded, valid):
    """Place the rows of sparse ``encoded`` at ``valid`` and make the other rows all-NaN."""
    n, k = valid.size, encoded.shape[1]
    invalid = np.flatnonzero(~valid)
    placement = sp.csr_matrix(
        (np.ones(encoded.shape[0]), (np.flatnonzero(valid), np.arange(encoded.shape[0]))), shape=(n, encoded.shape[0])
    )
    nan_rows = sp.csr_matrix(
        (np.full(invalid.size * k, np.nan), (np.repeat(invalid, k), np.tile(np.arange(k), invalid.size))), shape=(n, k)
    )
    return (placement @ encoded + nan_rows).tocsr().astype(encoded.dtype, copy=False)
