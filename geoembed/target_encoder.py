"""LocationTargetEncoder: a cross-fitted prior of the target from location alone.

A supervised transformer in the spirit of scikit-learn's ``TargetEncoder``: it learns
y ~ f(lat, lon) from a small stack of complementary models and hands a downstream model one
column (or one per class) holding that prior. The stack:

- ``"linear"``: ridge regression on GeoCLIP features (one-hot targets for classes), good at
  human geography (country, population, prices);
- ``"knn"``: distance-weighted nearest neighbours on the sphere, good at smooth fields;
- ``"trees"``: extremely randomised trees on latitude, longitude and unit-sphere xyz, good at
  sharp physical boundaries (elevation, climate zones);
- ``"boosting"`` (optional): gradient-boosted trees on the same coordinates.

Each model's one regularisation setting (ridge alpha, number of neighbours, boosting
rounds) is chosen on the same out-of-fold predictions (spatially blocked folds; shuffled rows
for a multiclass target) that train the meta-model, which combines the models with
non-negative weights: non-negative least squares for a continuous target, log-linear pooling
of the probabilities for classes.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from geoembed.core.geo import latlon_to_unit_xyz, validate_latlon
from geoembed.core.inputs import read_coordinates
from geoembed.core.params import CrossValidator, Interval, Options, validate_params
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.model_selection import SpatialBlockKFold, automatic_block_size_km

__all__ = ["LEARNERS", "LocationTargetEncoder", "infer_target_type"]

#: The base models a :class:`LocationTargetEncoder` can stack, by name.
LEARNERS = ("linear", "knn", "trees", "boosting")
#: Ridge penalties searched by the ``"linear"`` model (on standardised features).
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 6, 17))
#: Neighbour counts searched by the ``"knn"`` model.
NEIGHBOURS = (5, 10, 20, 40, 80)
#: Probabilities are mixed with this share of the uniform distribution before log pooling,
#: so that one model's zero cannot veto a class that the others find likely.
SMOOTHING = 0.01
#: Targets read as classes by ``target_type="auto"`` with more distinct values than this get a
#: warning: as many output columns as classes.
MANY_CLASSES = 50
#: Integer targets with at most this many distinct values are class labels for
#: ``target_type="auto"``; with more, a quantity (prices, elevations, depths, counts).
MAX_INTEGER_CLASSES = 10
#: Chord distance (unit sphere) below which neighbours count as one place: about 6 micrometres.
MIN_CHORD = 1e-12


class LocationTargetEncoder(TransformerMixin, BaseEstimator):
    """Encode location as a cross-fitted prediction of the target from location alone.

    The location equivalent of scikit-learn's ``TargetEncoder``: one feature (one per class for
    multiclass targets) that says what the target tends to be at this place, learned from a
    small stack of complementary models (see :data:`LEARNERS`): ridge regression on GeoCLIP
    features, nearest neighbours on the sphere and randomised trees on coordinates, combined
    with non-negative weights by a meta-model. Next to a model's other features it adds
    location as one well-calibrated column instead of 512 noisy ones.

    :meth:`fit_transform` returns **cross-fitted** (out-of-fold) predictions: each row's value
    comes from models that did not see that row, with spatially blocked folds
    (:class:`~geoembed.evaluation.SpatialBlockKFold`; for a multiclass target shuffled rows,
    see ``block_size_km``), so a downstream model trained on them never sees its own target.
    :meth:`transform` uses the models fit on all rows. As for
    scikit-learn's ``TargetEncoder``, ``fit(X, y).transform(X)`` therefore differs from
    ``fit_transform(X, y)``, and only the latter is safe to train on. In a ``Pipeline`` or
    ``ColumnTransformer`` this happens by itself: fitting calls ``fit_transform``, predicting
    calls ``transform``.

    Parameters
    ----------
    encoder : str or transformer, default=None
        The location features of the ``"linear"`` model: None for
        :class:`~geoembed.GeoEmbedder` (GeoCLIP's 512 features), a registered encoder name
        (``GeoEmbedder(encoder=name)``) or a transformer that maps an array of [lat, lon]
        rows to features, e.g. ``GeoEmbedder(precision="fast")``. The features are computed
        once per fit, for all rows, and indexed per fold.
    learners : tuple of str, default=("linear", "knn", "trees")
        The base models, among :data:`LEARNERS`. The default set was chosen on the
        downstream suite (``benchmarks/location_prior.py``); ``"boosting"`` adds
        gradient-boosted trees, at several times the cost and without a measured gain.
    target_type : {"auto", "continuous", "binary", "multiclass"}, default="auto"
        "auto" infers it with :func:`infer_target_type`: strings, booleans and pandas
        categoricals are classes; numbers with two distinct values are binary; floats with
        more are continuous (even when they hold whole numbers); integers are classes with at
        most 10 distinct values (``MAX_INTEGER_CLASSES``) and continuous with more (int64
        prices, elevations, depths, counts). Integer class codes of more than 10 classes need
        ``target_type="multiclass"`` (or string / categorical labels). Classes inferred with
        more than 50 distinct values (``MANY_CLASSES``) give a warning, since each is one
        output column. An explicit type always wins, and silences that warning.
    cv : int, cross-validation splitter or iterable, default=5
        The folds of the cross-fitting. An int gives that many spatially blocked folds of
        ``block_size_deg`` or ``block_size_km`` (with neither, for a multiclass target, that
        many folds of shuffled rows: see ``block_size_km``); a splitter's ``split(X, y)`` gets
        the input as given (so a :class:`~geoembed.evaluation.SpatialBlockKFold` finds lat/lon
        in it); an iterable yields (train, test) index pairs. Every row must be in exactly one
        test fold.
    block_size_deg : float, default=None
        Side of the blocks of the default folds, in degrees.
    block_size_km : float, default=None
        Side of the blocks of the default folds on an equal-area grid, in km. With neither
        size, the side is chosen from the data: the smallest power-of-sqrt(2) km side at which
        the occupied blocks hold 10 rows on average (fitted as ``block_size_km_``), except for a
        multiclass target, whose default folds are shuffled rows (scikit-learn's ``KFold``).
        Under blocked folds a class whose rows lie in a few blocks (a small country, a
        time zone, a neighbourhood) is missing from the training part of the fold that holds
        them, so its rows never get a high value in their own class's column; a classifier
        trained on the encoding then learns not to trust the columns of compact classes. On
        the development half of the held-out protocol (``benchmarks/results/heldout.md``)
        shuffled rows lifted a ``LogisticRegression`` head on the encoding by 0.06 to 0.13 in
        accuracy on the three tasks of 51 to 118 classes (US states, time zones, countries) and
        changed the seven others by at most 0.01. Binary and continuous targets keep the
        blocks, which keep a downstream model's trust in the prior honest for places far from
        the training rows. Use the size of your own spatial cross-validation's blocks when you
        have one; for a multiclass target, giving a size brings the blocks back.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold assignment and the trees. As everywhere in scikit-learn, None draws new
        folds and trees at every fit, so two runs of one script differ; pass an int for the same
        numbers every time. How much they differ, measured on the 17 location-only tasks of the
        held-out evaluation half (``benchmarks/results/heldout.md``, seed 1 against seed 0, the
        encoder and a LinearRegression / LogisticRegression head, 5-fold spatial CV): a median of
        0.002 in R² or accuracy, 0.006 at the 75th percentile, 0.013 on a 197-row count and
        0.19 in R² on a skewed 414-row target where every model's R² is below zero.
    n_jobs : int, default=None
        Parallel jobs of the trees and the neighbour search (None: 1).
    lat_col, lon_col : str, default=None
        Column names in data frames. By default they are found by name, as in
        :class:`~geoembed.GeoEmbedder`: lat/latitude and lon/lng/long/longitude, in any case.
        Other columns are ignored, so the encoder can take a whole table.

    Attributes
    ----------
    target_type_ : str
        "continuous", "binary" or "multiclass".
    classes_ : ndarray
        The class labels (classification only).
    encoder_ : transformer or None
        The fitted location encoder of the ``"linear"`` model (None without that model).
    learner_names_ : tuple of str
        The base models, in the order of ``weights_``.
    weights_ : ndarray of shape (n_learners,)
        Non-negative weight of each base model in the meta-model.
    intercept_ : float
        The meta-model's intercept, in units of y (continuous targets): the prior is
        ``intercept_`` plus the base models' predictions weighted by ``weights_``. The base
        models and the meta-model are fit on y centred and scaled to unit variance, so the
        prior does not depend on an offset or a unit of y (y + 1e12, y * 1e-12).
    prior_weight_ : float
        Weight of the class frequencies in the pooled probabilities (classification).
    class_prior_ : ndarray of shape (n_classes,)
        The class frequencies of the training rows (classification).
    learner_params_ : dict
        The setting chosen for each base model on the out-of-fold predictions, e.g.
        ``{"linear": {"alpha": 1000.0}, "knn": {"n_neighbors": 10}, "trees": {}}``.
    oof_scores_ : dict
        Out-of-fold R² (continuous) or accuracy (classes) of each base model and of the
        stack (key ``"stack"``): how much each kind of location signal explains.
    block_size_km_ : float or None
        The automatic block size, when neither block size was given and ``cv`` is an int
        (None for a multiclass target, whose default folds are shuffled rows).
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, for data frames with string column names.

    See Also
    --------
    geoembed.evaluation.SpatialBlockKFold : the spatially blocked folds.
    sklearn.preprocessing.TargetEncoder : the same idea for categorical features.

    Notes
    -----
    The cost of a fit is that of the location features (computed once) plus ``cv + 1`` fits
    of each base model: on 10,000 rows about 1.5-2x the time of the GeoCLIP features alone
    (``benchmarks/results/location_prior.md``).

    The meta-model's few weights are fit on the out-of-fold predictions of all rows, as in
    scikit-learn's stacking estimators; each row's encoding comes from base models that never
    saw it.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from geoembed import LocationTargetEncoder
    >>> rng = np.random.default_rng(0)
    >>> homes = pd.DataFrame({"lat": rng.uniform(40, 45, 300), "lon": rng.uniform(-5, 5, 300),
    ...                       "rooms": rng.integers(1, 6, 300)})
    >>> price = 2 * homes["rooms"] + homes["lat"] + rng.normal(0, 0.5, 300)
    >>> encoder = LocationTargetEncoder(block_size_km=100, random_state=0)
    >>> prior = encoder.fit_transform(homes, price)  # out of fold: safe to train on
    >>> prior.shape, list(encoder.get_feature_names_out())
    ((300, 1), ['location_prior'])
    >>> bool(encoder.oof_scores_["stack"] > 0.2)
    True

    Next to other features, in a pipeline:

    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> model = make_pipeline(
    ...     make_column_transformer((LocationTargetEncoder(block_size_km=100), ["lat", "lon"]),
    ...                             remainder="passthrough"),
    ...     HistGradientBoostingRegressor())
    >>> model.fit(homes, price).predict(homes.head(2)).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "encoder": [None, str, object],
        "learners": [tuple, list],
        "target_type": [Options("auto", "continuous", "binary", "multiclass")],
        "cv": [CrossValidator()],
        "block_size_deg": [None, Interval(Real, 0, None, closed="neither")],
        "block_size_km": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "lat_col": [None, str],
        "lon_col": [None, str],
    }

    def __init__(
        self,
        encoder=None,
        *,
        learners=("linear", "knn", "trees"),
        target_type="auto",
        cv=5,
        block_size_deg=None,
        block_size_km=None,
        random_state=None,
        n_jobs=None,
        lat_col=None,
        lon_col=None,
    ):
        self.encoder = encoder
        self.learners = learners
        self.target_type = target_type
        self.cv = cv
        self.block_size_deg = block_size_deg
        self.block_size_km = block_size_km
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.lat_col = lat_col
        self.lon_col = lon_col

    # -- scikit-learn API ----------------------------------------------------------------
    def fit(self, X, y):
        """Fit the base models and the meta-model.

        The meta-model needs out-of-fold predictions, so this does the same cross-fitting as
        :meth:`fit_transform` and then fits every base model on all rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            A frame with latitude and longitude columns (found by name; other columns are
            ignored) or an array of **[lat, lon]** in degrees.
        y : array-like of shape (n_samples,)
            The target.

        Returns
        -------
        self
        """
        self._fit(X, y)
        return self

    def fit_transform(self, X, y):
        """Fit, and return the cross-fitted (out-of-fold) encoding of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            A frame with latitude and longitude columns (found by name; other columns are
            ignored) or an array of **[lat, lon]** in degrees.
        y : array-like of shape (n_samples,)
            The target.

        Returns
        -------
        ndarray of shape (n_samples, 1) or (n_samples, n_classes)
            Each row's prediction from models fit without its fold: the prediction of the
            target (continuous), the probability of ``classes_[1]`` (binary) or of every class
            (multiclass). A DataFrame under ``set_output(transform="pandas")``.
        """
        return self._finish(self._fit(X, y))

    def transform(self, X):
        """Encode new rows with the models fit on all training rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, 1) or (n_samples, n_classes)
            As in :meth:`fit_transform`, from the full models. Do not train a downstream
            model on ``transform`` of the training rows: it has seen their targets.
        """
        check_is_fitted(self, "weights_")
        validate_data(self, X, reset=False, skip_check_array=True)
        lat, lon = self._coordinates(X)
        if len(lat) == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required: X has no rows to encode")
        inputs = self._inputs(lat, lon)
        predictions = [learner.predict(inputs[learner.input]) for learner in self._base_models]
        return self._finish(self._combine(predictions))

    def get_feature_names_out(self, input_features=None):
        """Output names: ``location_prior``, or ``location_prior_<class>`` for multiclass targets.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn compatibility.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "weights_")
        if self.target_type_ == "multiclass":
            return np.asarray([f"location_prior_{c}" for c in self.classes_], dtype=object)
        return np.asarray(["location_prior"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        return tags

    # -- fitting -------------------------------------------------------------------------
    @property
    def _classification(self) -> bool:
        return self.target_type_ != "continuous"

    def _fit(self, X, y):
        """Fit everything; returns the meta-model's combination of the out-of-fold predictions."""
        validate_params(self)
        if not (self.encoder is None or isinstance(self.encoder, str) or hasattr(self.encoder, "transform")):
            raise ValueError(f"encoder must be None, an encoder name or a transformer; got {self.encoder!r}")
        learners = self._check_learners()
        # a failed refit must not leave a half-fitted estimator: drop everything the last fit set
        for stale in [name for name in vars(self) if name.endswith("_") or name == "_base_models"]:
            del self.__dict__[stale]
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        validate_data(self, X, reset=True, skip_check_array=True)
        lat, lon = self._coordinates(X)
        if len(lat) < 2:
            raise ValueError(f"Found array with {len(lat)} sample(s) while a minimum of 2 is required.")
        target = self._encode_target(y, len(lat))
        rng = check_random_state(self.random_state)
        folds = self._folds(X, y, lat, lon, rng)
        inputs = self._inputs(lat, lon, fit=True)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self._base_models, oof = [], []
        for name in learners:
            learner = _make_learner(name, self._classification, seed, self.n_jobs)
            oof.append(learner.cross_fit(inputs[learner.input], target, folds))
            learner.fit(inputs[learner.input], target)
            self._base_models.append(learner)
        self.learner_names_ = tuple(learners)
        self.learner_params_ = {name: learner.params() for name, learner in zip(learners, self._base_models)}
        self._fit_meta(oof, target)
        combined = self._combine(oof)
        self.oof_scores_ = {name: self._score(p, target) for name, p in zip(learners, oof)}
        self.oof_scores_["stack"] = self._score(combined, target)
        return combined

    def _check_learners(self) -> tuple:
        learners = tuple(self.learners)
        unknown = [name for name in learners if name not in LEARNERS]
        if not learners or unknown or len(set(learners)) != len(learners):
            raise ValueError(f"learners must be distinct names among {LEARNERS}; got {self.learners!r}")
        return learners

    def _coordinates(self, X):
        coords = read_coordinates(X, lat_col=self.lat_col, lon_col=self.lon_col)
        lat, lon, _ = validate_latlon(coords.lat, coords.lon, row_labels=coords.row_labels)
        return lat, lon

    def _encode_target(self, y, n_samples):
        original = y  # its dtype (categorical, nullable integer) decides the inferred target type
        # row labels of a pandas Series or frame; lists, arrays and polars series are named by position
        labels = y.index if isinstance(getattr(y, "index", None), pd.Index) else None
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional (one target); got shape {y.shape}")
        if len(y) != n_samples:
            raise ValueError(f"X has {n_samples} rows but y has {len(y)}")
        missing = np.flatnonzero(pd.isna(y)) if y.dtype.kind not in "biu" else []
        if len(missing):
            rows = list(labels[missing[:10]]) if labels is not None else missing[:10].tolist()
            raise ValueError(f"y contains NaN or missing values at {len(missing)} row(s), e.g. rows {rows}")
        kind = self.target_type if self.target_type != "auto" else infer_target_type(original)
        if kind not in ("continuous", "binary", "multiclass"):
            raise ValueError(f"target type {kind!r} is not supported: y must be continuous, binary or multiclass")
        self.target_type_ = kind
        if not self._classification:
            try:
                values = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("a continuous target must be numeric") from None
            if not np.isfinite(values).all():
                raise ValueError("y holds NaN or infinite values")
            # the learners see y centred and scaled: around a large offset (y + 1e12) float64 sums and
            # variances lose the spread and the trees collapse; _finish maps the prior back
            self._target_scaling_ = _centre_and_scale(values)
            return ((values - self._target_scaling_[0]) / self._target_scaling_[1])[:, None]
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("y holds NaN or infinite values")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.target_type == "auto" and len(self.classes_) > MANY_CLASSES:
            warnings.warn(
                f"y has {len(self.classes_)} distinct labels, read as that many classes (one output "
                "column each); pass target_type='multiclass' to say so, or 'continuous' to regress on it",
                UserWarning,
                stacklevel=4,
            )
        if kind == "binary" and len(self.classes_) > 2:
            raise ValueError(f"target_type='binary' but y has {len(self.classes_)} classes")
        if len(self.classes_) < 2:
            raise ValueError("y has a single class; a location prior needs at least two")
        return codes.reshape(-1)

    def _folds(self, X, y, lat, lon, rng):
        self.block_size_km_ = None
        if isinstance(self.cv, Integral):
            if len(lat) < self.cv:
                raise ValueError(f"cv={self.cv} cross-fitting folds need at least {self.cv} rows; got {len(lat)}")
            size_deg, size_km = self.block_size_deg, self.block_size_km
            if size_deg is not None and size_km is not None:
                raise ValueError("give at most one of block_size_deg and block_size_km")
            if size_deg is None and size_km is None and self.target_type_ == "multiclass":
                # classes: shuffled rows, not blocks (see the cv parameter)
                splitter = KFold(self.cv, shuffle=True, random_state=int(rng.randint(np.iinfo(np.int32).max)))
                folds = list(splitter.split(lat))
                return self._check_folds(folds, len(lat))
            if size_deg is None and size_km is None:
                size_km = self.block_size_km_ = automatic_block_size_km(lat, lon, self.cv)
            splitter = SpatialBlockKFold(
                self.cv,
                block_size_deg=size_deg,
                block_size_km=size_km,
                shuffle=True,
                random_state=int(rng.randint(np.iinfo(np.int32).max)),
            )
            folds = list(splitter.split(np.column_stack([lat, lon])))
        else:
            if self.block_size_deg is not None or self.block_size_km is not None:
                raise ValueError(
                    "block_size_deg and block_size_km set the default folds; with a cv splitter, "
                    "give the block size to the splitter"
                )
            folds = list(self.cv.split(X, y)) if hasattr(self.cv, "split") else list(self.cv)
        return self._check_folds(folds, len(lat))

    @staticmethod
    def _check_folds(folds, n_samples):
        counts = np.zeros(n_samples, dtype=np.int64)
        for train, test in folds:
            counts[np.asarray(test)] += 1
            if len(train) == 0:
                raise ValueError("a cross-fitting fold has no training rows")
        if len(folds) < 2 or not (counts == 1).all():
            raise ValueError(
                "the cv folds must put every row in exactly one test fold (a partition), "
                "so that every row gets an out-of-fold encoding"
            )
        return [(np.asarray(train), np.asarray(test)) for train, test in folds]

    def _inputs(self, lat, lon, fit=False) -> dict:
        """The base models' inputs: location features (computed once) and coordinates."""
        learners = self.learner_names_ if not fit else self._check_learners()
        inputs = {}
        if fit and "linear" not in learners:
            self.encoder_ = None
        if "linear" in learners:
            latlon = np.column_stack([lat, lon])
            if fit:
                encoder = GeoEmbedder() if self.encoder is None else self.encoder
                self.encoder_ = GeoEmbedder(encoder=encoder) if isinstance(encoder, str) else clone(encoder)
                features = self.encoder_.fit_transform(latlon)
            else:
                features = self.encoder_.transform(latlon)
            features = features.toarray() if sp.issparse(features) else np.asarray(features)
            inputs["features"] = features.astype(np.float64)
        x, y, z = latlon_to_unit_xyz(lat, lon)
        inputs["xyz"] = np.column_stack([x, y, z])
        inputs["coordinates"] = np.column_stack([lat, lon, x, y, z])
        return inputs

    # -- meta-model ----------------------------------------------------------------------
    def _fit_meta(self, oof, target):
        if not self._classification:
            meta = LinearRegression(positive=True).fit(np.column_stack([p[:, 0] for p in oof]), target[:, 0])
            self.weights_, self._meta_intercept_ = meta.coef_.astype(np.float64), float(meta.intercept_)
            centre, scale = self._target_scaling_  # the intercept in units of y, for the base models' outputs in y
            self.intercept_ = scale * self._meta_intercept_ + centre * (1 - self.weights_.sum())
            return
        self.class_prior_ = np.bincount(target, minlength=len(self.classes_)) / len(target)
        self.weights_, self.prior_weight_ = _fit_log_pool(oof, self.class_prior_, target)

    def _combine(self, predictions) -> np.ndarray:
        if not self._classification:  # on the centred and scaled target
            return (np.column_stack([p[:, 0] for p in predictions]) @ self.weights_ + self._meta_intercept_)[:, None]
        return _log_pool(predictions, self.class_prior_, self.weights_, self.prior_weight_)

    def _finish(self, combined) -> np.ndarray:
        if self.target_type_ == "binary":
            return combined[:, 1:2]
        if self.target_type_ == "continuous":
            centre, scale = self._target_scaling_
            return combined * scale + centre
        return combined

    def _score(self, prediction, target) -> float:
        if self._classification:
            return float(np.mean(prediction.argmax(axis=1) == target))
        y = target[:, 0]
        total = ((y - y.mean()) ** 2).sum()
        return float(1 - ((y - prediction[:, 0]) ** 2).sum() / total) if total > 0 else 0.0


def _centre_and_scale(values) -> tuple[float, float]:
    """(centre, scale) that take a continuous target to about zero mean and unit variance, exactly.

    The scale is a power of two and the centre a multiple of a power of two of at least 8 standard
    deviations (0 unless the mean is far from 0), so that ``(y - centre) / scale`` rounds nothing for
    values near the centre: the learners see the same bits for y, for y times a power of two and, as
    far as float64 holds y + offset, for y + offset. (The trees break ties between equally good
    splits on the last bit of their target.)
    """
    mean = float(np.mean(values))
    if not np.isfinite(mean):  # the sum overflowed: values near the float64 limit
        mean = float(np.median(values))
    spread = float(np.std(values - mean))
    if not (np.isfinite(spread) and spread > 0):
        return mean, 1.0  # a constant target: the learners see zeros
    step = 2.0 ** (math.ceil(math.log2(spread)) + 3)
    return float(np.round(mean / step) * step), 2.0 ** round(math.log2(spread))


# -- target types ---------------------------------------------------------------------------
def infer_target_type(y) -> str:
    """The target type that ``target_type="auto"`` reads in ``y``: the rule of the package.

    scikit-learn's :func:`~sklearn.utils.multiclass.type_of_target`, with numbers read as
    users mean them:

    - strings, booleans and pandas categoricals are classes, whatever their number;
    - any target with two distinct values is ``"binary"``;
    - floating-point targets with more are ``"continuous"``, whole numbers or not;
    - integer targets (numpy or pandas nullable) are ``"multiclass"`` with at most
      ``MAX_INTEGER_CLASSES`` (10) distinct values and ``"continuous"`` with more: int64
      prices, elevations, depths and counts are quantities, not hundreds of classes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target, without missing values.

    Returns
    -------
    str
        ``"continuous"``, ``"binary"`` or ``"multiclass"``, or what ``type_of_target`` says for
        other targets (e.g. ``"multilabel-indicator"``), which callers reject.

    Examples
    --------
    >>> import numpy as np
    >>> from geoembed.target_encoder import infer_target_type
    >>> infer_target_type(np.array([120, 3400, 15, 880, 42, 7, 1010, 65, 300, 12, 99]))
    'continuous'
    >>> infer_target_type(np.array([0, 1, 2, 1, 0]))
    'multiclass'
    >>> infer_target_type(["wet", "dry", "wet"])
    'binary'
    """
    dtype = getattr(y, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):
        n_classes = pd.Series(y).nunique()
        return "binary" if n_classes <= 2 else "multiclass"
    integer = dtype is not None and pd.api.types.is_integer_dtype(dtype)
    if isinstance(y, (pd.Series, pd.Index)) or hasattr(y, "to_numpy"):
        y = y.to_numpy()
    values = np.asarray(y)
    integer = integer or values.dtype.kind in "iu"
    kind = type_of_target(values, input_name="y")
    if kind == "multiclass" and values.dtype.kind == "f":
        return "continuous"  # whole-number floats (metres, counts as floats) are still a quantity
    if kind == "multiclass" and integer and len(pd.unique(values.ravel())) > MAX_INTEGER_CLASSES:
        return "continuous"
    return kind


# -- automatic block size -------------------------------------------------------------------
# -- base models ----------------------------------------------------------------------------
def _make_learner(name, classification, seed, n_jobs):
    classes = {"linear": _RidgeLearner, "knn": _NeighboursLearner, "trees": _TreesLearner, "boosting": _BoostingLearner}
    return classes[name](classification, seed, n_jobs)


def _one_hot(codes, n_classes):
    out = np.zeros((len(codes), n_classes))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def _as_probabilities(scores):
    """Scores of a linear or averaging model as probabilities: clipped at 0, rows summing to 1."""
    scores = np.clip(scores, 0.0, None)
    total = scores.sum(axis=1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / scores.shape[1])
    return np.where(total > 0, scores / np.where(total > 0, total, 1.0), uniform)


class _Learner:
    """What every base model shares: the target as regression columns (one-hot for classes)."""

    input = ""  # the key of the model's input among LocationTargetEncoder._inputs

    def __init__(self, classification, seed=None, n_jobs=None):
        self.classification, self.seed, self.n_jobs = classification, seed, n_jobs

    def _start(self, target):
        """Called first by ``cross_fit``: note the number of classes."""
        if self.classification:
            self.n_classes = int(target.max()) + 1

    def _targets(self, target):
        return _one_hot(target, self.n_classes) if self.classification else target


class _RidgeLearner(_Learner):
    """Ridge regression on standardised location features; alpha chosen on the folds.

    Every fold's solution for every alpha comes from one eigendecomposition of the fold's Gram
    matrix, itself the full Gram matrix less the test rows' part. Classes are one-hot targets
    whose predictions are clipped into probabilities (scikit-learn's ``RidgeClassifier``).
    """

    input = "features"

    def cross_fit(self, X, target, folds):
        # products of a few hundred columns gain little from BLAS threads and lose much when the
        # cores are shared (oversubscribed OpenBLAS threads spin): one thread here
        with threadpool_limits(limits=1, user_api="blas"):
            return self._cross_fit(X, target, folds)

    def _cross_fit(self, X, target, folds):
        self._start(target)
        self.mean, self.scale = X.mean(axis=0), X.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        X = (X - self.mean) / self.scale
        Y = self._targets(target)
        gram, sums, cross, y_sums = X.T @ X, X.sum(axis=0), X.T @ Y, Y.sum(axis=0)
        alphas = np.asarray(RIDGE_ALPHAS)
        errors, solved = np.zeros(len(alphas)), []
        for train, test in folds:
            X_test, Y_test = X[test], Y[test]
            n = len(train)
            mean = (sums - X_test.sum(axis=0)) / n
            y_mean = (y_sums - Y_test.sum(axis=0)) / n
            centred_gram = gram - X_test.T @ X_test - n * np.outer(mean, mean)
            centred_cross = cross - X_test.T @ Y_test - n * np.outer(mean, y_mean)
            eigenvalues, vectors = np.linalg.eigh(centred_gram)
            projected, rotated = (X_test - mean) @ vectors, vectors.T @ centred_cross
            for i, alpha in enumerate(alphas):
                residual = projected @ (rotated / (eigenvalues + alpha)[:, None]) + y_mean - Y_test
                errors[i] += np.sum(residual**2)
            solved.append((test, projected, rotated, eigenvalues, y_mean))
        self.alpha = float(alphas[int(np.argmin(errors))])
        oof = np.zeros_like(Y)
        for test, projected, rotated, eigenvalues, y_mean in solved:
            oof[test] = projected @ (rotated / (eigenvalues + self.alpha)[:, None]) + y_mean
        self._full = (gram, sums, cross, y_sums, len(X))
        return self._output(oof)

    def fit(self, X, target):
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, target)

    def _fit(self, X, target):
        gram, sums, cross, y_sums, n = self._full
        mean, y_mean = sums / n, y_sums / n
        centred_gram = gram - n * np.outer(mean, mean) + self.alpha * np.eye(len(mean))
        coef = np.linalg.solve(centred_gram, cross - n * np.outer(mean, y_mean))
        self.coef = coef / self.scale[:, None]
        self.intercept = y_mean - (mean * self.scale + self.mean) @ self.coef
        del self._full
        return self

    def predict(self, X):
        return self._output(X @ self.coef + self.intercept)

    def _output(self, scores):
        return _as_probabilities(scores) if self.classification else scores

    def params(self):
        return {"alpha": self.alpha}


class _NeighboursLearner(_Learner):
    """Inverse-distance-weighted k nearest neighbours on the unit sphere; k chosen on the folds.

    Chord distances on the unit sphere order neighbours as great-circle distances do.
    """

    input = "xyz"

    @staticmethod
    def _weights(distances, k):
        distances = distances[:, :k]
        # distances below a tenth of the k-th neighbour's count as that tenth, so that a training
        # point at the query's exact location weighs most but does not decide alone; when all k
        # neighbours share the query's location (geocoded centroids), the floor makes them equal
        floor = np.maximum(0.1 * distances[:, -1:], MIN_CHORD)
        weights = 1.0 / np.maximum(distances, floor)
        return weights / weights.sum(axis=1, keepdims=True)

    def _average(self, distances, indices, Y, k):
        k = min(k, indices.shape[1])
        weights = self._weights(distances, k)
        rows = np.repeat(np.arange(len(indices)), k)
        matrix = sp.csr_matrix((weights.ravel(), (rows, indices[:, :k].ravel())), shape=(len(indices), len(Y)))
        return np.asarray(matrix @ Y)

    def cross_fit(self, X, target, folds):
        self._start(target)
        Y = self._targets(target)
        errors, found = np.zeros(len(NEIGHBOURS)), []
        for train, test in folds:
            search = NearestNeighbors(n_neighbors=min(max(NEIGHBOURS), len(train)), n_jobs=self.n_jobs)
            distances, indices = search.fit(X[train]).kneighbors(X[test])
            for i, k in enumerate(NEIGHBOURS):
                errors[i] += np.sum((self._average(distances, indices, Y[train], k) - Y[test]) ** 2)
            found.append((train, test, distances, indices))
        self.k = NEIGHBOURS[int(np.argmin(errors))]
        oof = np.zeros_like(Y)
        for train, test, distances, indices in found:
            oof[test] = self._average(distances, indices, Y[train], self.k)
        return oof

    def fit(self, X, target):
        self.Y = self._targets(target)
        self.search = NearestNeighbors(n_neighbors=min(self.k, len(X)), n_jobs=self.n_jobs).fit(X)
        return self

    def predict(self, X):
        distances, indices = self.search.kneighbors(X)
        return self._average(distances, indices, self.Y, self.k)

    def params(self):
        return {"n_neighbors": self.k}


class _TreesLearner(_Learner):
    """Extremely randomised trees on latitude, longitude and unit-sphere xyz (no tuning)."""

    input = "coordinates"
    options = {"n_estimators": 30, "min_samples_leaf": 3, "max_features": 0.6}

    def _model(self):
        cls = ExtraTreesClassifier if self.classification else ExtraTreesRegressor
        return cls(**self.options, random_state=self.seed, n_jobs=self.n_jobs)

    def _predict(self, model, X):
        if not self.classification:
            return model.predict(X)[:, None]
        out = np.zeros((len(X), self.n_classes))
        out[:, model.classes_] = model.predict_proba(X)
        return out

    def _labels(self, target):
        return target if self.classification else target[:, 0]

    def cross_fit(self, X, target, folds):
        self._start(target)
        oof = np.zeros((len(X), self.n_classes if self.classification else 1))
        for train, test in folds:
            oof[test] = self._predict(self._model().fit(X[train], self._labels(target[train])), X[test])
        return oof

    def fit(self, X, target):
        self.model = self._model().fit(X, self._labels(target))
        return self

    def predict(self, X):
        return self._predict(self.model, X)

    def params(self):
        return {}


class _BoostingLearner(_TreesLearner):
    """Gradient-boosted trees on the coordinates; the number of rounds chosen on the folds."""

    rounds = tuple(range(10, 201, 10))

    def _model(self, rounds=None):
        cls = HistGradientBoostingClassifier if self.classification else HistGradientBoostingRegressor
        return cls(
            max_iter=rounds or max(self.rounds),
            learning_rate=0.1,
            max_leaf_nodes=31,
            early_stopping=False,
            random_state=self.seed,
        )

    def _staged(self, model, X):
        if not self.classification:
            yield from (p[:, None] for p in model.staged_predict(X))
            return
        for p in model.staged_predict_proba(X):
            out = np.zeros((len(X), self.n_classes))
            out[:, model.classes_] = p
            yield out

    def cross_fit(self, X, target, folds):
        self._start(target)
        Y = self._targets(target)
        stages = np.zeros((len(self.rounds), *Y.shape))
        for train, test in folds:
            labels = self._labels(target[train])
            if self.classification and len(np.unique(labels)) < 2:
                stages[:, test] = _one_hot(labels[:1], self.n_classes)  # one class seen: predict it
                continue
            model = self._model().fit(X[train], labels)
            for i, p in enumerate(self._staged(model, X[test]), 1):
                if i % 10 == 0:
                    stages[i // 10 - 1][test] = p
        best = int(np.argmin([np.sum((s - Y) ** 2) for s in stages]))
        self.n_rounds = self.rounds[best]
        return stages[best]

    def fit(self, X, target):
        self.model = self._model(self.n_rounds).fit(X, self._labels(target))
        return self

    def params(self):
        return {"max_iter": self.n_rounds}


# -- log pooling of class probabilities -----------------------------------------------------------
def _log_probabilities(predictions, prior):
    n_classes = len(prior)
    logs = [np.log((1 - SMOOTHING) * p + SMOOTHING / n_classes) for p in predictions]
    logs.append(np.broadcast_to(np.log(prior + SMOOTHING / n_classes), logs[0].shape))
    return np.stack(logs)  # (n_models + 1, n_samples, n_classes)


def _pool(logs, weights):
    scores = np.tensordot(weights, logs, axes=1)
    scores -= scores.max(axis=1, keepdims=True)
    probabilities = np.exp(scores)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def _fit_log_pool(predictions, prior, target):
    """Non-negative weights w (models, then the class prior) minimising the log-loss of
    p ∝ prod_i p_i ** w_i.
    """
    logs = _log_probabilities(predictions, prior)
    n_models, n_samples = logs.shape[0], logs.shape[1]
    truth = _one_hot(target, len(prior))

    def loss(weights):
        probabilities = _pool(logs, weights)
        value = -np.mean(np.log(np.sum(probabilities * truth, axis=1)))
        gradient = np.einsum("mnc,nc->m", logs, probabilities - truth) / n_samples
        return value, gradient

    start = np.full(n_models, 1.0 / n_models)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * n_models)
    return result.x[:-1].astype(np.float64), float(result.x[-1])


def _log_pool(predictions, prior, weights, prior_weight):
    return _pool(_log_probabilities(predictions, prior), np.append(weights, prior_weight))
