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
