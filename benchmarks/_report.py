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
    "reprobe_peak",
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


def reprobe_peak(info: dict) -> dict:
    """Probe the GEMM peak again (after the timed rounds) and keep, per dtype, the higher of this
    probe and the one in ``info`` (updated in place and returned).

    The peak is a ceiling, and one 1.5 s probe on a shared VM can land in a slow spell: on a 2-core
    AMD EPYC VM with AVX2 (2026-12-07) one probe read 104 GFLOP/s float32 where the others of the
    day read 137-160, which put the official release at 114% of its "limit".
    """
    again = peak_gemm_gflops()
    info["peak_gemm_gflops"] = {k: max(v, again.get(k, v)) for k, v in info["peak_gemm_gflops"].items()}
    return info
