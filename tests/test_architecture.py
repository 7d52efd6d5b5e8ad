"""The package's layering (docs/ARCHITECTURE.md), checked on the source: no module imports from a
layer above its own, no module imports another module's private names, every public module
declares ``__all__``."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geoembed"

# bottom to top; a module may import from its own layer and the ones below. Longest prefix wins.
# Each layer is a set of folders (the package root holds only applications and the lazy names).
LAYERS = [
    ("foundation", ["geoembed.core", "geoembed.io"]),
    ("models", ["geoembed.models"]),
    ("featurizers", ["geoembed.encoders"]),
    (
        "applications",
        [
            "geoembed.files",
            "geoembed.geofiles",
            "geoembed.grid",
            "geoembed.maps",
            "geoembed.spark",
            "geoembed.target_encoder",
            "geoembed.model_selection",
            "geoembed.evaluation",
            "geoembed.retrieval",
            "geoembed.training",
            "geoembed.datasets",
            "geoembed.benchmarks",
        ],
    ),
    ("entry points", ["geoembed.cli", "geoembed"]),
]
# old module paths kept for one release: thin re-exports of the modules that replaced them
DEPRECATED_SHIMS = {
    "geoembed.probing",
    "geoembed.multilabel",
    "geoembed.scale",
    "geoembed.retrieval.evaluation",
    "geoembed.datasets.nuswide",
    # moved into the layer folders in 0.3
    "geoembed.errors",
    "geoembed.geo",
    "geoembed.cache",
    "geoembed.data",
    "geoembed.geometry",
    "geoembed.inputs",
    "geoembed.weights",
    "geoembed.base",
    "geoembed.embedder",
    "geoembed.dask_transform",
    "geoembed.regions",
    "geoembed.demo",
    "geoembed.encoders.geoclip.model",
    "geoembed.evaluation.spatial_cv",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    assert best is not None, f"{module} is in no layer of docs/ARCHITECTURE.md"
    return best


def imports_of(path: Path):
    """(imported module, imported names) for every geoembed import in the file, lazy ones included."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "geoembed":
                yield target, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "geoembed":
                    yield alias.name, []


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_no_module_imports_from_a_layer_above(path):
    module = module_name(path)
    if module in DEPRECATED_SHIMS:
        return
    own = layer_of(module)
    for target, names in imports_of(path):
        # "from geoembed.encoders import geoclip" names a submodule: check the submodule's layer
        targets = [
            f"{target}.{n}"
            for n in names
            if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).exists()
            or (PACKAGE.parent / (f"{target}.{n}".replace(".", "/") + ".py")).exists()
        ] or [target]
        for imported in targets:
            assert layer_of(imported) <= own, (
                f"{module} ({LAYERS[own][0]}) imports {imported} ({LAYERS[layer_of(imported)][0]}), a layer above"
            )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_no_private_names_imported_from_other_modules(path):
    for target, names in imports_of(path):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module_name(path)} imports private {private} from {target}"
        # a private module is its package's own: importable by that package's modules only
        module = module_name(path)
        private = [i for i, part in enumerate(target.split(".")) if part.startswith("_") and not part.startswith("__")]
        for i in private:
            owner = ".".join(target.split(".")[:i])
            assert module == owner or module.startswith(owner + "."), f"{module} imports the private module {target}"


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in SOURCES
        if not any(part.startswith("_") and part != "__init__.py" for part in p.relative_to(PACKAGE).parts)
    ],
    ids=lambda p: module_name(p),
)
def test_public_modules_declare_all(path):
    tree = ast.parse(path.read_text())
    names = {
        t.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert "__all__" in names or module_name(path) in DEPRECATED_SHIMS, f"{module_name(path)} has no __all__"


def all_imports(path: Path):
    """(imported module, imported names) for every import in a file, lazy ones included."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level:
            yield node.module or "", [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_the_package_never_imports_the_checkouts_benchmarks_or_tools(path):
    """What a user runs ships in the package: nothing may reach the source checkout's folders."""
    text = path.read_text()
    for target, _ in all_imports(path):
        assert target.split(".")[0] not in ("benchmarks", "tools"), f"{module_name(path)} imports {target}"
    assert 'import_module("benchmarks' not in text and "import_module('benchmarks" not in text


SCRIPTS = sorted(p for folder in ("benchmarks", "tools") for p in (PACKAGE.parent / folder).rglob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_benchmarks_and_tools_use_only_public_names(path):
    """The checkout's scripts are built on the installed package's public API, as a user's would be."""
    for target, names in all_imports(path):
        if target.split(".")[0] != "geoembed":
            continue
        assert not any(part.startswith("_") for part in target.split(".")), f"{path.name} imports {target}"
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{path.name} imports private {private} from {target}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_the_folder_of_every_module_is_its_layer(path):
    """A path tells the layer: every module sits in a folder of its layer (ARCHITECTURE.md), and the
    package root holds only application modules, the lazy top-level names and deprecated shims."""
    module = module_name(path)
    if module in DEPRECATED_SHIMS:
        return
    parts = module.split(".")
    if len(parts) == 1:  # geoembed/__init__.py: the lazy top-level names
        return
    folder = ".".join(parts[:2])
    layer = layer_of(module)
    assert folder in LAYERS[layer][1], f"{module} is in {folder}, not a folder of its layer {LAYERS[layer][0]}"
    if len(parts) == 2 and path.name != "__init__.py":  # a module file at the package root
        assert LAYERS[layer][0] == "applications", f"{module} sits at the package root but is {LAYERS[layer][0]}"


def test_every_moved_module_warns_and_returns_the_same_object():
    import importlib
    import warnings

    for old in sorted(DEPRECATED_SHIMS):
        shim = importlib.import_module(old) if old != "geoembed.multilabel" else None
        table = getattr(shim, "MOVED", None)
        if table is None:
            continue
        for name, target in table.items():
            new_module, _, new_name = target.partition(":")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = getattr(shim, name)
            assert value is getattr(importlib.import_module(new_module), new_name or name), f"{old}.{name}"
            assert any(issubclass(w.category, FutureWarning) and new_module in str(w.message) for w in caught)


def test_layer_table_matches_the_architecture_page():
    page = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text()
    for name, prefixes in LAYERS:
        assert name in page.lower()
        for prefix in prefixes:
            assert f"`{prefix.removeprefix('geoembed.') if prefix != 'geoembed' else 'geoembed'}" in page, prefix


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (lazy imports included; shims left out)."""
    modules = {module_name(p): p for p in SOURCES}
    graph = {m: set() for m in modules if m not in DEPRECATED_SHIMS}
    for module in graph:
        for target, names in imports_of(modules[module]):
            found = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            if not found:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                found = [target]
            graph[module] |= {t for t in found if t != module and t in graph}
    return graph


def test_no_import_cycles():
    """The modules' imports form a DAG (a package's __init__ importing its own submodules included)."""
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module, path):
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


NAMEDTUPLE_API = {"_replace", "_asdict", "_make", "_fields"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_no_private_methods_called_on_other_modules_objects(path):
    """``obj._private(...)`` only for methods this module defines: another module's object is used
    through its public names, so that its internals can change without breaking callers."""
    tree = ast.parse(path.read_text())
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    offending = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, owner = node.func.attr, node.func.value
        if not name.startswith("_") or name.startswith("__") or name in NAMEDTUPLE_API or name in defined:
            continue
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
            continue
        if isinstance(owner, ast.Attribute) and owner.attr in ("ops", "mkldnn", "mkl", "_C"):  # torch's own ops
            continue
        offending.append(f"line {node.lineno}: {ast.unparse(node.func)}")
    assert not offending, f"{module_name(path)} calls private methods of other modules' objects: {offending}"
