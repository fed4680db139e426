"""The scalar teaching engine: one ``Value`` node per number (micrograd style).

Its neurons, layers and MLPs are twins of the Tensor modules and live in ``tinygrad_edu.nn.scalar``.
"""

from .value import Value

__all__ = ["Value"]
