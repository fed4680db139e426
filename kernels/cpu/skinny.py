"""Products with very few rows or a very short shared dimension, without packing.

The blocked matmul copies its operands into panels so that each number it loads serves many
multiply-adds. When ``a @ b`` has one or two rows (a single example through a layer) or a
shared dimension of one or two (a weight gradient from a single example), every number of
``b`` is used only once or twice anyway, and the copy costs more than the product. These loops
read the operands where they are:

- ``b`` stored by rows: each output row is a sum of rows of ``b`` scaled by one number of ``a``
  (contiguous and vectorized);
- ``b`` a transposed view (``W.T`` in a layer's backward): each output is a dot product of two
  contiguous rows.

Bias and activation are applied by the caller (``matmul.gemm``) in one more pass, with the
loops every other product shares: a kernel that did both would be compiled once more for each
activation (the outputs are few, so the pass is cheap).
"""

from numba import njit

from . import cache_stamp  # noqa: F401 - first: an edited kernel source recompiles all

__all__ = ["skinny_product"]


@njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})
def _dot(x, w):
    # reassoc lets LLVM split the sum over several vector accumulators.
    s = x.dtype.type(0)
    for p in range(x.size):
        s += x[p] * w[p]
    return s


@njit(cache=True, nogil=True, fastmath={"contract"})
def skinny_product(a, a_t, b, b_t, z, column):
    """z = A @ B, where ``A`` is ``a.T`` when ``a_t`` (likewise ``B``), so transposed views
    are read in place. ``column``: scratch of A's depth (allocated by the caller: an
    ``np.empty`` here would compile numpy's allocator into the kernel, a third of its first-use
    compile time)."""
    m, n = z.shape
    k = a.shape[0] if a_t else a.shape[1]
    for i in range(m):
        zrow = z[i]
        if a_t:   # copy the strided column so both branches give a contiguous row type
            for p in range(k):
                column[p] = a[p, i]
            arow = column
        else:
            arow = a[i]
        if b_t:
            for j in range(n):
                zrow[j] = _dot(arow, b[j])
        else:
            for j in range(n):
                zrow[j] = 0
            for p in range(k):
                av = arow[p]
                brow = b[p]
                for j in range(n):
                    zrow[j] += av * brow[j]
