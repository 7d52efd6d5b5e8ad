"""``benchmarks/local_detail.py``: a point's partner lies the stated distance away, and the share of
the teacher's local changes a student reproduces is 1 for the teacher itself and follows from the
student's scale for a scaled copy."""

import json

import numpy as np
import pytest
from pyproj import Geod
from sklearn.preprocessing import FunctionTransformer

import benchmarks._report
from benchmarks import local_detail


def _rough(latlon):
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.column_stack([np.sin(k * lat + j * lon) for k in (1, 30, 900) for j in (2, 50, 700)])


def test_partners_lie_the_given_distance_away():
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(-80, 80, 500), rng.uniform(-180, 180, 500)])
    moved = local_detail.partners(points, 2.5, rng)
    _, _, metres = Geod(ellps="WGS84").inv(points[:, 1], points[:, 0], moved[:, 1], moved[:, 0])
    np.testing.assert_allclose(metres, 2500.0, rtol=1e-9)


def test_the_teacher_reproduces_itself_and_a_scaled_copy_a_known_share():
    rng = np.random.default_rng(1)
    anchors = np.column_stack([rng.uniform(-60, 60, 400), rng.uniform(-180, 180, 400)])
    encoders = {
        "teacher": FunctionTransformer(_rough),
        "copy": FunctionTransformer(_rough),
        "half": FunctionTransformer(lambda x: 0.5 * _rough(x)),
        "flat": FunctionTransformer(lambda x: np.tile(np.radians(x), 5)[:, :9]),
    }
    rows = local_detail.local_detail(encoders, anchors, distances=(1.0, 100.0))
    assert [row["distance_km"] for row in rows] == [1.0, 100.0]
    for row in rows:
        assert row["copy reproduces"] == pytest.approx(1.0, abs=1e-12)
        assert row["half reproduces"] == pytest.approx(0.75, rel=1e-9)  # 1 - |0.5 t - t|^2 / |t|^2
        assert row["half change"] == pytest.approx(row["teacher change"], rel=1e-9)  # a share of its own spread
        assert row["flat reproduces"] < 0.1  # smooth in lat/lon: none of the rough teacher's change
    assert rows[0]["teacher change"] < rows[1]["teacher change"]


def test_the_script_writes_its_table(tmp_path, monkeypatch):
    machine_info = benchmarks._report.machine_info
    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(local_detail, "machine_info", lambda: machine_info(probe_gemm=False))
    local_detail.main(["--anchors", "200", "--name", "detail"])
    result = json.loads((tmp_path / "detail.json").read_text())
    rows = result["rows"]
    assert [float(r["distance_km"]) for r in rows] == list(local_detail.DISTANCES_KM)
    assert all(-1.0 <= float(r["geoclip-lite reproduces"]) <= 1.0 for r in rows)
