"""Ctrl-C and SIGTERM during ``geoembed embed``: the output is complete or absent, never partial or stray."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from geoembed.io import count_csv_rows

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

N_ROWS = 300_000  # GeoCLIP exact embeds ~10k points/s here: still writing for tens of seconds
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("signal_input") / "big.csv"
    pd.DataFrame(
        {
            "id": np.arange(N_ROWS),
            "lat": rng.uniform(-80, 80, N_ROWS).round(5),
            "lon": rng.uniform(-180, 180, N_ROWS).round(5),
        }
    ).to_csv(path, index=False)
    return path


def _default_sigint():
    # a shell may start background jobs with SIGINT ignored, and Python then never raises KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _temporaries(folder, name):
    return sorted(folder.glob(f".{name}.*.tmp*"))


def _rows(path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if path.suffix == ".csv":
        return count_csv_rows(path)
    return np.load(path, mmap_mode="r").shape[0]


def _embed_and_signal(source, out, signum, *extra):
    """Start ``geoembed embed``, send ``signum`` once its temporary output exists; (exit status, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "GEOEMBED_DEBUG"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geoembed.cli",
            "embed",
            str(source),
            "-o",
            str(out),
            "--chunk-rows",
            "5000",
            "-q",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        while not _temporaries(out.parent, out.name):
            if process.poll() is not None:
                pytest.fail(f"embed finished before it could be interrupted: {process.communicate()}")
            if time.monotonic() > deadline:
                pytest.fail("no temporary output appeared")
            time.sleep(0.01)
        time.sleep(0.3)  # a few chunks into the file
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr


@pytest.mark.parametrize("signal_name", sorted(SIGNALS))
@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npy"])
def test_signal_leaves_a_complete_output_or_none(big_csv, tmp_path, suffix, signal_name):
    signum = SIGNALS[signal_name]
    out = tmp_path / f"out{suffix}"
    status, stderr = _embed_and_signal(big_csv, out, signum)
    assert _temporaries(tmp_path, out.name) == []
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], [out.name])
    if out.exists():  # finished before the signal landed: then the file is whole
        assert status == 0 and _rows(out) == N_ROWS
    else:
        assert status == 128 + signum, stderr
        expected = "geoembed: interrupted" if signum == signal.SIGINT else "geoembed: terminated by SIGTERM"
        assert stderr.strip() == expected  # one line, no traceback


def test_sigterm_during_an_overwrite_keeps_the_previous_output(big_csv, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("lat,lon\n1,2\n")
    before = out.read_bytes()
    status, stderr = _embed_and_signal(big_csv, out, signal.SIGTERM, "--overwrite")
    assert _temporaries(tmp_path, out.name) == [] and [p.name for p in tmp_path.iterdir()] == [out.name]
    if status == 0:
        assert _rows(out) == N_ROWS
    else:
        assert status == 143 and out.read_bytes() == before, stderr


# -- in process: the handler main() installs --------------------------------------------------


def _send_sigterm_then_wait(args):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)  # the handler interrupts this
    raise AssertionError("SIGTERM did not interrupt the command")


def test_main_turns_sigterm_into_an_exception_and_restores_the_handler(monkeypatch, capsys, tmp_path):
    from geoembed.cli import _app as cli

    cleaned = []

    def command(args):
        try:
            _send_sigterm_then_wait(args)
        finally:
            cleaned.append(True)  # finally blocks (and so atomic writers) run

    monkeypatch.setattr("geoembed.cli._parser.demo_command", command)
    before = signal.getsignal(signal.SIGTERM)
    start = time.monotonic()
    assert cli.main(["demo", "-o", str(tmp_path / "d.parquet")]) == 143
    assert time.monotonic() - start < 5 and cleaned == [True]
    assert capsys.readouterr().err == "geoembed: terminated by SIGTERM\n"
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_whose_exception_is_replaced_still_reports_the_signal(monkeypatch, capsys, tmp_path):
    """Some C extensions swallow the handler's exception and raise their own (numpy's tofile can)."""
    from geoembed.cli import _app as cli

    def command(args):
        try:
            _send_sigterm_then_wait(args)
        except BaseException:
            raise TypeError("expected str, bytes or os.PathLike object, not BufferedWriter") from None

    monkeypatch.setattr("geoembed.cli._parser.demo_command", command)
    assert cli.main(["demo", "-o", str(tmp_path / "d.parquet")]) == 143
    assert capsys.readouterr().err == "geoembed: terminated by SIGTERM\n"


def test_an_ignored_sigterm_stays_ignored(monkeypatch, tmp_path):
    """Like nohup's SIGHUP: a signal the parent process chose to ignore is not taken over."""
    from geoembed.cli import _app as cli

    seen = []
    monkeypatch.setattr(
        "geoembed.cli._parser.demo_command", lambda args: seen.append(signal.getsignal(signal.SIGTERM)) or 0
    )
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        assert cli.main(["demo", "-o", str(tmp_path / "d.parquet")]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [signal.SIG_IGN]
