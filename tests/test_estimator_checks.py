"""scikit-learn's estimator checks, plus the same properties on real coordinates.

Many common checks feed random arrays with 3-10 columns, or shift data to values around 100.
A location featurizer takes exactly two columns [lat, lon] in degrees and must reject
anything else, so those checks cannot apply. Each one is listed below with its reason, and
the property it tests is checked on valid coordinates in this file instead.
"""

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numerics import assert_geoclip_close, assert_rounded_once_close
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from geoembed import GeoCLIPEncoder, GeoEmbedder, list_encoders, make_encoder

WRONG_WIDTH = "feeds arrays with other than 2 columns; input must be exactly [lat, lon]"
OUT_OF_RANGE = "feeds latitudes near 100 degrees, which are invalid coordinates"
NOT_APPLICABLE = {
    "check_fit_score_takes_y": WRONG_WIDTH,
    "check_dont_overwrite_parameters": WRONG_WIDTH,
    "check_n_features_in_after_fitting": WRONG_WIDTH,
    "check_positive_only_tag_during_fit": WRONG_WIDTH,
    "check_estimators_dtypes": WRONG_WIDTH,
    "check_dtype_object": WRONG_WIDTH,
    "check_pipeline_consistency": WRONG_WIDTH,
    "check_estimators_nan_inf": WRONG_WIDTH,
    "check_estimators_pickle": WRONG_WIDTH,
    "check_f_contiguous_array_estimator": WRONG_WIDTH,
    "check_transformer_data_not_an_array": WRONG_WIDTH,
    "check_transformer_general": WRONG_WIDTH,
    "check_transformer_preserve_dtypes": WRONG_WIDTH,
    "check_methods_sample_order_invariance": WRONG_WIDTH,
    "check_methods_subset_invariance": WRONG_WIDTH,
    "check_fit2d_1sample": WRONG_WIDTH,
    "check_dict_unchanged": WRONG_WIDTH,
    "check_fit2d_predict1d": WRONG_WIDTH,
    "check_fit_idempotent": OUT_OF_RANGE,
    "check_fit_check_is_fitted": OUT_OF_RANGE,
    "check_n_features_in": OUT_OF_RANGE,
}

ESTIMATORS = [GeoEmbedder(), GeoEmbedder(normalize=True, on_invalid="nan", dtype="float16"), GeoCLIPEncoder()]
# the conformance properties below hold for every encoder, classic ones included
CONFORMANCE = ESTIMATORS + [make_encoder(name) for name in list_encoders() if name != "geoclip"]


def dense(values):
    return values.toarray() if sp.issparse(values) else np.asarray(values)


def is_geoclip(est) -> bool:
    return isinstance(est, GeoCLIPEncoder) or (isinstance(est, GeoEmbedder) and est.encoder == "geoclip")


def state_of(est) -> dict:
    """The estimator's attributes (nested estimators expanded), without the lazily loaded torch module."""
    out = {}
    for key, value in vars(est).items():
        if key == "_module":
            continue
        out[key] = state_of(value) if hasattr(value, "get_params") else copy.deepcopy(value)
    return out


def assert_same_state(before, after, path="est"):
    assert before.keys() == after.keys(), f"{path}: attributes {sorted(before)} became {sorted(after)}"
    for key, value in before.items():
        other = after[key]
        if isinstance(value, dict):
            assert_same_state(value, other, f"{path}.{key}")
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(other, value, err_msg=f"{path}.{key} changed")
        else:
            assert other == value, f"{path}.{key} changed from {value!r} to {other!r}"


def expected_failed_checks(estimator):
    if estimator.on_invalid == "nan":  # out-of-range rows become NaN rows instead of errors
        return {name: why for name, why in NOT_APPLICABLE.items() if why != OUT_OF_RANGE}
    return NOT_APPLICABLE


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# -- the inapplicable checks' properties, on valid coordinates ------------------------------
@pytest.fixture(scope="module")
def coords(random_latlon):
    return random_latlon[:120]


@pytest.mark.parametrize("estimator", CONFORMANCE, ids=lambda e: repr(e))
def test_coordinate_conformance(estimator, coords):
    est = clone(estimator)
    with pytest.raises(NotFittedError):
        est.transform(coords)
    params_before = est.get_params()
    est.fit(coords)
    assert est.get_params() == params_before  # fit does not overwrite parameters
    assert est.n_features_in_ == 2
    full = est.transform(coords)
    assert full.dtype == np.dtype(getattr(est, "dtype", "float64"))
    assert full.shape == (len(coords), est.n_features_out_) == (len(coords), len(est.get_feature_names_out()))
    if is_geoclip(est):

        def assert_same(actual, expected, latlon):  # float32 GEMM chains: error bound from a float64 reference
            assert_geoclip_close(actual, latlon, normalized=est.normalize)
    else:  # classic encoders compute in float64 and round once to the output dtype

        def assert_same(actual, expected, latlon):
            assert_rounded_once_close(dense(actual), dense(expected))

    # idempotent fit, sample-order and subset invariance, list / object / F-ordered inputs
    assert_same(clone(estimator).fit(coords).transform(coords), full, coords)
    perm = np.random.default_rng(0).permutation(len(coords))
    assert_same(est.transform(coords[perm]), full[perm], coords[perm])
    subsets = np.concatenate([dense(est.transform(coords[i : i + 11])) for i in range(0, len(coords), 11)])
    assert_same(subsets, full, coords)
    for variant in (coords.tolist(), coords.astype(object), np.asfortranarray(coords)):
        assert_same(est.transform(variant), full, coords)
    # float32 input moves points by up to ~4e-6 degrees: the sigma = 256 branch and the finest classic scales
    # change by up to ~1e-3 there
    np.testing.assert_allclose(dense(est.transform(coords.astype(np.float32))), dense(full), atol=2e-3)
    # a pickled and restored estimator computes the same features
    assert_same(pickle.loads(pickle.dumps(est)).transform(coords), full, coords)
    # the estimator's state (names and values) is unchanged by transform
    state = state_of(est)
    est.transform(coords)
    assert_same_state(state, state_of(est))
    # a single sample works
    assert est.transform(coords[:1]).shape == (1, est.n_features_out_)
    # NaN / inf: rejected, or NaN rows with on_invalid="nan"
    bad = coords.copy()
    bad[3, 0] = np.nan
    if est.on_invalid == "raise":
        with pytest.raises(ValueError, match="finite"):
            est.transform(bad)
    else:
        out = dense(est.transform(bad))
        assert np.isnan(out[3]).all() and not np.isnan(np.delete(out, 3, axis=0)).any()
