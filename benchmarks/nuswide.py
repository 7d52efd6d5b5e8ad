"""NUS-WIDE multi-label mAP: visual (V), location and fused features, beside GeoCLIP's table.

    python -m benchmarks.nuswide --root NUS-WIDE/ --geotags geotags.csv [--seeds 3]
    python -m benchmarks.nuswide --miniature /tmp/nuswide-mini [--miniature-images 3000]

The first form reads the real release (see :mod:`geoembed.datasets.nuswide` for the layout and the
geotag table); the second writes a synthetic miniature in the same layout first
(:func:`make_miniature_nuswide`) and runs on it, offline, to exercise the pipeline. The protocol
is :mod:`geoembed.evaluation.multilabel`'s. Writes ``benchmarks/results/<name>.{md,json,csv}``
(``nuswide``, or ``nuswide_miniature`` for a miniature run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._report import markdown_table, write_results
from benchmarks.paper_results import NUSWIDE_MAP
from geoembed.datasets.nuswide import load_nuswide
from geoembed.evaluation import run_nuswide_benchmark
from geoembed.geo import latlon_to_unit_xyz

__all__ = ["COLUMNS", "format_table", "main", "make_miniature_nuswide", "split_line", "table_rows"]

#: Columns of the printed table.
COLUMNS = ["features", "kind", "dim", "mAP (ours, mean ± std)", "mAP (paper)"]
MINIATURE_BANNER = (
    "**MINIATURE run: synthetic data in the NUS-WIDE layout, not the real release. "
    "The paper column is for reference only.**"
)


def make_miniature_nuswide(root, *, n_images: int = 3000, n_concepts: int = 81, seed: int = 0):
    """Write a small synthetic NUS-WIDE with the release layout, plus a geotag CSV.

    Labels follow a known rule so that the benchmark's pipeline can be tested: each concept is
    tied to a region (a centre and radius on the sphere) and to a visual-word pattern, and is
    positive when a noisy score mixing both crosses a threshold set for a realistic imbalance
    (from ~20% down to ~0.5% positives). Location and vision each carry part of the signal, so
    fused features beat either alone. 90% of the images are geotagged; a ``MINIATURE`` marker
    file says this is not the real release.

    Parameters
    ----------
    root : str or Path
        Folder to write (created if needed).
    n_images : int, default=3000
    n_concepts : int, default=81
    seed : int, default=0

    Returns
    -------
    root : Path
        The release folder, readable by :func:`geoembed.datasets.nuswide.load_nuswide`.
    geotags : Path
        ``root / "geotags.csv"`` with ``photo_id, latitude, longitude``.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    for sub in ("ConceptsList", "ImageList", "Groundtruth/AllLabels", "Low_Level_Features"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "MINIATURE").write_text("synthetic miniature of NUS-WIDE made by geoembed; not the real release\n")
    concepts = [f"concept{j:02d}" for j in range(n_concepts)]
    (root / "ConceptsList" / "Concepts81.txt").write_text("\n".join(concepts) + "\n")
    folders = rng.choice(["actor", "beach", "city", "animal", "sky"], n_images)
    photo_ids = rng.choice(np.arange(10_000_000, 99_999_999), n_images, replace=False)
    paths = [f"{f}\\{i:04d}_{pid}.jpg" for i, (f, pid) in enumerate(zip(folders, photo_ids))]
    (root / "ImageList" / "Imagelist.txt").write_text("\n".join(paths) + "\n")
    is_train = rng.random(n_images) < 0.6
    (root / "ImageList" / "TrainImagelist.txt").write_text("\n".join(p for p, t in zip(paths, is_train) if t) + "\n")
    (root / "ImageList" / "TestImagelist.txt").write_text("\n".join(p for p, t in zip(paths, is_train) if not t) + "\n")

    # locations: clustered around cities, as Flickr photos are
    centres = np.column_stack([rng.uniform(-40, 60, 40), rng.uniform(-180, 180, 40)])
    which = rng.integers(0, len(centres), n_images)
    lat = np.clip(centres[which, 0] + rng.normal(0, 3, n_images), -89, 89)
    lon = (centres[which, 1] + rng.normal(0, 3, n_images) + 180) % 360 - 180
    # visual words: a latent visual topic per image drives a Poisson bag of 500 words
    topics = rng.dirichlet(np.full(8, 0.3), n_images)
    word_profiles = rng.dirichlet(np.full(500, 0.05), 8)
    bow = rng.poisson(60 * topics @ word_profiles).astype(np.int64)
    np.savetxt(root / "Low_Level_Features" / "BoW_int.dat", bow, fmt="%d")
    normalized = bow / np.maximum(bow.sum(axis=1, keepdims=True), 1)
    np.savetxt(root / "Low_Level_Features" / "Normalized_BoW.dat", normalized, fmt="%.6f")

    xyz = np.column_stack(latlon_to_unit_xyz(lat, lon))
    positive_rate = np.geomspace(0.2, 0.005, n_concepts)
    for j, concept in enumerate(concepts):
        anchor = centres[rng.integers(0, len(centres))]
        anchor_xyz = np.array(latlon_to_unit_xyz(anchor[0], anchor[1]))
        geo_score = xyz @ anchor_xyz  # 1 at the anchor, falling with distance
        visual_score = topics @ rng.normal(0, 1, 8)
        score = (geo_score - geo_score.mean()) / geo_score.std() + (
            visual_score - visual_score.mean()
        ) / visual_score.std()
        score += rng.normal(0, 0.7, n_images)
        labels = (score >= np.quantile(score, 1 - positive_rate[j])).astype(int)
        (root / "Groundtruth" / "AllLabels" / f"Labels_{concept}.txt").write_text("\n".join(map(str, labels)) + "\n")

    tagged = rng.random(n_images) < 0.9
    geotags = pd.DataFrame(
        {"photo_id": photo_ids[tagged], "latitude": lat[tagged].round(6), "longitude": lon[tagged].round(6)}
    )
    path = root / "geotags.csv"
    geotags.to_csv(path, index=False)
    return root, path


def table_rows(table: pd.DataFrame, paper: dict = NUSWIDE_MAP) -> list[dict]:
    """Rows of the printed table: our mAP (mean ± std over seeds) beside the paper's.

    Parameters
    ----------
    table : DataFrame
        From :func:`geoembed.evaluation.run_nuswide_benchmark`.
    paper : dict, default=NUSWIDE_MAP
        Feature-set name -> published mAP; "-" where a row has none.

    Returns
    -------
    rows : list of dict
        One per table row, keyed by :data:`COLUMNS`, values formatted as text.
    """
    rows = []
    for _, r in table.iterrows():
        published = paper.get(r["features"])
        rows.append(
            {
                "features": r["features"],
                "kind": r["kind"],
                "dim": r["dimension"],
                "mAP (ours, mean ± std)": f"{r['mAP']:.3f} ± {r['mAP_std']:.3f} ({r['seeds']} seeds)",
                "mAP (paper)": "-" if published is None else f"{published:.3f}",
            }
        )
    return rows


def split_line(table: pd.DataFrame) -> str:
    """The train/test sizes and the concepts left out, from ``table.attrs``."""
    attrs = table.attrs
    return (
        f"{attrs.get('n_train')} train / {attrs.get('n_test')} test geotagged images; "
        f"{attrs.get('concepts_excluded')} concepts without a positive test image excluded."
    )


def format_table(table: pd.DataFrame, paper: dict = NUSWIDE_MAP) -> str:
    """Markdown in the paper's form, our mAP beside the paper's, with a banner for a miniature run.

    Parameters
    ----------
    table : DataFrame
        From :func:`geoembed.evaluation.run_nuswide_benchmark`.
    paper : dict, default=NUSWIDE_MAP

    Returns
    -------
    text : str
    """
    lines = [MINIATURE_BANNER + "\n"] if table.attrs.get("miniature") else []
    lines.append(markdown_table(table_rows(table, paper), COLUMNS))
    lines.append("\n" + split_line(table))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="unpacked NUS-WIDE release")
    parser.add_argument("--geotags", help="CSV/parquet with photo_id, latitude, longitude")
    parser.add_argument("--miniature", metavar="DIR", help="write a synthetic miniature here and run on it")
    parser.add_argument("--miniature-images", type=int, default=3000)
    parser.add_argument("--feature", default="BoW_int", help="Low_Level_Features/<name>.dat used as V")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--name", help="results file stem (default nuswide, or nuswide_miniature)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.miniature:
        root, geotags = make_miniature_nuswide(args.miniature, n_images=args.miniature_images)
        print(f"wrote a MINIATURE NUS-WIDE (synthetic, not the real release) to {root}")
    elif args.root and args.geotags:
        root, geotags = args.root, args.geotags
    else:
        parser.error("give --root DIR --geotags FILE (the real release), or --miniature DIR for a synthetic run")
    start = time.perf_counter()
    data = load_nuswide(root, geotags, feature=args.feature)
    join = ", ".join(f"{k} {v}" for k, v in data.counts.items())
    print("join:", join)
    table = run_nuswide_benchmark(data, seeds=args.seeds, max_epochs=args.max_epochs, progress=not args.quiet)
    elapsed = time.perf_counter() - start

    name = args.name or ("nuswide_miniature" if data.miniature else "nuswide")
    title = "NUS-WIDE multi-label mAP: geo, visual (V) and fused features"
    notes = [MINIATURE_BANNER] if data.miniature else []
    notes += [
        split_line(table),
        f"Join of the release with the geotags: {join}.",
        f"Visual features (V): Low_Level_Features/{data.feature_name}.dat. Protocol: "
        "geoembed.evaluation.multilabel (GPS2Vec's one-hidden-layer MLP, macro mAP).",
        "Paper column: GeoCLIP (NeurIPS 2023), NUS-WIDE table.",
        f"Wall time {elapsed / 60:.1f} min.",
    ]
    path = write_results(name, title, table_rows(table), COLUMNS, notes)
    table.assign(**{"paper mAP": table["features"].map(NUSWIDE_MAP)}).to_csv(path.with_suffix(".csv"), index=False)
    return table


if __name__ == "__main__":
    main()
