"""GeoCLIPEncoder: GeoCLIP's pretrained location encoder as a scikit-learn transformer."""

from __future__ import annotations

import copy
import re
import threading
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from geoembed.core.errors import CheckpointError
from geoembed.core.params import PRECISIONS, Interval, Options
from geoembed.core.utils import caller_stacklevel, resolve_device
from geoembed.encoders.base import LocationFeaturizer
from geoembed.encoders.registry import register_encoder

__all__ = ["GeoCLIPEncoder"]


def _unique_rows(latlon32: np.ndarray):
    """Unique (lat, lon) float32 pairs and the inverse index, via one 64-bit key per row."""
    keys = np.ascontiguousarray(latlon32).view(np.uint64).reshape(-1)
    unique_keys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if unique_keys.size == keys.size:
        return latlon32, None
    return latlon32[first], inverse.reshape(-1)


#: Points per weighted gather of ``interpolation_km`` (no model runs there, so not ``batch_size``).
_GATHER_ROWS = 16384

#: Default of ``interpolation_cache_gb``: GiB of grid-node embeddings kept across transform calls.
NODE_CACHE_GB = 2.0

# one node cache per transformer, even when Dask's threads transform with it at once
_NODE_CACHE_LOCK = threading.Lock()


def _find(sorted_keys: np.ndarray, keys: np.ndarray):
    """(found, position): whether each of ``keys`` is in ``sorted_keys``, and where."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    position = np.searchsorted(sorted_keys, keys).clip(max=len(sorted_keys) - 1)
    return sorted_keys[position] == keys, position


class _NodeCache:
    """Embeddings of grid nodes kept across ``transform`` calls, so that a stream of chunks over one
    region computes each node once. Holds at most the ``limit`` bytes given to :meth:`embed`;
    nodes beyond that are computed for the call that needs them.

    Rows are appended to a buffer that doubles when full (so adding nodes costs what they are,
    not what the cache holds) and found through sorted keys. Thread-safe (Dask may call one
    transformer from several threads): rows are only ever written past the count that readers
    were given, and the sorted keys are replaced, never changed in place.
    """

    def __init__(self, key):
        self.key = key
        self.sorted_keys = np.empty(0, dtype=np.int64)
        self.sorted_rows = np.empty(0, dtype=np.int64)  # row in ``buffer`` of each sorted key
        self.buffer = None
        self.lock = threading.Lock()
        self.warned = False  # about a full cache, once

    def held_bytes(self) -> int:
        """Bytes of the buffer (its capacity, which is at most the limit it grew under)."""
        return 0 if self.buffer is None else self.buffer.shape[0] * self.buffer.shape[1] * self.buffer.element_size()

    def _locate(self, keys):
        found, position = _find(self.sorted_keys, keys)
        return found, self.sorted_rows[position] if len(self.sorted_rows) else position

    def embed(self, keys, nodes, compute, limit):
        """(parts, computed, uncached): where each of ``nodes`` has its embedding, how many nodes this
        call computed, and how many of those it could not keep (the cache being full).

        ``parts`` is a list of (table, rows): a tensor of node embeddings and, for each node, its row
        there or -1 where another part has it. One part (the cache) when it holds every node; beyond
        its bound a second part, this call's computed rows, instead of a copy of every node the call
        touches (that copy took as much again as the computed rows: 4.6 GiB for a million points at
        0.5 km over a country).

        ``keys`` (n,) are the nodes' integer keys (:func:`~geoembed.core.geo.grid_node_keys`);
        ``compute`` embeds the (lat, lon) rows of the nodes not cached yet.
        """
        import torch

        with self.lock:
            hit, rows = self._locate(keys)
            buffer = self.buffer
        if hit.all():
            return [(buffer, rows)], 0, 0
        new_keys, new_values = keys[~hit], compute(nodes[~hit])
        row_bytes = new_values.shape[1] * new_values.element_size()
        with self.lock:
            present, _ = self._locate(new_keys)  # another thread may have added some
            count = len(self.sorted_keys)
            # as many of the new nodes as fit, in their order: a stream over a larger area keeps a part
            add = np.flatnonzero(~present)[: max(limit // row_bytes - count, 0)]
            if len(add):
                add_keys, add_values = new_keys[add], new_values[torch.from_numpy(add)]
                if self.buffer is None or count + len(add) > self.buffer.shape[0]:
                    capacity = min(max(2 * (count + len(add)), 1024), limit // row_bytes)
                    grown = add_values.new_empty((capacity, add_values.shape[1]))
                    if count:
                        grown[:count] = self.buffer[:count]
                    self.buffer = grown
                self.buffer[count : count + len(add)] = add_values.to(self.buffer.device)
                merged_keys = np.concatenate([self.sorted_keys, add_keys])
                merged_rows = np.concatenate([self.sorted_rows, np.arange(count, count + len(add))])
                order = np.argsort(merged_keys, kind="stable")
                self.sorted_keys, self.sorted_rows = merged_keys[order], merged_rows[order]
            uncached = int((~present).sum()) - len(add)
            found, rows = self._locate(keys)
            if found.all():
                return [(self.buffer, rows)], len(new_keys), uncached
            buffer = self.buffer
        # beyond the bound: the nodes the cache has from it, the others from this call's rows
        # (rows of ``new_values`` are in the order of ``keys[~hit]``, and a node not found is not a hit)
        new_rows = np.where(found, -1, np.cumsum(~hit) - 1)
        parts = [(new_values, new_rows)]
        if found.any():
            parts.insert(0, (buffer, np.where(found, rows, -1)))
        return parts, len(new_keys), uncached


def weights_feature_prefix(weights) -> str:
    """The prefix of the output column names for ``weights``, so that a table says which model made it.

    - the default published weights (None, "geoclip-1.3.0" or its bundled file): ``geoclip``
      (``geoclip_0`` ... ``geoclip_511``, the names of earlier releases);
    - other registered weights: the name with every run of other characters than letters
      and digits turned into ``_``: "geoclip-lite" gives ``geoclip_lite`` (``geoclip_lite_0`` ...);
    - any other checkpoint file: ``geoclip_`` and its name in the same spelling, the file's
      stem, or its folder's name for the generic ``location_encoder.*`` that ``geoembed
      train``/``distill`` write: ``runs/europe/location_encoder.safetensors`` gives
      ``geoclip_europe`` and ``my_model.pth`` gives ``geoclip_my_model``.

    Examples
    --------
    >>> weights_feature_prefix(None), weights_feature_prefix("geoclip-lite")
    ('geoclip', 'geoclip_lite')
    >>> weights_feature_prefix("runs/europe/location_encoder.safetensors")
    'geoclip_europe'
    """
    from geoembed.models.weights import DEFAULT_WEIGHTS, list_weights, weights_for_file

    def spelled(name: str) -> str:
        return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()

    if weights is None:
        return "geoclip"
    name = str(weights) if isinstance(weights, str) and weights in list_weights() else None
    if name is None and Path(weights).is_file():
        entry = weights_for_file(weights)
        name = entry.name if entry is not None else None
    if name == DEFAULT_WEIGHTS:
        return "geoclip"
    if name is not None:
        return spelled(name)
    path = Path(weights)
    stem = path.parent.resolve().name if path.stem == "location_encoder" else path.stem
    stem = spelled(stem) or "checkpoint"
    return stem if stem.startswith("geoclip_") else f"geoclip_{stem}"


@register_encoder("geoclip")
class GeoCLIPEncoder(LocationFeaturizer):
    """GeoCLIP's pretrained 512-d location features (Vivanco Cepeda et al., NeurIPS 2023).

    The location encoder was trained contrastively on 4.7M geotagged Flickr photos so that a
    place's embedding captures what the place looks like. The published weights
    (``geoclip==1.3.0``, MIT) ship with the package; nothing is downloaded.
    :class:`geoembed.GeoEmbedder` is the front door that wraps this and every other encoder.

    Parameters
    ----------
    weights : str or Path, default=None
        A registered weights name (:func:`geoembed.models.weights.list_weights`, e.g.
        "geoclip-1.3.0"), a location-encoder checkpoint (geoembed ``.safetensors`` or an
        official ``.pth`` state dict; any sigma list), or None for the published weights.
        The output names say which: ``geoclip_0`` ... for the published weights,
        ``geoclip_lite_0`` ... for "geoclip-lite", ``geoclip_<file or folder name>_0`` ... for
        another checkpoint (the file's name, or its folder's for a ``location_encoder.safetensors``).
    n_components : int, default=None
        Project the raw embedding on its first ``n_components`` principal components: compact
        features (``geoclip_pc0`` ...). The outputs are nested (Matryoshka-style): the first k
        columns for ``n_components=256`` are the output for ``n_components=k`` (to float32
        rounding; with ``normalize=True`` each size's rows are scaled to unit length, so
        normalise again after truncating), so one model serves every size. The basis is computed once on an
        equal-area global sample of the weights' own outputs
        (:func:`geoembed.models.pca_basis.compute_pca_basis`), so it is deterministic and sees
        no user data. Registered weights ship theirs ("geoclip-1.3.0" and "geoclip-lite"); for
        a checkpoint path it is ``pca_basis.safetensors`` in the checkpoint's folder (``geoembed
        distill`` writes it), used only when the checkpoint sha256 it records matches the
        checkpoint; else fitting raises :class:`~geoembed.core.errors.CheckpointError` saying
        how to make one (:func:`geoembed.models.pca_basis.write_pca_basis`). For the published
        weights k = 8, 16, 32, 64 keep 26%, 35%, 46% and 57% of the variance (the sigma = 256
        branch spreads it over many directions).
    interpolation_km : float, default=None
        Compute the model only on the nodes of a fixed latitude/longitude grid with this
        spacing (km along a meridian; the same number of degrees in longitude) and interpolate
        bilinearly between the four nodes around each point. For many points in one city,
        region or country: the model then runs once per grid node the points touch instead of
        once per point, so the cost is bounded by the area, not the number of points. The
        result is a fixed function of each point (the nodes depend on the spacing alone).
        Node embeddings are kept across calls (up to ``interpolation_cache_gb``), so a stream
        of chunks over one region computes each node once. On the evaluation half of the held-out task pool
        (``benchmarks/results/interpolated.md``; AMD EPYC VM with AVX2 only, 1 thread, torch
        2.13.0), at 0.5 km the linear probe is within 0.01 of
        the exact model's on 18 of 18 tasks and no point of those tasks has a cosine to its exact
        embedding below 0.9994; at 1 km, 17 of 18 (-0.024 on Minneapolis neighbourhoods) and
        0.9939. Those are what the tasks gave, not a bound: in dense city centres single points
        fall lower (0.998 at 0.5 km and 0.988 at 1 km in central London).
        It gains nothing for points spread over the globe (each point then needs four nodes
        of its own): there it is slower than None, which computes each point.
    interpolation_cache_gb : float, default=2.0
        GiB of node embeddings that ``interpolation_km`` keeps from one ``transform`` call to
        the next. A node takes 2 KiB (512 float32 columns), so 2 GiB hold about a million
        nodes: a region of 250,000 km2 at 0.5 km on the equator, 160,000 km2 at 50 degrees
        north (the grid's meridians are closer there), four times that at 1 km. With
        ``n_components`` the nodes are kept projected, 4 bytes per component (the projection
        commutes with the interpolation), so 64 components hold 8 times the area. Nodes beyond
        it are computed again by each call that needs them, which can cost more than the exact
        model when chunks in random order cover a larger area: a ``RuntimeWarning`` then says
        so, once. Raise it, pass chunks sorted by location, use ``n_components`` or a larger
        spacing. Outputs do not depend on it; 0 keeps nothing.
    normalize : bool, default=False
        L2-normalise each row (after the projection, if any). The default returns the raw
        embedding, the same numbers as the official ``LocationEncoder``.
    precision : {"exact", "fast"}, default="exact"
        "exact" computes in float32. "fast" keeps the projection and Fourier features in
        float32 and runs the MLPs in bfloat16 on CPUs with AVX512-BF16/AMX and on GPUs
        (cosine to exact >= 0.9999); elsewhere it falls back to float32 (the same numbers and speed as
        "exact"; :func:`geoembed.models.kernels.bfloat16_is_fast` tells which a device gets).
    dtype : {"float32", "float16"}, default="float32"
        Output dtype.
    batch_size : int, default=4096
        Points per forward pass. Outputs do not depend on it beyond float32 rounding.
    device : str, default="cpu"
        Torch device: "cpu", "cuda", "cuda:1", ... or "auto" (CUDA when present).
    lat_col, lon_col : str, default=None
        DataFrame column or xarray coordinate names; by default found by name.
    wrap_longitude : bool, default=False
        Wrap longitudes into [-180, 180) instead of rejecting values outside [-180, 180].
    on_invalid : {"raise", "nan"}, default="raise"
        "raise": invalid coordinates raise ``ValueError`` naming the rows; "nan": NaN rows.

    Attributes
    ----------
    n_features_in_ : int
        2.
    feature_names_in_ : ndarray of str
        Input column names, when fitted on a DataFrame with string column names.
    n_features_out_ : int
        Embedding size (512 for the published model).
    sigmas_ : tuple of float
        The Fourier scales of the loaded encoder.
    weights_file_ : Path or None
        The absolute path of the user's checkpoint fitted on: a pickled estimator (joblib, dask
        and Spark workers) loads this file whatever its working directory. None for registered
        weights, found by name wherever the package is installed.
    weights_sha256_ : str
        The sha256 of the checkpoint fitted on: a fitted estimator refuses to load a different
        file at that path.
    module_ : GeoCLIPLocationEncoder
        The torch module (loaded on first use, never pickled).

    Examples
    --------
    >>> from geoembed.encoders import GeoCLIPEncoder
    >>> GeoCLIPEncoder().fit_transform([[48.8566, 2.3522]]).shape
    (1, 512)
    """

    _parameter_constraints: dict = {
        **LocationFeaturizer._parameter_constraints,
        "weights": [None, str, Path],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "interpolation_km": [None, Interval(Real, 0.001, 1000, closed="both")],
        "interpolation_cache_gb": [Interval(Real, 0, None, closed="left")],
        "normalize": ["boolean"],
        "precision": [Options(*PRECISIONS)],
        "dtype": [Options("float32", "float16")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    feature_prefix = "geoclip"

    def __init__(
        self,
        weights=None,
        *,
        n_components=None,
        interpolation_km=None,
        interpolation_cache_gb=NODE_CACHE_GB,
        normalize=False,
        precision="exact",
        dtype="float32",
        batch_size=4096,
        device="cpu",
        lat_col=None,
        lon_col=None,
        wrap_longitude=False,
        on_invalid="raise",
    ):
        self.weights = weights
        self.n_components = n_components
        self.interpolation_km = interpolation_km
        self.interpolation_cache_gb = interpolation_cache_gb
        self.normalize = normalize
        self.precision = precision
        self.dtype = dtype
        self.batch_size = batch_size
        self.device = device
        self.lat_col = lat_col
        self.lon_col = lon_col
        self.wrap_longitude = wrap_longitude
        self.on_invalid = on_invalid

    @property
    def module_(self):
        """The GeoCLIP torch module for ``weights`` and ``device`` (loaded once, then cached).

        Once fitted, the file fitted on (``weights_file_``), checked against its sha256.
        """
        source = getattr(self, "weights_file_", None) or self.weights
        cached = getattr(self, "_module", None)
        if cached is not None and cached[:2] == (source, self.device):
            return cached[2]
        from geoembed.models.geoclip import load_location_encoder
        from geoembed.models.weights import resolve_weights

        if getattr(self, "weights_sha256_", None) is not None:  # fitted: the file fitted on, or refused
            found = resolve_weights(source).sha256  # recorded for registered weights, hashed once for a user's file
            if found != self.weights_sha256_:
                raise CheckpointError(
                    f"{source} is not the checkpoint this estimator was fitted on (sha256 "
                    f"{found[:12]}..., fitted on {self.weights_sha256_[:12]}...); fit it again to use this file"
                )
        module = load_location_encoder(source)
        device = resolve_device(self.device)
        if device.type != "cpu":
            module = copy.deepcopy(module).to(device)  # the cached CPU copy stays shared
        self._module = (source, self.device, module)
        return module

    def __getstate__(self):
        # a copy: scikit-learn's __getstate__ returns the estimator's own __dict__ (Python 3.11+), and
        # pickling (joblib.dump, copy.deepcopy, dask and Spark shipping it) must not strip the live
        # estimator of its loaded weights and interpolation nodes
        state = dict(super().__getstate__())
        state.pop("_module", None)
        state.pop("_node_cache", None)
        return state

    def _fit_encoder(self):
        # the basis first: a missing or mismatched one is refused before the encoder is loaded
        basis = None if self.n_components is None else self._pca_basis()
        from geoembed.models.weights import resolve_weights

        # a user's file, absolute, and its digest: a relative path means the working directory of
        # the fit (registered weights are found by name wherever the package is installed)
        self.weights_file_ = self.weights_sha256_ = None
        self._module = None  # a checkpoint rewritten since the last fit is loaded again
        resolved = resolve_weights(self.weights)
        self.weights_sha256_ = resolved.sha256
        self.weights_file_ = resolved.path.resolve() if resolved.entry is None else None
        self.sigmas_ = tuple(self.module_.config.sigmas)
        self._node_cache = None  # nodes of an earlier fit (another projection, a rewritten checkpoint)
        self.projection_ = None
        if basis is not None:
            self.projection_ = (basis["mean"], basis["components"][: self.n_components])
            self.explained_variance_ratio_ = basis["explained_variance_ratio"][: self.n_components].copy()

    def _pca_basis(self) -> dict:
        """The PCA basis of ``weights``: bundled with registered weights, else next to the checkpoint."""
        from geoembed.models.pca_basis import load_checkpoint_pca_basis, pca_basis_path
        from geoembed.models.weights import load_pca_basis, resolve_weights

        resolved = resolve_weights(self.weights)
        if resolved.entry is None:
            basis = load_checkpoint_pca_basis(resolved.path, parameter=f"n_components={self.n_components}")
            source = str(pca_basis_path(resolved.path))
        elif "pca_basis" in resolved.entry.extra_files:
            basis = load_pca_basis(resolved.entry.name)
            source = str(resolved.entry.path("pca_basis"))
        else:
            raise ValueError(
                f"n_components={self.n_components} needs weights with a PCA basis; the registered weights "
                f"{resolved.entry.name!r} have none (register one as extra_files['pca_basis'])"
            )
        if self.n_components > len(basis["components"]):
            raise ValueError(
                f"n_components={self.n_components} exceeds the {len(basis['components'])} components of the basis "
                f"{source}"
            )
        return basis

    def _n_output_features(self):
        return self.module_.embed_dim if self.n_components is None else self.n_components

    def _feature_name_prefix(self):
        return weights_feature_prefix(self.weights)

    def _feature_suffixes(self):
        if self.n_components is None:
            return list(range(self.n_features_out_))
        return [f"pc{i}" for i in range(self.n_features_out_)]

    def _output_dtype(self):
        return np.dtype(self.dtype)

    def _encode(self, lat, lon):
        import torch

        from geoembed.models.kernels import bfloat16_is_fast

        module = self.module_
        device = next(module.parameters()).device
        # precision was validated once, at the outermost fit; here it is only resolved for the device
        bfloat16 = self.precision == "fast" and bfloat16_is_fast(device)
        latlon = np.stack([lat, lon], axis=1).astype(np.float32)
        inverse = None
        if self.interpolation_km is None:  # repeated points are computed once (interpolating one is cheap)
            latlon, inverse = _unique_rows(latlon)
        out = np.empty((latlon.shape[0], self.n_features_out_), dtype=self._output_dtype())
        if self.interpolation_km is None:
            workspace = {}  # this call's intermediate tensors, reused from batch to batch
            # rows that need nothing after the model go straight into the output (one copy less)
            plain = self.projection_ is None and not self.normalize
            direct = plain and device.type == "cpu" and out.dtype == np.float32
            for start in range(0, latlon.shape[0], self.batch_size):
                chunk = torch.from_numpy(latlon[start : start + self.batch_size]).to(device)
                if direct:
                    rows = torch.from_numpy(out[start : start + chunk.shape[0]])
                    module.embed_resolved(chunk, bfloat16=bfloat16, out=rows, workspace=workspace)
                else:
                    self._write_rows(out, start, module.embed_resolved(chunk, bfloat16=bfloat16, workspace=workspace))
        else:
            from geoembed.core.geo import KM_PER_DEGREE, bilinear_grid_cells, grid_node_keys

            step = self.interpolation_km / KM_PER_DEGREE
            nodes, rows, weights = bilinear_grid_cells(latlon[:, 0], latlon[:, 1], step)
            keys = grid_node_keys(nodes, step)

            def embed_nodes(latlon_nodes):
                # nodes are kept projected: a projection commutes with the weighted mean (weights sum
                # to 1), and n_components columns take n_components / 512 of the cache and the gather
                latlon_nodes = torch.from_numpy(latlon_nodes.astype(np.float32))
                return torch.cat(
                    [
                        self._project(
                            module.embed_resolved(latlon_nodes[i : i + self.batch_size].to(device), bfloat16=bfloat16)
                        )
                        for i in range(0, latlon_nodes.shape[0], self.batch_size)
                    ]
                )

            key = (self.weights, str(device), bfloat16, self.interpolation_km, self.n_components)
            limit = int(float(self.interpolation_cache_gb) * 2**30)
            with _NODE_CACHE_LOCK:
                cache = getattr(self, "_node_cache", None)
                if cache is None or cache.key != key or cache.held_bytes() > limit:  # a lowered limit too
                    cache = self._node_cache = _NodeCache(key)
            parts, computed, uncached = cache.embed(keys, nodes, embed_nodes, limit)
            if uncached and not cache.warned:
                distinct = len(_unique_rows(latlon)[0])
                if uncached > distinct:  # interpolating cost more model evaluations than the points
                    cache.warned = True
                    row_bytes = parts[0][0].shape[1] * parts[0][0].element_size()
                    self._warn_cache_full(cache, computed, uncached, distinct, row_bytes)
            weights = torch.from_numpy(weights.astype(np.float32)).to(device)
            single = len(parts) == 1
            if single:
                table, where = parts[0]
                all_corners = torch.from_numpy(where[rows]).to(device)
            for start in range(0, latlon.shape[0], _GATHER_ROWS):
                stop = start + _GATHER_ROWS
                if single:
                    corners = all_corners[start:stop]
                else:
                    # beyond the cache's bound: a table of the rows this block needs, from the part that
                    # has each, so that every point sums its four corners as from one table (the same
                    # float32 sums whatever the cache held), in memory bounded by the block
                    block_nodes, block_corners = np.unique(rows[start:stop], return_inverse=True)
                    table = parts[0][0].new_empty((len(block_nodes), parts[0][0].shape[1]))
                    for part_table, where in parts:
                        at = where[block_nodes]
                        mine = at >= 0
                        if mine.any():
                            table[torch.from_numpy(mine)] = part_table[torch.from_numpy(at[mine])].to(table.device)
                    corners = torch.from_numpy(block_corners.reshape(-1, 4)).to(device)
                mixed = torch.nn.functional.embedding_bag(
                    corners, table, per_sample_weights=weights[start:stop], mode="sum"
                )
                self._write_rows(out, start, mixed, projected=True)
        return out if inverse is None else out[inverse]

    def _warn_cache_full(self, cache, computed, uncached, distinct, row_bytes):
        import warnings

        warnings.warn(
            f"interpolation_km={self.interpolation_km:g}: the node cache is full (interpolation_cache_gb="
            f"{self.interpolation_cache_gb:g}: {len(cache.sorted_keys):,} nodes of {row_bytes:,} bytes), and "
            f"this call computed {computed:,} grid nodes for {distinct:,} distinct points, {uncached:,} of "
            "which it could not keep: more model evaluations than interpolation_km=None would make, and "
            "each later call over the same area computes them again. If the points cover a larger area "
            "than the cache holds, raise interpolation_cache_gb (the nodes of an area: "
            "geoembed.core.geo.bilinear_grid_cells), pass chunks of rows sorted by location (each node is "
            "then needed by few chunks), or keep fewer columns per node (n_components); if they are spread "
            "over a continent or the globe, interpolation cannot pay off: use interpolation_km=None. "
            "Warned once per transformer.",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),
        )

    def _project(self, embedding):
        """A batch of raw embeddings on the principal components, when ``n_components`` asks for them."""
        import torch

        if self.projection_ is None:
            return embedding
        mean, components = (torch.from_numpy(a).to(embedding.device) for a in self.projection_)
        return (embedding - mean) @ components.T

    def _write_rows(self, out, start, embedding, *, projected=False):
        """Project (unless ``projected``) and normalise a batch of embeddings as asked, and copy it into
        ``out[start:]``.
        """
        import torch

        if not projected:
            embedding = self._project(embedding)
        if self.normalize:
            embedding = torch.nn.functional.normalize(embedding, dim=1)
        # one copy (device to host and dtype conversion together) straight into the output
        torch.from_numpy(out[start : start + embedding.shape[0]]).copy_(embedding)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags
