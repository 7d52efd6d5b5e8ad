"""Areal tasks: do region embeddings help on county-level data? Georgia (159 counties) and Tokyo (262 municipalities).

    python -m benchmarks.areal [--repeats 3] [--folds 5] [--n-points 64]

Data: PySAL's example data inside the ``libpysal`` wheel (BSD-3), no download.

- ``georgia_bach``: percentage of adults with a bachelor's degree in 159 Georgia counties (1990
  census), with the covariates of the classic GWR study (Fotheringham, Brunsdon & Charlton 2002):
  ``PctRural``, ``PctPov``, ``PctBlack``. ``G_utm.shp`` has no .prj; its coordinates are UTM 17N
  (EPSG:32617), set explicitly.
- ``tokyo_smr``: log standardised mortality ratio of working-age people (observed / expected
  deaths) in 262 Tokyo municipalities (Nakaya et al. 2005), with ``OCC_TEC``, ``OWNH``, ``POP65``,
  ``UNEMP``; polygons in EPSG:30166.

Models, all cross-validated on the same spatially blocked folds (``SpatialBlockKFold`` on the
regions' representative points; blocks of ``block_km``; repeated with shuffled block-to-fold
assignments): covariates alone (OLS), GWR on the covariates (``mgwr``, bandwidth chosen by AICc on
each training fold, predicted at the held-out centroids), k-NN on centroids (location alone), and
ridge on GeoCLIP features of the centroid or of the region (``RegionEmbedder``), alone or added
to the covariates (all 512 features, or the first 16 principal components, ``n_components=16``).
Writes ``benchmarks/results/areal.{md,json}``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks._report import machine_info, write_results
from geoembed import GeoEmbedder, RegionEmbedder, SpatialBlockKFold

ALPHAS = np.logspace(-2, 5, 15)


def _libpysal_folder(name: str) -> Path:
    import libpysal

    return Path(libpysal.__file__).parent / "examples" / name


def load_georgia():
    frame = gpd.read_file(_libpysal_folder("georgia") / "G_utm.shp").set_crs(32617)  # no .prj: UTM 17N
    return frame, "PctBach", ["PctRural", "PctPov", "PctBlack"], 40.0


def load_tokyo():
    folder = _libpysal_folder("tokyo")
    frame = gpd.read_file(folder / "tokyomet262.shp")
    table = pd.read_csv(folder / "Tokyomortality.csv")
    frame = frame.merge(table, left_on="AreaID", right_on="IDnum0", validate="one_to_one")
    frame["log_smr"] = np.log(frame["db2564"] / frame["eb2564"])
    return frame, "log_smr", ["OCC_TEC", "OWNH", "POP65", "UNEMP"], 8.0


TASKS = {"georgia_bach": load_georgia, "tokyo_smr": load_tokyo}


def ridge():
    return make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))


def gwr_predict(coords_train, X_train, y_train, coords_test, X_test):
    from mgwr.gwr import GWR
    from mgwr.sel_bw import Sel_BW

    y = y_train.reshape(-1, 1)
    bandwidth = Sel_BW(coords_train, y, X_train).search(criterion="AICc")
    model = GWR(coords_train, y, X_train, bandwidth)
    model.fit()
    return model.predict(coords_test, X_test).predictions.ravel()


def knn():
    return GridSearchCV(KNeighborsRegressor(weights="distance"), {"n_neighbors": [3, 5, 8, 12, 20]}, cv=5)


def run_task(name, repeats, folds, n_points):
    frame, target, covariates, block_km = TASKS[name]()
    y = frame[target].to_numpy(float)
    Z = frame[covariates].to_numpy(float)
    points = frame.geometry.representative_point()
    xy = np.column_stack([points.x, points.y])  # projected metres, for GWR and k-NN
    start = time.perf_counter()
    centroid = GeoEmbedder().fit_transform(points)  # a GeoSeries of points in the frame's CRS
    centroid_seconds = time.perf_counter() - start
    start = time.perf_counter()
    region = RegionEmbedder(n_points=n_points).fit_transform(frame)
    region_seconds = time.perf_counter() - start
    # compact features: the first 16 principal components (the basis bundled with the weights)
    compact_centroid = GeoEmbedder(n_components=16).fit_transform(points)
    compact_region = RegionEmbedder(GeoEmbedder(n_components=16), n_points=n_points).fit_transform(frame)
    feature_sets = {
        "GeoCLIP centroid": centroid,
        "GeoCLIP region": region,
        "covariates + GeoCLIP centroid": np.hstack([Z, centroid]),
        "covariates + GeoCLIP region": np.hstack([Z, region]),
        "covariates + GeoCLIP-16 centroid": np.hstack([Z, compact_centroid]),
        "covariates + GeoCLIP-16 region": np.hstack([Z, compact_region]),
    }
    scores = {m: [] for m in ["covariates (OLS)", "GWR (covariates)", "k-NN centroids", *feature_sets]}
    for repeat in range(repeats):
        cv = SpatialBlockKFold(folds, block_size_km=block_km, shuffle=True, random_state=repeat)
        for train, test in cv.split(points):
            ols = LinearRegression().fit(Z[train], y[train])
            scores["covariates (OLS)"].append(r2_score(y[test], ols.predict(Z[test])))
            predicted = gwr_predict(xy[train], Z[train], y[train], xy[test], Z[test])
            scores["GWR (covariates)"].append(r2_score(y[test], predicted))
            model = knn().fit(xy[train], y[train])
            scores["k-NN centroids"].append(r2_score(y[test], model.predict(xy[test])))
            for label, features in feature_sets.items():
                model = ridge().fit(features[train], y[train])
                scores[label].append(r2_score(y[test], model.predict(features[test])))
    rows = []
    for label, values in scores.items():
        values = np.asarray(values)
        row = {"task": name, "model": label, "R2 mean": round(values.mean(), 3), "R2 sd": round(values.std(), 3)}
        if label.endswith("region"):
            paired = values - np.asarray(scores[label.replace("region", "centroid")])
            row["region - centroid"] = f"{paired.mean():+.3f} (wins {int((paired > 0).sum())}/{paired.size})"
        rows.append(row)
    info = (
        f"{name}: {len(frame)} regions, target {target}, covariates {covariates}, blocks of {block_km:g} km, "
        f"{folds} folds x {repeats} repeats; GeoCLIP centroid features in {centroid_seconds:.1f} s, region "
        f"features ({n_points} points per region) in {region_seconds:.1f} s"
    )
    return rows, info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-points", type=int, default=64)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--output", default="areal")
    args = parser.parse_args(argv)
    rows, notes = [], []
    for name in args.tasks:
        task_rows, info = run_task(name, args.repeats, args.folds, args.n_points)
        rows += task_rows
        notes.append(info)
        print(info, flush=True)
    notes.append(
        "R2 on held-out spatial blocks (mean and sd over folds x repeats). 'region - centroid': the paired "
        "difference of the same model on region vs centroid GeoCLIP features, fold by fold. Taken on a shared "
        "machine; timings are upper bounds."
    )
    columns = ["task", "model", "R2 mean", "R2 sd", "region - centroid"]
    write_results(
        args.output,
        "Areal tasks: region embeddings vs centroids, GWR and k-NN",
        rows,
        columns,
        notes,
        machine_info(probe_gemm=False),
    )


if __name__ == "__main__":
    main()
