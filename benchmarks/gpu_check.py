"""CUDA check of the GeoCLIP teacher and the GeoCLIP-lite student: speed, and CUDA == CPU.

    python -m benchmarks.gpu_check [--out DIR] [--points 4000000]

For the exact teacher (``geoclip-1.3.0``) and the bundled student (``geoclip-lite``), on the
first CUDA device:

- correctness: the CUDA float32 (``exact``) output on 4,096 points (equal-area and near
  populated places) against the float64 reference within the float32 error bound of
  ``tests/numerics.py`` (the same bound the CPU tests use), and its largest difference from
  this machine's CPU output; the bfloat16 (``fast``) output's cosine to the reference;
- speed: points/s of ``embed`` on device-resident points (kernel time, CUDA events, median of
  rounds) in float32 and bfloat16, and end to end through ``GeoEmbedder(device="cuda")``
  (NumPy in, NumPy out, host transfers included), with the student/teacher ratio.

TF32 stays off (PyTorch's default), so ``exact`` is true float32. Results go to
``DIR/gpu_check.{md,json}`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._report import RESULTS_DIR, machine_info, write_results
from benchmarks.encoder_speed import cosine_rows, random_points
from geoembed import GeoEmbedder
from geoembed.models.geoclip import load_location_encoder
from geoembed.models.weights import get_weights, resolve_location_weights

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' float64 reference and bound
from numerics import geoclip_bound, geoclip_reference  # noqa: E402

WEIGHTS = ("geoclip-1.3.0", "geoclip-lite")


def check_points(n: int = 4096, seed: int = 0) -> np.ndarray:
    """Half equal-area over the globe, half within ~20 km of places (the σ=256 branch's scale)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    globe = np.column_stack([np.degrees(np.arcsin(rng.uniform(-1, 1, half))), rng.uniform(-180, 180, half)])
    centres = globe[rng.integers(0, half, n - half)]
    near = centres + rng.normal(0, 0.2, (n - half, 2))
    near[:, 0] = np.clip(near[:, 0], -89.9, 89.9)
    near[:, 1] = (near[:, 1] + 180) % 360 - 180
    return np.concatenate([globe, near])


def bound_ratio(actual: np.ndarray, latlon: np.ndarray, path: Path) -> float:
    """Largest |actual - reference| / bound; at most 1 passes (``tests/numerics.py``)."""
    actual, reference, tolerance = geoclip_bound(actual, latlon, path)
    return float((np.abs(actual - reference) / tolerance).max())


def cosine_to(actual: np.ndarray, latlon: np.ndarray, path: Path) -> float:
    return float(cosine_rows(actual, geoclip_reference(latlon, path)[0]).min())


def kernel_rate(module, points: torch.Tensor, precision: str, batch: int, rounds: int = 5) -> float:
    """Points/s of ``embed`` over device-resident points, timed with CUDA events."""
    module.embed(points[:batch], precision=precision)
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(0, len(points), batch):
            module.embed(points[i : i + batch], precision=precision)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return len(points) / float(np.median(times))


def end_to_end_rate(weights: str, precision: str, latlon: np.ndarray, batch: int, rounds: int = 3) -> float:
    embedder = GeoEmbedder(weights=weights, precision=precision, device="cuda", batch_size=batch)
    embedder.fit_transform(latlon[:batch])
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        embedder.transform(latlon)
        times.append(time.perf_counter() - start)
    return len(latlon) / float(np.median(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--points", type=int, default=4_000_000, help="points of the kernel timing")
    parser.add_argument("--end-to-end-points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=262_144)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    card = torch.cuda.get_device_name(0)
    print(f"{card}, torch {torch.__version__}, CUDA {torch.version.cuda}, TF32 {torch.backends.cuda.matmul.allow_tf32}")
    latlon = check_points()
    timing = random_points(args.points, seed=1)
    device_points = torch.from_numpy(timing).float().cuda()
    rows = []
    for name in WEIGHTS:
        path = resolve_location_weights(name)
        assert get_weights(name) is not None
        cpu_out = GeoEmbedder(weights=name).fit_transform(latlon)
        cuda_out = GeoEmbedder(weights=name, device="cuda").fit_transform(latlon)
        fast_out = GeoEmbedder(weights=name, precision="fast", device="cuda").fit_transform(latlon)
        module = load_location_encoder(path).cuda().eval()
        row = {
            "weights": name,
            "CUDA exact vs float64: max error / bound": round(bound_ratio(cuda_out, latlon, path), 3),
            "CPU exact vs float64: max error / bound": round(bound_ratio(cpu_out, latlon, path), 3),
            "max |CUDA - CPU|": f"{np.abs(cuda_out - cpu_out).max():.2e}",
            "CUDA fast: min cosine to float64": f"{cosine_to(fast_out, latlon, path):.5f}",
        }
        for precision in ("exact", "fast"):
            row[f"kernel points/s, {precision}"] = kernel_rate(module, device_points, precision, args.batch)
            row[f"end-to-end points/s, {precision}"] = end_to_end_rate(
                name, precision, timing[: args.end_to_end_points], args.batch
            )
        rows.append(row)
        print(row, flush=True)
        del module
        torch.cuda.empty_cache()
    teacher = dict(rows[0])
    for row in rows:
        for key in [k for k in row if k.endswith(("exact", "fast")) and "points/s" in k]:
            row[key + " (x exact teacher)"] = f"{row[key] / teacher[key.replace('fast', 'exact')]:.1f}x"
            row[key] = f"{row[key]:,.0f}"
    columns = list(rows[0])
    info = machine_info(probe_gemm=False)
    info["gpu"] = card
    info["cuda"] = torch.version.cuda
    notes = [
        f"GPU: {card}, CUDA {torch.version.cuda}, torch {torch.__version__}, TF32 off.",
        f"Kernel rates: {args.points:,} device-resident points in batches of {args.batch:,}, median of 5 rounds; "
        f"end to end: GeoEmbedder(device='cuda').transform on {args.end_to_end_points:,} NumPy rows, median of 3.",
        "Ratios divide by the exact teacher's rate of the same kind (kernel or end to end).",
        "Bound: |out - ref| <= 8 s + 1 ulp, s from float32 rounding of the Fourier angles pushed "
        "through the float64 network (tests/numerics.py); at most 1 passes.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    write_results(
        "gpu_check", "GeoCLIP teacher and GeoCLIP-lite on CUDA", rows, columns, notes, info=info, directory=args.out
    )
    failed = [r["weights"] for r in rows if r["CUDA exact vs float64: max error / bound"] > 1]
    if failed:
        print(f"CUDA outputs outside the float32 bound: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
