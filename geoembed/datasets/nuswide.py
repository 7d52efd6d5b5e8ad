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

from ..inputs import LAT_NAMES, LON_NAMES

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
    """Deprecated: moved to ``benchmarks.nuswide.make_miniature_nuswide`` of the source checkout.

    Delegates there when ``benchmarks`` is importable (running from the checkout's root).

    Parameters
    ----------
    root : str or Path
    n_images, n_concepts, seed : int

    Returns
    -------
    root, geotags : Path
        The synthetic release folder and its geotag CSV.

    Raises
    ------
    ImportError
        Outside the source checkout.
    """
    warnings.warn(
        "geoembed.datasets.nuswide.make_miniature_nuswide is deprecated and will be removed in the next "
        "release: it moved to benchmarks.nuswide in the source checkout",
        FutureWarning,
        stacklevel=2,
    )
    from .._utils import import_benchmark

    make = import_benchmark("nuswide", "make_miniature_nuswide").make_miniature_nuswide
    return make(root, n_images=n_images, n_concepts=n_concepts, seed=seed)
