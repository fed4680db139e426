"""Exceptions raised for user mistakes.

Each one subclasses the builtin a Python user would catch (ValueError, TypeError, ...), so
``except ValueError`` keeps working, while ``except TinygradEduError`` catches all of ours.
"""

__all__ = ["TinygradEduError", "ArgumentError", "ArgumentTypeError", "ShapeError", "DTypeError",
           "GradError", "AxisError", "IndexingError", "DeviceError"]


class TinygradEduError(Exception):
    """Base class of every error tinygrad_edu raises for bad input."""


class ArgumentError(TinygradEduError, ValueError):
    """An argument with a value the function cannot take: an unknown name, a bad range."""


class ArgumentTypeError(TinygradEduError, TypeError):
    """An argument of the wrong kind of object (a Tensor where a list of them is expected...)."""


class ShapeError(TinygradEduError, ValueError):
    """Shapes that cannot work together: matmul, broadcast, reshape, cat, backward's grad."""


class DTypeError(TinygradEduError, TypeError):
    """Data or dtypes the op cannot take: strings, complex numbers, integer tensors with grad."""


class GradError(TinygradEduError, RuntimeError):
    """Misuse of the autodiff machinery, such as backward() on a non-scalar without grad."""


class AxisError(TinygradEduError, IndexError):
    """An axis or permutation that does not exist for the tensor's number of dimensions."""


class IndexingError(TinygradEduError, IndexError):
    """An index that is out of range or of a kind the op does not accept."""


class DeviceError(TinygradEduError, RuntimeError):
    """A known device that cannot be used here; the message says why and how to fix it."""
