"""Exceptions raised for user mistakes, and the warnings for numbers that went wrong.

Each exception subclasses the builtin a Python user would catch (ValueError, TypeError, ...),
so ``except ValueError`` keeps working, while ``except TinygradEduError`` catches all of ours.
"""

__all__ = ["TinygradEduError", "ArgumentError", "ArgumentTypeError", "ShapeError", "DTypeError",
           "GradError", "AxisError", "IndexingError", "DeviceError", "CheckpointError",
           "NonFiniteError", "AllocationError", "TinygradEduWarning", "NonFiniteValueWarning"]


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


class CheckpointError(TinygradEduError, ValueError):
    """A file that is not a readable checkpoint: empty, truncated, corrupt, or of another kind
    (a pickle, a single .npy array); the message names the file and what is wrong with it."""


class NonFiniteError(TinygradEduError, FloatingPointError, RuntimeError):
    """A NaN or infinite value where a finite one is needed: found by ``detect_anomaly()`` at
    the op that made it, or a gradient norm that ``clip_grad_norm_`` cannot clip."""


class AllocationError(TinygradEduError, MemoryError):
    """A tensor too large for the memory there is (the size it asked for is in the message)."""


class TinygradEduWarning(UserWarning):
    """Base class of the warnings tinygrad_edu gives about the numbers it computes."""


class NonFiniteValueWarning(TinygradEduWarning, RuntimeWarning):
    """A loss (or a gradient norm) that is NaN or infinite: training has diverged or an op
    overflowed. Turn it into an error with ``warnings.simplefilter("error",
    NonFiniteValueWarning)``, and find the op with ``tinygrad_edu.detect_anomaly()``."""
