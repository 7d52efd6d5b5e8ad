r"""NUS-WIDE (Chua et al., CIVR 2009) in its official release layout, joined with geotags.

Layout read (``root`` = the unpacked release)::

    ConceptsList/Concepts81.txt
    ImageList/Imagelist.txt, TrainImagelist.txt, TestImagelist.txt   (paths like actor\\0002_174174086.jpg)
    Groundtruth/AllLabels/Labels_<concept>.txt                       (one 0/1 per Imagelist line)
      or Groundtruth/TrainTestLabels/Labels_<concept>_{Train,Test}.txt
    Low_Level_Features/BoW_int.dat (500-d SIFT bag of words), Normalized_*.dat, row-aligned with Imagelist

The release has no coordinates. Geotags come from a user table (CSV or parquet) with a photo
id column and latitude/longitude columns, joined on the Flickr photo id (the digits after the
last underscore of the image path).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.core.geo import latlon_to_unit_xyz
from geoembed.core.inputs import LAT_NAMES, LON_NAMES
from geoembed.io import atomic_output

__all__ = ["NUSWide", "load_nuswide", "make_miniature_nuswide", "photo_id_from_path", "read_geotags"]


@dataclass
class NUSWide:
    """The geo-tagged images of a NUS-WIDE release, row-aligned."""

    photo_ids: np.ndarray  # (n,) str
    concepts: list[str]
    labels: np.ndarray  # (n, n_concepts) uint8
    is_train: np.ndarray  # (n,) bool
    visual: np.ndarray  # (n, d) float32
    latlon: np.ndarray  # (n, 2) float64
    feature_name: str
    counts: dict = field(default_factory=dict)
    miniature: bool = False


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"NUS-WIDE file missing: {path}")
    return [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]


def photo_id_from_path(path: str) -> str:
    r"""``actor\0002_174174086.jpg`` -> ``174174086``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    return stem.rsplit("_", 1)[-1]


def _read_matrix(path: Path, n_rows: int) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"NUS-WIDE feature file missing: {path}")
    matrix = pd.read_csv(path, sep=r"\s+", header=None, dtype=np.float32, engine="c").to_numpy()
    if matrix.shape[0] != n_rows:
        raise ValueError(
            f"{path.name} has {matrix.shape[0]} rows but Imagelist.txt has {n_rows}: "
            "features and image list are misaligned"
        )
    return matrix


def _read_labels(root: Path, concepts: list[str], images: list[str], train: set, test: set) -> np.ndarray:
    all_dir = root / "Groundtruth" / "AllLabels"
    labels = np.zeros((len(images), len(concepts)), dtype=np.uint8)
    if all_dir.is_dir():
        for j, concept in enumerate(concepts):
            values = _read_lines(all_dir / f"Labels_{concept}.txt")
            if len(values) != len(images):
                raise ValueError(f"Labels_{concept}.txt has {len(values)} lines, Imagelist.txt {len(images)}")
            labels[:, j] = np.asarray(values, dtype=np.uint8)
        return labels
    split_dir = root / "Groundtruth" / "TrainTestLabels"
    if not split_dir.is_dir():
        raise FileNotFoundError(f"neither {all_dir} nor {split_dir} exists")
    row_of = {path: i for i, path in enumerate(images)}
    for part, members in (("Train", train), ("Test", test)):
        ordered = [p for p in images if p in members]
        for j, concept in enumerate(concepts):
            values = _read_lines(split_dir / f"Labels_{concept}_{part}.txt")
            if len(values) != len(ordered):
                raise ValueError(f"Labels_{concept}_{part}.txt has {len(values)} lines, {part} list {len(ordered)}")
            labels[[row_of[p] for p in ordered], j] = np.asarray(values, dtype=np.uint8)
    return labels


def read_geotags(path) -> pd.DataFrame:
    """A photo-id / lat / lon table (CSV or parquet); duplicate ids must agree."""
    path = Path(path)
    frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path, dtype=str)
    lower = {str(c).strip().lower(): c for c in frame.columns}
    id_col = next((lower[c] for c in ("photo_id", "photoid", "id", "flickr_id") if c in lower), None)
    lat_col = next((lower[c] for c in LAT_NAMES if c in lower), None)
    lon_col = next((lower[c] for c in LON_NAMES if c in lower), None)
    if id_col is None or lat_col is None or lon_col is None:
        raise ValueError(
            f"geotag table {path} needs photo_id, latitude and longitude columns; got {list(frame.columns)}"
        )
    tags = pd.DataFrame(
        {
            "photo_id": frame[id_col].astype(str).str.strip(),
            "lat": pd.to_numeric(frame[lat_col], errors="coerce"),
            "lon": pd.to_numeric(frame[lon_col], errors="coerce"),
        }
    )
    bad = tags[["lat", "lon"]].isna().any(axis=1) | ~tags["lat"].between(-90, 90) | ~tags["lon"].between(-180, 180)
    if bad.any():
        raise ValueError(f"geotag rows {list(tags.index[bad][:5])} have missing or out-of-range coordinates")
    duplicated = tags["photo_id"].duplicated(keep=False)
    if duplicated.any():
        conflicting = tags[duplicated].groupby("photo_id")[["lat", "lon"]].nunique().max(axis=1) > 1
        if conflicting.any():
            raise ValueError(f"photo ids {list(conflicting.index[conflicting][:5])} have conflicting coordinates")
        extra = int(tags["photo_id"].duplicated().sum())
        warnings.warn(f"{extra} duplicate geotag rows with identical coordinates; kept one of each")
        tags = tags.drop_duplicates("photo_id")
    return tags


def load_nuswide(root, geotags, *, feature: str = "BoW_int", miniature: bool | None = None) -> NUSWide:
    """Read a NUS-WIDE release and keep the images that have geotags.

    ``feature`` names a ``Low_Level_Features/<feature>.dat`` file (default the 500-d SIFT BoW).
    The join's counts (images, with coordinates, with labels, both, neither; geotags for
    unknown ids) are in ``.counts``.
    """
    root = Path(root)
    concepts = _read_lines(root / "ConceptsList" / "Concepts81.txt")
    images = _read_lines(root / "ImageList" / "Imagelist.txt")
    train = set(_read_lines(root / "ImageList" / "TrainImagelist.txt"))
    test = set(_read_lines(root / "ImageList" / "TestImagelist.txt"))
    labels = _read_labels(root, concepts, images, train, test)
    visual = _read_matrix(root / "Low_Level_Features" / f"{feature}.dat", len(images))
    ids = np.asarray([photo_id_from_path(p) for p in images])
    if len(set(ids)) != len(ids):
        raise ValueError("Imagelist.txt repeats photo ids")
    tags = read_geotags(geotags).set_index("photo_id")
    has_coords = np.isin(ids, tags.index)
    has_label = labels.any(axis=1)
    unknown = int((~tags.index.isin(ids)).sum())
    if unknown:
        warnings.warn(f"{unknown} geotags name photo ids that are not in Imagelist.txt; ignored")
    in_train, in_test = np.isin(images, list(train)), np.isin(images, list(test))
    counts = {
        "images": len(images),
        "with_coordinates": int(has_coords.sum()),
        "with_labels": int(has_label.sum()),
        "with_both": int((has_coords & has_label).sum()),
        "with_neither": int((~has_coords & ~has_label).sum()),
        "geotags_unknown_ids": unknown,
        "train_geotagged": int((has_coords & in_train).sum()),
        "test_geotagged": int((has_coords & in_test).sum()),
    }
    keep = has_coords & (in_train | in_test)
    latlon = tags.loc[ids[keep], ["lat", "lon"]].to_numpy(np.float64)
    is_miniature = (root / "MINIATURE").exists() if miniature is None else miniature
    return NUSWide(
        ids[keep], concepts, labels[keep], in_train[keep], visual[keep], latlon, feature, counts, is_miniature
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
        Folder to write: new, empty, or an earlier miniature (replaced). It appears complete or
        not at all.
    n_images : int, default=3000
    n_concepts : int, default=81
    seed : int, default=0

    Returns
    -------
    root : Path
        The release folder, readable by :func:`load_nuswide`.
    geotags : Path
        ``root / "geotags.csv"`` with ``photo_id, latitude, longitude``.
    """
    root = Path(root)
    if root.exists() and (not root.is_dir() or (any(root.iterdir()) and not (root / "MINIATURE").is_file())):
        raise FileExistsError(
            f"{root} exists and is not a NUS-WIDE miniature made by geoembed; choose a new or empty folder"
        )
    # the whole release appears at once (an earlier miniature there is replaced), or not at all
    with atomic_output(root, directory=True, overwrite=True) as folder:
        _write_miniature(folder, n_images=n_images, n_concepts=n_concepts, seed=seed)
    return root, root / "geotags.csv"


def _write_miniature(root: Path, *, n_images: int, n_concepts: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
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
    geotags.to_csv(root / "geotags.csv", index=False)
