"""The location-prior benchmark scripts run end to end on a small task and report what they claim."""

import json

import numpy as np
import pytest
from scipy import stats

import benchmarks._report
from benchmarks import tree_head_variants
from benchmarks.location_prior import paired_summary


def test_summary_bounds_are_one_sided_student_t():
    deltas = np.array([0.01, 0.03, -0.01])
    result = paired_summary(deltas)
    se = deltas.std(ddof=1) / np.sqrt(3)
    half = stats.t.ppf(0.95, 2) * se
    assert result["mean"] == pytest.approx(0.01) and result["se"] == pytest.approx(se)
    assert result["lower95"] == pytest.approx(0.01 - half) and result["upper95"] == pytest.approx(0.01 + half)
    assert result["wins"] == 2 and result["ties"] == 0 and result["deltas"] == deltas.tolist()


def test_summary_counts_round_off_as_ties():
    # the same predictions scored with another order of summation differ by ~1e-16: no win, no loss
    result = paired_summary(np.array([1.1e-16, -2.2e-17, 1.1e-16, 0.0, 5.5e-17]))
    assert result["wins"] == 0 and result["ties"] == 5 and result["mean"] == 0.0
    assert result["upper95"] == 0.0 and result["lower95"] == 0.0  # not "significantly worse" (upper < 0)
    assert paired_summary(np.array([1e-9, 2e-9, 3e-9]))["wins"] == 3  # a small real change still counts


def test_tree_head_variants_script_reports_every_design(tmp_path, monkeypatch):
    machine_info = benchmarks._report.machine_info
    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(tree_head_variants, "machine_info", lambda: machine_info(probe_gemm=False))
    designs = ["default", "prior of the residual", "monotone head"]
    rows = tree_head_variants.main(["--tasks", "quakes_added", "--designs", *designs, "--repeats", "2"])
    assert [row["design"] for row in rows] == designs
    for row in rows:
        (task,) = row["per task"]
        assert task["task"] == "quakes_added" and len(task["deltas"]) == 2
        assert np.isfinite(task["deltas"]).all() and task["lower95"] <= task["mean"] <= task["upper95"]
        assert abs(task["mean"]) < 0.1  # one added column moves R² by little, either way
    # default and monotone head share the encoder and its seeds: the head's constraint must show
    assert rows[0]["per task"][0]["deltas"] != rows[2]["per task"][0]["deltas"]
    saved = json.loads((tmp_path / "tree_head_variants.json").read_text())
    assert [row["design"] for row in saved["rows"]] == designs
    assert "| default |" in (tmp_path / "tree_head_variants.md").read_text()


def test_heldout_summary_counts_wins_ties_losses_on_a_half():
    from benchmarks.heldout import summary

    def row(task, delta, spread=0.001):
        best = np.array([0.5, 0.6, 0.7, 0.6, 0.5])
        ours = best + delta + spread * np.array([1, -1, 2, -2, 0])  # folds of mean Δ = delta
        scores = {"k-NN": {"folds": best.tolist()}, "LocationTargetEncoder + head": {"folds": ours.tolist()}}
        return {
            "task": task,
            "Δ": delta,
            "Δ fold std": 0.01,
            "seed Δ": delta / 10,
            "scores": scores,
            "best single": "k-NN",
        }

    rows = [row("a", 0.02), row("b", -0.004), row("c", -0.02), row("d", 0.0), row("e", -0.03, spread=0.1)]
    rows.append(row("airports_alt_float", -1.0))
    result = summary(rows, [], "evaluation")
    assert result["location tasks"] == 5  # the float copy is a check, not a task
    assert (result["wins"], result["ties (within -0.005)"], result["losses"]) == (1, 2, 2)
    assert result["losing tasks"] == ["c (-0.020)", "e (-0.030)"] and result["worst Δ"] == -0.03
    # a steady loss is beyond fold noise, a larger one that swings from fold to fold is not
    assert result["losses beyond fold noise (upper 95% < 0)"] == ["b (-0.004)", "c (-0.020)"]


def test_heldout_script_runs_both_halves_and_merges_them(tmp_path, monkeypatch):
    from benchmarks import heldout

    machine_info = benchmarks._report.machine_info
    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(heldout, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(heldout, "machine_info", lambda: machine_info(probe_gemm=False))
    # two 104-row tasks: one development (location only), one evaluation (added)
    heldout.main(["--tasks", "northampton_price", "--half", "development", "--seeds", "0", "--repeats", "2"])
    heldout.main(["--tasks", "northampton_price_added", "--half", "evaluation", "--seeds", "0", "--repeats", "2"])
    saved = json.loads((tmp_path / "heldout.json").read_text())
    assert [s["half"] for s in saved["summaries"].values()] == ["development", "evaluation"]
    (location,) = [r for r in saved["rows"] if r["group"] == "location"]
    assert location["task"] == "northampton_price" and location["target_type_"] == "continuous"
    assert location["Δ"] == pytest.approx(
        location["scores"]["LocationTargetEncoder + head"]["mean"] - location["scores"][location["best single"]]["mean"]
    )
    added = [r for r in saved["rows"] if r["group"] == "added"]
    assert [r["head"] for r in added] == ["linear probe", "boosted trees"]
    assert all(len(r["repeated"]["deltas"]) == 2 for r in added)
    text = (tmp_path / "heldout.md").read_text()
    assert "Development half" in text and "Evaluation half" in text and "northampton_price_added" in text
    rows = json.loads((tmp_path / "heldout_rows_evaluation.json").read_text())
    assert rows["design"]  # the commit the rows measured
    assert not list(tmp_path.glob("*.partial.json"))  # progress files give way to the whole rows file


def test_skill_power_script_counts_kept_signals(tmp_path, monkeypatch):
    from benchmarks import skill_power

    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(skill_power, "SETTINGS", ((300, 0.0), (600, 1.0)))  # noise, and a strong signal
    skill_power.main(["--draws", "2"])
    rows = json.loads((tmp_path / "skill_power.json").read_text())["rows"]
    assert [r["kept"] for r in rows] == ["0 of 2", "2 of 2"]
    assert rows[0]["signal share of y's variance"] == "0.0%"


def test_small_tables_script_compares_fold_designs_through_public_parameters(tmp_path, monkeypatch):
    from benchmarks import small_tables
    from benchmarks.location_prior import precompute
    from geoembed.datasets.heldout import load_heldout_task
    from geoembed.model_selection import ROWS_PER_BLOCK
    from geoembed.target_encoder import SMALL_TABLE_ROWS_PER_BLOCK

    task = load_heldout_task("northampton_price")  # 104 rows: a small table as it is
    key = f"geoclip:{task.name}"
    precompute(key, task.frame, small_tables.GeoEmbedder(n_components=8))
    latlon = task.frame[["lat", "lon"]].to_numpy()
    sizes = {}
    for design in ("default", "blocks_10", "blocks_1"):
        encoder = small_tables.make_encoder(design, key, latlon, task.y).fit(task.frame, task.y)
        sizes[design] = encoder.block_size_km_ if design == "default" else encoder.block_size_km
        assert encoder.n_splits_ == small_tables.small_table_folds(len(task))
    assert SMALL_TABLE_ROWS_PER_BLOCK == 1 < ROWS_PER_BLOCK
    assert sizes["default"] == sizes["blocks_1"] < sizes["blocks_10"]  # the default is the one-row design
    # a multiclass target keeps its shuffled rows in every design
    labels = np.array(["a", "b", "c"])[np.arange(len(task)) % 3]
    assert small_tables.make_encoder("blocks_10", key, latlon, labels).block_size_km is None
    # the classes_blocks designs give blocks to multiclass targets only
    assert small_tables.make_encoder("classes_blocks_10", key, latlon, labels).block_size_km == sizes["blocks_10"]
    assert small_tables.make_encoder("classes_blocks_10", key, latlon, task.y).block_size_km is None

    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    small_tables.main(["--tasks", "northampton_price", "--designs", "blocks_10", "blocks_1", "--jobs", "1"])
    saved = json.loads((tmp_path / "small_tables_draws.json").read_text())
    assert [(r["size"], r["permuted"]) for r in saved["rows"]] == [("as is", False), ("as is", True)]
    assert all({"blocks_10", "blocks_1", "best score"} <= set(r) for r in saved["rows"])
    summary = json.loads((tmp_path / "small_tables.json").read_text())["rows"]
    assert [(r["target"], r["rows"]) for r in summary] == [("real", "as is"), ("permuted", "as is")]


def test_small_tables_compare_lists_the_draws_a_change_moved(tmp_path, monkeypatch):
    from benchmarks import small_tables

    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    machine_info = benchmarks._report.machine_info
    monkeypatch.setattr(benchmarks._report, "machine_info", lambda: machine_info(probe_gemm=False))
    row = {"size": 100, "kind": "classification", "permuted": False, "best": "k-NN, lat/lon", "best score": 0.5}
    old = [{**row, "task": "a[100#0]", "blocks_1": 0.4}, {**row, "task": "b[100#0]", "blocks_1": 0.52}]
    new = [{**row, "task": "a[100#0]", "default": 0.55}, {**row, "task": "b[100#0]", "default": 0.52}]
    for name, rows in (("old", old), ("new", new)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"rows": rows}))
    small_tables.main(["--compare", "new:default", "old:blocks_1"])
    (entry,) = json.loads((tmp_path / "new_changes.json").read_text())["rows"]
    assert entry["draws changed (better/worse)"] == "1 (1/0)"
    assert entry["changes"] == "a[100#0] -0.100 -> +0.050"
    assert entry["before: wins / losses, mean Δ"] == "1/1, -0.040"
    assert entry["after: wins / losses, mean Δ"] == "2/0, +0.035"
    new[1]["best score"] = 0.6  # other single models: not the same draw
    (tmp_path / "new.json").write_text(json.dumps({"rows": new}))
    with pytest.raises(ValueError, match="b\\[100#0\\].*not the same draw"):
        small_tables.main(["--compare", "new:default", "old:blocks_1"])


def test_added_designs_sets_each_design_through_public_parameters_and_scores_a_draw():
    from benchmarks import added_designs

    (task, size), *_ = added_designs.draws("sacramento_added", [100], 1)
    assert size == 100 and len(task) == 100 and task.extra_features  # a draw keeps the other features
    latlon, key = task.frame[["lat", "lon"]].to_numpy(), f"geoclip:{task.name}"
    encoders = {d: added_designs.make_encoder(d, task, key, latlon, task.y, 0) for d in added_designs.DESIGNS}
    assert encoders["outer"].block_size_deg == task.block_size_deg
    assert encoders["blocks_10"].block_size_km > 0 and encoders["blocks_10"].cv < 100
    for design in ("default", "shuffled_prior"):
        assert encoders[design].block_size_km is None and encoders[design].cv == "auto"
    row = added_designs._run_draw(task, size, ["default", "shuffled_prior"], 2)
    for head in added_designs.DEFAULT_HEADS:
        default, control = row[f"{head} default"], row[f"{head} shuffled_prior"]
        assert set(default) == {"mean", "lower95", "upper95", "wins"}
        assert default["lower95"] <= default["mean"] <= default["upper95"]
        assert default["mean"] != control["mean"]  # the shuffle unlinks the prior from its rows


def test_added_designs_heads_constrain_only_the_prior_columns():
    from sklearn.base import clone

    from benchmarks import added_designs
    from geoembed.evaluation import make_probe

    suite = make_probe("hgb", "regression").get_params()
    for head in added_designs.HEADS:  # without prior columns, every trees head is the suite's trees
        if head != "linear":
            assert added_designs.make_head(head, "regression", 4, 0).get_params() == suite
    monotone = added_designs.make_head("hgb_monotone", "regression", 4, 1)
    assert monotone.interaction_cst == [[0, 1, 2, 3], [4]] and list(monotone.monotonic_cst) == [0, 0, 0, 0, 1]
    # a multiclass prior (one column per class) gets its interaction group, and no monotone constraint
    classes = added_designs.make_head("hgb_monotone", "classification", 4, 3)
    assert classes.interaction_cst == [[0, 1, 2, 3], [4, 5, 6]] and classes.monotonic_cst is None
    rising = added_designs.make_head("hgb_rising", "regression", 4, 1)
    assert rising.interaction_cst is None and list(rising.monotonic_cst) == [0, 0, 0, 0, 1]
    # the constraints bind: a target falling with the prior column is fit rising by the monotone head
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=(200, 4)), np.linspace(0, 1, 200)])
    y = -X[:, 4]
    fitted = clone(monotone).fit(X, y)
    grid = np.column_stack([np.zeros((50, 4)), np.linspace(0, 1, 50)])
    assert np.all(np.diff(fitted.predict(grid)) >= -1e-12)
    assert np.any(np.diff(clone(added_designs.make_head("hgb", "regression", 5, 0)).fit(X, y).predict(grid)) < 0)


def test_added_designs_partial_keeps_a_prior_only_where_it_adds_to_the_other_features():
    from benchmarks import added_designs

    rng = np.random.default_rng(0)
    plain = rng.normal(size=(300, 3))
    signal = rng.normal(size=300)
    y = plain[:, 0] + signal + 0.3 * rng.normal(size=300)
    assert added_designs._adds(plain, (signal + 0.1 * rng.normal(size=300))[:, None], y, "regression", 0)
    assert not added_designs._adds(plain, plain[:, :1] * 2.0, y, "regression", 0)  # nothing the others lack
    labels = np.where(signal > 0, "north", "south")
    prior = np.column_stack([signal, -signal])
    assert added_designs._adds(plain, prior, labels, "classification", 0)
    assert not added_designs._adds(plain, rng.normal(size=(300, 2)), labels, "classification", 0)


def test_distill_seeds_trains_every_width_and_seed_and_compares_seed_means(tmp_path, monkeypatch):
    from benchmarks import distill_seeds

    machine_info = benchmarks._report.machine_info
    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(distill_seeds, "machine_info", lambda: machine_info(probe_gemm=False))
    arguments = ["--widths", "16", "8", "--seeds", "0", "1", "--tasks", "northampton_price", "--points", "2000"]
    rows = distill_seeds.main([*arguments, "--epochs", "1", "--name", "seeds"])
    (row,) = rows
    assert row["task"] == "northampton_price" and len(row["hidden 16: seeds"].split(" / ")) == 2
    means = [float(row[f"hidden {w}: mean over seeds"]) for w in (16, 8)]
    seeds = [[float(v) for v in row[f"hidden {w}: seeds"].split(" / ")] for w in (16, 8)]
    assert means == pytest.approx([round(np.mean(s), 3) for s in seeds], abs=1.5e-3)
    delta = float(row["Δ hidden 8 - hidden 16 (se)"].split(" ")[0])
    assert delta == pytest.approx(np.mean(seeds[1]) - np.mean(seeds[0]), abs=2e-3)
    assert "Tasks within 0.01 of GeoCLIP, per seed" in (tmp_path / "seeds.md").read_text()


def test_distill_frontier_reads_only_speed_runs(tmp_path):
    """distill_seeds.json (no speed) sits next to the speed runs; the frontier skips it and itself."""
    import shutil

    from benchmarks import distill_frontier

    results = benchmarks._report.RESULTS_DIR
    for name in ("distill_narrower.json", "distill_seeds.json", "distill_frontier.json"):
        shutil.copy(results / name, tmp_path / name)
    rows = distill_frontier.frontier_rows(tmp_path)
    students = [r["encoder"] for r in json.loads((results / "distill_narrower.json").read_text())["rows"][1:]]
    assert sorted(r["student"] for r in rows) == sorted(students)
    assert {r["results file"] for r in rows} == {"distill_narrower.json"}
    speeds = [r["speed-up exact"] for r in rows]
    assert speeds == sorted(speeds, reverse=True)
