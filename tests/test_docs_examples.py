"""The guide pages' own examples (pages not included from the README) run as a reader would run them:
the blocks of a page in order, in one namespace, from an empty folder."""

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide"
SKIP_MARK = "<!-- not run by tests"


def page_blocks(name):
    text = (GUIDE / name).read_text()
    blocks = []
    for match in re.finditer(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", text, flags=re.S):
        if not match.group("before").startswith(SKIP_MARK):
            blocks.append((text[: match.start("code")].count("\n") + 1, match.group("code")))
    return blocks


def test_geodata_guide_examples_run(tmp_path, monkeypatch):
    pytest.importorskip("geopandas")
    pytest.importorskip("libpysal")
    pytest.importorskip("h3")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    blocks = page_blocks("geodata.md")
    assert len(blocks) >= 2
    for line, code in blocks:
        exec(compile(code, f"docs/guide/geodata.md, block at line {line}", "exec"), namespace)
    assert namespace["points"].shape == (136, 512) and list(namespace["points"].index) == list(range(136))
    assert namespace["features"].shape == (136, 1024) and len(namespace["cells"]) == 19
