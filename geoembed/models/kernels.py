"""Inference kernels of GeoCLIP-style location encoders: weights pre-packed once for the CPU's GEMM
libraries (MKL for float32, oneDNN for bfloat16), the stacked form of one-hidden-layer branches
(the distilled students), and whether bfloat16 runs natively.

They read a model's layers and never build one, so :mod:`geoembed.models.geoclip` (the module)
imports them, not the other way round.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

__all__ = [
    "PACK_BATCH_HINT",
    "InferenceWeights",
    "StackedBranches",
    "bfloat16_is_fast",
    "prepare_inference_weights",
    "stack_branches",
]


def bfloat16_is_fast(device: torch.device) -> bool:
    """bfloat16 matmuls run natively: CUDA, or a CPU with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)


PACK_BATCH_HINT = 4096


def prepare_inference_weights(model, precision: str, device: torch.device, *, prepack: bool = True):
    """The :class:`InferenceWeights` (linear, per-branch layers, fused head, head bias, dtype,
    grid hidden layer) that :meth:`geoembed.models.geoclip.GeoCLIPLocationEncoder.embed` runs.

    On CPUs the weights are pre-packed once (oneDNN for bfloat16, MKL for float32), which
    saves a weight reorder per call; elsewhere, or if the ops are missing, plain ``F.linear``.
    A grid branch (``model.grid``) shares the fused head: its head's columns follow the
    branches' and its bias joins theirs; its hidden layer is ``grid_hidden`` (None without a grid).
    """
    dtype = torch.bfloat16 if precision == "fast" else torch.float32
    layers = [[m for m in branch.mlp if isinstance(m, nn.Linear)] for branch in model.branches]
    grid = getattr(model, "grid", None)
    heads = [b.head for b in model.branches] + ([grid.head] if grid is not None else [])
    head_weight = torch.cat([head.weight for head in heads], dim=1)
    head_bias = sum(head.bias for head in heads).float()
    pairs = [[(m.weight, m.bias) for m in branch] for branch in layers]
    zero = torch.zeros(head_weight.shape[0], device=head_weight.device)
    stacked = stack_branches(model, layers)
    # a stacked float32 head takes the summed bias inside its GEMM; other heads add it afterwards in
    # float32 (GeoCLIP's own path keeps the operation order that reproduces the published outputs)
    if stacked is not None and dtype == torch.float32:
        head_gemm_bias, head_bias = head_bias, None
    else:
        head_gemm_bias = zero
    try:
        if device.type != "cpu" or not prepack:
            raise RuntimeError("pre-packing is for CPUs")
        if dtype == torch.bfloat16:

            def pack(w, b):
                w, b = w.to(dtype), b.to(dtype)
                return torch.ops.mkldnn._reorder_linear_weight(w, PACK_BATCH_HINT), b

            def linear(h, layer, relu, out=None):
                result = torch.ops.mkldnn._linear_pointwise(h, layer[0], layer[1], "relu" if relu else "none", [], "")
                return result if out is None else out.copy_(result)
        else:

            def pack(w, b):
                return torch.ops.mkl._mkl_reorder_linear_weight(w, PACK_BATCH_HINT), w, b

            def linear(h, layer, relu, out=None):
                if out is not None:
                    return _into(h, layer, relu, out)
                out = torch.ops.mkl._mkl_linear(h, layer[0], layer[1], layer[2], PACK_BATCH_HINT)
                return out.relu_() if relu else out

        if stacked is None:
            packed = [[pack(w, b) for w, b in branch] for branch in pairs]
        elif dtype == torch.float32:
            packed = stacked  # float32 branch GEMMs always write into their columns (_into): unpacked
        else:
            packed = stacked._replace(layers=tuple(pack(*layer) for layer in stacked.layers))
        head = pack(head_weight, head_gemm_bias)
        grid_hidden = pack(grid.hidden.weight, grid.hidden.bias) if grid is not None else None
        linear(torch.zeros(2, head_weight.shape[1], dtype=dtype), head, relu=False)  # the ops exist and take these
        return InferenceWeights(linear, packed, head, head_bias, dtype, grid_hidden)
    except (RuntimeError, AttributeError):

        def linear(h, layer, relu, out=None):
            if out is not None:
                return _into(h, layer, relu, out)
            out = torch.nn.functional.linear(h, layer[0], layer[1])
            return out.relu_() if relu else out

        if stacked is not None:
            cast = stacked._replace(layers=tuple(tuple(t.to(dtype) for t in layer) for layer in stacked.layers))
        else:
            cast = [[(w.to(dtype), b.to(dtype)) for w, b in branch] for branch in pairs]
        grid_hidden = (grid.hidden.weight.to(dtype), grid.hidden.bias.to(dtype)) if grid is not None else None
        head = (head_weight.to(dtype), head_gemm_bias.to(dtype))
        return InferenceWeights(linear, cast, head, head_bias, dtype, grid_hidden)


def _into(h: Tensor, layer: tuple, relu: bool, out: Tensor) -> Tensor:
    """``h`` through a float32 layer into ``out``: the layer's plain weight and bias are the last two
    items of each of its float32 forms, (packed, weight, bias) or (weight, bias); ``torch.addmm``
    (MKL's sgemm on the unpacked weight on a CPU) writes into a given tensor, the packed op cannot.
    """
    torch.addmm(layer[-1], h, layer[-2].t(), out=out)
    return out.relu_() if relu else out


class InferenceWeights(NamedTuple):
    """What :func:`prepare_inference_weights` returns, read by name."""

    # linear(h, layer, relu, out=None) -> Tensor, for the layers below in their packed form; with
    # ``out`` (of the layer's dtype) the result is written there
    linear: object
    branch_layers: object  # per-branch lists of layers, or a StackedBranches
    head: tuple  # the fused head GEMM's layer
    head_bias: Tensor | None  # the summed heads' float32 bias, added after the GEMM
    dtype: torch.dtype
    grid_hidden: tuple | None  # the grid branch's hidden layer (None without a grid)


class StackedBranches(NamedTuple):
    """Branches with one hidden layer each, evaluated together by
    :meth:`geoembed.models.geoclip.GeoCLIPLocationEncoder.embed`: every branch's angles in one
    product, then each branch's hidden layer on its own [cos | sin] features, written into its
    columns of one tensor of hidden units.
    """

    frequencies_t: Tensor  # (2, n_branches * n_frequencies)
    layers: tuple  # each branch's hidden layer: (weight, bias), or its packed form


def stack_branches(model, layers) -> StackedBranches | None:
    """The stacked form of one-hidden-layer branches, or None for deeper ones.

    For the small distilled students one product for every branch's angles and one tensor of
    hidden units are far cheaper than a module call per branch; each branch keeps its own GEMM
    (a block-diagonal GEMM over all branches did n_branches times the FLOPs: 4.9 ms against 1.7
    for the lite's hidden layer on 4,096 rows in float32, 2.1 against 0.8 with bfloat16; AMD
    Zen 5, 2 threads, torch 2.13). GeoCLIP's three-layer branches keep the per-branch path.
    """
    if any(len(branch) != 1 for branch in layers):
        return None
    frequencies = torch.cat([branch.frequencies for branch in model.branches]).T.contiguous()
    weights = tuple((layer.weight.detach(), layer.bias.detach()) for (layer,) in layers)
    return StackedBranches(frequencies, weights)


# -- loading by name ---------------------------------------------------------------------------
