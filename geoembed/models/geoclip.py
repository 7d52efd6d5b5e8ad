"""GeoCLIP's location encoder (Vivanco Cepeda et al., NeurIPS 2023) as a torch module.

Pipeline for a point (lat, lon) in degrees:

1. Equal Earth projection on the unit sphere, scaled by 66.50336/180.
2. One branch per scale sigma: random Fourier features
   gamma(v) = [cos 2 pi B v, sin 2 pi B v] with fixed B ~ N(0, sigma^2), then an MLP
   (Linear, ReLU) x n_hidden_layers and a linear head.
3. The branch outputs are summed (not normalised).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import torch
from torch import Tensor, nn

from geoembed.core.errors import CheckpointError
from geoembed.core.geo import GEOCLIP_PROJECTION_SCALE_DEG
from geoembed.core.params import MAX_INT, PRECISIONS, Interval, InvalidParameterError, ListOf, check_fields
from geoembed.models.hashgrid import HashGridBranch
from geoembed.models.kernels import StackedBranches, bfloat16_is_fast, prepare_inference_weights
from geoembed.models.weights import resolve_weights, verify_weights_file

__all__ = [
    "ARCHITECTURE",
    "FourierBranch",
    "GeoCLIPLocationEncoder",
    "LocationEncoderConfig",
    "convert_official_state_dict",
    "geoclip_projection",
    "infer_config",
    "load_location_encoder",
]

#: The ``architecture`` value in the metadata of the package's location-encoder checkpoints.
ARCHITECTURE = "geoclip-location-encoder"

# Equal Earth polynomial coefficients (Šavrič, Patterson & Jenny 2018).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
# sqrt(3) as the reference model computes it: in float32
_SQRT3 = float(torch.sqrt(torch.tensor(3.0)))


#: What each field of a :class:`LocationEncoderConfig` may be (checked by ``LocationEncoderConfig.coerce``).
_ARCHITECTURE_CONSTRAINTS = {
    "sigmas": [ListOf(Interval(Real, 0, None, closed="neither"), min_length=1)],
    "n_frequencies": [Interval(Integral, 1, MAX_INT)],
    "hidden_dim": [Interval(Integral, 1, MAX_INT)],
    "n_hidden_layers": [Interval(Integral, 1, MAX_INT)],
    "embed_dim": [Interval(Integral, 1, MAX_INT)],
    "grid_levels": [Interval(Integral, 0, 32)],
    "grid_features": [Interval(Integral, 1, 64)],
    "grid_table_log2": [Interval(Integral, 4, 26)],
    "grid_resolutions": [ListOf(Interval(Real, 1, 2**20), min_length=2)],
    "grid_hidden_dim": [Interval(Integral, 1, MAX_INT)],
    "extra": [dict],
}
#: Fields an architecture may leave out (older checkpoints and configs predate the grid branch).
_OPTIONAL_FIELDS = ("grid_levels", "grid_features", "grid_table_log2", "grid_resolutions", "grid_hidden_dim", "extra")


@dataclass(frozen=True)
class LocationEncoderConfig:
    """Everything needed to rebuild a :class:`GeoCLIPLocationEncoder`.

    The Fourier branches are GeoCLIP's (one per ``sigmas`` value). ``grid_levels > 0`` adds a
    multiresolution grid branch (:class:`geoembed.models.hashgrid.HashGridBranch`: ``grid_levels``
    levels of ``grid_features`` values per cell corner, at most ``2 ** grid_table_log2`` rows per
    level, cells from ``grid_resolutions[0]`` to ``grid_resolutions[1]`` per unit of the plane,
    a hidden layer of ``grid_hidden_dim``), whose output is added to the branches' sum.
    """

    sigmas: tuple[float, ...] = (2.0**0, 2.0**4, 2.0**8)
    n_frequencies: int = 256
    hidden_dim: int = 1024
    n_hidden_layers: int = 3
    embed_dim: int = 512
    grid_levels: int = 0
    grid_features: int = 4
    grid_table_log2: int = 15
    grid_resolutions: tuple[float, float] = (16.0, 16384.0)
    grid_hidden_dim: int = 128
    extra: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> str:
        return json.dumps(
            {**asdict(self), "sigmas": list(self.sigmas), "grid_resolutions": list(self.grid_resolutions)}
        )

    @classmethod
    def coerce(cls, value, *, name: str = "config", owner: str = "LocationEncoderConfig") -> LocationEncoderConfig:
        """A checked architecture from a ``LocationEncoderConfig`` or a dict of its fields (as in JSON configs).

        A dict must name every architecture field (the grid fields and ``extra`` may be left out:
        no grid); every field must be in range (``sigmas`` a non-empty list of positive numbers,
        the sizes positive ints, ``grid_resolutions`` a (coarsest, finest) pair).

        Parameters
        ----------
        value : LocationEncoderConfig or dict
        name : str, default="config"
            The field that holds the architecture, for messages, e.g. "student".
        owner : str, default="LocationEncoderConfig"
            The config that holds it, for messages, e.g. "DistillConfig".

        Raises
        ------
        InvalidParameterError
            A ``ValueError`` naming the missing, unknown or out-of-range field as ``<name>.<field>``.
        """
        required = [f for f in _ARCHITECTURE_CONSTRAINTS if f not in _OPTIONAL_FIELDS]
        if isinstance(value, dict):
            missing = [f for f in required if f not in value]
            unknown = sorted(set(value) - set(_ARCHITECTURE_CONSTRAINTS))
            if missing or unknown:
                problems = [f"lacks {missing}" if missing else "", f"has unknown keys {unknown}" if unknown else ""]
                raise InvalidParameterError(
                    f"The {name!r} field of {owner} {' and '.join(p for p in problems if p)}; an architecture "
                    f"names {', '.join(required)}"
                )
            check_fields(value, _ARCHITECTURE_CONSTRAINTS, prefix=f"{name}.", owner=owner)
            value = cls(**_as_tuples(value))
        if not isinstance(value, cls):
            raise InvalidParameterError(
                f"The {name!r} field of {owner} must be a LocationEncoderConfig or a dict of its fields. "
                f"Got {value!r} instead."
            )
        check_fields(value, _ARCHITECTURE_CONSTRAINTS, prefix=f"{name}.", owner=owner)
        low, high = value.grid_resolutions[:2]
        if len(value.grid_resolutions) != 2 or low > high:
            raise InvalidParameterError(
                f"The '{name}.grid_resolutions' field of {owner} must be a (coarsest, finest) pair with coarsest <= "
                f"finest; got {list(value.grid_resolutions)!r} instead."
            )
        return value

    @classmethod
    def from_json(cls, text: str) -> LocationEncoderConfig:
        return cls(**_as_tuples(json.loads(text)))


def _as_tuples(fields: dict) -> dict:
    """An architecture's fields with its lists (from JSON) as tuples of floats."""
    fields = dict(fields)
    for key in ("sigmas", "grid_resolutions"):
        if key in fields:
            fields[key] = tuple(float(v) for v in fields[key])
    return fields


def _add_bias(result: Tensor, bias: Tensor, out: Tensor | None = None) -> Tensor:
    """``result`` (a fresh GEMM output, float32 or bfloat16) in float32 plus the float32 ``bias``,
    in ``out`` when given.

    The same values as ``torch.add(result, bias)``, whose mixed-dtype kernel took twice as long as
    a conversion and an in-place add on a bfloat16 output (AMD Zen 5, 2 threads, torch 2.13: the
    lite's fast path 342K to 361K points/s); a float32 result is added to in place.
    """
    return (result.float() if out is None else out.copy_(result)).add_(bias)


def _buffer(workspace: dict | None, name: str, shape: tuple, dtype, device) -> Tensor:
    """A tensor of ``shape`` for intermediate values: the first rows of ``workspace[name]`` when it
    is large enough (allocated there otherwise), a new one without a workspace.
    """
    if workspace is None:
        return torch.empty(shape, dtype=dtype, device=device)
    kept = workspace.get(name)
    fits = kept is not None and kept.shape[0] >= shape[0] and kept.shape[1:] == shape[1:]
    if not fits or kept.dtype != dtype or kept.device != torch.device(device):
        kept = workspace[name] = torch.empty(shape, dtype=dtype, device=device)
    return kept[: shape[0]]


def geoclip_projection(latlon: Tensor) -> Tensor:
    """GeoCLIP's Equal Earth projection, in its own float32 arithmetic.

    This is the same projection as :func:`geoembed.core.geo.equal_earth` (PROJ) times
    66.50336/180, agreeing to ~2e-7. It is evaluated with the reference model's float32
    operation order because the sigma = 256 branch turns a 1-ulp change of its input into
    ~2e-5 of output: only this arithmetic reproduces the published embeddings to 1e-5.

    Parameters
    ----------
    latlon : Tensor of shape (N, 2)
        (latitude, longitude) in degrees.

    Returns
    -------
    Tensor of shape (N, 2), float32: (x, y), both within about [-1, 1].
    """
    latlon = latlon.to(torch.float32)
    lat = torch.deg2rad(latlon[:, 0])
    lon = torch.deg2rad(latlon[:, 1])
    theta = torch.asin((_SQRT3 / 2) * torch.sin(lat))
    denominator = 3 * (9 * _A4 * theta**8 + 7 * _A3 * theta**6 + 3 * _A2 * theta**2 + _A1)
    x = (2 * _SQRT3 * lon * torch.cos(theta)) / denominator
    y = _A4 * theta**9 + _A3 * theta**7 + _A2 * theta**3 + _A1 * theta
    return (torch.stack((x, y), dim=1) * GEOCLIP_PROJECTION_SCALE_DEG) / 180


class FourierBranch(nn.Module):
    """One scale of the encoder: random Fourier features, an MLP and a linear head."""

    def __init__(self, n_frequencies: int, hidden_dim: int, n_hidden_layers: int, embed_dim: int):
        super().__init__()
        self.register_buffer("frequencies", torch.zeros(n_frequencies, 2))
        layers: list[nn.Module] = []
        width = 2 * n_frequencies
        for _ in range(n_hidden_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU(inplace=True)]
            width = hidden_dim
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(hidden_dim, embed_dim)

    def fourier_features(self, xy: Tensor) -> Tensor:
        """gamma(v) = [cos 2 pi B v, sin 2 pi B v], shape (N, 2 * n_frequencies), float32."""
        angles = (2 * math.pi * xy) @ self.frequencies.T
        return torch.cat((torch.cos(angles), torch.sin(angles)), dim=-1)

    def forward(self, xy: Tensor) -> Tensor:
        """Embed projected coordinates ``xy`` (N, 2) with this branch: shape (N, embed_dim)."""
        return self.head(self.mlp(self.fourier_features(xy)))


class GeoCLIPLocationEncoder(nn.Module):
    """GeoCLIP's multi-scale location encoder.

    Parameters
    ----------
    config : LocationEncoderConfig, default=LocationEncoderConfig()
        The architecture. The default is the published model (sigma = 1, 16, 256).
    random_state : int, default=0
        Seed for the random Fourier matrices ``B ~ N(0, sigma^2)`` of a new encoder.
        Loading a checkpoint overwrites them.
    seed : int, optional
        Deprecated name of ``random_state``; removed in 0.3.

    Notes
    -----
    Vivanco Cepeda, Nayak & Shah, "GeoCLIP: Clip-Inspired Alignment between Locations and
    Images for Effective Worldwide Geo-localization", NeurIPS 2023.
    """

    def __init__(self, config: LocationEncoderConfig | None = None, *, random_state: int = 0, seed: int | None = None):
        super().__init__()
        if seed is not None:
            import warnings

            warnings.warn(
                "GeoCLIPLocationEncoder(seed=...) was renamed random_state in 0.2; the old name will be removed in 0.3",
                FutureWarning,
                stacklevel=2,
            )
            random_state = seed
        self.config = config or LocationEncoderConfig()
        c = self.config
        self.branches = nn.ModuleList(
            FourierBranch(c.n_frequencies, c.hidden_dim, c.n_hidden_layers, c.embed_dim) for _ in c.sigmas
        )
        generator = torch.Generator().manual_seed(random_state)
        for branch, sigma in zip(self.branches, c.sigmas):
            branch.frequencies.copy_(torch.randn(c.n_frequencies, 2, generator=generator) * sigma)
        self.grid = (
            HashGridBranch(
                c.grid_levels, c.grid_features, c.grid_table_log2, *c.grid_resolutions, c.grid_hidden_dim, c.embed_dim
            )
            if c.grid_levels
            else None
        )
        self._inference_cache: tuple | None = None

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    def __getstate__(self):
        # pre-packed GEMM weights are opaque tensors that cannot be copied; they are rebuilt
        state = self.__dict__.copy()
        state["_inference_cache"] = None
        return state

    def forward(self, latlon: Tensor) -> Tensor:
        """Embed coordinates.

        Parameters
        ----------
        latlon : Tensor of shape (N, 2)
            (latitude, longitude) in degrees.

        Returns
        -------
        Tensor of shape (N, embed_dim), float32, not normalised.
        """
        return self.forward_projected(geoclip_projection(latlon))

    def forward_projected(self, xy: Tensor) -> Tensor:
        """Embed already-projected coordinates ``xy`` (N, 2) from :func:`geoclip_projection`."""
        out = None
        for branch in self.branches:
            y = branch(xy)
            out = y if out is None else out + y
        return out if self.grid is None else out + self.grid(xy)

    @torch.inference_mode()
    def embed(self, latlon: Tensor, *, precision: str = "exact") -> Tensor:
        """Inference entry point with a choice of arithmetic.

        ``precision="exact"`` runs everything in float32. ``"fast"`` keeps the projection and
        Fourier features in float32 and runs the MLPs in bfloat16 (float32 accumulation) on
        GPUs and on CPUs with AVX512-BF16/AMX; on other CPUs it falls back to float32.
        On the CPU the weights are pre-packed once for the GEMM libraries (MKL for float32,
        oneDNN for bfloat16); outputs do not depend on the batch size beyond float32 rounding.
        """
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be 'exact' or 'fast'; got {precision!r}")
        return self.embed_resolved(latlon, bfloat16=precision == "fast" and bfloat16_is_fast(latlon.device))

    @torch.inference_mode()
    def embed_resolved(
        self, latlon: Tensor, *, bfloat16: bool, out: Tensor | None = None, workspace: dict | None = None
    ) -> Tensor:
        """:meth:`embed` for a caller that validated its ``precision`` once and resolved it for the
        device (``bfloat16 = precision == "fast" and bfloat16_is_fast(device)``), as the
        estimators do at the outermost call: no string is checked again per batch.

        ``out``: a float32 tensor of shape (N, ``embed_dim``) on the model's device to write the
        embedding into (and return). ``workspace``: a dict the caller keeps across the batches of
        one loop (never shared between threads), in which the distilled students keep their
        intermediate tensors instead of allocating them per batch. The values are a plain call's up
        to float32 rounding (a float32 GEMM into ``out`` is MKL's sgemm on the unpacked weight,
        not its packed variant; bit-identical on the CPU measured). On a CPU they spare the page
        faults of fresh multi-MB tensors that the C allocator maps and unmaps for every batch (one
        A/B run, AMD Zen 5, 2 threads, torch 2.13: the lite's float32 path through
        :class:`~geoembed.GeoEmbedder` on 50,000 points from 177-179K to 227-234K points/s, with the
        contiguous Fourier features; on 1M points the output's own page faults dominate).
        """
        if out is not None and (
            out.shape != (latlon.shape[0], self.embed_dim) or out.dtype != torch.float32 or out.device != latlon.device
        ):
            raise ValueError(
                f"out must be a float32 tensor of shape ({latlon.shape[0]}, {self.embed_dim}) on {latlon.device}; "
                f"got {out.dtype} {tuple(out.shape)} on {out.device}"
            )
        xy = geoclip_projection(latlon)
        return self._mlp(xy, self._inference_weights("fast" if bfloat16 else "exact", xy), out, workspace)

    def _mlp(self, xy: Tensor, weights, out: Tensor | None = None, workspace: dict | None = None) -> Tensor:
        """Branch MLPs, then the heads summed inside one GEMM:
        [h_0 | h_1 | h_2 | h_grid] @ [W_0 | W_1 | W_2 | W_grid]^T + sum(b).
        """
        if isinstance(weights.branch_layers, StackedBranches):
            return self._stacked_mlp(xy, weights, out, workspace)
        linear, hidden = weights.linear, []
        for branch, layers in zip(self.branches, weights.branch_layers):
            h = branch.fourier_features(xy).to(weights.dtype)
            for layer in layers:
                h = linear(h, layer, relu=True)
            hidden.append(h)
        hidden += self._grid_hidden(xy, weights)
        return _add_bias(linear(torch.cat(hidden, dim=1), weights.head, relu=False), weights.head_bias, out)

    def _stacked_mlp(self, xy: Tensor, weights, out: Tensor | None = None, workspace: dict | None = None) -> Tensor:
        """One-hidden-layer branches: every branch's angles in one product, each branch's hidden
        layer on its own [cos | sin] features into its columns of the hidden units, and the summed
        heads (a grid branch's hidden units join the heads' input).
        """
        linear, stacked = weights.linear, weights.branch_layers
        angles = (2 * math.pi * xy) @ stacked.frequencies_t
        n, n_frequencies = len(xy), angles.shape[1] // len(stacked.layers)
        # cos and sin into contiguous tensors, then copied (and cast to the GEMM's dtype) into a
        # branch's features: torch.cos(angles, out=<a column block>) took 4x as long on a CPU (AMD
        # Zen 5, torch 2.13, 4,096 rows: 3.8 ms against 0.85), the same values
        cos, sin = torch.cos(angles), torch.sin(angles)
        features = _buffer(workspace, "features", (n, 2 * n_frequencies), weights.dtype, angles.device)
        widths = [layer[-1].shape[0] for layer in stacked.layers]  # the bias, last in every form
        # a float32 GEMM writes into its columns of the hidden units; a bfloat16 one (oneDNN) only
        # returns a new tensor, and the branches' are joined
        into = weights.dtype == torch.float32
        hidden = _buffer(workspace, "hidden", (n, sum(widths)), weights.dtype, angles.device) if into else None
        parts, column = [], 0
        for i, (layer, width) in enumerate(zip(stacked.layers, widths)):
            branch = slice(i * n_frequencies, (i + 1) * n_frequencies)
            features[:, :n_frequencies] = cos[:, branch]
            features[:, n_frequencies:] = sin[:, branch]
            target = hidden[:, column : column + width] if into else None
            parts.append(linear(features, layer, relu=True, out=target))
            column += width
        if not into:
            hidden = torch.cat(parts, dim=1)
        grid_hidden = self._grid_hidden(xy, weights)
        if grid_hidden:
            hidden = torch.cat([hidden, *grid_hidden], dim=1)
        if weights.head_bias is None:  # float32: the bias inside the GEMM
            return linear(hidden, weights.head, relu=False, out=out)
        return _add_bias(linear(hidden, weights.head, relu=False), weights.head_bias, out)

    def _grid_hidden(self, xy: Tensor, weights) -> list[Tensor]:
        """The grid branch's hidden units (a one-item list), or an empty list without a grid."""
        if self.grid is None:
            return []
        return [weights.linear(self.grid.encode(xy).to(weights.dtype), weights.grid_hidden, relu=True)]

    def _inference_weights(self, precision: str, xy: Tensor):
        """Weights prepared for inference, rebuilt when the float32 weights change."""
        params = list(self.parameters())
        key = (precision, xy.device, tuple((p.data_ptr(), p._version) for p in params))
        if self._inference_cache is None or self._inference_cache[0] != key:
            self._inference_cache = (key, prepare_inference_weights(self, precision, xy.device))
        return self._inference_cache[1]

    # -- checkpoints ---------------------------------------------------------------------
    def save(self, path: str | Path, *, metadata: dict | None = None) -> Path:
        """Write a safetensors checkpoint whose metadata holds the architecture, atomically.

        Parameters
        ----------
        path : str or Path
            Target ``.safetensors`` file; it appears complete or not at all.
        metadata : dict, default=None
            Extra string metadata (e.g. provenance), stored next to the architecture.

        Returns
        -------
        Path
        """
        from safetensors.torch import save_file

        from geoembed.io.atomic import atomic_output

        path = Path(path)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        meta = {"architecture": ARCHITECTURE, "config": self.config.to_json()}
        meta.update({k: str(v) for k, v in (metadata or {}).items()})
        with atomic_output(path) as tmp:
            save_file(tensors, str(tmp), metadata=meta)
        return path

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, map_location="cpu") -> GeoCLIPLocationEncoder:
        """Load a checkpoint of this architecture, with any sigma list.

        Accepts our safetensors files (architecture in the metadata) and the official
        release's ``location_encoder_weights.pth`` state dicts (loaded with
        ``weights_only=True``, so no pickled code runs). A file of registered weights is first
        checked against its recorded sha256 (:func:`geoembed.models.weights.verify_weights_file`).
        Every problem with the file raises :class:`geoembed.core.errors.CheckpointError` naming it.
        """
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"checkpoint {path}: file not found")
        if path.stat().st_size == 0:
            raise CheckpointError(f"checkpoint {path} is empty (0 bytes): an interrupted copy or download?")
        verify_weights_file(path)
        if path.suffix == ".safetensors":
            state, config = _read_safetensors_checkpoint(path)
        else:
            state, config = _read_official_checkpoint(path)
        model = cls(config)
        model.load_checked_state_dict(state, source=str(path))
        return model.to(map_location).eval()

    def load_checked_state_dict(self, state: dict, *, source: str = "state dict") -> None:
        """``load_state_dict`` with an error that lists missing, unexpected and misshapen keys."""
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        misshapen = [
            f"{k}: expected {tuple(expected[k].shape)}, got {tuple(state[k].shape)}"
            for k in expected
            if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
        ]
        if missing or unexpected or misshapen:
            parts = []
            if missing:
                parts.append(f"missing keys {missing[:5]}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected[:5]}")
            if misshapen:
                parts.append(f"wrong shapes {misshapen[:5]}")
            raise CheckpointError(f"{source} does not match the {ARCHITECTURE} architecture: " + "; ".join(parts))
        broken = [k for k, v in state.items() if torch.is_floating_point(v) and not torch.isfinite(v).all()]
        if broken:  # NaN features for every point, silently
            raise CheckpointError(f"{source} holds non-finite values (NaN or inf) in {broken[:5]}")
        self.load_state_dict(state)
        self._inference_cache = None


def _read_safetensors_checkpoint(path: Path):
    """(state dict, config) of one of our safetensors checkpoints."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint {path} is not a readable safetensors file (truncated or another format?): {err}"
        ) from None
    if meta.get("architecture") != ARCHITECTURE:
        raise CheckpointError(
            f"checkpoint {path} is not a {ARCHITECTURE} checkpoint (metadata architecture={meta.get('architecture')!r})"
        )
    if "config" not in meta:
        raise CheckpointError(f"checkpoint {path} has no 'config' metadata (the architecture); it cannot be rebuilt")
    try:  # checked field by field, as a config file is: an out-of-range size would reach torch
        config = LocationEncoderConfig.coerce(LocationEncoderConfig.from_json(meta["config"]), name="config")
    except (ValueError, TypeError, KeyError) as err:
        raise CheckpointError(f"checkpoint {path} has malformed 'config' metadata: {err}") from None
    return state, config


def _read_official_checkpoint(path: Path):
    """(state dict, config) of an official ``.pth`` state dict, loaded without unpickling code."""
    import pickle

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"checkpoint {path} holds objects other than tensors; refusing to unpickle it "
            f"(weights_only=True): {_first_line(err)}"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint {path} is not a readable torch state dict (truncated or another format?): {_first_line(err)}"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"checkpoint {path} does not hold a state dict of tensors (got {type(state).__name__})")
    state = convert_official_state_dict(state)
    try:
        config = infer_config(state)
    except (ValueError, KeyError, IndexError) as err:
        raise CheckpointError(f"checkpoint {path}: {err}") from None
    return state, config


def _first_line(err: BaseException) -> str:
    """The first line of an exception's message, or its type's name when the message is empty."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def convert_official_state_dict(state: dict) -> dict:
    """Rename the official release's keys (``LocEnc{i}.capsule.*``) to ours."""
    if not any(k.startswith("LocEnc") for k in state):
        return dict(state)
    renamed = {}
    for key, value in state.items():
        prefix, _, rest = key.partition(".")
        i = prefix.removeprefix("LocEnc")
        if rest == "capsule.0.b":
            renamed[f"branches.{i}.frequencies"] = value
        elif rest.startswith("capsule."):
            _, idx, param = rest.split(".")
            renamed[f"branches.{i}.mlp.{int(idx) - 1}.{param}"] = value
        elif rest.startswith("head.0."):
            renamed[f"branches.{i}.head.{rest.split('.')[-1]}"] = value
        else:
            renamed[key] = value
    return renamed


def infer_config(state: dict) -> LocationEncoderConfig:
    """Read the architecture off a state dict in our key names.

    sigma is not stored in such files, so it is estimated as the power of two nearest to
    the standard deviation of each branch's B (exact for the published model).
    """
    n_branches = len({k.split(".")[1] for k in state if k.startswith("branches.")})
    if n_branches == 0:
        raise CheckpointError("state dict has no 'branches.*' or 'LocEnc*' keys")
    first = [k for k in state if k.startswith("branches.0.mlp.") and k.endswith(".weight")]
    sigmas = []
    for i in range(n_branches):
        b = state.get(f"branches.{i}.frequencies")
        if b is None:
            raise CheckpointError(f"state dict lacks branches.{i}.frequencies")
        sigmas.append(2.0 ** round(math.log2(float(b.float().std()))))
    freq = state["branches.0.frequencies"]
    return LocationEncoderConfig(
        sigmas=tuple(sigmas),
        n_frequencies=int(freq.shape[0]),
        hidden_dim=int(state["branches.0.head.weight"].shape[1]),
        n_hidden_layers=len(first),
        embed_dim=int(state["branches.0.head.weight"].shape[0]),
    )


#: Loaded encoders by (resolved path, size, mtime in ns): a changed file is read again. Oldest first.
_LOADED: dict[tuple[str, int, int], GeoCLIPLocationEncoder] = {}
_MAX_LOADED = 8


def load_location_encoder(path: str | Path | None = None):
    """The GeoCLIP location encoder in eval mode, on the CPU.

    Parameters
    ----------
    path : str or Path, default=None
        A registered weights name (see :func:`geoembed.models.weights.list_weights`), a checkpoint (our
        ``.safetensors`` or an official ``.pth`` state dict), or ``None`` for the default
        published weights. Loaded encoders are cached per file (the 8 most recent), so callers
        must not modify the returned module in place; use ``copy.deepcopy`` to fine-tune.
    """
    path = resolve_weights(path).path  # the one resolution: name, entry or file; checked to exist
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _LOADED:
        if len(_LOADED) >= _MAX_LOADED:
            del _LOADED[next(iter(_LOADED))]
        _LOADED[key] = GeoCLIPLocationEncoder.from_checkpoint(key[0])
    return _LOADED[key]
