"""``Tensor``: an n-dimensional array that records the operations applied to it.

Each op validates its arguments (so mistakes get a message naming the op, the shapes and what
was expected), then applies a primitive from ``primitives.py`` or composes several. ``backward()``
walks the recorded graph in reverse topological order, iteratively.
"""

import math
import numbers
import warnings

import numpy as np

from ..backends import Device, get_device
from ..errors import (ArgumentError, ArgumentTypeError, AxisError, DTypeError, GradError,
                      NonFiniteValueWarning, ShapeError)
from . import primitives
from .autodiff import backpropagate, mark_written, share_write_stamp
from .creation import TensorCreation
from .elementwise import TensorElementwise
from .nonlinear import TensorActivations
from .reductions import TensorReductions
from .shape import TensorShapeOps
from .validation import (as_numpy_array, axis_spellings, broadcast_shape, check_dtype,
                         check_values, normalize_axis)

__all__ = ["Tensor"]

class Tensor(TensorCreation, TensorShapeOps, TensorElementwise, TensorReductions,
             TensorActivations):
    """An n-dimensional array with reverse-mode autodiff.

    ``Tensor(data, requires_grad=False, dtype=None, device="cpu", label="")``. ``data`` may be a
    number, nested lists, a numpy array or a Tensor; it is copied. Python floats become float32
    and Python ints int64; a numpy array keeps its dtype (float32, float64, ints, bool);
    ``dtype=`` overrides. Only floating tensors can require grad.

    ``.data`` is the underlying array (shared: ``t.data[...] = x`` changes ``t``). Change
    values in place with ``t.copy_(x)``: backward then refuses ops that used the old values,
    which it cannot do for writes straight into ``.data``.
    ``.grad`` is a Tensor of the same shape after ``backward()``, or None.
    ``label`` names the tensor in graph drawings.

    >>> x = Tensor([1.0, 2.0], requires_grad=True); (x * x).sum().backward(); x.grad
    Tensor([2., 4.], dtype=float32)
    """

    # _version: the in-place write stamp (see autodiff.mark_written), None until written.
    __slots__ = ("data", "grad", "requires_grad", "label", "_ctx", "_device", "_scope",
                 "_version", "__weakref__")
    # numpy defers to our reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, device="cpu", label=""):
        dev = get_device(device)
        array = as_numpy_array(data.numpy() if isinstance(data, Tensor) else data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise DTypeError(f"Tensor: only floating tensors can require grad, got dtype "
                             f"{array.dtype}; pass dtype=float32 or float64")
        self.data = dev.backend.asarray(array, array.dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.label = str(label)
        self._ctx = None
        self._device = dev
        self._scope = ()
        self._version = None

    @classmethod
    def _wrap(cls, data, device, requires_grad=False):
        """A Tensor around an array the engine just made (no copy, no validation)."""
        t = object.__new__(cls)
        t.data, t.grad, t.requires_grad, t.label = data, None, requires_grad, ""
        t._ctx, t._device, t._scope, t._version = None, device, (), None
        return t

    @staticmethod
    def _op_result(data, device, requires_grad):
        """The plain Tensor an op returns, whatever its inputs' class (ops on Parameters give
        Tensors). ``Function.apply`` reaches it through an input, so it imports no Tensor."""
        t = object.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t.label = data, None, requires_grad, ""
        t._ctx, t._device, t._scope, t._version = None, device, (), None
        return t

    def _const(self, value, dtype):
        return Tensor._wrap(self._device.backend.asarray(np.asarray(value, dtype), dtype),
                            self._device)

    # ---- attributes and conversions ----
    shape = property(lambda self: tuple(self.data.shape), doc="Tuple of dimension sizes.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="numpy dtype of the elements.")
    device = property(lambda self: self._device.name, doc="Name of the device ('cpu').")

    # ---- the public graph protocol (see tinygrad_edu.graph): what drawings and tools read ----
    grad_fn = property(lambda self: self._ctx,
                       doc="The op node (a ``Function``) that made this tensor, or None for a "
                           "leaf or a result computed without recording (``no_grad``).")
    op = property(lambda self: self._ctx.op if self._ctx else "",
                  doc="Name of the op that made this tensor; '' when ``grad_fn`` is None.")
    inputs = property(lambda self: self._ctx.inputs if self._ctx else (),
                      doc="The tensors the op that made this one read, in order; () for a leaf.")
    scope = property(lambda self: self._scope,
                     doc="The nn modules whose forward was running when this tensor was made, "
                         "outermost first (() outside any module).")

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (inputs, parameters)."""
        return self._ctx is None

    def numel(self):
        """Number of elements."""
        return int(self.data.size)

    size = property(lambda self: _SizeMethod(self),
                    doc="PyTorch's ``size()`` (the shape) and ``size(dim)``. numpy's ``a.size`` "
                        "(the element count) is ``numel()`` here; ``t.size`` used as a number "
                        "raises, saying so.")

    def dim(self):
        """Number of dimensions (PyTorch's name for ``ndim``)."""
        return self.ndim

    def numpy(self):
        """The values as a numpy array (shared with the tensor on the CPU)."""
        # A full reduction's result is a numpy scalar on the CPU backends: made a 0-d array
        # here, so that .numpy() and np.asarray(t) give an array for every tensor.
        return np.asarray(self._device.backend.to_numpy(self.data))

    def item(self):
        """The single value as a Python number; error unless the tensor has one element."""
        if self.numel() != 1:
            raise ShapeError(f"item: only one-element tensors convert to a Python number, got "
                             f"shape {self.shape}")
        return self.numpy().item()

    def tolist(self):
        """The values as nested Python lists."""
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() / .all() on .numpy(), or .item()")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(", precision=4,
                               threshold=64, edgeitems=3)
        extras = [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extras.append(f"device={self.device!r}")
        if self._ctx is not None:
            extras.append(f"op={self.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"Tensor({body}, {', '.join(extras)})"

    def copy_(self, src):
        """Overwrite this tensor's values in place with ``src`` (a Tensor, numpy array, nested
        list or number), broadcast to this tensor's shape and converted to its dtype and device;
        returns self. Not recorded in the graph: use it to set parameters, as PyTorch users do
        under ``no_grad``. An op that used the old values can no longer backpropagate (its
        ``backward()`` raises GradError) instead of giving gradients of values it never saw.

        >>> layer.bias.copy_([0.5, -0.5])   # doctest: +SKIP
        """
        be = self._device.backend
        if isinstance(src, Tensor):
            if src._device is not self._device:
                src = src.detach().to(self._device)
            array = src.data if src.dtype == self.dtype else be.cast(src.data, self.dtype)
        else:
            array = be.asarray(as_numpy_array(src, self.dtype), self.dtype)
        if tuple(array.shape) != self.shape:
            if broadcast_shape("copy_", array.shape, self.shape) != self.shape:
                raise ShapeError(f"copy_: a source of shape {tuple(array.shape)} cannot fill a "
                                 f"tensor of shape {self.shape}")
            array = be.broadcast_to(array, self.shape)
        be.assign_(self.data, array)
        mark_written(self)
        return self

    def fill_(self, value):
        """Set every element to ``value`` in place (``copy_`` of a number); returns self."""
        return self.copy_(value)

    def zero_(self):
        """Set every element to 0 in place, e.g. ``x.grad.zero_()``; returns self."""
        return self.copy_(0)

    def detach(self):
        """A tensor sharing this one's data, cut off from the graph (no grad)."""
        out = Tensor._wrap(self.data, self._device)
        share_write_stamp(self, out)
        return out

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (floating tensors only) and return self."""
        if requires_grad and self.dtype.kind != "f":
            raise DTypeError(f"requires_grad_: only floating tensors can require grad, got "
                             f"dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def astype(self, dtype):
        """This tensor converted to ``dtype`` (differentiable between float dtypes)."""
        dtype = check_dtype(dtype, "astype")
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            return Tensor._wrap(self._device.backend.cast(self.data, dtype), self._device)
        return primitives.Cast.apply(self, dtype=dtype)

    def to(self, *args, device=None, dtype=None):
        """This tensor on ``device`` and/or as ``dtype``, as in PyTorch: ``t.to("cuda")``,
        ``t.to(np.float64)``, ``t.to("cpu", np.float32)``. Returns self when nothing changes;
        otherwise a new tensor, and gradients flow back to this one (a move is differentiable).
        """
        for arg in args:
            if isinstance(arg, (str, Device)):
                if device is not None:
                    raise ArgumentError(f"to: device given twice ({device!r} and {arg!r})")
                device = arg
            elif dtype is None:
                dtype = arg
            else:
                raise ArgumentError(f"to: expected a device and/or a dtype, got {args!r}")
        out = self if dtype is None else self.astype(dtype)
        if device is not None:
            target = get_device(device)
            if target is not out._device:
                out = primitives.ToDevice.apply(out, device=target)
        return out

    def cpu(self):
        """This tensor on the CPU (self when it is there already)."""
        return self.to("cpu")

    def cuda(self):
        """This tensor on the GPU (``to("cuda")``); a clear error says what is missing when
        CUDA cannot be used here."""
        return self.to("cuda")

    def _relocate_(self, device):
        """Move this leaf's data and gradient to ``device`` in place (``Module.to``)."""
        target = get_device(device)
        if target is self._device:
            return self
        if self._ctx is not None:
            raise GradError("to: only leaf tensors (parameters) can move in place; use "
                            "t.to(device), which returns a moved copy")
        self.data = target.backend.asarray(self.numpy(), self.dtype)
        if self.grad is not None:
            self.grad._relocate_(target)
        self._device = target
        return self

    def float(self):
        """This tensor as float32."""
        return self.astype(np.float32)

    def double(self):
        """This tensor as float64."""
        return self.astype(np.float64)

    # ---- operands ----
    def _operand(self, other, op):
        """``other`` as a Tensor for a binary op with self, applying the dtype rules."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (list, tuple, np.ndarray)):
            return Tensor(other, device=self._device)
        if not isinstance(other, (numbers.Real, np.bool_)):
            raise DTypeError(f"{op}: cannot combine a Tensor with {type(other).__name__} "
                             f"{other!r}; expected a Tensor, a real number or an array")
        # A Python scalar takes the tensor's dtype, so it never upcasts float32 to float64.
        if self.dtype.kind == "f":
            return self._const(other, self.dtype)
        if isinstance(other, (float, np.floating)):
            return self._const(other, np.float32)
        if isinstance(other, (bool, np.bool_)):
            return self._const(other, np.bool_)
        # An int with a bool tensor counts as int64 (True + 2 is 3, not True).
        return self._const(other, np.int64 if self.dtype.kind == "b" else self.dtype)

    def _binary(self, other, op, reflected=False):
        """Validated ``(a, b)`` tensors for an elementwise op, self first unless reflected."""
        if isinstance(other, numbers.Complex) and not isinstance(other, numbers.Real):
            raise DTypeError(f"{op}: complex numbers are not supported, got {other!r}")
        other = self._operand(other, op)
        a, b = _float_wins(*((other, self) if reflected else (self, other)))
        if a.data.shape != b.data.shape:
            broadcast_shape(op, a.shape, b.shape)
        return a, b

    # ---- arithmetic ----
    def __add__(self, other):
        return primitives.Add.apply(*self._binary(other, "add"))

    def __radd__(self, other):
        return primitives.Add.apply(*self._binary(other, "add", reflected=True))

    def __sub__(self, other):
        return primitives.Sub.apply(*self._binary(other, "sub"))

    def __rsub__(self, other):
        return primitives.Sub.apply(*self._binary(other, "sub", reflected=True))

    def __mul__(self, other):
        return primitives.Mul.apply(*self._binary(other, "mul"))

    def __rmul__(self, other):
        return primitives.Mul.apply(*self._binary(other, "mul", reflected=True))

    def __truediv__(self, other):
        return _true_divide(*self._binary(other, "div"))

    def __rtruediv__(self, other):
        return _true_divide(*self._binary(other, "div", reflected=True))

    def __pow__(self, other):
        return _power(*self._binary(other, "pow"))

    def __rpow__(self, other):
        return _power(*self._binary(other, "pow", reflected=True))

    def __floordiv__(self, other):
        return _integer_division(primitives.FloorDivide, *self._binary(other, "floor_divide"))

    def __rfloordiv__(self, other):
        return _integer_division(primitives.FloorDivide,
                                 *self._binary(other, "floor_divide", reflected=True))

    def __mod__(self, other):
        return _integer_division(primitives.Mod, *self._binary(other, "mod"))

    def __rmod__(self, other):
        return _integer_division(primitives.Mod, *self._binary(other, "mod", reflected=True))

    def __neg__(self):
        return primitives.Neg.apply(self)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return self._operand(other, "matmul").matmul(self)

    def matmul(self, other):
        """Matrix product with numpy's rules (1-D, 2-D, batched with broadcast batch dims)."""
        a, b = self, self._operand(other, "matmul")
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}; use * for scalars")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ShapeError(f"matmul: cannot multiply shapes {a.shape} and {b.shape}: the last "
                             f"dimension of the first ({k_a}) must equal the "
                             f"{'first' if b.ndim == 1 else 'second-to-last'} dimension of the "
                             f"second ({k_b})")
        if a.ndim > 2 or b.ndim > 2:
            broadcast_shape("matmul (batch dimensions)", a.shape[:-2], b.shape[:-2])
        return primitives.Matmul.apply(*_float_wins(a, b))

    def reciprocal(self):
        """1 / x."""
        self._require_float("reciprocal")
        return primitives.Reciprocal.apply(self)

    # ---- comparisons (not differentiable) ----
    def _compare(self, other, name, op):
        if not isinstance(other, (Tensor, numbers.Number, np.ndarray, list, tuple, np.generic)):
            return NotImplemented
        a, b = self._binary(other, op)
        return Tensor._wrap(self._device.backend.compare(name, a.data, b.data), self._device)

    def __lt__(self, other):
        return self._compare(other, "less", "<")

    def __le__(self, other):
        return self._compare(other, "less_equal", "<=")

    def __gt__(self, other):
        return self._compare(other, "greater", ">")

    def __ge__(self, other):
        return self._compare(other, "greater_equal", ">=")

    def __eq__(self, other):
        return self._compare(other, "equal", "==")

    def __ne__(self, other):
        return self._compare(other, "not_equal", "!=")

    __hash__ = object.__hash__

    def _require_float(self, op):
        if self.dtype.kind != "f":
            raise DTypeError(f"{op}: needs a floating tensor, got dtype {self.dtype}; convert "
                             "with .float() or .double()")

    # ---- autodiff ----
    def backward(self, grad=None):
        """Backpropagate from this tensor, adding d self / d t to ``t.grad`` for every tensor
        ``t`` in the graph that requires grad (intermediate ones included, so renderers can
        show them). A one-element output seeds with 1; any other needs ``grad`` of its shape.
        Gradients accumulate across calls; reset with ``t.grad = None`` or a module's
        ``zero_grad()``.
        """
        if not self.requires_grad:
            raise GradError("backward: this tensor does not require grad (none of its inputs "
                            "had requires_grad=True, or it was computed under no_grad)")
        backend = self._device.backend
        if grad is None:
            if self.numel() != 1:
                raise GradError(f"backward: output has shape {self.shape}; backward() without "
                                "grad needs a one-element output. Reduce it first (e.g. "
                                f".sum()) or pass grad= with shape {self.shape}")
            _warn_if_not_finite(self, backend)
            seed = backend.full(self.data.shape, 1, self.dtype)
        else:
            if tuple(getattr(grad, "shape", np.shape(grad))) != self.shape:
                raise ShapeError(f"backward: grad has shape "
                                 f"{tuple(getattr(grad, 'shape', np.shape(grad)))} but the "
                                 f"output has shape {self.shape}; they must match")
            # A copy: the seed may become the output's .grad, which must not alias the caller's.
            seed = backend.full(self.shape, 0, self.dtype)
            Tensor._wrap(seed, self._device).copy_(grad)
        backpropagate(self, seed)

    def _accumulate_grad(self, g, owned=False):
        if self.grad is None:
            # Leaves own a private copy: backward may hand the same array to several inputs,
            # and optimizers or clip_grad_norm_ change leaf gradients in place. ``owned``: the
            # engine knows nothing else references g (Function.fresh_grads), so no copy.
            if self._ctx is None and not owned:
                g = self._device.backend.copy(g)
            self.grad = Tensor._wrap(g, self._device)
        elif self._ctx is None:
            self._device.backend.add_(self.grad.data, g)
            mark_written(self.grad)
        else:
            self.grad.data = self._device.backend.add(self.grad.data, g)


class _SizeMethod:
    """``t.size``: called, PyTorch's ``size()`` (the shape) or ``size(dim)``; used as a number,
    as numpy's ``a.size`` (the element count) would be, it raises and points at ``numel()``:
    the two libraries give the name two meanings, and this one must not be silently wrong."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor):
        self._tensor = tensor

    @axis_spellings
    def size(self, dim=None):
        t = self._tensor
        if dim is None:
            return t.shape
        if t.ndim == 0:
            raise AxisError(f"size: a 0-d tensor has no dimension {dim}")
        return t.shape[normalize_axis(dim, t.ndim, "size")[0]]

    __call__ = size

    def _as_number(self, *args):
        raise ArgumentTypeError("size: t.size is PyTorch's method here: t.size() is the shape, "
                                "t.size(dim) one dimension's size; numpy's a.size (the number "
                                "of elements) is t.numel()")

    def _compare(self, other):
        if isinstance(other, (numbers.Number, np.generic)):
            self._as_number()
        return NotImplemented

    __bool__ = __int__ = __index__ = __float__ = _as_number
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _compare
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _as_number
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = _as_number
    __hash__ = object.__hash__

    def __repr__(self):
        return f"<method size of a Tensor of shape {self._tensor.shape}>"


def _float_wins(a, b):
    """``(a, b)``, the integer one converted when one is floating and the other is not.

    The float dtype wins, as in PyTorch (numpy would pick float64 for int64 with float32).
    """
    if a.dtype != b.dtype and (a.dtype.kind == "f") != (b.dtype.kind == "f"):
        target = a.dtype if a.dtype.kind == "f" else b.dtype
        return a.astype(target), b.astype(target)
    return a, b


def _power(a, b):
    """a ** b; an integer base cannot take a negative integer exponent (it has no integer
    result), as in PyTorch."""
    if a.dtype.kind in "iub" and b.dtype.kind in "iub" and b.numel():
        check_values(_check_integer_exponent, b, a.dtype)
    return primitives.Pow.apply(a, b)


def _check_integer_exponent(be, exponent, base_dtype):
    lowest = be.to_numpy(be.min(exponent, None, False)).item()   # the only bound it needs
    if lowest < 0:
        raise ArgumentError(f"pow: an integer tensor (dtype {base_dtype}) cannot be raised to a "
                            f"negative integer power ({lowest}): the result is not an "
                            "integer; convert the base first, e.g. x.float() ** -1")


def _warn_if_not_finite(loss, backend):
    """One NonFiniteValueWarning per call site when backward starts from a NaN or infinite
    loss: every gradient below it is then NaN or infinite, and an optimizer step would spread
    them into the parameters. Only where the loss is in host memory: on a GPU, reading it
    would add a device-to-host copy (a wait for the device) to every training step."""
    if backend.device != "cpu":
        return
    value = backend.to_numpy(loss.data).item()
    if math.isfinite(value):
        return
    warnings.warn(f"backward: the loss is {value} (not finite), so the gradients will be NaN or "
                  "infinite and an optimizer step would write them into the parameters. The "
                  "run has diverged (learning rate too large?), the initialization is too large, "
                  "or an op overflowed (exp of a large number, log or division of 0). To find "
                  "the op that made the first non-finite value, run the step under "
                  "tinygrad_edu.detect_anomaly() (or set TINYGRAD_EDU_DETECT_ANOMALY=1)",
                  NonFiniteValueWarning, stacklevel=3)


def _true_divide(a, b):
    """a / b; integers divide into float32, as in PyTorch."""
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        a, b = a.astype(np.float32), b.astype(np.float32)
    return primitives.Div.apply(a, b)


def _integer_division(function, a, b):
    """a // b or a % b (``function``) with Python's rules; an integer divisor holding 0 is an
    error, as in PyTorch (numpy would give 0 with a warning)."""
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        raise DTypeError(f"{function.op}: not defined for boolean tensors (dtypes {a.dtype} and "
                         f"{b.dtype}); convert with .astype(np.int64)")
    if b.dtype.kind != "f" and b.numel():
        check_values(_check_nonzero_divisor, b, function.op)
    return function.apply(a, b)


def _check_nonzero_divisor(be, divisor, op):
    if be.to_numpy(be.max(be.compare("equal", divisor, 0), None, False)).item():
        raise ArgumentError(f"{op}: integer division by zero (the divisor of shape "
                            f"{divisor.shape} holds 0)")
