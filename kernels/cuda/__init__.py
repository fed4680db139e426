"""The CUDA backend (numba.cuda), installed as ``tinygrad_edu.kernels.cuda``.

- ``backend``: ``CudaBackend``, every primitive of the numpy reference on the GPU, the backend
  of the device ``"cuda"``;
- ``array``: ``CudaArray``, the box a tensor's device data lives in (no operations outside the
  backend); ``layout``: views as shape, strides and offset;
- ``runtime``: device memory (a cache of free buffers) and the host transfers, counted;
- ``catalog``: every kernel by name and dtype, compiled on first use or to PTX; ``check``: the
  compile check of the whole catalog (``__main__`` is its command);
- kernels: ``elementwise``, ``reduce`` (and the prefix sums), ``matmul`` (tiled, with the fused
  layer's epilogue and backward pass), ``gather_kernels``, ``updates`` (the optimizers);
  ``devicefns``: the scalar math they inline, the activation registry's included;
- host side of the launches: ``dispatch``, ``reductions``, ``products``, ``indexing``,
  ``views`` (reshape, transpose, broadcast, concatenate).

``python -m tinygrad_edu.kernels.cuda --cc 9.0`` compiles the whole catalog to PTX, no GPU
needed. Importing this package loads nothing; numba.cuda loads with the modules above.
"""

__all__ = []
