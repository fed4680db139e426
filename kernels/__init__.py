"""Compiled kernels for tinygrad_edu (installed as ``tinygrad_edu.kernels``).

- ``cpu/``: the Numba CPU backend and its kernels (matmul, activations, the fused layer, the
  fused MLP inference path);
- ``network``: the description of a dense network that the fused inference path runs
  (weights, biases and activation per layer), which ``nn.MLP`` builds.

Nothing heavy is imported here: Numba loads when a kernel module is first used.
"""

__all__ = []
