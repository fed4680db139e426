"""The Numba CPU backend (``backend.NumbaBackend``) and its kernels.

- ``backend``: ``NumbaBackend``, the default CPU backend when Numba is installed;
- ``matmul`` / ``skinny``: the register-tiled blocked matmul and the unpacked loops for one or
  two rows, columns or depth; ``intrinsics``: the stack tile they accumulate in;
- ``activations``: the activation registry's formulas compiled with ``njit``;
- ``fused``: the fused layer ``activation(x @ W + b)``, forward and backward;
- ``mlp``: ``CompiledMLP``, a whole MLP's inference in one call (``nn.MLP.compile()``).

Importing this package loads nothing; Numba loads with the first of these modules.
"""

__all__ = []
