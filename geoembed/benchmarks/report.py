"""Benchmark reports: the machine a result was measured on, and markdown/JSON results files.

Every benchmark that geoembed ships (``geoembed bench ...``) and every script of the source
checkout's ``benchmarks/`` writes its table through :func:`write_results`, so that each
results file names its CPU, its GEMM instruction sets, torch's threads, a peak-GEMM probe and
the versions of the packages that decide the numbers.
"""

from __future__ import annotations

import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path

from geoembed.io import atomic_output

__all__ = [
    "GEOCLIP_FLOP_PER_POINT",
    "cpu_description",
    "gemm_limit_points_per_s",
    "machine_info",
    "machine_line",
    "markdown_table",
    "peak_gemm_gflops",
    "write_results",
]

# the instruction sets that decide float32/bfloat16 GEMM speed, as /proc/cpuinfo names them
GEMM_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
# multiply-adds x 2 per point of GeoCLIP's location encoder (three 512-1024-1024-1024-512 MLPs)
GEOCLIP_FLOP_PER_POINT = 2 * 3 * (512 * 1024 + 1024 * 1024 * 2 + 1024 * 512)


def cpu_description() -> dict:
    """CPU model, vendor and the GEMM-relevant instruction sets (Linux /proc/cpuinfo)."""
    model, vendor, flags = platform.processor() or platform.machine(), "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                model = value.strip()
            elif key == "vendor_id":
                vendor = value.strip()
            elif key == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    return {"model": model, "vendor": vendor, "gemm_flags": [f for f in GEMM_FLAGS if f in flags]}


def peak_gemm_gflops(seconds_per_dtype: float = 1.5) -> dict:
    """Measured matmul peak of this machine with torch's current threads, in GFLOP/s.

    Square 1024-wide GEMMs on a 4096-row batch, the shape of GeoCLIP's hidden layers. Best of
    repeated calls, so this is the ceiling that an encoder's throughput can be held against.
    """
    import torch

    result = {}
    for dtype in (torch.float32, torch.bfloat16):
        a = torch.randn(4096, 1024).to(dtype)
        b = torch.randn(1024, 1024).to(dtype)
        torch.matmul(a, b)
        best, deadline = float("inf"), time.perf_counter() + seconds_per_dtype
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            torch.matmul(a, b)
            best = min(best, time.perf_counter() - start)
        result[str(dtype).removeprefix("torch.")] = 2 * 4096 * 1024 * 1024 / best / 1e9
    return result


def gemm_limit_points_per_s(gflops: float) -> float:
    """GeoCLIP points/s that a GEMM rate allows."""
    return gflops * 1e9 / GEOCLIP_FLOP_PER_POINT


def machine_info(probe_gemm: bool = True) -> dict:
    """CPU, cores, torch threads, a peak-GEMM probe (unless ``probe_gemm=False``), Python and versions."""
    import torch

    cpu = cpu_description()
    versions = {}
    for package in ("geoembed-toolkit", "torch", "numpy", "scikit-learn", "pyproj", "geoclip"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu": cpu["model"],
        "cpu_vendor": cpu["vendor"],
        "gemm_flags": cpu["gemm_flags"],
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "peak_gemm_gflops": peak_gemm_gflops() if probe_gemm else None,
        "python": platform.python_version(),
        "versions": versions,
    }


def machine_line(info: dict) -> str:
    """One line naming the CPU, its GEMM instruction sets, threads, the GEMM probe and versions."""
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    peak = info.get("peak_gemm_gflops")
    probe = ""
    if peak:
        probe = (
            f" Peak GEMM measured in this run: {peak['float32']:.0f} GFLOP/s float32, "
            f"{peak['bfloat16']:.0f} GFLOP/s bfloat16 (GeoCLIP limits: "
            f"{gemm_limit_points_per_s(peak['float32']):,.0f} and "
            f"{gemm_limit_points_per_s(peak['bfloat16']):,.0f} points/s)."
        )
    return (
        f"Machine: {info['cpu']} ({info.get('cpu_vendor', '')}; {' '.join(info.get('gemm_flags', []))}), "
        f"{info['cores']} cores, torch threads {info['torch_threads']}, Python {info['python']}.{probe} "
        f"Versions: {versions}. Run {info['date']}."
    )


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A markdown table of ``rows`` (dicts) with ``columns`` in that order."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def write_results(
    name: str,
    title: str,
    rows: list[dict],
    columns: list[str],
    notes: list[str] = (),
    info: dict | None = None,
    directory=".",
    quiet: bool = False,
) -> Path:
    """Print the table and write ``<directory>/<name>.md`` and ``<directory>/<name>.json``.

    Every results file names its machine (CPU model and GEMM instruction sets, threads, a
    peak-GEMM probe run now unless ``info`` already holds one, versions). Both files appear
    atomically.

    Parameters
    ----------
    name : str
        File stem.
    title : str
        The markdown heading.
    rows : list of dict
        Table rows, keyed by ``columns``; written as they are to the JSON file.
    columns : list of str
    notes : list of str, default=()
        Bullet points under the table; a note that is a heading, a table or several lines is
        written as its own block.
    info : dict, default=None
        From :func:`machine_info`; None probes the machine now.
    directory : str or Path, default="."
        Created if needed.
    quiet : bool, default=False
        Do not print the table.

    Returns
    -------
    path : Path
        The markdown file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    info = info or machine_info()
    table = markdown_table(rows, columns)
    text = f"# {title}\n\n{table}\n\n" + "".join(_note_lines(notes)) + f"\n{machine_line(info)}\n"
    if not quiet:
        print(text)
    _write_atomically(directory / f"{name}.md", text)
    _write_atomically(
        directory / f"{name}.json", json.dumps({"machine": info, "rows": rows, "notes": list(notes)}, indent=2)
    )
    return directory / f"{name}.md"


def _note_lines(notes) -> list[str]:
    """Notes as a bullet list; headings, tables and blank notes pass through as their own blocks."""
    lines = []
    for note in notes:
        if not note:
            continue
        if note.startswith(("#", "|")) or "\n" in note:
            lines.append(f"\n{note}\n\n")
        else:
            lines.append(f"- {note}\n")
    return lines


def _write_atomically(path: Path, text: str) -> None:
    with atomic_output(path) as temporary:
        Path(temporary).write_text(text)
