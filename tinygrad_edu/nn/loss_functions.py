"""Loss functions, composed from Tensor ops (none has a backward of its own).

Each follows PyTorch's definition and takes ``reduction``: ``"mean"`` (default), ``"sum"`` or
``"none"`` (one loss per element, or per example for ``cross_entropy``). Predictions and
targets must have the same shape: broadcasting a ``(n, 1)`` output against an ``(n,)`` target
would silently compare every prediction with every target.
"""

import numbers

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexingError, ShapeError
from ..tensor.combine import stack, where
from ..tensor.shape import gather_unchecked
from ..tensor import Tensor
from ..tensor.validation import check_values, extremes

__all__ = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "REDUCTIONS"]

REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # PyTorch's clamp of log(p) in binary_cross_entropy


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction, op):
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ArgumentError(f"{op}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, "
                            f"got {reduction!r}")


def _pair(input, target, op, reduction):
    """``(input, target)`` as float Tensors of one dtype and the same shape."""
    _check_reduction(reduction, op)
    if not isinstance(input, Tensor):
        raise DTypeError(f"{op}: input must be a Tensor (the model's output), got "
                         f"{type(input).__name__}")
    if input.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating, got dtype {input.dtype}")
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype, device=input.device)
    elif target.dtype != input.dtype:
        target = target.astype(input.dtype)
    if target.shape != input.shape:
        raise ShapeError(f"{op}: input has shape {input.shape} but target has shape "
                         f"{target.shape}; they must match (reshape one of them, e.g. "
                         f"target.reshape({', '.join(map(str, input.shape)) or '()'}))")
    return input, target


def mse_loss(input, target, reduction="mean"):
    """Squared error ``(input - target)^2``, reduced."""
    input, target = _pair(input, target, "mse_loss", reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """Absolute error ``|input - target|``, reduced."""
    input, target = _pair(input, target, "l1_loss", reduction)
    return _reduce((input - target).abs(), reduction)


def _clamped_log(p):
    """log(p) floored at -100 as PyTorch does; where p == 0 the log is taken of 1 instead,
    so neither the value nor the gradient ever sees an infinity (the gradient there is 0)."""
    positive = p > 0
    return where(positive, where(positive, p, 1.0).log(), _LOG_FLOOR).clip(lo=_LOG_FLOOR)


def binary_cross_entropy(input, target, reduction="mean"):
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` (e.g. a sigmoid output).

    Each log is clamped at -100 like PyTorch, so p = 0 or 1 gives a finite loss. Raises
    ValueError when a probability lies outside [0, 1]; for raw scores use
    ``binary_cross_entropy_with_logits``, which is also more accurate.
    """
    op = "binary_cross_entropy"
    input, target = _pair(input, target, op, reduction)
    check_values(_check_probabilities, input, op)
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits stably.

    Uses ``softplus(x) - x t`` with ``softplus(x) = log(1 + e^x) = logsumexp([0, x])``, which
    never overflows and has the exact gradient ``sigmoid(x) - t`` everywhere (also at x = 0).
    """
    input, target = _pair(input, target, "binary_cross_entropy_with_logits", reduction)
    softplus = stack([Tensor.zeros_like(input), input], axis=-1).logsumexp(axis=-1)
    return _reduce(softplus - input * target, reduction)


def _check_probabilities(be, array, op):
    lo, hi = extremes(be, array)
    if not (lo >= 0 and hi <= 1):   # NaN fails both
        raise ArgumentError(f"{op}: input must hold probabilities in [0, 1], got values from "
                            f"{lo:g} to {hi:g} (nan: the input holds NaN); pass raw scores to "
                            "binary_cross_entropy_with_logits instead")


def _check_class_indices(be, array, op, classes):
    lo, hi = extremes(be, array)
    if lo < 0 or hi >= classes:
        raise IndexingError(f"{op}: target holds class index {lo if lo < 0 else hi} but "
                            f"logits have {classes} classes (valid: 0..{classes - 1})")


def _class_targets(target, logits, op):
    """``target`` as an integer Tensor of class indices on ``logits``' device, checked."""
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        target = np.asarray(target)
    elif isinstance(target, (list, tuple)):
        target = np.asarray(target)
    if not isinstance(target, (np.ndarray, np.generic, Tensor)) \
            or target.dtype.kind not in "iu":
        kind = getattr(target, "dtype", type(target).__name__)
        raise DTypeError(f"{op}: target must hold integer class indices (a numpy int array "
                         f"or an integer Tensor), got {kind}")
    target = target.to(logits.device) if isinstance(target, Tensor) \
        else Tensor(target, device=logits.device)
    batch_shape = logits.shape[:-1]
    if target.shape != batch_shape:
        raise ShapeError(f"{op}: logits of shape {logits.shape} need a target of shape "
                         f"{batch_shape} (one class index per example), got {target.shape}")
    check_values(_check_class_indices, target, op, logits.shape[-1])
    return target


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy ``-log softmax(input)[target]`` with integer class targets.

    ``input``: logits of shape ``(n, classes)`` (or ``(classes,)`` for one example);
    ``target``: class indices of shape ``(n,)`` (or a single int), as a numpy int array, an
    integer Tensor or a list. The log-softmax is computed stably. For one example the loss
    is a scalar whatever the reduction. Raises DTypeError for non-integer targets, ShapeError
    for a target of the wrong shape and IndexingError for a class index out of range.
    """
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be a floating Tensor of logits, got "
                         f"{getattr(input, 'dtype', type(input).__name__)}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"{op}: logits must have shape (n, classes) or (classes,), got "
                         f"{input.shape}")
    target = _class_targets(target, input, op)
    log_probs = input.log_softmax(axis=-1)
    # The gather runs on the logits' device: target[i] picks log_probs[i, target[i]].
    # _class_targets has checked the indices' range.
    index = target.reshape(*target.shape, 1)
    picked = gather_unchecked(log_probs, input.ndim - 1, index).reshape(*target.shape)
    return -picked if input.ndim == 1 else _reduce(-picked, reduction)
