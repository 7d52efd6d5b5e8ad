"""``geoembed bench downstream``: the downstream suite runs from the installed package, writes its
four files atomically, and refuses bad arguments and existing outputs before any data is loaded."""

import json

import pandas as pd
import pytest

pytest.importorskip(
    "global_land_mask", reason="the bench extra is not installed: pip install 'geoembed-toolkit[bench]'"
)
pytest.importorskip("matplotlib", reason="the plot extra is not installed")

from geoembed.benchmarks import downstream  # noqa: E402
from geoembed.cli import main  # noqa: E402

SMALL = ["--tasks", "land_ocean", "--encoders", "direct", "sphereC+", "--probes", "linear", "--n-samples", "200"]


def test_the_cli_writes_the_tables_the_csv_and_the_heat_map(tmp_path, capsys):
    stem = tmp_path / "results" / "suite"
    assert main(["bench", "downstream", *SMALL, "--folds", "2", "-o", str(stem), "-q"]) == 0
    for suffix in downstream.OUTPUT_SUFFIXES:
        assert stem.with_name("suite" + suffix).stat().st_size > 0, suffix
    rows = pd.read_csv(stem.with_suffix(".csv"))
    assert sorted(rows["encoder"]) == ["direct", "sphereC+"] and set(rows["task"]) == {"land_ocean"}
    assert rows["accuracy"].between(0, 1).all()
    text = stem.with_suffix(".md").read_text()
    assert "### linear probe" in text and "land_ocean" in text
    assert json.loads(stem.with_suffix(".json").read_text())["machine"]  # every results file names its machine
    assert sorted(p.name for p in stem.parent.iterdir()) == [f"suite{s}" for s in sorted(downstream.OUTPUT_SUFFIXES)]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--tasks", "atlantis"], r"tasks: unknown \['atlantis'\]"),
        (["--encoders", "geoclip", "nope"], r"encoders: unknown \['nope'\]"),
    ],
)
def test_bad_names_fail_before_any_data_is_loaded(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.setattr("geoembed.datasets.load_task", lambda *a, **k: pytest.fail("a task was loaded"))
    assert main(["bench", "downstream", *arguments, "-o", str(tmp_path / "s"), "-q"]) == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.png").write_bytes(b"mine")
    monkeypatch.setattr("geoembed.datasets.load_task", lambda *a, **k: pytest.fail("a task was loaded"))
    assert main(["bench", "downstream", *SMALL, "-o", str(tmp_path / "s"), "-q"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "s.png").read_bytes() == b"mine"


def test_a_part_of_the_heldout_pool_runs_instead_of_the_suite(tmp_path):
    stem = tmp_path / "evaluation"
    arguments = ["--half", "evaluation", "--tasks", "hot_days", "--encoders", "direct", "--probes", "linear"]
    assert main(["bench", "downstream", *arguments, "--folds", "2", "-o", str(stem), "-q"]) == 0
    rows = pd.read_csv(stem.with_suffix(".csv"))
    assert set(rows["task"]) == {"hot_days"} and list(rows["encoder"]) == ["direct"]
    assert rows["n_samples"].iloc[0] == 197  # the task as recorded in the pool, not --n-samples rows
    assert "the evaluation part of the held-out pool" in stem.with_suffix(".md").read_text()


def test_without_tasks_a_part_runs_its_location_only_tasks(monkeypatch):
    from geoembed.datasets import list_heldout_tasks

    loaded = []

    def stop(name, **kwargs):
        loaded.append(name)
        raise RuntimeError("stop")

    monkeypatch.setattr("geoembed.datasets.load_heldout_task", stop)
    with pytest.raises(RuntimeError, match="stop"):
        downstream.run_downstream(half="evaluation", encoders=["direct"], progress=False)
    assert loaded == list_heldout_tasks("evaluation", group="location")[:1]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--half", "evaluation", "--tasks", "koppen30"], r"tasks: unknown in half 'evaluation' \['koppen30'\]"),
        (["--half", "evaluation", "--n-samples", "100"], r"n_samples applies to the suite's tasks"),
        (["--half", "nope"], r"invalid choice: 'nope'"),
    ],
)
def test_bad_heldout_arguments_fail_before_any_data_is_loaded(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.setattr("geoembed.datasets.load_heldout_task", lambda *a, **k: pytest.fail("a task was loaded"))
    assert main(["bench", "downstream", *arguments, "-o", str(tmp_path / "s"), "-q"]) == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []
