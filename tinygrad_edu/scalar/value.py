"""The scalar engine: one ``Value`` node per number, for seeing backpropagation step by step.

Every operation computes its result and, beside it, the local derivative of the result with
respect to each input (d out / d input). ``backward()`` then applies the chain rule along the
graph: each node's gradient is the sum over its uses of (gradient of the use) x (local
derivative). Keeping the local derivatives on the node makes the chain rule visible and makes
backward a plain loop with no closures.

>>> x = Value(2.0, label="x"); y = (x * x + 1).tanh(); y.backward(); round(x.grad, 6)
0.000726
"""

import itertools
import math
import numbers
import operator
import warnings

from .. import activations as sm
from ..errors import ArgumentError, DTypeError, NonFiniteValueWarning

__all__ = ["Value", "zero_grad", "set_anomaly_hook"]


def _as_value(other, op):
    if isinstance(other, Value):
        return other
    if type(other) is float or type(other) is int or (
            isinstance(other, numbers.Real) and not isinstance(other, bool)):
        return Value(other)
    raise DTypeError(f"Value {op}: expected a Value or a real number, got "
                     f"{type(other).__name__} {other!r}")


class Value:
    """A scalar that remembers how it was computed.

    Attributes: ``data`` (float), ``grad`` (float, d root / d self after ``root.backward()``),
    ``label`` (optional name for graph drawings). The graph, read-only (the public graph
    protocol that drawings use, see ``tinygrad_edu.graph``): ``op`` (the op name, ``""`` for a
    leaf), ``inputs`` (the input Values) and ``local_grads`` (d self / d each input, in
    ``inputs`` order).

    Comparisons (``<``, ``<=``, ``>``, ``>=``) compare ``data`` so Values sort; they are not
    differentiable. ``==`` is identity, so Values can be dict keys and set members.
    """

    # _seq numbers Values in creation order; _pending holds the gradient being accumulated
    # during one backward pass; _origin, where the op was called (set by detect_anomaly only).
    __slots__ = ("data", "grad", "label", "_prev", "_local_grads", "_op", "_seq", "_pending",
                 "_origin")

    def __init__(self, data, label=""):
        if type(data) is not float and (isinstance(data, (Value, bool))
                                        or not isinstance(data, numbers.Real)):
            raise DTypeError(f"Value: data must be a real number, got {type(data).__name__} "
                             f"{data!r}")
        self.data = float(data)
        self.grad = 0.0
        self.label = str(label)
        self._prev = ()
        self._local_grads = ()
        self._op = ""
        self._seq = next(_creation_counter)

    op = property(lambda self: self._op, doc="Name of the op that made this Value; '' for a leaf.")
    inputs = property(lambda self: self._prev, doc="The Values this one was computed from.")
    local_grads = property(lambda self: self._local_grads,
                           doc="d self / d input for each of ``inputs``, in the same order.")

    # ---- arithmetic: value and local derivatives side by side ----
    def __add__(self, other):
        other = _as_value(other, "+")
        return _result(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other):
        other = _as_value(other, "-")
        return _result(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other):
        other = _as_value(other, "*")
        return _result(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other):
        other = _as_value(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(f"Value /: division of {self.data!r} by zero")
        inv = 1.0 / other.data
        return _result(self.data * inv, (self, other), (inv, -self.data * inv * inv), "/")

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        n = _as_value(exponent, "**").data
        out = self._real_pow(n)
        local = 0.0 if n == 0 else n * self._real_pow(n - 1)
        return _result(out, (self,), (local,), f"**{n:g}")

    def _pow_value(self, exponent):
        b = exponent.data
        out = self._real_pow(b)
        d_base = 0.0 if b == 0 else b * self._real_pow(b - 1)
        if self.data > 0:
            d_exponent = out * math.log(self.data)
        elif self.data == 0 and b >= 0:
            d_exponent = 0.0  # a^b is flat in b at a = 0, as in PyTorch
        else:
            d_exponent = math.nan  # a^b is not real-differentiable in b for a < 0
        return _result(out, (self, exponent), (d_base, d_exponent), "**")

    def _real_pow(self, b):
        if self.data == 0 and b < 0:
            # math.pow raises here; IEEE pow and PyTorch give inf, which keeps the derivative
            # of x ** 0.5 at x = 0 (0.5 * 0 ** -0.5) usable instead of an error.
            return math.inf
        try:
            return math.pow(self.data, b)
        except (ValueError, ZeroDivisionError):
            raise ArgumentError(f"Value **: {self.data!r} ** {b!r} is not a real number") from None
        except OverflowError:
            return math.inf

    def __neg__(self):
        return _result(-self.data, (self,), (-1.0,), "neg")

    def __radd__(self, other):
        return _as_value(other, "+") + self

    def __rsub__(self, other):
        return _as_value(other, "-") - self

    def __rmul__(self, other):
        return _as_value(other, "*") * self

    def __rtruediv__(self, other):
        return _as_value(other, "/") / self

    def __rpow__(self, base):
        return _as_value(base, "**") ** self

    # ---- elementary functions ----
    def exp(self):
        """e^x; d/dx = e^x."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            out = math.inf
        return _result(out, (self,), (out,), "exp")

    def log(self):
        """Natural log; d/dx = 1/x. Raises ValueError for x <= 0."""
        if self.data <= 0:
            raise ArgumentError(f"Value log: log of non-positive number {self.data!r}")
        return _result(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def _activation(self, code, name, slope=0.0):
        out = sm.activate(code, self.data, slope)
        return _result(out, (self,), (sm.derivative(code, self.data, out, slope),), name)

    def tanh(self):
        """tanh(x); d/dx = 1 - tanh(x)^2."""
        return self._activation(sm.TANH, "tanh")

    def sigmoid(self):
        """1 / (1 + e^-x); d/dx = s(1 - s)."""
        return self._activation(sm.SIGMOID, "sigmoid")

    def relu(self):
        """max(0, x); d/dx = 1 for x > 0 else 0."""
        return self._activation(sm.RELU, "relu")

    def leaky_relu(self, negative_slope=0.01):
        """x for x > 0 else negative_slope * x."""
        return self._activation(sm.LEAKY_RELU, "leaky_relu", float(negative_slope))

    def gelu(self):
        """Exact GELU, x * Phi(x) with Phi the standard normal CDF (erf-based)."""
        return self._activation(sm.GELU, "gelu")

    def silu(self):
        """x * sigmoid(x), also called swish."""
        return self._activation(sm.SILU, "silu")

    # ---- an op of your own ----
    @staticmethod
    def custom(data, inputs, local_grads, op):
        """The Value an op of your own makes: its number ``data`` and, beside it, d data / d
        each of ``inputs`` (one or two Values) in ``local_grads``, as every op above does.
        ``op`` names it in drawings and errors; ``backward()`` and ``gradcheck`` treat it like
        a built-in op.

        >>> def cube(x):
        ...     return Value.custom(x.data ** 3, (x,), (3 * x.data ** 2,), op="cube")
        >>> x = Value(2.0); y = cube(x); y.backward(); (y.data, x.grad)
        (8.0, 12.0)
        """
        if not isinstance(op, str) or not op:
            raise DTypeError(f"Value.custom: op must be a non-empty name, got {op!r}")
        if not isinstance(inputs, (tuple, list)) or not isinstance(local_grads, (tuple, list)):
            raise DTypeError(f"Value.custom ({op}): inputs and local_grads must be tuples, "
                             f"e.g. (x,) and (3 * x.data ** 2,), got {inputs!r} and "
                             f"{local_grads!r}")
        inputs, local_grads = tuple(inputs), tuple(local_grads)
        if len(inputs) not in (1, 2):
            raise ArgumentError(f"Value.custom ({op}): an op takes one or two inputs, got "
                                f"{len(inputs)}; write an op of more inputs as several ops")
        if not all(isinstance(v, Value) for v in inputs):
            raise DTypeError(f"Value.custom ({op}): inputs must be Values, got {inputs!r}; "
                             "wrap a number as Value(number)")
        if len(local_grads) != len(inputs):
            raise ArgumentError(f"Value.custom ({op}): {len(inputs)} input(s) need as many "
                                f"local_grads, got {len(local_grads)}: {local_grads!r}")
        if not all(isinstance(x, numbers.Real) and not isinstance(x, bool)
                   for x in (data,) + local_grads):
            raise DTypeError(f"Value.custom ({op}): data and local_grads must be real numbers "
                             f"(use x.data for a Value's number), got data={data!r}, "
                             f"local_grads={local_grads!r}")
        return _result(float(data), inputs, tuple(float(g) for g in local_grads), op)

    # ---- comparisons for sorting (not differentiable) ----
    def __lt__(self, other):
        return self.data < _as_value(other, "<").data

    def __le__(self, other):
        return self.data <= _as_value(other, "<=").data

    def __gt__(self, other):
        return self.data > _as_value(other, ">").data

    def __ge__(self, other):
        return self.data >= _as_value(other, ">=").data

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __float__(self):
        return self.data

    def __repr__(self):
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- backpropagation ----
    def backward(self):
        """Add d self / d node to ``node.grad`` for every node this Value depends on.

        Gradients accumulate: calling ``backward()`` twice doubles every ``grad``. Call
        ``zero_grad()`` (or ``tinygrad_edu.value.zero_grad(params)``) between steps.
        The graph walk is iterative, so graphs of any depth work. A NaN or infinite root gets
        a NonFiniteValueWarning (its gradients will not be finite either).
        """
        if not math.isfinite(self.data):
            warnings.warn(f"Value.backward: the root is {self.data} (not finite), so the "
                          "gradients will be NaN or infinite too; find the op that made the "
                          "first non-finite value with tinygrad_edu.detect_anomaly()",
                          NonFiniteValueWarning, stacklevel=2)
        order = _reachable(self)
        # An op's result is always created after its inputs, so creation order is a
        # topological order; sorting by it is much cheaper in Python than a depth-first
        # post-order, and the scalar engine walks one node per number.
        order.sort(key=_creation_number)
        for node in order:
            node._pending = 0.0
        self._pending = 1.0
        if _anomaly is not None:
            _backward_checked(order, _anomaly)
            return
        # Reverse topological order: every use of a node is visited before the node itself,
        # so its pending gradient is complete when it is passed on to its inputs. Every op has
        # one or two inputs; spelling both cases out halves the time of this hot loop.
        for node in reversed(order):
            upstream = node._pending
            node.grad += upstream
            inputs = node._prev
            if inputs:
                local = node._local_grads
                inputs[0]._pending += upstream * local[0]
                if len(inputs) == 2:
                    inputs[1]._pending += upstream * local[1]

    def zero_grad(self):
        """Set ``grad`` to 0 on this Value and on every Value it depends on."""
        zero_grad(_reachable(self))


def _make_result(data, prev, local_grads, op):
    """A Value computed by ``op`` from ``prev`` (one or two inputs), with d data / d each input
    in ``local_grads``.

    Ops build their results here, not through ``__init__``: the data is already a float, and
    skipping the checks keeps the engine fast.
    """
    node = _new_value(Value)
    node.data, node.grad, node.label = data, 0.0, ""
    node._prev, node._local_grads, node._op = prev, local_grads, op
    node._seq = next(_creation_counter)
    return node


_new_value = object.__new__
_creation_counter = itertools.count()
_creation_number = operator.attrgetter("_seq")

# Every op builds its result through this name: _make_result normally, _checked_result while
# detect_anomaly is on (so the engine pays nothing for the mode when it is off).
_result = _make_result
_anomaly = None


def set_anomaly_hook(hook):
    """Install ``hook`` (an object with ``value_forward(node)``, called on every new op result,
    and ``value_backward(node, index, upstream)``, called when a gradient contribution is not
    finite), or None to remove it; returns the previous one. ``tinygrad_edu.detect_anomaly``
    is the user's way to this."""
    global _result, _anomaly
    previous, _anomaly = _anomaly, hook
    _result = _make_result if hook is None else _checked_result
    return previous


def _checked_result(data, prev, local_grads, op):
    node = _make_result(data, prev, local_grads, op)
    if _anomaly is not None:
        _anomaly.value_forward(node)
    return node


def _backward_checked(order, hook):
    """The backward loop of ``Value.backward``, handing the first contribution that is not
    finite (upstream gradient x local derivative) to ``hook``."""
    for node in reversed(order):
        upstream = node._pending
        node.grad += upstream
        for index, (parent, local) in enumerate(zip(node._prev, node._local_grads)):
            contribution = upstream * local
            if not math.isfinite(contribution):
                hook.value_backward(node, index, upstream)
            parent._pending += contribution


def _reachable(root):
    """Every Value ``root`` depends on, ``root`` included (iteratively, in no set order)."""
    seen, stack = {root}, [root]
    while stack:
        for parent in stack.pop()._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return list(seen)


def zero_grad(values):
    """Set ``grad`` to 0 on each Value in ``values``."""
    for v in values:
        v.grad = 0.0
