"""The rendered benchmark results say which were measured on tasks that chose designs (docs/conf.py)."""

import ast
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NAMES = ("DEVELOPMENT_RESULTS", "DEVELOPMENT_EXCEPT", "MIXED_RESULTS", "DEVELOPMENT_NOTE", "MIXED_NOTE")


@pytest.fixture(scope="module")
def conf():
    """The labelling constants and functions of docs/conf.py, without running its copy and imports."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    keep = [
        node
        for node in tree.body
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) in NAMES for t in node.targets))
        or (isinstance(node, ast.FunctionDef) and node.name in ("result_label", "_labelled"))
    ]
    namespace = {"fnmatch": fnmatch}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "docs/conf.py", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    "name",
    ["downstream.md", "location_prior.md", "small_tables.md", "added_designs.md", "distill_seeds.md"],
)
def test_development_results_are_labelled(conf, name):
    assert (RESULTS / name).exists()
    assert conf["result_label"](name) == "development"
    text = (RESULTS / name).read_text(encoding="utf-8")
    labelled = conf["_labelled"](text, "development")
    title, _, rest = labelled.partition("\n")
    assert title == text.partition("\n")[0] and conf["DEVELOPMENT_NOTE"] in rest


@pytest.mark.parametrize(
    "name",
    [
        "downstream_evaluation.md",
        "downstream_evaluation_added.md",
        "added_designs_heldout.md",
        "heldout_lite_confirmation.md",
        "local_detail.md",
    ],
)
def test_heldout_results_are_not_labelled_development(conf, name):
    assert (RESULTS / name).exists()
    assert conf["result_label"](name) == ""


def test_every_pattern_matches_a_result_file(conf):
    names = [p.name for p in RESULTS.glob("*.md")]
    for pattern in (*conf["DEVELOPMENT_RESULTS"], *conf["DEVELOPMENT_EXCEPT"], *conf["MIXED_RESULTS"]):
        assert any(fnmatch(n, pattern) for n in names), pattern
    assert conf["result_label"]("heldout.md") == "mixed"


def test_files_with_rows_of_both_halves_carry_the_both_halves_note(conf):
    """A table with development and evaluation rows side by side is labelled (interpolated.md was not)."""
    both = []
    for path in sorted(RESULTS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\|\s*development\s*\|", text) and re.search(r"\|\s*evaluation\s*\|", text):
            both.append(path.name)
            assert conf["result_label"](path.name) in ("mixed", "development"), path.name
    assert "interpolated.md" in both and "heldout.md" in both
