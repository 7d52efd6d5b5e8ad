"""The command line: streaming embed, the demo, and the choice of training columns."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from geoembed import GeoEmbedder
from geoembed.cli import main
from geoembed.demo import run_demo
from geoembed.training.columns import default_feature_columns


@pytest.fixture()
def points_csv(tmp_path, random_latlon):
    frame = pd.DataFrame({"id": np.arange(230), "Latitude": random_latlon[:230, 0],
                          "Longitude": random_latlon[:230, 1]})
    path = tmp_path / "points.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npy"])
def test_embed_streams_in_chunks(points_csv, tmp_path, suffix):
    path, frame = points_csv
    out = tmp_path / f"out{suffix}"
    assert main(["embed", str(path), "-o", str(out), "--chunk-rows", "64", "--batch-size", "50", "-q"]) == 0
    expected = GeoEmbedder().fit_transform(frame)
    if suffix == ".npy":
        got = np.load(out)
    else:
        table = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
        assert list(table["id"]) == list(frame["id"])  # input columns ride along, rows aligned
        got = table[[f"geoclip_{i}" for i in range(512)]].to_numpy(np.float32)
    assert got.shape == (230, 512)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_embed_parquet_input_float16_normalized(tmp_path, points_csv):
    path, frame = points_csv
    src = tmp_path / "in.parquet"
    frame.to_parquet(src, row_group_size=100)
    out = tmp_path / "out.parquet"
    assert main(["embed", str(src), "-o", str(out), "--dtype", "float16", "--normalize", "--drop-input-columns",
                 "-q"]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 230 and table.column_names[0] == "geoclip_0"
    values = table.to_pandas().to_numpy(np.float32)
    np.testing.assert_allclose(np.linalg.norm(values, axis=1), 1.0, atol=2e-3)


def test_embed_bad_rows_report_file_row_numbers(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"lat": [1.0, 2.0, 3.0, 120.0], "lon": [0.0, 0.0, 0.0, 0.0]}).to_csv(path, index=False)
    assert main(["embed", str(path), "-o", str(tmp_path / "o.parquet"), "--chunk-rows", "2", "-q"]) == 2
    assert "rows [3] have 120" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no partial output, no temporary file
    assert main(["embed", str(path), "-o", str(tmp_path / "o.parquet"), "--on-invalid", "nan", "-q"]) == 0
    assert pd.read_parquet(tmp_path / "o.parquet").iloc[3, 2:].isna().all()


def test_embed_rejects_unknown_formats_and_missing_columns(tmp_path, capsys):
    path = tmp_path / "p.csv"
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_csv(path, index=False)
    assert main(["embed", str(path), "-o", str(tmp_path / "o.parquet"), "-q"]) == 2
    assert "no latitude column" in capsys.readouterr().err
    assert main(["embed", str(path), "-o", str(tmp_path / "o.xlsx"), "--lat-col", "a", "--lon-col", "b", "-q"]) == 2
    assert "unsupported output format" in capsys.readouterr().err


def test_empty_csv_gives_empty_output(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("lat,lon\n")
    out = tmp_path / "e.npy"
    assert main(["embed", str(path), "-o", str(out), "-q"]) == 0
    assert np.load(out).shape == (0, 512)


def test_demo_runs_on_bundled_sample(tmp_path, capsys):
    out = tmp_path / "demo.parquet"
    assert main(["demo", "-o", str(out), "--cities", "Cairo"]) == 0
    text = capsys.readouterr().out
    assert "Embedded 300 world cities" in text
    assert "Cairo        -> Giza" in text  # its nearest neighbour in GeoCLIP space is next door
    assert pd.read_parquet(out).shape == (300, 5 + 512)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.parquet"]


def test_run_demo_returns_what_the_cli_prints(tmp_path):
    result = run_demo(tmp_path / "d.parquet", ["Cairo", "Atlantis"], n_neighbours=2)
    assert (result.n_cities, result.n_features) == (300, 512)
    (cairo, found), (atlantis, missing) = result.neighbours
    assert cairo == "Cairo" and found[0][0] == "Giza" and len(found) == 2 and found[0][1] >= found[1][1]
    assert atlantis == "Atlantis" and missing is None
    report = result.report()
    assert "  Atlantis: not in the sample" in report and report.endswith("plus geoclip_0..geoclip_511).")
    assert run_demo(None, []).output is None and not (tmp_path / "geoembed_demo.parquet").exists()


def test_default_feature_columns_skip_coordinates_and_text():
    frame = pd.DataFrame({"Lat": [0.0], "LONGITUDE": [0.0], "y_deg": [1.0], "f0": [1.0], "n": [2], "tag": ["a"]})
    assert default_feature_columns(frame) == ["y_deg", "f0", "n"]
    assert default_feature_columns(frame, lat_col="y_deg") == ["f0", "n"]
    assert default_feature_columns(frame[["Lat", "tag"]]) == []
