"""Anomaly mode: find the op where NaN or inf first appear.

>>> import tinygrad_edu as tg
>>> with tg.detect_anomaly():            # doctest: +SKIP
...     loss = tg.nn.functional.mse_loss(model(x), y)
...     loss.backward()

While the mode is on, every op's forward output and every gradient that backward computes is
checked (through the backend, ``isfinite`` and a reduction, so it works on any device), and
the first one holding NaN or inf raises ``NonFiniteError`` naming the op, the shapes and value
statistics of its inputs, the module it ran in, and the line of your code that made the op in
the forward pass. That line is recorded only while the mode is on, so normal runs pay nothing.
The scalar ``Value`` engine is covered too.

Use it as a context manager, as a decorator (``@detect_anomaly()``), or for a whole run with
the environment variable ``TINYGRAD_EDU_DETECT_ANOMALY=1``. Every infinity counts, deliberate
ones included (a ``-inf`` mask before a softmax): keep such code outside the mode. Each check
brings one number to the host, so the mode is for finding a problem, not for training runs.
"""

import functools
import linecache
import math
import os
import sys

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, NonFiniteError
from ..scalar import value as _value
from ..tensor import autodiff, context

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "ENV_VAR"]

ENV_VAR = "TINYGRAD_EDU_DETECT_ANOMALY"
_ON, _OFF = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def is_anomaly_enabled():
    """True while anomaly mode is on."""
    return autodiff._anomaly is not None


def set_detect_anomaly(mode):
    """Turn anomaly mode on (``True``) or off (``False``) for the whole process; returns the
    previous mode."""
    if not isinstance(mode, (bool, np.bool_)):
        raise ArgumentTypeError(f"set_detect_anomaly: mode must be True or False, got "
                                f"{type(mode).__name__} {mode!r}")
    previous = is_anomaly_enabled()
    checker = _Checker() if mode else None
    autodiff.set_anomaly_hook(checker)
    _value.set_anomaly_hook(checker)
    return previous


class detect_anomaly:
    """Context manager and decorator that turns anomaly mode on (or, with ``mode=False``,
    off) inside, and restores the previous mode after.

    ``with detect_anomaly(): ...`` or ``@detect_anomaly()``. See the module docstring.
    """

    def __init__(self, mode=True):
        if not isinstance(mode, (bool, np.bool_)):
            raise ArgumentTypeError(f"detect_anomaly: mode must be True or False, got "
                                    f"{type(mode).__name__} {mode!r} (as a decorator, write "
                                    "@detect_anomaly() with the parentheses)")
        self._mode = bool(mode)

    def __enter__(self):
        self._previous = set_detect_anomaly(self._mode)
        return self

    def __exit__(self, *exc_info):
        set_detect_anomaly(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self._mode):
                return fn(*args, **kwargs)
        return wrapper


class _Checker:
    """The hooks ``tensor.autodiff`` and ``scalar.value`` call while the mode is on."""

    # ---- the Tensor engine ----
    def forward(self, ctx, tensors, data):
        ctx.origin = _user_line()
        ctx.modules = context.current_scope()
        if _bad_count(ctx.backend, data):
            raise NonFiniteError(_forward_message(ctx, tensors, data))

    def seed(self, root, seed):
        if _bad_count(root._device.backend, seed):
            raise NonFiniteError(f"detect_anomaly: backward was given a gradient that is not "
                                 f"finite: {_summary(root._device.backend, seed)}")

    def backward(self, node, grad, input_grads):
        ctx = node._ctx
        for i, (parent, pg) in enumerate(zip(ctx.parents, input_grads)):
            if pg is not None and parent.requires_grad and _bad_count(ctx.backend, pg):
                raise NonFiniteError(_backward_message(ctx, grad, i, pg))

    # ---- the Value engine ----
    def value_forward(self, node):
        node._origin = _user_line()
        if not math.isfinite(node.data):
            inputs = ", ".join(repr(v.data) for v in node.inputs)
            raise NonFiniteError(f"detect_anomaly: the Value op {node.op!r} made {node.data} "
                                 f"from the input(s) {inputs}{_made_at(node._origin)}. "
                                 f"{_CAUSES}")

    def value_backward(self, node, index, upstream):
        local = node.local_grads[index]
        origin = getattr(node, "_origin", None)
        raise NonFiniteError(
            f"detect_anomaly: backward through the Value op {node.op!r}{_made_at(origin)} gave "
            f"its input {index} (data {node.inputs[index].data!r}) the gradient "
            f"{upstream!r} x {local!r} = {upstream * local!r} (the gradient arriving at the "
            f"op's output times its local derivative), which is not finite")


_CAUSES = ("When the inputs are finite, the op overflowed (values too large: an "
           "initialization or a learning rate too large?) or met a point where it is not "
           "defined (log or division of 0, sqrt of a negative number)")


def _user_line():
    """``file:line: code`` of the innermost frame outside the library (the programs in
    ``tinygrad_edu.apps`` count as outside), or None."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        inside = name == "tinygrad_edu" or name.startswith("tinygrad_edu.")
        if not inside or name.startswith("tinygrad_edu.apps"):
            break
        frame = frame.f_back
    if frame is None:
        return None
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" + (f": {code}" if code else "")


def _module_text(modules):
    """The innermost of ``modules`` (a scope, outermost first) named as the outermost names
    it, e.g. ``layers.2 (Layer 128→64, relu) in the MLP``; '' for no module."""
    if not modules:
        return ""
    outer, inner = modules[0], modules[-1]
    described = f"{type(inner).__name__} {inner.extra_repr()}".strip()
    if inner is outer:
        return described
    name = next((n for n, m in outer.named_modules() if m is inner), "?")
    return f"{name} ({described}) in the {type(outer).__name__}"


def _made_at(origin):
    return f" (made at {origin})" if origin else ""


def _host(be, x):
    return be.to_numpy(x).item()


def _count(be, mask):
    return int(_host(be, be.sum(be.cast(mask, np.int64), None, False)))


def _bad_count(be, a):
    """How many elements of the array ``a`` are NaN or infinite (0 for other dtypes)."""
    if a.dtype.kind != "f" or a.size == 0:
        return 0
    finite = be.isfinite(a)
    if _host(be, be.min(finite, None, False)):
        return 0
    return a.size - _count(be, finite)


def _summary(be, a):
    """``shape (2, 3) float32: min .., max .., mean .., 2 NaN, 1 +inf`` of an array."""
    text = f"shape {tuple(a.shape)} {a.dtype}"
    if a.size == 0:
        return text + " (empty)"
    if a.dtype.kind != "f":
        return (text + f": min {_host(be, be.min(a, None, False))}, "
                       f"max {_host(be, be.max(a, None, False))}")
    finite = be.isfinite(a)
    n_finite = _count(be, finite)
    parts = []
    if n_finite:
        lo = _host(be, be.min(be.where(finite, a, np.inf), None, False))
        hi = _host(be, be.max(be.where(finite, a, -np.inf), None, False))
        total = _host(be, be.sum(be.cast(be.where(finite, a, 0), np.float64), None, False))
        parts.append(f"min {lo:.4g}, max {hi:.4g}, mean {total / n_finite:.4g}")
    counts = ((_count(be, be.compare("not_equal", a, a)), "NaN"),
              (_count(be, be.compare("equal", a, np.inf)), "+inf"),
              (_count(be, be.compare("equal", a, -np.inf)), "-inf"))
    bad = [f"{n:,} {name}" for n, name in counts if n]
    parts.append(", ".join(bad) + f" of {a.size:,}" if bad else "all finite")
    return text + ": " + "; ".join(parts)


def _context_lines(ctx):
    lines = []
    if getattr(ctx, "origin", None):
        lines.append(f"  made at: {ctx.origin}")
    module = _module_text(getattr(ctx, "modules", ()))
    if module:
        lines.append(f"  in module: {module}")
    return lines


def _input_lines(ctx, tensors):
    return [f"    {i}: {_summary(ctx.backend, t.data)}" + (f" (label {t.label!r})" if t.label
                                                           else "")
            for i, t in enumerate(tensors)]


def _forward_message(ctx, tensors, data):
    name = autodiff._op_name(ctx)
    return "\n".join(
        [f"detect_anomaly: the forward of {name!r} made values that are not finite: output "
         f"{_summary(ctx.backend, data)}"] + _context_lines(ctx)
        + ["  its inputs:"] + _input_lines(ctx, tensors) + ["  " + _CAUSES])


def _backward_message(ctx, grad, index, input_grad):
    name = autodiff._op_name(ctx)
    be = ctx.backend
    arriving = (f"  the gradient arriving from its output: {_summary(be, grad)}"
                + ("  (already not finite: it overflowed when the gradients of the output's "
                   "uses were added)" if _bad_count(be, grad) else ""))
    return "\n".join(
        [f"detect_anomaly: the backward of {name!r} gave input {index} a gradient that is not "
         f"finite: {_summary(be, input_grad)}"] + _context_lines(ctx) + [arriving]
        + ["  its inputs (forward values):"] + _input_lines(ctx, ctx.parents))


def _from_environment():
    value = os.environ.get(ENV_VAR)
    if value is None:
        return
    if value.strip().lower() in _ON:
        set_detect_anomaly(True)
    elif value.strip().lower() not in _OFF:
        raise ArgumentError(f"{ENV_VAR}={value!r} is not understood; set it to 1 to turn "
                            "anomaly mode on, or 0 (or unset it) to leave it off")


_from_environment()
