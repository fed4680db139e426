"""Check backward against central finite differences, for Tensor and Value functions.

``gradcheck`` first compares the whole function's Jacobian. When an entry disagrees it looks for
the op to blame: it checks every op of the graph on its own, in forward order, against finite
differences at the values that op saw in the forward pass, and the ``GradcheckError`` names the
first one whose backward is wrong (``err.node``, ``err.op_mismatch``). A learner who wrote a
custom op is pointed at it, not at an element of the whole function's input.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, DTypeError, GradError
from ..graph import topological_order
from ..scalar.value import Value
from ..tensor import Tensor
from ..tensor.autodiff import sum_to_shape
from ..tensor.context import no_grad

__all__ = ["gradcheck", "GradcheckError", "OpMismatch"]


@dataclass(frozen=True)
class OpMismatch:
    """Where one op's own backward disagrees with finite differences of that op alone.

    ``op`` is the op's name, ``position`` its place (from 1) among the ``op_count`` ops of the
    graph in forward order, ``input_shapes`` the shapes of its inputs (``()`` for a Value's).
    The worst entry of its Jacobian is d out[``output_element``] / d input ``input``
    [``element``]: backward gives ``computed`` (a Value op's ``local_grads``), finite differences
    give ``expected``; ``differing`` of its ``entries`` entries disagree. For a Value op whose
    inputs always move together (``x * x``), ``input`` is None and the two numbers are the
    op's total change per unit change of the function's input ``along``.
    """

    op: str
    position: int
    op_count: int
    input_shapes: tuple
    input: object
    element: tuple
    output_element: tuple
    computed: float
    expected: float
    differing: int
    entries: int
    along: object = None

    def describe(self):
        """One sentence for a learner: which op, where, and the two numbers."""
        where = f"op {self.position} of {self.op_count} in forward order"
        if self.input is None:
            what = (f"moving the function's input {self.along} moves its output by "
                    f"{self.computed!r} per unit according to its local derivatives, by "
                    f"{self.expected!r} according to finite differences")
        elif self.element == () and self.output_element == ():
            what = (f"its local derivative d out / d input {self.input} is {self.computed!r}, "
                    f"finite differences give {self.expected!r}")
        else:
            shapes = ", ".join(str(s) for s in self.input_shapes)
            where += f", inputs of shape {shapes}"
            what = (f"its backward gives d out{_index(self.output_element)} / d input "
                    f"{self.input}{_index(self.element)} = {self.computed!r}, finite "
                    f"differences of that op alone give {self.expected!r}")
        return (f"the op to blame is {self.op!r} ({where}): {what} ({self.differing} of "
                f"{self.entries} entries differ; every op before it agrees with finite "
                "differences on its own)")


class GradcheckError(GradError):
    """backward's gradient disagrees with the finite-difference estimate.

    About the whole function: ``input`` (its index in ``inputs``), ``element`` (of that input),
    ``output_element`` (flat index into the output), ``computed`` (backward) and ``expected``
    (finite differences) for the first entry that differs. About the op to blame: ``root``, the
    output of ``fn`` whose graph was checked op by op; ``node``, the first op of that graph in
    forward order whose own backward is wrong (a Tensor's ``grad_fn``, or the Value a scalar
    op made), with ``op_mismatch`` (an ``OpMismatch``); both None when every op agrees on its
    own. ``draw_graph(err.root, highlight=err)`` draws the graph with that op marked.
    """

    def __init__(self, message, *, input=None, element=(), output_element=None, computed=None,
                 expected=None, root=None, node=None, op_mismatch=None):
        super().__init__(message)
        self.input, self.element, self.output_element = input, element, output_element
        self.computed, self.expected = computed, expected
        self.root, self.node, self.op_mismatch = root, node, op_mismatch


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare the full Jacobian of ``fn(*inputs)`` from backward with central differences.

    ``inputs`` is a sequence of float64 Tensors with ``requires_grad=True`` (others are held
    constant) or of Values. float32 inputs are refused: finite differences with eps=1e-6 drown
    in float32 rounding, so create the inputs with ``dtype=np.float64`` (or ``.double()``).
    Each entry is checked with ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns True when all entries agree. Otherwise raises ``GradcheckError`` naming the input,
    the element, the output element and both values, and then the first op (in forward order)
    whose own backward disagrees with finite differences of that op alone: its name, input
    shapes, worst entry and both values. With ``raise_exception=False`` it returns False
    instead (and skips the search for the op).

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
        bad = _differ(analytic[i], numeric[i], atol, rtol)
        if not bad.any():
            continue
        if not raise_exception:
            return False
        out_idx, in_idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
        shape = inputs[i].shape if isinstance(inputs[i], Tensor) else ()
        element = tuple(int(e) for e in np.unravel_index(in_idx, shape)) if shape else ()
        computed = float(analytic[i][out_idx, in_idx])
        expected = float(numeric[i][out_idx, in_idx])
        message = (f"gradcheck: gradient mismatch for input {i} at element {element} (output "
                   f"element {int(out_idx)}): backward gives {computed!r}, finite differences "
                   f"give {expected!r} (eps={eps}, atol={atol}, rtol={rtol}); "
                   f"{int(bad.sum())} of {bad.size} entries differ")
        root, node, found = _find_wrong_op(fn, inputs, eps, atol, rtol)
        message += ".\n" + (found.describe() if found else _NO_OP_TO_BLAME)
        raise GradcheckError(message, input=i, element=element, output_element=int(out_idx),
                             computed=computed, expected=expected, root=root, node=node,
                             op_mismatch=found)
    return True


_NO_OP_TO_BLAME = (
    "Every op agrees with finite differences on its own, so no single backward is to blame: "
    "look for a kink the inputs sit on (relu or abs at 0, ties in max, the bounds of clip), "
    "an input changed in place inside fn, or a step computed in float32")


def _differ(analytic, numeric, atol, rtol):
    bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
    return bad | (np.isnan(analytic) != np.isnan(numeric))


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
            be = inputs[i]._device.backend
            numeric[i] = _central_differences(
                be, inputs[i], lambda: np.array(fn(*inputs).numpy(), dtype=np.float64), eps)
    return analytic, numeric, targets


def _central_differences(be, tensor, evaluate, eps):
    """d evaluate() / d tensor as a (outputs, elements) array, changing ``tensor`` in place.

    Each element is changed through the backend (in C order, like ravel), so ``evaluate`` sees
    the perturbed tensor itself, non-contiguous or on a device; it is restored afterwards.
    """
    host = np.array(tensor.numpy())   # the original values, read once
    columns = []
    for element in np.ndindex(host.shape):
        original = host[element]
        be.setitem_(tensor.data, element, original + eps)
        plus = evaluate().ravel()
        be.setitem_(tensor.data, element, original - eps)
        minus = evaluate().ravel()
        be.setitem_(tensor.data, element, original)
        columns.append((plus - minus) / (2 * eps))
    if not columns:   # an empty input: no column, but the output still has its rows
        return np.zeros((evaluate().size, 0))
    return np.stack(columns, axis=1)


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


# ---- finding the op to blame ----

def _find_wrong_op(fn, inputs, eps, atol, rtol):
    """``(root, node, OpMismatch)`` for the first op of ``fn(*inputs)``'s graph, in forward
    order, whose backward disagrees with finite differences; node and mismatch are None when
    every op agrees."""
    root = fn(*inputs)
    if isinstance(root, Value):
        node, found = _first_wrong_value_op(fn, inputs, root, eps, atol, rtol)
        return root, node, found
    ops = [t for t in topological_order(root, lambda t: t.inputs) if t.grad_fn is not None]
    for position, t in enumerate(ops, 1):
        found = _check_tensor_op(t, position, len(ops), eps, atol, rtol)
        if found is not None:
            return root, t.grad_fn, found
    return root, None, None


def _check_tensor_op(t, position, op_count, eps, atol, rtol):
    """An ``OpMismatch`` when the op that made ``t`` has a wrong backward at its inputs' values,
    else None. Its local Jacobian comes from one backward call per output element and, by
    central differences, from re-running its forward alone (``recompute``) on perturbed
    copies of its inputs."""
    node = t.grad_fn
    be, inputs = node.backend, node.inputs
    targets = [i for i, x in enumerate(inputs) if x.requires_grad]
    # In float32 the differences drown in rounding (a cast inside fn, say): nothing to check.
    if t.dtype != np.float64 or any(inputs[i].dtype != np.float64 for i in targets):
        return None
    n_out = t.numel()
    analytic = {i: np.zeros((n_out, inputs[i].numel())) for i in targets}
    for k in range(n_out):
        seed = np.zeros(n_out)
        seed[k] = 1
        grads = node.backward(Tensor(seed.reshape(t.shape), dtype=t.dtype, device=t.device).data)
        for i in targets:
            g = grads[i]
            if g is not None:
                g = sum_to_shape(be, g, inputs[i].shape)
                analytic[i][k] = np.asarray(be.to_numpy(g), dtype=np.float64).ravel()
    with no_grad():
        for i in targets:
            probe = Tensor(inputs[i].numpy(), dtype=np.float64, device=inputs[i].device)
            args = inputs[:i] + (probe,) + inputs[i + 1:]
            numeric = _central_differences(
                be, probe, lambda: np.array(node.recompute(*args).numpy(), dtype=np.float64),
                eps)
            bad = _differ(analytic[i], numeric, atol, rtol)
            if not bad.any():
                continue
            gap = np.where(bad, np.abs(analytic[i] - numeric), -1.0)
            gap[np.isnan(gap)] = np.inf
            out_idx, in_idx = np.unravel_index(int(np.argmax(gap)), gap.shape)
            return OpMismatch(
                op=node.op, position=position, op_count=op_count,
                input_shapes=tuple(x.shape for x in inputs), input=i,
                element=_unravel(in_idx, inputs[i].shape),
                output_element=_unravel(out_idx, t.shape),
                computed=float(analytic[i][out_idx, in_idx]),
                expected=float(numeric[out_idx, in_idx]),
                differing=int(bad.sum()), entries=bad.size)
    return None


def _first_wrong_value_op(fn, inputs, root, eps, atol, rtol):
    """The first Value op (in forward order) whose ``local_grads`` disagree with finite
    differences, with its ``OpMismatch``; ``(None, None)`` when all agree.

    A scalar op keeps no forward to re-run, so its local derivatives are checked where it sits:
    moving the function's input j by finite differences moves the op's inputs by du_i and its
    output by dv, and the chain rule for this op alone says dv = sum_i local_i * du_i. The
    graph is rebuilt for each moved input, so both sides are finite differences of the real
    computation; an op whose local derivatives are wrong is the first to break that equation.
    """
    nodes = topological_order(root, lambda v: v.inputs)
    index = {v: k for k, v in enumerate(nodes)}
    structure = _structure(nodes)
    moves = np.full((len(nodes), len(inputs)), np.nan)   # d node.data / d inputs[j]
    for j, x in enumerate(inputs):
        original, data = x.data, []
        for step in (eps, -eps):
            x.data = original + step
            side = topological_order(fn(*inputs), lambda v: v.inputs)
            if _structure(side) != structure:   # a branch flipped: this input tells nothing
                break
            data.append(np.array([v.data for v in side]))
        x.data = original
        if len(data) == 2:
            moves[:, j] = (data[0] - data[1]) / (2 * eps)
    ops = [v for v in nodes if v.inputs]
    for position, v in enumerate(ops, 1):
        found = _check_value_op(v, index, moves, position, len(ops), atol, rtol)
        if found is not None:
            return v, found
    return None, None


def _structure(nodes):
    index = {v: k for k, v in enumerate(nodes)}
    return [(v.op, tuple(index[u] for u in v.inputs)) for v in nodes]


def _check_value_op(v, index, moves, position, op_count, atol, rtol):
    # An input used twice (x * x) is one input of the op's function: its derivative is the sum.
    distinct = list(dict.fromkeys(v.inputs))
    local = np.array([sum(g for u, g in zip(v.inputs, v.local_grads) if u is w)
                      for w in distinct], dtype=np.float64)
    du = moves[[index[u] for u in distinct]].T          # (function inputs, op inputs)
    dv = moves[index[v]]
    usable = ~np.isnan(dv) & ~np.isnan(du).any(axis=1)
    du, dv = du[usable], dv[usable]
    predicted = du @ local
    bad = _differ(predicted, dv, atol, rtol)
    if not bad.any():
        return None
    common = dict(op=v.op, position=position, op_count=op_count,
                  input_shapes=tuple(() for _ in v.inputs), element=(), output_element=())
    if np.linalg.matrix_rank(du) == len(distinct):
        # Every input moves on its own somewhere: solve for the true local derivatives.
        expected = np.linalg.lstsq(du, dv, rcond=None)[0]
        wrong = _differ(local, expected, atol, rtol)
        if wrong.any():
            worst = int(np.argmax(np.where(wrong, np.abs(local - expected), -1.0)))
            return OpMismatch(input=v.inputs.index(distinct[worst]),
                              computed=float(local[worst]), expected=float(expected[worst]),
                              differing=int(wrong.sum()), entries=len(distinct), **common)
    worst = int(np.argmax(np.where(bad, np.abs(predicted - dv), -1.0)))
    along = int(np.flatnonzero(usable)[worst])
    return OpMismatch(input=None, along=along, computed=float(predicted[worst]),
                      expected=float(dv[worst]), differing=int(bad.sum()), entries=bad.size,
                      **common)


def _unravel(flat, shape):
    return tuple(int(e) for e in np.unravel_index(int(flat), shape)) if shape else ()


def _index(element):
    return f"[{', '.join(map(str, element))}]" if element else ""
