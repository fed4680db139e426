"""``tinygrad-edu gradcheck``: every differentiable op of both engines, checked and tabulated.

``CASES`` lists one small float64 computation per op: the Tensor engine's primitives, the ops
composed from them, the layers' fused op under each activation and the losses, then every op
of the scalar ``Value`` engine. ``check_cases`` runs ``gradcheck`` on each (its verdict, and its
``GradcheckError`` message on a mismatch, are what the table reports) and measures the worst
relative error of the same comparison, backward against central differences entry by entry:
``|backward - numeric| / (|numeric| + atol / rtol)``, with gradcheck's own tolerances, so an op
passes exactly when its error is at most ``rtol``.
"""

import inspect
import time
from dataclasses import dataclass

import numpy as np

from .. import cat, linear_act, stack, where
from ..activations import ACTIVATION_CODES
from ..check import GradcheckError, gradcheck
from ..nn import functional as F
from ..scalar import Value
from ..tensor import Tensor, no_grad

__all__ = ["Case", "CASES", "CaseResult", "check_cases", "format_table", "TOLERANCES"]

_DEFAULTS = inspect.signature(gradcheck).parameters
TOLERANCES = {name: _DEFAULTS[name].default for name in ("eps", "atol", "rtol")}


@dataclass(frozen=True)
class Case:
    """One op to check: ``fn(*inputs)`` with inputs drawn by ``make(rng)``; ``eps`` overrides
    the finite-difference step where float32 rounding is part of the op (a cast)."""

    engine: str
    op: str
    fn: object
    make: object
    eps: float = TOLERANCES["eps"]


def _draw(rng, shape, kind="any"):
    if kind == "positive":
        values = rng.uniform(0.5, 2.0, shape)
    elif kind == "away_from_kinks":   # |x| in [0.3, 1.5]: no kink of relu, abs, clip nearby
        values = rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    elif kind == "probability":
        values = rng.uniform(0.1, 0.9, shape)
    elif kind == "dividend":      # with a "divisor", a / b stays inside (2, 3): no jump nearby
        values = rng.uniform(2.3, 2.9, shape)
    elif kind == "divisor":
        values = rng.uniform(1.0, 1.1, shape)
    elif kind == "off_integers":  # at least 0.1 from the jumps of floor, round and sign
        values = rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape)
    else:
        values = rng.standard_normal(shape)
    return values


def _t(*shape, kind="any"):
    return lambda rng: Tensor(_draw(rng, shape, kind), requires_grad=True, dtype=np.float64)


def _inputs(*makers):
    return lambda rng: [m(rng) for m in makers]


def _fixed(array):
    return lambda rng: Tensor(np.asarray(array), dtype=np.asarray(array).dtype)


_ANY, _KINKS = "any", "away_from_kinks"
_A34, _B4 = _t(3, 4), _t(4)

TENSOR_CASES = [
    Case("Tensor", "add (broadcast)", lambda a, b: a + b, _inputs(_A34, _B4)),
    Case("Tensor", "sub (broadcast)", lambda a, b: a - b, _inputs(_A34, _t(3, 1))),
    Case("Tensor", "mul (broadcast)", lambda a, b: a * b, _inputs(_A34, _B4)),
    Case("Tensor", "div", lambda a, b: a / b, _inputs(_A34, _t(3, 4, kind="positive"))),
    Case("Tensor", "neg", lambda a: -a, _inputs(_A34)),
    Case("Tensor", "reciprocal", lambda a: a.reciprocal(), _inputs(_t(3, 4, kind=_KINKS))),
    Case("Tensor", "pow (tensor ** tensor)", lambda a, b: a ** b,
         _inputs(_t(3, 4, kind="positive"), _t(3, 4))),
    Case("Tensor", "pow (tensor ** 2.5)", lambda a: a ** 2.5, _inputs(_t(3, 4, kind="positive"))),
    Case("Tensor", "rpow (2.5 ** tensor)", lambda a: 2.5 ** a, _inputs(_A34)),
    Case("Tensor", "mod (tensor % tensor)", lambda a, b: a % b,
         _inputs(_t(3, 4, kind="dividend"), _t(3, 4, kind="divisor"))),
    Case("Tensor", "floor_divide (tensor // tensor)", lambda a, b: a // b,
         _inputs(_t(3, 4, kind="dividend"), _t(3, 4, kind="divisor"))),
    Case("Tensor", "exp", lambda a: a.exp(), _inputs(_A34)),
    Case("Tensor", "log", lambda a: a.log(), _inputs(_t(3, 4, kind="positive"))),
    Case("Tensor", "sqrt", lambda a: a.sqrt(), _inputs(_t(3, 4, kind="positive"))),
    Case("Tensor", "abs", lambda a: a.abs(), _inputs(_t(3, 4, kind=_KINKS))),
    Case("Tensor", "clip", lambda a: a.clip(-1.0, 1.0), _inputs(_t(3, 4, kind=_KINKS))),
    Case("Tensor", "sin", lambda a: a.sin(), _inputs(_A34)),
    Case("Tensor", "cos", lambda a: a.cos(), _inputs(_A34)),
    Case("Tensor", "floor (piecewise constant)", lambda a: a.floor(),
         _inputs(_t(3, 4, kind="off_integers"))),
    Case("Tensor", "round (piecewise constant)", lambda a: a.round(),
         _inputs(_t(3, 4, kind="off_integers"))),
    Case("Tensor", "sign (piecewise constant)", lambda a: a.sign(),
         _inputs(_t(3, 4, kind="off_integers"))),
    Case("Tensor", "where", lambda a, b, c: where(c, a, b),
         lambda rng: [_A34(rng), _A34(rng), _fixed(rng.uniform(size=(3, 4)) > 0.5)(rng)]),
    Case("Tensor", "cast (float64 -> float32 -> float64)", lambda a: a.float().double(),
         _inputs(_A34), eps=1e-3),
    Case("Tensor", "matmul (2-D)", lambda a, b: a @ b, _inputs(_A34, _t(4, 2))),
    Case("Tensor", "matmul (batched, broadcast)", lambda a, b: a @ b,
         _inputs(_t(2, 3, 4), _t(4, 2))),
    Case("Tensor", "matmul (matrix @ vector)", lambda a, b: a @ b, _inputs(_A34, _B4)),
    Case("Tensor", "sum (axis=0)", lambda a: a.sum(axis=0), _inputs(_A34)),
    Case("Tensor", "mean (keepdims)", lambda a: a.mean(axis=1, keepdims=True), _inputs(_A34)),
    Case("Tensor", "max (axis=1)", lambda a: a.max(axis=1), _inputs(_A34)),
    Case("Tensor", "min", lambda a: a.min(), _inputs(_A34)),
    Case("Tensor", "prod (axis=1)", lambda a: a.prod(axis=1), _inputs(_A34)),
    Case("Tensor", "cumsum (axis=1)", lambda a: a.cumsum(axis=1), _inputs(_A34)),
    Case("Tensor", "expand", lambda a: a.expand(3, 4) * Tensor(np.arange(12.0).reshape(3, 4)),
         _inputs(_t(3, 1))),
    Case("Tensor", "reshape", lambda a: a.reshape(2, 6) * Tensor(np.arange(12.0).reshape(2, 6)),
         _inputs(_A34)),
    Case("Tensor", "transpose", lambda a: a.transpose(0, 1) @ Tensor(np.ones((3, 2))),
         _inputs(_A34)),
    Case("Tensor", "contiguous (of a transposed view)", lambda a: a.T.contiguous() * 1.5,
         _inputs(_A34)),
    Case("Tensor", "indexing (slices, integer arrays)", lambda a: a[1:, np.array([0, 2, 2])],
         _inputs(_A34)),
    Case("Tensor", "gather", lambda a: a.gather(1, Tensor(np.array([[0], [3], [1]]))),
         _inputs(_A34)),
    Case("Tensor", "cat", lambda a, b: cat([a, b], axis=0), _inputs(_A34, _t(2, 4))),
    Case("Tensor", "stack", lambda a, b: stack([a, b], axis=1), _inputs(_A34, _A34)),
    Case("Tensor", "relu", lambda a: a.relu(), _inputs(_t(3, 4, kind=_KINKS))),
    Case("Tensor", "leaky_relu", lambda a: a.leaky_relu(0.1), _inputs(_t(3, 4, kind=_KINKS))),
    Case("Tensor", "prelu", lambda a, w: a.prelu(w), _inputs(_t(3, 4, kind=_KINKS), _t(1))),
    Case("Tensor", "sigmoid", lambda a: a.sigmoid(), _inputs(_A34)),
    Case("Tensor", "tanh", lambda a: a.tanh(), _inputs(_A34)),
    Case("Tensor", "gelu", lambda a: a.gelu(), _inputs(_A34)),
    Case("Tensor", "gelu (tanh approximation)", lambda a: a.gelu(approximate="tanh"),
         _inputs(_A34)),
    Case("Tensor", "silu", lambda a: a.silu(), _inputs(_A34)),
    Case("Tensor", "softmax", lambda a: a.softmax(axis=-1), _inputs(_A34)),
    Case("Tensor", "log_softmax", lambda a: a.log_softmax(axis=-1), _inputs(_A34)),
    Case("Tensor", "logsumexp", lambda a: a.logsumexp(axis=1), _inputs(_A34)),
]

# The fused layer op, once per activation code.
TENSOR_CASES += [
    Case("Tensor", f"linear_act ({name})",
         (lambda name: lambda x, w, b: linear_act(x, w, b, activation=name,
                                                  negative_slope=0.1))(name),
         _inputs(_t(3, 4), _t(4, 2), _t(2)))
    for name in ACTIVATION_CODES
]

TENSOR_CASES += [
    Case("Tensor", "mse_loss", lambda a, b: F.mse_loss(a, b), _inputs(_A34, _A34)),
    Case("Tensor", "l1_loss", lambda a, b: F.l1_loss(a, b),
         lambda rng: [_A34(rng), Tensor(_draw(rng, (3, 4)) + 3.0, requires_grad=True,
                                        dtype=np.float64)]),
    Case("Tensor", "binary_cross_entropy", lambda p, t: F.binary_cross_entropy(p, t),
         lambda rng: [_t(3, 4, kind="probability")(rng),
                      _fixed(rng.integers(0, 2, (3, 4)).astype(np.float64))(rng)]),
    Case("Tensor", "binary_cross_entropy_with_logits",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t),
         lambda rng: [_A34(rng), _fixed(rng.uniform(size=(3, 4)))(rng)]),
    Case("Tensor", "cross_entropy", lambda x, t: F.cross_entropy(x, t),
         lambda rng: [_A34(rng), _fixed(np.array([0, 3, 1]))(rng)]),
]


def _v(kind="any"):
    return lambda rng: Value(float(_draw(rng, (), kind)))


_V, _VK, _VP = _v(), _v(_KINKS), _v("positive")

VALUE_CASES = [
    Case("Value", "add", lambda a, b: a + b, _inputs(_V, _V)),
    Case("Value", "sub", lambda a, b: a - b, _inputs(_V, _V)),
    Case("Value", "mul", lambda a, b: a * b, _inputs(_V, _V)),
    Case("Value", "div", lambda a, b: a / b, _inputs(_V, _VK)),
    Case("Value", "neg", lambda a: -a, _inputs(_V)),
    Case("Value", "pow (Value ** 3)", lambda a: a ** 3, _inputs(_V)),
    Case("Value", "pow (Value ** Value)", lambda a, b: a ** b, _inputs(_VP, _V)),
    Case("Value", "rpow (2 ** Value)", lambda a: 2 ** a, _inputs(_V)),
    Case("Value", "exp", lambda a: a.exp(), _inputs(_V)),
    Case("Value", "log", lambda a: a.log(), _inputs(_VP)),
    Case("Value", "tanh", lambda a: a.tanh(), _inputs(_V)),
    Case("Value", "sigmoid", lambda a: a.sigmoid(), _inputs(_V)),
    Case("Value", "relu", lambda a: a.relu(), _inputs(_VK)),
    Case("Value", "leaky_relu", lambda a: a.leaky_relu(0.1), _inputs(_VK)),
    Case("Value", "gelu", lambda a: a.gelu(), _inputs(_V)),
    Case("Value", "silu", lambda a: a.silu(), _inputs(_V)),
]

CASES = TENSOR_CASES + VALUE_CASES


@dataclass(frozen=True)
class CaseResult:
    """``passed`` is gradcheck's verdict, ``message`` its GradcheckError text (or "")."""

    case: Case
    shapes: str
    worst_error: float
    passed: bool
    message: str
    seconds: float


def _jacobians(fn, inputs, eps):
    """``[(backward, numeric)]`` Jacobians (outputs x elements) of each differentiable input."""
    tensors = isinstance(inputs[0], Tensor)
    targets = [i for i, x in enumerate(inputs) if not tensors or x.requires_grad]
    hosts = [np.array(x.numpy()) if tensors else np.array(x.data) for x in inputs]

    def call(values):
        made = [Tensor(v, dtype=np.float64) if tensors and i in targets else
                (Value(float(v)) if not tensors else inputs[i]) for i, v in enumerate(values)]
        with no_grad():
            out = fn(*made)
        return np.ravel(out.numpy() if tensors else out.data).astype(np.float64)

    n_out = len(call(hosts))
    pairs = []
    for i in targets:
        analytic = np.empty((n_out, hosts[i].size))
        numeric = np.empty_like(analytic)
        for k in range(n_out):
            fresh = [Tensor(h, requires_grad=j in targets, dtype=h.dtype) if tensors else
                     Value(float(h)) for j, h in enumerate(hosts)]
            out = fn(*fresh)
            if tensors:
                seed = np.zeros(n_out)
                seed[k] = 1.0
                out.backward(seed.reshape(out.shape))
                grad = fresh[i].grad
                analytic[k] = 0.0 if grad is None else grad.numpy().ravel()
            else:
                out.backward()
                analytic[k] = fresh[i].grad
        for j in range(hosts[i].size):
            shifted = [h.copy() for h in hosts]
            shifted[i].flat[j] += eps
            plus = call(shifted)
            shifted[i].flat[j] -= 2 * eps
            numeric[:, j] = (plus - call(shifted)) / (2 * eps)
        pairs.append((analytic, numeric))
    return pairs


def _worst_error(pairs):
    floor = TOLERANCES["atol"] / TOLERANCES["rtol"]
    return max(float(np.max(np.abs(a - n) / (np.abs(n) + floor), initial=0.0))
               for a, n in pairs)


def check_cases(cases=CASES, seed=0):
    """Run every case; a list of ``CaseResult`` in ``cases`` order."""
    results = []
    for case in cases:
        inputs = case.make(np.random.default_rng(seed))
        shapes = ", ".join(str(x.shape) if isinstance(x, Tensor) else "scalar" for x in inputs)
        start = time.perf_counter()
        try:
            passed, message = gradcheck(case.fn, inputs, eps=case.eps), ""
        except GradcheckError as exc:
            passed, message = False, str(exc)
        worst = _worst_error(_jacobians(case.fn, inputs, case.eps))
        results.append(CaseResult(case, shapes, worst, passed, message,
                                  time.perf_counter() - start))
    return results


def format_table(results):
    """The results as a text table, then every failure's message."""
    width = max(len(r.case.op) for r in results) + 2
    lines = [f"{'engine':<8}{'op':<{width}}{'inputs':<24}{'worst rel. error':>17}  result"]
    for r in results:
        lines.append(f"{r.case.engine:<8}{r.case.op:<{width}}{r.shapes:<24}"
                     f"{r.worst_error:>17.1e}  {'ok' if r.passed else 'FAILED'}")
    failed = [r for r in results if not r.passed]
    lines.append("")
    lines.append(f"{len(results) - len(failed)} of {len(results)} ops agree with central "
                 f"differences (eps={TOLERANCES['eps']:g}, float64; relative error "
                 f"|backward - numeric| / (|numeric| + atol/rtol) <= rtol={TOLERANCES['rtol']:g}"
                 f", atol={TOLERANCES['atol']:g})")
    lines.extend(f"FAILED {r.case.engine} {r.case.op}: {r.message}" for r in failed)
    return "\n".join(lines)
