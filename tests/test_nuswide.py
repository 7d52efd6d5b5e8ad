"""NUS-WIDE: loader on a miniature of the release layout, mAP, protocol, benchmark script and CLI."""

import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

import benchmarks._report
from geoembed import GeoEmbedder, make_encoder
from geoembed.benchmarks.nuswide import (
    format_table,
    load_nuswide,
    make_miniature_nuswide,
    photo_id_from_path,
    read_geotags,
    run_nuswide_benchmark,
)
from geoembed.cli import main as cli_main
from geoembed.evaluation import mean_average_precision


@pytest.fixture(scope="module")
def miniature(tmp_path_factory):
    return make_miniature_nuswide(tmp_path_factory.mktemp("nuswide"), n_images=1500, n_concepts=12, seed=3)


def test_map_matches_sklearn_and_excludes_concepts_without_positives():
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0]])
    s = np.array([[0.9, 0.2, 0.1], [0.3, 0.8, 0.4], [0.6, 0.4, 0.9], [0.5, 0.1, 0.3], [0.2, 0.7, 0.2]])
    value, excluded = mean_average_precision(y, s)
    assert excluded == 1
    assert value == pytest.approx(average_precision_score(y[:, :2], s[:, :2], average="macro"))
    manual = np.mean([average_precision_score(y[:, 0], s[:, 0]), average_precision_score(y[:, 1], s[:, 1])])
    assert value == pytest.approx(manual)
    # AP of concept 0 by hand: ranks 1 (pos), 2 (pos), 3 (neg), 4 (neg), 5 (pos) -> (1 + 1 + 3/5) / 3
    assert average_precision_score(y[:, 0], s[:, 0]) == pytest.approx((1 + 1 + 3 / 5) / 3)
    with pytest.raises(ValueError, match="no concept"):
        mean_average_precision(np.zeros((3, 2)), np.zeros((3, 2)))


def test_photo_id_parsing():
    assert photo_id_from_path("actor\\0002_174174086.jpg") == "174174086"
    assert photo_id_from_path("sky/0417_2386624735.jpg") == "2386624735"


def test_loader_reads_the_miniature_exactly(miniature):
    root, geotags_path = miniature
    data = load_nuswide(root, geotags_path)
    tags = pd.read_csv(geotags_path, dtype={"photo_id": str})
    images = (root / "ImageList" / "Imagelist.txt").read_text().split()
    bow = np.loadtxt(root / "Low_Level_Features" / "BoW_int.dat")
    assert data.miniature and data.concepts == [f"concept{j:02d}" for j in range(12)]
    assert data.counts["images"] == 1500 and data.counts["with_coordinates"] == len(tags)
    assert data.counts["train_geotagged"] + data.counts["test_geotagged"] == len(tags) == len(data.photo_ids)
    assert data.labels.shape == (len(tags), 12) and data.visual.shape == (len(tags), 500)
    row_of = {photo_id_from_path(p): i for i, p in enumerate(images)}
    for k in [0, 17, len(data.photo_ids) - 1]:  # alignment of features, labels and coordinates
        i = row_of[data.photo_ids[k]]
        np.testing.assert_array_equal(data.visual[k], bow[i])
        label_file = root / "Groundtruth" / "AllLabels" / "Labels_concept05.txt"
        assert data.labels[k, 5] == int(label_file.read_text().split()[i])
        tag = tags.set_index("photo_id").loc[data.photo_ids[k]]
        np.testing.assert_allclose(data.latlon[k], [tag.latitude, tag.longitude])
        assert data.is_train[k] == (images[i] in (root / "ImageList" / "TrainImagelist.txt").read_text().split())
    rates = data.labels.mean(axis=0)
    assert rates.max() > 0.1 and rates.min() < 0.02  # realistic imbalance


def test_train_test_label_layout_gives_the_same_labels(miniature, tmp_path):
    root, geotags_path = miniature
    copy = tmp_path / "release"
    shutil.copytree(root, copy)
    all_labels = copy / "Groundtruth" / "AllLabels"
    split = copy / "Groundtruth" / "TrainTestLabels"
    split.mkdir()
    images = (copy / "ImageList" / "Imagelist.txt").read_text().split()
    for part in ("Train", "Test"):
        members = set((copy / "ImageList" / f"{part}Imagelist.txt").read_text().split())
        for f in all_labels.glob("Labels_*.txt"):
            values = f.read_text().split()
            (split / f"{f.stem}_{part}.txt").write_text("\n".join(v for p, v in zip(images, values) if p in members))
    shutil.rmtree(all_labels)
    np.testing.assert_array_equal(load_nuswide(copy, geotags_path).labels, load_nuswide(root, geotags_path).labels)


def test_bad_inputs(miniature, tmp_path):
    root, geotags_path = miniature
    broken = tmp_path / "broken"
    shutil.copytree(root, broken)
    (broken / "Groundtruth" / "AllLabels" / "Labels_concept03.txt").unlink()
    with pytest.raises(FileNotFoundError, match="Labels_concept03.txt"):
        load_nuswide(broken, geotags_path)
    misaligned = tmp_path / "misaligned"
    shutil.copytree(root, misaligned)
    bow = misaligned / "Low_Level_Features" / "BoW_int.dat"
    bow.write_text("\n".join(bow.read_text().splitlines()[:-3]) + "\n")
    with pytest.raises(ValueError, match="misaligned"):
        load_nuswide(misaligned, geotags_path)
    tags = pd.read_csv(geotags_path, dtype={"photo_id": str})
    unknown = pd.concat([tags, pd.DataFrame({"photo_id": ["1", "2"], "latitude": [0.0, 1.0], "longitude": [0.0, 1.0]})])
    unknown.to_csv(tmp_path / "unknown.csv", index=False)
    with pytest.warns(UserWarning, match="2 geotags name photo ids that are not in Imagelist"):
        data = load_nuswide(root, tmp_path / "unknown.csv")
    assert data.counts["geotags_unknown_ids"] == 2
    pd.concat([tags, tags.iloc[:3]]).to_csv(tmp_path / "dupes.csv", index=False)
    with pytest.warns(UserWarning, match="3 duplicate geotag rows"):
        read_geotags(tmp_path / "dupes.csv")
    conflict = pd.concat([tags, tags.iloc[:1].assign(latitude=0.0)])
    conflict.to_csv(tmp_path / "conflict.csv", index=False)
    with pytest.raises(ValueError, match="conflicting coordinates"):
        read_geotags(tmp_path / "conflict.csv")
    tags.rename(columns={"photo_id": "image"}).to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(ValueError, match="needs photo_id"):
        read_geotags(tmp_path / "noid.csv")


def test_fused_features_beat_each_source_on_the_miniature(miniature):
    data = load_nuswide(*miniature)
    table = run_nuswide_benchmark(
        data,
        seeds=1,
        max_epochs=15,
        progress=False,
        encoders={
            "GeoCLIP": GeoEmbedder(normalize=True, precision="fast"),
            "spherical harmonics": make_encoder("spherical_harmonics"),
        },
    )
    score = table.set_index("features")["mAP"]
    for geo in ("GeoCLIP", "spherical harmonics"):
        assert score[f"{geo} + V"] > max(score[geo], score["V"]) + 0.02, table
    text = format_table(table)
    assert text.startswith("**MINIATURE run") and "| GeoCLIP + V | fused | 1012 |" in text and "0.362" in text


def test_benchmark_script_runs_the_miniature(tmp_path, capsys, monkeypatch):
    from benchmarks.nuswide import main

    machine_info = benchmarks._report.machine_info
    monkeypatch.setattr(benchmarks._report, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(benchmarks._report, "machine_info", lambda: machine_info(probe_gemm=False))  # no GEMM probe
    table = main(
        ["--miniature", str(tmp_path / "mini"), "--miniature-images", "600", "--seeds", "1", "--max-epochs", "3", "-q"]
    )
    out = capsys.readouterr().out
    assert "MINIATURE" in out and "| GeoCLIP + V | fused | 1012 |" in out and "with_coordinates" in out
    assert len(table) == 11 and (tmp_path / "results" / "nuswide_miniature.md").exists()
    saved = pd.read_csv(tmp_path / "results" / "nuswide_miniature.csv")
    assert len(saved) == 11 and saved.set_index("features").loc["GeoCLIP + V", "paper mAP"] == 0.362
    with pytest.raises(ValueError, match="--miniature DIR"):
        main([])


def test_old_dataset_path_warns_and_forwards(tmp_path):
    from geoembed.datasets import nuswide

    with pytest.warns(FutureWarning, match="geoembed.benchmarks.nuswide.make_miniature_nuswide"):
        make = nuswide.make_miniature_nuswide
    root, geotags = make(tmp_path / "old", n_images=40, n_concepts=3, seed=1)
    _, expected = make_miniature_nuswide(tmp_path / "new", n_images=40, n_concepts=3, seed=1)
    assert (root / "MINIATURE").exists() and geotags.read_text() == expected.read_text()
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        getattr(nuswide, "nothing")  # noqa: B009


def test_cli_runs_the_miniature_and_the_release_with_result_files(tmp_path, capsys, monkeypatch):
    """`geoembed bench nuswide`, as an installed user runs it: a miniature, then the same files as a 'release'."""
    from geoembed.benchmarks import report

    machine_info = report.machine_info
    monkeypatch.setattr(report, "machine_info", lambda: machine_info(probe_gemm=False))  # no GEMM probe
    monkeypatch.chdir(tmp_path)
    small = ["--miniature-images", "500", "--seeds", "1", "--max-epochs", "2", "-q"]
    assert cli_main(["bench", "nuswide", "--miniature", "mini", *small, "-o", "out/mini"]) == 0
    out = capsys.readouterr().out
    assert "MINIATURE" in out and "| GeoCLIP + V | fused | 1012 |" in out
    saved = pd.read_csv(tmp_path / "out" / "mini.csv")
    assert len(saved) == 11 and saved.set_index("features").loc["GeoCLIP + V", "paper mAP"] == 0.362
    assert "Machine:" in (tmp_path / "out" / "mini.md").read_text() and (tmp_path / "out" / "mini.json").exists()
    # an existing output is refused before any work, and names the flag
    assert cli_main(["bench", "nuswide", "--miniature", "mini2", *small, "-o", "out/mini"]) == 2
    assert "--overwrite" in capsys.readouterr().err and not (tmp_path / "mini2").exists()
    # the real-release form reads the same layout (printing only, no -o)
    args = ["bench", "nuswide", "--root", "mini", "--geotags", "mini/geotags.csv", *small[2:]]
    assert cli_main(args) == 0
    assert "| GeoCLIP + V | fused | 1012 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--root DIR --geotags FILE"),
        (["--root", "nowhere"], "--root DIR --geotags FILE"),
        (["--root", "nowhere", "--geotags", "none.csv"], "no such file or folder: nowhere, none.csv"),
        (["--root", "r", "--geotags", "g", "--miniature", "m"], "not both"),
    ],
)
def test_cli_bad_arguments_are_usage_errors(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["bench", "nuswide", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_miniature_appears_whole_or_not_at_all_and_never_replaces_a_users_folder(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="is not a NUS-WIDE miniature"):
        make_miniature_nuswide(mine, n_images=40, n_concepts=3)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]

    target = tmp_path / "mini"
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        make_miniature_nuswide(target, n_images=40, n_concepts=3)
    assert not target.exists() and list(tmp_path.iterdir()) == [mine]
    monkeypatch.undo()
    root, geotags = make_miniature_nuswide(target, n_images=40, n_concepts=3)
    assert (root / "MINIATURE").is_file() and geotags.is_file()
    again, _ = make_miniature_nuswide(target, n_images=40, n_concepts=3, seed=1)  # an earlier miniature is replaced
    assert again == root and (root / "MINIATURE").is_file()
