"""Small LLVM-level helpers that plain Numba cannot express.

A register-blocked matmul keeps its output tile in registers while it runs through the shared
dimension. LLVM does that only for memory it can prove private: a fixed-size array on the
stack, which it splits into registers (SROA). ``np.empty`` inside a kernel is a heap
allocation LLVM knows nothing about, so its tile stays in memory and the kernel runs at a tenth
of the speed. Numba has no stack arrays, hence ``stack_tile``.

The tile is as wide as four 512-bit registers (``tile_width``: 64 float32 or 32 float64
columns); the width must be a compile-time constant so LLVM unrolls and vectorizes the loops
over it, and it depends on the dtype, hence an intrinsic rather than a Python constant.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["TILE_ROW_BYTES", "runtime_int", "stack_tile", "tile_width"]

TILE_ROW_BYTES = 256  # one tile row: four 512-bit (or eight 256-bit) vector registers


@intrinsic
def stack_tile(typingctx, rows, dtype):
    """Pointer to an uninitialised ``rows x tile_width(dtype)`` array on the stack.

    ``rows`` must be a compile-time constant (a module-level int). Wrap the pointer with
    ``numba.carray(ptr, (rows, tile_width(dtype)))``.
    """
    if not isinstance(rows, types.IntegerLiteral):
        raise TypingError(f"stack_tile: rows must be a compile-time constant, got {rows}")

    def codegen(context, builder, signature, args):
        elem = context.get_value_type(dtype.dtype)
        count = rows.literal_value * TILE_ROW_BYTES // context.get_abi_sizeof(elem)
        # alloca_once puts the array in the entry block, where SROA can promote it.
        ptr = cgutils.alloca_once(builder, ir.ArrayType(elem, count))
        return builder.bitcast(ptr, elem.as_pointer())

    return types.CPointer(dtype.dtype)(rows, dtype), codegen


@intrinsic
def tile_width(typingctx, dtype):
    """Columns of a tile row for ``dtype``, as an LLVM constant (64 for float32, 32 float64)."""
    def codegen(context, builder, signature, args):
        elem = context.get_value_type(dtype.dtype)
        return context.get_constant(types.intp, TILE_ROW_BYTES // context.get_abi_sizeof(elem))

    return types.intp(dtype), codegen


@intrinsic
def runtime_int(typingctx, value):
    """``value`` typed as a plain int64 rather than a literal.

    A compiled function called from compiled code with a constant argument (``f(x, 0)``) is
    compiled again for that literal; wrapping the constant (``f(x, runtime_int(0))``) reuses
    the specialisation the other call sites need, which halves some first-use compile times.
    """
    if not isinstance(value, types.Integer):
        raise TypingError(f"runtime_int: expected an integer, got {value}")

    def codegen(context, builder, signature, args):
        return context.cast(builder, args[0], signature.args[0], types.int64)

    return types.int64(value), codegen
