"""FLOPs of one training step, counted by torch rather than by a formula of ours, but
for attention: there torch's count depends on the kernel its dispatcher picks (the CPU
kernel of scaled_dot_product_attention is not counted at all, the CUDA kernels' backward
counts a recomputation of the scores), and a FLOP cap must be the same on every machine.
So every attention kernel is counted as the written-out computation: softmax(q k^T) v,
its two products forward and their four operand gradients backward (causal masking saves
nothing in the count)."""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def attention_flops(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, **kwargs: Any) -> int:
    """q [b, h, s_q, d] @ k^T -> scores [b, h, s_q, s_k]; scores @ v [b, h, s_k, d_v]."""
    b, h, s_q, d = query_shape
    s_k, d_v = key_shape[2], value_shape[3]
    return 2 * b * h * s_q * s_k * (d + d_v)


def attention_backward_flops(grad_out_shape: Any, query_shape: Any, key_shape: Any, value_shape: Any,
                             *args: Any, **kwargs: Any) -> int:
    """The gradients of both products with respect to both of their operands: twice forward."""
    return 2 * attention_flops(query_shape, key_shape, value_shape)


def _attention_mapping() -> dict[Any, Callable[..., int]]:
    """Every scaled_dot_product_attention kernel this torch has (CPU, flash, efficient, cudnn)."""
    forward = ["_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
               "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention"]
    mapping: dict[Any, Callable[..., int]] = {}
    for name in forward:
        for op, formula in ((name, attention_flops), (f"{name}_backward", attention_backward_flops)):
            packet = getattr(torch.ops.aten, op, None)
            if packet is not None:
                mapping[packet] = formula
    return mapping


ATTENTION = _attention_mapping()


# Counts by shape, kept for the life of the process (a worker counts each shape once): the
# count is a function of the architecture and the batch's shape alone, and counting costs
# a forward and backward pass under the counter's dispatch, which on a search's tiny
# networks took longer than their training steps (experiments/bench_run.py's profile).
_COUNTED: dict[tuple, int] = {}
_COUNTED_MAX = 4096


def shape_of(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable[..., Any]) -> tuple:
    """What a step's FLOP count depends on: the layers (their printed form), which of them
    train (a frozen layer gets no weight gradient), the batch's shape, dtype and device."""
    return (str(model), tuple(p.requires_grad for p in model.parameters()), tuple(x.shape), str(x.dtype),
            x.device.type, tuple(y.shape), getattr(loss_fn, "__qualname__", repr(loss_fn)),
            hasattr(model, "local_loss"))


def step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> int:
    """Forward plus backward FLOPs of one step on this batch (the optimizer update and
    elementwise work are not counted by torch's counter: matrix products dominate).
    Counted once per shape in a process (see _COUNTED)."""
    key = shape_of(model, x, y, loss_fn)
    if key not in _COUNTED:
        if len(_COUNTED) >= _COUNTED_MAX:
            _COUNTED.clear()
        _COUNTED[key] = count_step_flops(model, x, y, loss_fn)
    return _COUNTED[key]


def count_step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> int:
    """step_flops, counted now: a forward and backward pass under torch's FLOP counter."""
    with FlopCounterMode(display=False, custom_mapping=ATTENTION) as counter:
        if hasattr(model, "local_loss"):  # forward-forward: the layer-local objective
            model.local_loss(x, y, torch.Generator().manual_seed(0)).backward()
        else:
            loss_fn(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


MUON_NS_STEPS = 5   # torch.optim.Muon's default Newton-Schulz iterations


def update_flops(model: nn.Module, muon: bool = False, egalitarian: bool = False) -> int:
    """FLOPs of the update rules that do matrix work per weight matrix beyond the backward
    pass, which torch's counter never sees: Muon's Newton-Schulz iterations (each: the Gram
    matrix, its square and the product with the update, 4 a^2 b + 2 a^3 for a matrix of short
    side a and long side b) and the egalitarian rule's thin SVD (Golub & Van Loan's count for
    the R-SVD, 6 b a^2 + 20 a^3) with its product back (2 a^2 b). Charged to every step, so the
    FLOP cap and the speed objective see what these rules cost."""
    total = 0
    for param in model.parameters():
        if param.ndim != 2 or not param.requires_grad:
            continue
        a, b = sorted(param.shape)
        if muon:
            total += MUON_NS_STEPS * (4 * a * a * b + 2 * a ** 3)
        if egalitarian:
            total += 6 * b * a * a + 20 * a ** 3 + 2 * a * a * b
    return total


@torch.no_grad()
def predict_flops(model: nn.Module, x: torch.Tensor, sample: int = 64) -> int:
    """FLOPs of predicting all of x, counted on its first `sample` rows and scaled: for a
    forward-forward network, which tries every answer, prediction is not cheap."""
    with FlopCounterMode(display=False, custom_mapping=ATTENTION) as counter:
        model(x[:sample])
    return int(counter.get_total_flops() * len(x) / max(1, min(sample, len(x))))
