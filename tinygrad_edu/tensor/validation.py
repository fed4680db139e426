"""Argument checks shared by the Tensor ops: dtypes, shapes, axes and broadcasting.

Each raises one of our errors with the op's name, so a mistake is reported before numpy or a
compiled kernel produce something cryptic.
"""

import dataclasses
import functools
import inspect

import numpy as np

from ..errors import ArgumentTypeError, AxisError, DTypeError, ShapeError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_flag(value, name, where):
    """``value`` as a bool; ArgumentTypeError naming ``where`` and ``name`` unless it is True
    or False (a numpy bool included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{where}: {name} must be True or False, got "
                                f"{type(value).__name__} {value!r}")
    return bool(value)


def check_dtype(dtype, where):
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype not in FLOAT_DTYPES:
        raise DTypeError(f"{where}: dtype {dtype} is not supported; use float32 or float64")
    if dtype.kind not in "fiub":
        raise DTypeError(f"{where}: dtype {dtype} is not supported; tensors hold float32/float64 "
                         "numbers, integers or booleans")
    return dtype


def as_numpy_array(data, dtype):
    """A new numpy array from user data, with PyTorch's dtype rules (see ``Tensor``)."""
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data)
    else:
        if isinstance(data, (str, bytes)) or data is None:
            raise DTypeError(f"Tensor: expected a number, nested lists of numbers or an array, "
                             f"got {type(data).__name__} {data!r}")
        try:
            array = np.array(data)
        except ValueError as exc:
            raise ShapeError(f"Tensor: nested lists must be rectangular (same length at each "
                             f"level); numpy said: {exc}") from None
        # Python floats default to float32 and ints to int64, unless dtype= says otherwise
        # (converting through float32 first would round float64 data).
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(np.float32)
        elif dtype is None and array.dtype.kind in "iu":
            array = array.astype(np.int64)
    if array.dtype.kind == "O":
        raise DTypeError("Tensor: data must be numbers; got objects (ragged lists or "
                         "non-numeric items)")
    if array.dtype.kind == "c":
        raise DTypeError("Tensor: complex numbers are not supported")
    if array.dtype.kind in "USV":
        raise DTypeError(f"Tensor: data must be numbers, got {array.dtype} (strings or bytes)")
    if dtype is not None:
        return array.astype(check_dtype(dtype, "Tensor"))
    check_dtype(array.dtype, "Tensor")
    return array


def shape_arg(shape, where):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise ShapeError(f"{where}: shape entries must be ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def normalize_axis(axis, ndim, where):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints, or None."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise AxisError(f"{where}: axis must be an int or a tuple of ints, got {axis!r}")
        if ndim == 0 and a in (0, -1):
            continue   # as in PyTorch: a 0-d tensor takes axis 0 (or -1), which reduces nothing
        if not -ndim <= a < ndim:
            raise AxisError(f"{where}: axis {a} is out of range for a tensor with {ndim} "
                            f"dimension{'s' if ndim != 1 else ''} "
                            f"(valid: {f'{-ndim}..{ndim - 1}' if ndim else '0 or -1'})")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise AxisError(f"{where}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def single_axis(axis, ndim, where):
    """``axis``, one int, as a non-negative int; a 0-d tensor has none to give."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise AxisError(f"{where}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise AxisError(f"{where}: a 0-d tensor has no axis {axis}; reshape(1) it first")
    return normalize_axis(axis, ndim, where)[0]


# Each axis argument's name in numpy and in PyTorch (and var's ddof / correction): a function
# declaring one of them also takes the other (``axis_spellings``).
SPELLINGS = {"axis": "dim", "dim": "axis", "keepdims": "keepdim", "keepdim": "keepdims",
             "start_axis": "start_dim", "start_dim": "start_axis", "end_axis": "end_dim",
             "end_dim": "end_axis", "dims": "axis", "correction": "ddof", "ddof": "correction"}


def axis_spellings(fn):
    """Let ``fn`` take its axis arguments under numpy's and PyTorch's names alike.

    ``fn`` declares one spelling (``axis``, ``keepdims``...); the other (``dim``,
    ``keepdim``...) becomes a keyword-only alias, shown by ``help()`` and ``inspect``. Giving
    both raises ``ArgumentTypeError``, as Python does for an argument given twice.
    """
    signature = inspect.signature(fn)
    named = [p for p in signature.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    declared = [p.name for p in named]
    aliases = {SPELLINGS[name]: name for name in declared if name in SPELLINGS}
    positions = {p.name: i for i, p in enumerate(named) if p.kind == p.POSITIONAL_OR_KEYWORD}

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            for alias, name in aliases.items():
                if alias in kwargs:
                    if name in kwargs or positions.get(name, len(args)) < len(args):
                        raise ArgumentTypeError(
                            f"{fn.__name__}: got both {name}= and {alias}= (numpy's and "
                            f"PyTorch's names for one argument); give one of them")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    params = list(signature.parameters.values())
    tail = [p for p in params if p.kind == p.VAR_KEYWORD]
    defaults = {p.name: None if p.default is p.empty else p.default for p in named}
    extra = [inspect.Parameter(alias, inspect.Parameter.KEYWORD_ONLY, default=defaults[name])
             for alias, name in aliases.items()]
    wrapper.__signature__ = signature.replace(
        parameters=[p for p in params if p.kind != p.VAR_KEYWORD] + extra + tail)
    return wrapper


def broadcast_shape(op, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: shapes {', '.join(map(str, shapes))} cannot be broadcast "
                         "together (trailing dimensions must be equal or 1)") from None


def check_nonempty_reduction(op, shape, axes):
    sizes = shape if axes is None else [shape[a] for a in axes]
    if any(n == 0 for n in sizes):
        raise ShapeError(f"{op}: cannot reduce over an empty axis of a tensor of shape {shape}")


# The function that returns this thread's recording in progress (or None): capture.tape puts
# its own here when it is imported (this module cannot import the capture package, which
# imports it).
RECORDING = [lambda: None]


@dataclasses.dataclass(frozen=True)
class ValueCheck:
    """``check(backend, array, *params)`` bound to a device: see ``check_values``. Frozen, so
    the checks of two recordings of one step compare equal."""

    check: object
    device: object
    params: tuple

    def __call__(self, arrays):
        self.check(self.device.backend, *arrays, *self.params)


def check_values(check, tensors, *params):
    """Run ``check(backend, *arrays, *params)`` on the data of ``tensors`` (one Tensor, or a
    list of Tensors on one device): a check of the values (a class index in range, a divisor
    without 0, a finite gradient norm) that reads them back only to raise or warn.

    Inside a captured step it is recorded as a host entry (``Recording.host``) that every
    replay runs again on that call's data: a check that can only raise never steers the
    step, so unlike other readbacks it does not stop the step from being captured.
    """
    if not isinstance(tensors, (list, tuple)):
        tensors = [tensors]
    arrays = [t.data for t in tensors]
    device = tensors[0]._device
    rec = RECORDING[0]()
    if rec is None:
        check(device.backend, *arrays, *params)
    else:
        rec.host(ValueCheck(check, device, params), arrays)


def extremes(be, array):
    """The smallest and largest value of ``array`` as Python numbers (NaN if it holds NaN),
    for the checks ``check_values`` runs: two numbers come to the host, whatever the device."""
    if 0 in array.shape:
        return 0, 0
    return (be.to_numpy(be.min(array, None, False)).item(),
            be.to_numpy(be.max(array, None, False)).item())
