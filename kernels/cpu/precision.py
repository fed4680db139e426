"""16-bit weight storage for the fused inference path: bfloat16 and float16, float32 arithmetic.

At batch 1 the fused path spends most of its time streaming the weights from cache; storing
them in 16 bits halves that traffic. The products still accumulate in float32: each weight is
widened as it is loaded (a shift for bfloat16, a ``vcvtph2ps`` for float16, both vectorized).

numpy has no bfloat16 and Numba's CPU target no float16, so both are stored as ``uint16`` bit
patterns; which of the two a kernel reads is a compile-time constant (``BFLOAT16``,
``FLOAT16``), so each is compiled only when a network first uses it.

- bfloat16: float32's 8 exponent bits and 7 of its 23 mantissa bits. It has float32's range,
  so no finite weight overflows except within half a unit of float32's largest value; about
  2-3 significant decimal digits.
- float16: 5 exponent bits and 10 mantissa bits: finer (about 3 digits) but finite only up to
  65504, and weights under 6e-8 become 0.

Conversion rounds to nearest, ties to even, and keeps infinities and NaNs (a NaN stays a quiet
NaN of the same sign). A finite weight that float16 would turn into an infinity is refused
(``encode_weights`` raises), since one infinite weight turns every score into inf or NaN.
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ...errors import ArgumentError, DTypeError

__all__ = ["NATIVE", "BFLOAT16", "FLOAT16", "FORMATS", "to_bfloat16", "from_bfloat16",
           "to_float16", "from_float16", "storage_format", "encode_weights", "widen"]

NATIVE, BFLOAT16, FLOAT16 = 0, 1, 2      # how the weights are stored: as the model's dtype...
FORMATS = {"bfloat16": BFLOAT16, "float16": FLOAT16}   # ...or in 16 bits


def to_bfloat16(values):
    """The bfloat16 bit patterns (uint16) nearest to float32 ``values``, ties to even."""
    bits = np.ascontiguousarray(values, np.float32).view(np.uint32)
    # Adding 0x7fff plus the lowest kept bit, then truncating, rounds to nearest even; a carry
    # out of the mantissa steps the exponent, up to infinity for the largest floats.
    rounded = (bits + (np.uint32(0x7FFF) + ((bits >> 16) & 1))) >> 16
    # NaN: keep the sign and the top payload bits, and set the quiet bit so that truncating
    # the payload can never leave the pattern of an infinity.
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    return np.where(nan, (bits >> 16) | 0x0040, rounded).astype(np.uint16)


def from_bfloat16(bits):
    """The float32 values of bfloat16 bit patterns (exact: bfloat16 is float32's top half)."""
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32)


def to_float16(values):
    """The float16 bit patterns (uint16) nearest to ``values``, ties to even (numpy's cast);
    values beyond float16's range become infinities."""
    with np.errstate(over="ignore"):
        return np.asarray(values).astype(np.float16).view(np.uint16)


def from_float16(bits):
    """The float32 values of float16 bit patterns (exact)."""
    return np.asarray(bits, np.uint16).view(np.float16).astype(np.float32)


def storage_format(weights, dtype, where):
    """The format code of ``weights=`` (None or the model's dtype name: ``NATIVE``; or
    ``"bfloat16"`` / ``"float16"``) for a model of ``dtype``; ``where`` names the caller.

    Raises ArgumentError for another value and DTypeError for 16 bits of a float64 model.
    """
    if weights is None or (isinstance(weights, str) and weights == dtype.name):
        return NATIVE
    if not isinstance(weights, str) or weights not in FORMATS:
        raise ArgumentError(f"{where}: weights must be None (the model's {dtype}), "
                            f"'bfloat16' or 'float16', got {weights!r}")
    if dtype != np.float32:
        raise DTypeError(f"{where}: weights={weights!r} stores a float32 model's weights in "
                         f"16 bits, but this model is {dtype}; convert it with .float() first")
    return FORMATS[weights]


_ENCODERS = {BFLOAT16: to_bfloat16, FLOAT16: to_float16}
_NAMES = {code: name for name, code in FORMATS.items()}


def encode_weights(weight, fmt, where, layer):
    """``weight`` (float32) as the uint16 patterns of format ``fmt``; ``where`` and ``layer``
    name the caller and the layer in the error raised when float16 would turn a finite weight
    into an infinity."""
    bits = _ENCODERS[fmt](weight)
    if fmt == FLOAT16:
        overflow = np.isfinite(weight) & ((bits & 0x7FFF) == 0x7C00)
        if overflow.any():
            biggest = float(np.abs(weight[overflow]).max())
            raise ArgumentError(f"{where}: weights='float16' cannot hold layer {layer}'s weight "
                                f"of magnitude {biggest:.6g} (float16's largest finite value "
                                "is 65504; it would become infinite); use weights='bfloat16', "
                                "which has float32's range, or keep float32 weights")
    return bits


@intrinsic
def widen(typingctx, value, fmt):
    """A stored weight as the number the products use: ``value`` itself for ``NATIVE``, the
    float32 of a bfloat16 or float16 bit pattern (uint16) otherwise. ``fmt`` must be a
    compile-time constant."""
    if not isinstance(fmt, types.IntegerLiteral):
        return None   # Numba retries with the literal
    kind = fmt.literal_value
    if kind == NATIVE:
        return value(value, fmt), lambda context, builder, signature, args: args[0]
    if value != types.uint16 or kind not in _NAMES:
        return None

    def codegen(context, builder, signature, args):
        bits = args[0]
        if kind == BFLOAT16:   # the pattern is the float32's top 16 bits
            wide = builder.shl(builder.zext(bits, ir.IntType(32)), ir.Constant(ir.IntType(32),
                                                                               16))
            return builder.bitcast(wide, ir.FloatType())
        return builder.fpext(builder.bitcast(bits, ir.HalfType()), ir.FloatType())

    return types.float32(value, fmt), codegen
