"""The ``geoembed`` command line.

    geoembed demo                         embed the bundled world-cities sample
    geoembed embed INPUT -o OUTPUT        CSV/parquet in; parquet, CSV or npy out, streamed
    geoembed locate IMAGE...              top-k GPS predictions for photos
    geoembed locate-text "QUERY"...       top-k GPS predictions for text descriptions
    geoembed eval-geoloc CSV IMAGE_DIR    accuracy at 1/25/200/750/2500 km (Im2GPS3k format)
    geoembed bench nuswide --root DIR --geotags FILE   NUS-WIDE geo/visual/fused mAP table
    geoembed train DATA --out DIR         contrastive training of a location encoder
    geoembed map -o map.png               PCA-to-RGB map of an embedding grid
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .demo import DEFAULT_DEMO_CITIES, run_demo
from .files import embed_file
from .io import read_table

__all__ = ["build_parser", "main"]


def _demo(args) -> int:
    print(run_demo(args.output, args.cities).report())
    return 0


def _embed(args) -> int:
    start = time.perf_counter()
    n = embed_file(
        args.input,
        args.output,
        chunk_rows=args.chunk_rows,
        keep_columns=not args.drop_input_columns,
        progress=not args.quiet,
        lat_col=args.lat_col,
        lon_col=args.lon_col,
        precision=args.precision,
        normalize=args.normalize,
        dtype=args.dtype,
        batch_size=args.batch_size,
        device=args.device,
        weights=args.weights,
        wrap_longitude=args.wrap_longitude,
        on_invalid=args.on_invalid,
    )
    if not args.quiet:
        elapsed = time.perf_counter() - start
        print(f"wrote {n} rows to {args.output} in {elapsed:.1f} s ({n / max(elapsed, 1e-9):,.0f} points/s)")
    return 0


def _locator(args):
    from .retrieval import GeoLocator

    return GeoLocator(args.backbone, allow_download=args.allow_download, precision=args.precision,
                      device=args.device)


def _print_or_save(frame: pd.DataFrame, output) -> None:
    if output:
        frame.to_csv(output, index=False)
        print(f"wrote {len(frame)} rows to {output}")
    else:
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.5g}"))


def _locate(args) -> int:
    out = _locator(args).predict(args.images, top_k=args.top_k, batch_size=args.batch_size, on_error="report")
    _print_or_save(out, args.output)
    return 0 if out["error"].isna().all() else 1


def _locate_text(args) -> int:
    _print_or_save(_locator(args).locate_text(args.queries, top_k=args.top_k), args.output)
    return 0


def _eval_geoloc(args) -> int:
    from .retrieval.evaluation import evaluate_geolocation

    per_image, summary = evaluate_geolocation(_locator(args), args.csv, args.image_dir,
                                              batch_size=args.batch_size, limit=args.limit)
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if args.output:
        per_image.to_csv(args.output, index=False)
        print(f"per-image results: {args.output}")
    return 0


def _bench_nuswide(args) -> int:
    from .datasets.nuswide import load_nuswide, make_miniature_nuswide
    from .multilabel import format_table, run_nuswide_benchmark

    if args.miniature:
        root, geotags = make_miniature_nuswide(args.miniature, n_images=args.miniature_images)
        print(f"wrote a MINIATURE NUS-WIDE (synthetic, not the real release) to {root}")
    elif args.root and args.geotags:
        root, geotags = args.root, args.geotags
    else:
        raise ValueError("give --root DIR --geotags FILE (the real release), or --miniature DIR for a synthetic run")
    data = load_nuswide(root, geotags, feature=args.feature)
    print("join:", ", ".join(f"{k} {v}" for k, v in data.counts.items()))
    table = run_nuswide_benchmark(data, seeds=args.seeds, max_epochs=args.max_epochs, progress=not args.quiet)
    text = format_table(table)
    print(text)
    if args.output:
        Path(args.output).with_suffix(".md").write_text(text + "\n")
        table.to_csv(Path(args.output).with_suffix(".csv"), index=False)
        print(f"wrote {Path(args.output).with_suffix('.md')} and .csv")
    return 0


def _train(args) -> int:
    import dataclasses
    import json

    from .inputs import read_coordinates
    from .training import ContrastiveLocationTrainer, TrainConfig
    from .training.columns import default_feature_columns

    if args.resume:
        trainer = ContrastiveLocationTrainer.resume(args.resume, epochs=args.epochs)
        out_dir = args.resume
    else:
        config = TrainConfig.from_json(Path(args.config).read_text()) if args.config else TrainConfig()
        overrides = {"init": args.init, "add_sigmas": args.add_sigmas,
                     "freeze_branches": args.freeze_branches, "epochs": args.epochs, "batch_size": args.batch_size,
                     "learning_rate": args.lr, "queue_size": args.queue_size, "region": args.region,
                     "device": args.device, "random_state": args.random_state}
        if args.sigmas:
            overrides["encoder"] = dataclasses.replace(config.encoder, sigmas=tuple(map(float, args.sigmas)))
        config = dataclasses.replace(config, **{k: (tuple(v) if isinstance(v, list) else v)
                                                for k, v in overrides.items() if v is not None})
        trainer = ContrastiveLocationTrainer(config)
        out_dir = args.out
    if out_dir is None:
        raise ValueError("give --out DIR (or --resume DIR)")
    frame = read_table(args.data)
    coords = read_coordinates(frame, lat_col=args.lat_col, lon_col=args.lon_col)
    columns = args.feature_cols or default_feature_columns(frame, lat_col=args.lat_col, lon_col=args.lon_col)
    if not columns:
        raise ValueError("no numeric feature columns found; name them with --feature-cols")
    history = trainer.fit(frame[columns].to_numpy("float32"), np.column_stack([coords.lat, coords.lon]),
                          out_dir=out_dir, progress=not args.quiet)
    print(f"trained on {len(columns)} feature columns; checkpoint in {out_dir}")
    print(json.dumps(history.iloc[-1].to_dict()))
    return 0


def _map(args) -> int:
    from .embedder import GeoEmbedder
    from .grid import embed_grid, pca_rgb
    from .maps import plot_rgb_grid

    # fast GeoCLIP by default; other encoders take no precision
    precision = args.precision or ("fast" if args.encoder == "geoclip" else "exact")
    encoder = GeoEmbedder(encoder=args.encoder, precision=precision, normalize=True)
    grid = embed_grid(args.resolution, bbox=args.bbox, encoder=encoder, progress=not args.quiet)
    plot_rgb_grid(pca_rgb(grid), grid.lat.values, grid.lon.values, path=args.output,
                  title=f"{args.encoder} embedding, PCA to RGB ({args.resolution} degree grid)")
    print(f"wrote {args.output} ({grid.sizes['lat']} x {grid.sizes['lon']} cells)")
    return 0


def _add_retrieval_options(parser) -> None:
    parser.add_argument("--backbone", default=None,
                        help="CLIP model id or local folder (default openai/clip-vit-large-patch14)")
    parser.add_argument("--allow-download", action="store_true",
                        help="allow fetching the backbone from the Hugging Face Hub if it is not local")
    parser.add_argument("--precision", choices=["exact", "fast"], default="exact")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=16, help="images per CLIP forward pass")
    parser.add_argument("-o", "--output", help="write a CSV instead of printing")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geoembed", description="Geospatial embeddings (GeoCLIP and more).")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="embed the bundled sample of 300 world cities")
    demo.add_argument("-o", "--output", default="geoembed_demo.parquet", help="output parquet file")
    demo.add_argument("--cities", nargs="*", default=list(DEFAULT_DEMO_CITIES))
    demo.set_defaults(func=_demo)

    embed = sub.add_parser("embed", help="embed the lat/lon columns of a CSV or parquet file")
    embed.add_argument("input", help="CSV or parquet file with latitude and longitude columns")
    embed.add_argument("-o", "--output", required=True, help="output .parquet, .csv or .npy")
    embed.add_argument("--lat-col", help="latitude column (default: found by name)")
    embed.add_argument("--lon-col", help="longitude column (default: found by name)")
    embed.add_argument("--precision", choices=["exact", "fast"], default="exact")
    embed.add_argument("--normalize", action="store_true", help="L2-normalise each embedding")
    embed.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    embed.add_argument("--batch-size", type=int, default=4096, help="points per forward pass")
    embed.add_argument("--chunk-rows", type=int, default=50_000, help="rows read and written at a time")
    embed.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    embed.add_argument("--weights", help="a location-encoder checkpoint (default: bundled GeoCLIP)")
    embed.add_argument("--wrap-longitude", action="store_true", help="wrap longitudes into [-180, 180)")
    embed.add_argument(
        "--on-invalid", choices=["raise", "nan"], default="raise", help="fail on bad rows, or write NaN rows"
    )
    embed.add_argument("--drop-input-columns", action="store_true", help="write only the embedding columns")
    embed.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    embed.set_defaults(func=_embed)

    locate = sub.add_parser("locate", help="predict where photos were taken")
    locate.add_argument("images", nargs="+", help="image files or folders")
    locate.add_argument("--top-k", type=int, default=5)
    _add_retrieval_options(locate)
    locate.set_defaults(func=_locate)

    locate_text = sub.add_parser("locate-text", help="locate text descriptions, e.g. 'Pyramids of Giza'")
    locate_text.add_argument("queries", nargs="+")
    locate_text.add_argument("--top-k", type=int, default=5)
    _add_retrieval_options(locate_text)
    locate_text.set_defaults(func=_locate_text)

    evaluate = sub.add_parser("eval-geoloc", help="evaluate on an IMG_FILE,LAT,LON CSV and an image folder")
    evaluate.add_argument("csv")
    evaluate.add_argument("image_dir")
    evaluate.add_argument("--limit", type=int, help="only the first N rows")
    _add_retrieval_options(evaluate)
    evaluate.set_defaults(func=_eval_geoloc)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="benchmark", required=True)
    nuswide = bench.add_parser("nuswide", help="NUS-WIDE multi-label mAP: geo, visual (V) and fused")
    nuswide.add_argument("--root", help="unpacked NUS-WIDE release")
    nuswide.add_argument("--geotags", help="CSV/parquet with photo_id, latitude, longitude")
    nuswide.add_argument("--miniature", metavar="DIR", help="generate a synthetic miniature here and run on it")
    nuswide.add_argument("--miniature-images", type=int, default=3000)
    nuswide.add_argument("--feature", default="BoW_int", help="Low_Level_Features/<name>.dat used as V")
    nuswide.add_argument("--seeds", type=int, default=3)
    nuswide.add_argument("--max-epochs", type=int, default=30)
    nuswide.add_argument("-o", "--output", help="write OUTPUT.md and OUTPUT.csv")
    nuswide.add_argument("-q", "--quiet", action="store_true")
    nuswide.set_defaults(func=_bench_nuswide)

    train = sub.add_parser("train", help="train or fine-tune a location encoder on (features, lat/lon) pairs")
    train.add_argument("data", help="CSV/parquet with lat/lon and numeric feature columns")
    train.add_argument("--out", help="checkpoint folder")
    train.add_argument("--resume", help="continue the run in this checkpoint folder")
    train.add_argument("--config", help="JSON file of TrainConfig options (flags override it)")
    train.add_argument("--feature-cols", nargs="+", help="feature columns (default: every other numeric column)")
    train.add_argument("--lat-col")
    train.add_argument("--lon-col")
    train.add_argument("--init", help="random (default), geoclip, or a checkpoint path to fine-tune")
    train.add_argument("--sigmas", nargs="+", type=float, help="Fourier scales of a new encoder")
    train.add_argument("--add-sigmas", nargs="+", type=float, help="add branches, e.g. 4096 for finer detail")
    train.add_argument("--freeze-branches", nargs="+", type=int)
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--queue-size", type=int)
    train.add_argument("--region", nargs=4, type=float, metavar=("SOUTH", "WEST", "NORTH", "EAST"))
    train.add_argument("--device")
    train.add_argument("--random-state", "--seed", dest="random_state", type=int,
                       help="seed of initialisation, noise and batch order (--seed is the 0.1 spelling)")
    train.add_argument("-q", "--quiet", action="store_true")
    train.set_defaults(func=_train)

    maps = sub.add_parser("map", help="draw an embedding grid as a PCA-to-RGB map (PNG)")
    maps.add_argument("-o", "--output", default="geoembed_map.png")
    maps.add_argument("--resolution", type=float, default=1.0, help="grid step in degrees")
    maps.add_argument("--bbox", nargs=4, type=float, metavar=("SOUTH", "WEST", "NORTH", "EAST"))
    maps.add_argument("--encoder", default="geoclip", help="any registered encoder name")
    maps.add_argument("--precision", choices=["exact", "fast"], help="GeoCLIP precision (default: fast)")
    maps.add_argument("-q", "--quiet", action="store_true")
    maps.set_defaults(func=_map)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, TypeError, ImportError) as err:
        print(f"geoembed: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
