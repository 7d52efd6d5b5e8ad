"""Geo-localization evaluation on Im2GPS3k / YFCC-style datasets (``IMG_FILE, LAT, LON`` + images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..geo import haversine_km, validate_latlon

THRESHOLDS_KM = (1, 25, 200, 750, 2500)

#: Published GeoCLIP accuracies (%) at 1 / 25 / 200 / 750 / 2500 km.
PAPER_RESULTS = {
    "Im2GPS3k (GeoCLIP, NeurIPS 2023)": (14.11, 34.47, 50.65, 69.67, 83.82),
    "GWS15k (GeoCLIP, NeurIPS 2023)": (0.6, 3.1, 16.9, 45.7, 74.1),
    "YFCC4k (GeoCLIP, re-run by G3)": (9.59, 19.31, 32.63, 55.0, 74.69),
}


def read_geoloc_csv(csv_path, image_dir=None) -> pd.DataFrame:
    """Read an ``IMG_FILE, LAT, LON`` table (column names in any case) and resolve image paths."""
    frame = pd.read_csv(csv_path)
    columns = {c.lower(): c for c in frame.columns}
    missing = [c for c in ("img_file", "lat", "lon") if c not in columns]
    if missing:
        raise ValueError(f"{csv_path} must have IMG_FILE, LAT, LON columns; missing {missing}, got {list(frame.columns)}")
    out = pd.DataFrame({
        "image": frame[columns["img_file"]].astype(str),
        "true_lat": pd.to_numeric(frame[columns["lat"]], errors="coerce"),
        "true_lon": pd.to_numeric(frame[columns["lon"]], errors="coerce"),
    })
    bad = out[["true_lat", "true_lon"]].isna().any(axis=1)
    if bad.any():
        raise ValueError(f"{csv_path}: rows {list(out.index[bad][:5])} have missing or non-numeric LAT/LON")
    validate_latlon(out["true_lat"], out["true_lon"], row_labels=out.index)
    base = Path(image_dir) if image_dir is not None else Path(csv_path).parent
    out["path"] = [str(base / name) for name in out["image"]]
    return out


def accuracy_table(errors_km: np.ndarray, thresholds=THRESHOLDS_KM) -> dict:
    """Share (%) of predictions within each threshold, plus the median error in km."""
    errors_km = np.asarray(errors_km, dtype=np.float64)
    if errors_km.size == 0:
        raise ValueError("no predictions to score")
    row = {f"{t} km": 100.0 * float(np.mean(errors_km <= t)) for t in thresholds}
    row["median km"] = float(np.median(errors_km))
    return row


def evaluate_predictions(truth: pd.DataFrame, top1: pd.DataFrame) -> pd.DataFrame:
    """Per-row geodesic error of top-1 predictions joined to ground truth on ``image``."""
    merged = truth.merge(top1, on="image", how="left", validate="one_to_one")
    merged["error_km"] = haversine_km(merged.true_lat, merged.true_lon, merged.pred_lat, merged.pred_lon)
    return merged


def evaluate_geolocation(locator, csv_path, image_dir=None, *, batch_size: int = 32, limit: int | None = None):
    """Run ``locator`` over a dataset and score its top-1 predictions.

    Returns
    -------
    per_image : DataFrame
        ``image, true_lat, true_lon, pred_lat, pred_lon, probability, error_km, error`` with one
        row per CSV row; unreadable images keep their row, with the reason in ``error``.
    summary : DataFrame
        Accuracy (%) at 1 / 25 / 200 / 750 / 2500 km and the median error for this run (over
        readable images), with the paper's published rows beside it.
    """
    truth = read_geoloc_csv(csv_path, image_dir)
    if limit is not None:
        truth = truth.iloc[:limit]
    predictions = locator.predict(list(truth["path"]), top_k=1, batch_size=batch_size, on_error="report")
    by_path = dict(zip(truth["path"], truth["image"]))
    top1 = pd.DataFrame({
        "image": predictions["input_id"].map(by_path),
        "pred_lat": predictions["lat"], "pred_lon": predictions["lon"],
        "probability": predictions["probability"], "error": predictions["error"],
    })
    per_image = evaluate_predictions(truth.drop(columns="path"), top1)
    scored = per_image[per_image["error"].isna()]
    rows = []
    if len(scored):
        rows.append({"run": f"this run ({len(scored)} images, {len(per_image) - len(scored)} unreadable)",
                     **accuracy_table(scored["error_km"].to_numpy())})
    else:
        rows.append({"run": f"this run (0 readable of {len(per_image)} images)"})
    for name, values in PAPER_RESULTS.items():
        rows.append({"run": name, **{f"{t} km": v for t, v in zip(THRESHOLDS_KM, values)}})
    return per_image, pd.DataFrame(rows)
