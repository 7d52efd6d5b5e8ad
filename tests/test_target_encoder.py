"""LocationTargetEncoder: cross-fitted location priors, scikit-learn conventions, no target leakage."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted
from test_estimator_checks import NOT_APPLICABLE

from geoembed import GeoEmbedder, make_encoder
from geoembed.evaluation import SpatialBlockKFold, block_labels
from geoembed.model_selection import ROWS_PER_BLOCK, automatic_block_size_km
from geoembed.target_encoder import (
    SMALL_TABLE_ROWS,
    SMALL_TABLE_ROWS_PER_BLOCK,
    LocationTargetEncoder,
    infer_target_type,
)


# the checks that a [lat, lon] input cannot take, with their reasons: the featurizers' list
@parametrize_with_checks(
    [
        LocationTargetEncoder(random_state=0),
        LocationTargetEncoder("cartesian3d", learners=("knn", "trees", "linear"), cv=3, random_state=0),
    ],
    expected_failed_checks=lambda estimator: NOT_APPLICABLE,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- data --------------------------------------------------------------------------------------
def region(n, seed=0):
    """Points over western Europe with a smooth and a sharp signal of location."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"lat": rng.uniform(36, 60, n), "lon": rng.uniform(-10, 20, n), "rooms": rng.integers(1, 6, n)}
    )
    smooth = np.sin(np.radians(frame["lat"] * 6)) + np.cos(np.radians(frame["lon"] * 8))
    return frame, smooth.to_numpy()


@pytest.fixture(scope="module")
def data():
    return region(900)


def cheap(**params):
    """Fast settings for tests that are not about the features: a 3-d encoder."""
    return LocationTargetEncoder("cartesian3d", random_state=0, **params)


# -- the behaviour that matters ------------------------------------------------------------------
def test_weak_signal_does_not_leak_through_fit_transform():
    frame, smooth = region(1500, seed=1)
    noise = np.random.default_rng(2).normal(size=len(frame))
    y = 0.3 * smooth + noise  # a weak location signal under much noise
    encoder = LocationTargetEncoder(random_state=0)
    crossfit = encoder.fit_transform(frame, y)
    assert encoder.skill_ > 0 and np.std(crossfit) > 0  # a signal it keeps
    naive = encoder.transform(frame)  # models fit on these very rows: they have seen the targets
    cv = KFold(5, shuffle=True, random_state=0)
    honest = cross_val_score(LinearRegression(), crossfit, y, cv=cv).mean()
    leaky = cross_val_score(LinearRegression(), naive, y, cv=cv).mean()
    truth = cross_val_score(LinearRegression(), smooth[:, None], y, cv=cv).mean()  # the signal itself
    assert honest < truth + 0.02  # the cross-fitted prior knows no more than the signal
    assert leaky > truth + 0.1  # the naive encoding looks better than the truth: it has seen the noise
    assert np.corrcoef(naive[:, 0], noise)[0, 1] > 0.2 and abs(np.corrcoef(crossfit[:, 0], noise)[0, 1]) < 0.05


@pytest.mark.parametrize("kind", ["continuous", "multiclass"])
def test_no_location_signal_gives_a_constant_with_a_warning(kind):
    frame, _ = region(600, seed=3)
    rng = np.random.default_rng(103)  # noise (0 of 30 noise targets kept: benchmarks/results/skill_power.md)
    y = rng.normal(size=len(frame)) if kind == "continuous" else rng.choice(["a", "b", "c"], len(frame))
    encoder = LocationTargetEncoder("cartesian3d", random_state=0)
    with pytest.warns(UserWarning, match="no significant location signal.*skill_, the attribute"):
        crossfit = encoder.fit_transform(frame, y)
    assert encoder.skill_ < 0.02 and (encoder.weights_ == 0).all()
    new = encoder.transform(region(50, seed=5)[0])
    # one value per column for every row, in fit_transform and transform alike: nothing to split on
    for out in (crossfit, new):
        np.testing.assert_allclose(out, np.broadcast_to(out[:1], out.shape), rtol=0, atol=1e-12)
    if kind == "continuous":  # the constant is the training mean
        np.testing.assert_allclose(new[0, 0], y.mean(), rtol=0, atol=1e-9 * np.abs(y).max())
    else:  # the pool's best constant, as log lifts centred on the training rows: zeros
        assert (encoder.weights_ == 0).all() and encoder.prior_weight_ > 0
        np.testing.assert_allclose(new, 0.0, atol=1e-12)


@pytest.mark.parametrize("label", ["int", "str"])
def test_a_rare_class_without_location_signal_is_dropped(label):
    # 5 random positives among 1,500 rows: the gate compared the pool with the class frequencies as
    # smoothed for the pool's input, a worse constant than the pool can give with no model at all
    # (its prior exponent undoes the smoothing), and kept the noise on every seed with skill_ 0.1-0.2
    # (an audit's draws). The baseline is now that best constant; a fold whose pool uses no model gains nothing.
    frame, _ = region(1500, seed=8)
    kept = 0
    for seed in range(4):
        y = np.zeros(len(frame), dtype=int)
        y[np.random.default_rng(200 + seed).choice(len(frame), 5, replace=False)] = 1
        y = y if label == "int" else np.where(y == 1, "fraud", "ok")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            LocationTargetEncoder("cartesian3d", learners=("knn", "trees"), random_state=seed).fit(frame, y)
        kept += not any("no significant location signal" in str(w.message) for w in caught)
    assert kept <= 1  # a 5% test: one of four noise targets may pass by chance, not every one


@pytest.mark.parametrize("positives", [1, 2, 3, 4])
def test_a_class_of_fewer_than_five_rows_gives_its_frequency(positives):
    # fewer rows of a class than the folds: some fold has none, and the z score of a few rows' gains
    # is no test (noise with 2 positives in 1,500 rows was kept in 3 of 20 draws); its frequency is the output
    from geoembed.target_encoder import MIN_CLASS_ROWS

    assert MIN_CLASS_ROWS == 5
    frame, _ = region(1500, seed=10)
    y = np.zeros(len(frame), dtype=int)
    y[np.flatnonzero(frame["lat"] > 58)[:positives]] = 1  # in one corner: the sharpest signal so few rows give
    with pytest.warns(UserWarning, match=f"a class of {positives} row\\(s\\) \\(fewer than 5"):
        encoder = LocationTargetEncoder("cartesian3d", learners=("knn", "trees"), random_state=0)
        out = encoder.fit_transform(frame, y)
    assert (encoder.weights_ == 0).all()
    # the class's frequency itself (the pool's best constant), not a smoothed one
    np.testing.assert_allclose(out, positives / len(frame), rtol=1e-4)
    np.testing.assert_allclose(encoder.transform(frame.iloc[:10]), positives / len(frame), rtol=1e-4)


def test_a_rare_class_with_a_location_signal_is_kept():
    # a rare class (about 2.5%) that sits in one corner of the region: a real signal
    frame, _ = region(1500, seed=9)
    corner = (frame["lat"] > 55) & (frame["lon"] > 15)
    y = (corner & (np.random.default_rng(1).random(len(frame)) < 0.8)).astype(int)
    assert 20 <= y.sum() <= 50
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        encoder = LocationTargetEncoder("cartesian3d", learners=("knn", "trees"), random_state=0).fit(frame, y)
    assert encoder.skill_ > 0.1 and encoder.weights_.sum() > 0


def test_a_signal_within_noise_is_kept_when_the_rows_show_it():
    # a modest signal (about 6% of y's variance) is kept: the rule drops only what does not show
    frame, smooth = region(1500, seed=6)
    y = 0.4 * smooth + np.random.default_rng(7).normal(size=len(frame))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "no signal" warning
        encoder = LocationTargetEncoder("cartesian3d", random_state=0).fit(frame, y)
    assert encoder.skill_ > 0 and encoder.weights_.sum() > 0


def test_a_sharp_class_signal_on_a_small_table_is_kept_despite_a_few_sure_mistakes():
    # 80 US airports (a 100-row draw of the development half's time-zone task, one outer training
    # fold), 7 zones, one of them (Honolulu) a single row: the stack is right on 96% of rows out of
    # fold. The gate refits the (uncapped, very sure) log pool on the other inner folds' rows; on
    # the fold without Honolulu's zone, Honolulu got a probability of about 1e-168 for it (385
    # nats), which outweighed the 79 other rows on the raw log-loss, and the gate dropped the
    # signal (skill_ -1.72). Both forecasts are now mixed alike with 1% of the uniform
    # distribution before the log-loss.
    from geoembed.datasets.heldout import load_heldout_task

    task = load_heldout_task("airports_tzone")
    rows = np.sort(np.random.default_rng(100_000).choice(len(task), 100, replace=False))
    frame, y = task.frame.iloc[rows].reset_index(drop=True), task.y[rows]
    folds = SpatialBlockKFold(5, block_size_deg=task.block_size_deg, shuffle=True, random_state=0).split(frame)
    train = list(folds)[3][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "no significant location signal"
        encoder = LocationTargetEncoder(random_state=0).fit(frame.iloc[train], y[train])
    assert len(train) == 80 and len(encoder.classes_) == 7 and encoder.oof_scores_["stack"] > 0.9
    assert encoder.skill_ > 0.5 and encoder.weights_.sum() > 0


def test_learns_a_location_signal_and_the_stack_beats_its_parts(data):
    frame, smooth = data
    encoder = LocationTargetEncoder(random_state=0, block_size_km=150)
    prior = encoder.fit_transform(frame, smooth)
    assert prior.shape == (len(frame), 1)
    assert encoder.oof_scores_["stack"] > 0.9
    parts = [encoder.oof_scores_[name] for name in ("linear", "knn", "trees")]
    assert encoder.oof_scores_["stack"] >= max(parts) - 0.005
    assert (encoder.weights_ >= 0).all() and encoder.weights_.sum() > 0.5
    assert set(encoder.learner_params_) == {"linear", "knn", "trees"}
    assert encoder.learner_params_["linear"]["alpha"] > 0 and encoder.learner_params_["knn"]["n_neighbors"] >= 5
    # new places: the models fit on all rows
    new, new_smooth = region(300, seed=5)
    assert np.corrcoef(encoder.transform(new)[:, 0], new_smooth)[0, 1] > 0.9


def test_fit_transform_is_cross_fitted_and_transform_uses_the_full_models(data):
    frame, smooth = data
    y = smooth + np.random.default_rng(0).normal(0, 0.3, len(frame))
    encoder = cheap(block_size_km=150)
    crossfit = encoder.fit_transform(frame, y)
    full = encoder.transform(frame)
    assert not np.allclose(crossfit, full)  # as scikit-learn's TargetEncoder documents
    # in-sample, the full models fit y better than the out-of-fold models can
    assert np.mean((full[:, 0] - y) ** 2) < np.mean((crossfit[:, 0] - y) ** 2)
    np.testing.assert_array_equal(cheap(block_size_km=150).fit(frame, y).transform(frame), full)
    np.testing.assert_array_equal(cheap(block_size_km=150).fit_transform(frame, y), crossfit)  # seeded
    # a row's out-of-fold value does not depend on its own target: change one fold's targets and
    # that fold's encodings move only through the meta-model (an affine map for one base model)
    folds = encoder_folds(frame)
    test = folds[0][1]
    changed = y.copy()
    changed[test] += 1.0
    same = cheap(cv=folds, learners=("trees",)).fit_transform(frame, y)[test, 0]
    moving = cheap(cv=folds, learners=("trees",))
    moved = moving.fit_transform(frame, changed)[test, 0]
    assert moving.weights_[0] > 0.5  # the trees still carry the signal
    slope, intercept = np.polyfit(same, moved, 1)
    assert slope > 0.5
    np.testing.assert_allclose(moved, slope * same + intercept, atol=1e-8)
    full = moving.transform(frame)[test, 0]
    slope, intercept = np.polyfit(same, full, 1)
    assert np.abs(full - (slope * same + intercept)).max() > 0.1  # the full models have seen the change


def encoder_folds(frame):
    return list(SpatialBlockKFold(4, block_size_km=300, shuffle=True, random_state=0).split(frame))


class CountingEncoder(TransformerMixin, BaseEstimator):
    """Counts the rows it embeds (shared across clones)."""

    calls: list = []

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        CountingEncoder.calls.append(len(X))
        return make_encoder("sphereC").fit(X).transform(X)


def test_location_features_are_computed_once_per_fit(data):
    frame, smooth = data
    CountingEncoder.calls.clear()
    encoder = LocationTargetEncoder(CountingEncoder(), cv=5, block_size_km=150, random_state=0)
    encoder.fit_transform(frame, smooth)
    assert CountingEncoder.calls == [len(frame)]  # all rows once, then indexed per fold
    encoder.transform(frame.head(7))
    assert CountingEncoder.calls == [len(frame), 7]


def test_binary_and_multiclass_targets(data):
    frame, smooth = data
    binary = np.where(smooth > 0, "wet", "dry")
    encoder = cheap(block_size_km=150)
    prior = encoder.fit_transform(frame, binary)
    assert encoder.target_type_ == "binary" and list(encoder.classes_) == ["dry", "wet"]
    assert prior.shape == (len(frame), 1) and list(encoder.get_feature_names_out()) == ["location_prior"]
    assert ((prior >= 0) & (prior <= 1)).all()
    assert np.mean((prior[:, 0] > 0.5) == (binary == "wet")) > 0.85  # the probability of classes_[1]
    zones = np.digitize(smooth, [-0.8, 0.0, 0.8])
    encoder = cheap(block_size_km=150)
    prior = cheap(block_size_km=150, multiclass_output="probabilities").fit_transform(frame, zones)
    lift = encoder.fit_transform(frame, zones)
    assert encoder.target_type_ == "multiclass" and list(encoder.classes_) == [0, 1, 2, 3]
    assert prior.shape == lift.shape == (len(frame), 4)
    np.testing.assert_allclose(prior.sum(axis=1), 1.0)
    assert list(encoder.get_feature_names_out()) == [f"location_prior_{c}" for c in range(4)]
    assert np.mean(prior.argmax(axis=1) == zones) > 0.75
    assert encoder.class_prior_.sum() == pytest.approx(1.0) and encoder.prior_weight_ >= 0
    # the default multiclass output is the centred log lift, log(1 + n_classes * p) - lift_offset_
    np.testing.assert_allclose(lift, np.log1p(4 * prior) - encoder.lift_offset_)
    np.testing.assert_allclose(np.expm1(lift + encoder.lift_offset_) / 4, prior)


def test_multiclass_output_is_the_centred_log_lift_that_a_logistic_head_converges_on():
    """The default multiclass output: log(1 + n_classes * p) less its mean over the training rows'
    out-of-fold encoding (``lift_offset_``), in fit_transform and transform alike; zero mean on the
    training rows, and the probabilities come back as expm1(encoding + lift_offset_) / n_classes."""
    frame, smooth = region(800)
    new, _ = region(200, seed=3)
    zones = np.digitize(smooth, [-1.2, -0.6, 0.0, 0.6, 1.2])
    encoder = cheap(block_size_km=150)
    lift = encoder.fit_transform(frame, zones)
    np.testing.assert_allclose(lift.mean(axis=0), 0.0, atol=1e-12)
    probabilities = cheap(block_size_km=150, multiclass_output="probabilities").fit(frame, zones)
    assert probabilities.lift_offset_ is None
    k = len(encoder.classes_)
    np.testing.assert_allclose(
        np.expm1(encoder.transform(new) + encoder.lift_offset_) / k, probabilities.transform(new), rtol=1e-10
    )
    np.testing.assert_allclose(encoder.lift_offset_, np.log1p(k * probabilities.fit_transform(frame, zones)).mean(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = make_pipeline(cheap(block_size_km=150), LogisticRegression()).fit(frame, zones)
    assert model.score(new, np.digitize(region(200, seed=3)[1], [-1.2, -0.6, 0.0, 0.6, 1.2])) > 0.7
    # continuous and binary outputs do not change, and the option is validated
    assert cheap(block_size_km=150).fit(frame, smooth).lift_offset_ is None
    with pytest.raises(ValueError, match="multiclass_output"):
        cheap(multiclass_output="logits").fit(frame, zones)


def test_integer_quantities_are_continuous_and_match_their_float_copies(data):
    """int64 prices, depths and counts are quantities: the same encoding as the float64 copy, bit for bit."""
    frame, smooth = data
    depth = np.round(smooth * 300).astype(np.int64) + 400  # hundreds of distinct whole numbers
    assert len(np.unique(depth)) > 100
    as_int = LocationTargetEncoder("cartesian3d", block_size_km=150, random_state=0)
    as_float = LocationTargetEncoder("cartesian3d", block_size_km=150, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no class columns, and nothing to warn about
        out_int = as_int.fit_transform(frame, depth)
    out_float = as_float.fit_transform(frame, depth.astype(np.float64))
    assert as_int.target_type_ == as_float.target_type_ == "continuous"
    assert out_int.shape == (len(frame), 1)
    np.testing.assert_array_equal(out_int, out_float)
    np.testing.assert_array_equal(as_int.transform(frame.head(50)), as_float.transform(frame.head(50)))
    nullable = LocationTargetEncoder("cartesian3d", block_size_km=150, random_state=0)
    np.testing.assert_array_equal(nullable.fit_transform(frame, pd.Series(depth, dtype="Int64")), out_int)


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.arange(200) * 7, "continuous"),  # int64 quantity
        (np.arange(200, dtype=np.uint16), "continuous"),
        (pd.Series(np.arange(200), dtype="Int64"), "continuous"),  # pandas nullable integers
        (np.arange(11), "continuous"),  # just past the integer-class limit
        (np.arange(200) % 10, "multiclass"),  # integer labels, few values
        (np.arange(200) % 2, "binary"),
        (np.arange(200.0) % 2, "binary"),
        (np.arange(200) / 3, "continuous"),
        (np.round(np.arange(200) * 1.5), "continuous"),  # whole-number floats
        (np.arange(200) % 3 == 0, "binary"),  # booleans
        ((np.arange(200) % 70).astype(str), "multiclass"),  # strings stay classes, however many
        (pd.Series(np.arange(200) % 3).map({0: "a", 1: "b", 2: "c"}).astype("string"), "multiclass"),
        (pd.Categorical(np.arange(200) % 60), "multiclass"),  # integer categories: still classes
        (pd.Series(pd.Categorical(np.arange(200) % 2)), "binary"),
    ],
)
def test_infer_target_type_rule(y, expected):
    assert infer_target_type(y) == expected


def test_integer_labels_stay_classes_and_explicit_types_win(data):
    frame, smooth = data
    labels = np.digitize(smooth, [-1.0, -0.5, 0.0, 0.5, 1.0])  # 6 integer labels
    encoder = cheap(block_size_km=150).fit(frame, labels)
    n_labels = len(np.unique(labels))
    assert n_labels >= 5 and encoder.target_type_ == "multiclass"
    assert encoder.transform(frame.head(2)).shape == (2, n_labels)
    bands = (frame["lat"].to_numpy() - 36) / 24  # 0..1 from south to north: a location signal
    codes = np.floor(bands * 30).astype(int)  # 30 integer codes: continuous unless said otherwise
    assert cheap(learners=("knn",), block_size_km=150).fit(frame, codes).target_type_ == "continuous"
    explicit = cheap(learners=("knn",), block_size_km=150, target_type="multiclass").fit(frame, codes)
    assert explicit.target_type_ == "multiclass" and len(explicit.classes_) == 30
    many = np.floor(bands * 60).astype(int).astype(str)
    assert len(np.unique(codes)) == 30 and len(np.unique(many)) == 60
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for: no warning
        cheap(learners=("knn",), block_size_km=150, target_type="multiclass").fit(frame, many)
    categorical = pd.Series(pd.Categorical(np.digitize(smooth, np.linspace(-1.5, 1.5, 14))), index=frame.index)
    encoder = cheap(learners=("knn",), block_size_km=150).fit(frame, categorical)
    assert encoder.target_type_ == "multiclass" and len(encoder.classes_) == categorical.nunique()


@pytest.mark.filterwarnings("ignore:.*no significant location signal")  # targets without signal
def test_target_type_inference_and_errors(data):
    frame, smooth = data
    metres = np.round(smooth * 1000)  # whole numbers in a float array: still a quantity
    assert cheap(block_size_km=150).fit(frame, metres).target_type_ == "continuous"
    counts = metres.astype(int) % 3
    assert cheap(block_size_km=150).fit(frame, counts).target_type_ == "multiclass"
    assert cheap(block_size_km=150, target_type="continuous").fit(frame, counts).target_type_ == "continuous"
    with pytest.raises(ValueError, match="target_type='binary' but y has 3 classes"):
        cheap(block_size_km=150, target_type="binary").fit(frame, counts)
    with pytest.raises(ValueError, match="one-dimensional"):
        cheap().fit(frame, np.column_stack([smooth, smooth]))
    with pytest.raises(ValueError, match=r"y is constant \(every row is 0\)"):
        cheap().fit(frame, np.zeros(len(frame), dtype=int))
    with pytest.raises(ValueError, match=r"single class \('a'\)"):
        cheap().fit(frame, np.full(len(frame), "a"))
    mixed = pd.Series([1, "a"] * (len(frame) // 2), dtype=object)
    with pytest.raises(ValueError, match=r"mixes numbers and strings"):
        cheap().fit(frame.iloc[: len(mixed)], mixed)
    with pytest.raises(ValueError, match=r"cannot be ordered \(numbers and strings\).*astype\(str\)"):
        cheap(target_type="multiclass").fit(frame.iloc[: len(mixed)], mixed)
    with pytest.raises(ValueError, match="NaN"):
        cheap().fit(frame, np.where(np.arange(len(frame)) == 3, np.nan, smooth))
    labelled = pd.Series(smooth, index=[f"r{i}" for i in range(len(frame))])
    labelled.iloc[[7, 150]] = np.inf
    for target_type in ("auto", "continuous"):  # named rows, whatever the type (scikit-learn's message for auto)
        with pytest.raises(ValueError, match=r"y contains infinite values at 2 row\(s\), e.g. rows \['r7', 'r150'\]"):
            cheap(target_type=target_type).fit(frame, labelled)
    with pytest.raises(ValueError, match="'target_type' parameter"):
        cheap(target_type="ordinal").fit(frame, smooth)
    # an object column of ints and strings, as a bad CSV join leaves it
    mixed = pd.Series([1 if i % 2 == 0 else "a" for i in range(len(frame))], index=frame.index, dtype=object)
    with pytest.raises(ValueError, match=r"'unknown' is not supported.*mixes numbers and strings.*astype\(str\)"):
        cheap().fit(frame, mixed)


def test_target_type_reads_a_one_column_frame_as_its_column(data):
    frame, smooth = data
    codes = np.digitize(smooth, np.quantile(smooth, np.linspace(0, 1, 16)[1:-1]))  # 15 integer codes
    categorical = pd.Series(pd.Categorical(codes), index=frame.index)
    ratings = pd.Series(pd.Categorical(np.minimum(codes // 3, 4) + 1.0), index=frame.index)  # 1.0 .. 5.0
    for y in (categorical, ratings):  # categoricals are classes, as a Series or a (n, 1) frame
        assert infer_target_type(y) == infer_target_type(y.to_frame("y")) == "multiclass"
        assert cheap(block_size_km=150).fit(frame, y.to_frame("y")).target_type_ == "multiclass"
    assert infer_target_type(pd.DataFrame({"y": pd.array(codes, dtype="Int64")})) == "continuous"


def test_object_targets_get_their_own_message_in_either_order(data):
    frame, smooth = data
    half = len(frame) // 2
    for labels in ([1, "a"], ["a", 1]):  # scikit-learn sorts (and fails) when a string comes first
        mixed = pd.Series(labels * half, dtype=object)
        assert infer_target_type(mixed) == "unknown"
        with pytest.raises(ValueError, match=r"'unknown' is not supported.*mixes numbers and strings"):
            cheap().fit(frame.iloc[: len(mixed)], mixed)
    numbers = pd.Series(list(np.round(smooth * 100).astype(int)), dtype=object)  # ints, as JSON leaves them
    with pytest.raises(ValueError, match=r"an object column of numbers.*pd.to_numeric\(y\)") as error:
        cheap().fit(frame, numbers)
    assert "strings" not in str(error.value)
    assert cheap(block_size_km=150).fit(frame, pd.to_numeric(numbers)).target_type_ == "continuous"


def test_n_jobs_zero_is_refused_before_the_features(data):
    frame, smooth = data
    CountingEncoder.calls.clear()
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        LocationTargetEncoder(CountingEncoder(), n_jobs=0).fit(frame, smooth)
    assert CountingEncoder.calls == []


def test_warnings_point_at_the_callers_line_through_pipelines():
    frame, _ = region(600, seed=3)
    noise = np.random.default_rng(103).normal(size=len(frame))  # no location signal: a warning
    for run in (
        lambda: LocationTargetEncoder("cartesian3d", random_state=0).fit_transform(frame, noise),  # set_output wraps it
        lambda: make_pipeline(LocationTargetEncoder("cartesian3d", random_state=0), LinearRegression()).fit(
            frame, noise
        ),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
        signal = [w for w in caught if "no significant location signal" in str(w.message)]
        assert len(signal) == 1 and signal[0].filename == __file__
    # the message is the same from one fit to the next, so Python's default filter shows it once
    messages = set()
    for seed in (0, 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            LocationTargetEncoder("cartesian3d", random_state=seed).fit(frame, noise)
        messages |= {str(w.message) for w in caught}
    assert len(messages) == 1


@pytest.mark.parametrize(
    "dates",
    [
        pd.Series(pd.date_range("2020-01-01", periods=120, freq="D")),
        pd.Series(pd.date_range("2020-01-01", periods=120, freq="h", tz="Europe/Paris")),
        pd.Series(pd.to_timedelta(np.arange(120), unit="h")),
        np.arange(120).astype("datetime64[D]"),
    ],
)
def test_dates_are_no_target_type_auto_can_read(data, dates):
    frame, _ = data
    with pytest.raises(ValueError, match="dates or durations"):
        infer_target_type(dates)
    with pytest.raises(ValueError, match=r"dates or durations.*\.dt\.days"):
        cheap().fit(frame.head(120), dates)


def test_frames_other_columns_and_outputs(data):
    frame, smooth = data
    indexed = frame.set_axis([f"home{i}" for i in range(len(frame))])
    encoder = cheap(block_size_km=150).set_output(transform="pandas")
    out = encoder.fit_transform(indexed, smooth)  # the "rooms" column is ignored
    assert list(out.columns) == ["location_prior"] and out.index.equals(indexed.index)
    assert list(encoder.feature_names_in_) == ["lat", "lon", "rooms"]
    np.testing.assert_array_equal(
        encoder.transform(indexed).to_numpy(),
        cheap(block_size_km=150)
        .fit(frame[["lat", "lon"]].to_numpy(), smooth)
        .transform(frame[["lat", "lon"]].to_numpy()),
    )
    polars = pytest.importorskip("polars")
    renamed = polars.from_pandas(frame.rename(columns={"lat": "Latitude", "lon": "LNG"}))
    out = cheap(block_size_km=150).set_output(transform="polars").fit_transform(renamed, smooth)
    assert isinstance(out, polars.DataFrame) and out.columns == ["location_prior"]
    named = cheap(block_size_km=150, lat_col="y_deg", lon_col="x_deg")
    named.fit(frame.rename(columns={"lat": "y_deg", "lon": "x_deg"}), smooth)
    with pytest.raises(ValueError, match="feature names should match"):
        named.transform(frame)


def test_in_a_column_transformer_next_to_other_features(data):
    frame, smooth = data
    price = frame["rooms"].to_numpy() + 3 * smooth
    model = make_pipeline(
        make_column_transformer((cheap(block_size_km=150), ["lat", "lon"]), ("passthrough", ["rooms"])),
        LinearRegression(),
    )
    cv = SpatialBlockKFold(4, block_size_km=300, shuffle=True, random_state=0)
    with_prior = cross_val_score(model, frame, price, cv=cv).mean()
    without = cross_val_score(
        make_pipeline(make_column_transformer(("passthrough", ["rooms"])), LinearRegression()), frame, price, cv=cv
    ).mean()
    assert with_prior > without + 0.2 and with_prior > 0.9
    names = model.fit(frame, price)[0].get_feature_names_out()
    assert list(names) == ["locationtargetencoder__location_prior", "passthrough__rooms"]


def test_multiclass_default_folds_are_shuffled_rows_so_compact_classes_keep_their_columns():
    """Classes that each fill a few blocks (36 cells of 4 x 5 degrees): blocked folds hide each class
    from its own out-of-fold column, and a LogisticRegression on the encoding learns to ignore it."""
    frame, _ = region(900)
    new, _ = region(300, seed=5)

    def cells(f):
        return (np.floor((f["lat"] - 36) / 4) * 10 + np.floor((f["lon"] + 10) / 5)).astype(int).astype(str).to_numpy()

    y, y_new = cells(frame), cells(new)
    shuffled = make_pipeline(cheap(cv=5), LogisticRegression()).fit(frame, y)
    assert shuffled[0].block_size_km_ is None
    assert shuffled[0].oof_scores_["stack"] > 0.9
    blocked = make_pipeline(cheap(cv=5, block_size_km=600), LogisticRegression()).fit(frame, y)
    assert shuffled.score(new, y_new) > 0.9 > blocked.score(new, y_new) + 0.3
    assert cheap().fit(frame, y).n_splits_ == 20  # a table under 1,000 rows: 20 shuffled folds by default
    # a continuous or binary target keeps the automatic blocks
    assert cheap().fit(frame, frame["lat"]).block_size_km_ > 0
    assert cheap().fit(frame, frame["lat"] > 48).block_size_km_ > 0


def test_cv_options_and_automatic_blocks(data):
    frame, smooth = data
    encoder = cheap().fit(frame, smooth)
    assert encoder.block_size_km_ > 0
    blocks = SpatialBlockKFold(5, block_size_km=encoder.block_size_km_)
    # a table under SMALL_TABLE_ROWS: blocks of about one row on average, 20 of them at the least
    assert len(frame) < SMALL_TABLE_ROWS and encoder.n_splits_ == 20
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    assert encoder.block_size_km_ == automatic_block_size_km(lat, lon, 20, rows_per_block=SMALL_TABLE_ROWS_PER_BLOCK)
    labels = block_labels(frame["lat"], frame["lon"], block_size_km=encoder.block_size_km_)
    assert len(frame) / (labels.max() + 1) >= SMALL_TABLE_ROWS_PER_BLOCK
    assert labels.max() + 1 > len(frame) / 10  # far finer than the blocks of 10 rows that larger tables get
    # from SMALL_TABLE_ROWS rows on: about ROWS_PER_BLOCK (10) rows per occupied block, and the smallest such size
    large, large_y = region(SMALL_TABLE_ROWS, seed=3)
    size = cheap(learners=("knn",)).fit(large, large_y).block_size_km_
    labels = block_labels(large["lat"], large["lon"], block_size_km=size)
    assert len(large) / (labels.max() + 1) >= ROWS_PER_BLOCK
    smaller = block_labels(large["lat"], large["lon"], block_size_km=size / np.sqrt(2))
    assert len(large) / (smaller.max() + 1) < ROWS_PER_BLOCK
    assert cheap(cv=blocks).fit(frame, smooth).block_size_km_ is None
    assert cheap(cv=encoder_folds(frame)).fit(frame, smooth).oof_scores_["stack"] > 0.8
    with pytest.raises(ValueError, match="exactly one test fold"):
        cheap(cv=[(np.arange(0, 800), np.arange(800, 900))]).fit(frame, smooth)
    rows = np.arange(len(frame))  # two folds that overlap on 5 rows and leave 5 out: which ones
    overlapping = [(rows[10:], rows[:10]), (rows[:10], np.r_[rows[5:10], rows[10:-5]])]
    with pytest.raises(ValueError, match=r"5 row\(s\) in no test fold \(positions \[.*5 row\(s\) in several \("):
        cheap(cv=overlapping).fit(frame, smooth)
    with pytest.raises(ValueError, match="give the block size to the splitter"):
        cheap(cv=blocks, block_size_km=100).fit(frame, smooth)
    with pytest.raises(ValueError, match="occupy only"):
        cheap(block_size_deg=90).fit(frame, smooth)  # one block for 20 folds


@pytest.mark.parametrize("learners", [("linear",), ("knn",), ("trees",), ("boosting",), ("knn", "boosting")])
def test_each_base_model_alone(data, learners):
    frame, smooth = data
    frame, smooth = frame.iloc[:400], smooth[:400]
    encoder = cheap(learners=learners, block_size_km=150).fit(frame, smooth)
    assert encoder.learner_names_ == learners and encoder.weights_.shape == (len(learners),)
    assert encoder.oof_scores_[learners[0]] > 0.5
    if "boosting" in learners:
        assert 10 <= encoder.learner_params_["boosting"]["max_iter"] <= 200


def test_parameter_errors_and_pickling(data):
    frame, smooth = data
    with pytest.raises(ValueError, match="learners must be distinct names"):
        cheap(learners=("linear", "svm")).fit(frame, smooth)
    with pytest.raises(ValueError, match="encoder must be None, an encoder name or a transformer"):
        LocationTargetEncoder(encoder=3.5).fit(frame, smooth)
    encoder = LocationTargetEncoder(GeoEmbedder(n_components=8), block_size_km=150, random_state=0).fit(frame, smooth)
    assert encoder.encoder_.n_features_out_ == 8
    restored = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_allclose(restored.transform(frame.head(20)), encoder.transform(frame.head(20)))
    assert repr(clone(encoder)) == repr(encoder)


def test_neighbours_at_one_shared_location_average_their_targets():
    """Geocoded centroids: many rows at exactly one place. The k-NN prior there is their mean."""
    rng = np.random.default_rng(0)
    centres = np.column_stack([rng.uniform(35, 50, 40), rng.uniform(-10, 20, 40)])
    frame = pd.DataFrame(np.repeat(centres, 25, axis=0), columns=["lat", "lon"])
    y = 100 + frame["lat"].to_numpy() + rng.normal(0, 0.1, len(frame))
    encoder = cheap(learners=("knn",), block_size_km=50).fit(frame, y)
    city_means = pd.Series(y).groupby(np.arange(len(y)) // 25).mean().to_numpy()
    np.testing.assert_allclose(
        encoder.transform(pd.DataFrame(centres, columns=["lat", "lon"]))[:, 0], city_means, atol=0.5
    )
    assert encoder.encoder_ is None  # no "linear" model, no location features


@pytest.mark.filterwarnings("ignore:.*no significant location signal")  # targets without signal
def test_bad_targets_and_a_failed_refit(data):
    frame, smooth = data
    labels = pd.Series(np.where(smooth > np.median(smooth), "high", "low"), index=frame.index + 1000, dtype=object)
    labels.iloc[[4, 7]] = None
    with pytest.raises(ValueError, match=r"missing values at 2 row\(s\), e.g. rows \[1004, 1007\]"):
        cheap(block_size_km=150).fit(frame, labels)
    encoder = cheap(block_size_km=150).fit(frame, labels.fillna("low"))
    with pytest.raises(ValueError, match="constant"):
        encoder.fit(frame, np.zeros(len(frame), dtype=int))
    with pytest.raises(NotFittedError):  # nothing of the earlier fit is left to half-work
        encoder.transform(frame.head(3))
    with pytest.raises(ValueError, match=r"5 cross-fitting folds \(cv='auto'\) need at least 5 rows; got 3"):
        cheap().fit(frame.head(3), smooth[:3])
    with pytest.raises(ValueError, match=r"8 cross-fitting folds \(cv=8\) need at least 8 rows; got 6"):
        cheap(cv=8).fit(frame.head(6), smooth[:6])
    with pytest.raises(ValueError, match="X has no rows to encode"):
        cheap(block_size_km=150).fit(frame, smooth).transform(frame.head(0))
    with pytest.warns(UserWarning, match="60 distinct labels, read as that many classes"):
        cheap(learners=("knn",), block_size_km=150).fit(frame, (np.arange(len(frame)) % 60).astype(str))


@pytest.mark.filterwarnings("ignore:.*no significant location signal")
def test_integers_read_as_more_than_a_handful_of_classes_are_not_silent(data):
    """A count of 0 to 8 (like the deaths per address of a held-out task) is read as 9 classes by the documented
    rule; that must not happen silently. Label codes of a few classes, categoricals and an
    explicit target_type stay quiet.
    """
    frame, _ = data
    counts = np.arange(len(frame)) % 9  # int64, 9 distinct values
    with pytest.warns(UserWarning, match="integer target with 9 distinct values.*target_type='continuous'"):
        encoder = cheap(learners=("knn",), block_size_km=150).fit(frame, counts)
    assert encoder.target_type_ == "multiclass" and len(encoder.classes_) == 9
    nullable = pd.Series(counts, dtype="Int64")
    with pytest.warns(UserWarning, match="integer target with 9 distinct values"):
        cheap(learners=("knn",), block_size_km=150).fit(frame, nullable)
    quiet = [
        ({}, np.arange(len(frame)) % 3),  # three label codes: a handful
        ({}, pd.Series(counts).astype("category")),  # the user said classes
        ({"target_type": "multiclass"}, counts),
        ({"target_type": "continuous"}, counts),
    ]
    for params, y in quiet:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.filterwarnings("ignore", message=".*no significant location signal")
            cheap(learners=("knn",), block_size_km=150, **params).fit(frame, y)


@pytest.mark.parametrize("kind", ["list", "array", "pandas", "polars"])
def test_missing_targets_are_named_by_row_whatever_holds_y(data, kind):
    frame, smooth = data
    values = smooth.astype(object)
    values[[3, 8]] = [np.nan, None]
    if kind == "list":
        y = values.tolist()
    elif kind == "array":
        y = values
    elif kind == "pandas":
        y = pd.Series(values, index=frame.index + 100)
    else:
        polars = pytest.importorskip("polars")
        y = polars.Series("y", [None if v is None or v != v else float(v) for v in values])
    rows = "[103, 108]" if kind == "pandas" else "[3, 8]"
    with pytest.raises(
        ValueError, match=rf"y contains NaN or missing values at 2 row\(s\), e.g. rows {re.escape(rows)}"
    ):
        cheap(block_size_km=150).fit(frame, y)
    labels = np.where(smooth > 0, "high", "low").astype(object)
    labels[5] = None
    with pytest.raises(ValueError, match=r"missing values at 1 row\(s\), e.g. rows \[5\]"):
        cheap(block_size_km=150).fit(frame, labels.tolist())
    clean = {"list": smooth.tolist(), "array": smooth, "pandas": pd.Series(smooth), "polars": None}[kind]
    if kind == "polars":
        clean = pytest.importorskip("polars").Series("y", smooth)
    np.testing.assert_array_equal(
        cheap(learners=("knn",), block_size_km=150).fit_transform(frame, clean),
        cheap(learners=("knn",), block_size_km=150).fit_transform(frame, smooth),
    )


def test_a_shift_of_y_does_not_change_the_prior(data):
    """y + 1e12 gives the prior of y plus 1e12: the learners see y centred and scaled."""
    frame, smooth = data
    offset = 1e12
    # y + offset keeps each value to within half an ulp of the offset; the models are linear in y
    tolerance = 8 * offset * np.finfo(np.float64).eps
    exact = cheap(learners=("knn", "linear"), block_size_km=150)
    base = exact.fit_transform(frame, smooth)
    weights = exact.weights_
    np.testing.assert_allclose(exact.fit_transform(frame, smooth + offset) - offset, base, rtol=0, atol=tolerance)
    np.testing.assert_allclose(exact.weights_, weights, rtol=1e-4)  # mixing weights, not in units of y
    full = cheap(learners=("knn", "linear"), block_size_km=150).fit(frame, smooth).transform(frame)
    np.testing.assert_allclose(exact.transform(frame) - offset, full, rtol=0, atol=tolerance)
    np.testing.assert_allclose(exact.fit_transform(frame, smooth * 1e-12) * 1e12, base, rtol=1e-9, atol=1e-9)
    # trees break ties between equally good splits on the last bit of y, so any change of y (even y + 1)
    # moves single trees: the learner's quality and the prior stay, to well within its own noise
    trees = cheap(learners=("trees",), block_size_km=150)
    base = trees.fit_transform(frame, smooth)[:, 0]
    score = trees.oof_scores_["trees"]
    shifted = trees.fit_transform(frame, smooth + offset)[:, 0] - offset
    assert score > 0.8 and abs(trees.oof_scores_["trees"] - score) < 0.02  # was R² -0.06 without centring
    assert np.abs(shifted - base).max() < 0.15 * smooth.std() and np.corrcoef(shifted, base)[0, 1] > 0.99


@pytest.mark.filterwarnings("ignore:.*no significant location signal")  # targets without signal
@pytest.mark.parametrize(("rows", "n_splits"), [(8, 5), (30, 15), (104, 20), (999, 20), (1000, 5)])
def test_automatic_folds_follow_the_table_size(rows, n_splits):
    """cv="auto": 20 folds under 1,000 rows (at most half the rows, at least 5), 5 from 1,000 on,
    for a continuous and a multiclass target alike; an int is taken as given."""
    frame, smooth = region(rows, seed=3)
    encoder = cheap(learners=("knn",))
    assert encoder.fit(frame, smooth).n_splits_ == n_splits  # n_splits_ counts the folds in use
    classes = np.where(smooth > np.median(smooth), "high", "low")
    classes[:3] = "middle"
    assert encoder.fit(frame, classes).n_splits_ == n_splits
    assert encoder.set_params(cv=7).fit(frame, smooth).n_splits_ == 7


def test_automatic_folds_at_few_places_take_as_many_folds_as_blocks():
    """Geocoded centroids: 120 rows at 12 places fill 12 blocks at most, so "auto" takes 12 folds
    (cv=20 is refused, naming the blocks); a given block size that makes 13 blocks, 13 folds."""
    rng = np.random.default_rng(0)
    sites = np.column_stack([rng.uniform(36, 60, 12), rng.uniform(-10, 20, 12)])
    frame = pd.DataFrame(np.repeat(sites, 10, axis=0), columns=["lat", "lon"])
    y = frame["lat"].to_numpy() + rng.normal(0, 0.1, len(frame))
    encoder = cheap(learners=("knn",)).fit(frame, y)
    assert encoder.n_splits_ == 12 and encoder.oof_scores_["stack"] > 0.5
    with pytest.raises(ValueError, match=r"120 rows sit at only 12 distinct points, fewer than the 20.*cv=20"):
        cheap(learners=("knn",), cv=20).fit(frame, y)
    big, smooth = region(500, seed=4)
    blocks = block_labels(big["lat"], big["lon"], block_size_km=1000).max() + 1
    assert 5 < blocks < 20
    assert cheap(learners=("knn",), block_size_km=1000).fit(big, smooth).n_splits_ == blocks


def test_rows_at_few_places_say_what_the_folds_did_and_how_to_predict_at_the_same_places():
    """Geocoded centroids with a level of each place that does not follow location: the default folds
    keep each place's rows together, so there is no signal for new places, and the warning says so and
    names the remedy; with shuffled folds the place levels are kept. Fewer places than folds: an error
    that names cv and the remedy, not a block size."""
    from sklearn.model_selection import KFold

    rng = np.random.default_rng(0)
    towns = np.column_stack([rng.uniform(40, 45, 30), rng.uniform(-5, 5, 30)])
    level, town = rng.normal(0, 1, 30), rng.integers(0, 30, 1200)
    frame = pd.DataFrame(towns[town], columns=["lat", "lon"])
    y = level[town] + rng.normal(0, 0.5, len(town))
    with pytest.warns(UserWarning, match=r"1,200 rows sit at 30 distinct points.*cv=KFold\(5, shuffle=True\)"):
        cheap(learners=("knn",)).fit(frame, y)
    shuffled = cheap(learners=("knn",), cv=KFold(5, shuffle=True, random_state=0)).fit(frame, y)
    assert shuffled.oof_scores_["stack"] > 0.6 and shuffled.weights_.any()
    few = frame.iloc[np.flatnonzero(town < 4)]
    with pytest.raises(
        ValueError, match=r"sit at only 4 distinct points, fewer than the 5 cross-fitting folds \(cv='auto'\)"
    ):
        cheap(learners=("knn",)).fit(few, y[town < 4])


def test_a_failed_refit_is_not_fitted_for_scikit_learn(data):
    frame, smooth = data
    encoder = cheap(learners=("knn",), block_size_km=150).fit(frame, smooth)
    with pytest.raises(ValueError, match="constant"):
        encoder.fit(frame, np.zeros(len(frame), dtype=int))
    with pytest.raises(NotFittedError):
        check_is_fitted(encoder)  # scikit-learn's generic check, as Pipeline and clone-free code use it


@pytest.mark.parametrize("kind", ["continuous", "multiclass"])
def test_refits_with_a_signal_are_idempotent(data, kind):
    # scikit-learn's own checks fit on random targets, which take the constant path: the stack's
    # refit is checked here, on a target with a location signal
    frame, smooth = data
    y = smooth if kind == "continuous" else np.digitize(smooth, [-0.5, 0.5]).astype(str)
    encoder = cheap(block_size_km=150)
    first = encoder.fit_transform(frame, y), encoder.transform(frame.head(30))
    assert encoder.skill_ > 0.5 and encoder.weights_.sum() > 0
    again = encoder.fit_transform(frame, y), encoder.transform(frame.head(30))  # the same object, refit
    fresh = clone(encoder)
    other = fresh.fit_transform(frame, y), fresh.transform(frame.head(30))
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_an_explicit_many_class_target_does_not_flood_scikit_learns_warnings():
    import warnings

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"lat": rng.uniform(40, 45, 60), "lon": rng.uniform(0, 5, 60)})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cheap(target_type="multiclass").fit(frame, np.arange(60).astype(str))
    messages = {str(w.message)[:40] for w in seen}
    assert not any("unique classes is greater than 50%" in str(w.message) for w in seen), messages
    assert len(seen) <= 1  # at most the encoder's own no-signal warning


def test_group_splitters_take_groups_through_fit_and_pipelines(data):
    from sklearn import config_context
    from sklearn.model_selection import GroupKFold

    frame, smooth = data
    groups = np.arange(len(frame)) % 12
    encoder = cheap(cv=GroupKFold(4)).fit(frame, smooth, groups=groups)
    # every fold keeps each group's rows together: the out-of-fold encoding equals one computed by hand
    crossfit = cheap(cv=GroupKFold(4)).fit_transform(frame, smooth, groups=groups)
    by_hand = cheap(cv=list(GroupKFold(4).split(frame, smooth, groups))).fit_transform(frame, smooth)
    np.testing.assert_array_equal(crossfit, by_hand)
    assert encoder.n_splits_ == 4
    with pytest.raises(ValueError, match=r"cv=GroupKFold\(n_splits=4.*\) needs group labels: pass them to fit"):
        cheap(cv=GroupKFold(4)).fit(frame, smooth)
    with pytest.raises(ValueError, match=r"groups are read by a cv splitter.*cv='auto' makes its own folds"):
        cheap().fit(frame, smooth, groups=groups)
    with pytest.raises(ValueError, match=r"cv is a list of folds here, which are used as given$"):
        cheap(cv=list(GroupKFold(4).split(frame, smooth, groups))).fit(frame, smooth, groups=groups)
    with pytest.raises(ValueError, match=r"groups must hold one label per row of X \(900\)"):
        cheap(cv=GroupKFold(4)).fit(frame, smooth, groups=groups[:10])
    pipe = make_pipeline(cheap(cv=GroupKFold(4)), LinearRegression())
    pipe.fit(frame, smooth, locationtargetencoder__groups=groups)
    np.testing.assert_allclose(
        pipe[0].transform(frame), cheap(cv=GroupKFold(4)).fit(frame, smooth, groups=groups).transform(frame)
    )
    with config_context(enable_metadata_routing=True):  # routed: requested by the encoder
        routed = make_pipeline(cheap(cv=GroupKFold(4)).set_fit_request(groups=True), LinearRegression())
        routed.fit(frame, smooth, groups=groups)
    np.testing.assert_allclose(routed[0].transform(frame), pipe[0].transform(frame))


def test_an_iterator_of_folds_used_up_by_a_first_fit_says_so(data):
    frame, smooth = data
    encoder = cheap(cv=KFold(5).split(frame))
    encoder.fit(frame, smooth)
    with pytest.raises(ValueError, match="cv gave no folds: an iterator .* is used up by the first fit"):
        encoder.fit(frame, smooth)


def test_many_string_labels_are_not_told_to_regress(data):
    frame, _ = data
    labels = np.array([f"shop {i}" for i in range(60)])[np.arange(len(frame)) % 60]
    with pytest.warns(UserWarning, match="60 distinct labels") as caught:
        LocationTargetEncoder("cartesian3d", learners=("knn",), random_state=0).fit(frame, labels)
    assert not any("continuous" in str(w.message) for w in caught)
    codes = pd.Series(pd.Categorical(np.arange(len(frame)) % 60))  # numbers as categories: classes, yet numbers
    with pytest.warns(UserWarning, match="or 'continuous' to regress on it"):
        LocationTargetEncoder("cartesian3d", learners=("knn",), random_state=0).fit(frame, codes)


def test_input_features_are_checked_as_scikit_learn_checks_them(data):
    frame, smooth = data
    xy = frame[["lat", "lon"]]
    fitted = [cheap().fit(xy, smooth), GeoEmbedder(encoder="cartesian3d").fit(xy), make_encoder("sphereC").fit(xy)]
    for estimator in fitted:
        names = estimator.get_feature_names_out()
        np.testing.assert_array_equal(estimator.get_feature_names_out(["lat", "lon"]), names)
        with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
            estimator.get_feature_names_out(["a", "b", "c"])
    unnamed = make_encoder("sphereC").fit(xy.to_numpy())
    assert len(unnamed.get_feature_names_out(["x0", "x1"])) == unnamed.n_features_out_
    with pytest.raises(ValueError, match=r"length equal to number of features \(2\), got 3"):
        unnamed.get_feature_names_out(["a", "b", "c"])
