"""Embedding geodata files: GeoParquet, GeoPackage, GeoJSON and shapefiles, the geometry kept.

The job behind ``geoembed embed`` when its input holds geometries. The file is read whole with
geopandas (pyogrio), in its own CRS: points are embedded with :class:`~geoembed.GeoEmbedder`,
polygons with :class:`~geoembed.RegionEmbedder` (asked for with ``regions=True``, the CLI's
``--regions``). The output keeps the input's columns and its geometry (GeoParquet, GeoPackage)
next to the embedding columns, and appears atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from geoembed.core.geometry import read_geometries
from geoembed.core.utils import optional_import
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.encoders.regions import RegionEmbedder
from geoembed.io import atomic_output
from geoembed.io.paths import check_output_path

__all__ = ["GEODATA_INPUTS", "GEODATA_OUTPUTS", "add_geodata_options", "embed_geofile", "is_geodata_file"]

#: Input suffixes read as geodata (Parquet only when it carries GeoParquet metadata).
GEODATA_INPUTS = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet", ".pq", ".geoparquet")
#: Output suffix (lower case) -> format; CSV writes the geometry as WKT, npy the embedding only.
GEODATA_OUTPUTS = {".parquet": "geoparquet", ".pq": "geoparquet", ".geoparquet": "geoparquet", ".gpkg": "gpkg"}
GEODATA_OUTPUTS.update({".csv": "csv", ".npy": "npy"})

_POINT_TYPES = {"Point"}


def is_geodata_file(path) -> bool:
    """Whether ``path`` holds geometries: a GeoPackage, GeoJSON, shapefile or FlatGeobuf by its
    suffix, or a Parquet file with GeoParquet metadata (the ``geo`` key of its schema).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GEODATA_INPUTS or not path.is_file():
        return False
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        metadata = pq.read_schema(path).metadata or {}
        return b"geo" in metadata
    return suffix != ".json" or _looks_like_geojson(path)


def _looks_like_geojson(path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096)
    return b'"FeatureCollection"' in head or b'"Feature"' in head


def add_geodata_options(parser) -> None:
    """Add the geodata options of ``geoembed embed`` (``--regions``, ``--points-per-region``) to ``parser``."""
    group = parser.add_argument_group("geodata inputs (GeoParquet, GeoPackage, GeoJSON, shapefiles)")
    group.add_argument(
        "--regions",
        action="store_true",
        help="embed polygons as regions: the mean embedding of points sampled uniformly inside each",
    )
    group.add_argument(
        "--points-per-region",
        type=_positive_int,
        default=64,
        metavar="N",
        help="points sampled per region (default 64)",
    )


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def embed_geofile(
    input_path,
    output_path,
    *,
    regions: bool = False,
    points_per_region: int = 64,
    random_state: int = 0,
    keep_columns: bool = True,
    overwrite: bool = True,
    layer=None,
    chunk_rows=None,
    progress: bool = False,
    column_hints=None,
    **embedder_params,
) -> int:
    """Embed the geometries of a geodata file into GeoParquet, GeoPackage, CSV or npy.

    Parameters
    ----------
    input_path : str or Path
        A GeoParquet, GeoPackage, GeoJSON, shapefile or FlatGeobuf file with a CRS.
    output_path : str or Path
        ``.parquet`` (GeoParquet), ``.gpkg``, ``.csv`` (the geometry as WKT) or ``.npy`` (the
        embedding only). Never the input itself.
    regions : bool, default=False
        Embed polygons and multipolygons with :class:`~geoembed.RegionEmbedder`. Without it,
        a file of polygons raises ``ValueError`` suggesting it; points are always embedded as
        points.
    points_per_region : int, default=64
        ``RegionEmbedder(n_points=...)``.
    random_state : int, default=0
        ``RegionEmbedder(random_state=...)``.
    keep_columns : bool, default=True
        Write the input's columns (and geometry) before the embedding columns.
    overwrite : bool, default=True
        Replace an existing output; False raises ``FileExistsError`` before reading.
    layer : str or int, default=None
        The layer of a multi-layer GeoPackage.
    chunk_rows, progress, column_hints : ignored
        Accepted for the signature of :func:`geoembed.files.embed_file`: a geodata file is read
        and embedded whole, without a progress bar, from its geometry column (no lat/lon columns).
    **embedder_params
        Passed to :class:`~geoembed.GeoEmbedder` (``encoder``, ``weights``, ``precision``,
        ``dtype``, ``on_invalid``...); for regions ``encoder``, ``weights`` and ``on_invalid``
        go to the region embedder, the others to its GeoEmbedder.

    Returns
    -------
    int
        The number of rows written.
    """
    output_path = check_output_path(output_path, [input_path], overwrite=overwrite)
    output_format = GEODATA_OUTPUTS.get(Path(output_path).suffix.lower())
    if output_format is None:
        raise ValueError(
            f"unsupported output format {Path(output_path).suffix!r} for geodata; use .parquet (GeoParquet), "
            ".gpkg, .csv or .npy"
        )
    if not Path(input_path).is_file():
        raise FileNotFoundError(f"input file not found: {input_path}")
    gpd = optional_import("geopandas", extra="geo", purpose="embedding geodata files")
    suffix = Path(input_path).suffix.lower()
    if suffix in (".parquet", ".pq", ".geoparquet"):
        frame = gpd.read_parquet(input_path)
    else:
        frame = gpd.read_file(input_path, layer=layer) if layer is not None else gpd.read_file(input_path)
    read_geometries(frame, what=str(input_path))  # a missing CRS fails here, before any embedding
    kinds = set(frame.geometry.geom_type.dropna().unique())
    if kinds <= _POINT_TYPES:
        embedder = GeoEmbedder(**embedder_params)
    elif regions:
        region_params = {
            k: embedder_params.pop(k) for k in ("encoder", "weights", "on_invalid") if k in embedder_params
        }
        encoder = region_params.pop("encoder", "geoclip")
        if embedder_params:  # precision, dtype, batch size...: configure the GeoEmbedder of the points
            encoder = GeoEmbedder(encoder, weights=region_params.pop("weights", None), **embedder_params)
        embedder = RegionEmbedder(encoder, n_points=points_per_region, random_state=random_state, **region_params)
    else:
        raise ValueError(
            f"{input_path} holds {', '.join(sorted(kinds))} geometries; embed them as regions (the mean embedding "
            "of points sampled inside each) with --regions (regions=True), or convert them to points first"
        )
    # the output names do not depend on the data: one row settles them, so a clash fails before any
    # embedding, and the whole frame is then sampled (regions) and embedded once
    names = [str(n) for n in clone(embedder).fit(frame.iloc[:1]).get_feature_names_out()]
    clash = sorted(set(names) & set(frame.columns)) if keep_columns and output_format != "npy" else []
    if clash:
        raise ValueError(f"input columns {clash} clash with the embedding's names; rename them first")
    features = np.asarray(embedder.fit_transform(frame))
    embedding = pd.DataFrame(features, columns=names, index=frame.index)
    with atomic_output(output_path, overwrite=overwrite) as temporary:
        if output_format == "npy":
            np.save(temporary, features)
        elif not keep_columns:
            if output_format == "csv":
                embedding.to_csv(temporary, index=False)
            else:
                frame_out = gpd.GeoDataFrame(embedding, geometry=frame.geometry.values, crs=frame.crs)
                _write(frame_out, temporary, output_format, Path(output_path).stem)
        else:
            out = pd.concat([frame, embedding], axis=1)
            if output_format == "csv":
                out = pd.DataFrame(out).assign(**{frame.geometry.name: frame.geometry.to_wkt()})
                out.to_csv(temporary, index=False)
            else:
                frame_out = gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
                _write(frame_out, temporary, output_format, Path(output_path).stem)
    return len(frame)


def _write(frame, path, output_format, layer) -> None:
    if output_format == "geoparquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_file(path, driver="GPKG", layer=layer)
