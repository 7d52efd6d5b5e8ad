"""Contrastive training of location encoders on (features, lat/lon) pairs: the GeoCLIP recipe.

Each step embeds a batch of features with a trainable head and the batch's coordinates
(plus a queue of past coordinates) with the location encoder, and minimises the
cross-entropy of each feature vector over [its batch's GPS ; the queue]. Coordinates get
Gaussian noise of 150 m (batch) and 1000 m (queue), in metres on the ground. Adam
(lr 3e-5, weight decay 1e-6), StepLR (gamma 0.87 per epoch), batch 256, a learnable logit
scale and a queue of 4096 raw coordinates re-encoded every step, as in the paper.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from dataclasses import InitVar, asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from geoembed.core.geo import BoundingBox, haversine_km, validate_latlon
from geoembed.core.params import (
    MAX_INT,
    Interval,
    InvalidParameterError,
    ListOf,
    check_fields,
    naming_config_file,
    options_from_json,
)
from geoembed.evaluation.geolocation import THRESHOLDS_KM, accuracy_table
from geoembed.io.atomic import atomic_output
from geoembed.models.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig
from geoembed.training.noise import jitter_latlon
from geoembed.training.queue import GPSQueue

__all__ = ["ContrastiveLocationTrainer", "TrainConfig", "build_location_encoder"]


_ENCODER_FIELDS = ("sigmas", "n_frequencies", "hidden_dim", "n_hidden_layers", "embed_dim")

_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
#: What each field of a TrainConfig may be (the architecture is checked by ``LocationEncoderConfig.coerce``).
_TRAIN_CONSTRAINTS = {
    "init": [str, Path],
    "add_sigmas": [ListOf(_POSITIVE)],
    "freeze_branches": [ListOf(Interval(Integral, 0, MAX_INT))],
    "feature_hidden": [Interval(Integral, 1, MAX_INT)],
    "learning_rate": [_POSITIVE],
    "weight_decay": [_NON_NEGATIVE],
    "lr_gamma": [_POSITIVE],
    "batch_size": [Interval(Integral, 2, MAX_INT)],  # a contrastive batch needs at least one negative
    "epochs": [Interval(Integral, 1, MAX_INT)],
    "queue_size": [Interval(Integral, 0, MAX_INT)],
    "positive_noise_m": [_NON_NEGATIVE],
    "queue_noise_m": [_NON_NEGATIVE],
    "val_fraction": [Interval(Real, 0, 1, closed="left")],
    "bbox": [None, BoundingBox],
    "thresholds_km": [ListOf(_POSITIVE, min_length=1)],
    "random_state": [Interval(Integral, 0, MAX_INT)],
    "device": [str],
    "extra": [dict],
}


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as ``config.json`` next to checkpoints.

    The architecture of a new encoder is ``encoder`` (a :class:`LocationEncoderConfig`).
    The flat names ``sigmas``, ``n_frequencies``, ``hidden_dim``, ``n_hidden_layers`` and
    ``embed_dim``, and ``seed`` for ``random_state``, are accepted until 0.3 with a
    ``FutureWarning`` (also in ``config.json`` files of earlier runs).
    """

    init: str = "random"  # "random", "geoclip" (the bundled published weights) or a checkpoint path
    encoder: LocationEncoderConfig = field(default_factory=LocationEncoderConfig)  # for init="random"
    add_sigmas: tuple = ()  # extra, randomly initialised branches (e.g. 4096.0 for finer detail)
    freeze_branches: tuple = ()  # indices of branches whose weights stay fixed
    feature_hidden: int = 768  # the feature head: Linear(d, feature_hidden), ReLU, Linear(., embed_dim)
    learning_rate: float = 3e-5
    weight_decay: float = 1e-6
    lr_gamma: float = 0.87
    batch_size: int = 256
    epochs: int = 10
    queue_size: int = 4096
    positive_noise_m: float = 150.0
    queue_noise_m: float = 1000.0
    val_fraction: float = 0.1
    bbox: BoundingBox | None = None  # train on points inside only; a (south, west, north, east) tuple works too
    thresholds_km: tuple = THRESHOLDS_KM
    random_state: int = 0
    device: str = "cpu"
    extra: dict = field(default_factory=dict)
    sigmas: InitVar[tuple | None] = None
    n_frequencies: InitVar[int | None] = None
    hidden_dim: InitVar[int | None] = None
    n_hidden_layers: InitVar[int | None] = None
    embed_dim: InitVar[int | None] = None
    seed: InitVar[int | None] = None
    region: InitVar[BoundingBox | None] = None

    def __post_init__(self, sigmas, n_frequencies, hidden_dim, n_hidden_layers, embed_dim, seed, region):
        self.encoder = LocationEncoderConfig.coerce(self.encoder, name="encoder", owner="TrainConfig")
        flat = dict(zip(_ENCODER_FIELDS, (sigmas, n_frequencies, hidden_dim, n_hidden_layers, embed_dim)))
        flat = {k: v for k, v in flat.items() if v is not None}
        if flat:
            warnings.warn(
                f"TrainConfig({', '.join(flat)}=...) is deprecated since 0.2 and will be removed in 0.3; "
                "use TrainConfig(encoder=LocationEncoderConfig(...))",
                FutureWarning,
                stacklevel=3,
            )
            if "sigmas" in flat:
                flat["sigmas"] = tuple(map(float, flat["sigmas"]))
            self.encoder = dataclasses.replace(self.encoder, **flat)
        if seed is not None:
            warnings.warn(
                "TrainConfig(seed=...) was renamed random_state in 0.2; the old name will be removed in 0.3",
                FutureWarning,
                stacklevel=3,
            )
            self.random_state = seed
        if region is not None:
            warnings.warn(
                "TrainConfig(region=...) was renamed bbox in 0.3, the name every box has in geoembed; "
                "the old name will be removed in 0.4",
                FutureWarning,
                stacklevel=3,
            )
            if self.bbox is not None:
                raise InvalidParameterError("TrainConfig got both bbox and its old name region; give bbox")
            self.bbox = region
        try:
            self.bbox = BoundingBox.coerce(self.bbox)
        except (TypeError, ValueError) as err:
            raise InvalidParameterError(f"The 'bbox' field of TrainConfig is not a bounding box: {err}") from None
        self.validate()
        for key in ("add_sigmas", "freeze_branches", "thresholds_km"):
            setattr(self, key, tuple(getattr(self, key)))

    def validate(self) -> None:
        """Raise ``InvalidParameterError`` (a ``ValueError``) naming the first
        field outside its range, and its value.

        Runs when the config is made and again when a trainer starts, before any work.
        """
        self.encoder = LocationEncoderConfig.coerce(self.encoder, name="encoder", owner="TrainConfig")
        check_fields(self, _TRAIN_CONSTRAINTS)

    def to_json(self) -> str:
        """The config as JSON (``from_json`` reads it back)."""
        data = asdict(self)
        data["encoder"] = json.loads(self.encoder.to_json())
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str, *, source=None) -> TrainConfig:
        """The config in a JSON object; every error names ``source`` (the file), if given, and the field."""
        with naming_config_file(source):
            data = options_from_json(text, cls.__dataclass_fields__, "training")
            for name in ("bbox", "region"):  # region: the 0.2 name, in config.json files of earlier runs
                if isinstance(data.get(name), dict):
                    try:
                        data[name] = BoundingBox(**data[name])
                    except (TypeError, ValueError) as err:
                        raise InvalidParameterError(f"The {name!r} field of TrainConfig: {err}") from None
            return cls(**data)


def build_location_encoder(config: TrainConfig) -> GeoCLIPLocationEncoder:
    """The encoder to train: fresh, the bundled GeoCLIP, or a checkpoint; plus added branches."""
    if config.init == "random":
        base = GeoCLIPLocationEncoder(config.encoder, random_state=config.random_state)
    else:
        import copy

        from geoembed.models.geoclip import load_location_encoder

        base = copy.deepcopy(load_location_encoder(None if config.init == "geoclip" else config.init))
    if config.add_sigmas:
        c = base.config
        wider = dataclasses.replace(c, sigmas=c.sigmas + tuple(map(float, config.add_sigmas)))
        model = GeoCLIPLocationEncoder(wider, random_state=config.random_state + 1)
        with torch.no_grad():  # new branches start with a zero head, so the initial output is unchanged
            for branch in model.branches[len(c.sigmas) :]:
                branch.head.weight.zero_()
                branch.head.bias.zero_()
        missing, _ = model.load_state_dict(base.state_dict(), strict=False)
        assert all(
            k.startswith(tuple(f"branches.{i}." for i in range(len(c.sigmas), len(wider.sigmas)))) for k in missing
        )
        base = model
    for i in config.freeze_branches:
        if not 0 <= i < len(base.branches):
            raise ValueError(f"freeze_branches: no branch {i}; the encoder has {len(base.branches)}")
        base.branches[i].requires_grad_(False)
    return base.train()


class ContrastiveLocationTrainer:
    """Train a location encoder (and a feature head) contrastively on (features, lat/lon) pairs.

    Examples
    --------
    >>> trainer = ContrastiveLocationTrainer(TrainConfig(epochs=2))      # doctest: +SKIP
    >>> history = trainer.fit(features, latlon, out_dir="run1")          # doctest: +SKIP
    >>> GeoEmbedder(weights="run1/location_encoder.safetensors")         # doctest: +SKIP
    """

    def __init__(self, config: TrainConfig | None = None):
        from geoembed.core.utils import resolve_device

        self.config = config or TrainConfig()
        self.config.validate()  # fields may have been changed since the config was made
        self.device = resolve_device(self.config.device)
        torch.manual_seed(self.config.random_state)
        self.generator = torch.Generator().manual_seed(self.config.random_state)
        self.location_encoder = build_location_encoder(self.config).to(self.device)
        self.feature_head = None  # built when the feature dimension is known
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07), device=self.device))
        self.queue = GPSQueue(self.config.queue_size)
        self.epoch = 0
        self.history: list[dict] = []
        self.optimizer = self.scheduler = None

    # -- setup --------------------------------------------------------------------------------
    def _setup(self, n_features: int) -> None:
        if self.feature_head is not None:
            width = self.feature_head[0].in_features
            if n_features != width:  # a resumed run given other data
                raise ValueError(
                    f"the features have {n_features} columns, but this run's feature head was trained on {width}; "
                    "give the same feature columns as the run started with"
                )
            return
        c = self.config
        self.feature_head = nn.Sequential(
            nn.Linear(n_features, c.feature_hidden),
            nn.ReLU(),
            nn.Linear(c.feature_hidden, self.location_encoder.embed_dim),
        ).to(self.device)
        params = [p for p in self.location_encoder.parameters() if p.requires_grad]
        params += list(self.feature_head.parameters()) + [self.logit_scale]
        self.optimizer = torch.optim.Adam(params, lr=c.learning_rate, weight_decay=c.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=c.lr_gamma)

    def _prepare_data(self, features, latlon):
        features = np.asarray(features, dtype=np.float32)
        latlon = np.asarray(latlon, dtype=np.float64)
        if features.ndim != 2 or latlon.shape != (len(features), 2):
            raise ValueError(f"need features (n, d) and latlon (n, 2); got {features.shape} and {latlon.shape}")
        if not np.isfinite(features).all():
            raise ValueError(
                f"features must be finite; rows {np.flatnonzero(~np.isfinite(features).all(1))[:5].tolist()}"
            )
        validate_latlon(latlon[:, 0], latlon[:, 1], wrap_option=None)
        if self.config.bbox is not None:
            inside = self.config.bbox.contains(latlon[:, 0], latlon[:, 1])
            if not inside.any():
                raise ValueError(f"no training points inside bbox {self.config.bbox}")
            features, latlon = features[inside], latlon[inside]
        order = np.random.default_rng(self.config.random_state).permutation(len(features))
        n_val = int(round(self.config.val_fraction * len(features)))
        return (features[order[n_val:]], latlon[order[n_val:]]), (features[order[:n_val]], latlon[order[:n_val]])

    # -- training ------------------------------------------------------------------------------
    def loss(self, features: torch.Tensor, latlon: torch.Tensor) -> torch.Tensor:
        """The contrastive loss of one batch (also updates nothing)."""
        c = self.config
        positives = jitter_latlon(latlon, c.positive_noise_m, self.generator)
        queued = jitter_latlon(self.queue.coordinates(), c.queue_noise_m, self.generator)
        locations = torch.cat([positives, queued]).to(self.device)
        location_emb = nn.functional.normalize(self.location_encoder(locations), dim=1)
        feature_emb = nn.functional.normalize(self.feature_head(features.to(self.device)), dim=1)
        logits = self.logit_scale.exp() * feature_emb @ location_emb.T
        targets = torch.arange(len(features), device=self.device)
        return nn.functional.cross_entropy(logits, targets)

    def fit(self, features, latlon, *, out_dir=None, progress: bool = True) -> pd.DataFrame:
        """Train for ``config.epochs`` (continuing from ``self.epoch`` after a resume).

        Parameters
        ----------
        features : array-like of shape (n, d)
            The paired features (e.g. 768-d CLIP image features or tabular covariates).
        latlon : array-like of shape (n, 2)
            [lat, lon] in degrees, row-aligned with ``features``.
        out_dir : str or Path, default=None
            Checkpoint folder, written after every epoch (see :meth:`save`).
        progress : bool, default=True
            Show a progress bar per epoch.

        Returns
        -------
        DataFrame with one row per epoch: mean training loss and validation retrieval accuracy.
        """
        from tqdm.auto import tqdm

        (train_x, train_ll), (val_x, val_ll) = self._prepare_data(features, latlon)
        self._setup(train_x.shape[1])
        c = self.config
        xs, lls = torch.from_numpy(train_x), torch.from_numpy(train_ll).float()
        while self.epoch < c.epochs:
            self.location_encoder.train()
            self.feature_head.train()
            order = torch.randperm(len(xs), generator=self.generator)
            batches = [b for b in order.split(c.batch_size) if len(b) > 1]
            losses = []
            bar = tqdm(batches, disable=not progress, desc=f"epoch {self.epoch + 1}/{c.epochs}", leave=False)
            for batch in bar:
                loss = self.loss(xs[batch], lls[batch])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.queue.push(lls[batch])
                losses.append(loss.item())
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
            self.scheduler.step()
            self.epoch += 1
            row = {
                "epoch": self.epoch,
                "loss": float(np.mean(losses)),
                "lr": self.scheduler.get_last_lr()[0],
                "logit_scale": float(self.logit_scale.detach().exp()),
            }
            if len(val_x):
                row.update(self.retrieval_accuracy(val_x, val_ll, gallery=train_ll))
            self.history.append(row)
            if progress:
                print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
            if out_dir is not None:
                self.save(out_dir)
        return pd.DataFrame(self.history)

    @torch.inference_mode()
    def retrieval_accuracy(self, features, latlon, *, gallery, max_gallery: int = 20_000) -> dict:
        """Share (%) of held-out features whose nearest gallery location lies within each threshold."""
        self.location_encoder.eval()
        self.feature_head.eval()
        gallery = np.unique(np.asarray(gallery, dtype=np.float32), axis=0)
        if len(gallery) > max_gallery:
            gallery = gallery[np.random.default_rng(0).choice(len(gallery), max_gallery, replace=False)]
        loc = nn.functional.normalize(self.location_encoder.embed(torch.from_numpy(gallery).to(self.device)), dim=1)
        feats = nn.functional.normalize(
            self.feature_head(torch.as_tensor(features, dtype=torch.float32).to(self.device)), dim=1
        )
        best = (feats @ loc.T).argmax(dim=1).cpu().numpy()
        errors = haversine_km(latlon[:, 0], latlon[:, 1], gallery[best, 0], gallery[best, 1])
        table = accuracy_table(errors, self.config.thresholds_km)
        out = {f"val_acc_{t}km": table[f"{t} km"] for t in self.config.thresholds_km}
        out["val_median_km"] = table["median km"]
        return out

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, out_dir) -> Path:
        """Write a checkpoint folder; every file is replaced atomically.

        ``location_encoder.safetensors`` (loads in GeoEmbedder), ``feature_head.safetensors``
        (with ``logit_scale``; loads in GeoLocator as ``image_weights`` for 768-d CLIP features),
        ``training_state.pt`` (optimizer, scheduler, queue, RNG), ``config.json`` and
        ``history.json`` (per-epoch loss and validation accuracy).

        All five files are first written to temporary files next to their targets and only
        then renamed into place, so an interruption leaves each file either of this epoch or
        of the previous one; :meth:`resume` detects a folder whose files disagree.

        Parameters
        ----------
        out_dir : str or Path
            The folder, created if missing.

        Returns
        -------
        pathlib.Path
            ``out_dir``.
        """
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        head = {k: v.detach().cpu().contiguous() for k, v in self.feature_head.state_dict().items()}
        head["logit_scale"] = self.logit_scale.detach().cpu().reshape(())
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "queue": self.queue.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "epoch": self.epoch,
        }
        writers = {
            "location_encoder.safetensors": lambda path: self.location_encoder.save(
                path, metadata={"trained_epochs": self.epoch, "train_config": self.config.to_json()}
            ),
            "feature_head.safetensors": lambda path: save_file(
                head, str(path), metadata={"architecture": "geoembed-feature-head", "trained_epochs": str(self.epoch)}
            ),
            "config.json": lambda path: path.write_text(self.config.to_json()),
            "history.json": lambda path: path.write_text(json.dumps(self.history, indent=1)),
            "training_state.pt": lambda path: torch.save(state, path),
        }
        outputs = []
        try:
            for name, write in writers.items():  # every file complete on disk before the first rename
                outputs.append(atomic_output(out / name))
                write(outputs[-1].open())
            for output in outputs:
                output.commit()
        except BaseException:
            for output in outputs:
                output.discard()
            raise
        return out

    @classmethod
    def resume(cls, out_dir, *, epochs: int | None = None, device: str | None = None) -> ContrastiveLocationTrainer:
        """Rebuild a trainer from a checkpoint folder written by :meth:`save`.

        Parameters
        ----------
        out_dir : str or Path
            The checkpoint folder.
        epochs : int, default=None
            A new total number of epochs, to extend the run.
        device : str, default=None
            Where to go on ("cpu", "cuda", "auto"); by default the run's own device.

        Returns
        -------
        ContrastiveLocationTrainer
            At the saved epoch, ready to :meth:`fit` on.

        Raises
        ------
        ValueError
            A missing, unreadable or corrupt checkpoint file (named in the message), or files
            from different epochs (an interrupted save).
        """
        import contextlib
        import pickle

        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file

        out = Path(out_dir)
        if not out.is_dir():
            raise ValueError(f"checkpoint folder {out} does not exist")

        @contextlib.contextmanager
        def reading(name):
            path = out / name
            if not path.is_file():
                raise ValueError(f"checkpoint file {path} is missing")
            try:
                yield path
            except (
                OSError,
                ValueError,
                KeyError,
                TypeError,
                RuntimeError,
                EOFError,
                pickle.UnpicklingError,
                SafetensorError,
            ) as err:
                reason = (str(err).strip().splitlines() or [""])[0]
                if isinstance(err, pickle.UnpicklingError):  # torch's text suggests weights_only=False: not for us
                    reason = "not a readable weights-only torch file (truncated or another format?)"
                raise ValueError(
                    f"checkpoint file {path} is unreadable or corrupt ({type(err).__name__}: {reason})"
                ) from err

        with reading("config.json") as path:
            config = TrainConfig.from_json(path.read_text())
        if epochs is not None:
            config.epochs = epochs
        if device is not None:
            config.device = device
        epochs_by_file = {}
        with reading("location_encoder.safetensors") as path:
            saved = GeoCLIPLocationEncoder.from_checkpoint(path)
            # built with the saved architecture, not from config.init: the weights to start from are
            # the checkpoint's (a relative init path, or a file since moved, is not needed)
            trainer = cls(dataclasses.replace(config, init="random", encoder=saved.config, add_sigmas=()))
            trainer.config = config
            trainer.location_encoder.load_checked_state_dict(saved.state_dict(), source=str(out))
            with safe_open(str(path), framework="pt") as f:
                trained = (f.metadata() or {}).get("trained_epochs")
            epochs_by_file[path.name] = None if trained is None else int(trained)
        with reading("feature_head.safetensors") as path:
            head = load_file(str(path))
            with safe_open(str(path), framework="pt") as f:
                trained = (f.metadata() or {}).get("trained_epochs")  # absent in older checkpoints
            epochs_by_file[path.name] = None if trained is None else int(trained)
            if "0.weight" not in head or "logit_scale" not in head:
                raise KeyError("no feature-head weights ('0.weight') or 'logit_scale'")
            trainer._setup(head["0.weight"].shape[1])
            trainer.logit_scale.data.copy_(head.pop("logit_scale"))
            trainer.feature_head.load_state_dict(head)
        with reading("training_state.pt") as path:
            state = torch.load(path, weights_only=True, map_location="cpu")  # a GPU run resumes anywhere
            if not isinstance(state, dict):
                raise TypeError(f"holds a {type(state).__name__}, not a dict")
            trainer.optimizer.load_state_dict(state["optimizer"])  # checks parameter counts, not shapes
            for param in (p for group in trainer.optimizer.param_groups for p in group["params"]):
                for key, value in trainer.optimizer.state.get(param, {}).items():
                    if torch.is_tensor(value) and value.ndim and value.shape != param.shape:
                        raise ValueError(
                            f"optimizer state {key!r} of shape {tuple(value.shape)} does not fit a "
                            f"parameter of shape {tuple(param.shape)}"
                        )
            trainer.scheduler.load_state_dict(state["scheduler"])
            trainer.queue.load_state_dict(state["queue"])
            trainer.generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
            trainer.epoch = int(state["epoch"])
            epochs_by_file[path.name] = trainer.epoch
        with reading("history.json") as path:
            trainer.history = json.loads(path.read_text())
            if not isinstance(trainer.history, list) or not all(isinstance(row, dict) for row in trainer.history):
                raise TypeError("not a JSON list of per-epoch objects")
            epochs_by_file[path.name] = len(trainer.history)
        found = {name: epoch for name, epoch in epochs_by_file.items() if epoch is not None}
        if len(set(found.values())) > 1:
            detail = ", ".join(f"{name} epoch {epoch}" for name, epoch in found.items())
            raise ValueError(f"checkpoint folder {out} mixes epochs ({detail}); was a save interrupted?")
        return trainer
