"""The NUS-WIDE results table in the paper's form, with GeoCLIP's published mAP beside ours."""

from __future__ import annotations

import pandas as pd

from geoembed.benchmarks.report import markdown_table

__all__ = ["COLUMNS", "MINIATURE_BANNER", "NUSWIDE_MAP", "format_table", "split_line", "table_rows"]

#: mAP in GeoCLIP's NUS-WIDE table (GPS2Vec's protocol), by feature set ("V": visual features).
NUSWIDE_MAP = {
    "V": 0.234,
    "OneHot": 0.066,
    "GPS2Vec": 0.182,
    "GPS2Vec+": 0.210,
    "GeoCLIP": 0.249,
    "OneHot + V": 0.238,
    "GPS2Vec + V": 0.300,
    "GPS2Vec+ + V": 0.348,
    "GeoCLIP + V": 0.362,
}

#: Columns of the printed table.
COLUMNS = ["features", "kind", "dim", "mAP (ours, mean ± std)", "mAP (paper)"]

MINIATURE_BANNER = (
    "**MINIATURE run: synthetic data in the NUS-WIDE layout, not the real release. "
    "The paper column is for reference only.**"
)


def table_rows(table: pd.DataFrame, paper: dict = NUSWIDE_MAP) -> list[dict]:
    """Rows of the printed table: our mAP (mean ± std over seeds) beside the paper's.

    Parameters
    ----------
    table : DataFrame
        From :func:`~geoembed.benchmarks.nuswide.run_nuswide_benchmark`.
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
        From :func:`~geoembed.benchmarks.nuswide.run_nuswide_benchmark`.
    paper : dict, default=NUSWIDE_MAP

    Returns
    -------
    text : str
    """
    lines = [MINIATURE_BANNER + "\n"] if table.attrs.get("miniature") else []
    lines.append(markdown_table(table_rows(table, paper), COLUMNS))
    lines.append("\n" + split_line(table))
    return "\n".join(lines)
