"""A whole trained MLP in one compiled call: the fused inference path.

It runs a network as ``kernels.network`` describes it (a sequence of ``DenseLayer``, from the
model's ``describe()``), so it reads no attributes of nn's layers.

The graph path pays a few microseconds of Python per layer (Tensor wrapping, validation,
dispatch); for one example at a time (the ranking model answering within a latency budget) that
is most of the time. ``CompiledMLP`` copies the weights once into one aligned buffer (the
biases and slopes into another) and runs every layer in a single Numba call
(``mlp_kernel.mlp_forward``, which describes how). Weights may be stored in 16 bits
(``weights="bfloat16"`` or ``"float16"``, see ``precision``), widened to float32 as they are
loaded.

Compiled on first use, per weight format and per set of activations a network uses (an unused
activation is never compiled). The call skips Numba's dispatcher, which types every argument on
every call: the snapshot tests its input with a few attribute checks and calls the compiled
function's entry point, whose argument types it fixed when it compiled.

One call runs on one thread: next to numpy's BLAS, whose threads busy-wait after each call,
two thread pools fight for the cores (README has the figures), and batch-1 latency gains
nothing from threads. Calls from several threads at once are safe and run in parallel (the
kernels release the GIL): each takes a scratch buffer no other running call holds.

>>> fast = model.compile()      # a snapshot of model's weights
>>> scores = fast(x)            # numpy array, same values as model(x)
>>> fast(x, out=scores)         # the same, written into an array of yours
>>> fast.refresh()              # after more training, copy the new weights in
"""

import numba
import numpy as np
from numba import types

from ... import activations as sm
from ...errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from ..network import check_network
from .mlp_kernel import mlp_forward
from .precision import NATIVE, encode_weights, storage_format

__all__ = ["CompiledMLP"]


class CompiledMLP:
    """A snapshot of a dense network's weights that runs inference in one Numba call.

    ``CompiledMLP(model)`` (or ``mlp.compile()``) takes any ``model`` with a ``describe()``
    method that returns a sequence of ``kernels.network.DenseLayer`` (``nn.MLP`` has one;
    PReLU layers are described as leaky ReLU with their learned slope) and copies the weights.
    Later training does not change the snapshot until ``refresh()`` calls ``describe()`` again.
    Calling it with ``x`` of shape ``(nin,)`` or ``(batch, nin)`` (a numpy array, a Tensor or
    nested lists) returns a numpy array of shape ``(nout,)`` or ``(batch, nout)`` equal to
    ``model(x)`` up to rounding. No graph is recorded: this path is for inference only.

    ``weights``: None (stored in the model's dtype), ``"bfloat16"`` or ``"float16"``: stored
    in 16 bits, rounded to nearest even, with biases, inputs, outputs and all arithmetic in
    float32 (a float32 model only). Scores then differ from ``model(x)`` by the weights'
    rounding (see ``kernels.cpu.precision``; README has the accuracy cost measured).

    Attributes: ``sizes`` (the input size, then every layer's output size), ``codes`` (the
    layers' activation codes), ``dtype`` (of inputs and outputs), ``weights`` (the storage:
    ``"float32"``, ``"float64"``, ``"bfloat16"`` or ``"float16"``), ``nin``, ``nout``.
    Raises ArgumentTypeError for a model without ``describe()``, the errors of
    ``kernels.network.check_network`` for a description that does not fit together,
    ArgumentError for an unknown ``weights`` or a weight float16 cannot hold, and DTypeError
    for 16-bit weights of a float64 model.
    """

    def __init__(self, model, weights=None):
        self._model = model
        layers = _describe(model, "CompiledMLP")
        # The canonical dtype object, so that the call's fast path can test it with ``is``.
        self.dtype = np.dtype(layers[0].weight.dtype.type)
        self._fmt = storage_format(weights, self.dtype, "CompiledMLP")
        self.weights = self.dtype.name if self._fmt == NATIVE else weights
        self.sizes = np.array([layers[0].nin] + [layer.nout for layer in layers], np.int64)
        self.codes = np.array([layer.code for layer in layers], np.int64)
        self._width = int(self.sizes[1:-1].max()) if self.sizes.size > 2 else 1
        self._vector, self._scores = (self.nin,), (self.nout,)
        self._row, self._row_scores = (1, self.nin), (1, self.nout)
        self._one_layer = len(layers) == 1
        # Scratch buffers not in use by a running call, each with room for at least one
        # example. The kernels release the GIL, and two calls sharing a buffer would overwrite
        # each other's hidden activations.
        self._idle = []
        self._load(layers)
        self._kernel = _entry_point(self.dtype, self._fmt, self.codes)

    @property
    def nin(self):
        return int(self.sizes[0])

    @property
    def nout(self):
        return int(self.sizes[-1])

    def refresh(self):
        """Copy the model's current weights, biases and slopes (a new ``describe()``) into the
        snapshot; returns the snapshot.

        Raises ShapeError when the layer sizes, activations or dtype have changed since the
        snapshot was compiled: compile the model again then. On any error the snapshot is
        left as it was.
        """
        layers = _describe(self._model, "CompiledMLP.refresh")
        sizes = [layers[0].nin] + [layer.nout for layer in layers]
        codes = [layer.code for layer in layers]
        dtype = layers[0].weight.dtype
        if sizes != self.sizes.tolist() or codes != self.codes.tolist() or dtype != self.dtype:
            raise ShapeError(f"CompiledMLP.refresh: the network is now "
                             f"{_layout(sizes, codes, dtype)}, it was compiled as "
                             f"{_layout(self.sizes, self.codes, self.dtype)}; compile the model "
                             "again after changing its layers")
        self._load(layers, "CompiledMLP.refresh")
        return self

    def _load(self, layers, where="CompiledMLP"):
        # What mlp_forward reads: the weights (in the storage format) one after another, the
        # vectors (biases, zeros for a layer without one, then the slopes) and the layout.
        # Built completely before replacing the old, so a refused weight changes nothing.
        if self._fmt == NATIVE:
            weights = [layer.weight.reshape(-1) for layer in layers]
        else:
            weights = [encode_weights(layer.weight.reshape(-1), self._fmt, where, i)
                       for i, layer in enumerate(layers)]
        vectors = [layer.bias if layer.bias is not None else np.zeros(layer.nout, self.dtype)
                   for layer in layers] + [np.array([layer.slope for layer in layers])]
        meta = np.concatenate([[len(layers)], self.sizes, self.codes]).astype(np.int64)
        # One attribute, replaced at once: a call running beside refresh() reads the old
        # snapshot or the new, never the weights of one with the biases of the other.
        self._state = (_aligned(np.concatenate(weights)),
                       _aligned(np.concatenate(vectors).astype(self.dtype)), meta)

    def __call__(self, x, out=None):
        """Scores for ``x`` (one example of shape ``(nin,)`` or a batch ``(batch, nin)``).

        ``out``: None (a new array), or a C-contiguous writeable numpy array of ``dtype`` and
        the result's shape, which receives the scores and is returned; no memory is allocated
        for the call then. Raises ShapeError / DTypeError for an input or ``out`` that does not
        fit, ArgumentTypeError / ArgumentError for an ``out`` that is not a writeable
        C-contiguous array or (one-layer networks) overlaps ``x``; nothing is written then.
        """
        dtype = self.dtype
        if type(x) is not np.ndarray or x.dtype is not dtype or not x.flags.carray:
            x = _as_input(x, dtype, self.nin)
        shape = x.shape
        # One example, the latency path, as a vector or a batch of one: the checks inlined.
        if shape == self._vector or shape == self._row:
            scores = self._scores if shape == self._vector else self._row_scores
            if out is None:
                out = np.empty(scores, dtype)
            elif not (type(out) is np.ndarray and out.dtype is dtype
                      and out.shape == scores and out.flags.carray) or self._one_layer:
                _check_out(out, scores, dtype, x, self._one_layer)   # raises, or fine
            try:
                scratch = self._idle.pop()   # atomic under the GIL
            except IndexError:
                scratch = np.empty(2 * self._width, dtype)
            weights, vectors, meta = self._state
            # The kernel takes flat arrays; the two constants are compiled into it (any int).
            if shape == self._vector:
                self._kernel(x, out, scratch, weights, vectors, meta, 0, 0)
            else:
                self._kernel(x.reshape(self._vector), out.reshape(self._scores), scratch,
                             weights, vectors, meta, 0, 0)
            self._idle.append(scratch)
            return out
        if x.ndim != 2 or x.shape[1] != self.nin:
            _as_input(x, dtype, self.nin)   # raises the shape error
        rows = x.shape[0]
        if out is None:
            out = np.empty((rows, self.nout), dtype)
        else:
            _check_out(out, (rows, self.nout), dtype, x, self._one_layer)
        try:
            scratch = self._idle.pop()
        except IndexError:
            scratch = None
        if scratch is None or scratch.size < 2 * rows * self._width:
            scratch = np.empty(2 * rows * self._width, dtype)
        weights, vectors, meta = self._state
        self._kernel(x.reshape(-1), out.reshape(-1), scratch, weights, vectors, meta, 0, 0)
        self._idle.append(scratch)
        return out

    def __repr__(self):
        stored = "" if self._fmt == NATIVE else f", weights={self.weights}"
        return f"CompiledMLP({'→'.join(map(str, self.sizes))}, dtype={self.dtype}{stored})"


def _entry_point(dtype, fmt, codes):
    """mlp_forward compiled (or loaded from the cache) for one dtype, weight format and set of
    activations, as the compiled function itself.

    Calling it skips the dispatcher's matching of every argument's type to a compiled
    version; in exchange the caller must pass exactly these types (1-D C-contiguous aligned
    arrays; any int for the two constants, which are compiled in).
    """
    acts = int(np.bitwise_or.reduce(1 << codes))
    array = types.Array(numba.from_dtype(dtype), 1, "C")
    stored = array if fmt == NATIVE else types.Array(types.uint16, 1, "C")
    signature = (array, array, array, stored, array, types.Array(types.int64, 1, "C"),
                 types.literal(fmt), types.literal(acts))
    mlp_forward.compile(signature)
    return mlp_forward.overloads[signature].entry_point


def _check_out(out, shape, dtype, x, one_layer):
    """Refuse an ``out=`` the kernel could not write safely, before anything is written."""
    if not (type(out) is np.ndarray and out.dtype is dtype and out.shape == shape
            and out.flags.carray):   # C-contiguous, aligned and writeable
        if not isinstance(out, np.ndarray):
            raise ArgumentTypeError(f"CompiledMLP: out must be a numpy array, got "
                                    f"{type(out).__name__}")
        if out.dtype != dtype or out.shape != shape:
            error = DTypeError if out.shape == shape else ShapeError
            raise error(f"CompiledMLP: out has shape {out.shape} and dtype {out.dtype}, "
                        f"expected {shape} {dtype}")
        if not out.flags.writeable:
            raise ArgumentError("CompiledMLP: out is read-only; pass a writeable array")
        if not out.flags.carray:
            raise ArgumentError("CompiledMLP: out must be C-contiguous (got a strided or "
                                "unaligned view); pass np.empty(shape, dtype)")
    # A one-layer network reads x while it writes out; deeper ones read x only in layer 0,
    # which writes the scratch buffer.
    if one_layer and np.may_share_memory(out, x):
        raise ArgumentError("CompiledMLP: out overlaps the input x; pass another array")


def _aligned(array, alignment=64):
    """``array`` copied to memory that starts on an ``alignment``-byte boundary (a cache line):
    where a weight row starts inside a cache line decides how many lines each vector load
    touches, and made batch-1 latency vary by a fifth between otherwise equal snapshots."""
    raw = np.empty(array.nbytes + alignment, np.uint8)
    start = -raw.ctypes.data % alignment
    out = raw[start:start + array.nbytes].view(array.dtype)
    out[...] = array
    return out


def _describe(model, where):
    """``model.describe()``, checked to be a network the kernels can run."""
    describe = getattr(model, "describe", None)
    if not callable(describe):
        raise ArgumentTypeError(f"{where}: expected a model with a describe() method returning "
                                f"kernels.network.DenseLayer objects (an nn.MLP has one), got "
                                f"{type(model).__name__}")
    return check_network(describe(), where)


_NAMES = {code: name for name, code in sm.ACTIVATION_CODES.items()}


def _layout(sizes, codes, dtype):
    """The sizes and each layer's activation, for messages: ``5→8 relu→1 identity, float32``."""
    outputs = [f"{n} {_NAMES[int(c)]}" for n, c in zip(list(sizes)[1:], codes)]
    return "→".join([str(sizes[0])] + outputs) + f", {dtype}"


def _as_input(x, dtype, nin):
    array = x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x
    array = np.asarray(array)
    if array.dtype.kind not in "fiu":
        raise DTypeError(f"CompiledMLP: input must be numbers, got dtype {array.dtype}")
    if array.ndim not in (1, 2) or array.shape[-1] != nin:
        raise ShapeError(f"CompiledMLP: input has shape {array.shape}, expected ({nin},) or "
                         f"(batch, {nin})")
    array = np.ascontiguousarray(array, dtype=dtype)
    # The kernel needs aligned memory too (a view of a byte buffer may not be): copy then.
    return array if array.flags.aligned else array.copy()
