"""GeoLocator: GeoCLIP's image-to-GPS retrieval (photos, text queries, regional zoom-in)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from geoembed.core.errors import CheckpointError
from geoembed.retrieval.gallery import GPSGallery
from geoembed.retrieval.images import ImageLoadError, expand_image_inputs, load_rgb

__all__ = ["GeoLocator", "build_image_mlp", "streaming_top_k"]

_CACHE_DTYPES = ("float32", "float16")


def build_image_mlp(state: dict | None = None) -> nn.Sequential:
    """GeoCLIP's image head (Linear 768 -> 768, ReLU, Linear 768 -> 512), or the shapes in ``state``."""
    d_in, hidden, d_out = (
        (768, 768, 512)
        if state is None
        else (state["0.weight"].shape[1], state["0.weight"].shape[0], state["2.weight"].shape[0])
    )
    mlp = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))
    if state is not None:
        mlp.load_state_dict({k: v for k, v in state.items() if k != "logit_scale"})
    return mlp.eval()


class GeoLocator:
    """Locate photos (or text descriptions) on Earth with GeoCLIP.

    A query goes through the frozen CLIP backbone (``get_image_features`` or
    ``get_text_features``, 768-d) and GeoCLIP's image MLP; its cosine similarity to every
    gallery location embedding, times ``exp(logit_scale)``, is softmaxed over the gallery and
    the top-k coordinates come back with their probabilities.

    Parameters
    ----------
    backbone : str, CLIPBackbone or None, default=None
        A model id or local folder loaded on first image/text use (default
        ``openai/clip-vit-large-patch14``), or a loaded :class:`CLIPBackbone`. Feature-only use
        (:meth:`predict_features`) needs no backbone.
    gallery : GPSGallery or array-like of shape (n, 2), default=None
        Candidate [lat, lon]; default the bundled 100K MP-16 gallery.
    location_weights : str or Path, default=None
        Registered weights (``geoembed.models.weights.list_weights()``, e.g. "geoclip-lite") or a
        location-encoder checkpoint (default: the bundled GeoCLIP weights).
    image_weights : str or Path, default=None
        safetensors with the image MLP (``0.*``, ``2.*``) and ``logit_scale`` (default: bundled).
    precision : {"exact", "fast"}, default="exact"
        Arithmetic of the gallery's location embeddings (see :class:`~geoembed.GeoEmbedder`).
    cache_dtype : {"float32", "float16"}, default="float32"
        dtype of the on-disk gallery cache (205 MB for the 100K gallery in float32). float16
        halves it but moves top-k probabilities by up to ~0.2% (float32 reproduces the
        official model's to 0.1%).
    cache_dir : str or Path, default=None
        Cache folder (default ``$GEOEMBED_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoembed``, else
        ``~/.cache/geoembed``). When it cannot be written, gallery embeddings are computed in
        memory instead (a ``RuntimeWarning`` says so once); corrupt entries are rebuilt.
    allow_download : bool, default=False
        Let the backbone be fetched from the Hugging Face Hub if it is not available locally.
    device : str, default="cpu"
    """

    def __init__(
        self,
        backbone=None,
        *,
        gallery=None,
        location_weights=None,
        image_weights=None,
        precision="exact",
        cache_dtype="float32",
        cache_dir=None,
        allow_download=False,
        device="cpu",
    ):
        from geoembed.core.utils import resolve_device
        from geoembed.models.geoclip import load_location_encoder
        from geoembed.models.weights import IMAGE_MLP_FILE, resolve_weights, verify_weights_file

        self.device = resolve_device(device)
        self.precision = precision
        try:
            dtype_name = np.dtype(cache_dtype).name
        except TypeError:
            dtype_name = None
        if dtype_name not in _CACHE_DTYPES:  # an integer dtype would round every unit-norm embedding to one value
            raise ValueError(f"cache_dtype must be one of {list(_CACHE_DTYPES)}; got {cache_dtype!r}")
        self.cache_dtype = dtype_name
        self.cache_dir = cache_dir
        self.allow_download = allow_download
        self._backbone = backbone
        self.gallery = self._as_gallery(gallery) if gallery is not None else GPSGallery.mp16()
        self.location_weights = location_weights
        self._location_weights = resolve_weights(location_weights)
        # the digest that keys the gallery cache is the loaded file's: taken now, with the file
        # checked unchanged across the load (a training run may write the next epoch over it)
        path = self._location_weights.path
        before = path.stat()
        self._location_sha256 = self._location_weights.sha256
        self.location_encoder = load_location_encoder(path)
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            raise CheckpointError(f"{path} changed while it was being loaded; try again once it is written")
        if self.device.type != "cpu":
            import copy

            self.location_encoder = copy.deepcopy(self.location_encoder).to(self.device)
        from safetensors.torch import load_file

        state = load_file(str(verify_weights_file(image_weights or IMAGE_MLP_FILE)))
        if "logit_scale" not in state:
            raise ValueError(f"{image_weights} lacks 'logit_scale'")
        self.image_mlp = build_image_mlp(state).to(self.device)
        self.logit_scale = float(state["logit_scale"].exp())
        self._gallery_cache: dict = {}

    # -- pieces ---------------------------------------------------------------------------
    @staticmethod
    def _as_gallery(gallery) -> GPSGallery:
        return gallery if isinstance(gallery, GPSGallery) else GPSGallery(gallery)

    @property
    def backbone(self):
        """The CLIP backbone, loaded on first use."""
        from geoembed.retrieval.backbone import DEFAULT_BACKBONE, CLIPBackbone

        if not isinstance(self._backbone, CLIPBackbone):
            self._backbone = CLIPBackbone.from_pretrained(
                self._backbone or DEFAULT_BACKBONE, allow_download=self.allow_download, device=self.device
            )
        return self._backbone

    def _weights_sha256(self) -> str:
        return self._location_sha256

    def gallery_embeddings(self, gallery: GPSGallery | None = None) -> torch.Tensor:
        """(n, 512) float32 L2-normalised location embeddings of a gallery (disk + memory cache)."""
        gallery = gallery or self.gallery
        key = (gallery.fingerprint(), self.precision)
        if key not in self._gallery_cache:
            values = gallery.embeddings(
                self.location_encoder,
                weights_sha256=self._weights_sha256(),
                precision=self.precision,
                dtype=self.cache_dtype,
                cache_dir=self.cache_dir,
                progress=len(gallery) > 20_000,
            )
            # keep the locator's own gallery and the latest other one (e.g. a zoom region)
            own = (self.gallery.fingerprint(), self.precision)
            self._gallery_cache = {k: v for k, v in self._gallery_cache.items() if k == own}
            self._gallery_cache[key] = torch.from_numpy(values.astype(np.float32)).to(self.device)
        return self._gallery_cache[key]

    # -- features -> locations ------------------------------------------------------------
    @torch.inference_mode()
    def embed_features(self, clip_features) -> np.ndarray:
        """GeoCLIP image embeddings (n, 512), un-normalised, from CLIP features (n, 768)."""
        features = torch.as_tensor(np.asarray(clip_features, dtype=np.float32)).to(self.device)
        d_in = self.image_mlp[0].in_features
        if features.ndim != 2 or features.shape[1] != d_in:
            raise ValueError(f"CLIP features must have shape (n, {d_in}); got {tuple(features.shape)}")
        if not torch.isfinite(features).all():
            rows = torch.nonzero(~torch.isfinite(features).all(dim=1)).flatten()[:5].tolist()
            raise ValueError(f"CLIP features must be finite; rows {rows} are not")
        return self.image_mlp(features).cpu().numpy()

    @torch.inference_mode()
    def probabilities(self, clip_features, *, gallery: GPSGallery | None = None) -> np.ndarray:
        """Softmax over the gallery, shape (n_queries, n_gallery)."""
        logits = self._logits(torch.from_numpy(self.embed_features(clip_features)).to(self.device), gallery)
        return logits.softmax(dim=1).cpu().numpy()

    def _scaled_queries(self, query_embeddings: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(query_embeddings, dim=1) * self.logit_scale

    def _logits(self, query_embeddings: torch.Tensor, gallery) -> torch.Tensor:
        return self._scaled_queries(query_embeddings) @ self.gallery_embeddings(gallery).T

    @torch.inference_mode()
    def _top_k(self, query_embeddings: np.ndarray, top_k: int, gallery, ids, chunk: int = 1024) -> pd.DataFrame:
        gallery = gallery or self.gallery
        if not 1 <= top_k <= len(gallery):
            raise ValueError(f"top_k must be in [1, {len(gallery)}]; got {top_k}")
        values, indices = [], []
        queries = torch.from_numpy(np.asarray(query_embeddings, dtype=np.float32)).to(self.device)
        locations = self.gallery_embeddings(gallery)
        for start in range(0, len(queries), chunk):
            probs, top = streaming_top_k(self._scaled_queries(queries[start : start + chunk]), locations, top_k)
            values.append(probs.cpu().numpy())
            indices.append(top.cpu().numpy())
        if not values:
            return _predictions_frame(np.empty((0, top_k)), np.empty((0, top_k), dtype=np.int64), gallery, [])
        ids = list(ids) if ids is not None else list(range(len(queries)))
        return _predictions_frame(np.vstack(values), np.vstack(indices), gallery, ids)

    def predict_features(self, clip_features, top_k: int = 5, *, gallery=None, ids=None) -> pd.DataFrame:
        """Top-k locations for precomputed CLIP features (n, 768).

        Returns a tidy DataFrame: ``input_id, rank, lat, lon, probability, gallery_index``.
        """
        gallery = self._as_gallery(gallery) if gallery is not None else None
        return self._top_k(self.embed_features(clip_features), top_k, gallery, ids)

    # -- images and text --------------------------------------------------------------------
    def _image_batches(self, images, batch_size: int, on_error: str, errors: list):
        """Yield (positions, ids, CLIP features) per batch; unreadable items go to ``errors`` as
        (position, id, reason), or raise.
        """
        if on_error not in ("raise", "report"):
            raise ValueError(f"on_error must be 'raise' or 'report'; got {on_error!r}")
        items = expand_image_inputs(images)
        if not items:
            raise ValueError("no images given (an empty list, or a folder without image files)")
        for start in range(0, len(items), batch_size):
            positions, batch_ids, batch_images = [], [], []
            for position, (item_id, item) in enumerate(items[start : start + batch_size], start):
                try:
                    batch_images.append(load_rgb(item))
                    positions.append(position)
                    batch_ids.append(item_id)
                except ImageLoadError as err:
                    if on_error == "raise":
                        raise ImageLoadError(f"{item_id}: {err}") from err
                    errors.append((position, item_id, str(err)))
            if batch_images:
                yield positions, batch_ids, self.backbone.image_features(batch_images).cpu().numpy()

    def embed_images(self, images, *, batch_size: int = 16) -> np.ndarray:
        """GeoCLIP image embeddings (n, 512) for paths, a folder, PIL images or arrays."""
        return np.vstack([self.embed_features(f) for _, _, f in self._image_batches(images, batch_size, "raise", [])])

    def predict(
        self, images, top_k: int = 5, *, batch_size: int = 16, gallery=None, on_error: str = "raise"
    ) -> pd.DataFrame:
        """Top-k locations for images: paths, a folder, PIL images or (H, W, 3) arrays.

        ``on_error="report"`` keeps going past unreadable images and returns each as one row with
        NaN coordinates and the reason in an ``error`` column (nothing is dropped silently). Rows
        come in input order (folders expanded to their sorted image files): an input's ``top_k``
        rows, or its one error row.
        """
        gallery = self._as_gallery(gallery) if gallery is not None else None
        frames, order, errors = [], [], []
        for positions, ids, features in self._image_batches(images, batch_size, on_error, errors):
            frames.append(self._top_k(self.embed_features(features), top_k, gallery, ids))
            order.append(np.repeat(positions, len(frames[-1]) // len(ids)))  # top_k rows each (fewer if the gallery is)
        result = (
            pd.concat(frames, ignore_index=True)
            if frames
            else _predictions_frame(
                np.empty((0, top_k)), np.empty((0, top_k), dtype=np.int64), gallery or self.gallery, []
            )
        )
        if on_error == "report":
            result["error"] = None
            if errors:
                failed = pd.DataFrame(
                    {
                        "input_id": [item_id for _, item_id, _ in errors],
                        "rank": 1,
                        "lat": np.nan,
                        "lon": np.nan,
                        "probability": np.nan,
                        "gallery_index": -1,
                        "error": [reason for _, _, reason in errors],
                    }
                )
                result = pd.concat([result, failed], ignore_index=True)
                order.append(np.asarray([position for position, _, _ in errors]))
                # input order: a stable sort keeps each input's ranks in order
                result = result.iloc[np.argsort(np.concatenate(order), kind="stable")].reset_index(drop=True)
        return result

    def text_embeddings(self, queries) -> np.ndarray:
        """GeoCLIP embeddings (n, 512) of text queries (CLIP text features through the image MLP)."""
        queries = [queries] if isinstance(queries, str) else list(queries)
        if not queries:
            raise ValueError("no text queries given")
        return self.embed_features(self.backbone.text_features(queries).cpu().numpy())

    def locate_text(self, queries, top_k: int = 5, *, gallery=None) -> pd.DataFrame:
        """Top-k locations for text such as "Pyramids of Giza" (the paper's text queries)."""
        queries = [queries] if isinstance(queries, str) else list(queries)
        gallery = self._as_gallery(gallery) if gallery is not None else None
        return self._top_k(self.text_embeddings(queries), top_k, gallery, queries)

    def zoom(
        self, query, *, bbox=None, center=None, radius_km=None, step_km: float = 1.0, top_k: int = 5, kind: str = "auto"
    ) -> pd.DataFrame:
        """Locate one query over a dense regional gallery (the paper's "Boston, Massachusetts").

        ``query`` is text, an image (path, PIL, array) or a CLIP feature vector; ``kind`` forces
        "text", "image" or "features".
        """
        region = GPSGallery.region(bbox=bbox, center=center, radius_km=radius_km, step_km=step_km)
        return self._top_k(self._query_embedding(query, kind), top_k, region, [_query_id(query)])

    def probability_map(self, query, *, gallery=None, kind: str = "auto"):
        """Probability of every gallery point for one query, as an ``xarray.DataArray`` over points."""
        import xarray as xr

        gallery = self._as_gallery(gallery) if gallery is not None else self.gallery
        with torch.inference_mode():
            embedding = torch.from_numpy(self._query_embedding(query, kind)).to(self.device)
            probs = self._logits(embedding, gallery).softmax(dim=1)[0].cpu().numpy()
        return xr.DataArray(
            probs,
            dims=("point",),
            name="probability",
            coords={
                "lat": ("point", gallery.latlon[:, 0].astype(np.float64)),
                "lon": ("point", gallery.latlon[:, 1].astype(np.float64)),
            },
            attrs={"query": _query_id(query), "gallery": gallery.name},
        )

    def _query_embedding(self, query, kind: str) -> np.ndarray:
        if kind == "auto":
            if isinstance(query, str) and not Path(query).exists():
                kind = "text"
            elif isinstance(query, np.ndarray) and query.ndim == 1:
                kind = "features"
            else:
                kind = "image"
        if kind == "text":
            return self.text_embeddings([query])
        if kind == "features":
            return self.embed_features(np.asarray(query, dtype=np.float32).reshape(1, -1))
        if kind == "image":
            return self.embed_images([query])
        raise ValueError(f"kind must be 'auto', 'text', 'image' or 'features'; got {kind!r}")


def streaming_top_k(queries: torch.Tensor, locations: torch.Tensor, top_k: int, block: int = 4096):
    """Top-k softmax probabilities and indices of ``queries @ locations.T`` over all locations.

    The gallery is scored in column blocks small enough to stay in cache: each block is
    reduced to its top-k and to its share of the log-sum-exp (rescaled online, as in
    streaming softmax), so the full probability matrix is never written.
    """
    n = queries.shape[0]
    best = torch.full((n, 0), -torch.inf, device=queries.device)
    best_index = torch.zeros((n, 0), dtype=torch.long, device=queries.device)
    running_max = torch.full((n,), -torch.inf, device=queries.device)
    running_sum = torch.zeros(n, device=queries.device)
    for start in range(0, locations.shape[0], block):
        logits = queries @ locations[start : start + block].T
        values, index = torch.topk(logits, min(top_k, logits.shape[1]), dim=1)
        new_max = torch.maximum(running_max, values[:, 0])
        running_sum = running_sum * torch.exp(running_max - new_max) + logits.sub_(new_max[:, None]).exp_().sum(1)
        running_max = new_max
        best, order = torch.topk(torch.cat([best, values], dim=1), min(top_k, best.shape[1] + values.shape[1]), dim=1)
        best_index = torch.cat([best_index, index + start], dim=1).gather(1, order)
    log_normaliser = running_max + torch.log(running_sum)
    return torch.exp(best - log_normaliser[:, None]), best_index


def _query_id(query) -> str:
    return query if isinstance(query, str) else str(query) if isinstance(query, Path) else "query"


def _predictions_frame(probs: np.ndarray, indices: np.ndarray, gallery: GPSGallery, ids) -> pd.DataFrame:
    n, k = indices.shape
    latlon = gallery.latlon[indices.reshape(-1)] if n else np.empty((0, 2), dtype=np.float32)
    return pd.DataFrame(
        {
            "input_id": np.repeat(np.asarray(ids, dtype=object), k),
            "rank": np.tile(np.arange(1, k + 1), n),
            "lat": latlon[:, 0].astype(np.float64),
            "lon": latlon[:, 1].astype(np.float64),
            "probability": probs.reshape(-1).astype(np.float64),
            "gallery_index": indices.reshape(-1),
        }
    )
