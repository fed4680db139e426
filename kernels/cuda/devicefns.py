"""The scalar math the kernels inline: element offsets, op tables and the activation registry.

Scalar functions are written once in plain Python with float literals (``1.0 / x``) and
compiled per dtype by ``typed_device(fn, dtype)``: every float literal of the function (and
every float constant of its module it reads, such as the registry's ``SQRT_HALF``) becomes a
constant of the kernel's dtype, and the plain functions of the same module it calls are
compiled the same way. Without this a float32 kernel would compute in float64 wherever a
Python float appears (numba types ``0.5 * x`` as float64); the compile tests check the PTX of
every float32 kernel for float64 instructions. This is how ``tinygrad_edu.activations``, the
registry, reaches the GPU unchanged: its ``activate`` and ``derivative`` are the functions the
scalar ``Value`` engine calls and the Numba CPU kernels compile.

Everything is a ``cuda.jit(device=True, inline='always')`` function: numba-cuda compiles those
to PTX without a driver, so the whole catalog can be checked on a machine with no GPU.
"""

import functools
import math
import types

import numpy as np

from ... import activations as registry
from .runtime import cuda

__all__ = ["typed_device", "offset_of", "activate", "derivative", "unary_float", "unary_int",
           "binary_float", "binary_int", "binary_bool", "compare", "clip", "is_finite",
           "combine", "combine_bool", "transform_float", "transform_int", "transform_bool",
           "UNARY", "BINARY", "COMPARE", "REDUCE", "SUM", "MAX", "MIN", "PROD", "NO_TRANSFORM",
           "ABS", "ABS_POW"]

# Op codes: the kernels switch on them at run time (one uniform branch per launch).
NEG, RECIPROCAL, EXP, LOG, SQRT, ABS_OP, SIGN, SIN, COS, FLOOR, ROUND = range(11)
UNARY = {"neg": NEG, "reciprocal": RECIPROCAL, "exp": EXP, "log": LOG, "sqrt": SQRT,
         "abs": ABS_OP, "sign": SIGN, "sin": SIN, "cos": COS, "floor": FLOOR, "round": ROUND}
ADD, SUB, MUL, DIV, POW, FLOOR_DIVIDE, MOD = range(7)
BINARY = {"add": ADD, "sub": SUB, "mul": MUL, "div": DIV, "pow": POW,
          "floor_divide": FLOOR_DIVIDE, "mod": MOD}
LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL, AND, OR = range(8)
COMPARE = {"less": LESS, "less_equal": LESS_EQUAL, "greater": GREATER,
           "greater_equal": GREATER_EQUAL, "equal": EQUAL, "not_equal": NOT_EQUAL,
           "logical_and": AND, "logical_or": OR}
SUM, MAX, MIN, PROD = range(4)
REDUCE = {"sum": SUM, "max": MAX, "min": MIN, "prod": PROD}
NO_TRANSFORM, ABS, ABS_POW = range(3)
NAN, INF = float("nan"), float("inf")   # become constants of the kernel's dtype


def _device(fn):
    return cuda.jit(device=True, inline="always")(fn)


@functools.cache
def typed_device(fn, dtype):
    """``fn`` compiled as an inline device function whose float literals, float module
    constants and same-module helpers are all of ``dtype`` (see the module docstring)."""
    dtype = np.dtype(dtype)
    cast = dtype.type
    code = fn.__code__
    consts = tuple(cast(c) if type(c) is float else c for c in code.co_consts)
    namespace = dict(fn.__globals__)
    for name in code.co_names:
        value = namespace.get(name)
        if type(value) is float:
            namespace[name] = cast(value)
        elif isinstance(value, types.FunctionType) and value.__module__ == fn.__module__:
            namespace[name] = typed_device(value, dtype)
    retyped = types.FunctionType(code.replace(co_consts=consts), namespace, fn.__name__,
                                 fn.__defaults__, fn.__closure__)
    return _device(retyped)


@_device
def offset_of(i, shape, ndim, strides, offset):
    """Position in the buffer of element ``i`` (C order) of a view with ``shape`` (``ndim``
    entries used), ``strides`` and ``offset``."""
    for d in range(ndim - 1, 0, -1):
        n = shape[d]
        offset += (i % n) * strides[d]
        i //= n
    return offset + i * strides[0]


def activate(dtype):
    """The registry's ``activate(code, x, slope)`` for ``dtype``."""
    return typed_device(registry.activate, dtype)


def derivative(dtype):
    """The registry's ``derivative(code, x, y, slope)`` for ``dtype``."""
    return typed_device(registry.derivative, dtype)


# ---- scalar op tables, compiled per dtype with typed_device ----

def unary_float(op, x):
    if op == NEG:
        return -x
    if op == RECIPROCAL:
        return 1.0 / x
    if op == EXP:
        return math.exp(x)
    # The simulator runs Python's math, which raises where CUDA gives nan or -inf.
    if op == LOG:
        return NAN if x < 0.0 else (-INF if x == 0.0 else math.log(x))
    if op == SQRT:
        return NAN if x < 0.0 else math.sqrt(x)
    if op == ABS_OP:
        return abs(x)
    if op == SIN:
        return math.sin(x) if _finite(x) else NAN
    if op == COS:
        return math.cos(x) if _finite(x) else NAN
    if op == FLOOR:
        return _floor(x)
    if op == ROUND:
        return _round_half_even(x)
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0   # numpy's sign of -0 is +0
    return x         # and of nan, nan


def _finite(x):
    return x - x == 0.0   # inf - inf and nan - nan are nan


def _floor(x):
    # The simulator runs Python's math.floor, which refuses inf and nan (they are their own
    # floor); on the GPU it is one instruction.
    return math.floor(x) if _finite(x) else x


def _round_half_even(x):
    low = _floor(x)
    rest = x - low
    if rest > 0.5:
        r = low + 1.0
    elif rest < 0.5:
        r = low
    else:   # a tie (or inf/nan): the even neighbour
        r = low if low - 2.0 * _floor(low * 0.5) == 0.0 else low + 1.0
    return math.copysign(r, x) if r == 0.0 else r   # -0.4 rounds to -0, as in numpy


def unary_int(op, x):
    if op == NEG:
        return -x
    if op == ABS_OP:
        return abs(x)
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def binary_float(op, x, y):
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    if op == DIV:
        return x / y
    if op == POW:
        return x ** y
    floor_quotient, remainder = _divmod(x, y)
    return floor_quotient if op == FLOOR_DIVIDE else remainder


def _divmod(a, b):
    """numpy's floor division and remainder of floats (npy_divmod): exact like fmod, the
    remainder with the sign of b, the quotient snapped to the nearest integer."""
    # Python's math.fmod (the simulator) raises where C's gives nan.
    mod = math.fmod(a, b) if b != 0.0 and _finite(a) else NAN
    if b == 0.0:
        return a / b, mod
    div = (a - mod) / b
    if mod != 0.0:
        if (b < 0.0) != (mod < 0.0):
            mod += b
            div -= 1.0
    else:
        mod = math.copysign(0.0, b)
    if div != 0.0:
        floor_quotient = _floor(div)
        if div - floor_quotient > 0.5:
            floor_quotient += 1.0
    else:
        floor_quotient = math.copysign(0.0, a / b)
    return floor_quotient, mod


def _int_power(x, y):
    # Square and multiply; a negative exponent leaves 1, -1 or 0 (numpy refuses those).
    if y < 0:
        if x == 1:
            return 1
        if x == -1:
            return 1 if y % 2 == 0 else -1
        return 0
    result = 1
    while y > 0:
        if y & 1:
            result *= x
        x *= x
        y >>= 1
    return result


def binary_int(op, x, y):
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    if op == POW:
        return _int_power(x, y)
    if y == 0:
        return 0   # numpy's integer // 0 and % 0 (the Tensor ops refuse zero divisors first)
    if op == FLOOR_DIVIDE:
        return x // y
    return x % y


def binary_bool(op, x, y):
    # numpy's booleans: + is "or", * is "and" (the other ops resolve to other dtypes).
    if op == ADD:
        return x or y
    return x and y


def compare(op, x, y):
    if op == LESS:
        return x < y
    if op == LESS_EQUAL:
        return x <= y
    if op == GREATER:
        return x > y
    if op == GREATER_EQUAL:
        return x >= y
    if op == EQUAL:
        return x == y
    if op == NOT_EQUAL:
        return x != y
    if op == AND:
        return x != 0.0 and y != 0.0
    return x != 0.0 or y != 0.0


def clip(x, lo, hi, has_lo, has_hi):
    # Comparisons with nan are false, so nan stays nan, as in numpy.
    if has_lo and x < lo:
        x = lo
    if has_hi and x > hi:
        x = hi
    return x


def is_finite(x):
    return _finite(x)


def combine(op, acc, v):
    """One step of a reduction; max and min propagate nan, as numpy's do."""
    if op == SUM:
        return acc + v
    if op == PROD:
        return acc * v
    if op == MAX:
        return v if (v > acc or v != v) else acc
    return v if (v < acc or v != v) else acc


def combine_bool(op, acc, v):
    # any() for max, all() for min (booleans are summed as int64).
    if op == MAX:
        return acc or v
    return acc and v


def transform_float(t, x, p):
    if t == ABS:
        return abs(x)
    if t == ABS_POW:
        return abs(x) ** p
    return x


def transform_int(t, x, p):
    if t == ABS:
        return abs(x)
    return x


def transform_bool(t, x, p):
    return x   # |x| of a boolean is itself
