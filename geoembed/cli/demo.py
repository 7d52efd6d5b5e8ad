"""The demo: embed the bundled world-cities sample and show each city's nearest neighbours."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.io.atomic import atomic_output

__all__ = ["DEFAULT_DEMO_CITIES", "DemoResult", "run_demo"]

#: Cities whose nearest neighbours the demo prints when none are given.
DEFAULT_DEMO_CITIES = ("Paris", "Cairo", "Tokyo", "Lima")


@dataclass
class DemoResult:
    """What :func:`run_demo` computed and wrote.

    Attributes
    ----------
    n_cities : int
        Rows of the sample.
    n_features : int
        Embedding width (512 for GeoCLIP).
    seconds : float
        Time to embed the sample.
    neighbours : list of (str, list of (str, float) or None)
        For each requested city in order, its nearest other cities with their cosine
        similarity, most similar first; None for a city not in the sample.
    output : Path or None
        The Parquet file written (the sample's columns plus the embedding), if any.
    """

    n_cities: int
    n_features: int
    seconds: float
    neighbours: list = field(default_factory=list)
    output: Path | None = None

    def report(self) -> str:
        """The demo's text report, as ``geoembed demo`` prints it."""
        lines = [
            f"Embedded {self.n_cities} world cities into {self.n_features}-d GeoCLIP features in {self.seconds:.2f} s.",
            "",
            "Most similar places in GeoCLIP space (cosine):",
        ]
        for name, found in self.neighbours:
            if found is None:
                lines.append(f"  {name}: not in the sample")
                continue
            lines.append(f"  {name:<12} -> " + ", ".join(f"{other} ({similarity:.2f})" for other, similarity in found))
        if self.output is not None:
            lines += [
                "",
                f"Wrote {self.output} ({self.n_cities} rows: the sample's columns plus "
                f"geoclip_0..geoclip_{self.n_features - 1}).",
            ]
        return "\n".join(lines)


def run_demo(
    output="geoembed_demo.parquet", cities=DEFAULT_DEMO_CITIES, *, n_neighbours: int = 3, overwrite: bool = True
) -> DemoResult:
    """Embed the bundled sample of world cities with GeoCLIP and find the nearest neighbours of a few.

    Parameters
    ----------
    output : str, Path or None, default="geoembed_demo.parquet"
        Parquet file for the sample's columns plus the L2-normalised embedding columns,
        written atomically; None writes nothing.
    cities : sequence of str, default=("Paris", "Cairo", "Tokyo", "Lima")
        Names (the sample's ``name`` column) whose neighbours are reported.
    n_neighbours : int, default=3
        Neighbours per city.
    overwrite : bool, default=True
        Replace an existing ``output``. False raises ``FileExistsError`` before anything is
        computed (``geoembed demo`` replaces its default output, and a file named with ``-o``
        only when given ``--overwrite``).

    Returns
    -------
    DemoResult
        The numbers behind the report; ``DemoResult.report()`` is the printed text.
    """
    from geoembed.core.data import load_sample
    from geoembed.encoders.embedder import GeoEmbedder
    from geoembed.io.paths import check_output_path

    if output is not None:
        check_output_path(output, overwrite=overwrite)
    sample = load_sample()
    start = time.perf_counter()
    features = GeoEmbedder(normalize=True).set_output(transform="pandas").fit_transform(sample)
    seconds = time.perf_counter() - start
    values = features.to_numpy()
    similarity = values @ values.T
    names = sample["name"].to_numpy()
    neighbours = []
    for name in cities:
        rows = np.flatnonzero(names == name)
        if rows.size == 0:  # "paris" is Paris
            rows = np.flatnonzero(np.char.lower(names.astype(str)) == str(name).lower())
        if rows.size == 0:
            neighbours.append((name, None))
            continue
        order = np.argsort(-similarity[rows[0]])[1 : n_neighbours + 1]
        neighbours.append((name, [(str(names[j]), float(similarity[rows[0], j])) for j in order]))
    written = None
    if output is not None:
        written = Path(output)
        with atomic_output(written, overwrite=overwrite) as temporary:
            pd.concat([sample, features], axis=1).to_parquet(temporary, index=False)
    return DemoResult(
        n_cities=len(sample), n_features=values.shape[1], seconds=seconds, neighbours=neighbours, output=written
    )
