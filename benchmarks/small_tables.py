"""Small tables on the development half: the location prior on 100- to 300-row draws of its tasks.

    python -m benchmarks.small_tables [--designs blocks_10 blocks_3 ...] [--sizes 100 200 300] [--draws 3]
    python -m benchmarks.small_tables --compare small_tables_floored_draws:default small_tables_draws:blocks_1

On the held-out tasks that chose nothing (the evaluation half and the confirmation sets) the encoder
lost most location-only tasks under 350 rows. Only three development tasks are that small, too few
to choose a design on, so this script makes more from the development half alone: random draws of
``--sizes`` rows from every development location-only task of at least 600 rows (and the three
small ones as they are), plus a copy of each first draw with the target permuted (no location
signal at all: what a design that trusts weak signals costs).

Each draw is scored like ``benchmarks.heldout``: spatially blocked 5-fold CV (the task's blocks,
seed 0), the three single models (linear probe on GeoCLIP, boosted trees and k-NN on lat/lon) and
``make_pipeline(LocationTargetEncoder(random_state=0), head)`` with LinearRegression or
LogisticRegression, for each design of the encoder's cross-fitting folds on tables under
``SMALL_TABLE_ROWS`` rows (see :data:`DESIGNS`). Larger tables keep the default in every design;
``blocks_<k>`` and ``shuffled`` apply to continuous and binary targets (multiclass targets, whose
default folds are shuffled rows, keep them), ``classes_blocks_<k>`` to multiclass targets only.
Results go to ``benchmarks/results/<name>.{md,json}`` and every draw's scores to ``<name>_draws``
(``--name``, default ``small_tables``). Wins are Δ > 1e-9 and losses Δ < -0.005 - 1e-9, so float
rounding of a tie counts as neither.

``--compare NEW:DESIGN OLD:DESIGN`` runs nothing: it reads two saved draws files (a change of the
encoder measured with the same draws, folds and seeds; e.g. the default after a fix against the
column that was the default before it) and writes, for every draw of NEW, whether and by how much
its Δ changed, to ``<NEW>_changes``. Every draw of NEW must be in OLD with the same single models.
Changes are rounded to 0.001, since ``small_tables_draws`` (written before 2026-12-07) keeps three
decimals.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from benchmarks import _report
from benchmarks._report import write_results
from benchmarks.heldout import BASELINES, single_models
from benchmarks.location_prior import PrecomputedFeatures, folds_of, precompute, score
from geoembed import GeoEmbedder
from geoembed.core.geo import validate_latlon
from geoembed.datasets.downstream import DownstreamTask
from geoembed.datasets.heldout import POOL, heldout_split, load_heldout_task
from geoembed.model_selection import automatic_block_size_km
from geoembed.target_encoder import SMALL_TABLE_ROWS, LocationTargetEncoder, infer_target_type

MIN_ROWS_TO_DRAW = 600
TIE = 0.005  # a loss smaller than this counts as a tie
EPS = 1e-9  # float rounding: a Δ this close to a threshold is on it
#: The cross-fitting folds of a table under SMALL_TABLE_ROWS rows, by design name: "default" is the
#: encoder as installed; "blocks_<k>" are spatial blocks of the automatic size at which the occupied
#: blocks hold k rows on average (10: the rule for every table before 2026-12-07); "shuffled" is
#: shuffled rows, as multiclass targets get. Those apply to continuous and binary targets; the
#: "classes_blocks_<k>" designs give multiclass targets (only) blocks of k rows.
DESIGNS = (
    "default",
    "blocks_10",
    "blocks_3",
    "blocks_1",
    "shuffled",
    "classes_blocks_10",
    "classes_blocks_3",
    "classes_blocks_1",
)


def small_table_folds(n_rows) -> int:
    """The encoder's number of folds for a small table (its ``cv="auto"`` rule)."""
    return max(5, min(20, n_rows // 2))


def make_encoder(design, key, latlon, y) -> LocationTargetEncoder:
    """The encoder of a design, for training rows ``latlon`` (an (n, 2) array) and target ``y``."""
    default = LocationTargetEncoder(PrecomputedFeatures(key), random_state=0)
    multiclass = infer_target_type(y) == "multiclass"
    if design == "default" or len(latlon) >= SMALL_TABLE_ROWS or multiclass != design.startswith("classes_"):
        return default
    n_splits = small_table_folds(len(latlon))
    if design == "shuffled":
        seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
        return default.set_params(cv=KFold(n_splits, shuffle=True, random_state=seed))
    lat, lon, _ = validate_latlon(latlon[:, 0], latlon[:, 1])
    rows = int(design.removeprefix("classes_").removeprefix("blocks_"))
    size = automatic_block_size_km(lat, lon, n_splits, rows_per_block=rows)
    return default.set_params(cv=n_splits, block_size_km=size)


def development_tasks():
    names = set(heldout_split()["development"])
    return [t.name for t in POOL if t.name in names and t.group == "location"]


def draws(name, sizes, n_draws):
    task = load_heldout_task(name)
    if len(task) < MIN_ROWS_TO_DRAW:
        return [(task, "as is", False), (_permuted(task, 0), "as is", True)]
    out = []
    for size in sizes:
        for draw in range(n_draws):
            rng = np.random.default_rng(1000 * size + draw)
            rows = np.sort(rng.choice(len(task), size, replace=False))
            small = _subset(task, rows, f"{name}[{size}#{draw}]")
            out.append((small, size, False))
            if draw == 0:
                out.append((_permuted(small, draw), size, True))
    return out


def _subset(task, rows, name):
    frame = task.frame.iloc[rows].reset_index(drop=True)
    return DownstreamTask(name, task.kind, frame, task.y[rows], task.source, task.description, [], task.block_size_deg)


def _permuted(task, seed):
    y = np.random.default_rng(seed + 7).permutation(task.y)
    return DownstreamTask(task.name + " permuted", task.kind, task.frame, y, task.source, "", [], task.block_size_deg)


def single_threaded(function, args):
    """``function(*args)`` with one torch, BLAS and OpenMP thread and warnings off: a pool worker's job."""
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        return function(*args)


def run_draw(args):
    return single_threaded(_run_draw, args)


def run_all(worker, work, jobs) -> tuple[list, float]:
    """``worker`` on every item of ``work`` in ``jobs`` processes: the rows, in order, and the minutes taken."""
    start = time.time()
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(worker, work))
    return rows, (time.time() - start) / 60


def _run_draw(task, size, permuted, designs):
    key = f"geoclip:{task.name}"
    geoclip = precompute(key, task.frame, GeoEmbedder())
    latlon = task.frame[["lat", "lon"]].to_numpy()
    classification = task.kind == "classification"
    folds = folds_of(task)
    scores = {name: [] for name in (*BASELINES, *designs)}
    for train, test in folds:
        for name, value in single_models(task, geoclip, latlon, train, test).items():
            scores[name].append(value)
        frame = task.frame[["lat", "lon"]]
        for design in designs:
            encoder = make_encoder(design, key, latlon[train], task.y[train])
            z_train = encoder.fit_transform(frame.iloc[train], task.y[train])
            head = LogisticRegression() if classification else LinearRegression()
            head.fit(z_train, task.y[train])
            scores[design].append(score(task, task.y[test], head.predict(encoder.transform(frame.iloc[test]))))
    best = max(BASELINES, key=lambda name: np.mean(scores[name]))
    row = {
        "task": task.name,
        "size": size,
        "kind": task.kind,
        "permuted": permuted,
        "best": best,
        "best score": float(np.mean(scores[best])),
        **{design: float(np.mean(scores[design])) for design in designs},
    }
    print(f"{task.name}: best {best} {row['best score']:.3f}; " + " ".join(f"{d} {row[d]:.3f}" for d in designs))
    return row


def tally(deltas) -> str:
    """ "wins/losses, mean Δ" of deltas against the best single model (a loss is below -``TIE``)."""
    deltas = np.asarray(deltas)
    return f"{int((deltas > EPS).sum())}/{int((deltas < -TIE - EPS).sum())}, {np.mean(deltas):+.3f}"


def summarise(rows, designs):
    table = []
    for permuted in (False, True):
        for size in dict.fromkeys(str(r["size"]) for r in rows):
            for kind in ("regression", "classification"):
                group = [r for r in rows if r["permuted"] == permuted and str(r["size"]) == size and r["kind"] == kind]
                if not group:
                    continue
                entry = {"target": "permuted" if permuted else "real", "rows": size, "kind": kind, "draws": len(group)}
                for design in designs:
                    deltas = np.array([r[design] - r["best score"] for r in group])
                    entry[design] = f"{tally(deltas)} ({np.median(deltas):+.3f})"
                table.append(entry)
    return table


def compare(new, old):
    """Per size and target, the draws of ``new`` ("file:design") whose Δ changed against ``old``."""
    (new_file, new_design), (old_file, old_design) = (spec.split(":") for spec in (new, old))
    saved = {f: json.loads((_report.RESULTS_DIR / f"{f}.json").read_text())["rows"] for f in (new_file, old_file)}
    new_rows, old_rows = ({r["task"]: r for r in saved[f]} for f in (new_file, old_file))
    groups = {}
    missing = [name for name in new_rows if name not in old_rows]
    if missing:
        raise ValueError(f"{len(missing)} draws of {new_file} are not in {old_file}, e.g. {missing[:3]}")
    for name, row in new_rows.items():
        before = old_rows[name]
        if abs(before["best score"] - row["best score"]) > 6e-4:  # saved with three decimals
            raise ValueError(f"{name}: the single models differ between the files; not the same draw")
        change = round(row[new_design] - before[old_design], 3)
        groups.setdefault(("permuted" if row["permuted"] else "real", str(row["size"]), row["kind"]), []).append(
            (name, round(before[old_design] - before["best score"], 3), change)
        )
    table = []
    for (target, size, kind), group in groups.items():
        changes = np.array([c for _, _, c in group])
        before = np.array([d for _, d, _ in group])
        after = before + changes
        table.append(
            {
                "target": target,
                "rows": size,
                "kind": kind,
                "draws": len(group),
                "before: wins / losses, mean Δ": tally(before),
                "after: wins / losses, mean Δ": tally(after),
                "draws changed (better/worse)": f"{(changes != 0).sum()} ({(changes > 0).sum()}/{(changes < 0).sum()})",
                "changes": "; ".join(f"{n} {d:+.3f} -> {d + c:+.3f}" for n, d, c in group if c != 0) or "none",
            }
        )
    write_results(
        f"{new_file}_changes",
        f"Small tables: {new} against {old}, the same draws",
        table,
        list(table[0]),
        notes=[
            "Δ: the encoder + head minus the best single model (linear probe on GeoCLIP, boosted trees or k-NN on "
            "lat/lon) of the same draw; wins Δ > 0, losses Δ < -0.005 (beyond float rounding); changes rounded to "
            "0.001.",
        ],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs=2, metavar=("NEW:DESIGN", "OLD:DESIGN"))
    parser.add_argument("--designs", nargs="+", choices=DESIGNS, default=["blocks_10", "blocks_3"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 300])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tasks", nargs="*")
    parser.add_argument("--name", default="small_tables")
    args = parser.parse_args(argv)
    if args.compare:
        compare(*args.compare)
        return
    names = args.tasks or development_tasks()
    work = [(*d, args.designs) for name in names for d in draws(name, args.sizes, args.draws)]
    print(f"{len(work)} draws from {len(names)} development tasks", flush=True)
    rows, minutes = run_all(run_draw, work, args.jobs)
    table = summarise(rows, args.designs)
    write_results(
        args.name,
        "Small tables: draws from the development half",
        table,
        list(table[0]),
        notes=[
            f"{len(rows)} draws ({minutes:.1f} min). Each design's cell: wins / losses (below -0.005) against the "
            "best single model, then the mean (median) Δ; Δ = encoder + head (LinearRegression / "
            "LogisticRegression) minus the best of the linear probe on GeoCLIP, boosted trees and k-NN on lat/lon, "
            "spatially blocked 5-fold CV with the task's blocks. Designs (the cross-fitting folds of tables under "
            "SMALL_TABLE_ROWS rows; multiclass targets keep shuffled rows except under classes_blocks_<k>): "
            + ", ".join(args.designs)
            + ".",
            "Every draw's scores: " + args.name + "_draws.md.",
        ],
    )
    write_results(
        f"{args.name}_draws",
        "Small tables: every draw",
        rows,
        ["task", "size", "kind", "permuted", "best", "best score", *args.designs],
    )


if __name__ == "__main__":
    main()
