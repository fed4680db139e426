"""Tensor nonlinearities: the activations and the softmax family.

A mixin of ``Tensor``. The activations are one primitive (``primitives.Activation``) selected
by a code of the activation registry (``tinygrad_edu.activations``); prelu and the softmax
family are composed from primitives.
"""

from . import primitives
from .. import activations as sm
from ..errors import ArgumentError
from .validation import axis_spellings, normalize_axis

__all__ = ["TensorActivations"]

_GELU_CODES = {"none": sm.GELU, "tanh": sm.GELU_TANH}


class TensorActivations:
    """Activation functions and softmax, logsoftmax, logsumexp as Tensor methods."""

    __slots__ = ()

    def _activation(self, name, code, slope=0.0):
        self._require_float(name)
        return primitives.Activation.apply(self, code=code, slope=float(slope), name=name)

    def relu(self):
        """max(0, x)."""
        return self._activation("relu", sm.RELU)

    def leaky_relu(self, negative_slope=0.01):
        """x for x > 0, else negative_slope * x."""
        return self._activation("leaky_relu", sm.LEAKY_RELU, negative_slope)

    def sigmoid(self):
        """1 / (1 + e^-x), stable for large |x|."""
        return self._activation("sigmoid", sm.SIGMOID)

    def tanh(self):
        """Hyperbolic tangent."""
        return self._activation("tanh", sm.TANH)

    def gelu(self, approximate="none"):
        """GELU: x * Phi(x) exactly (``"none"``) or with the tanh approximation (``"tanh"``)."""
        if approximate not in _GELU_CODES:
            raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return self._activation("gelu" if approximate == "none" else "gelu_tanh",
                                _GELU_CODES[approximate])

    def silu(self):
        """x * sigmoid(x) (also called swish)."""
        return self._activation("silu", sm.SILU)

    def prelu(self, weight):
        """x for x > 0, else weight * x, with a learnable ``weight`` (broadcast over x)."""
        x, w = self._binary(weight, "prelu")
        return primitives.Where.apply(x > 0, x, x * w)

    @axis_spellings
    def softmax(self, axis=-1):
        """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
        shifted, _, axes = self._minus_max("softmax", axis)
        e = shifted.exp()
        return e / e.sum(axes, keepdims=True)

    @axis_spellings
    def log_softmax(self, axis=-1):
        """x - logsumexp(x) along ``axis``, computed stably."""
        shifted, _, axes = self._minus_max("log_softmax", axis)
        return shifted - shifted.exp().sum(axes, keepdims=True).log()

    @axis_spellings
    def logsumexp(self, axis=-1, keepdims=False):
        """log(sum(exp(x))) along ``axis`` without overflow (the max is subtracted first)."""
        shifted, shift, axes = self._minus_max("logsumexp", axis)
        out = shifted.exp().sum(axes, keepdims=True).log() + shift
        return out if keepdims else out.reshape(primitives._reduced_shape(self.shape, axes))

    def _minus_max(self, op, axis):
        """``(x - m, m, axes)`` with m the max along ``axis``, held constant.

        exp(x - m) cannot overflow, and softmax, log_softmax and logsumexp - m are unchanged by
        a shift, so a constant m leaves their gradients exact. Working from x - m (rather than
        x - logsumexp(x)) also keeps float32 results precise for inputs far from 0.
        """
        self._require_float(op)
        axes = normalize_axis(axis, self.ndim, op)
        be = self._device.backend
        if all(self.shape[a] for a in (range(self.ndim) if axes is None else axes)):
            shift = be.max(self.data, axes, True)
        else:   # a max over nothing does not exist; the empty sum's log is then -inf, as in PyTorch
            kept = tuple(1 if axes is None or a in axes else n for a, n in enumerate(self.shape))
            shift = be.full(kept, 0, self.dtype)
        # An infinite max would give inf - inf.
        shift = be.where(be.isfinite(shift), shift, self.dtype.type(0))
        shift = self._op_result(shift, self._device, False)
        return self - shift, shift, axes
