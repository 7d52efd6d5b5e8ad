"""The estimator: :class:`LocationTargetEncoder`."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from geoembed.core.geo import latlon_to_unit_xyz
from geoembed.core.inputs import check_input_features, read_valid_latlon
from geoembed.core.params import CrossValidator, Interval, Options, validate_params
from geoembed.core.utils import caller_stacklevel
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.model_selection import SpatialBlockKFold, automatic_block_size_km, block_labels
from geoembed.target_encoder._learners import LEARNERS, make_learner
from geoembed.target_encoder._pooling import fit_constant_pool, fit_log_pool, fit_prior_exponent, floored, log_pool
from geoembed.target_encoder._targets import (
    HANDFUL_OF_CLASSES,
    MANY_CLASSES,
    MAX_INTEGER_CLASSES,
    infer_target_type,
    integer_target,
    numbers_as_objects,
)

__all__ = ["MIN_CLASS_ROWS", "SMALL_TABLE_ROWS", "SMALL_TABLE_ROWS_PER_BLOCK", "LocationTargetEncoder"]

#: Below this many rows, ``cv="auto"`` cross-fits with 20 folds instead of 5.
SMALL_TABLE_ROWS = 1000
#: Below ``SMALL_TABLE_ROWS`` rows, the automatic blocks hold this many rows on average (10,
#: ``geoembed.model_selection.ROWS_PER_BLOCK``, from there on): rows sharing a place stay together, and
#: the folds of a small table are not coarse for its extent (see ``block_size_km``).
SMALL_TABLE_ROWS_PER_BLOCK = 1
#: The one-sided 95% normal quantile: the location signal is kept when the out-of-fold gain of the
#: meta-model over a constant is this many standard errors above zero.
SKILL_Z = 1.6448536269514722
#: A binary target whose rarer class has fewer rows than this gives the constant: the default folds
#: are at least 5, so out of fold some fold has none of it, and the z score of a few rows' gains is no
#: test (noise draws with 1 to 3 positives among 1,500 rows were kept 1 to 3 times in 20).
MIN_CLASS_ROWS = 5


class LocationTargetEncoder(TransformerMixin, BaseEstimator):
    """Encode location as a cross-fitted prediction of the target from location alone.

    The location equivalent of scikit-learn's ``TargetEncoder``: one feature (one per class for
    multiclass targets, as log lifts: see ``multiclass_output``) that says what the target tends
    to be at this place, learned from a small stack of complementary models (see
    :data:`LEARNERS`): ridge regression on GeoCLIP features, nearest neighbours on the sphere
    and randomised trees on coordinates, combined with non-negative weights by a meta-model.
    Next to a model's other features it adds location as one well-calibrated column instead of
    512 noisy ones.

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
        output column; so do integers read as 6 to 10 classes (``HANDFUL_OF_CLASSES``), which
        may be a small count or a rating (0 to 8 and 18 deaths per address) as well as label codes.
        Dates and durations are refused under "auto", with how to convert them. An explicit
        type always wins, and silences those warnings. Inside cross-validation each fit infers
        its own type: an integer target near 10 distinct values can read as continuous in one
        fold and as classes in another (one that lacks a rare value), so pass ``target_type``
        there.
    cv : "auto", int, cross-validation splitter or iterable, default="auto"
        The folds of the cross-fitting. ``"auto"`` is 20 folds for a table of fewer than
        1,000 rows (``SMALL_TABLE_ROWS``; half the rows for tables under 40 rows, never fewer
        than 5; and no more than the occupied blocks, when the points sit at few places) and
        5 folds from 1,000 rows on. With 20 folds the base models of the out-of-fold encoding
        train on 95% of a small table instead of 80%, so the meta-model weighs them nearly as
        they will be when :meth:`transform` uses them fit on all rows (a ridge on 512 features
        gains much from the last rows of a small table). The rule steps at 1,000
        rows: a table just above it gets 5 folds, one just below 20. Chosen on the development
        half of the held-out protocol (a run made for the choice, with a ``LinearRegression``
        head, recorded in CHANGELOG; ``benchmarks/results/heldout.md`` has the halves as they
        stand): against 5 folds, +0.069 in R² on a 104-row table and
        -0.001 to +0.003 on the four other continuous tasks it changes (303 to 1,155 rows, the
        encoder fit on 80% of them). From 1,000 rows on, 5 folds keep the cost of a fit at 6
        fits of each base model instead of 21. On the evaluation half, run once after the
        choice, the encoder's margins over the best single model with the current defaults
        (``benchmarks/results/heldout.md``, fold standard deviation of the margin in brackets):
        a 197-row count +0.050 (0.096), 35 prefectures on 668 rows +0.124 (0.048), a skewed
        414-row target (every model's R² below zero) +1.106 (1.594). With 5 folds, before the
        choice, they read -0.071, +0.099 and +0.636 (an earlier design's run, in CHANGELOG).
        The number used is ``n_splits_``. An int gives that many spatially blocked folds of
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
        the occupied blocks hold 10 rows on average (1 row for a table under 1,000 rows:
        ``SMALL_TABLE_ROWS_PER_BLOCK``), or a smaller one where that gives fewer blocks than
        folds (fitted as ``block_size_km_``), except for a multiclass target, whose default
        folds are shuffled rows (scikit-learn's ``KFold``). Under 1,000 rows that is in effect
        the smallest side, about 1 m: the folds are shuffled rows, except that rows at the same
        point share a block (geocoded centroids stay out of each other's fits: the encoding
        extrapolates to places it has not seen, so a level of each place that does not follow
        location is not kept as signal, and fewer distinct points than folds is an error; to
        predict at the same places, pass ``cv=KFold(5, shuffle=True)``). Blocks of 10
        rows made the 20 folds of a small table coarse for its extent (thousands of km for 100
        rows spread over the world, 90 km for North Carolina's 90 counties), so the
        cross-fitting extrapolated further than the table's own use would (a likely reason,
        not measured, why the meta-model then underweighted models that do well nearby). Chosen on the development half
        (``benchmarks/results/small_tables.md``: 100-, 200- and 300-row draws of its 21 larger
        location-only tasks, three each): against blocks of 10 rows, the continuous tasks'
        mean R² rose by 0.035, 0.009 and 0.012, better on 20 to 24 of 30 draws and worse on 5
        to 7; binary and multiclass targets changed by at most 0.002 on average; of the three
        small tables it has as they are, one got worse (104 house prices, 0.196 to 0.159).
        Under blocked folds a class whose rows lie in a few blocks (a small country, a
        time zone, a neighbourhood) is missing from the training part of the fold that holds
        them, so its rows never get a high value in their own class's column; a classifier
        trained on the encoding then learns not to trust the columns of compact classes. On
        the development half of the held-out protocol (a run made for the choice, quoted since commit
        517312e; its file was not kept) shuffled rows lifted a ``LogisticRegression`` head on the
        encoding by 0.06 to 0.13 in accuracy on the three tasks of 51 to 118 classes (US states, time
        zones, countries) and changed the seven others by at most 0.01. Binary and continuous targets
        keep the blocks, which keep a downstream model's trust in the prior honest for places far from
        the training rows. Giving the size of your own spatial cross-validation's blocks is not
        a measured gain: on the 15 held-out added tasks it lowered a linear head's mean gain from
        0.090 to 0.084 and left boosted trees significantly worse on 4 tasks instead of 3
        (``benchmarks/results/added_designs_heldout.md``). For a multiclass target, giving a size
        brings the blocks back.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold assignment and the trees. As everywhere in scikit-learn, None draws new
        folds and trees at every fit, so two runs of one script differ; pass an int for the same
        numbers every time. How much they differ, measured on the 17 location-only tasks of the
        held-out evaluation half (``benchmarks/results/heldout.md``, seed 1 against seed 0, the
        encoder and a LinearRegression / LogisticRegression head, 5-fold spatial CV): a median of
        0.002 in R² or accuracy, 0.005 at the 75th percentile and at most 0.025 (35 classes on
        668 rows).
    n_jobs : int, default=None
        Parallel jobs of the trees and the neighbour search (None: 1).
    lat_col, lon_col : str, default=None
        Column names in data frames. By default they are found by name, as in
        :class:`~geoembed.GeoEmbedder`: lat/latitude and lon/lng/long/longitude, in any case.
        Other columns are ignored, so the encoder can take a whole table; ``transform`` then
        takes the same columns, in the same order (scikit-learn's check of feature names).
    wrap_longitude : bool, default=False
        Map any finite longitude into [-180, 180) instead of rejecting ``|lon| > 180`` (data
        given in [0, 360), or across the antimeridian as 165 to 188), as in
        :class:`~geoembed.GeoEmbedder`. Every base model then sees the wrapped longitudes.
    multiclass_output : {"log_lift", "probabilities"}, default="log_lift"
        The form of a multiclass target's columns (binary and continuous targets are not
        affected). ``"log_lift"``: ``log(1 + n_classes * p) - lift_offset_`` for each class's
        prior probability p, centred on the training rows (``lift_offset_``: its mean over the
        out-of-fold encoding). A linear or logistic head reproduces the prior's ranking of
        classes from log lifts, which it cannot from probabilities (a class at 0.9 and one at
        0.09 differ by 0.8 in probability but by a factor of ten in odds). On the development
        half of the held-out protocol (a run made for the choice, commit 9285a07; its file
        was not kept) it lifted a ``LogisticRegression()`` head by 0.016 to
        0.047 in accuracy on the three tasks of 51 to 118 classes and changed the seven others
        by -0.002 to +0.015; with the centring, the head converged on every fold (uncentred log
        forms left lbfgs at ``max_iter`` on some folds of 3 of 10 tasks). The probabilities
        themselves, for an argmax or a calibrated prior, are
        ``np.expm1(encoded + lift_offset_) / n_classes``. ``"probabilities"``: the pooled
        class probabilities, rows summing to one.

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
    skill_ : float
        The meta-model's skill out of fold: on each fold's rows, the meta-model fit on the other
        folds' rows against a constant fit on those same rows (their mean, or the best constant of
        the pool: their class frequencies raised to the exponent the pool fits them with when it
        uses no model, which undoes the smoothing below); R² for a continuous target, one less the
        ratio of log-losses for classes, both forecasts mixed alike with 1% of the uniform
        distribution first, so that one row costs at most ``log(101 * n_classes)``. (Unmixed, a row
        whose class was missing from a refit's rows could cost hundreds of nats and outweigh all the
        others: on 100-row draws of a development task, airport time zones, where a fold's refit
        can miss a zone of one airport, the signal was dropped and the encoder fell 0.330 below the
        best single model; mixed, it is 0.050 above;
        ``benchmarks/results/small_tables_floored_draws_changes.md``, development measurement.)
        The location signal is kept only when the rows' paired gains put it above zero at
        one-sided 95% (a z score above ``SKILL_Z``, the rows taken as independent); otherwise
        the encoder warns and its output is that constant for every row (``weights_`` all zero;
        for classes the pool's best constant, the class frequencies for two classes), a column no
        downstream model can overfit. So is a binary target whose rarer class has fewer than
        ``MIN_CLASS_ROWS`` (5) rows, whatever its z score. The test
        has little power on weak signals: on synthetic points over Europe (3-d features), a
        smooth pattern explaining 1% of y's variance on 2,000 rows was kept in 5 fits of 30,
        one explaining 4% on 1,500 rows in 26 of 30, 7% in 30 of 30, and pure noise on 600
        rows in 0 of 30 (``benchmarks/results/skill_power.md``).
        ``oof_scores_["stack"]`` scores the stack before that decision.
    lift_offset_ : ndarray of shape (n_classes,) or None
        The centring of the log lifts: the mean of ``log(1 + n_classes * p)`` over the training
        rows' out-of-fold encoding (multiclass targets with ``multiclass_output="log_lift"``;
        None otherwise).
    block_size_km_ : float or None
        The automatic block size, when neither block size was given and ``cv`` is ``"auto"``
        or an int (None for a multiclass target, whose default folds are shuffled rows).
    n_splits_ : int
        The number of cross-fitting folds (``cv="auto"`` chooses it from the number of rows).
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
    The figures in this docstring come from the results files it names, each measured with torch
    2.13.0+cpu on a 2-core AMD EPYC Zen 5 VM, with 1 or 2 threads (the last line of each file names
    its machine). Accuracy does not depend on the CPU beyond float32 rounding.

    The cost of a fit is that of the location features (computed once) plus ``n_splits_ + 1`` fits
    of each base model: on 10,000 rows about 2.1-2.4x the time of the GeoCLIP features alone
    (``benchmarks/results/location_prior.md``; AMD EPYC Zen 5, 2 threads, torch 2.13.0).

    The meta-model's few weights are fit on the out-of-fold predictions of all rows, as in
    scikit-learn's stacking estimators; each row's encoding comes from base models that never
    saw it.

    A target without location signal (``skill_`` not significantly above zero) gives a
    constant. It was chosen on the development half of the held-out protocol, where it changed no
    location-only verdict. On the evaluation half, on a skewed 414-row target where every model
    scores below zero, the encoder's R² is -0.234 ± 0.436 over folds
    (``benchmarks/results/heldout.md``, which has the evaluation half and the confirmation sets);
    without the test an earlier release scored -1.005 there (in CHANGELOG; its file was not kept).

    Small tables are where it is not reliably at par. Its folds for them (blocks of about one row,
    see ``block_size_km``) were chosen on draws of the development half and judged on a third set
    of fresh tasks, mostly small: 4 wins and 3 losses there against 2 and 5 with blocks of ten rows.
    Across every held-out task that chose nothing (the evaluation half and three confirmation sets),
    it still lost 7 of the 14 location-only tasks under 450 rows, by 0.009 to 0.092 R² or accuracy,
    to k-NN or boosted trees on lat/lon or a linear probe on GeoCLIP features, and 1 of the 24
    larger ones. With a few hundred rows, compare it with those under
    :class:`~geoembed.SpatialBlockKFold` before adopting it.

    What it does not do, as scikit-learn's :class:`~sklearn.preprocessing.TargetEncoder` does
    not: ``sample_weight`` (the prior is unweighted; a weighted head after it in a pipeline gets
    its weights, the encoder none). ``transform`` of a row depends on the rows transformed with it
    to the float32 rounding of the location features, which the linear base model's
    standardisation amplifies where the features barely vary (one neighbourhood): one row at a time
    against batches of 64, on Ames house prices (y's standard deviation 0.18), differed by up to
    2.6e-4 with geoclip-lite features and 1.5e-5 with GeoCLIP's (AMD EPYC Zen 5, 2 threads, torch
    2.13.0). Out-of-fold values follow
    the folds, so the same coordinates in float32 instead of float64, or another ``n_jobs``
    (the trees' sums), can move them; ``random_state`` fixes them for one input and ``n_jobs``.

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

    Next to other features, in a pipeline with a linear head (boosted trees that can split on
    lat/lon themselves gain little from the prior and can lose; see the guide):

    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import RidgeCV
    >>> from sklearn.pipeline import make_pipeline
    >>> model = make_pipeline(
    ...     make_column_transformer((LocationTargetEncoder(block_size_km=100), ["lat", "lon"]),
    ...                             remainder="passthrough"),
    ...     RidgeCV())
    >>> model.fit(homes, price).predict(homes.head(2)).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "encoder": [None, str, object],
        "learners": [tuple, list],
        "target_type": [Options("auto", "continuous", "binary", "multiclass")],
        "cv": [Options("auto"), CrossValidator()],
        "block_size_deg": [None, Interval(Real, 0, None, closed="neither")],
        "block_size_km": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "n_jobs": [None, Interval(Integral, None, -1), Interval(Integral, 1, None)],
        "lat_col": [None, str],
        "lon_col": [None, str],
        "wrap_longitude": ["boolean"],
        "multiclass_output": [Options("log_lift", "probabilities")],
    }

    def __init__(
        self,
        encoder=None,
        *,
        learners=("linear", "knn", "trees"),
        target_type="auto",
        cv="auto",
        block_size_deg=None,
        block_size_km=None,
        random_state=None,
        n_jobs=None,
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        multiclass_output="log_lift",
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
        self.wrap_longitude = wrap_longitude
        self.multiclass_output = multiclass_output

    # -- scikit-learn API ----------------------------------------------------------------
    def fit(self, X, y, groups=None):
        """Fit the base models and the meta-model.

        The meta-model needs out-of-fold predictions, so this does the same cross-fitting as
        :meth:`fit_transform` and then fits every base model on all rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            A frame with latitude and longitude columns (found by name; other columns are
            ignored) or an array of **[lat, lon]** in degrees. :meth:`transform` then takes
            the same columns (scikit-learn's check of feature names).
        y : array-like of shape (n_samples,)
            The target.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a ``cv`` splitter that reads them (``GroupKFold``,
            ``LeaveOneGroupOut``...), so that the cross-fitting keeps each group's rows
            together; in a pipeline ``pipe.fit(X, y, locationtargetencoder__groups=g)``, or
            ``set_fit_request(groups=True)`` under metadata routing. The default folds are
            spatial blocks and take no groups.

        Returns
        -------
        self
        """
        self._fit(X, y, groups)
        return self

    def fit_transform(self, X, y, groups=None):
        """Fit, and return the cross-fitted (out-of-fold) encoding of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, 2)
            A frame with latitude and longitude columns (found by name; other columns are
            ignored) or an array of **[lat, lon]** in degrees.
        y : array-like of shape (n_samples,)
            The target.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a ``cv`` splitter that reads them (see :meth:`fit`).

        Returns
        -------
        ndarray of shape (n_samples, 1) or (n_samples, n_classes)
            Each row's prediction from models fit without its fold: the prediction of the
            target (continuous), the probability of ``classes_[1]`` (binary) or, for every
            class (multiclass), its centred log lift or its probability (see
            ``multiclass_output``). A DataFrame under ``set_output(transform="pandas")``.
        """
        return self._finish(self._fit(X, y, groups))

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
        check_is_fitted(self)
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
        input_features : array-like of str, default=None
            Checked against the input seen in ``fit`` (``feature_names_in_``, or their number), as
            scikit-learn's transformers check it; the output names do not depend on it.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        check_input_features(self, input_features)
        if self.target_type_ == "multiclass":
            return np.asarray([f"location_prior_{c}" for c in self.classes_], dtype=object)
        return np.asarray(["location_prior"], dtype=object)

    def __sklearn_is_fitted__(self):
        # a failed refit leaves some attributes ending in "_" (target_type_, ...) but no skill_,
        # which a fit sets last
        return hasattr(self, "skill_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        return tags

    # -- fitting -------------------------------------------------------------------------
    @property
    def _classification(self) -> bool:
        return self.target_type_ != "continuous"

    def _fit(self, X, y, groups=None):
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
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (len(lat),):
                raise ValueError(f"groups must hold one label per row of X ({len(lat)}); got shape {groups.shape}")
            if isinstance(self.cv, (str, Integral)):
                raise ValueError(
                    f"groups are read by a cv splitter (cv=GroupKFold(5), for instance); cv={self.cv!r} "
                    "makes its own folds (spatial blocks) and takes none"
                )
            if not hasattr(self.cv, "split"):
                raise ValueError(
                    "groups are read by a cv splitter (cv=GroupKFold(5), for instance); cv is a list of "
                    "folds here, which are used as given"
                )
        rng = check_random_state(self.random_state)
        folds = self._folds(X, y, lat, lon, rng, groups)
        inputs = self._inputs(lat, lon, fit=True)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self._base_models, oof = [], []
        with warnings.catch_warnings():
            # the target's type is settled (and warned about once, above): scikit-learn's classifiers
            # would repeat "more unique classes than 50% of the samples" for every fold of every model
            warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
            for name in learners:
                learner = make_learner(name, self._classification, seed, self.n_jobs)
                oof.append(learner.cross_fit(inputs[learner.input], target, folds))
                learner.fit(inputs[learner.input], target)
                self._base_models.append(learner)
        self.learner_names_ = tuple(learners)
        self.learner_params_ = {name: learner.params() for name, learner in zip(learners, self._base_models)}
        self._fit_meta(oof, target)
        combined = self._combine(oof)
        self.oof_scores_ = {name: self._score(p, target) for name, p in zip(learners, oof)}
        self.oof_scores_["stack"] = self._score(combined, target)
        skill, z = self._skill(oof, target, folds)
        rarest = int(np.bincount(target).min()) if self.target_type_ == "binary" else None
        too_rare = rarest is not None and rarest < MIN_CLASS_ROWS
        keep = z > SKILL_Z and not too_rare
        if not keep:
            self._forget_location(target)
            combined = self._combine(oof)
        self.lift_offset_ = None
        if self.target_type_ == "multiclass" and self.multiclass_output == "log_lift":
            # centred on the training rows' out-of-fold encoding: a logistic head's lbfgs converges
            self.lift_offset_ = np.log1p(len(self.classes_) * combined).mean(axis=0)
        self.skill_ = skill  # set last: the estimator is fitted once it has skill_
        if not keep and too_rare:
            warnings.warn(
                f"{type(self).__name__} cannot tell a location signal from chance for a class of {rarest} "
                f"row(s) (fewer than {MIN_CLASS_ROWS}), so its output is the class frequencies for every row",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        elif not keep:  # after the fit is complete, so that an error raised from it leaves a whole fit
            note = _shared_points_note(lat, lon, folds)
            warnings.warn(
                f"{type(self).__name__} found no significant location signal in y: out of fold, its "
                f"models do no better than a constant (skill_, the attribute, is not above zero at a "
                f"one-sided z of {SKILL_Z:.3f}), so its output is that constant for every row (the training "
                f"mean, or the class frequencies as closely as the pool's constant gives them){note}",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return combined

    def _check_learners(self) -> tuple:
        learners = tuple(self.learners)
        unknown = [name for name in learners if name not in LEARNERS]
        if not learners or unknown or len(set(learners)) != len(learners):
            raise ValueError(f"learners must be distinct names among {LEARNERS}; got {self.learners!r}")
        return learners

    def _coordinates(self, X):
        return read_valid_latlon(X, lat_col=self.lat_col, lon_col=self.lon_col, wrap_longitude=self.wrap_longitude)

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
        unusable = [
            ("NaN or missing", np.flatnonzero(pd.isna(y)) if y.dtype.kind not in "biu" else []),
            ("infinite", np.flatnonzero(np.isinf(y)) if y.dtype.kind == "f" else []),
        ]
        for what, bad in unusable:
            if len(bad):
                rows = list(labels[bad[:10]]) if labels is not None else bad[:10].tolist()
                raise ValueError(f"y contains {what} values at {len(bad)} row(s), e.g. rows {rows}")
        kind = self.target_type if self.target_type != "auto" else infer_target_type(original)
        if kind not in ("continuous", "binary", "multiclass"):
            hint = ""
            if kind == "unknown" and numbers_as_objects(original):
                hint = (
                    " (an object column of numbers reads as 'unknown': pd.to_numeric(y) makes it numbers, "
                    "read by the numeric rule, or pass target_type)"
                )
            elif kind == "unknown":
                hint = (
                    " (an object column that mixes numbers and strings reads as 'unknown': give it one type, "
                    "y.astype(str) for classes or pd.to_numeric(y) for a quantity)"
                )
            raise ValueError(f"target type {kind!r} is not supported: y must be continuous, binary or multiclass{hint}")
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
        try:
            self.classes_, codes = np.unique(y, return_inverse=True)
        except TypeError:  # labels that do not compare: numbers and strings mixed
            raise ValueError(
                "y mixes labels that cannot be ordered (numbers and strings): give it one type, y.astype(str)"
            ) from None
        if self.target_type == "auto" and len(self.classes_) > MANY_CLASSES:
            numeric = " or 'continuous' to regress on it" if y.dtype.kind in "biuf" else ""
            warnings.warn(
                f"y has {len(self.classes_)} distinct labels, read as that many classes (one output "
                f"column each); pass target_type='multiclass' to say so{numeric}",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        elif self.target_type == "auto" and len(self.classes_) > HANDFUL_OF_CLASSES and integer_target(original):
            warnings.warn(
                f"y is an integer target with {len(self.classes_)} distinct values, read as that many classes "
                "(one output column each): target_type='auto' reads integers with at most "
                f"{MAX_INTEGER_CLASSES} distinct values as labels. If y is a quantity (a count, a rating), "
                "pass target_type='continuous'; if it is "
                "label codes, pass target_type='multiclass'. Inside cross-validation each fit infers its own "
                "type, so a fold that lacks one of the values can read y otherwise: pass target_type there",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        if kind == "binary" and len(self.classes_) > 2:
            raise ValueError(f"target_type='binary' but y has {len(self.classes_)} classes")
        if len(self.classes_) < 2:
            only = self.classes_[0].item() if isinstance(self.classes_[0], np.generic) else self.classes_[0]
            if y.dtype.kind in "biuf":
                raise ValueError(f"y is constant (every row is {only!r}); a location prior needs a target that varies")
            raise ValueError(f"y has a single class ({only!r}); a location prior needs at least two")
        return codes.reshape(-1)

    def _folds(self, X, y, lat, lon, rng, groups=None):
        self.block_size_km_ = None
        folds = self._split(X, y, lat, lon, rng, groups)
        self.n_splits_ = len(folds)
        return folds

    def _split(self, X, y, lat, lon, rng, groups=None):
        n_splits = self.cv
        if isinstance(n_splits, str):  # "auto"
            n_splits = max(5, min(20, len(lat) // 2)) if len(lat) < SMALL_TABLE_ROWS else 5
        if isinstance(n_splits, Integral):
            if len(lat) < n_splits:
                raise ValueError(
                    f"{n_splits} cross-fitting folds (cv={self.cv!r}) need at least {n_splits} rows; got {len(lat)}"
                )
            size_deg, size_km = self.block_size_deg, self.block_size_km
            if size_deg is not None and size_km is not None:
                raise ValueError("give at most one of block_size_deg and block_size_km")
            if size_deg is None and size_km is None and self.target_type_ == "multiclass":
                # classes: shuffled rows, not blocks (see the cv parameter)
                splitter = KFold(n_splits, shuffle=True, random_state=int(rng.randint(np.iinfo(np.int32).max)))
                folds = list(splitter.split(lat))
                return self._check_folds(folds, len(lat))
            places = len(np.unique(np.column_stack([lat, lon]), axis=0))
            needed = min(n_splits, 5) if isinstance(self.cv, str) else n_splits  # "auto" takes 5 at least
            if places < needed:
                raise ValueError(
                    f"the {len(lat)} rows sit at only {places} distinct points, fewer than the {needed} "
                    f"cross-fitting folds (cv={self.cv!r}), whose spatial blocks keep each point's rows "
                    "together (a row's encoding never uses rows at its own point, as for a place the models "
                    "have not seen). A location prior learns how y varies between places, which needs more "
                    "places than that. If you will predict at these same places, encode them as categories "
                    "(scikit-learn's TargetEncoder on a place id), or pass cv=KFold(5, shuffle=True) so that "
                    "rows at one point inform each other's encodings"
                )
            automatic = size_deg is None and size_km is None
            rows_per_block = SMALL_TABLE_ROWS_PER_BLOCK if len(lat) < SMALL_TABLE_ROWS else None
            if automatic:
                size_km = automatic_block_size_km(lat, lon, n_splits, rows_per_block=rows_per_block)
            if isinstance(self.cv, str) and n_splits > 5:
                # points at few places (geocoded centroids) may fill fewer blocks than 20 folds
                # need: "auto" then takes as many folds as there are blocks, at least 5
                n_blocks = int(block_labels(lat, lon, block_size_deg=size_deg, block_size_km=size_km).max()) + 1
                if n_blocks < n_splits:
                    n_splits = max(5, n_blocks)
                    if automatic:
                        size_km = automatic_block_size_km(lat, lon, n_splits, rows_per_block=rows_per_block)
            if automatic:
                self.block_size_km_ = size_km
            splitter = SpatialBlockKFold(
                n_splits,
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
            if hasattr(self.cv, "split"):
                try:
                    folds = list(self.cv.split(X, y, groups))
                except ValueError as err:
                    if groups is None and "groups" in str(err):
                        raise ValueError(
                            f"cv={self.cv!r} needs group labels: pass them to fit (fit(X, y, groups=g); in a "
                            f"pipeline, pipe.fit(X, y, locationtargetencoder__groups=g)) ({err})"
                        ) from None
                    raise
            else:
                folds = list(self.cv)
                if not folds:
                    raise ValueError(
                        "cv gave no folds: an iterator of (train, test) folds is used up by the first fit; "
                        "pass a list of them to fit again"
                    )
        return self._check_folds(folds, len(lat))

    @staticmethod
    def _check_folds(folds, n_samples):
        counts = np.zeros(n_samples, dtype=np.int64)
        for train, test in folds:
            np.add.at(counts, np.asarray(test), 1)  # a row listed twice in one fold counts twice
            if len(train) == 0:
                raise ValueError("a cross-fitting fold has no training rows")
        if len(folds) < 2 or not (counts == 1).all():
            found = f"; cv gave {len(folds)} fold" if len(folds) < 2 else ""
            for what, mask in (("in no test fold", counts == 0), ("in several", counts > 1)):
                if mask.any():
                    rows = np.flatnonzero(mask)
                    found += f"; {len(rows)} row(s) {what} (positions {rows[:10].tolist()})"
            raise ValueError(
                "the cv folds must put every row in exactly one test fold (a partition), "
                f"so that every row gets an out-of-fold encoding{found}"
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
            self._set_regression_meta(meta.coef_.astype(np.float64), float(meta.intercept_))
            return
        self.class_prior_ = np.bincount(target, minlength=len(self.classes_)) / len(target)
        self.weights_, self.prior_weight_ = fit_log_pool(oof, self.class_prior_, target)

    def _skill(self, oof, target, folds) -> tuple[float, float]:
        """The meta-model's skill out of fold, and its z score.

        On each fold's rows, the meta-model fit on the other folds' rows is compared with a
        constant fit on those same rows (their mean, or the pool's best constant,
        :func:`fit_constant_pool`); a fold whose pool gives no model any weight is that constant
        and gains nothing (not the optimiser's last digits). The skill is
        R² against that constant for a continuous target and, for classes, one less the ratio
        of log-losses of both forecasts floored alike (``floored``); the z score is the mean of
        the rows' paired loss differences over its standard error.
        """
        gains, baseline = [], 0.0  # per row: the constant's loss less the meta-model's
        if not self._classification:
            P, y = np.column_stack([p[:, 0] for p in oof]), target[:, 0]
            for train, test in folds:
                meta = LinearRegression(positive=True).fit(P[train], y[train])
                constant = (y[test] - y[train].mean()) ** 2
                gains.append(constant - (y[test] - meta.predict(P[test])) ** 2)
                baseline += float(np.sum(constant))
        else:
            n_classes = len(self.classes_)
            for train, test in folds:
                prior = np.bincount(target[train], minlength=n_classes) / len(train)
                weights, prior_weight = fit_log_pool([p[train] for p in oof], prior, target[train])
                # against the best constant of the pool (its prior exponent fitted on the same rows),
                # both floored alike: the pool's weights, refit on a few dozen rows, can sharpen it
                # until one sure mistake outweighs every other row of the test
                best_constant = fit_constant_pool(prior, target[train])
                constant = -np.log(floored(best_constant[target[test]], n_classes))
                if not weights.any():  # no model in the pool: it is that constant, whatever the optimiser's last digits
                    gains.append(np.zeros(len(test)))
                else:
                    pooled = log_pool([p[test] for p in oof], prior, weights, prior_weight)
                    gains.append(constant + np.log(floored(pooled[np.arange(len(test)), target[test]], n_classes)))
                baseline += float(np.sum(constant))
        gains = np.concatenate(gains)
        if baseline <= 0 or not np.isfinite(gains).all():
            return 0.0, 0.0  # a constant target (nothing to explain), or losses beyond float64
        mean = float(np.mean(gains))
        spread = float(np.std(gains, ddof=1)) if len(gains) > 1 else 0.0
        if spread == 0:  # every row gains the same: a sure gain if positive
            z = math.inf if mean > 0 else 0.0
        else:
            z = mean / (spread / math.sqrt(len(gains)))
        return float(np.sum(gains)) / baseline, z

    def _forget_location(self, target):
        """No significant skill out of fold: the prior becomes the constant (the mean, or the
        pool's best constant of the class frequencies).
        """
        if self._classification:  # the pool's best constant (the class frequencies, for two classes)
            self.weights_ = np.zeros_like(self.weights_)
            self.prior_weight_ = fit_prior_exponent(self.class_prior_, target)
            return
        self._set_regression_meta(np.zeros_like(self.weights_), float(np.mean(target[:, 0])))

    def _set_regression_meta(self, weights, meta_intercept):
        """The continuous meta-model: weights and intercept on y centred and scaled, and the
        intercept in units of y (for the base models' outputs in y).
        """
        self.weights_, self._meta_intercept_ = weights, meta_intercept
        centre, scale = self._target_scaling_
        self.intercept_ = scale * meta_intercept + centre * (1 - weights.sum())

    def _combine(self, predictions) -> np.ndarray:
        if not self._classification:  # on the centred and scaled target
            return (np.column_stack([p[:, 0] for p in predictions]) @ self.weights_ + self._meta_intercept_)[:, None]
        return log_pool(predictions, self.class_prior_, self.weights_, self.prior_weight_)

    def _finish(self, combined) -> np.ndarray:
        if self.target_type_ == "binary":
            return combined[:, 1:2]
        if self.target_type_ == "continuous":
            centre, scale = self._target_scaling_
            return combined * scale + centre
        if self.lift_offset_ is not None:  # multiclass, log lift
            return np.log1p(len(self.classes_) * combined) - self.lift_offset_
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


def _shared_points_note(lat, lon, folds) -> str:
    """For the no-signal warning: a note when rows share points (geocoded centroids) that the folds kept
    together, since a level of each place that does not follow location is then no signal; else ''.
    """
    _, point = np.unique(np.column_stack([lat, lon]), axis=0, return_inverse=True)
    point = point.reshape(-1)
    places = int(point.max()) + 1
    if places > len(lat) / 2:  # most rows at points of their own
        return ""
    fold = np.empty(len(lat), dtype=np.int64)
    for i, (_, test) in enumerate(folds):
        fold[test] = i
    split = np.unique(np.column_stack([point, fold]), axis=0)
    if len(split) > places:  # some point's rows were in several folds: they informed each other
        return ""
    return (
        f". Its {len(lat):,} rows sit at {places:,} distinct points, and the folds kept each point's rows "
        "together (a row's encoding never used rows at its own point, as for a place the models have not "
        "seen): a level of each place that does not follow location is no signal for new places. If you will "
        "predict at these same places, pass cv=KFold(5, shuffle=True), so that rows at one point inform each "
        "other's encodings, or encode the places as categories (scikit-learn's TargetEncoder on a place id)"
    )
