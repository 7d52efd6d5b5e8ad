"""Benchmark reporting for the scripts of this folder: the installed :mod:`geoembed.benchmarks.report`,
writing into ``benchmarks/results/`` by default."""

from __future__ import annotations

from pathlib import Path

from geoembed.benchmarks import report
from geoembed.benchmarks.report import (
    GEOCLIP_FLOP_PER_POINT,
    cpu_description,
    gemm_limit_points_per_s,
    machine_line,
    markdown_table,
    peak_gemm_gflops,
)

__all__ = [
    "GEOCLIP_FLOP_PER_POINT",
    "RESULTS_DIR",
    "cpu_description",
    "gemm_limit_points_per_s",
    "machine_info",
    "machine_line",
    "markdown_table",
    "peak_gemm_gflops",
    "write_results",
]

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info(probe_gemm: bool = True) -> dict:
    return report.machine_info(probe_gemm=probe_gemm)


def write_results(name, title, rows, columns, notes=(), info=None, directory=None) -> Path:
    """:func:`geoembed.benchmarks.report.write_results` into ``benchmarks/results`` unless told otherwise.

    ``RESULTS_DIR`` and ``machine_info`` are looked up at each call, so tests can redirect them.
    """
    directory = RESULTS_DIR if directory is None else directory
    return report.write_results(name, title, rows, columns, notes, info or machine_info(), directory)
