"""Computation-graph drawings for tinygrad_edu (installed as ``tinygrad_edu.viz``)."""

__all__ = []
