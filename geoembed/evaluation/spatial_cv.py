"""Spatially blocked cross-validation folds.

Points are binned into ``block_degrees`` x ``block_degrees`` latitude/longitude blocks and whole
blocks are assigned to folds at random, so that close neighbours never straddle train and test.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spatial_block_folds"]


def spatial_block_folds(lat, lon, *, block_degrees: float, n_splits: int = 5, random_state: int = 0):
    """(train, test) index pairs where all points of a lat/lon block go to the same fold.

    Parameters
    ----------
    lat, lon : array-like of shape (n_samples,)
        Coordinates in degrees.
    block_degrees : float
        Side of the square blocks, in degrees.
    n_splits : int, default=5
        Number of folds.
    random_state : int, default=0
        Seed of the random block-to-fold assignment.

    Returns
    -------
    folds : list of n_splits (train, test) tuples
        Integer index arrays into the samples; every sample is in exactly one test set. Usable
        as ``cv=`` in scikit-learn's ``cross_val_score`` and friends.

    Raises
    ------
    ValueError
        When there are fewer occupied blocks than folds.
    """
    lat, lon = np.asarray(lat), np.asarray(lon)
    lat_block = np.floor((lat + 90) / block_degrees).astype(np.int64)
    lon_block = np.floor((lon + 180) / block_degrees).astype(np.int64)
    n_lon_blocks = int(np.ceil(360 / block_degrees)) + 1  # one more for lon == 180
    blocks = lat_block * n_lon_blocks + lon_block
    unique, block_of_row = np.unique(blocks, return_inverse=True)
    if len(unique) < n_splits:
        raise ValueError(f"only {len(unique)} spatial blocks of {block_degrees} degrees for {n_splits} folds")
    fold_of_block = np.random.default_rng(random_state).permutation(len(unique)) % n_splits
    fold = fold_of_block[block_of_row]
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]
