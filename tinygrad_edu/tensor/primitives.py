"""The differentiable primitives, each with its forward and backward side by side.

Everything else a Tensor can do (mean, min, softmax, log_softmax, prelu, losses, ...) is
composed from these in ``tensor.py`` and has no backward of its own. Arguments have already been
validated by the Tensor method that applies the primitive; here only the math remains.

``reads_inputs, reads_output`` on each op say which data its backward uses (the in-place write
check of ``autodiff``); ops whose output can share its input's memory are ``View``s.
"""

import numbers

from .autodiff import Function, View

__all__ = ["Add", "Sub", "Mul", "Div", "Neg", "Reciprocal", "Pow", "Mod", "Exp", "Log", "Sqrt",
           "Abs", "Sin", "Cos", "Clip", "Where", "Piecewise", "FloorDivide", "Cast", "Matmul",
           "Sum", "Max", "Min", "Prod", "Cumsum", "Reshape", "Transpose", "Expand", "Contiguous",
           "GetItem", "Cat", "Gather", "ToDevice", "Activation", "LinearAct"]


class Add(Function):
    """out = a + b;  da = g, db = g."""
    op = "add"
    reads_inputs, reads_output = (), False

    def forward(self, a, b):
        return self.backend.add(a, b)

    def backward(self, g):
        return g, g


class Mul(Function):
    """out = a * b;  da = g * b, db = g * a."""
    op = "mul"
    reads_inputs, reads_output = (0, 1), False

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.backend.mul(a, b)

    def backward(self, g):
        mul = self.backend.mul
        return (mul(g, self.b) if self.needs_input_grad[0] else None,
                mul(g, self.a) if self.needs_input_grad[1] else None)


class Sub(Function):
    """out = a - b;  da = g, db = -g."""
    op = "sub"
    reads_inputs, reads_output = (), False

    def forward(self, a, b):
        return self.backend.sub(a, b)

    def backward(self, g):
        return g, (self.backend.neg(g) if self.needs_input_grad[1] else None)


class Div(Function):
    """out = a / b;  da = g / b, db = -g * out / b."""
    op = "div"
    reads_inputs, reads_output = (1,), True

    def forward(self, a, b):
        self.b = b
        self.out = self.backend.div(a, b)
        return self.out

    def backward(self, g):
        be = self.backend
        da = be.div(g, self.b) if self.needs_input_grad[0] else None
        db = be.neg(be.div(be.mul(g, self.out), self.b)) if self.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    """out = -a;  da = -g."""
    op = "neg"
    reads_inputs, reads_output = (), False

    def forward(self, a):
        return self.backend.neg(a)

    def backward(self, g):
        return (self.backend.neg(g),)


class Reciprocal(Function):
    """out = 1 / a;  da = -g * out^2."""
    op = "reciprocal"
    reads_inputs, reads_output = (), True

    def forward(self, a):
        self.out = self.backend.reciprocal(a)
        return self.out

    def backward(self, g):
        be = self.backend
        return (be.neg(be.mul(g, be.mul(self.out, self.out))),)


class Pow(Function):
    """out = a ** b;  da = g * b * a^(b-1) (0 where b = 0), db = g * out * log(a) (0 where
    a = 0 and b >= 0; -inf * g where a = 0 and b < 0, as in PyTorch)."""
    op = "pow"

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = self.backend.pow(a, b)
        return self.out

    def backward(self, g):
        be, a, b = self.backend, self.a, self.b
        da = db = None
        if self.needs_input_grad[0]:
            d_base = be.mul(b, be.pow(a, be.add(b, -1)))
            # a^0 is constant in a; b * a^(b-1) alone would give 0 * inf = nan at a = 0.
            d_base = be.where(be.compare("equal", b, 0), 0, d_base)
            da = _as_dtype(be, be.mul(g, d_base), g.dtype)
        if self.needs_input_grad[1]:
            # 0^b is constant 0 for b > 0 (and 1 at b = 0); for b < 0 it is inf * log(0).
            at_zero = be.compare("logical_and", be.compare("equal", a, 0),
                                 be.compare("greater_equal", b, 0))
            log_a = be.where(at_zero, 0, be.log(be.where(at_zero, 1, be.abs(a))))
            # a^b is not real-differentiable in b where a < 0: report nan, as PyTorch does.
            log_a = be.where(be.compare("less", a, 0), float("nan"), log_a)
            db = _as_dtype(be, be.mul(g, be.mul(self.out, log_a)), g.dtype)
        return da, db


def _as_dtype(be, x, dtype):
    return x if x.dtype == dtype else be.cast(x, dtype)


class Mod(Function):
    """out = a mod b, with the sign of b (Python's %);  da = g, db = -g * floor(a / b)."""
    op = "mod"
    reads_inputs, reads_output = (0, 1), False

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.backend.mod(a, b)

    def backward(self, g):
        be = self.backend
        db = None
        if self.needs_input_grad[1]:
            db = be.neg(be.mul(g, be.floor_divide(self.a, self.b)))
        return g, db


class Exp(Function):
    """out = e^a;  da = g * out."""
    op = "exp"
    reads_inputs, reads_output = (), True

    def forward(self, a):
        self.out = self.backend.exp(a)
        return self.out

    def backward(self, g):
        return (self.backend.mul(g, self.out),)


class Log(Function):
    """out = ln(a);  da = g / a."""
    op = "log"
    reads_inputs, reads_output = (0,), False

    def forward(self, a):
        self.a = a
        return self.backend.log(a)

    def backward(self, g):
        return (self.backend.mul(g, self.backend.reciprocal(self.a)),)


class Sqrt(Function):
    """out = sqrt(a);  da = g / (2 out)."""
    op = "sqrt"
    reads_inputs, reads_output = (), True

    def forward(self, a):
        self.out = self.backend.sqrt(a)
        return self.out

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.reciprocal(be.add(self.out, self.out))),)


class Abs(Function):
    """out = |a|;  da = g * sign(a) (0 at a = 0)."""
    op = "abs"
    reads_inputs, reads_output = (0,), False

    def forward(self, a):
        self.a = a
        return self.backend.abs(a)

    def backward(self, g):
        return (self.backend.mul(g, self.backend.sign(self.a)),)


class Sin(Function):
    """out = sin(a);  da = g * cos(a)."""
    op = "sin"
    reads_inputs, reads_output = (0,), False

    def forward(self, a):
        self.a = a
        return self.backend.sin(a)

    def backward(self, g):
        return (self.backend.mul(g, self.backend.cos(self.a)),)


class Cos(Function):
    """out = cos(a);  da = -g * sin(a)."""
    op = "cos"
    reads_inputs, reads_output = (0,), False

    def forward(self, a):
        self.a = a
        return self.backend.cos(a)

    def backward(self, g):
        return (self.backend.neg(self.backend.mul(g, self.backend.sin(self.a))),)


class Clip(Function):
    """out = min(max(a, lo), hi);  da = g where lo <= a <= hi, else 0."""
    op = "clip"
    reads_inputs, reads_output = (0,), False

    def forward(self, a, lo=None, hi=None):
        self.a, self.lo, self.hi = a, lo, hi
        return self.backend.clip(a, lo, hi)

    def backward(self, g):
        be = self.backend
        inside = True
        if self.lo is not None:
            inside = be.compare("greater_equal", self.a, self.lo)
        if self.hi is not None:
            below = be.compare("less_equal", self.a, self.hi)
            inside = below if inside is True else be.compare("logical_and", inside, below)
        return (be.where(inside, g, g.dtype.type(0)),)


class Where(Function):
    """out = a where cond else b;  da = g where cond, db = g elsewhere."""
    op = "where"
    reads_inputs, reads_output = (0,), False

    def forward(self, cond, a, b):
        self.cond = cond
        return self.backend.where(cond, a, b)

    def backward(self, g):
        be, zero = self.backend, g.dtype.type(0)
        return (None,
                be.where(self.cond, g, zero) if self.needs_input_grad[1] else None,
                be.where(self.cond, zero, g) if self.needs_input_grad[2] else None)


class Piecewise(Function):
    """out = f(a) for a piecewise-constant backend function ``name`` (floor, round, sign);
    da = 0 (PyTorch's convention, also at the jumps)."""
    reads_inputs, reads_output = (), False

    def forward(self, a, name=""):
        self.op = name
        return getattr(self.backend, name)(a)

    def backward(self, g):
        return (self.backend.full(g.shape, 0, g.dtype),)


class FloorDivide(Function):
    """out = floor(a / b) (Python's //);  da = db = 0, as for floor."""
    op = "floor_divide"
    reads_inputs, reads_output = (), False

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return self.backend.floor_divide(a, b)

    def backward(self, g):
        return tuple(self.backend.full(shape, 0, g.dtype) if needed else None
                     for shape, needed in zip(self.shapes, self.needs_input_grad))


class Cast(Function):
    """out = a as ``dtype``;  da = g cast back to a's dtype."""
    op = "cast"
    reads_inputs, reads_output = (), False

    def forward(self, a, dtype=None):
        self.in_dtype = a.dtype
        return self.backend.cast(a, dtype)

    def backward(self, g):
        return (self.backend.cast(g, self.in_dtype),)


class Matmul(Function):
    """out = a @ b (numpy semantics: 1-D, 2-D, batched);  da = g @ b^T, db = a^T @ g."""
    op = "matmul"
    reads_inputs, reads_output = (0, 1), False
    fresh_grads = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.backend.matmul(a, b)

    def backward(self, g):
        be, a, b = self.backend, self.a, self.b
        if a.ndim == 1 and b.ndim == 1:
            return be.mul(g, b), be.mul(g, a)
        # Promote vectors to matrices as numpy's matmul does, then undo it on the grads.
        a2 = be.reshape(a, (1,) + a.shape) if a.ndim == 1 else a
        b2 = be.reshape(b, b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = be.reshape(g2, g2.shape[:-1] + (1,) + g2.shape[-1:])
        if b.ndim == 1:
            g2 = be.reshape(g2, g2.shape + (1,))
        da = db = None
        if self.needs_input_grad[0]:
            da = be.matmul(g2, _swap_last(be, b2))
            if a.ndim == 1:
                da = be.reshape(da, da.shape[:-2] + da.shape[-1:])
        if self.needs_input_grad[1]:
            db = be.matmul(_swap_last(be, a2), g2)
            if b.ndim == 1:
                db = be.reshape(db, db.shape[:-1])
        return da, db


def _swap_last(be, x):
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return be.transpose(x, axes)


class Sum(Function):
    """out = sum of a over ``axis``;  da = g broadcast back over the summed axes."""
    op = "sum"
    reads_inputs, reads_output = (), False

    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return self.backend.sum(a, axis, keepdims)

    def backward(self, g):
        be = self.backend
        if not self.keepdims:
            g = be.reshape(g, _keepdims_shape(self.in_shape, self.axis))
        return (be.broadcast_to(g, self.in_shape),)


def _keepdims_shape(shape, axis):
    return tuple(1 if axis is None or i in axis else n for i, n in enumerate(shape))


class Max(Function):
    """out = max of a over ``axis``;  da = g split evenly among the elements equal to the max."""
    op = "max"
    reads_inputs, reads_output = (), False

    def _reduce(self, a, axis):
        return self.backend.max(a, axis, True)

    def forward(self, a, axis=None, keepdims=False):
        be = self.backend
        self.axis, self.keepdims, self.in_shape = axis, keepdims, a.shape
        kept = self._reduce(a, axis)
        # Where a slice holds NaN its max is NaN, equal to nothing: the NaNs get the gradient
        # (as in PyTorch), rather than every element 0 * (1 / 0) = NaN.
        self.winners = be.compare("logical_or", be.compare("equal", a, kept),
                                  be.compare("not_equal", a, a))
        return kept if keepdims else be.reshape(kept, _reduced_shape(a.shape, axis))

    def backward(self, g):
        be = self.backend
        if not self.keepdims:
            g = be.reshape(g, _keepdims_shape(self.in_shape, self.axis))
        mask = be.cast(self.winners, g.dtype)
        count = be.sum(mask, self.axis, True)
        return (be.mul(mask, be.mul(g, be.reciprocal(count))),)


class Min(Max):
    """out = min of a over ``axis``;  da = g split evenly among the elements equal to the min."""
    op = "min"

    def _reduce(self, a, axis):
        return self.backend.min(a, axis, True)


def _reduced_shape(shape, axis):
    return tuple(n for i, n in enumerate(shape) if not (axis is None or i in axis))


class Prod(Function):
    """out = product of a over ``axis``;  da = g * (the product of the other elements): out / a
    where no element of the slice is 0 (as PyTorch computes it), else the product of the
    nonzero others at a slice's only zero, and 0 elsewhere."""
    op = "prod"
    reads_inputs, reads_output = (0,), True

    def forward(self, a, axis=None, keepdims=False):
        be = self.backend
        self.a, self.axis, self.keepdims = a, axis, keepdims
        self.kept = be.prod(a, axis, True)
        return self.kept if keepdims else be.reshape(self.kept, _reduced_shape(a.shape, axis))

    def backward(self, g):
        be, a = self.backend, self.a
        if not self.keepdims:
            g = be.reshape(g, _keepdims_shape(a.shape, self.axis))
        zero = be.compare("equal", a, 0)
        nonzero = be.where(zero, a.dtype.type(1), a)
        zeros = be.sum(be.cast(zero, a.dtype), self.axis, True)
        lone_zero = be.where(be.compare("equal", zeros, 1), be.prod(nonzero, self.axis, True),
                             a.dtype.type(0))
        others = be.where(zero, lone_zero, be.div(self.kept, nonzero))
        return (be.mul(g, others),)


class Cumsum(Function):
    """out = running sums of a along ``axis``;  da = running sums of g from the far end."""
    op = "cumsum"
    reads_inputs, reads_output = (), False

    def forward(self, a, axis=0):
        self.axis = axis
        return self.backend.cumsum(a, axis)

    def backward(self, g):
        be = self.backend
        reverse = (slice(None),) * self.axis + (slice(None, None, -1),)
        return (be.getitem(be.cumsum(be.getitem(g, reverse), self.axis), reverse),)


class Reshape(View):
    """out = a viewed with ``shape``;  da = g reshaped back."""
    op = "reshape"

    def forward(self, a, shape=None):
        self.in_shape = a.shape
        return self.backend.reshape(a, shape)

    def backward(self, g):
        return (self.backend.reshape(g, self.in_shape),)


class Transpose(View):
    """out = a with axes permuted by ``axes``;  da = g permuted back."""
    op = "transpose"

    def forward(self, a, axes=None):
        self.axes = axes
        return self.backend.transpose(a, axes)

    def backward(self, g):
        inverse = tuple(sorted(range(len(self.axes)), key=self.axes.__getitem__))
        return (self.backend.transpose(g, inverse),)


class Expand(View):
    """out = a broadcast to ``shape`` (a view);  da = g, which the engine sums back to a's shape
    (``sum_to_shape``, broadcasting's one adjoint)."""
    op = "expand"

    def forward(self, a, shape=None):
        return self.backend.broadcast_to(a, shape)

    def backward(self, g):
        return (g,)


class Contiguous(Function):
    """out = a copy of a in memory of its own (writable, whatever a's layout);  da = g."""
    op = "contiguous"
    reads_inputs, reads_output = (), False

    def forward(self, a):
        return self.backend.copy(a)

    def backward(self, g):
        return (g,)


class GetItem(View):
    """out = a[index];  da = zeros with g added at index (repeated indices accumulate)."""
    op = "getitem"

    @staticmethod
    def shares_memory(params):
        # Basic indexing (ints, slices, None, ...) gives a view; an index array, a copy.
        index = params["index"]
        parts = index if isinstance(index, tuple) else (index,)
        return all(p is None or p is Ellipsis or isinstance(p, (numbers.Integral, slice))
                   for p in parts)

    def forward(self, a, index=None):
        self.in_shape, self.index = a.shape, index
        return self.backend.getitem(a, index)

    def backward(self, g):
        return (self.backend.scatter_add(self.in_shape, self.index, g, g.dtype),)


class Cat(Function):
    """out = the inputs joined along ``axis``;  each input's grad is its slice of g."""
    op = "cat"
    reads_inputs, reads_output = (), False

    def forward(self, *arrays, axis=0):
        self.axis, self.sizes = axis, [a.shape[axis] for a in arrays]
        return self.backend.concatenate(arrays, axis)

    def backward(self, g):
        grads, start = [], 0
        lead = (slice(None),) * self.axis
        for size, needed in zip(self.sizes, self.needs_input_grad):
            grads.append(self.backend.getitem(g, lead + (slice(start, start + size),))
                         if needed else None)
            start += size
        return tuple(grads)


class Gather(Function):
    """out = a's elements at ``index`` along ``axis`` (take_along_axis);  da = zeros with g
    added at index (repeated indices accumulate)."""
    op = "gather"
    reads_inputs, reads_output = (), False

    def forward(self, a, index=None, axis=-1):
        self.in_shape, self.index, self.axis = a.shape, index, axis
        return self.backend.gather(a, index, axis)

    def backward(self, g):
        return (self.backend.scatter_add_along(self.in_shape, self.index, g, self.axis),)


class ToDevice(Function):
    """out = a's values on ``device``;  da = g moved back to a's device."""
    op = "to_device"
    reads_inputs, reads_output = (), False

    @classmethod
    def apply(cls, tensor, device=None):
        out = super().apply(tensor, device=device)
        out._device = device   # the one op whose output lives on another device
        return out

    def forward(self, a, device=None):
        self.target = device.backend
        return self.target.asarray(self.backend.to_numpy(a), a.dtype)

    def backward(self, g):
        return (self.backend.asarray(self.target.to_numpy(g), g.dtype),)


class Activation(Function):
    """out = f(a) for an activation code of the registry (``activations``);  da = g * f'(a)."""

    reads_inputs, reads_output = (0,), True

    def forward(self, a, code=0, slope=0.0, name=""):
        self.op, self.code, self.slope = name, code, slope
        self.a = a
        self.out = self.backend.activation(code, a, slope)
        return self.out

    def backward(self, g):
        return (self.backend.activation_backward(self.code, self.a, self.out, g, self.slope),)

    def details(self):
        return {"activation": self.op, "preactivation": _shown(self, self.a)}


class LinearAct(Function):
    """out = f(x @ w + b), the fused layer;  one backend call each way.

    ``details()`` shows the activation's name and the pre-activation ``z = x @ w + b``.
    """
    op = "linear_act"
    reads_inputs, reads_output = (0, 1), True
    fresh_grads = True

    def forward(self, x, w, b=None, code=0, slope=0.0, name="identity"):
        self.activation, self.code, self.slope = name, code, slope
        self.x, self.w, self.has_bias = x, w, b is not None
        self.out, self.preactivation = self.backend.linear_act_forward(x, w, b, code, slope)
        return self.out

    def backward(self, g):
        dx, dw, db = self.backend.linear_act_backward(
            self.x, self.w, self.preactivation, self.out, g, self.code, self.slope,
            self.has_bias and self.needs_input_grad[2], needs_x=self.needs_input_grad[0])
        return (dx, dw, db) if self.has_bias else (dx, dw)

    def details(self):
        return {"activation": self.activation, "preactivation": _shown(self, self.preactivation)}


def _shown(node, array):
    """``array``, saved by ``node``'s forward, as a Tensor outside the graph (for drawings)."""
    return node.parents[0]._op_result(array, node.parents[0]._device, False)
