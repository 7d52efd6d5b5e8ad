"""The location prior next to other features, on the development half: designs of its folds under two heads.

    python -m benchmarks.added_designs [--designs default blocks_10 outer] [--sizes 100 300] [--draws 2]
        [--heads linear hgb hgb_monotone ...]

Issue 28 asks that adding the encoder's columns to a model's other features (and lat/lon) makes no
task significantly worse under boosted trees. On the held-out parts that chose nothing, three added
tasks were (two of them tables of 90 and 197 rows), while the development half has one added table
under 600 rows. As ``benchmarks.small_tables`` does for location-only tasks, this script makes more
from the development half alone: random draws of ``--sizes`` rows from its added tasks of at least
600 rows, and the smaller ones as they are (the larger tasks as they are: ``benchmarks/results/heldout.md``
and ``tree_head_variants.md``).

Each draw is scored like ``benchmarks.heldout``'s added tasks: other + lat/lon with and without the
encoder's columns under the suite's linear and boosted-tree probes (``make_probe``), paired over
``--repeats`` reshuffles of the spatially blocked 5-fold outer CV (the task's blocks), the encoder
reseeded with them. Designs of the encoder's cross-fitting folds (public parameters only):

- ``default``: ``LocationTargetEncoder(random_state=seed)`` as installed;
- ``blocks_10``: tables under ``SMALL_TABLE_ROWS`` rows get blocks holding ten rows on average
  (the rule before 2026-12-07); larger tables and multiclass targets keep the default;
- ``outer``: the blocks of the outer CV (``block_size_deg`` of the task), what the encoder's
  docstring advises a user with a spatial CV of their own (multiclass targets get blocks too);
- ``partial``: the default encoder, its columns replaced by zeros (a constant) unless they add to
  a linear model on the other features and lat/lon out of fold (5 shuffled folds of the training
  rows, ``LinearRegression`` or ``LogisticRegression`` on standardised columns with and without
  the prior, paired per-row squared error or log-loss floored as the encoder floors it, one-sided
  z above 1.645): the prior dropped where location adds nothing the other features lack. Measured
  on the development tables (``benchmarks/results/added_partial*.md``): boosted trees
  significantly worse on 4 of 42, as under the default (it dropped the prior where tiny tables
  lost and lost elsewhere), so it was not built into the encoder nor judged on held-out tasks;
- ``residual``: for a continuous target, the default encoder fit on the residual of ``y`` after a
  ridge on the other features alone (out of fold: 5 shuffled folds of the training rows), so the
  prior carries only what location adds to them (partialling out); classes keep the default.
  Measured on the development tasks as they are (``benchmarks/results/added_residual_asis*.md``):
  boosted trees significantly worse on 2 of 9 (quakes -0.0066 besides mpls_citation) against 1,
  linear mean gain +0.1366 against +0.1363, so it went no further (no draws, no held-out run). The
  same verdict as the older "prior of the residual" of ``benchmarks/tree_head_variants.py`` (five
  suite tasks), which this repeats on the development half's nine;
- ``fold_mean``: the default encoder, but the test rows' encoding is the mean of 5 encoders fit on
  the training rows less one shuffled fifth each, so that test rows get values from models fit on
  as many rows as the training rows' out-of-fold values (a mismatch that can mislead a head that
  thresholds the prior). Measured on the development tasks as they are
  (``benchmarks/results/added_fold_mean_asis*.md``): boosted trees significantly worse on 1 of 9
  as under the default, and further below on that one (mpls_citation -0.0070 against -0.0050), so
  the mismatch is not what costs the trees; it went no further;
- ``bins_4``, ``bins_8``, ``bins_16``: the default encoder's columns cut at 4, 8 or 16 quantiles
  of the training rows' values, each value replaced by its bin's training mean: a coarser prior
  leaves a tree fewer thresholds to overfit. Measured on the development draws
  (``benchmarks/results/added_bins*.md``, 33 draws): boosted trees significantly worse on 2, 2
  and 1 draws against the default's 3 (a difference chance gives), worst draws -0.010 to -0.023
  against -0.034, while the linear head lost part of its gain (mean +0.117 to +0.134 against
  +0.139 on 300-row draws); it went no further (no held-out run);
- ``shuffled_prior``: a control, not a design: the default encoder's columns with their rows
  shuffled (training and test rows separately), the same values without their link to the rows.
  What adding a column of that distribution costs the head, against what the prior's content does.

``--heads`` adds variants of the boosted-tree head that constrain only the prior's columns (see
``make_head``; ``benchmarks/results/added_heads*.md``: on the development tables none had fewer
significantly worse tables than the suite's trees).

Results: ``benchmarks/results/<name>.{md,json}`` and every draw in ``<name>_draws`` (``--name``,
default ``added_designs``). ``--tasks ... --as-is`` scores named tasks as they are, no draws: how a
design chosen here fares on held-out added tasks.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks._report import write_results
from benchmarks.location_prior import PrecomputedFeatures, folds_of, paired_summary, precompute, score
from benchmarks.small_tables import run_all, single_threaded, small_table_folds
from geoembed import GeoEmbedder
from geoembed.core.geo import validate_latlon
from geoembed.datasets.downstream import DownstreamTask
from geoembed.datasets.heldout import POOL, heldout_split, load_heldout_task
from geoembed.evaluation import make_probe
from geoembed.model_selection import automatic_block_size_km
from geoembed.target_encoder import SMALL_TABLE_ROWS, LocationTargetEncoder, infer_target_type

MIN_ROWS_TO_DRAW = 600
DESIGNS = (
    "default",
    "blocks_10",
    "outer",
    "shuffled_prior",
    "partial",
    "residual",
    "fold_mean",
    "bins_4",
    "bins_8",
    "bins_16",
)
HEADS = {
    "linear": "linear probe",
    "hgb": "boosted trees",
    "hgb_additive": "boosted trees, prior additive",
    "hgb_monotone": "boosted trees, prior monotone",
    "hgb_replace": "boosted trees, prior monotone instead of lat/lon",
    "hgb_rising": "boosted trees, prior monotone (no interaction group)",
}
#: The heads run unless ``--heads`` says otherwise.
DEFAULT_HEADS = ("linear", "hgb")


def make_head(head, kind, n_plain, n_prior):
    """The head ``head`` for ``n_plain`` other + lat/lon columns followed by ``n_prior`` prior columns.

    ``hgb_additive``: the suite's boosted trees, with the prior's columns in an interaction group of
    their own (``interaction_cst``): a tree that splits on the prior splits on nothing else, so the
    prior adds an additive term of its own instead of a column every tree may mix with the others.
    ``hgb_monotone``: that, and the target (or the probability of ``classes_[1]``) told to rise with
    the prior (``monotonic_cst``; scikit-learn has no monotone constraint for multiclass targets, so
    those get the additive head). ``hgb_replace``: the monotone head on other + prior, without lat/lon
    (the caller drops them). ``hgb_rising``: only the monotone constraint, no interaction group (the
    suite's trees for a multiclass target). Without prior columns every variant is the suite's trees.
    """
    model = make_probe("linear" if head == "linear" else "hgb", kind)
    if head in ("linear", "hgb") or n_prior == 0:
        return model
    plain, prior = list(range(n_plain)), list(range(n_plain, n_plain + n_prior))
    if head == "hgb_rising":
        return model.set_params(monotonic_cst=[0] * n_plain + [1]) if n_prior == 1 else model
    model.set_params(interaction_cst=[plain, prior])
    if head in ("hgb_monotone", "hgb_replace") and n_prior == 1:
        model.set_params(monotonic_cst=[0] * n_plain + [1])
    return model


def make_encoder(design, task, key, latlon, y, seed) -> LocationTargetEncoder:
    """The encoder of a design for training rows ``latlon`` ((n, 2)) and target ``y``."""
    default = LocationTargetEncoder(PrecomputedFeatures(key), random_state=seed)
    if design in ("default", "shuffled_prior", "partial", "residual", "fold_mean") or design.startswith("bins_"):
        return default
    if design == "outer":
        return default.set_params(block_size_deg=task.block_size_deg)
    if design == "blocks_10":
        if len(latlon) >= SMALL_TABLE_ROWS or infer_target_type(y) == "multiclass":
            return default
        n_splits = small_table_folds(len(latlon))
        lat, lon, _ = validate_latlon(latlon[:, 0], latlon[:, 1])
        size = automatic_block_size_km(lat, lon, n_splits, rows_per_block=10)
        return default.set_params(cv=n_splits, block_size_km=size)
    raise ValueError(f"unknown design {design!r}")


def _adds(plain, prior, y, kind, seed, z_min=1.6448536269514722) -> bool:
    """The ``partial`` design's test: do the prior's columns add to a linear model on ``plain`` (the
    other features and lat/lon), out of fold on the training rows? Per row, the loss without the
    prior less the loss with it (squared error, or the log-loss of probabilities mixed with 1% of the
    uniform distribution; a class missing from a fold's training rows costs the floor); kept when
    the mean is ``z_min`` standard errors above zero.
    """
    gains = []
    both = np.hstack([plain, prior])
    for train, test in KFold(5, shuffle=True, random_state=seed).split(plain):
        losses = []
        for X in (plain, both):
            if kind == "regression":
                model = make_pipeline(StandardScaler(), LinearRegression()).fit(X[train], y[train])
                losses.append((y[test] - model.predict(X[test])) ** 2)
                continue
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X[train], y[train])
            p = 0.99 * model.predict_proba(X[test]) + 0.01 / len(model.classes_)
            column = np.minimum(np.searchsorted(model.classes_, y[test]), len(model.classes_) - 1)
            seen = model.classes_[column] == y[test]
            losses.append(-np.log(np.where(seen, p[np.arange(len(test)), column], 0.01 / len(model.classes_))))
        gains.append(losses[0] - losses[1])
    gains = np.concatenate(gains)
    spread = gains.std(ddof=1)
    return bool(spread > 0 and gains.mean() / (spread / np.sqrt(len(gains))) > z_min)


def _binned(z_train, z_test, n_bins):
    """The ``bins_<n>`` designs: each column cut at its ``n_bins`` quantiles over the training rows, and
    every value replaced by its bin's mean over the training rows (a step function of the prior with at
    most ``n_bins`` values, so a tree has at most ``n_bins - 1`` thresholds to try on it).
    """
    out_train, out_test = np.empty_like(z_train), np.empty_like(z_test)
    for j in range(z_train.shape[1]):
        edges = np.unique(np.quantile(z_train[:, j], np.linspace(0, 1, n_bins + 1)[1:-1]))
        bin_train, bin_test = np.searchsorted(edges, z_train[:, j]), np.searchsorted(edges, z_test[:, j])
        counts = np.bincount(bin_train, minlength=len(edges) + 1)
        sums = np.bincount(bin_train, weights=z_train[:, j], minlength=len(edges) + 1)
        bounds = np.concatenate([edges[:1], edges, edges[-1:]]) if len(edges) else np.zeros(2)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), (bounds[:-1] + bounds[1:]) / 2)
        out_train[:, j], out_test[:, j] = means[bin_train], means[bin_test]
    return out_train, out_test


def _other_fit(other, y, seed):
    """The ``residual`` design's out-of-fold ridge prediction of ``y`` from the other features alone."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    return cross_val_predict(model, other, y, cv=KFold(5, shuffle=True, random_state=seed))


def _fold_mean(encoder, X_train, y_train, X_test, seed, n_folds=5):
    """The ``fold_mean`` design's test encoding: the mean of ``n_folds`` encoders, each fit on the
    training rows less one of ``n_folds`` shuffled folds, instead of the one fit on all of them (the
    test rows then get values from models fit on as many rows as the training rows' out-of-fold
    values). A refit that lost a class (its columns differ) is left out of the mean.
    """
    encodings = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for part, _ in KFold(n_folds, shuffle=True, random_state=seed).split(X_train):
            refit = clone(encoder).fit(X_train.iloc[part], y_train[part])
            if not hasattr(encoder, "classes_") or np.array_equal(refit.classes_, encoder.classes_):
                encodings.append(refit.transform(X_test))
    return np.mean(encodings, axis=0) if encodings else encoder.transform(X_test)


def development_tasks():
    names = set(heldout_split()["development"])
    return [t.name for t in POOL if t.name in names and t.group == "added"]


def draws(name, sizes, n_draws, as_is=False):
    task = load_heldout_task(name)
    if as_is or len(task) < MIN_ROWS_TO_DRAW:
        return [(task, "as is")]
    out = []
    for size in sizes:
        for draw in range(n_draws):
            rows = np.sort(np.random.default_rng(1000 * size + draw).choice(len(task), size, replace=False))
            frame = task.frame.iloc[rows].reset_index(drop=True)
            small = DownstreamTask(
                f"{name}[{size}#{draw}]",
                task.kind,
                frame,
                task.y[rows],
                task.source,
                task.description,
                task.extra_features,
                task.block_size_deg,
            )
            out.append((small, size))
    return out


def run_draw(args):
    return single_threaded(_run_draw, args)


def _run_draw(task, size, designs, repeats, heads=DEFAULT_HEADS):
    key = f"geoclip:{task.name}"
    precompute(key, task.frame, GeoEmbedder())
    latlon = task.frame[["lat", "lon"]].to_numpy()
    plain = task.frame[[*task.extra_features, "lat", "lon"]].to_numpy(np.float64)
    scores = {(head, name): np.zeros((repeats, 5)) for head in heads for name in ("plain", *designs)}
    for seed in range(repeats):
        for k, (train, test) in enumerate(folds_of(task, seed=seed)):
            for head in heads:
                # without prior columns the trees' variants are the suite's trees: fit those once
                twin = "linear" if head == "linear" else next(h for h in heads if h != "linear")
                if twin != head:
                    scores[(head, "plain")][seed, k] = scores[(twin, "plain")][seed, k]
                    continue
                model = make_head(head, task.kind, plain.shape[1], 0).fit(plain[train], task.y[train])
                scores[(head, "plain")][seed, k] = score(task, task.y[test], model.predict(plain[test]))
            default_z = None
            for design in designs:
                if design.startswith("bins_") and default_z is not None:
                    z_train, z_test = _binned(*default_z, int(design.split("_")[1]))
                    X_train, X_test = np.hstack([plain[train], z_train]), np.hstack([plain[test], z_test])
                    for head in heads:
                        model = make_head(head, task.kind, plain.shape[1], z_train.shape[1]).fit(X_train, task.y[train])
                        scores[(head, design)][seed, k] = score(task, task.y[test], model.predict(X_test))
                    continue
                encoder = make_encoder(design, task, key, latlon[train], task.y[train], seed)
                frame = task.frame[["lat", "lon"]]
                target = task.y[train]
                if design == "residual" and task.kind == "regression":
                    target = target - _other_fit(plain[train][:, :-2], target, seed)
                z_train = encoder.fit_transform(frame.iloc[train], target)
                if design == "fold_mean":
                    z_test = _fold_mean(encoder, frame.iloc[train], target, frame.iloc[test], seed)
                else:
                    z_test = encoder.transform(frame.iloc[test])
                if design == "default":
                    default_z = (z_train, z_test)
                if design == "shuffled_prior":
                    shuffle = np.random.default_rng(seed)
                    z_train, z_test = shuffle.permutation(z_train), shuffle.permutation(z_test)
                if design.startswith("bins_"):
                    z_train, z_test = _binned(z_train, z_test, int(design.split("_")[1]))
                if design == "partial" and not _adds(plain[train], z_train, task.y[train], task.kind, seed):
                    z_train, z_test = np.zeros_like(z_train), np.zeros_like(z_test)
                X_train, X_test = np.hstack([plain[train], z_train]), np.hstack([plain[test], z_test])
                for head in heads:
                    # the prior in place of lat/lon: other features first, lat/lon the last two columns
                    keep = np.arange(X_train.shape[1])
                    if head == "hgb_replace":
                        keep = np.delete(keep, [plain.shape[1] - 2, plain.shape[1] - 1])
                    n_plain = plain.shape[1] - (2 if head == "hgb_replace" else 0)
                    model = make_head(head, task.kind, n_plain, z_train.shape[1]).fit(X_train[:, keep], task.y[train])
                    scores[(head, design)][seed, k] = score(task, task.y[test], model.predict(X_test[:, keep]))
    row = {"task": task.name, "size": size, "kind": task.kind, "n": len(task)}
    for head in heads:
        row[f"{head} plain"] = float(scores[(head, "plain")].mean())
        for design in designs:
            summary = paired_summary(scores[(head, design)].mean(axis=1) - scores[(head, "plain")].mean(axis=1))
            row[f"{head} {design}"] = {k: summary[k] for k in ("mean", "lower95", "upper95", "wins")}
    print(
        task.name,
        " ".join(f"{h}/{d} {row[f'{h} {d}']['mean']:+.4f}" for h in heads for d in designs),
        flush=True,
    )
    return row


def summarise(rows, designs, heads=DEFAULT_HEADS):
    table = []
    for size in dict.fromkeys(str(r["size"]) for r in rows):
        group = [r for r in rows if str(r["size"]) == size]
        for head in heads:
            label = HEADS[head]
            entry = {"rows": size, "head": label, "draws": len(group)}
            for design in designs:
                cells = [r[f"{head} {design}"] for r in group]
                means = np.array([c["mean"] for c in cells])
                entry[design] = (
                    f"{int((means > 0).sum())} gains / {sum(c['upper95'] < 0 for c in cells)} sig. worse, "
                    f"mean {means.mean():+.4f}, worst {means.min():+.4f}"
                )
            table.append(entry)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", nargs="+", choices=DESIGNS, default=["default", "blocks_10", "outer"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tasks", nargs="*", help="held-out added tasks (default: the development half's)")
    parser.add_argument("--as-is", action="store_true", help="every task as it is, no draws (held-out tasks)")
    parser.add_argument("--heads", nargs="+", choices=HEADS, default=list(DEFAULT_HEADS))
    parser.add_argument("--name", default="added_designs")
    args = parser.parse_args(argv)
    names = args.tasks or development_tasks()
    heads = tuple(args.heads)
    tables = [d for name in names for d in draws(name, args.sizes, args.draws, args.as_is)]
    work = [(*d, args.designs, args.repeats, heads) for d in tables]
    work.sort(key=lambda w: -len(w[0]))  # the large tables first, so the two workers finish together
    print(f"{len(work)} draws from {len(names)} tasks", flush=True)
    rows, minutes = run_all(run_draw, work, args.jobs)
    table = summarise(rows, args.designs, heads)
    write_results(
        args.name,
        "Added tasks: designs of the prior's folds, " + ("tasks as they are" if args.as_is else "development draws"),
        table,
        list(table[0]),
        notes=[
            f"{len(rows)} draws ({minutes:.1f} min; --sizes {' '.join(map(str, args.sizes))} --draws {args.draws} "
            f"--repeats {args.repeats}{' --as-is' if args.as_is else ''}). Each cell: draws where adding the encoder's "
            "columns gained "
            f"(mean paired Δ > 0) / draws significantly worse (one-sided 95% Student-t upper bound < 0 over "
            f"{args.repeats} outer fold reshuffles), then the mean and worst Δ over draws. Heads: the suite's "
            "probes (make_probe 'linear' and 'hgb') on other + lat/lon, with and without the encoder's columns; "
            "'prior additive': the trees with the prior's columns in an interaction group of their own "
            "(interaction_cst); 'prior monotone': that, and monotonic_cst +1 on a single prior column (continuous "
            "and binary targets). Without the prior, every trees variant is the suite's trees.",
            "Every draw: " + args.name + "_draws.md.",
        ],
    )
    flat = [
        {k: (f"{v['mean']:+.4f} [{v['upper95']:+.4f}]" if isinstance(v, dict) else v) for k, v in r.items()}
        for r in rows
    ]
    write_results(f"{args.name}_draws", "Added tasks: every draw", flat, list(flat[0]))


if __name__ == "__main__":
    main()
