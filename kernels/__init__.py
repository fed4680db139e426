"""Compiled kernels for tinygrad_edu (installed as ``tinygrad_edu.kernels``).

- ``cpu``: ``NumbaBackend``, the default CPU backend when Numba is installed;
- ``matmul`` / ``skinny``: the register-tiled blocked matmul and the unpacked loops for one or
  two rows, columns or depth; ``intrinsics``: the stack tile they accumulate in;
- ``activations``: the activations of ``tinygrad_edu.scalar_math`` compiled with ``njit``;
- ``fused``: the fused layer ``activation(x @ W + b)``, forward and backward;
- ``mlp``: ``CompiledMLP``, a whole MLP's inference in one call (``nn.MLP.compile()``).

Nothing heavy is imported here: Numba loads when one of these modules is first used.
"""

__all__ = []
