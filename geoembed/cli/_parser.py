"""The parser: subcommands, their options, help tables and examples."""

from __future__ import annotations

import argparse

__all__ = ["build_parser"]


from geoembed.benchmarks.downstream import PROBES
from geoembed.cli._arguments import (
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    training_batch_size,
)
from geoembed.cli._commands import (
    DEMO_OUTPUT,
    MAP_OUTPUT,
    bench_downstream_command,
    bench_nuswide_command,
    demo_command,
    distill_command,
    embed_command,
    eval_geoloc_command,
    locate_command,
    locate_text_command,
    map_command,
    train_command,
)
from geoembed.cli._exits import EXIT_USAGE
from geoembed.cli.demo import DEFAULT_DEMO_CITIES
from geoembed.core.params import PRECISIONS
from geoembed.datasets.heldout import HALVES
from geoembed.geofiles import add_geodata_options


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
    from geoembed.encoders.registry import list_encoders

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
        "the CPU/GPU supports them, ~4x faster, cosine to exact >= 0.9999; on a CPU without AVX512-BF16 or "
        "AMX it is float32, the same as exact, and says so)",
    )
    parser.add_argument(
        "--interpolation-km",
        type=positive_float,
        metavar="KM",
        help="GeoCLIP computed on a grid with this spacing and interpolated in between: for many points in one "
        "city, region or country, the cost follows the area instead of the number of points (0.5 km kept exact "
        "GeoCLIP's probe scores within 0.01 on every held-out evaluation task; slower for points spread over "
        "the globe)",
    )
    parser.add_argument(
        "--n-components",
        type=positive_int,
        metavar="K",
        help="GeoCLIP features projected on their first K principal components (nested: the first k columns "
        "of any larger K are the output for k); with --interpolation-km the grid nodes are kept projected, "
        "so a cache holds 512 / K times the area",
    )
    parser.add_argument(
        "--interpolation-cache-gb",
        type=non_negative_float,
        metavar="GB",
        help="GiB of grid-node embeddings kept from chunk to chunk with --interpolation-km (default 2; a country "
        "at 0.5 km needs more: raise it, or sort the rows by location)",
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
    parser.add_argument("--batch-size", type=positive_int, default=16, help=f"{unit} per CLIP forward pass")
    parser.add_argument("-o", "--output", help="write a CSV instead of printing")
    _add_common_options(parser)


def build_parser() -> argparse.ArgumentParser:
    from geoembed import __version__

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
    demo.set_defaults(func=demo_command)

    embed = sub.add_parser(
        "embed", help="embed the lat/lon columns of a CSV or Parquet file, or the geometries of a geodata file"
    )
    embed.add_argument(
        "input",
        help="CSV or Parquet file with latitude and longitude columns (or projected x/y with --crs), or a "
        "geodata file in its CRS: GeoParquet, GeoPackage, shapefile, FlatGeobuf, GeoJSON (points; areas "
        "with --regions)",
    )
    embed.add_argument(
        "-o",
        "--output",
        required=True,
        help="output .parquet, .csv or .npy; from a geodata file also .gpkg (GeoParquet and GeoPackage keep "
        "the CRS; .csv writes the geometry as WKT in the input's CRS, recorded nowhere)",
    )
    embed.add_argument("--lat-col", help="latitude column (default: found by name)")
    embed.add_argument("--lon-col", help="longitude column (default: found by name)")
    embed.add_argument(
        "--crs",
        help="the table's coordinates are projected x/y columns in this CRS (e.g. EPSG:25832, EPSG:2154, "
        "EPSG:27700), reprojected to degrees; for a geodata file that records no CRS (a shapefile without its "
        ".prj), the CRS of its geometries",
    )
    embed.add_argument("--x-col", help="with --crs: the x (easting) column (default: found by name, x or easting)")
    embed.add_argument("--y-col", help="with --crs: the y (northing) column (default: found by name, y or northing)")
    _add_encoder_options(embed)
    embed.add_argument("--normalize", action="store_true", help="L2-normalise each embedding")
    embed.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    embed.add_argument("--batch-size", type=positive_int, default=4096, help="points per forward pass")
    embed.add_argument("--chunk-rows", type=positive_int, default=50_000, help="rows read and written at a time")
    embed.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    embed.add_argument("--wrap-longitude", action="store_true", help="wrap longitudes into [-180, 180)")
    embed.add_argument(
        "--on-invalid", choices=["raise", "nan"], default="raise", help="fail on bad rows, or write NaN rows"
    )
    embed.add_argument("--drop-input-columns", action="store_true", help="write only the embedding columns")
    embed.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_geodata_options(embed)
    _add_common_options(embed)
    embed.set_defaults(func=embed_command)

    locate = sub.add_parser("locate", help="predict where photos were taken")
    locate.add_argument("images", nargs="+", help="image files or folders")
    locate.add_argument("--top-k", type=positive_int, default=5)
    _add_retrieval_options(locate)
    locate.set_defaults(func=locate_command)

    locate_text = sub.add_parser("locate-text", help="locate text descriptions, e.g. 'Pyramids of Giza'")
    locate_text.add_argument("queries", nargs="+")
    locate_text.add_argument("--top-k", type=positive_int, default=5)
    _add_retrieval_options(locate_text, unit="text queries")
    locate_text.set_defaults(func=locate_text_command)

    evaluate = sub.add_parser("eval-geoloc", help="evaluate on an IMG_FILE,LAT,LON CSV and an image folder")
    evaluate.add_argument("csv")
    evaluate.add_argument("image_dir")
    evaluate.add_argument("--limit", type=positive_int, help="only the first N rows")
    _add_retrieval_options(evaluate)
    evaluate.set_defaults(func=eval_geoloc_command)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="benchmark", required=True)
    nuswide = bench.add_parser("nuswide", help="NUS-WIDE multi-label mAP: geo, visual (V) and fused")
    nuswide.add_argument("--root", help="unpacked NUS-WIDE release")
    nuswide.add_argument("--geotags", help="CSV/parquet with photo_id, latitude, longitude")
    nuswide.add_argument("--miniature", metavar="DIR", help="generate a synthetic miniature here and run on it")
    nuswide.add_argument("--miniature-images", type=positive_int, default=3000)
    nuswide.add_argument("--feature", default="BoW_int", help="Low_Level_Features/<name>.dat used as V")
    nuswide.add_argument("--seeds", type=positive_int, default=3)
    nuswide.add_argument("--max-epochs", type=positive_int, default=30)
    nuswide.add_argument("-o", "--output", help="write OUTPUT.md, OUTPUT.json (with the machine) and OUTPUT.csv")
    nuswide.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(nuswide)
    nuswide.set_defaults(func=bench_nuswide_command)
    downstream = bench.add_parser(
        "downstream", help="the downstream suite: location encoders x real tasks x probes (spatially blocked CV)"
    )
    downstream.add_argument(
        "--half",
        choices=HALVES,
        help="run this part of the held-out pool instead of the suite; 'evaluation' is the half nothing was tuned on",
    )
    downstream.add_argument(
        "--tasks", nargs="+", metavar="TASK", help="default: every suite task, or with --half its location-only tasks"
    )
    downstream.add_argument("--encoders", nargs="+", metavar="NAME", help="default: GeoCLIP and the classic encoders")
    downstream.add_argument(
        "--probes", nargs="+", default=["linear", "knn"], choices=PROBES, metavar="PROBE", help=f"among {PROBES}"
    )
    downstream.add_argument(
        "--n-samples", type=positive_int, help="rows per suite task (default 4000; held-out tasks keep theirs)"
    )
    downstream.add_argument("--folds", type=positive_int, default=5, help="spatially blocked folds")
    downstream.add_argument("-o", "--output", help="write OUTPUT.md, .json (with the machine), .csv and .png")
    downstream.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(downstream)
    downstream.set_defaults(func=bench_downstream_command)

    train = sub.add_parser("train", help="train or fine-tune a location encoder on (features, lat/lon) pairs")
    train.add_argument("data", help="CSV/parquet with lat/lon and numeric feature columns")
    train.add_argument("--out", help="checkpoint folder (refused if not empty, unless --overwrite)")
    train.add_argument("--resume", help="continue the run in this checkpoint folder")
    train.add_argument("--config", help="JSON file of TrainConfig options (flags override it)")
    train.add_argument("--feature-cols", nargs="+", help="feature columns (default: every other numeric column)")
    train.add_argument("--lat-col")
    train.add_argument("--lon-col")
    train.add_argument("--init", help="random (default), geoclip, or a checkpoint path to fine-tune")
    train.add_argument("--sigmas", nargs="+", type=positive_float, help="Fourier scales of a new encoder")
    train.add_argument("--add-sigmas", nargs="+", type=positive_float, help="add branches, e.g. 4096 for finer detail")
    train.add_argument("--freeze-branches", nargs="+", type=non_negative_int)
    train.add_argument("--epochs", type=positive_int)
    train.add_argument("--batch-size", type=training_batch_size)
    train.add_argument("--lr", type=positive_float)
    train.add_argument("--queue-size", type=non_negative_int, help="past coordinates used as negatives (0: none)")
    train.add_argument(
        "--bbox",
        "--region",
        dest="bbox",
        nargs=4,
        type=finite_float,
        metavar=("SOUTH", "WEST", "NORTH", "EAST"),
        help="train on points inside this box only (degrees; WEST > EAST crosses the antimeridian); "
        "--region is the 0.2 spelling",
    )
    train.add_argument("--device")
    train.add_argument(
        "--random-state",
        "--seed",
        dest="random_state",
        type=non_negative_int,
        help="seed of initialisation, noise and batch order (--seed is the 0.1 spelling)",
    )
    train.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(train)
    train.set_defaults(func=train_command)

    distill = sub.add_parser(
        "distill",
        help="distil GeoCLIP (or any location encoder) into a small, fast student",
        epilog="example: geoembed distill --out runs/lite",
    )
    distill.add_argument("--out", help="checkpoint folder (refused if not empty, unless --overwrite)")
    distill.add_argument("--resume", help="continue the run in this checkpoint folder")
    distill.add_argument("--config", help="JSON file of DistillConfig options (flags override it)")
    distill.add_argument("--teacher", help="registered weights name or checkpoint (default: geoclip-1.3.0)")
    distill.add_argument("--n-points", type=positive_int, help="training points (default 200000)")
    distill.add_argument("--n-frequencies", type=positive_int, help="student Fourier frequencies per scale")
    distill.add_argument("--hidden-dim", type=positive_int, help="student hidden width")
    distill.add_argument("--hidden-layers", type=positive_int, help="student hidden layers per scale")
    distill.add_argument(
        "--grid-levels",
        type=non_negative_int,
        help="levels of a multiresolution grid branch (0: none); it keeps fine detail where points are dense",
    )
    distill.add_argument(
        "--region",
        nargs=4,
        type=float,
        metavar=("SOUTH", "WEST", "NORTH", "EAST"),
        help="draw --region-fraction of the points inside this box (degrees): where your data is",
    )
    distill.add_argument("--region-fraction", type=float, help="share of the points inside --region (default 0.5)")
    distill.add_argument("--epochs", type=positive_int)
    distill.add_argument("--batch-size", type=positive_int, help="points per training step")
    distill.add_argument("--lr", type=positive_float)
    distill.add_argument("--device")
    distill.add_argument("--random-state", dest="random_state", type=non_negative_int)
    distill.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(distill)
    distill.set_defaults(func=distill_command)

    maps = sub.add_parser("map", help="draw an embedding grid as a PCA-to-RGB map (PNG)")
    maps.add_argument(
        "-o",
        "--output",
        help=f"output image (default: {MAP_OUTPUT}, replaced on each run; a file named here is replaced "
        "only with --overwrite)",
    )
    maps.add_argument("--resolution", type=positive_float, default=1.0, help="grid step in degrees")
    maps.add_argument("--bbox", nargs=4, type=finite_float, metavar=("SOUTH", "WEST", "NORTH", "EAST"))
    _add_encoder_options(maps)
    maps.add_argument("-q", "--quiet", action="store_true")
    _add_common_options(maps)
    maps.set_defaults(func=map_command)
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
    "downstream": "geoembed bench downstream --tasks koppen5 land_ocean --probes linear -o downstream",
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
