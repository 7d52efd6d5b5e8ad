"""The held-out task pool: its recorded split is stable, its halves are disjoint, its tasks load."""

import json
from pathlib import Path

import numpy as np
import pytest

from geoembed.datasets import heldout
from geoembed.datasets.heldout import (
    CONFIRMATION,
    CONFIRMATION_2,
    CONFIRMATION_3,
    POOL,
    heldout_split,
    list_heldout_tasks,
    load_heldout_task,
    make_split,
)
from geoembed.target_encoder import infer_target_type
from geoembed.target_encoder._targets import MAX_INTEGER_CLASSES


def test_recorded_split_is_the_seeded_rule_and_stable():
    recorded = heldout_split()
    assert recorded == make_split(recorded["seed"])  # re-deriving it gives the file, bit for bit
    path = Path(heldout.__file__).with_name("heldout_split.json")
    assert json.loads(path.read_text()) == recorded
    assert make_split(recorded["seed"] + 1) != recorded  # the seed matters: the test can fail


def test_split_covers_the_pool_once_with_the_suite_in_development():
    split = heldout_split()
    development, evaluation = set(split["development"]), set(split["evaluation"])
    assert not development & evaluation
    assert development | evaluation == {t.name for t in POOL}
    assert {t.name for t in POOL if t.suite} <= development  # already used to choose the defaults
    groups = {t.name: t.group for t in POOL}
    location = [t for t in POOL if t.group == "location" and t.name != "airports_alt_float"]
    assert len(location) >= 30 and len([t for t in POOL if t.group == "added"]) >= 10
    for half in (development, evaluation):
        assert {groups[name] for name in half} == {"location", "added"}
    assert list_heldout_tasks("evaluation", "added") == [n for n in split["evaluation"] if groups[n] == "added"]
    with pytest.raises(ValueError, match="half"):
        list_heldout_tasks("test")


def test_pool_covers_the_forms_of_real_data():
    forms = {form for t in POOL for form in t.forms}
    assert {"int quantity", "count", "skewed", "50+ classes", "imbalanced binary", "shared coordinates"} <= forms
    assert "small table" in forms and {t.extent for t in POOL} == {"within-city", "regional", "global"}


@pytest.mark.parametrize("name", ["airports_alt", "quakes_depth", "wolf_depredations", "hot_days_added"])
def test_integer_targets_stay_int64_and_read_as_continuous(name, tmp_path):
    pytest.importorskip("pandas")
    task = load_heldout_task(name, cache_dir=tmp_path)
    assert task.y.dtype == np.int64 and task.kind == "regression"
    assert infer_target_type(task.y) == "continuous"  # the suite and the encoder agree
    assert len(task) <= heldout.MAX_ROWS and set(task.extra_features) <= set(task.frame.columns)
    again = load_heldout_task(name, cache_dir=tmp_path)  # from the cache: the same rows
    np.testing.assert_array_equal(again.y, task.y)


@pytest.mark.parametrize("name", ["airports_tzone", "sacramento_type", "japan_prefecture", "mpls_citation"])
def test_class_tasks_read_as_classes(name, tmp_path):
    task = load_heldout_task(name, cache_dir=tmp_path)
    assert task.kind == "classification" and infer_target_type(task.y) in ("binary", "multiclass")


def test_float_copy_matches_its_int_task(tmp_path):
    as_int = load_heldout_task("airports_alt", cache_dir=tmp_path)
    as_float = load_heldout_task("airports_alt_float", cache_dir=tmp_path)
    assert as_float.y.dtype == np.float64
    np.testing.assert_array_equal(as_float.y, as_int.y)
    with pytest.raises(ValueError, match="unknown held-out task"):
        load_heldout_task("nope")


@pytest.mark.parametrize(
    ("part", "tasks"),
    [("confirmation", CONFIRMATION), ("confirmation2", CONFIRMATION_2), ("confirmation3", CONFIRMATION_3)],
)
def test_confirmation_sets_stand_outside_the_seeded_draw(part, tasks):
    split = heldout_split()
    names = [t.name for t in tasks]
    assert split[part] == names == list_heldout_tasks(part)
    others = {t.name for t in (*POOL, *CONFIRMATION, *CONFIRMATION_2, *CONFIRMATION_3) if t not in tasks}
    assert not set(names) & others  # fresh tasks, none of the pool's or the other set's
    # adding it moved no task between the halves: the draw is over the pool alone
    assert {k: make_split(split["seed"])[k] for k in ("development", "evaluation")} == {
        k: split[k] for k in ("development", "evaluation")
    }
    assert {t.group for t in tasks} == {"location", "added"}
    assert list_heldout_tasks(part, "added") == [t.name for t in tasks if t.group == "added"]
    with pytest.raises(ValueError, match="confirmation3"):  # the message lists the parts
        list_heldout_tasks("holdout")


def test_second_confirmation_set_covers_the_forms_of_real_data():
    forms = {form for t in CONFIRMATION_2 for form in t.forms}
    assert {"count", "skewed", "shared coordinates", "small table", "region centroids"} <= forms
    assert {t.extent for t in CONFIRMATION_2} == {"within-city", "regional"}
    assert len([t for t in CONFIRMATION_2 if t.group == "location"]) >= 7


def test_third_confirmation_set_is_mostly_small_tables():
    """It was added to judge a design for small tables: most of its location tasks have under 450 rows."""
    small = [t.name for t in CONFIRMATION_3 if t.group == "location" and "small table" in t.forms]
    assert len(small) >= 4 and {t.extent for t in CONFIRMATION_3} == {"global", "regional"}
    assert len([t for t in CONFIRMATION_3 if t.group == "location"]) >= 7


@pytest.mark.parametrize(
    ("source", "rows", "place", "where"),
    [
        ("_gapminder", 142, "United States", ((38.8, 39.0), (-77.1, -76.9))),  # Washington
        ("_gapminder", 142, "Cote d'Ivoire", ((6.7, 6.9), (-5.4, -5.2))),  # an alias: Yamoussoukro
        ("_infant_mortality", 178, "Australia", ((-35.4, -35.2), (149.0, 149.2))),  # Canberra
    ],
)
def test_countries_stand_at_their_capitals(source, rows, place, where, tmp_path):
    frame, _ = getattr(heldout, source)(tmp_path)
    # every country of the source is placed: an alias where GeoNames spells it otherwise
    assert len(frame) == rows == frame["country"].nunique()
    row = frame[frame["country"] == place].iloc[0]
    (south, north), (west, east) = where
    assert south < row["lat"] < north and west < row["lon"] < east


#: Where the projected sources' points must land (latitude, longitude bounds), by task prefix.
PLACES = {
    "berlin": ((52.50, 52.58), (13.38, 13.48)),  # Prenzlauer Berg, from Web Mercator
    "soho": ((51.50, 51.52), (-0.15, -0.12)),  # Soho, London, from Web Mercator
    "tokyo": ((35.0, 36.4), (138.9, 140.7)),  # Tokyo metropolis, from Japan zone VI on the Tokyo datum
    "oslo": ((59.4, 60.7), (10.3, 11.1)),  # the Oslo transect, from UTM 32N
    "midwest": ((36.9, 48.4), (-92.9, -80.5)),  # Illinois, Indiana, Michigan, Ohio, Wisconsin, by county name
    "nc": ((33.8, 36.6), (-84.4, -75.4)),  # North Carolina, by FIPS code
    "stl": ((36.5, 40.7), (-93.0, -87.5)),  # around St Louis
}

#: Tasks whose target the documented rule reads otherwise than the source means it: a count of
#: 0 to 8 and 18 deaths (10 distinct integers) reads as 10 classes unless target_type says otherwise.
READ_AS_CLASSES = {"soho_deaths"}


@pytest.mark.parametrize("name", [t.name for t in (*CONFIRMATION, *CONFIRMATION_2, *CONFIRMATION_3)])
def test_confirmation_tasks_load_with_the_kind_their_target_reads_as(name, tmp_path):
    task = load_heldout_task(name, cache_dir=tmp_path)
    lat, lon = task.frame["lat"].to_numpy(), task.frame["lon"].to_numpy()
    assert np.isfinite(lat).all() and np.isfinite(lon).all()
    assert (np.abs(lat) <= 90).all() and (np.abs(lon) <= 180).all()
    assert len(task) <= heldout.MAX_ROWS and len(task) == len(task.y)
    expected = ("continuous",) if task.kind == "regression" else ("binary", "multiclass")
    if name in READ_AS_CLASSES:  # integers with at most MAX_INTEGER_CLASSES distinct values are labels
        assert task.y.dtype == np.int64 and len(np.unique(task.y)) <= MAX_INTEGER_CLASSES
        expected = ("multiclass",)
    assert infer_target_type(task.y) in expected  # the encoder reads the target as the task means it
    if task.kind == "regression":
        assert np.isfinite(task.y.astype(np.float64)).all() and np.std(task.y) > 0
    if name.split("_")[0] in PLACES:  # projected sources: the points land where the data was gathered
        (south, north), (west, east) = PLACES[name.split("_")[0]]
        assert lat.min() > south and lat.max() < north and lon.min() > west and lon.max() < east
    assert set(task.extra_features) <= set(task.frame.columns)
