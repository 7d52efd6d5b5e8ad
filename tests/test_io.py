"""geoembed.io: chunked table readers and writers, Zarr grids, and atomic writes."""

import os
import stat
import tempfile

import numpy as np
import pandas as pd
import pytest
from numerics import FLOAT32_UNIT_ROUNDOFF

from geoembed import GeoEmbedder
from geoembed.files import embed_file
from geoembed.io import (
    ChunkWriter,
    ZarrGridWriter,
    atomic_output,
    count_csv_rows,
    iter_input_chunks,
    open_grid,
    read_table,
)
from geoembed.io.paths import check_output_path, same_file

SUFFIXES = [".parquet", ".csv", ".npy"]
#: cartesian3d's unit xyz (|v| <= 1) computed in float32 and stored: a few roundings of 1 at most
XYZ_TOLERANCE = 8 * FLOAT32_UNIT_ROUNDOFF


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def read_output(path):
    if path.suffix == ".npy":
        return np.load(path)
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    return table[["xyz_x", "xyz_y", "xyz_z"]].to_numpy()


@pytest.fixture()
def points(tmp_path):
    """30 valid points in a CSV, and the same table."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"id": np.arange(30), "lat": rng.uniform(-80, 80, 30), "lon": rng.uniform(-180, 180, 30)})
    path = tmp_path / "in" / "points.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    return path, frame


# -- atomic_output -----------------------------------------------------------------------------


def test_atomic_file_appears_only_on_success(tmp_path):
    target = tmp_path / "table.csv"
    with atomic_output(target) as temporary:
        assert temporary.parent == tmp_path and temporary.exists() and not target.exists()
        assert temporary.name.startswith(".table.csv.") and temporary.name.endswith(".tmp.csv")
        temporary.write_text("a\n1\n")
    assert target.read_text() == "a\n1\n" and listing(tmp_path) == ["table.csv"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()  # not tempfile's private 0600


def test_atomic_outputs_get_the_umask_permissions_back_from_private_writers(tmp_path):
    """safetensors' save_file (and anything on tempfile) renames a private 0600 file over the
    path it is given; the committed output still has the permissions of the user's umask."""
    from safetensors.numpy import save_file

    expected = 0o666 & ~_umask()
    with atomic_output(tmp_path / "weights.safetensors") as temporary:
        save_file({"w": np.zeros(3, dtype=np.float32)}, str(temporary))
    assert stat.S_IMODE((tmp_path / "weights.safetensors").stat().st_mode) == expected

    with atomic_output(tmp_path / "checkpoint", directory=True) as folder:
        handle, private = tempfile.mkstemp(dir=folder)
        os.close(handle)
        os.replace(private, folder / "model.bin")
        os.replace(tempfile.mkdtemp(dir=folder), folder / "sub")  # a private 0700 folder
        (folder / "sub" / "run.sh").write_text("echo")
        os.chmod(folder / "sub" / "run.sh", 0o700)
        outside = tmp_path / "outside.txt"
        outside.write_text("not part of the output")
        os.chmod(outside, 0o600)
        (folder / "link").symlink_to(outside)
    assert stat.S_IMODE((tmp_path / "checkpoint" / "model.bin").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "checkpoint" / "sub").stat().st_mode) == 0o777 & ~_umask()
    assert stat.S_IMODE((tmp_path / "checkpoint" / "sub" / "run.sh").stat().st_mode) == 0o700 | expected
    assert stat.S_IMODE(outside.stat().st_mode) == 0o600  # a link's target is not the output's to change


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_atomic_file_failure_keeps_the_old_target_and_no_temporary(tmp_path, error):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(error):
        with atomic_output(target) as temporary:
            temporary.write_text("half")
            raise error("stop")
    assert target.read_text() == "old" and listing(tmp_path) == ["table.csv"]


def test_atomic_directory_replaces_an_existing_one_only_when_complete(tmp_path):
    target = tmp_path / "store.zarr"
    target.mkdir()
    (target / "old").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target, directory=True) as temporary:
            assert temporary.is_dir() and temporary.name.endswith(".tmp.zarr")
            (temporary / "new").write_text("new")
            raise RuntimeError("stop")
    assert listing(target) == ["old"] and listing(tmp_path) == ["store.zarr"]
    with atomic_output(target, directory=True) as temporary:
        (temporary / "sub").mkdir()
        (temporary / "sub" / "new").write_text("new")
    assert listing(target) == ["sub"] and (target / "sub" / "new").read_text() == "new"
    assert listing(tmp_path) == ["store.zarr"]  # the old folder was removed after the swap


def test_atomic_refuses_to_overwrite_when_asked(tmp_path):
    target = tmp_path / "out.npy"
    target.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite"):
        with atomic_output(target, overwrite=False):
            pytest.fail("the block must not run")
    assert target.read_bytes() == b"keep" and listing(tmp_path) == ["out.npy"]
    output = atomic_output(tmp_path / "late.csv", overwrite=False)
    output.open().write_text("new")
    (tmp_path / "late.csv").write_text("someone else's")  # appeared while writing
    with pytest.raises(FileExistsError):
        output.commit()
    assert (tmp_path / "late.csv").read_text() == "someone else's" and listing(tmp_path) == ["late.csv", "out.npy"]


def test_atomic_needs_an_existing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_output(tmp_path / "missing" / "x.csv").open()


def test_atomic_output_keeps_the_suffix_for_writers_that_use_it(tmp_path):
    with atomic_output(tmp_path / "array.npy") as temporary:
        np.save(temporary, np.arange(3))  # np.save appends .npy to any other name
    np.testing.assert_array_equal(np.load(tmp_path / "array.npy"), np.arange(3))
    assert listing(tmp_path) == ["array.npy"]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# -- readers -----------------------------------------------------------------------------------


def test_count_csv_rows(tmp_path):
    for text, n in [("a,b\n1,2\n3,4\n", 2), ("a,b\n1,2\n3,4", 2), ("a,b\n", 0), ("", 0)]:
        (tmp_path / "c.csv").write_text(text)
        assert count_csv_rows(tmp_path / "c.csv") == n


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_iter_input_chunks_gives_the_count_then_bounded_chunks(points, suffix):
    path, frame = points
    if suffix == ".parquet":
        path = path.with_suffix(".parquet")
        frame.to_parquet(path, index=False)
    chunks = iter_input_chunks(path, 7)
    assert next(chunks) == 30
    pieces = list(chunks)
    assert [len(p) for p in pieces] == [7, 7, 7, 7, 2]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), frame, check_exact=False)
    pd.testing.assert_frame_equal(read_table(path), frame, check_exact=False)


def test_iter_input_chunks_rejects_other_formats(tmp_path):
    with pytest.raises(ValueError, match="unsupported input format '.xlsx'"):
        next(iter_input_chunks(tmp_path / "x.xlsx", 10))


# -- ChunkWriter -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_chunk_writer_round_trip(tmp_path, suffix):
    values = np.arange(20, dtype=np.float32).reshape(10, 2)
    passthrough = pd.DataFrame({"id": np.arange(10)})
    path = tmp_path / f"out{suffix}"
    with ChunkWriter(path, 10, ["f0", "f1"], "float32") as writer:
        writer.write(values[:6], passthrough.iloc[:6])
        assert not path.exists()  # rows go to a temporary file until close
        writer.write(values[6:], passthrough.iloc[6:])
    assert listing(tmp_path) == [path.name]
    if suffix == ".npy":
        np.testing.assert_array_equal(np.load(path), values)
    else:
        table = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
        assert list(table.columns) == ["id", "f0", "f1"] and list(table["id"]) == list(range(10))
        np.testing.assert_array_equal(table[["f0", "f1"]].to_numpy(np.float32), values)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_chunk_writer_without_rows_writes_a_valid_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    ChunkWriter(path, 0, ["f0", "f1"], "float32").close()
    if suffix == ".npy":
        assert np.load(path).shape == (0, 2)
    else:
        table = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
        assert list(table.columns) == ["f0", "f1"] and len(table) == 0


def test_chunk_writer_npy_row_count_mismatch_leaves_no_file(tmp_path):
    path = tmp_path / "short.npy"
    writer = ChunkWriter(path, 5, ["f0"], "float32")
    writer.write(np.zeros((3, 1)), None)
    with pytest.raises(ValueError, match="wrote 3 rows .* expected 5"):
        writer.close()
    assert listing(tmp_path) == []


def test_chunk_writer_interrupted_leaves_no_file(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        with ChunkWriter(path, 4, ["f0"], "float32") as writer:
            writer.write(np.zeros((2, 1)), None)
            raise KeyboardInterrupt
    assert listing(tmp_path) == []


def test_chunk_writer_rejects_unknown_formats_before_writing(tmp_path):
    with pytest.raises(ValueError, match="unsupported output format '.xlsx'"):
        ChunkWriter(tmp_path / "o.xlsx", 1, ["f0"], "float32")
    with pytest.raises(ValueError, match="known row count"):
        ChunkWriter(tmp_path / "o.npy", None, ["f0"], "float32")
    assert listing(tmp_path) == []


# -- embed_file --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_embed_file_success_leaves_exactly_the_output(points, suffix):
    path, frame = points
    out = path.parent / f"out{suffix}"
    assert embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d") == 30
    assert listing(path.parent) == sorted([path.name, out.name])
    expected = GeoEmbedder(encoder="cartesian3d").fit_transform(frame)
    np.testing.assert_allclose(read_output(out), expected, atol=1e-6)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_embed_file_bad_row_in_the_last_chunk_leaves_no_output(points, suffix):
    path, frame = points
    frame.loc[29, "lat"] = 95.0  # the last of 4 chunks of 8 rows
    frame.to_csv(path, index=False)
    out = path.parent / f"out{suffix}"
    with pytest.raises(ValueError, match=r"rows \[29\] have 95"):
        embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d")
    assert not out.exists()
    assert listing(path.parent) == [path.name]  # no temporary file left behind


def test_embed_file_failure_keeps_a_previous_output(points):
    path, frame = points
    out = path.parent / "out.csv"
    out.write_text("previous run\n")
    frame.loc[29, "lat"] = 95.0
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError):
        embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d")
    assert out.read_text() == "previous run\n" and listing(path.parent) == sorted([path.name, out.name])


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_embed_file_overwrite_false_refuses_before_reading(points, suffix, monkeypatch):
    path, _ = points
    out = path.parent / f"out{suffix}"
    out.write_bytes(b"previous")

    def unread(*args, **kwargs):
        raise AssertionError("read the input")

    with monkeypatch.context() as m:
        m.setattr("geoembed.files.iter_input_chunks", unread)
        with pytest.raises(FileExistsError, match="overwrite=True"):
            embed_file(path, out, progress=False, overwrite=False, encoder="cartesian3d")
    assert out.read_bytes() == b"previous"
    # the library default replaces an existing output (once the new one is complete), as pandas and numpy do
    assert embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d") == 30
    assert read_output(out).shape == (30, 3) and listing(path.parent) == sorted([path.name, out.name])


@pytest.mark.parametrize("overwrite", [True, False])
def test_embed_file_never_writes_over_its_input(points, overwrite):
    path, _ = points
    before = path.read_bytes()
    (path.parent / "link.csv").symlink_to(path)
    os.link(path, path.parent / "hard.csv")
    for out in (path, path.parent / "link.csv", path.parent / "hard.csv", path.parent / "." / "x" / ".." / path.name):
        with pytest.raises(ValueError, match="over the input"):
            embed_file(path, out, progress=False, overwrite=overwrite, encoder="cartesian3d")
    assert path.read_bytes() == before and listing(path.parent) == ["hard.csv", "link.csv", "points.csv"]


def test_embed_file_missing_input_or_output_folder(points, tmp_path):
    path, _ = points
    with pytest.raises(FileNotFoundError, match="input file not found"):
        embed_file(tmp_path / "nope.csv", tmp_path / "o.csv", progress=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        embed_file(path, tmp_path / "no" / "o.csv", progress=False)
    with pytest.raises(ValueError, match="unsupported output format"):
        embed_file(path, tmp_path / "o.xlsx", progress=False)
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.xlsx").exists()


def test_same_file_and_check_output_path(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x")
    b.write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(a)
    os.link(a, tmp_path / "hard")
    assert same_file(a, tmp_path / "link") and same_file(a, tmp_path / "hard") and same_file(a, a)
    assert same_file(tmp_path / "sub" / ".." / "new.csv", tmp_path / "new.csv")  # neither exists
    assert not same_file(a, b) and not same_file(a, tmp_path / "new.csv")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert not same_file(loop, a)
    assert check_output_path(tmp_path / "new.csv", [a, None]) == tmp_path / "new.csv"
    assert check_output_path(b, [a]) == b  # overwrite=True by default
    with pytest.raises(FileExistsError, match="--overwrite"):
        check_output_path(b, [a], overwrite=False, overwrite_hint="--overwrite")
    with pytest.raises(FileExistsError):
        check_output_path(tmp_path / "link", overwrite=False)  # a symlink counts as existing
    with pytest.raises(ValueError, match="over the input"):
        check_output_path(tmp_path / "link", [a])
    with pytest.raises(IsADirectoryError):
        check_output_path(tmp_path / "sub")
    assert check_output_path(tmp_path / "sub", directory=True) == tmp_path / "sub"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "o.csv")


def test_writers_can_refuse_an_existing_target(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("old")
    with pytest.raises(FileExistsError):
        ChunkWriter(out, 1, ["f0"], "float32", overwrite=False)
    assert out.read_text() == "old" and listing(tmp_path) == ["o.csv"]


# -- Zarr grids --------------------------------------------------------------------------------


@pytest.fixture()
def grid_values():
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    lat, lon = np.array([-10.0, 0.0, 10.0]), np.array([170.0, -170.0])  # a grid may wrap in longitude
    values = np.arange(3 * 2 * 4, dtype=np.float32).reshape(3, 2, 4)
    return lat, lon, ["a", "b", "c", "d"], values


def test_zarr_grid_writer_round_trip(tmp_path, grid_values):
    lat, lon, names, values = grid_values
    path = tmp_path / "g.zarr"
    with ZarrGridWriter(path, lat, lon, names, dtype="float32", rows_per_band=2, attrs={"note": 1}) as writer:
        writer.write_band(slice(0, 2), values[:2])
        assert not path.exists()
        writer.write_band(slice(2, 3), values[2:])
    grid = open_grid(path)
    assert grid.dims == ("lat", "lon", "feature") and list(grid.feature.values) == names
    np.testing.assert_array_equal(grid.lon.values, lon)
    np.testing.assert_array_equal(grid.values, values)
    assert grid.attrs["note"] == 1 and listing(tmp_path) == ["g.zarr"]


def test_zarr_grid_writer_failure_keeps_the_old_store(tmp_path, grid_values):
    lat, lon, names, values = grid_values
    path = tmp_path / "g.zarr"
    with ZarrGridWriter(path, lat, lon, names, dtype="float32", rows_per_band=2) as writer:
        for start in (0, 2):
            writer.write_band(slice(start, start + 2), values[start : start + 2])
    with pytest.raises(RuntimeError):
        with ZarrGridWriter(path, lat, lon, names, dtype="float32", rows_per_band=2) as writer:
            writer.write_band(slice(0, 2), values[:2] + 100)
            raise RuntimeError("interrupted")
    np.testing.assert_array_equal(open_grid(path).values, values)
    assert listing(tmp_path) == ["g.zarr"]


def test_zarr_grid_writer_needs_a_zarr_suffix(tmp_path, grid_values):
    lat, lon, names, _ = grid_values
    with pytest.raises(ValueError, match=".zarr"):
        ZarrGridWriter(tmp_path / "g.nc", lat, lon, names, dtype="float32", rows_per_band=1)
    assert listing(tmp_path) == []


def test_zarr_grid_writer_can_refuse_an_existing_store(tmp_path, grid_values):
    lat, lon, names, values = grid_values
    path = tmp_path / "g.zarr"
    with ZarrGridWriter(path, lat, lon, names, dtype="float32", rows_per_band=3) as writer:
        writer.write_band(slice(0, 3), values)
    with pytest.raises(FileExistsError):
        ZarrGridWriter(path, lat, lon, names, dtype="float32", rows_per_band=3, overwrite=False)
    np.testing.assert_array_equal(open_grid(path).values, values)
    assert listing(tmp_path) == ["g.zarr"]


# -- embed_file: the first pass over the rows, and what the output keeps -----------------------


def _count_transforms(monkeypatch):
    calls = []
    original = GeoEmbedder.transform

    def counting(self, X):
        calls.append(len(X))
        return original(self, X)

    monkeypatch.setattr(GeoEmbedder, "transform", counting)
    return calls


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_embed_file_reports_every_invalid_row_before_embedding_any(points, suffix, monkeypatch):
    path, frame = points
    frame.loc[2, "lat"] = np.nan  # first chunk
    frame.loc[29, "lon"] = 500.0  # last chunk
    source = path.with_suffix(suffix)
    frame.to_parquet(source) if suffix == ".parquet" else frame.to_csv(source, index=False)
    calls = _count_transforms(monkeypatch)
    with pytest.raises(ValueError, match=r"rows \[2\] have nan.*rows \[29\] have 500 in column 'lon'"):
        embed_file(source, path.parent / "out.parquet", chunk_rows=8, progress=False, encoder="cartesian3d")
    assert calls == [] and not (path.parent / "out.parquet").exists()
    # under on_invalid="nan": a warning with their count, and NaN rows in place
    with pytest.warns(UserWarning, match=r"2 of 30 rows \(6.67%\) have invalid coordinates.*rows 2, 29"):
        embed_file(
            source, path.parent / "out.npy", chunk_rows=8, progress=False, encoder="cartesian3d", on_invalid="nan"
        )
    out = np.load(path.parent / "out.npy")
    assert np.isnan(out[[2, 29]]).all() and not np.isnan(np.delete(out, [2, 29], axis=0)).any()


def test_embed_file_reads_each_csv_column_with_one_type_in_every_chunk(points):
    path, frame = points
    # postcodes read as integers in the first chunks, one holding text later; integers then decimals;
    # a column empty in the first chunks
    frame["code"] = [str(10000 + i) for i in range(30)]
    frame.loc[25, "code"] = "2A004"
    frame["count"] = np.arange(30)  # integers in the first chunks
    frame["count"] = frame["count"].astype(object)
    frame.loc[20, "count"] = 0.5  # a decimal in the third
    frame["flag"] = pd.Series([True, False] * 15, dtype=object)
    frame.loc[27, "flag"] = None  # booleans with a gap in the last chunk
    frame["note"] = pd.Series([None] * 30, dtype=object)
    frame.loc[28, "note"] = "corner"
    frame.to_csv(path, index=False)
    out = path.parent / "out.parquet"
    assert embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d") == 30
    table = pd.read_parquet(out)
    assert table["code"].tolist() == frame["code"].tolist()  # as text throughout, "10000" as it was
    assert table["count"].dtype == np.float64 and table["count"].tolist() == frame["count"].astype(float).tolist()
    assert str(table["flag"].dtype) == "boolean" and table["flag"].isna().tolist() == [i == 27 for i in range(30)]
    assert table.loc[28, "note"] == "corner" and table["note"].isna().sum() == 29
    np.testing.assert_allclose(
        read_output(out), GeoEmbedder(encoder="cartesian3d").fit_transform(frame), atol=8 * FLOAT32_UNIT_ROUNDOFF
    )  # unit xyz in float32


@pytest.mark.parametrize("sep", [",", ";"])
def test_embed_file_carries_a_csvs_identifiers_exactly(points, sep):
    """Number-like text is not a number: postcodes keep their leading zeros, an int64 identifier
    beyond 2**53 with a gap stays exact (it was rounded through float64), and CSV output copies
    the text as written.
    """
    path, frame = points
    lines = [sep.join(["lat", "lon", "postcode", "big", "price", "ok", "note"])]
    for i, (lat, lon) in enumerate(zip(frame["lat"], frame["lon"])):
        decimal = lambda v: f"{v:.6f}".replace(".", "," if sep == ";" else ".")  # noqa: E731
        big = "" if i == 29 else str(2**62 + 7 * i)  # a gap in the last chunk
        note = '"two\nlines"' if i == 3 else decimal(1.1)[:-4]  # "1.10" or "1,10"; a quoted newline is not a row
        fields = [decimal(lat), decimal(lon), f"{i:05d}", big, decimal(i + 0.5), "TRUE" if i % 2 else "false", note]
        lines.append(sep.join(fields))
    path.write_text("\n".join(lines) + "\n")
    out = path.parent / "out.parquet"
    assert embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d") == 30
    table = pd.read_parquet(out)
    assert table["postcode"].tolist() == [f"{i:05d}" for i in range(30)]
    assert str(table["big"].dtype) == "Int64" and table["big"].tolist()[:29] == [2**62 + 7 * i for i in range(29)]
    assert table["big"].isna().tolist() == [i == 29 for i in range(30)]
    assert table["price"].dtype == np.float64 and table["price"].tolist() == [i + 0.5 for i in range(30)]
    assert table["ok"].dtype == bool and table["ok"].tolist() == [bool(i % 2) for i in range(30)]
    ten = "1,10" if sep == ";" else "1.10"
    assert table.loc[3, "note"] == "two\nlines" and table.loc[4, "note"] == ten
    np.testing.assert_allclose(
        read_output(out), GeoEmbedder(encoder="cartesian3d").fit_transform(frame), atol=8 * FLOAT32_UNIT_ROUNDOFF
    )
    # to CSV: the text as written (the coordinates, which are read as numbers, aside)
    out_csv = path.parent / "out.csv"
    embed_file(path, out_csv, chunk_rows=8, progress=False, encoder="cartesian3d")
    text = pd.read_csv(out_csv, dtype=str, sep=",")
    assert text["postcode"].tolist() == [f"{i:05d}" for i in range(30)]
    assert text["big"].tolist()[:29] == [str(2**62 + 7 * i) for i in range(29)] and pd.isna(text["big"][29])
    assert text.loc[4, "note"] == ten and text.loc[1, "ok"] == "TRUE"
    if sep == ";":  # numbers with decimal commas are written back with the output's "." decimals
        assert pd.read_csv(out_csv)["price"].tolist() == [i + 0.5 for i in range(30)]
    # to npy: as many rows as the file holds, not as many lines
    assert embed_file(path, path.parent / "out.npy", chunk_rows=8, progress=False, encoder="cartesian3d") == 30
    assert np.load(path.parent / "out.npy").shape == (30, 3)


def test_embed_file_gives_parquet_one_type_per_column_whatever_a_chunk_holds(tmp_path):
    """Whole metres in one chunk and a decimal or a gap in the next are float64 throughout;
    integers beyond int64 stay text (float64 would round them); in a decimal-comma file, 1.234
    (a thousands dot) is not a number; a column of gaps in one chunk keeps its string type.
    """
    path = tmp_path / "grid.csv"
    path.write_text(
        "easting,northing,huge,note,odd\n"
        "500000,5400000,12345678901234567890123,,1.5\n"
        "510000,5410000,12345678901234567890125,,2\n"
        "510000.5,,18446744073709551615,x,3\n"
        "520000,5420000,7,y,12345678901234567890123\n"
    )
    out = tmp_path / "out.parquet"
    embed_file(path, out, chunk_rows=2, progress=False, encoder="direct", crs=25832, on_invalid="nan")
    table = pd.read_parquet(out)
    assert table["easting"].dtype == np.float64 and table["northing"].dtype == np.float64
    assert table["huge"].tolist() == ["12345678901234567890123", "12345678901234567890125", "18446744073709551615", "7"]
    assert table["note"].isna().tolist() == [True, True, False, False]
    assert table["odd"].tolist() == ["1.5", "2", "3", "12345678901234567890123"]  # whatever the chunks
    comma = tmp_path / "comma.csv"
    comma.write_text("lat;lon;people;area\n48,85;2,35;1.234;12,5\n50,1;8,6;56.789;3,25\n")
    embed_file(comma, out, progress=False, encoder="direct")
    table = pd.read_parquet(out)
    assert table["people"].tolist() == ["1.234", "56.789"] and table["area"].tolist() == [12.5, 3.25]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_embed_file_keeps_a_parquet_inputs_named_index(points, suffix):
    path, frame = points
    named = frame.assign(site=[f"s{i}" for i in range(30)]).set_index("site")
    source = path.with_suffix(".parquet")
    named.to_parquet(source)
    out = path.parent / f"out{suffix}"
    embed_file(source, out, chunk_rows=8, progress=False, encoder="cartesian3d")
    table = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out, index_col="site")
    assert table.index.name == "site" and table.index.tolist() == named.index.tolist()
    assert table.columns[:3].tolist() == ["id", "lat", "lon"]
    # a plain row numbering stays implicit
    frame.to_parquet(source)
    embed_file(source, out, chunk_rows=8, progress=False, encoder="cartesian3d", overwrite=True)
    table = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert table.index.tolist() == list(range(30)) and "site" not in table and "Unnamed: 0" not in table


def test_embed_file_reads_semicolon_separated_csv(points):
    path, frame = points
    frame.to_csv(path, index=False, sep=";")
    out = path.parent / "out.csv"
    assert embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d") == 30
    np.testing.assert_allclose(
        read_output(out), GeoEmbedder(encoder="cartesian3d").fit_transform(frame), atol=8 * FLOAT32_UNIT_ROUNDOFF
    )  # unit xyz in float32


def test_embed_file_refuses_input_columns_named_like_the_embedding_before_embedding(points, monkeypatch):
    path, frame = points
    frame.assign(xyz_y=1.0).to_csv(path, index=False)
    calls = _count_transforms(monkeypatch)
    with pytest.raises(ValueError, match=r"input columns \['xyz_y'\] clash with the embedding's names"):
        embed_file(path, path.parent / "out.parquet", chunk_rows=8, progress=False, encoder="cartesian3d")
    assert calls == []
    # without the input columns there is nothing to clash with
    embed_file(path, path.parent / "out.npy", chunk_rows=8, progress=False, encoder="cartesian3d")


def test_projected_metres_are_named_as_such(points):
    path, frame = points
    metres = frame.assign(lat=frame["lat"] * 1e5 + 5e6, lon=frame["lon"] * 1e4 + 5e5)
    with pytest.raises(ValueError, match=r"coordinates must be degrees; 30 of 30 rows.*projected coordinates.*CRS"):
        GeoEmbedder(encoder="cartesian3d").fit(metres)


def test_embed_file_reprojects_a_tables_projected_columns_given_their_crs(points):
    from pyproj import Transformer

    path, frame = points
    inside = frame.assign(lat=47.5 + (frame["lat"] + 80) / 160 * 7, lon=6 + (frame["lon"] + 180) / 360 * 8)  # Germany
    easting, northing = Transformer.from_crs(4326, 25832, always_xy=True).transform(inside["lon"], inside["lat"])
    projected = pd.DataFrame({"id": frame["id"], "Easting": easting, "Northing": northing})
    projected.to_csv(path, index=False)
    out = path.parent / "out.parquet"
    embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d", crs="EPSG:25832")
    table = pd.read_parquet(out)
    assert table.columns[:3].tolist() == ["id", "Easting", "Northing"]  # the input's columns, as they were
    expected = GeoEmbedder(encoder="cartesian3d").fit_transform(inside)
    np.testing.assert_allclose(
        read_output(out), expected, rtol=0, atol=8 * FLOAT32_UNIT_ROUNDOFF
    )  # unit xyz in float32
    kwargs = {"chunk_rows": 8, "progress": False, "encoder": "cartesian3d", "overwrite": True}
    with pytest.raises(ValueError, match="give their crs as well"):
        embed_file(path, out, x_col="Easting", **kwargs)
    with pytest.raises(ValueError, match="name them with x_col and y_col"):
        embed_file(path, out, crs=25832, lat_col="Northing", **kwargs)
    with pytest.raises(ValueError, match="'EPSG:99999' is not a coordinate reference system"):
        embed_file(path, out, crs="EPSG:99999", **kwargs)
    with pytest.raises(ValueError, match=r"projected x column 'nope' not found"):
        embed_file(path, out, crs=25832, x_col="nope", **kwargs)


def test_csv_separator_counts_separators_outside_quotes(tmp_path):
    from geoembed.io.tables import csv_separator

    cases = {'"name, city";lat;lon\n': ";", "lat,lon\n": ",", "lat\tlon\n": "\t", "lat|lon|x\n": "|", "lat\n": ","}
    for i, (header, expected) in enumerate(cases.items()):
        path = tmp_path / f"t{i}.csv"
        path.write_text(header + "1\n")
        assert csv_separator(path) == expected, header


def test_embed_file_keeps_a_named_range_index_whatever_the_chunks(points):
    path, frame = points
    source = path.with_suffix(".parquet")
    frame.set_index(pd.RangeIndex(100, 130, name="site")).to_parquet(source)  # kept as metadata by pandas
    for chunk_rows in (4, 100):
        out = path.parent / f"out{chunk_rows}.parquet"
        embed_file(source, out, chunk_rows=chunk_rows, progress=False, encoder="cartesian3d")
        table = pd.read_parquet(out)
        assert table.index.name == "site" and table.index.tolist() == list(range(100, 130)), chunk_rows
    # an index named like an embedding column is refused before embedding, as a column would be
    frame.set_index(pd.Index(np.arange(30), name="xyz_x")).to_parquet(source)
    with pytest.raises(ValueError, match=r"input columns \['xyz_x'\] clash"):
        embed_file(source, path.parent / "clash.parquet", progress=False, encoder="cartesian3d")


def test_the_first_pass_judges_its_hints_on_the_whole_file_and_keeps_a_bounded_sample(points, monkeypatch):
    import geoembed.files

    path, _ = points
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"lat": rng.uniform(45, 55, 1000), "lon": rng.uniform(-5, 15, 1000)})
    frame.loc[500, "lat"] = 95.0  # one typo in European data: neither a swap nor metres
    frame.to_parquet(path.with_suffix(".parquet"))
    with pytest.raises(ValueError) as error:
        embed_file(
            path.with_suffix(".parquet"), path.parent / "o.npy", chunk_rows=64, progress=False, encoder="cartesian3d"
        )
    assert "rows [500] have 95 in column 'lat'" in str(error.value)
    assert "swapped" not in str(error.value) and "degrees;" not in str(error.value)
    frame.loc[500, "lat"] = 4812345.0  # a missing decimal point is not a projected file either
    frame.to_parquet(path.with_suffix(".parquet"))
    with pytest.raises(ValueError, match=r"rows \[500\] have 4.81234e\+06") as error:
        embed_file(
            path.with_suffix(".parquet"), path.parent / "o.npy", chunk_rows=64, progress=False, encoder="cartesian3d"
        )
    assert "projected" not in str(error.value)
    # many invalid rows: the values of the first few are kept, all are counted
    monkeypatch.setattr(geoembed.files, "_KEPT_INVALID_ROWS", 10)
    frame["lat"] = np.where(np.arange(1000) % 2 == 0, 95.0, frame["lat"])
    frame.to_parquet(path.with_suffix(".parquet"))
    with pytest.raises(ValueError, match=r"The file has 500 invalid rows; the first 10 are described"):
        embed_file(
            path.with_suffix(".parquet"), path.parent / "o.npy", chunk_rows=64, progress=False, encoder="cartesian3d"
        )


@pytest.mark.parametrize("kind", ["projected", "swapped"])
def test_hints_judge_the_whole_file_when_only_the_first_invalid_rows_are_kept(points, monkeypatch, kind):
    # the first pass keeps the values of the first invalid rows only; whether "most rows" are
    # projected or swapped is judged on the file's count (with 1,000 kept of 2,000 metres rows, a
    # user with metres labelled EPSG:4326 was told to pass --wrap-longitude)
    import geoembed.files

    monkeypatch.setattr(geoembed.files, "_KEPT_INVALID_ROWS", 10)
    path, frame = points
    n = len(frame)
    rng = np.random.default_rng(0)
    if kind == "projected":
        table = pd.DataFrame({"lat": rng.uniform(5.3e6, 6.1e6, n), "lon": rng.uniform(3e5, 9e5, n)})
        expected = f"{n:,} of {n:,} rows (columns 'lat', 'lon') are far outside them"
    else:
        table = pd.DataFrame({"lat": rng.uniform(100, 120, n), "lon": rng.uniform(20, 40, n)})
        expected = "If the two columns' names are swapped"
    table.to_parquet(path.with_suffix(".parquet"))
    with pytest.raises(ValueError, match="the first 10 are described") as error:
        embed_file(
            path.with_suffix(".parquet"), path.parent / "o.npy", chunk_rows=64, progress=False, encoder="cartesian3d"
        )
    assert expected in str(error.value)
    assert "wrap" not in str(error.value)


@pytest.mark.parametrize("first", ["as the rest", "blank", "no coordinates", "whole degrees"])
def test_a_semicolon_csv_with_decimal_commas_is_read(points, first):
    """The decimal mark is judged on many lines, not on a first line that cannot tell it."""
    path, frame = points
    frame.loc[0, ["lat", "lon"]] = [48.0, 2.0] if first == "whole degrees" else frame.loc[0, ["lat", "lon"]]
    frame.to_csv(path, index=False, sep=";", decimal=",")
    header, *lines = path.read_text().splitlines()
    if first == "blank":
        lines.insert(0, "")
    elif first == "no coordinates":
        lines.insert(0, "99;;")
    path.write_text("\n".join([header, *lines]) + "\n")
    out = path.parent / "out.npy"
    embed_file(path, out, chunk_rows=8, progress=False, encoder="cartesian3d", on_invalid="nan")
    expected = GeoEmbedder(encoder="cartesian3d").fit_transform(frame)
    if first == "no coordinates":
        expected = np.vstack([np.full((1, 3), np.nan), expected])
    np.testing.assert_allclose(np.load(out), expected, atol=8 * FLOAT32_UNIT_ROUNDOFF)  # unit xyz in float32


def test_projected_columns_that_are_not_numbers_are_named_with_their_rows(points):
    path, frame = points
    table = pd.DataFrame({"easting": [500000.0, "abc", 510000.0], "northing": [5.7e6, 5.71e6, 5.72e6]})
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"column 'easting' must be numeric; rows \[1\] have 'abc'"):
        embed_file(path, path.parent / "o.npy", progress=False, encoder="cartesian3d", crs=25832)


def test_a_csv_that_is_not_utf8_is_named_with_the_remedy(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"lat,lon,stadt\n50.9,6.9,Bonn\n" + "50.9,6.9,Köln\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv is not UTF-8 text .*b'\\xf6'.*save it as UTF-8"):
        embed_file(path, tmp_path / "out.csv", progress=False, encoder="cartesian3d")
    assert not (tmp_path / "out.csv").exists()
