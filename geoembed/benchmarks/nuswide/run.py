"""Running the NUS-WIDE benchmark end to end: read (or make) the data, score, print and write the table."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from geoembed.benchmarks.nuswide.data import load_nuswide, make_miniature_nuswide
from geoembed.benchmarks.nuswide.protocol import run_nuswide_benchmark
from geoembed.benchmarks.nuswide.table import COLUMNS, MINIATURE_BANNER, NUSWIDE_MAP, split_line, table_rows
from geoembed.benchmarks.report import machine_info, markdown_table, write_results
from geoembed.io import atomic_output
from geoembed.io.paths import check_output_path

__all__ = ["run_benchmark"]

#: Suffixes of the files that ``output`` names.
OUTPUT_SUFFIXES = (".md", ".json", ".csv")


def run_benchmark(
    root=None,
    geotags=None,
    *,
    miniature=None,
    miniature_images: int = 3000,
    feature: str = "BoW_int",
    seeds: int = 3,
    max_epochs: int = 30,
    output=None,
    overwrite: bool = False,
    progress: bool = True,
    info: dict | None = None,
    echo=print,
) -> pd.DataFrame:
    """NUS-WIDE multi-label mAP of visual (V), geo and fused features, beside GeoCLIP's table.

    Give the real release (``root`` and ``geotags``) or ``miniature``, a folder where a
    synthetic miniature in the release layout is written first
    (:func:`~geoembed.benchmarks.nuswide.make_miniature_nuswide`), to exercise the pipeline
    offline. Every argument and the output files are checked before anything is read.

    Parameters
    ----------
    root : str or Path, default=None
        The unpacked NUS-WIDE release.
    geotags : str or Path, default=None
        CSV or parquet of photo_id, latitude, longitude.
    miniature : str or Path, default=None
        Write a synthetic miniature here and run on it (instead of ``root``/``geotags``).
    miniature_images : int, default=3000
    feature : str, default="BoW_int"
        ``Low_Level_Features/<feature>.dat`` used as V.
    seeds : int, default=3
        Repetitions of each row (mean and std reported).
    max_epochs : int, default=30
    output : str or Path, default=None
        Write ``OUTPUT.md``, ``OUTPUT.json`` (the table and the machine) and ``OUTPUT.csv``
        (its folder is created if needed).
    overwrite : bool, default=False
        Replace existing output files.
    progress : bool, default=True
    info : dict, default=None
        Machine description for the files (:func:`~geoembed.benchmarks.report.machine_info`);
        None probes the machine when the table is written.
    echo : callable, default=print
        Where the progress lines and the table go.

    Returns
    -------
    table : DataFrame
        From :func:`~geoembed.benchmarks.nuswide.run_nuswide_benchmark`, with a ``paper mAP`` column.
    """
    if miniature is not None and (root is not None or geotags is not None):
        raise ValueError("give either --root DIR --geotags FILE (the real release) or --miniature DIR, not both")
    if miniature is None and (root is None or geotags is None):
        raise ValueError("give --root DIR --geotags FILE (the real release), or --miniature DIR for a synthetic run")
    for name, value in (("miniature_images", miniature_images), ("seeds", seeds), ("max_epochs", max_epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if miniature is None:
        missing = [str(p) for p in (root, geotags) if not Path(p).exists()]
        if missing:
            raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
        if not Path(root).is_dir():
            raise NotADirectoryError(f"--root must be the unpacked NUS-WIDE release folder; got the file {root}")
    stem = None
    if output is not None:
        stem = Path(output)
        stem = stem.with_suffix("") if stem.suffix.lower() in OUTPUT_SUFFIXES else stem
        inputs = [p for p in (geotags,) if p is not None]
        stem.parent.mkdir(parents=True, exist_ok=True)
        for suffix in OUTPUT_SUFFIXES:
            check_output_path(
                stem.with_name(stem.name + suffix), inputs, overwrite=overwrite, overwrite_hint="--overwrite"
            )

    start = time.perf_counter()
    if miniature is not None:
        root, geotags = make_miniature_nuswide(miniature, n_images=miniature_images)
        echo(f"wrote a MINIATURE NUS-WIDE (synthetic, not the real release) to {root}")
    data = load_nuswide(root, geotags, feature=feature)
    join = ", ".join(f"{k} {v}" for k, v in data.counts.items())
    echo(f"join: {join}")
    table = run_nuswide_benchmark(data, seeds=seeds, max_epochs=max_epochs, progress=progress)
    elapsed = time.perf_counter() - start
    table["paper mAP"] = table["features"].map(NUSWIDE_MAP)

    notes = [MINIATURE_BANNER] if data.miniature else []
    notes += [
        split_line(table),
        f"Join of the release with the geotags: {join}.",
        f"Visual features (V): Low_Level_Features/{data.feature_name}.dat. Protocol: "
        "geoembed.benchmarks.nuswide (GPS2Vec's one-hidden-layer MLP, macro mAP).",
        "Paper column: GeoCLIP (NeurIPS 2023), NUS-WIDE table.",
        f"Wall time {elapsed / 60:.1f} min.",
    ]
    title = "NUS-WIDE multi-label mAP: geo, visual (V) and fused features"
    rows = table_rows(table)
    if stem is None:
        echo(f"# {title}\n\n{markdown_table(rows, COLUMNS)}\n\n" + "\n".join(f"- {n}" for n in notes))
        return table
    path = write_results(stem.name, title, rows, COLUMNS, notes, info or machine_info(), stem.parent)
    with atomic_output(stem.with_name(stem.name + ".csv")) as temporary:
        table.to_csv(temporary, index=False)
    echo(f"wrote {path}, {path.with_suffix('.json')} and {stem.name}.csv")
    return table
