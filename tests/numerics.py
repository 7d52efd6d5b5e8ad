"""Float tolerances derived from error analysis, so that numerical tests hold on any CPU.

Two float32 evaluations of the same formula differ when their kernels round differently
(batch size, block size, thread count, FMA or not, AVX2 or AVX-512, Intel or AMD). A test
that means "these two code paths compute the same thing" therefore compares each of them
with an independent float64 reference and a tolerance derived from the values involved,
never bitwise and never with a constant tuned on one machine.

GeoCLIP's location encoder
--------------------------
Its float32 rounding is dominated by the Fourier angles ``theta = 2 pi (x b_1 + y b_2)``
of the sigma = 256 branch, which reach thousands of radians: one float32 ulp of theta is
then ~5e-4. Each angle, computed in any order, carries an error of at most
``4 u (|2 pi x b_1| + |2 pi y b_2|)`` (rounding of 2 pi, of 2 pi x, of the products and of
the sum; ``u = 2**-24``), and sin/cos add at most ``4 u``. The MLPs' own GEMM rounding is
about 1000x smaller (measured: 4e-8). To first order, an error ``d`` on the Fourier
features moves the output by ``J d``, with ``J`` the branch's Jacobian at that point. With
independent rounding errors the component ``k`` has a standard deviation of at most
``s_k = sqrt(sum_i J_ki^2 eps_i^2)`` (Higham & Mary, SIAM J. Sci. Comput. 2019, on
probabilistic rounding error analysis). ``s_k`` is estimated without forming ``J`` by
pushing random-sign probes ``eps * r`` through the float64 network (Hutchinson's
estimator). A float32 output agrees with the float64 reference when
``|out - ref| <= LAMBDA * s``. LAMBDA = 8 makes a false alarm astronomically unlikely
(the official release on Intel and our code on Intel and AMD stay below 5 s), while a
1e-3 error in one weight of a later layer shows up at 10-15 s.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file

from geoembed.encoders.geoclip import geoclip_projection
from geoembed.models.weights import LOCATION_ENCODER_FILE

FLOAT32_UNIT_ROUNDOFF = 2.0**-24
LAMBDA = 8.0
N_PROBES = 32


@lru_cache(maxsize=4)
def _float64_branches(path: str):
    """The encoder's tensors read straight from the safetensors file, independent of our loader."""
    state = load_file(path)
    branches = []
    i = 0
    while f"branches.{i}.frequencies" in state:
        prefix = f"branches.{i}."
        indices = sorted({int(k.split(".")[3]) for k in state if k.startswith(prefix + "mlp.")})
        layers = [(state[f"{prefix}mlp.{j}.weight"], state[f"{prefix}mlp.{j}.bias"]) for j in indices]
        layers.append((state[prefix + "head.weight"], state[prefix + "head.bias"]))
        layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in layers]
        branches.append((state[prefix + "frequencies"].astype(np.float64), layers))
        i += 1
    return branches


@lru_cache(maxsize=16)
def _reference(latlon_bytes: bytes, shape: tuple, path: str):
    latlon = np.frombuffer(latlon_bytes, dtype=np.float64).reshape(shape)
    # the projection is defined by its float32 arithmetic (the official model's); from there on: float64
    xy = geoclip_projection(torch.from_numpy(latlon.copy())).double().numpy()
    rng = np.random.default_rng(0)
    u = FLOAT32_UNIT_ROUNDOFF
    out = np.zeros((len(xy), _float64_branches(path)[0][1][-1][0].shape[0]))
    variance = np.zeros_like(out)
    for frequencies, layers in _float64_branches(path):
        scaled = 2 * np.pi * xy
        theta = scaled @ frequencies.T
        eps_theta = 4 * u * (np.abs(scaled[:, :1] * frequencies[:, 0]) + np.abs(scaled[:, 1:] * frequencies[:, 1]))
        h = np.concatenate([np.cos(theta), np.sin(theta)], axis=1)
        eps = np.concatenate([eps_theta, eps_theta], axis=1) + 4 * u
        dh = rng.choice([-1.0, 1.0], size=(N_PROBES, *h.shape)) * eps
        for k, (weight, bias) in enumerate(layers):
            h = h @ weight.T + bias
            dh = dh @ weight.T
            if k < len(layers) - 1:
                active = h > 0
                h, dh = h * active, dh * active
        out += h
        variance += (dh**2).mean(axis=0)
    return out, np.sqrt(variance)


def geoclip_reference(latlon, weights: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(float64 reference embedding, per-element rounding scale ``s``) for (lat, lon) rows."""
    latlon = np.ascontiguousarray(latlon, dtype=np.float64)
    path = str(Path(weights or LOCATION_ENCODER_FILE).resolve())
    return _reference(latlon.tobytes(), latlon.shape, path)


def geoclip_bound(
    actual, latlon, weights: str | Path | None = None, *, normalized: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(actual, float64 reference, error bound) per element, the first as float64.

    The bound is ``LAMBDA * s`` plus the final rounding to the output's dtype (one ulp, so
    float16 outputs are covered too). With ``normalized=True`` the rows are compared after
    L2 normalisation; an error ``d`` on a row of norm ``r`` moves the unit row by at most
    ``|d| / r`` plus ``||d|| / r`` times the component, to first order.
    """
    dtype = np.asarray(actual).dtype
    actual = np.asarray(actual, dtype=np.float64)
    reference, scale = geoclip_reference(latlon, weights)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    error = LAMBDA * scale
    if normalized:
        norm = np.linalg.norm(reference, axis=1, keepdims=True)
        reference = reference / norm
        error = (error + np.linalg.norm(error, axis=1, keepdims=True) * np.abs(reference)) / norm
    out_ulp = np.spacing(np.abs(reference).astype(dtype)).astype(np.float64) if dtype.kind == "f" else 0.0
    tolerance = error + np.maximum(out_ulp, FLOAT32_UNIT_ROUNDOFF * np.abs(reference))
    return actual, reference, tolerance


def assert_geoclip_close(
    actual, latlon, weights: str | Path | None = None, *, normalized: bool = False, what: str = "output"
) -> None:
    """Assert that a GeoCLIP output equals the float64 reference within its error bound
    (:func:`geoclip_bound`).
    """
    actual, reference, tolerance = geoclip_bound(actual, latlon, weights, normalized=normalized)
    ratio = np.abs(actual - reference) / tolerance
    row, col = np.unravel_index(np.argmax(ratio), ratio.shape)
    assert ratio.max() <= 1.0, (
        f"{what} differs from the float64 reference beyond the float32 error bound: "
        f"row {row}, column {col}: {actual[row, col]:.9g} vs {reference[row, col]:.9g} "
        f"(difference {abs(actual[row, col] - reference[row, col]):.3g}, bound {tolerance[row, col]:.3g})"
    )


def assert_rounded_once_close(actual, desired) -> None:
    """Two float32 results of the same float64 computation, each rounded once: at most 1 ulp apart."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    ulp = np.spacing(np.maximum(np.abs(actual), np.abs(desired)).astype(actual.dtype))
    difference = np.abs(actual.astype(np.float64) - desired.astype(np.float64))
    assert (difference <= ulp).all(), f"{(difference > ulp).sum()} values differ by more than one ulp"


def softmax_rtol(queries, keys) -> float:
    """Relative tolerance for softmax probabilities of ``queries @ keys.T`` computed in float32.

    Each logit is a dot product of length n, off by at most ``gamma_n sum |q_i k_i|`` in any
    summation order (Higham 2002, eq. 3.5). A probability ``exp(s_j - logsumexp(s))`` then
    moves by at most the error of its logit plus that of the log-sum-exp, relative, plus a few
    roundings in exp and the sums.
    """
    queries, keys = np.abs(np.asarray(queries, np.float64)), np.abs(np.asarray(keys, np.float64))
    n = queries.shape[1]
    u = FLOAT32_UNIT_ROUNDOFF
    gamma = n * u / (1 - n * u)
    logit_error = gamma * (queries @ keys.T).max()
    return 2 * logit_error + 8 * u


def float32_matmul_bound(a, b) -> np.ndarray:
    """Elementwise bound on the error of ``a @ b.T`` computed in float32 from float32 inputs.

    Each entry is a dot product of length n, off by at most ``gamma_n sum |a_i b_i|`` in any
    summation order, blocked or FMA (Higham 2002, eq. 3.5), plus its final rounding. Two
    float32 evaluations of the same product (different kernels or widths) differ by at most
    twice this.
    """
    a, b = np.abs(np.asarray(a, np.float64)), np.abs(np.asarray(b, np.float64))
    n = a.shape[1]
    u = FLOAT32_UNIT_ROUNDOFF
    gamma = n * u / (1 - n * u)
    return (gamma + u) * (a @ b.T)


def rounded_orthonormal_atol(u: float = FLOAT32_UNIT_ROUNDOFF) -> float:
    """Tolerance on ``C C^T - I`` for orthonormal float64 rows rounded once to a precision of unit
    roundoff ``u``: each entry moves by at most ``2 u sum |c_i c_j| + u^2 <= 2 u + u^2``
    (Cauchy-Schwarz, unit rows), plus the float64 product (a few ulps of 1)."""
    return 2 * u + u * u + 64 * 2.0**-53


def eigenvector_atol(values, perturbation: float) -> np.ndarray:
    """Per component, a bound on ``||v_k - v'_k||`` (signs aligned) for the eigenvectors of a
    symmetric matrix with eigenvalues ``values`` (decreasing) and of the same matrix plus a
    perturbation of spectral norm at most ``perturbation``.

    Davis-Kahan in the form of Yu, Wang & Samworth (Biometrika 2015): ``sin theta_k <=
    2 ||E|| / gap_k`` with ``gap_k`` the distance from ``lambda_k`` to the other eigenvalues,
    and ``||v - v'|| <= sqrt(2) sin theta`` once the signs agree. Infinite for a repeated eigenvalue.
    """
    values = np.asarray(values, np.float64)
    gaps = np.array([np.min(np.abs(np.delete(values, k) - values[k])) for k in range(len(values))])
    with np.errstate(divide="ignore"):
        return np.sqrt(2) * 2 * perturbation / gaps


def covariance_perturbation(centred, error) -> float:
    """Bound on the spectral norm of the change of ``X^T X / (n - 1)`` when the rows of the
    (centred) data ``X`` move by at most ``error`` elementwise: ``(2 ||X|| ||D|| + ||D||^2) / (n - 1)``
    with ``||D|| <= ||error||_F`` (centring is a projection: it does not enlarge ``D``)."""
    n = len(centred)
    d = np.linalg.norm(np.asarray(error, np.float64))
    return (2 * np.linalg.norm(np.asarray(centred, np.float64), 2) * d + d * d) / (n - 1)


def float64_covariance_eigh_perturbation(centred) -> float:
    """Bound on the spectral norm of the backward error of a float64 covariance (n rows, d
    columns) and its symmetric eigendecomposition: the products are off by at most
    ``gamma_n |X|^T |X|`` (Higham 2002, eq. 3.5), whose spectral norm is at most ``||X||_F^2``,
    and LAPACK's eigh is backward stable with error ``p(d) u ||A||`` (taken as ``8 d u``)."""
    x = np.asarray(centred, np.float64)
    n, d = x.shape
    u = 2.0**-53
    frobenius = np.sum(x * x) / (n - 1)
    return (n * u / (1 - n * u) + 2 * u) * frobenius + 8 * d * u * frobenius
