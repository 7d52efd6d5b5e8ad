"""GeoCLIP-lite: distilled students against the GeoCLIP teacher, speed and downstream value.

    python -m benchmarks.distill_students STUDENT.safetensors [...] [--points 50000] [--rounds 3]

For each student checkpoint (made by ``geoembed distill``), in one run with the teacher:
- points/s in float32 (exact) and with bfloat16 MLPs (fast), interleaved rounds, and the ratio
  to the exact teacher;
- cosine to the teacher (median and 1st percentile) on equal-area points and on points within
  50 km of cities, as a diagnostic;
- the downstream suite's linear-probe and k-NN scores next to GeoCLIP's, on every task
  (within-city Ames included).
Results go to ``benchmarks/results/distill_students.{md,json}``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._report import gemm_limit_points_per_s, machine_info, reprobe_peak, write_results
from benchmarks.encoder_speed import cosine_rows, random_points
from geoembed import GeoEmbedder
from geoembed.datasets.downstream import list_tasks, load_task
from geoembed.evaluation.probing import compare_encoders
from geoembed.models.geoclip import load_location_encoder
from geoembed.training.distill import DistillConfig, distillation_points


def median_rate(encoder, points, precision, rounds) -> float:
    x = torch.from_numpy(points).float()
    encoder.embed(x[:4096], precision=precision)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(0, len(x), 8192):
            encoder.embed(x[i : i + 8192], precision=precision)
        times.append(time.perf_counter() - start)
    return len(points) / float(np.median(times))


def embedder_rate(weights, points, precision) -> float:
    """Points/s through ``GeoEmbedder.transform`` (NumPy in and out, validation and copies included)."""
    embedder = GeoEmbedder(weights=weights, precision=precision).fit(points[:10])
    start = time.perf_counter()
    embedder.transform(points)
    return len(points) / (time.perf_counter() - start)


def flop_per_point(module) -> int:
    """Multiply-adds x 2 of the module's linear layers for one point (the GEMM work)."""
    return 2 * sum(m.in_features * m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("students", nargs="+", help="student checkpoints (.safetensors) or registered weights")
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", nargs="*", default=None, help="suite tasks (default: all)")
    parser.add_argument("--name", default="distill_students")
    args = parser.parse_args(argv)
    info = machine_info()
    points = random_points(args.points)
    teacher = load_location_encoder()
    students = {Path(s).parent.name if s.endswith(".safetensors") else s: s for s in args.students}
    modules = {name: load_location_encoder(path) for name, path in students.items()}
    names = {"teacher": None, **students}
    rates = {(name, p, kind): [] for name in names for p in ("exact", "fast") for kind in ("embed", "GeoEmbedder")}
    for _ in range(args.rounds):  # interleaved, so that drifts in machine speed hit all
        for precision in ("exact", "fast"):
            for name, weights in names.items():
                module = teacher if name == "teacher" else modules[name]
                rates[(name, precision, "embed")].append(median_rate(module, points, precision, 1))
                rates[(name, precision, "GeoEmbedder")].append(embedder_rate(weights, points, precision))
    medians = {key: float(np.median(values)) for key, values in rates.items()}
    rate = {(name, p): medians[(name, p, "embed")] for name, p, _ in medians}
    flops = {"teacher": flop_per_point(teacher), **{name: flop_per_point(m) for name, m in modules.items()}}

    def speed_columns(name):
        gemm = peak["float32"] * 1e9 / flops[name]
        return {
            "exact points/s": f"{rate[(name, 'exact')]:,.0f}",
            "fast points/s": f"{rate[(name, 'fast')]:,.0f}",
            "speed-up (exact / fast)": f"{rate[(name, 'exact')] / rate[('teacher', 'exact')]:.1f}x / "
            f"{rate[(name, 'fast')] / rate[('teacher', 'exact')]:.1f}x",
            "GeoEmbedder points/s (exact / fast)": f"{medians[(name, 'exact', 'GeoEmbedder')]:,.0f} / "
            f"{medians[(name, 'fast', 'GeoEmbedder')]:,.0f}",
            "MFLOP per point": f"{flops[name] / 1e6:.2f}",
            "exact: share of float32 GEMM limit": f"{rate[(name, 'exact')] / gemm:.0%}",
        }

    peak = reprobe_peak(info)["peak_gemm_gflops"]  # the higher of two probes, before and after the rounds

    # cosine to the teacher: equal-area points, and points within 50 km of places
    equal_area = random_points(20_000, seed=1)
    near_cities = distillation_points(
        DistillConfig(equal_area_fraction=0.0, gallery_fraction=0.0, city_radius_km=50.0 / 2), n=20_000, random_state=1
    )
    with torch.no_grad():
        reference = {
            k: teacher.embed(torch.from_numpy(v).float()).numpy()
            for k, v in (("equal-area", equal_area), ("cities", near_cities))
        }

    tasks = [load_task(name) for name in (args.tasks or list_tasks())]
    encoders = {"geoclip": GeoEmbedder()}
    encoders.update({name: GeoEmbedder(weights=path) for name, path in students.items()})
    scores = compare_encoders(encoders, tasks, probes=("linear", "knn"), progress=False)
    metric = {"classification": "accuracy", "regression": "r2"}
    scores["score"] = [
        row[metric[task.kind]]
        for task, (_, row) in zip([next(t for t in tasks if t.name == r) for r in scores["task"]], scores.iterrows())
    ]

    def teacher_row():
        row = {
            "encoder": "GeoCLIP (teacher)",
            "parameters": f"{sum(p.numel() for p in teacher.parameters()):,}",
            **speed_columns("teacher"),
        }
        return row

    rows = [teacher_row()]
    for name, module in modules.items():
        row = {
            "encoder": name,
            "parameters": f"{sum(p.numel() for p in module.parameters()):,}",
            **speed_columns(name),
        }
        with torch.no_grad():
            for where, latlon in (("equal-area", equal_area), ("cities", near_cities)):
                cos = cosine_rows(module.embed(torch.from_numpy(latlon).float()).numpy(), reference[where])
                row[f"cosine {where} (median / p1)"] = f"{np.median(cos):.3f} / {np.percentile(cos, 1):.3f}"
        rows.append(row)
    for probe in ("linear", "knn"):
        for task in tasks:
            part = scores[(scores["probe"] == probe) & (scores["task"] == task.name)].set_index("encoder")["score"]
            for row in rows:
                key = "geoclip" if row["encoder"].startswith("GeoCLIP") else row["encoder"]
                if key in part:
                    row[f"{probe}: {task.name}"] = f"{part[key]:.3f}"
    for row in rows[1:]:
        deltas = [float(row[f"linear: {t.name}"]) - float(rows[0][f"linear: {t.name}"]) for t in tasks]
        row["linear: worst / mean change vs GeoCLIP"] = f"{min(deltas):+.3f} / {np.mean(deltas):+.3f}"
    notes = [
        f"{args.points:,} random points for speed, {args.rounds} interleaved rounds, medians; the exact teacher's "
        f"float32 GEMM limit here is {gemm_limit_points_per_s(peak['float32']):,.0f} points/s. 'points/s' times "
        "the module's embed (batches of 8,192); 'GeoEmbedder points/s' times GeoEmbedder.transform on the same "
        "NumPy rows (default batch size, validation and copies included). Speed-ups divide by the exact teacher's "
        "embed rate. The share of the GEMM limit counts the linear layers' nominal FLOPs.",
        "Cosine on 20,000 equal-area points and 20,000 points within ~50 km of GeoNames places / MP-16 photos.",
        "Probe scores: accuracy (classification) or R² (regression), spatially blocked 5-fold CV, as in "
        "benchmarks/results/downstream.md.",
    ]
    columns = list(rows[0].keys() | set().union(*[r.keys() for r in rows]))
    ordered = [
        "encoder",
        "parameters",
        "exact points/s",
        "fast points/s",
        "speed-up (exact / fast)",
        "GeoEmbedder points/s (exact / fast)",
        "MFLOP per point",
        "exact: share of float32 GEMM limit",
        "cosine equal-area (median / p1)",
        "cosine cities (median / p1)",
        "linear: worst / mean change vs GeoCLIP",
    ]
    columns = ordered + sorted(c for c in columns if c not in ordered)
    write_results(args.name, "GeoCLIP-lite: distilled students vs the GeoCLIP teacher", rows, columns, notes, info=info)
    return 0


if __name__ == "__main__":
    main()
