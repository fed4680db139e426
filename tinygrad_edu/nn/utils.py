"""``nn.utils``: ``clip_grad_norm_``, where PyTorch has it (``optim.clip_grad_norm_`` is the
same function)."""

import math
import numbers
import warnings

import numpy as np

from ..errors import (ArgumentError, ArgumentTypeError, DeviceError, NonFiniteError,
                      NonFiniteValueWarning)
from ..tensor import Tensor
from ..tensor.autodiff import mark_written
from ..tensor.validation import check_flag, check_values

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(params, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of ``params`` in place so their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together as if concatenated (``norm_type`` 2 by
    default, ``inf`` for the largest magnitude), in float64. As in PyTorch the gradients are
    multiplied by ``min(1, max_norm / (total + 1e-6))``, and the total norm before clipping
    is returned as a 0-d Tensor (in the gradients' dtype, on their device; ``tensor(0.)``
    when no parameter has a gradient). The gradients must be on one device.

    The computation stays on that device: only the total comes to the host, to be checked
    for NaN and inf, so a captured step (``tg.capture``) may clip, and its replay clips and
    checks again on every call. A NaN or infinite total (some gradient holds NaN or inf)
    cannot be clipped: with ``error_if_nonfinite=True`` that raises NonFiniteError and leaves
    the gradients as they are; otherwise they are scaled as PyTorch scales them (by 0 for an
    infinite norm, which makes the infinite entries NaN; by NaN for a NaN norm) with a
    NonFiniteValueWarning.
    """
    where = "clip_grad_norm_"
    if isinstance(params, Tensor):
        params = [params]
    try:
        params = list(params)
    except TypeError:
        raise ArgumentTypeError(f"{where}: params must be a Tensor or an iterable of Tensors, got "
                                f"{type(params).__name__}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise ArgumentTypeError(f"{where}: parameter {i} is a {type(p).__name__}, expected a "
                                    "Tensor")
    if isinstance(max_norm, (bool, np.bool_)) or not isinstance(max_norm, numbers.Real):
        raise ArgumentTypeError(f"{where}: max_norm must be a real number, got "
                                f"{type(max_norm).__name__} {max_norm!r}")
    if not max_norm >= 0:
        raise ArgumentError(f"{where}: max_norm must be >= 0 (inf: no clipping), got {max_norm}")
    if isinstance(norm_type, str) and norm_type == "inf":
        norm_type = math.inf
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(norm_type, numbers.Real) \
            or not norm_type > 0:
        raise ArgumentError(f"{where}: norm_type must be a number > 0 or inf, got {norm_type!r}")
    check_flag(error_if_nonfinite, "error_if_nonfinite", where)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    device = grads[0]._device
    others = sorted({g.device for g in grads if g._device is not device})
    if others:
        raise DeviceError(f"{where}: the gradients are on the devices {device.name!r} and "
                          f"{', '.join(map(repr, others))}; clip each device's parameters "
                          f"separately, or move the model to one device first")
    be = device.backend
    if norm_type == math.inf:   # the largest part; NaN wins, as in PyTorch
        parts = [be.reshape(be.cast(be.abs_max(g.data), np.float64), (1,)) for g in grads]
        total = be.max(be.concatenate(parts, 0), None, False)
    else:
        total = be.abs_power_sum(grads[0].data, norm_type)
        for g in grads[1:]:
            total = be.add(total, be.abs_power_sum(g.data, norm_type))
        total = be.pow(total, 1.0 / norm_type)
    total_t = Tensor._wrap(total, device)
    check_values(_check_finite_norm, [total_t, *grads], norm_type, error_if_nonfinite)
    # min(1, coef) rather than a test on the host: a coefficient of 1 leaves every gradient
    # bit for bit as it was, and NaN passes through the clip, as in PyTorch.
    coef = be.clip(be.div(float(max_norm), be.add(total, 1e-6)), None, 1.0)
    factors = {}
    for g in grads:
        if g.dtype not in factors:   # rounded to the gradient's dtype once, as a number would be
            factors[g.dtype] = coef if g.dtype == np.float64 else be.cast(coef, g.dtype)
        be.mul_(g.data, factors[g.dtype])
    mark_written(*grads)
    dtype = np.result_type(*factors)
    return total_t if dtype == np.float64 else Tensor._wrap(be.cast(total, dtype), device)


def _check_finite_norm(be, total, *rest):
    """``clip_grad_norm_``'s check of its total (run by ``check_values``): ``rest`` is the
    gradient arrays, then ``norm_type`` and ``error_if_nonfinite``."""
    *grads, norm_type, error_if_nonfinite = rest
    value = float(be.to_numpy(total))
    if math.isfinite(value):
        return
    bad = [i for i, g in enumerate(grads)
           if not be.to_numpy(be.min(be.isfinite(g), None, False)).item()]
    what = (f"the total norm of order {norm_type} of the gradients is {value}: gradient(s) "
            f"{bad} of the {len(grads)} given hold NaN or inf")
    if error_if_nonfinite:
        raise NonFiniteError(f"clip_grad_norm_: {what}, so they cannot be clipped (nothing was "
                             "changed). Find the op that made them with "
                             "tinygrad_edu.detect_anomaly(), or pass error_if_nonfinite=False "
                             "to scale them anyway, as PyTorch does")
    warnings.warn(f"clip_grad_norm_: {what}; they were scaled by max_norm / total as PyTorch "
                  "does, which leaves NaN in them and in the parameters after the next step. Pass "
                  "error_if_nonfinite=True to stop here instead, and find the op that made them "
                  "with tinygrad_edu.detect_anomaly()", NonFiniteValueWarning, stacklevel=4)
