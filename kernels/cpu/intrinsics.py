"""Small LLVM-level helpers that plain Numba cannot express.

A register-blocked matmul keeps its output tile in registers while it runs through the shared
dimension. LLVM does that only for memory it can prove private: a fixed-size array on the
stack, which it splits into registers (SROA). ``np.empty`` inside a kernel is a heap
allocation LLVM knows nothing about, so its tile stays in memory and the kernel runs at a tenth
of the speed. Numba has no stack arrays, hence ``stack_tile``.

A tile row is as wide as the register file allows (``TILE_ROW_BYTES``): four 512-bit registers
(64 float32 or 32 float64 columns) where the code is compiled for AVX-512, whose 32 vector
registers hold a 6-row tile of those and the operands; two 256-bit registers (16 float32 or 8
float64 columns) otherwise, since AVX2 has 16 registers and a 512-byte-wide tile would live in
memory instead (spilled, several times slower). The width must be a compile-time constant so
LLVM unrolls and vectorizes the loops over it, and it depends on the dtype, hence an intrinsic
rather than a Python constant. Numba's on-disk cache is kept per CPU and feature set, so code
compiled for one width is never loaded on a machine that needs the other.
"""

import numba
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["TILE_ROW_BYTES", "runtime_int", "stack_tile", "tile_columns", "tile_width"]


def _tile_row_bytes():
    """256 where the compiled code may use AVX-512, else 64 (see the module's docstring)."""
    # Numba compiles for NUMBA_CPU_FEATURES when it is set, else for the host's features.
    features = numba.config.CPU_FEATURES or binding.get_host_cpu_features().flatten()
    return 256 if "+avx512f" in features.split(",") else 64


TILE_ROW_BYTES = _tile_row_bytes()   # one tile row of vector registers


def tile_columns(itemsize):
    """Columns of a tile row for elements of ``itemsize`` bytes, in Python (for choices made
    while typing); compiled code reads the same number from ``tile_width``."""
    return TILE_ROW_BYTES // itemsize


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
    """Columns of a tile row for ``dtype`` (``TILE_ROW_BYTES`` of them), as an LLVM constant."""
    def codegen(context, builder, signature, args):
        elem = context.get_value_type(dtype.dtype)
        return context.get_constant(types.intp, tile_columns(context.get_abi_sizeof(elem)))

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
