"""Compiled kernels for tinygrad_edu (installed as ``tinygrad_edu.kernels``).

Nothing heavy is imported here: ``tinygrad_edu.kernels.cpu`` loads Numba when it is first used.
"""

__all__ = []
