"""Shared benchmark reporting: machine description and markdown/JSON results files."""

from __future__ import annotations

import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("geoembed", "torch", "numpy", "scikit-learn", "pyproj", "geoclip"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "amx_bf16": bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()),
        "python": platform.python_version(),
        "versions": versions,
    }


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def write_results(name: str, title: str, rows: list[dict], columns: list[str], notes: list[str] = ()) -> Path:
    """Print the table and write ``results/<name>.md`` and ``results/<name>.json``."""
    RESULTS_DIR.mkdir(exist_ok=True)
    info = machine_info()
    table = markdown_table(rows, columns)
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    text = (
        f"# {title}\n\n{table}\n\n"
        + "".join(f"- {n}\n" for n in notes)
        + f"\nMachine: {info['cpu']}, {info['cores']} cores, torch threads {info['torch_threads']}, "
        f"AMX-bf16 {info['amx_bf16']}, Python {info['python']}. Versions: {versions}. Run {info['date']}.\n"
    )
    print(text)
    md = RESULTS_DIR / f"{name}.md"
    md.write_text(text)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps({"machine": info, "rows": rows, "notes": list(notes)}, indent=2))
    return md
