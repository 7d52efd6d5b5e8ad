"""The commands: each reads its parsed arguments, calls the library and returns an exit status."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.cli._exits import EXIT_FAILURE
from geoembed.cli.demo import run_demo
from geoembed.files import embed_file
from geoembed.geofiles import embed_geofile, is_geodata_file
from geoembed.io import atomic_output, read_table
from geoembed.io.paths import check_output_path, check_writable_folder

__all__ = [
    "DEMO_OUTPUT",
    "MAP_OUTPUT",
    "bench_downstream_command",
    "bench_nuswide_command",
    "demo_command",
    "distill_command",
    "embed_command",
    "eval_geoloc_command",
    "locate_command",
    "locate_text_command",
    "map_command",
    "train_command",
]


def _check_output(args, output, inputs=()) -> None:
    """Refuse an output that is an input, that exists without --overwrite, or that cannot be written
    (before any reading).
    """
    if output:
        with _unwritable_is_an_input_error():
            check_output_path(output, inputs, overwrite=args.overwrite, overwrite_hint="--overwrite")


@contextlib.contextmanager
def _unwritable_is_an_input_error():
    """An output location found unwritable before any work is a usage error (exit 2), not a failure."""
    try:
        yield
    except PermissionError as err:
        raise ValueError(f"{err}; choose another output location") from None


#: The demo's own output, replaced on every run (an output named with -o is replaced only with --overwrite).
DEMO_OUTPUT = "geoembed_demo.parquet"
#: The map's own output, replaced on every run, as the demo's.
MAP_OUTPUT = "geoembed_map.png"


def _default_output(args, default: str) -> None:
    """A command's own default output is replaced on each run, so that it can simply be run again;
    a file the user named with ``-o`` is replaced only with ``--overwrite``.
    """
    if args.output is None:
        args.output, args.overwrite = default, True


def demo_command(args) -> int:
    _default_output(args, DEMO_OUTPUT)
    _check_output(args, args.output)
    print(run_demo(args.output, args.cities, overwrite=args.overwrite).report())
    return 0


#: CLI option -> GeoEmbedder parameter, for the options that configure an encoder.
_ENCODER_OPTIONS = {
    "--weights": "weights",
    "--precision": "precision",
    "--n-components": "n_components",
    "--interpolation-km": "interpolation_km",
    "--interpolation-cache-gb": "interpolation_cache_gb",
    "--batch-size": "batch_size",
    "--device": "device",
}


def _embedder_params(args) -> dict:
    """GeoEmbedder parameters from --encoder, --weights, --precision, --interpolation-km (and --batch-size,
    --device where the command has them), refusing in CLI terms an option that the chosen encoder does not take.
    """
    from geoembed.encoders.embedder import GeoEmbedder
    from geoembed.encoders.registry import encoder_class

    defaults = GeoEmbedder().get_params(deep=False)

    try:
        accepted = encoder_class(args.encoder)().get_params(deep=False)
    except ValueError as err:
        raise ValueError(f"--encoder: {err}") from None
    params = {"encoder": args.encoder}
    for option, name in _ENCODER_OPTIONS.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in accepted and value != defaults[name]:
            raise ValueError(
                f"{option} {value} does not apply to --encoder {args.encoder}; it configures encoders that "
                f"take it (e.g. geoclip)"
            )
        params[name] = value
    if params.get("precision") == "fast":
        _note_float32_fallback(params.get("device", defaults["device"]))
    return params


def _note_float32_fallback(device) -> None:
    """A warning when --precision fast will run in float32 (a CPU without native bfloat16): the same
    numbers and speed as exact, which a user who asked for speed should hear about, not find out.
    """
    from geoembed.core.utils import resolve_device
    from geoembed.models.kernels import bfloat16_is_fast

    try:
        resolved = resolve_device(device)
    except ValueError:  # CUDA asked for and missing: the embedder says so
        return
    if resolved.type == "cpu" and not bfloat16_is_fast(resolved):
        warnings.warn(
            "--precision fast runs in float32 on this CPU (it has neither AVX512-BF16 nor AMX): the same "
            "numbers and speed as --precision exact; --weights geoclip-lite is the fast choice here",
            stacklevel=2,
        )


def embed_command(args) -> int:
    _check_output(args, args.output, [args.input])
    if not Path(args.input).is_file():
        raise FileNotFoundError(f"input file not found: {args.input}")
    start = time.perf_counter()
    job = embed_file
    geodata = is_geodata_file(args.input)
    if geodata:  # GeoParquet, GeoPackage...: points, or polygons with --regions
        job = functools.partial(embed_geofile, regions=args.regions, points_per_region=args.points_per_region)
    elif args.regions:
        raise ValueError(f"--regions needs a geodata input (GeoParquet, GeoPackage, GeoJSON); {args.input} is a table")
    # an option that would change nothing is refused, rather than silently ignored
    default_points = inspect.signature(embed_geofile).parameters["points_per_region"].default
    if args.points_per_region != default_points and not args.regions:
        raise ValueError("--points-per-region applies to --regions only")
    if args.interpolation_cache_gb is not None and args.interpolation_km is None:
        raise ValueError("--interpolation-cache-gb applies to --interpolation-km only")
    projected = {"crs": args.crs, "x_col": args.x_col, "y_col": args.y_col}
    if geodata and (args.x_col is not None or args.y_col is not None):
        raise ValueError(
            f"{args.input} is a geodata file, embedded from its geometry column: --x-col and --y-col are for tables"
        )
    if geodata:  # --crs labels a file that records no CRS (a shapefile without its .prj)
        job = functools.partial(job, crs=args.crs)
    if args.crs is None and (args.x_col or args.y_col):
        raise ValueError("--x-col and --y-col name projected columns: give their --crs as well")
    if args.crs is not None and (args.lat_col or args.lon_col):
        raise ValueError("with --crs the coordinates are projected columns: name them with --x-col and --y-col")
    if not geodata:
        job = functools.partial(job, **projected)
    n = job(
        args.input,
        args.output,
        chunk_rows=args.chunk_rows,
        keep_columns=not args.drop_input_columns,
        progress=not args.quiet,
        overwrite=args.overwrite,
        column_hints=("--lat-col NAME", "--lon-col NAME"),
        lat_col=args.lat_col,
        lon_col=args.lon_col,
        normalize=args.normalize,
        dtype=args.dtype,
        wrap_longitude=args.wrap_longitude,
        on_invalid=args.on_invalid,
        **_embedder_params(args),
    )
    if not args.quiet:
        elapsed = time.perf_counter() - start
        print(f"wrote {n} rows to {args.output} in {elapsed:.1f} s ({n / max(elapsed, 1e-9):,.0f} points/s)")
    return 0


def _locator(args):
    from geoembed.retrieval import GeoLocator

    return GeoLocator(args.backbone, allow_download=args.allow_download, precision=args.precision, device=args.device)


def _print_or_save(frame: pd.DataFrame, args) -> None:
    if args.output:
        with atomic_output(args.output, overwrite=args.overwrite) as temporary:
            frame.to_csv(temporary, index=False)
        print(f"wrote {len(frame)} rows to {args.output}")
    else:
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.5g}"))


def _require_existing(paths, what: str) -> None:
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"no such {what}: {', '.join(missing)}")


def locate_command(args) -> int:
    from geoembed.retrieval.images import check_image_files

    _check_output(args, args.output, args.images)
    check_image_files(args.images)  # every missing or unreadable file in one error, before any model loads
    out = _locator(args).predict(args.images, top_k=args.top_k, batch_size=args.batch_size, on_error="report")
    _print_or_save(out, args)
    return 0 if out["error"].isna().all() else EXIT_FAILURE


def locate_text_command(args) -> int:
    _check_output(args, args.output)
    _print_or_save(_locator(args).locate_text(args.queries, top_k=args.top_k), args)
    return 0


def eval_geoloc_command(args) -> int:
    from geoembed.evaluation.geolocation import evaluate_geolocation, read_geoloc_csv
    from geoembed.evaluation.published import GEOCLIP_GEOLOCATION

    _check_output(args, args.output, [args.csv])
    _require_existing([args.csv, args.image_dir], "file or folder")
    # before any model loads: the table reads, and its images are there (a wrong folder fails here;
    # a few missing or unreadable images are reported as rows with their error, as documented)
    paths = read_geoloc_csv(args.csv, args.image_dir)["path"].iloc[: args.limit]
    missing = [str(path) for path in paths if not Path(path).is_file()]
    if paths.size and len(missing) == len(paths):
        raise FileNotFoundError(
            f"none of the {len(paths)} images of {args.csv} is in {args.image_dir} (e.g. {missing[0]}); "
            "is IMAGE_DIR the folder they are in?"
        )
    if missing:
        print(
            f"geoembed: warning: {len(missing)} of {len(paths)} images are missing (e.g. {missing[0]}); "
            "they are reported as rows with an error",
            file=sys.stderr,
        )
    per_image, summary = evaluate_geolocation(
        _locator(args),
        args.csv,
        args.image_dir,
        batch_size=args.batch_size,
        limit=args.limit,
        reference_results=GEOCLIP_GEOLOCATION,
    )
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if args.output:
        with atomic_output(args.output, overwrite=args.overwrite) as temporary:
            per_image.to_csv(temporary, index=False)
        print(f"per-image results: {args.output}")
    return 0


def bench_downstream_command(args) -> int:
    from geoembed.benchmarks.downstream import run_downstream

    run_downstream(
        args.output,
        tasks=args.tasks,
        encoders=args.encoders,
        probes=args.probes,
        half=args.half,
        n_samples=args.n_samples,
        folds=args.folds,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    return 0


def bench_nuswide_command(args) -> int:
    from geoembed.benchmarks.nuswide import run_benchmark

    run_benchmark(
        args.root,
        args.geotags,
        miniature=args.miniature,
        miniature_images=args.miniature_images,
        feature=args.feature,
        seeds=args.seeds,
        max_epochs=args.max_epochs,
        output=args.output,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    return 0


def _run_folder(args, inputs=()) -> str:
    """The checkpoint folder of ``train``/``distill``: ``--resume`` or ``--out``, never an input,
    and refused when it holds a previous run unless ``--overwrite`` or ``--resume`` says so.
    """
    out_dir = args.resume or args.out
    if out_dir is None:
        raise ValueError("give --out DIR (or --resume DIR)")
    if same := [p for p in inputs if p and Path(p).resolve() == Path(out_dir).resolve()]:
        raise ValueError(f"the checkpoint folder {out_dir} is the input {same[0]}; choose another --out")
    with _unwritable_is_an_input_error():
        check_writable_folder(out_dir, what="checkpoint folder")
    if not args.resume and not args.overwrite and Path(out_dir).exists() and any(Path(out_dir).iterdir()):
        raise FileExistsError(
            f"{out_dir} is not empty (a previous run?); pass --overwrite to replace its "
            f"checkpoint, or --resume {out_dir} to continue it"
        )
    return out_dir


def _refuse_settings_on_resume(args, flags: dict) -> None:
    """A resumed run continues with the settings saved in its folder: options that would change
    them (``flags``: spelling -> args attribute) are refused, not silently ignored.
    """
    given = [flag for flag, name in flags.items() if getattr(args, name, None) not in (None, False)]
    if args.resume and given:
        raise ValueError(
            f"--resume continues the run in {args.resume} with the settings saved there (config.json); "
            f"{', '.join(given)} cannot change them: leave them out (--epochs extends the run, --device moves it)"
        )


def train_command(args) -> int:
    import dataclasses
    import json

    from geoembed.core.inputs import read_coordinates
    from geoembed.training import ContrastiveLocationTrainer, TrainConfig
    from geoembed.training.columns import default_feature_columns

    _require_existing([args.data], "data file")
    _refuse_settings_on_resume(
        args,
        {
            "--config": "config",
            "--init": "init",
            "--sigmas": "sigmas",
            "--add-sigmas": "add_sigmas",
            "--freeze-branches": "freeze_branches",
            "--batch-size": "batch_size",
            "--lr": "lr",
            "--queue-size": "queue_size",
            "--bbox": "bbox",
            "--random-state": "random_state",
        },
    )
    out_dir = _run_folder(args, inputs=(args.data, args.config))
    config = None
    if not args.resume:
        if args.config:
            _require_existing([args.config], "config file")
        config = (
            TrainConfig.from_json(Path(args.config).read_text(), source=args.config) if args.config else TrainConfig()
        )
        overrides = {
            "init": args.init,
            "add_sigmas": args.add_sigmas,
            "freeze_branches": args.freeze_branches,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "queue_size": args.queue_size,
            "bbox": args.bbox,
            "device": args.device,
            "random_state": args.random_state,
        }
        if args.sigmas:
            overrides["encoder"] = dataclasses.replace(config.encoder, sigmas=tuple(map(float, args.sigmas)))
        config = dataclasses.replace(
            config, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items() if v is not None}
        )
        config.validate()  # cheap: every field, before the data is read
    frame = read_table(args.data)
    coords = read_coordinates(frame, lat_col=args.lat_col, lon_col=args.lon_col)
    columns = args.feature_cols or default_feature_columns(frame, lat_col=args.lat_col, lon_col=args.lon_col)
    if not columns:
        raise ValueError("no numeric feature columns found; name them with --feature-cols")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"--feature-cols: no columns {missing} in {args.data}")
    # the expensive part last: weights loaded (init) or a checkpoint resumed, once the data is known good
    if args.resume:
        trainer = ContrastiveLocationTrainer.resume(args.resume, epochs=args.epochs, device=args.device)
    else:
        trainer = ContrastiveLocationTrainer(config)
    history = trainer.fit(
        frame[columns].to_numpy("float32"),
        np.column_stack([coords.lat, coords.lon]),
        out_dir=out_dir,
        progress=not args.quiet,
    )
    shown = ", ".join(map(str, columns[:8])) + (f", ... ({len(columns) - 8} more)" if len(columns) > 8 else "")
    print(f"trained on {len(columns)} feature columns ({shown}); checkpoint in {out_dir}")
    print(json.dumps(history.iloc[-1].to_dict()))
    return 0


def distill_command(args) -> int:
    import dataclasses
    import json
    import time

    from geoembed.training import DistillConfig, Distiller

    _refuse_settings_on_resume(
        args,
        {
            "--config": "config",
            "--teacher": "teacher",
            "--n-points": "n_points",
            "--n-frequencies": "n_frequencies",
            "--hidden-dim": "hidden_dim",
            "--hidden-layers": "hidden_layers",
            "--grid-levels": "grid_levels",
            "--batch-size": "batch_size",
            "--lr": "lr",
            "--random-state": "random_state",
            "--region": "region",
            "--region-fraction": "region_fraction",
        },
    )
    out_dir = _run_folder(args, inputs=(args.config,))
    start = time.perf_counter()
    if args.resume:
        distiller = Distiller.resume(args.resume, epochs=args.epochs, device=args.device)
    else:
        if args.config:
            _require_existing([args.config], "config file")
        config = (
            DistillConfig.from_json(Path(args.config).read_text(), source=args.config)
            if args.config
            else DistillConfig()
        )
        overrides = {
            "teacher": args.teacher,
            "n_points": args.n_points,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.lr,
            "device": args.device,
            "random_state": args.random_state,
            "region": args.region,
            "region_fraction": args.region_fraction,
        }
        student = {
            "n_frequencies": args.n_frequencies,
            "hidden_dim": args.hidden_dim,
            "n_hidden_layers": args.hidden_layers,
            "grid_levels": args.grid_levels,
        }
        if any(v is not None for v in student.values()):
            overrides["student"] = dataclasses.replace(
                config.student, **{k: v for k, v in student.items() if v is not None}
            )
        config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
        distiller = Distiller(config)
    history = distiller.fit(out_dir=out_dir, progress=not args.quiet)
    print(
        f"student in {Path(out_dir) / 'location_encoder.safetensors'} after {time.perf_counter() - start:.0f} s; "
        f"use it with GeoEmbedder(weights=...)"
    )
    print(json.dumps(history.iloc[-1].to_dict()))
    return 0


def map_command(args) -> int:
    from geoembed.core.utils import optional_import
    from geoembed.encoders.embedder import GeoEmbedder
    from geoembed.grid import embed_grid, pca_rgb
    from geoembed.maps import plot_rgb_grid

    _default_output(args, MAP_OUTPUT)
    _check_output(args, args.output)
    image_format = Path(args.output).suffix[1:].lower() or "png"
    backend_bases = optional_import("matplotlib.backend_bases", extra="plot", purpose="drawing maps")
    supported = backend_bases.FigureCanvasBase.get_supported_filetypes()
    if image_format not in supported:
        raise ValueError(f"unsupported image format {image_format!r}; use one of {', '.join(sorted(supported))}")
    encoder = GeoEmbedder(normalize=True, **_embedder_params(args))
    n_features = encoder.fit([[0.0, 0.0]]).n_features_out_  # fitting learns nothing from the point
    if n_features < 3:
        raise ValueError(
            f"--encoder {args.encoder} gives {n_features} features; a map shows 3 principal components as RGB, "
            "so it needs an encoder with at least 3 (e.g. geoclip, sphereC+)"
        )
    grid = embed_grid(args.resolution, bbox=args.bbox, encoder=encoder, progress=not args.quiet)
    ax = plot_rgb_grid(
        pca_rgb(grid),
        grid.lat.values,
        grid.lon.values,
        title=f"{args.weights or args.encoder} embedding, PCA to RGB ({args.resolution} degree grid)",
    )
    try:
        with atomic_output(args.output, overwrite=args.overwrite) as temporary:
            ax.figure.savefig(temporary, bbox_inches="tight", format=image_format)
    finally:
        optional_import("matplotlib.pyplot", extra="plot", purpose="drawing maps").close(ax.figure)
    print(f"wrote {args.output} ({grid.sizes['lat']} x {grid.sizes['lon']} cells)")
    return 0


# -- the parser ------------------------------------------------------------------------------
