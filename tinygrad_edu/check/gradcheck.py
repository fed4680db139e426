"""Check backward against central finite differences, for Tensor and Value functions."""

import numpy as np

from ..tensor.context import no_grad
from ..errors import ArgumentError, DTypeError, GradError
from ..tensor import Tensor
from ..scalar.value import Value

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(GradError):
    """backward's gradient disagrees with the finite-difference estimate."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare the full Jacobian of ``fn(*inputs)`` from backward with central differences.

    ``inputs`` is a sequence of float64 Tensors with ``requires_grad=True`` (others are held
    constant) or of Values. float32 inputs are refused: finite differences with eps=1e-6 drown
    in float32 rounding, so create the inputs with ``dtype=np.float64`` (or ``.double()``).
    Each entry is checked with ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns True when all entries agree. Otherwise raises ``GradcheckError`` naming the input,
    the element, the output element and both values, or returns False when
    ``raise_exception=False``.

    >>> x = Tensor(np.random.randn(3), requires_grad=True, dtype=np.float64)
    >>> gradcheck(lambda t: (t * t).sum(), [x])
    True
    """
    inputs = list(inputs)
    if not inputs:
        raise ArgumentError("gradcheck: inputs is empty")
    if all(isinstance(x, Value) for x in inputs):
        analytic, numeric, targets = _value_jacobians(fn, inputs, eps)
    elif all(isinstance(x, Tensor) for x in inputs):
        analytic, numeric, targets = _tensor_jacobians(fn, inputs, eps)
    else:
        raise DTypeError("gradcheck: inputs must be all Tensors or all Values, got "
                         f"{[type(x).__name__ for x in inputs]}")
    for i in targets:
        bad = np.abs(analytic[i] - numeric[i]) > atol + rtol * np.abs(numeric[i])
        bad |= np.isnan(analytic[i]) != np.isnan(numeric[i])
        if bad.any():
            out_idx, in_idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
            shape = inputs[i].shape if isinstance(inputs[i], Tensor) else ()
            element = np.unravel_index(in_idx, shape) if shape else ()
            message = (f"gradcheck: gradient mismatch for input {i} at element "
                       f"{tuple(int(e) for e in element)} (output element {int(out_idx)}): "
                       f"backward gives {float(analytic[i][out_idx, in_idx])!r}, finite "
                       f"differences give {float(numeric[i][out_idx, in_idx])!r} (eps={eps}, "
                       f"atol={atol}, rtol={rtol}); {int(bad.sum())} of {bad.size} entries "
                       "differ")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _tensor_jacobians(fn, inputs, eps):
    targets = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not targets:
        raise GradError("gradcheck: no input has requires_grad=True")
    for i in targets:
        if inputs[i].dtype != np.float64:
            raise DTypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; gradcheck "
                             "needs float64 (create it with dtype=np.float64 or .double())")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise DTypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    n_out = out.numel()
    analytic = {i: np.zeros((n_out, inputs[i].numel())) for i in targets}
    for k in range(n_out):
        for i in targets:
            inputs[i].grad = None
        seed = np.zeros(n_out, dtype=out.dtype)
        seed[k] = 1
        fn(*inputs).backward(seed.reshape(out.shape))
        for i in targets:
            grad = inputs[i].grad
            if grad is not None:
                analytic[i][k] = grad.numpy().ravel()
    for i in targets:
        inputs[i].grad = None
    numeric = {i: np.zeros_like(analytic[i]) for i in targets}
    with no_grad():
        for i in targets:
            data, be = inputs[i].data, inputs[i]._device.backend
            host = np.array(inputs[i].numpy())   # the original values, read once
            # Each element is changed in place through the backend (in C order, like ravel),
            # so fn sees the perturbed tensor itself, non-contiguous or on a device.
            for j, element in enumerate(np.ndindex(host.shape)):
                original = host[element]
                be.setitem_(data, element, original + eps)
                plus = np.array(fn(*inputs).numpy(), dtype=np.float64).ravel()
                be.setitem_(data, element, original - eps)
                minus = np.array(fn(*inputs).numpy(), dtype=np.float64).ravel()
                be.setitem_(data, element, original)
                numeric[i][:, j] = (plus - minus) / (2 * eps)
    return analytic, numeric, targets


def _value_jacobians(fn, inputs, eps):
    for x in inputs:
        x.grad = 0.0
    out = fn(*inputs)
    if not isinstance(out, Value):
        raise DTypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    out.backward()
    analytic = {i: np.array([[x.grad]]) for i, x in enumerate(inputs)}
    numeric = {}
    for i, x in enumerate(inputs):
        original = x.data
        x.data = original + eps
        plus = fn(*inputs).data
        x.data = original - eps
        minus = fn(*inputs).data
        x.data = original
        numeric[i] = np.array([[(plus - minus) / (2 * eps)]])
        x.grad = 0.0
    return analytic, numeric, list(range(len(inputs)))
