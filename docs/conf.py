"""Sphinx configuration of the geoembed documentation.

Build (offline, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API pages are generated from the docstrings (numpydoc format) by autosummary into
``docs/generated/``. The notebooks (``notebooks/*.ipynb``) and the benchmark result tables
(``benchmarks/results/**/*.md``) live outside the source folder, so they are copied into
``docs/_notebooks/`` and ``docs/_results/`` when this file is read, before Sphinx looks for
sources. The notebooks are rendered with their stored outputs, never executed. These three
folders and ``docs/_build/`` are build products (git-ignored).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import shutil
import sys
import warnings
from fnmatch import fnmatch
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import geoembed  # noqa: E402


def _sync(sources: dict[Path, Path | bytes], target_dir: Path) -> None:
    """Make ``target_dir`` hold exactly ``sources`` (target path -> source path, or the bytes to write).

    Files whose bytes did not change are left alone, so incremental builds stay incremental.
    """
    wanted = {target.resolve() for target in sources}
    if target_dir.exists():
        for path in sorted(target_dir.rglob("*"), reverse=True):
            if path.is_file() and path.resolve() not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for target, source in sources.items():
        data = source if isinstance(source, bytes) else source.read_bytes()
        if target.exists() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if not isinstance(source, bytes):
            shutil.copystat(source, target)


#: Result files measured on tasks that chose designs (the downstream suite, the development half of
#: the held-out pool and draws from it): their rendered page opens with DEVELOPMENT_NOTE. Patterns
#: match names in ``benchmarks/results/``; EXCEPT wins (held-out runs of a design chosen there).
DEVELOPMENT_RESULTS = (
    "downstream.md",
    "location_prior.md",
    "distill_*.md",
    "small_tables*.md",
    "added_*.md",
    "tree_head_variants.md",
    "heldout_lite_hidden96.md",
    "train_climate.md",
)
DEVELOPMENT_EXCEPT = ("added_designs_heldout*.md",)
#: Result files whose rows carry their half (development, evaluation, confirmation sets).
MIXED_RESULTS = (
    "heldout.md",
    "heldout_blocks10.md",
    "heldout_lite.md",
    "heldout_lite_grid*.md",
    "nested_prefixes.md",
    "interpolated.md",
)
DEVELOPMENT_NOTE = (
    "> **Development measurement.** The accuracy numbers here come from tasks that chose the "
    "project's designs and defaults (the downstream suite, the development half of the held-out pool, "
    "or draws from it), so they flatter those designs; speed figures are not affected. The "
    "documentation's accuracy claims come from the evaluation half and the confirmation sets (see the "
    "Benchmarks page)."
)
MIXED_NOTE = (
    "> **Both halves.** Rows say which part of the held-out pool they come from: development rows "
    "chose designs and flatter them; claims quote only the evaluation half and the confirmation sets."
)


def result_label(name: str) -> str:
    """``"development"``, ``"mixed"`` or ``""`` for a file name in ``benchmarks/results/``."""
    if any(fnmatch(name, p) for p in DEVELOPMENT_RESULTS) and not any(fnmatch(name, p) for p in DEVELOPMENT_EXCEPT):
        return "development"
    return "mixed" if any(fnmatch(name, p) for p in MIXED_RESULTS) else ""


def _labelled(text: str, label: str) -> str:
    """``text`` with the note of ``label`` after its first line (the title)."""
    note = {"development": DEVELOPMENT_NOTE, "mixed": MIXED_NOTE}.get(label)
    if not note:
        return text
    title, _, rest = text.partition("\n")
    return f"{title}\n\n{note}\n{rest}"


def copy_external_sources() -> None:
    """Copy the notebooks and the benchmark results into the source tree, labelling development results."""
    notebooks = ROOT / "notebooks"
    _sync({DOCS / "_notebooks" / nb.name: nb for nb in sorted(notebooks.glob("*.ipynb"))}, DOCS / "_notebooks")
    results = ROOT / "benchmarks" / "results"
    files: dict[Path, Path | bytes] = {}
    for source in sorted(results.rglob("*")):
        if source.is_file() and source.suffix in {".md", ".png"}:
            label = result_label(source.name) if source.suffix == ".md" else ""  # by name, in subfolders too
            text = _labelled(source.read_text(encoding="utf-8"), label) if label else None
            files[DOCS / "_results" / source.relative_to(results)] = text.encode("utf-8") if text else source
    _sync(files, DOCS / "_results")


copy_external_sources()


# -- Public modules ----------------------------------------------------------------------------

DEPRECATED_MODULES = {"geoembed.probing", "geoembed.multilabel", "geoembed.scale", "geoembed.retrieval.evaluation"}


def public_modules() -> list[str]:
    """The package's public modules: no ``_`` in the path, deprecated shims left out."""
    names = ["geoembed"]
    for info in pkgutil.walk_packages(geoembed.__path__, "geoembed."):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name in DEPRECATED_MODULES:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            module = importlib.import_module(info.name)
            moved = hasattr(module, "MOVED") and set(vars(module).get("__all__", module.MOVED)) == set(module.MOVED)
        if not moved:
            names.append(info.name)
    return sorted(names)


def constants_without_values() -> list[str]:
    """Public constants whose value is not shown: paths (machine-specific), sets (order varies between
    runs), reprs with memory addresses, and long reprs (the doc comment says what they hold).
    """
    hidden = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if callable(obj) or inspect.ismodule(obj):
                continue
            text = repr(obj)
            if isinstance(obj, (os.PathLike, set, frozenset)) or " at 0x" in text or len(text) > 100:
                hidden.append(f"{module_name}.{name}")
    return hidden


# -- Project -----------------------------------------------------------------------------------

project = "geoembed"
author = "The geoembed developers"
copyright = "The geoembed developers"  # noqa: A001
version = release = geoembed.__version__

# -- General -----------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
]
root_doc = "index"
# The guide pages include README sections under their own title; a README subsection (###) then
# follows a page title (#), which MyST reports as a skipped level. The nesting it makes is right.
suppress_warnings = ["myst.header"]

# -- autodoc / autosummary / numpydoc ----------------------------------------------------------

autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc Parameters sections give the types
autodoc_member_order = "bysource"
add_module_names = False

# Members inherited from these (other libraries' classes) are left out of the class pages; members
# inherited from geoembed's own classes are shown on every subclass.
EXTERNAL_BASES = [
    "object",
    "BaseEstimator",
    "TransformerMixin",
    "_SetOutputMixin",
    "_MetadataRequester",
    "BaseCrossValidator",
    "Module",
    "BaseException",
    "Exception",
    "ValueError",
    "OSError",
]
autosummary_context = {
    "constants_without_values": constants_without_values(),
    "external_bases": EXTERNAL_BASES,
}

# Every reference must resolve (-n); other projects' names resolve through intersphinx when it is
# switched on, and are accepted as plain text otherwise.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", rf"({package})(\..*)?")
    for package in [
        "builtins",
        "pathlib",
        "os",
        "typing",
        "collections",
        "numpy",
        "pandas",
        "polars",
        "pyarrow",
        "xarray",
        "dask",
        "scipy",
        "sklearn",
        "torch",
        "transformers",
        "PIL",
        "matplotlib",
        "zarr",
    ]
]

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- intersphinx: the build must work offline --------------------------------------------------
# Set GEOEMBED_DOCS_INTERSPHINX=1 to link to other projects' documentation (needs the network).

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
if os.environ.get("GEOEMBED_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "xarray": ("https://docs.xarray.dev/en/stable", None),
    }

# -- MyST and notebooks ------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # render the notebooks as stored; never run them at build time
nb_merge_streams = True

# -- HTML --------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"geoembed {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "changelog": []}


# -- Checks ------------------------------------------------------------------------------------


def _constant_needs_doc_comment(app, what, name, obj, options, lines):
    """A public constant without a ``#:`` doc comment would show its type's docstring (``str(object='')
    -> str``...): drop that text and warn, so that the strict build asks for the comment.
    """
    if what not in ("data", "attribute") or not lines or callable(obj):
        return
    type_doc = inspect.getdoc(type(obj)) or ""
    if "\n".join(lines).strip() == type_doc.strip():
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "%s has no documentation: add a '#:' comment above its definition", name, type="geoembed", subtype="docs"
        )
        lines.clear()


def _public_bases(app, name, obj, options, bases):
    """Show a private base class (``_CoordinateEncoder``, or one in a private module) as the public
    classes it derives from.
    """
    resolved = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        path = base.__module__.split(".") + [base.__name__]
        if path[0] == "geoembed" and any(part.startswith("_") for part in path[1:]):
            pending[:0] = list(base.__bases__)
        elif base not in resolved and base is not object:
            resolved.append(base)
    bases[:] = resolved


def _import_dotted(name: str):
    """The object at a dotted path (``geoembed.GeoEmbedder.transform``), or None."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _resolve_geoembed_reference(app, env, node, contnode):
    """Resolve references that Sphinx cannot: names re-exported by a package
    (``geoembed.GeoEmbedder`` is documented as ``geoembed.encoders.embedder.GeoEmbedder``), and short names
    (``:meth:`commit```, ``:func:`make_encoder```) that match exactly one documented object, searched
    first in the referring module, then everywhere.
    """
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    documented = [name for name in domain.objects if name.startswith("geoembed")]
    target = node["reftarget"]
    parent, _, last = target.rpartition(".")
    if target.startswith("geoembed."):
        obj = _import_dotted(target)
        if obj is None:
            return None
        candidates = [name for name in documented if name.rpartition(".")[2] == last and _import_dotted(name) is obj]
        if len(candidates) > 1:  # a method documented on several classes: the one the target names
            owner = _import_dotted(parent)
            candidates = [name for name in candidates if _import_dotted(name.rpartition(".")[0]) is owner]
    else:
        module = node.get("py:module")
        suffix = "." + target
        candidates = [name for name in documented if module and name.startswith(module + ".") and name.endswith(suffix)]
        if not candidates:
            candidates = [name for name in documented if name.endswith(suffix)]
    if len(candidates) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, "obj", candidates[0], node, contnode)


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_<method>_request`` methods (metadata routing of a
    parameter such as ``groups``): their docstrings are scikit-learn's, written for its own docs.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
    app.connect("autodoc-process-docstring", _constant_needs_doc_comment)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("missing-reference", _resolve_geoembed_reference)
