"""Geo-localization evaluation on Im2GPS3k / YFCC-style datasets (``IMG_FILE, LAT, LON`` + images).

Accuracy is the share of top-1 predictions within 1 / 25 / 200 / 750 / 2500 km of the truth
(great-circle distance), the usual thresholds of street / city / region / country / continent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.core.geo import haversine_km, validate_latlon

__all__ = ["THRESHOLDS_KM", "accuracy_table", "evaluate_geolocation", "evaluate_predictions", "read_geoloc_csv"]

#: Distance thresholds (km) of the accuracy table.
THRESHOLDS_KM = (1, 25, 200, 750, 2500)


def read_geoloc_csv(csv_path, image_dir=None) -> pd.DataFrame:
    """Read an ``IMG_FILE, LAT, LON`` table (column names in any case) and resolve image paths.

    Parameters
    ----------
    csv_path : str or Path
    image_dir : str or Path, optional
        Folder of the images; default the CSV's folder.

    Returns
    -------
    truth : DataFrame of shape (n_rows, 4)
        ``image`` (the CSV's name), ``true_lat``, ``true_lon``, ``path``.

    Raises
    ------
    ValueError
        Missing columns, or rows with missing, non-numeric or out-of-range coordinates (named by row).
    """
    frame = pd.read_csv(csv_path)
    columns = {c.lower(): c for c in frame.columns}
    missing = [c for c in ("img_file", "lat", "lon") if c not in columns]
    if missing:
        raise ValueError(
            f"{csv_path} must have IMG_FILE, LAT, LON columns; missing {missing}, got {list(frame.columns)}"
        )
    out = pd.DataFrame(
        {
            "image": frame[columns["img_file"]].astype(str),
            "true_lat": pd.to_numeric(frame[columns["lat"]], errors="coerce"),
            "true_lon": pd.to_numeric(frame[columns["lon"]], errors="coerce"),
        }
    )
    bad = out[["true_lat", "true_lon"]].isna().any(axis=1)
    if bad.any():
        raise ValueError(f"{csv_path}: rows {list(out.index[bad][:5])} have missing or non-numeric LAT/LON")
    validate_latlon(out["true_lat"], out["true_lon"], row_labels=out.index, wrap_option=None)
    base = Path(image_dir) if image_dir is not None else Path(csv_path).parent
    out["path"] = [str(base / name) for name in out["image"]]
    return out


def accuracy_table(errors_km: np.ndarray, thresholds=THRESHOLDS_KM) -> dict:
    """Share (%) of predictions within each threshold, plus the median error.

    Parameters
    ----------
    errors_km : array-like of shape (n_predictions,)
        Great-circle errors in km.
    thresholds : sequence of float, default=THRESHOLDS_KM

    Returns
    -------
    row : dict
        ``"<t> km"`` -> accuracy (%) for each threshold, and ``"median km"``. A NaN error (no
        prediction for that row) is a miss at every threshold and counts as an infinite error
        in the median.
    """
    errors_km = np.asarray(errors_km, dtype=np.float64)
    if errors_km.size == 0:
        raise ValueError("no predictions to score")
    negative = np.flatnonzero(errors_km < 0)
    if negative.size:
        raise ValueError(
            f"errors_km must be distances (>= 0); {negative.size} are negative, "
            f"e.g. at positions {negative[:5].tolist()}"
        )
    errors_km = np.where(np.isnan(errors_km), np.inf, errors_km)
    row = {f"{t} km": 100.0 * float(np.mean(errors_km <= t)) for t in thresholds}
    row["median km"] = float(np.median(errors_km))
    return row


def evaluate_predictions(truth: pd.DataFrame, top1: pd.DataFrame) -> pd.DataFrame:
    """Per-row great-circle error of top-1 predictions joined to the ground truth on ``image``.

    Parameters
    ----------
    truth : DataFrame
        ``image, true_lat, true_lon``, one row per image.
    top1 : DataFrame
        ``image, pred_lat, pred_lon`` (and any other columns), at most one row per image.

    Returns
    -------
    merged : DataFrame with one row per ``truth`` row
        ``truth``'s and ``top1``'s columns plus ``error_km`` (NaN where there is no prediction).
    """
    merged = truth.merge(top1, on="image", how="left", validate="one_to_one")
    for kind, lat, lon in (("true", "true_lat", "true_lon"), ("pred", "pred_lat", "pred_lon")):
        lat_values, lon_values = merged[lat].to_numpy(np.float64), merged[lon].to_numpy(np.float64)
        bad = (np.abs(lat_values) > 90) | (np.abs(lon_values) > 180)  # NaN: no prediction, not an error
        if kind == "true":
            bad |= ~(np.isfinite(lat_values) & np.isfinite(lon_values))
        if bad.any():
            images = merged["image"].to_numpy()[bad][:5].tolist()
            raise ValueError(
                f"{lat}/{lon} must be degrees (latitude in [-90, 90], longitude in [-180, 180]"
                f"{', finite' if kind == 'true' else ''}); {int(bad.sum())} row(s) are not, e.g. images {images}"
            )
    merged["error_km"] = haversine_km(merged.true_lat, merged.true_lon, merged.pred_lat, merged.pred_lon)
    return merged


def evaluate_geolocation(
    locator,
    csv_path,
    image_dir=None,
    *,
    batch_size: int = 32,
    limit: int | None = None,
    reference_results: dict | None = None,
):
    """Run ``locator`` over a dataset and score its top-1 predictions.

    Parameters
    ----------
    locator : GeoLocator
        Anything with :meth:`GeoLocator.predict`'s signature and output.
    csv_path, image_dir
        See :func:`read_geoloc_csv`.
    batch_size : int, default=32
    limit : int, optional
        Only the first ``limit`` rows.
    reference_results : dict, optional
        Name -> accuracies (%) at :data:`THRESHOLDS_KM`, added to the summary below this run,
        e.g. :data:`geoembed.evaluation.published.GEOCLIP_GEOLOCATION`.

    Returns
    -------
    per_image : DataFrame
        ``image, true_lat, true_lon, pred_lat, pred_lon, probability, error, error_km`` with one
        row per CSV row; unreadable images keep their row, with the reason in ``error``.
    summary : DataFrame
        ``run`` and the accuracy (%) at 1 / 25 / 200 / 750 / 2500 km, plus the median error, for
        this run (over readable images); then one row per reference result.
    """
    references = dict(reference_results or {})
    for name, values in references.items():
        if len(values) != len(THRESHOLDS_KM):
            raise ValueError(
                f"reference {name!r} has {len(values)} accuracies; expected one per threshold {THRESHOLDS_KM}"
            )
    truth = read_geoloc_csv(csv_path, image_dir)
    if limit is not None:
        truth = truth.iloc[:limit]
    predictions = locator.predict(list(truth["path"]), top_k=1, batch_size=batch_size, on_error="report")
    by_path = dict(zip(truth["path"], truth["image"]))
    top1 = pd.DataFrame(
        {
            "image": predictions["input_id"].map(by_path),
            "pred_lat": predictions["lat"],
            "pred_lon": predictions["lon"],
            "probability": predictions["probability"],
            "error": predictions["error"],
        }
    )
    per_image = evaluate_predictions(truth.drop(columns="path"), top1)
    scored = per_image[per_image["error"].isna()]
    rows = []
    if len(scored):
        rows.append(
            {
                "run": f"this run ({len(scored)} images, {len(per_image) - len(scored)} unreadable)",
                **accuracy_table(scored["error_km"].to_numpy()),
            }
        )
    else:
        rows.append({"run": f"this run (0 readable of {len(per_image)} images)"})
    for name, values in references.items():
        rows.append({"run": name, **{f"{t} km": v for t, v in zip(THRESHOLDS_KM, values)}})
    return per_image, pd.DataFrame(rows)
