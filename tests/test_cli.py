"""The command line: streaming embed, the demo, and the choice of training columns."""

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from numerics import FLOAT32_UNIT_ROUNDOFF, assert_geoclip_close

from geoembed import GeoEmbedder
from geoembed.cli import main
from geoembed.cli.demo import run_demo
from geoembed.training.columns import default_feature_columns


@pytest.fixture()
def points_csv(tmp_path, random_latlon):
    frame = pd.DataFrame(
        {"id": np.arange(230), "Latitude": random_latlon[:230, 0], "Longitude": random_latlon[:230, 1]}
    )
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
    assert (
        main(["embed", str(src), "-o", str(out), "--dtype", "float16", "--normalize", "--drop-input-columns", "-q"])
        == 0
    )
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


# -- output safety: never over the input, never over an existing file without --overwrite ----------


def _fail_if_read(*args, **kwargs):
    raise AssertionError("the input was read before the output path was checked")


@pytest.mark.parametrize("how", ["same path", "another spelling", "symlink", "hard link"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_embed_refuses_to_write_over_its_input(points_csv, tmp_path, capsys, monkeypatch, how, suffix):
    path, frame = points_csv
    if suffix == ".parquet":
        path = tmp_path / "points.parquet"
        frame.to_parquet(path)
    before = path.read_bytes()
    (tmp_path / "sub").mkdir()
    out = {
        "same path": path,
        "another spelling": tmp_path / "sub" / ".." / path.name,
        "symlink": tmp_path / f"link{suffix}",
        "hard link": tmp_path / f"hard{suffix}",
    }[how]
    if how == "symlink":
        out.symlink_to(path)
    elif how == "hard link":
        os.link(path, out)
    monkeypatch.setattr("geoembed.files.iter_input_chunks", _fail_if_read)
    for extra in ([], ["--overwrite"]):  # --overwrite does not permit it either
        assert main(["embed", str(path), "-o", str(out), "-q", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("geoembed: error: refusing to write") and "over the input" in err
        assert err.count("\n") == 1
    assert path.read_bytes() == before and out.read_bytes() == before
    assert not list(tmp_path.glob(".*tmp*"))


def test_embed_refuses_an_existing_output_without_overwrite(points_csv, tmp_path, capsys, monkeypatch):
    path, _ = points_csv
    out = tmp_path / "out.npy"
    out.write_bytes(b"keep me")
    with monkeypatch.context() as m:
        m.setattr("geoembed.files.iter_input_chunks", _fail_if_read)
        assert main(["embed", str(path), "-o", str(out), "-q"]) == 2
    assert capsys.readouterr().err == f"geoembed: error: {out} already exists; pass --overwrite to replace it\n"
    assert out.read_bytes() == b"keep me"
    assert main(["embed", str(path), "-o", str(out), "-q", "--overwrite"]) == 0
    assert np.load(out).shape == (230, 512)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy", "points.csv"]


def test_embed_checks_the_output_folder_and_input_before_reading(points_csv, tmp_path, capsys):
    path, _ = points_csv
    assert main(["embed", str(path), "-o", str(tmp_path / "nowhere" / "o.csv"), "-q"]) == 2
    assert "folder" in capsys.readouterr().err and not (tmp_path / "nowhere").exists()
    (tmp_path / "adir.csv").mkdir()
    assert main(["embed", str(path), "-o", str(tmp_path / "adir.csv"), "-q", "--overwrite"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["embed", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert capsys.readouterr().err == f"geoembed: error: input file not found: {tmp_path / 'missing.csv'}\n"


def test_writing_commands_refuse_existing_outputs_before_working(tmp_path, capsys, monkeypatch):
    existing = tmp_path / "exists.png"
    existing.write_bytes(b"old")

    def no_work(*args, **kwargs):
        raise AssertionError("worked before checking the output")

    monkeypatch.setattr("geoembed.encoders.embedder.GeoEmbedder", no_work)  # demo and map import it when they run
    commands = [
        ["demo", "-o", str(existing)],
        ["map", "-o", str(existing), "--resolution", "30"],
        ["locate-text", "Desert", "--backbone", "no-such/clip", "-o", str(existing)],
        ["locate", str(existing), "--backbone", "no-such/clip", "-o", str(tmp_path / "exists.md")],
    ]
    (tmp_path / "exists.md").write_text("old table")
    for command in commands:
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.startswith("geoembed: error: ") and "already exists; pass --overwrite" in err, command
    assert existing.read_bytes() == b"old" and (tmp_path / "exists.md").read_text() == "old table"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.md", "exists.png"]  # nothing else written


def test_demo_overwrites_only_when_asked(tmp_path, capsys):
    out = tmp_path / "demo.parquet"
    out.write_bytes(b"old")
    assert main(["demo", "-o", str(out), "--cities"]) == 2
    assert out.read_bytes() == b"old"
    assert main(["demo", "-o", str(out), "--cities", "--overwrite"]) == 0
    assert pd.read_parquet(out).shape == (300, 5 + 512)
    with pytest.raises(FileExistsError):
        run_demo(out, [], overwrite=False)
    capsys.readouterr()


def test_eval_geoloc_and_locate_refuse_their_inputs_as_output(tmp_path, capsys):
    csv = tmp_path / "truth.csv"
    csv.write_text("IMG_FILE,LAT,LON\na.jpg,1,2\n")
    before = csv.read_bytes()
    assert main(["eval-geoloc", str(csv), str(tmp_path), "-o", str(csv), "--overwrite"]) == 2
    assert "over the input" in capsys.readouterr().err and csv.read_bytes() == before
    image = tmp_path / "a.jpg"
    image.write_bytes(b"not really")
    assert main(["locate", str(image), "-o", str(image), "--overwrite"]) == 2
    assert "over the input" in capsys.readouterr().err and image.read_bytes() == b"not really"


# -- errors: one line, exit 2 for usage and input errors, 1 otherwise, tracebacks on request -------


@pytest.mark.parametrize(
    "argv, option",
    [
        (["map", "--resolution", "nan"], "--resolution"),
        (["map", "--resolution", "inf"], "--resolution"),
        (["map", "--resolution", "0"], "--resolution"),
        (["map", "--resolution", "-1"], "--resolution"),
        (["map", "--bbox", "0", "0", "nan", "10"], "--bbox"),
        (["embed", "a.csv", "-o", "b.csv", "--chunk-rows", "0"], "--chunk-rows"),
        (["embed", "a.csv", "-o", "b.csv", "--batch-size", "-5"], "--batch-size"),
        (["embed", "a.csv", "-o", "b.csv", "--batch-size", "1.5"], "--batch-size"),
        (["embed", "a.csv", "-o", "b.csv", "--batch-size", "100000000000000000000000"], "--batch-size"),
        (["embed", "a.csv", "-o", "b.csv", "--chunk-rows", "-100000000000000000000000"], "--chunk-rows"),
        (["locate", "a.jpg", "--batch-size", "100000000000000000000000"], "--batch-size"),
        (["distill", "--out", "o", "--n-points", "100000000000000000000000"], "--n-points"),
        (["distill", "--out", "o", "--lr", "1e400"], "--lr"),
        (["locate", "a.jpg", "--top-k", "0"], "--top-k"),
        (["locate-text", "x", "--batch-size", "0"], "--batch-size"),
        (["eval-geoloc", "a.csv", "d", "--limit", "0"], "--limit"),
        (["bench", "nuswide", "--seeds", "0"], "--seeds"),
        (["bench", "nuswide", "--max-epochs", "-1"], "--max-epochs"),
        (["bench", "nuswide", "--miniature-images", "0"], "--miniature-images"),
        (["train", "d.csv", "--epochs", "0"], "--epochs"),
        (["train", "d.csv", "--lr", "nan"], "--lr"),
        (["train", "d.csv", "--lr", "0"], "--lr"),
        (["train", "d.csv", "--batch-size", "1"], "--batch-size"),
        (["train", "d.csv", "--queue-size", "-1"], "--queue-size"),
        (["train", "d.csv", "--sigmas", "1", "inf"], "--sigmas"),
        (["train", "d.csv", "--bbox", "0", "0", "10", "nan"], "--bbox"),
        (["train", "d.csv", "--random-state", "-1"], "--random-state"),
        (["embed"], "input"),
        ([], "command"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(argv, option, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("geoembed: error: ") and err.count("\n") == 1 and option in err


def test_missing_inputs_are_errors_naming_the_file(tmp_path, capsys):
    assert main(["locate", str(tmp_path / "missing.jpg"), "--backbone", "no-such/clip"]) == 2
    assert capsys.readouterr().err == (
        f"geoembed: error: 1 of 1 images cannot be read: {tmp_path / 'missing.jpg'}: no such file or folder\n"
    )
    assert main(["eval-geoloc", str(tmp_path / "gone.csv"), str(tmp_path)]) == 2
    assert "gone.csv" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "gone.parquet"), "--out", str(tmp_path / "run")]) == 2
    assert "gone.parquet" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_locate_names_every_missing_and_unreadable_image_before_loading_a_model(tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(
        "geoembed.cli._commands._locator", lambda args: pytest.fail("a model was loaded before the images were checked")
    )
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(good)
    broken = tmp_path / "a_broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "empty.png").write_bytes(b"")
    missing = tmp_path / "a_missing.jpg"
    assert main(["locate", str(missing), str(broken), str(good), str(folder), "--backbone", "no-such/clip"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("geoembed: error: 3 of 4 images cannot be read: ") and err.count("\n") == 1
    assert f"{missing}: no such file or folder" in err
    assert f"{broken}: unreadable image (UnidentifiedImageError" in err
    assert f"{folder / 'empty.png'}: unreadable image" in err and str(good) not in err


@pytest.mark.parametrize(
    "error, status",
    [
        (ValueError("bad data"), 2),
        (FileNotFoundError("no such file: x"), 2),
        (FileExistsError("x exists"), 2),
        (RuntimeError("out of memory"), 1),
        (PermissionError("denied"), 1),
        (TypeError("a bug"), 1),
        (KeyError("k"), 1),
    ],
)
def test_exit_status_and_message_by_error_type(monkeypatch, capsys, tmp_path, error, status):

    def fail(args):
        raise error

    monkeypatch.setattr("geoembed.cli._parser.demo_command", fail)
    monkeypatch.delenv("GEOEMBED_DEBUG", raising=False)
    assert main(["demo", "-o", str(tmp_path / "d.parquet")]) == status
    err = capsys.readouterr().err
    assert err.startswith("geoembed: error: ") and err.count("\n") == 1 and "Traceback" not in err
    if status == 1:
        assert type(error).__name__ in err or str(error) in err
        assert "--debug" in err


def test_debug_switches_reraise(monkeypatch, tmp_path):

    def fail(args):
        raise ValueError("bad data")

    monkeypatch.setattr("geoembed.cli._parser.demo_command", fail)
    out = str(tmp_path / "d.parquet")
    for argv in (["--debug", "demo", "-o", out], ["demo", "-o", out, "--debug"]):
        with pytest.raises(ValueError, match="bad data"):
            main(argv)
    monkeypatch.setenv("GEOEMBED_DEBUG", "1")
    with pytest.raises(ValueError, match="bad data"):
        main(["demo", "-o", out])
    monkeypatch.setenv("GEOEMBED_DEBUG", "0")
    assert main(["demo", "-o", out]) == 2


def test_train_refuses_a_non_empty_checkpoint_folder(tmp_path, capsys):
    data = tmp_path / "pairs.csv"
    pd.DataFrame({"lat": [0.0, 1.0], "lon": [0.0, 1.0], "f0": [1.0, 2.0]}).to_csv(data, index=False)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    assert main(["train", str(data), "--out", str(run), "-q"]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--overwrite" in err and (run / "config.json").read_text() == "{}"


def test_every_option_has_help_with_defaults_and_every_command_an_example(capsys):
    import argparse

    from geoembed import __version__
    from geoembed.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])
    assert capsys.readouterr().out.strip() == f"geoembed {__version__}"

    def commands(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, command in action.choices.items():
                    yield name, command
                    yield from commands(command)

    for name, command in commands(build_parser()):
        if any(isinstance(a, argparse._SubParsersAction) for a in command._actions):
            continue  # a command group: its members are checked
        assert command.epilog and "example" in command.epilog, name
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
        text = command.format_help()
        if "--top-k" in text:
            assert "(default: 5)" in text
    assert (
        "text queries per CLIP forward pass"
        in build_parser()._subparsers._group_actions[0].choices["locate-text"].format_help()
    )


def test_demo_and_map_run_twice_replacing_their_own_default_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a demo should just run, again and again
        assert main(["demo", "--cities", "Cairo"]) == 0, capsys.readouterr().err
        assert "Wrote geoembed_demo.parquet" in capsys.readouterr().out
    assert pd.read_parquet(tmp_path / "geoembed_demo.parquet").shape == (300, 5 + 512)
    pytest.importorskip("matplotlib")
    for _ in range(2):
        assert main(["map", "--resolution", "30", "-q", "--encoder", "wrap"]) == 0, capsys.readouterr().err
    assert (tmp_path / "geoembed_map.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["geoembed_demo.parquet", "geoembed_map.png"]


def test_embed_column_errors_name_the_cli_options_and_come_before_the_progress_bar(tmp_path, capsys):
    path = tmp_path / "p.csv"
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_csv(path, index=False)
    for extra, option in [
        ([], "--lat-col NAME"),
        (["--lat-col", "a"], "--lon-col NAME"),
        (["--lat-col", "x"], "--lat-col"),
    ]:
        assert main(["embed", str(path), "-o", str(tmp_path / "o.parquet"), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("geoembed: error: ") and option in err and "_col" not in err, err
        assert "embedding" not in err and err.count("\n") == 1  # no progress bar drawn before the error
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    assert main(["embed", str(bad), "-o", str(tmp_path / "o.npy")]) != 0
    assert "embedding" not in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "p.csv"]


def test_embed_and_map_take_the_same_encoder_options_with_the_same_defaults(points_csv, tmp_path, capsys):
    from geoembed.cli import build_parser

    path, _ = points_csv
    for command in (["embed", str(path), "-o", "x.parquet"], ["map"]):
        args = build_parser().parse_args(command)
        assert (args.encoder, args.weights, args.precision) == ("geoclip", None, "exact"), command
    assert main(["embed", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "geoclip-lite (the fast choice" in help_text and "fast (bfloat16" in help_text
    out = tmp_path / "sphere.parquet"
    assert main(["embed", str(path), "-o", str(out), "--encoder", "sphereC+", "-q"]) == 0
    assert pq.read_schema(out).names[3] == "sphereCplus_s0_sin_phi"
    lite = tmp_path / "lite.parquet"
    assert main(["embed", str(path), "-o", str(lite), "--weights", "geoclip-lite", "--drop-input-columns", "-q"]) == 0
    assert pq.read_schema(lite).names[:2] == ["geoclip_lite_0", "geoclip_lite_1"]
    for extra, message in [
        (["--encoder", "sphereC+", "--weights", "geoclip-lite"], "--weights geoclip-lite does not apply to --encoder"),
        (["--encoder", "sphereC+", "--precision", "fast"], "--precision fast does not apply to --encoder sphereC+"),
        (["--encoder", "nope"], "--encoder: unknown encoder 'nope'"),
        (
            ["--encoder", "geoclip-lite"],
            "'geoclip-lite' names weights of the 'geoclip' encoder: pass --weights geoclip-lite",
        ),
    ]:
        assert main(["embed", str(path), "-o", str(tmp_path / "no.parquet"), *extra]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "no.parquet").exists()


def test_warnings_from_inside_the_cli_are_one_line_naming_no_source_file(monkeypatch, capsys, tmp_path):
    import warnings

    from geoembed.cli import _app as cli

    def deprecated(args):
        warnings.warn("--old is deprecated; use --new", FutureWarning, stacklevel=2)
        warnings.warn("the cache folder is not writable", UserWarning, stacklevel=2)
        return 0

    monkeypatch.setattr("geoembed.cli._parser.demo_command", deprecated)
    assert main(["demo", "-o", str(tmp_path / "d.parquet")]) == 0
    assert capsys.readouterr().err == (
        "geoembed: warning: --old is deprecated; use --new\ngeoembed: warning: the cache folder is not writable\n"
    )
    assert warnings.showwarning is not cli._show_warning  # restored after the command


def test_map_refuses_an_encoder_with_fewer_than_three_features_before_embedding(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("geoembed.grid.embed_grid", lambda *a, **k: pytest.fail("the grid was embedded"))
    assert main(["map", "--encoder", "direct", "-o", str(tmp_path / "m.png"), "-q"]) == 2
    assert "--encoder direct gives 2 features; a map shows 3 principal components" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()


def test_eval_geoloc_with_a_wrong_image_folder_fails_before_a_model_loads(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "truth.csv"
    csv.write_text("IMG_FILE,LAT,LON\na.jpg,1,2\nb.jpg,3,4\n")
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr("geoembed.cli._commands._locator", lambda args: pytest.fail("a model was loaded"))
    assert main(["eval-geoloc", str(csv), str(tmp_path / "empty")]) == 2
    assert "none of the 2 images of" in capsys.readouterr().err


def test_embed_takes_n_components_and_refuses_options_that_would_change_nothing(points_csv, tmp_path, capsys):
    path, frame = points_csv
    out = tmp_path / "out.parquet"
    assert main(["embed", str(path), "-o", str(out), "--weights", "geoclip-lite", "--n-components", "16", "-q"]) == 0
    table = pd.read_parquet(out)
    expected = GeoEmbedder(weights="geoclip-lite", n_components=16).fit_transform(frame)
    # the same model on the same points: the float32 rounding of a projection of 512 columns, at most
    np.testing.assert_allclose(
        table.iloc[:, 3:].to_numpy(), expected, rtol=0, atol=64 * FLOAT32_UNIT_ROUNDOFF * np.abs(expected).max()
    )
    for extra, message in [
        (["--points-per-region", "8"], "--points-per-region applies to --regions only"),
        (["--interpolation-cache-gb", "3"], "--interpolation-cache-gb applies to --interpolation-km only"),
    ]:
        assert main(["embed", str(path), "-o", str(tmp_path / "x.npy"), "-q", *extra]) == 2
        assert capsys.readouterr().err == f"geoembed: error: {message}\n"
    assert not (tmp_path / "x.npy").exists()


def test_messages_of_the_library_name_the_command_line_options(tmp_path, capsys):
    frame = pd.DataFrame({"lat": [10.0, 20.0], "lon": [5.0, 200.0]})
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    assert main(["embed", str(path), "-o", str(tmp_path / "o.npy"), "--encoder", "cartesian3d", "-q"]) == 2
    err = capsys.readouterr().err
    assert "Pass --wrap-longitude to wrap" in err and "wrap_longitude" not in err
    assert main(["embed", str(path), "-o", str(tmp_path / "o.npy"), "--interpolation-km", "1e-9", "-q"]) == 2
    assert capsys.readouterr().err.startswith("geoembed: error: --interpolation-km must be")
    argv = ["embed", str(path), "-o", str(tmp_path / "o.npy"), "--encoder", "cartesian3d", "--on-invalid", "nan"]
    assert main([*argv, "-q"]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 rows (50%) have invalid coordinates" in err and "(--on-invalid nan)" in err
    from geoembed.cli._app import _cli_spelling

    text = "interpolation_km=0.5: cache (interpolation_cache_gb=2: ...) use n_components, or interpolation_km=None"
    assert _cli_spelling(text) == (
        "--interpolation-km 0.5: cache (--interpolation-cache-gb 2: ...) use --n-components, or without "
        "--interpolation-km"
    )
    for untouched in [
        "see runs/interpolation_km/a.csv",
        "got columns ['n_components', 'interpolation_km']",
        "input file not found: n_components.csv",
        "runs/exp--batch_size_2/pts.csv",
    ]:
        assert _cli_spelling(untouched) == untouched
    assert _cli_spelling("on_invalid='raise' refuses them, on_invalid='nan' gives NaN rows") == (
        "--on-invalid raise refuses them, --on-invalid nan gives NaN rows"
    )


def test_embed_reads_projected_columns_of_a_table_with_crs(tmp_path, capsys):
    from pyproj import Transformer

    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(49.5, 51.0, 40), rng.uniform(-5.0, 1.0, 40)  # southern Britain
    easting, northing = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
    path = tmp_path / "grid.csv"
    pd.DataFrame({"ref": np.arange(40), "easting": easting, "northing": northing}).to_csv(path, index=False)
    out = tmp_path / "out.parquet"
    assert main(["embed", str(path), "-o", str(out), "--crs", "EPSG:27700", "--encoder", "cartesian3d", "-q"]) == 0
    table = pd.read_parquet(out)
    back_lon, back_lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(easting, northing)
    assert np.abs(back_lat - lat).max() < 1e-3  # the same places (pipelines may differ by metres)
    expected = GeoEmbedder(encoder="cartesian3d").fit_transform(np.column_stack([back_lat, back_lon]))
    np.testing.assert_allclose(table.iloc[:, 3:].to_numpy(), expected, rtol=0, atol=8 * FLOAT32_UNIT_ROUNDOFF)
    # without --crs the metres are named as such, with the option that reads them
    assert (
        main(["embed", str(path), "-o", str(tmp_path / "o.npy"), "--lat-col", "northing", "--lon-col", "easting"]) == 2
    )
    err = capsys.readouterr().err
    assert "coordinates must be degrees" in err and "with --crs" in err
    # without --crs and without naming columns: easting/northing are recognised as projected
    assert main(["embed", str(path), "-o", str(tmp_path / "o.npy")]) == 2
    assert "columns ['easting', 'northing'] look like projected coordinates: pass their CRS with --crs" in (
        capsys.readouterr().err
    )
    assert main(["embed", str(path), "-o", str(tmp_path / "o.npy"), "--x-col", "easting"]) == 2
    assert (
        capsys.readouterr().err
        == "geoembed: error: --x-col and --y-col name projected columns: give their --crs as well\n"
    )


@pytest.mark.parametrize("native", [False, True])
def test_precision_fast_says_when_this_cpu_runs_it_in_float32(points_csv, tmp_path, capsys, monkeypatch, native):
    # on a CPU without native bfloat16 (AVX2 only) fast is exact's float32 path: the user hears it
    import geoembed.models.kernels as kernels

    monkeypatch.setattr(kernels, "bfloat16_is_fast", lambda device: native)
    path, frame = points_csv
    out = tmp_path / "fast.npy"
    assert main(["embed", str(path), "-o", str(out), "--precision", "fast", "-q"]) == 0
    err = capsys.readouterr().err
    said = "geoembed: warning: --precision fast runs in float32 on this CPU" in err
    assert said is not native
    if not native:  # and what it runs is then float32: within the float32 bound of the float64 reference
        assert_geoclip_close(np.load(out), frame[["Latitude", "Longitude"]].to_numpy())
    assert main(["embed", str(path), "-o", str(tmp_path / "exact.npy"), "-q"]) == 0
    assert "runs in float32" not in capsys.readouterr().err
