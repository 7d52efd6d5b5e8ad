"""The ``geoembed`` command line.

    geoembed demo                         embed the bundled world-cities sample
    geoembed embed INPUT -o OUTPUT        CSV/parquet in; parquet, CSV or npy out, streamed
    geoembed locate IMAGE...              top-k GPS predictions for photos
    geoembed locate-text "QUERY"...       top-k GPS predictions for text descriptions
    geoembed eval-geoloc CSV IMAGE_DIR    accuracy at 1/25/200/750/2500 km (Im2GPS3k format)
    geoembed bench nuswide --root DIR --geotags FILE   NUS-WIDE geo/visual/fused mAP table (--miniature DIR: synthetic)
    geoembed train DATA --out DIR         contrastive training of a location encoder
    geoembed distill --out DIR            distil GeoCLIP into a small, fast student (GeoCLIP-lite)
    geoembed map -o map.png               PCA-to-RGB map of an embedding grid

Every file a command writes appears complete or not at all (written to a temporary file
next to it and renamed at the end; Ctrl-C and SIGTERM remove the temporary file). An
existing output named with ``-o``/``--out`` is never replaced without ``--overwrite``, and an
output that is one of the command's inputs is always refused; both checks run before anything
is read. The default outputs of ``demo`` and ``map`` (``geoembed_demo.parquet``,
``geoembed_map.png``) are the commands' own and are replaced on each run, so that both can
simply be run again.

Errors are reported on one line, ``geoembed: error: ...``, with exit status 2 for usage and
input errors (bad arguments, bad data, missing files, refused overwrites) and 1 for other
failures; 130 after Ctrl-C and 128 + N after signal N (143 for SIGTERM). ``--debug`` (or the
environment variable ``GEOEMBED_DEBUG=1``) re-raises instead, with the full traceback.
Warnings (deprecations, for instance) are one line too, ``geoembed: warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._params import MAX_INT, PRECISIONS
from .demo import DEFAULT_DEMO_CITIES, run_demo
from .files import check_output_path, check_writable_folder, embed_file
from .geofiles import add_geodata_options, embed_geofile, is_geodata_file
from .io import atomic_output, read_table

__all__ = ["build_parser", "main"]

#: Exit status of usage and input errors (argparse's own).
EXIT_USAGE = 2
#: Exit status of any other failure.
EXIT_FAILURE = 1

_INPUT_OS_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


# -- argument types ----------------------------------------------------------------------------


def _integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
    if abs(value) > MAX_INT:
        raise argparse.ArgumentTypeError(f"is outside the int64 range (at most {MAX_INT} in size); got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text!r}")
    return value


def _training_batch_size(text: str) -> int:
    value = _integer(text)
    if value < 2:  # a contrastive batch needs at least one negative
        raise argparse.ArgumentTypeError(f"must be an integer >= 2; got {text!r}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


# -- commands ----------------------------------------------------------------------------------


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


def _demo(args) -> int:
    _default_output(args, DEMO_OUTPUT)
    _check_output(args, args.output)
    print(run_demo(args.output, args.cities, overwrite=args.overwrite).report())
    return 0


#: CLI option -> GeoEmbedder parameter, for the options that configure an encoder.
_ENCODER_OPTIONS = {
    "--weights": "weights",
    "--precision": "precision",
    "--batch-size": "batch_size",
    "--device": "device",
}


def _embedder_params(args) -> dict:
    """GeoEmbedder parameters from --encoder, --weights, --precision (and --batch-size, --device where
    the command has them), refusing in CLI terms an option that the chosen encoder does not take.
    """
    from .embedder import GeoEmbedder
    from .encoders.registry import encoder_class

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
    return params


def _embed(args) -> int:
    _check_output(args, args.output, [args.input])
    if not Path(args.input).is_file():
        raise FileNotFoundError(f"input file not found: {args.input}")
    start = time.perf_counter()
    job = embed_file
    if is_geodata_file(args.input):  # GeoParquet, GeoPackage...: points, or polygons with --regions
        job = functools.partial(embed_geofile, regions=args.regions, points_per_region=args.points_per_region)
    elif args.regions:
        raise ValueError(f"--regions needs a geodata input (GeoParquet, GeoPackage, GeoJSON); {args.input} is a table")
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
    from .retrieval import GeoLocator

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


def _locate(args) -> int:
    from .retrieval.images import check_image_files

    _check_output(args, args.output, args.images)
    check_image_files(args.images)  # every missing or unreadable file in one error, before any model loads
    out = _locator(args).predict(args.images, top_k=args.top_k, batch_size=args.batch_size, on_error="report")
    _print_or_save(out, args)
    return 0 if out["error"].isna().all() else EXIT_FAILURE


def _locate_text(args) -> int:
    _check_output(args, args.output)
    _print_or_save(_locator(args).locate_text(args.queries, top_k=args.top_k), args)
    return 0


def _eval_geoloc(args) -> int:
    from .evaluation.geolocation import evaluate_geolocation
    from .evaluation.published import GEOCLIP_GEOLOCATION

    _check_output(args, args.output, [args.csv])
    _require_existing([args.csv, args.image_dir], "file or folder")
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


def _bench_nuswide(args) -> int:
    from .benchmarks.nuswide import run_benchmark

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


def _train(args) -> int:
    import dataclasses
    import json

    from .inputs import read_coordinates
    from .training import ContrastiveLocationTrainer, TrainConfig
    from .training.columns import default_feature_columns

    _require_existing([args.data], "data file")
    out_dir = _run_folder(args, inputs=(args.data, args.config))
    if args.resume:
        trainer = ContrastiveLocationTrainer.resume(args.resume, epochs=args.epochs)
    else:
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
        trainer = ContrastiveLocationTrainer(config)
    frame = read_table(args.data)
    coords = read_coordinates(frame, lat_col=args.lat_col, lon_col=args.lon_col)
    columns = args.feature_cols or default_feature_columns(frame, lat_col=args.lat_col, lon_col=args.lon_col)
    if not columns:
        raise ValueError("no numeric feature columns found; name them with --feature-cols")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"--feature-cols: no columns {missing} in {args.data}")
    history = trainer.fit(
        frame[columns].to_numpy("float32"),
        np.column_stack([coords.lat, coords.lon]),
        out_dir=out_dir,
        progress=not args.quiet,
    )
    print(f"trained on {len(columns)} feature columns; checkpoint in {out_dir}")
    print(json.dumps(history.iloc[-1].to_dict()))
    return 0


def _distill(args) -> int:
    import dataclasses
    import json
    import time

    from .training import DistillConfig, Distiller

    out_dir = _run_folder(args, inputs=(args.config,))
    start = time.perf_counter()
    if args.resume:
        distiller = Distiller.resume(args.resume, epochs=args.epochs)
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
        }
        student = {
            "n_frequencies": args.n_frequencies,
            "hidden_dim": args.hidden_dim,
            "n_hidden_layers": args.hidden_layers,
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


def _map(args) -> int:
    from ._utils import optional_import
    from .embedder import GeoEmbedder
    from .grid import embed_grid, pca_rgb
    from .maps import plot_rgb_grid

    _default_output(args, MAP_OUTPUT)
    _check_output(args, args.output)
    image_format = Path(args.output).suffix[1:].lower() or "png"
    backend_bases = optional_import("matplotlib.backend_bases", extra="plot", purpose="drawing maps")
    supported = backend_bases.FigureCanvasBase.get_supported_filetypes()
    if image_format not in supported:
        raise ValueError(f"unsupported image format {image_format!r}; use one of {', '.join(sorted(supported))}")
    encoder = GeoEmbedder(normalize=True, **_embedder_params(args))
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


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, with usage errors on one line: ``geoembed: error: ...`` and exit status 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"geoembed: error: {message} (see '{self.prog} --help')\n")


def _add_common_options(parser, *, writes: bool = True) -> None:
    if writes:
        parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    # SUPPRESS: given after the subcommand it sets the flag, absent it keeps the top-level value
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error (also GEOEMBED_DEBUG=1)",
    )


def _add_encoder_options(parser) -> None:
    """--encoder, --weights and --precision: the same options, defaults and help on every command that embeds."""
    from .encoders.registry import list_encoders

    parser.add_argument(
        "--encoder", default="geoclip", metavar="NAME", help=f"location encoder: {', '.join(list_encoders())}"
    )
    parser.add_argument(
        "--weights",
        help="GeoCLIP weights: geoclip-1.3.0 (default, the published model), geoclip-lite (the fast choice: "
        "a distilled student, ~30x faster, 0.9 MB) or a checkpoint file",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="exact",
        help="GeoCLIP precision: exact (float32, the published model's numbers) or fast (bfloat16 MLPs where "
        "the CPU/GPU supports them, ~4x faster, cosine to exact >= 0.9999)",
    )


def _add_retrieval_options(parser, *, unit: str = "images") -> None:
    parser.add_argument(
        "--backbone", default=None, help="CLIP model id or local folder (default openai/clip-vit-large-patch14)"
    )
    parser.add_argument(
        "--allow-download",
        action="store_true",
        help="allow fetching the backbone from the Hugging Face Hub if it is not local",
    )
    parser.add_argument("--precision", choices=PRECISIONS, default="exact")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=_positive_int, default=16, help=f"{unit} per CLIP forward pass")
    parser.add_argument("-o", "--output", help="write a CSV instead of printing")
    _add_common_options(parser)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _ArgumentParser(
        prog="geoembed",
        description="Geospatial embeddings (GeoCLIP and more).",
        epilog="example: geoembed demo   (then: geoembed <command> --help)",
    )
    parser.add_argument("--version", action="version", version=f"geoembed {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an error (also GEOEMBED_DEBUG=1)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="embed the bundled sample of 300 world cities")
    demo.add_argument(
        "-o",
        "--output",
        help=f"output parquet file (default: {DEMO_OUTPUT}, replaced on each run; a file named here is "
        "replaced only with --overwrite)",
    )
    demo.add_argument("--cities", nargs="*", default=list(DEFAULT_DEMO_CITIES))
    _add_common_options(demo)
    demo.set_defaults(func=_demo)

    embed = sub.add_parser("embed", help="embed the lat/lon columns of a CSV or parquet file")
    embed.add_argument("input", help="CSV or parquet file with latitude and longitude columns")
    embed.add_argument("-o", "--output", required=True, help="output .parquet, .csv or .npy")
    embed.add_argument("--lat-col", help="latitude column (default: found by name)")
    embed.add_argument("--lon-col", help="longitude column (default: found by name)")
    _add_encoder_options(embed)
    embed.add_argument("--normalize", action="store_true", help="L2-normalise each embedding")
    embed.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    embed.add_argument("--batch-size", type=_positive_int, default=4096, help="points per forward pass")
    embed.add_argument("--chunk-rows", type=_positive_int, default=50_000, help="rows read and written at a time")
    embed.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    embed.add_argument("--wrap-longitude", action="store_true", help="wrap longitudes into [-180, 180)")
    embed.add_argument(
        "--on-invalid", choices=["raise", "nan"], default="raise", help="fail on bad rows, or write NaN rows"
    )
    embed.add_argument("--drop-input-columns", action="store_true", help="write only the embedding columns")
    embed.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_geodata_options(embed)
    _add_common_options(embed)
    embed.set_defaults(func=_embed)

    locate = sub.add_parser("locate", help="predict where photos were taken")
    locate.add_argument("images", nargs="+", help="image files or folders")
    locate.add_argument("--top-k", type=_positive_int, default=5)
    _add_retrieval_options(locate)
    locate.set_defaults(func=_locate)

    locate_text = sub.add_parser("locate-text", help="locate text descriptions, e.g. 'Pyramids of Giza'")
    locate_text.add_argument("queries", nargs="+")
    locate_text.add_argument("--top-k", type=_positive_int, default=5)
    _add_retrieval_options(locate_text, unit="text queries")
    locate_text.set_defaults(func=_locate_text)

    evaluate = sub.add_parser("eval-geoloc", help="evaluate on an IMG_FILE,LAT,LON CSV and an image folder")
    evaluate.add_argument("csv")
    evaluate.add_argument("image_dir")
    evaluate.add_argument("--limit", type=_positive_int, help="only the first N rows")
    _add_retrieval_options(evaluate)
    evaluate.set_defaults(func=_eval_geoloc)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="benchmark", required=True)
    nuswide = bench.add_parser("nuswide", help="NUS-WIDE multi-label mAP: geo, visual (V) and fused")
    nuswide.add_argument("--root", help="unpacked NUS-WIDE release")
    nuswide.add_argument("--geotags", help="CSV/parquet with photo_id, latitude, longitude")
    nuswide.add_argument("--miniature", metavar="DIR", help="generate a synthetic miniature here and run on it")
    nuswide.add_argument("--miniature-images", type=_positive_int, default=3000)
    nuswide.add_argument("--feature", default="BoW_int", help="Low_Level_Features/<name>.dat used as V")
    nuswide.add_argument("--seeds", type=_positive_int, default=3)
    nuswide.add_argument("--max-epochs", type=_positive_int, default=30)
    nuswide.add_argument("-o", "--output", help="write OUTPUT.md, OUTPUT.json (with the machine) and OUTPUT.csv")
    nuswide.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(nuswide)
    nuswide.set_defaults(func=_bench_nuswide)

    train = sub.add_parser("train", help="train or fine-tune a location encoder on (features, lat/lon) pairs")
    train.add_argument("data", help="CSV/parquet with lat/lon and numeric feature columns")
    train.add_argument("--out", help="checkpoint folder (refused if not empty, unless --overwrite)")
    train.add_argument("--resume", help="continue the run in this checkpoint folder")
    train.add_argument("--config", help="JSON file of TrainConfig options (flags override it)")
    train.add_argument("--feature-cols", nargs="+", help="feature columns (default: every other numeric column)")
    train.add_argument("--lat-col")
    train.add_argument("--lon-col")
    train.add_argument("--init", help="random (default), geoclip, or a checkpoint path to fine-tune")
    train.add_argument("--sigmas", nargs="+", type=_positive_float, help="Fourier scales of a new encoder")
    train.add_argument("--add-sigmas", nargs="+", type=_positive_float, help="add branches, e.g. 4096 for finer detail")
    train.add_argument("--freeze-branches", nargs="+", type=_non_negative_int)
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", type=_training_batch_size)
    train.add_argument("--lr", type=_positive_float)
    train.add_argument("--queue-size", type=_non_negative_int, help="past coordinates used as negatives (0: none)")
    train.add_argument(
        "--bbox",
        "--region",
        dest="bbox",
        nargs=4,
        type=_finite_float,
        metavar=("SOUTH", "WEST", "NORTH", "EAST"),
        help="train on points inside this box only (degrees; WEST > EAST crosses the antimeridian); "
        "--region is the 0.2 spelling",
    )
    train.add_argument("--device")
    train.add_argument(
        "--random-state",
        "--seed",
        dest="random_state",
        type=_non_negative_int,
        help="seed of initialisation, noise and batch order (--seed is the 0.1 spelling)",
    )
    train.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(train)
    train.set_defaults(func=_train)

    distill = sub.add_parser(
        "distill",
        help="distil GeoCLIP (or any location encoder) into a small, fast student",
        epilog="example: geoembed distill --out runs/lite",
    )
    distill.add_argument("--out", help="checkpoint folder (refused if not empty, unless --overwrite)")
    distill.add_argument("--resume", help="continue the run in this checkpoint folder")
    distill.add_argument("--config", help="JSON file of DistillConfig options (flags override it)")
    distill.add_argument("--teacher", help="registered weights name or checkpoint (default: geoclip-1.3.0)")
    distill.add_argument("--n-points", type=_positive_int, help="training points (default 200000)")
    distill.add_argument("--n-frequencies", type=_positive_int, help="student Fourier frequencies per scale")
    distill.add_argument("--hidden-dim", type=_positive_int, help="student hidden width")
    distill.add_argument("--hidden-layers", type=_positive_int, help="student hidden layers per scale")
    distill.add_argument("--epochs", type=_positive_int)
    distill.add_argument("--batch-size", type=_positive_int, help="points per training step")
    distill.add_argument("--lr", type=_positive_float)
    distill.add_argument("--device")
    distill.add_argument("--random-state", dest="random_state", type=_non_negative_int)
    distill.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(distill)
    distill.set_defaults(func=_distill)

    maps = sub.add_parser("map", help="draw an embedding grid as a PCA-to-RGB map (PNG)")
    maps.add_argument(
        "-o",
        "--output",
        help=f"output image (default: {MAP_OUTPUT}, replaced on each run; a file named here is replaced "
        "only with --overwrite)",
    )
    maps.add_argument("--resolution", type=_positive_float, default=1.0, help="grid step in degrees")
    maps.add_argument("--bbox", nargs=4, type=_finite_float, metavar=("SOUTH", "WEST", "NORTH", "EAST"))
    _add_encoder_options(maps)
    maps.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(maps)
    maps.set_defaults(func=_map)
    _document(sub)
    return parser


#: Help texts of options that share a meaning across commands (filled in where a command gives none).
_OPTION_HELP = {
    "quiet": "no progress bar or summary",
    "device": "torch device: cpu, cuda, cuda:1 or auto",
    "precision": "exact (float32) or fast (bfloat16 MLPs where the CPU/GPU supports them)",
    "top_k": "predictions per query",
    "cities": "sample cities whose nearest neighbours in embedding space are printed",
    "dtype": "output dtype",
    "queries": "text descriptions, e.g. 'Pyramids of Giza'",
    "csv": "table with IMG_FILE, LAT, LON columns (Im2GPS3k layout)",
    "image_dir": "folder holding the images named in the CSV",
    "miniature_images": "images in the synthetic miniature",
    "seeds": "repetitions with different seeds (mean and std reported)",
    "max_epochs": "upper bound on training epochs (early stopping on a validation slice)",
    "lat_col": "latitude column (default: found by name)",
    "lon_col": "longitude column (default: found by name)",
    "add_sigmas": "add randomly initialised branches with these Fourier scales, e.g. 4096 for finer detail",
    "freeze_branches": "indices of branches whose weights stay fixed",
    "epochs": "training epochs (a resumed run continues up to this number)",
    "batch_size": "pairs per training step",
    "lr": "learning rate (Adam)",
    "random_state": "seed of initialisation, sampling and batch order",
    "output": "output file",
    "bbox": "only this box (degrees; WEST > EAST crosses the antimeridian); default: the whole globe",
    "on_invalid": "raise on bad rows, or write NaN rows",
}

#: One example per command, shown at the end of its --help.
_EXAMPLES = {
    "demo": "geoembed demo -o cities.parquet",
    "embed": "geoembed embed points.parquet -o embeddings.parquet --weights geoclip-lite",
    "locate": "geoembed locate photos/ --top-k 3 --backbone path/to/clip-vit-large-patch14",
    "locate-text": "geoembed locate-text 'Pyramids of Giza' --backbone path/to/clip-vit-large-patch14",
    "eval-geoloc": "geoembed eval-geoloc im2gps3k.csv im2gps3k/ --backbone path/to/clip -o per_image.csv",
    "nuswide": "geoembed bench nuswide --root NUS-WIDE/ --geotags geotags.csv -o nuswide",
    "train": "geoembed train pairs.parquet --out runs/ft --init geoclip --add-sigmas 4096 --epochs 5",
    "distill": "geoembed distill --out runs/lite",
    "map": "geoembed map -o map.png --resolution 1 --precision fast",
}


class _DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default unless its help already names it or there is none to show."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default is None or action.default is argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


def _document(subparsers) -> None:
    """Defaults in every help line, help text for every option and an example for every command."""
    for name, command in subparsers.choices.items():
        command.formatter_class = _DefaultsHelpFormatter
        if name in _EXAMPLES and not command.epilog:
            command.epilog = f"example: {_EXAMPLES[name]}"
        for action in command._actions:
            if action.help is None and action.dest in _OPTION_HELP:
                action.help = _OPTION_HELP[action.dest]
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _document(action)


# -- errors and signals ------------------------------------------------------------------------


class _Terminated(SystemExit):
    """Raised by the signal handler, so that ``finally`` blocks and atomic writers clean up."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise(signums=("SIGTERM", "SIGHUP")):
    """Turn SIGTERM (and SIGHUP) into :class:`_Terminated` while the block runs; yields the signals received.

    Only signals left at their default action are taken over (not ones the parent process
    chose to ignore, as ``nohup`` does), and only in the main thread, where Python runs
    handlers. A second termination signal during the clean-up is ignored. Ctrl-C keeps
    raising ``KeyboardInterrupt`` and is recorded too: some C extensions replace the
    exception a handler raises with one of their own, and the record still tells main why
    the command stopped.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def terminate(signum, frame):
        if not received:
            received.append(signum)
            raise _Terminated(signum)

    def interrupt(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = {}
    for name in signums:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _is_input_error(err: BaseException) -> bool:
    if isinstance(err, (ValueError, *_INPUT_OS_ERRORS)):
        return True
    backbone = sys.modules.get("geoembed.retrieval.backbone")  # loaded whenever it could have raised
    return backbone is not None and isinstance(err, backbone.BackboneNotAvailableError)


def _one_line(err: BaseException) -> str:
    text = "; ".join(line.strip() for line in str(err).splitlines() if line.strip())
    if isinstance(err, (ValueError, OSError, ImportError)) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _debug_requested(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("GEOEMBED_DEBUG", "").strip() not in ("", "0")


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 for usage and input errors, 1 for other failures
        (and for ``locate`` when some images could not be read), 130 after Ctrl-C, 128 + N
        after signal N. With ``--debug`` or ``GEOEMBED_DEBUG=1`` errors propagate instead.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a usage error (already printed), or --help
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    debug = _debug_requested(args)
    with _signals_raise() as received, warnings.catch_warnings():
        if not debug:  # the source line of a warning would be the package's, not the user's command
            warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except (Exception, KeyboardInterrupt, _Terminated) as err:
            if debug:
                raise
            return _report(err, received)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line, ``geoembed: warning: ...``, like errors (the full form with --debug)."""
    kind = "" if issubclass(category, (UserWarning, DeprecationWarning, FutureWarning)) else f"{category.__name__}: "
    text = "; ".join(part.strip() for part in str(message).splitlines() if part.strip())
    print(f"geoembed: warning: {kind}{text}", file=file or sys.stderr)


def _report(err: BaseException, received: list) -> int:
    """Print the one-line message for ``err`` and return the exit status."""
    if received or isinstance(err, (KeyboardInterrupt, _Terminated)):
        signum = received[0] if received else getattr(err, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(
            "geoembed: interrupted" if signum == signal.SIGINT else f"geoembed: terminated by {name}", file=sys.stderr
        )
        return 128 + signum
    if _is_input_error(err):
        print(f"geoembed: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    print(f"geoembed: error: {_one_line(err)} (run with --debug for the traceback)", file=sys.stderr)
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
