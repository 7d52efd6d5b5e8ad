"""The API reference (docs/api.rst) cannot fall behind the code: every name in every public module's
``__all__`` is listed in that module's section, and documented on its own page exactly once."""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import geoembed

API = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
# old module paths kept for one release; not documented (see docs/ARCHITECTURE.md)
DEPRECATED_SHIMS = {
    "geoembed.probing",
    "geoembed.multilabel",
    "geoembed.scale",
    "geoembed.retrieval.evaluation",
    "geoembed.datasets.nuswide",
}


def is_moved(name: str) -> bool:
    """A module that only forwards to the layer folders (its ``MOVED`` table is all it has)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = importlib.import_module(name)
    return hasattr(module, "MOVED") and set(vars(module).get("__all__", module.MOVED)) == set(module.MOVED)


def public_modules():
    names = ["geoembed"]
    for info in pkgutil.walk_packages(geoembed.__path__, "geoembed."):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name in DEPRECATED_SHIMS:
            continue
        if not is_moved(info.name):
            names.append(info.name)
    return sorted(names)


def parse_api(text):
    """(sections, pages): the fully qualified autosummary entries under each ``automodule``, and
    those that get their own page (``:toctree:``), in order."""
    sections: dict[str, list[str]] = {}
    pages: list[str] = []
    section = module = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if match := re.match(r"\.\. automodule:: (\S+)", line):
            section = module = match.group(1)
            sections.setdefault(section, [])
        elif match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = None if match.group(1) == "None" else match.group(1)
        elif line.startswith(".. autosummary::"):
            toctree = False
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
                entry = lines[i].strip()
                if entry.startswith(":toctree:"):
                    toctree = True
                elif entry and not entry.startswith(":"):
                    entry = entry.lstrip("~")
                    if module and not entry.startswith("geoembed."):
                        entry = f"{module}.{entry}"
                    assert section, f"docs/api.rst: autosummary entry {entry} before any automodule"
                    sections[section].append(entry)
                    if toctree:
                        pages.append(entry)
                i += 1
            continue
        i += 1
    return sections, pages


SECTIONS, PAGES = parse_api(API.read_text())
MODULES = public_modules()


def resolve(dotted):
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def test_every_public_module_has_a_section():
    missing = [name for name in MODULES if name not in SECTIONS]
    assert not missing, f"add an '.. automodule::' section to docs/api.rst for {missing}"
    deprecated = sorted(DEPRECATED_SHIMS & set(SECTIONS))
    assert not deprecated, f"deprecated modules are not documented: {deprecated}"


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_listed_in_its_module_section(module_name):
    module = importlib.import_module(module_name)
    listed = {entry.rpartition(".")[2]: entry for entry in SECTIONS.get(module_name, [])}
    missing = []
    for name in module.__all__:
        entry = listed.get(name)
        if entry is None or resolve(entry) is not getattr(module, name):
            missing.append(name)
    assert not missing, (
        f"docs/api.rst: the {module_name} section does not list {missing}; add them to its autosummary "
        "(with :toctree: in the module that defines them, else as links '~defining.module.Name')"
    )


def test_every_public_name_has_exactly_one_page():
    pages_by_object: dict[int, list[str]] = {}
    for page in PAGES:
        pages_by_object.setdefault(id(resolve(page)), []).append(page)
    problems = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            found = [page for page in pages_by_object.get(id(getattr(module, name)), []) if page.endswith("." + name)]
            if len(found) != 1:
                problems.append(f"{module_name}.{name}: {found or 'no page'}")
    duplicates = sorted({page for page in PAGES if PAGES.count(page) > 1})
    assert not problems and not duplicates, problems + duplicates


def test_every_listed_entry_exists():
    stale = []
    for entries in SECTIONS.values():
        for entry in entries:
            try:
                resolve(entry)
            except (ImportError, AttributeError):
                stale.append(entry)
    assert not stale, f"docs/api.rst lists names that do not exist: {stale}"
