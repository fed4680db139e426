"""The Numba CPU backend (``backend.NumbaBackend``) and its kernels.

- ``backend``: ``NumbaBackend``, the default CPU backend when Numba is installed;
- ``matmul`` / ``skinny``: the register-tiled blocked matmul and the unpacked loops for one or
  two rows, columns or depth; ``intrinsics``: the stack tile they accumulate in;
- ``activations``: the activation registry's formulas compiled with ``njit``, one activation
  at a time, on first use;
- ``fused``: the fused layer ``activation(x @ W + b)``, forward and backward;
- ``mlp``: ``CompiledMLP``, a whole MLP's inference in one call (``nn.MLP.compile()``);
  ``precision``: its bfloat16 / float16 weight storage (``compile(weights=...)``);
- ``threads``: how many BLAS threads each product gets, robust to a busy machine;
- ``compile_time``: the seconds Numba has spent compiling, read by ``compile_seconds()``.

Importing this package loads nothing; Numba loads with the first of these modules.
"""

import sys

__all__ = ["compile_seconds"]


def compile_seconds():
    """Seconds this process has spent compiling Numba kernels so far (0.0 before any kernel
    module has loaded); loading kernels from the on-disk cache does not count.

    >>> from tinygrad_edu.kernels.cpu import compile_seconds
    >>> before = compile_seconds()      # ... the first training step ...
    >>> print(f"compiling: {compile_seconds() - before:.1f} s")   # doctest: +SKIP
    """
    clock = sys.modules.get(__name__ + ".compile_time")
    return clock.seconds() if clock is not None else 0.0
