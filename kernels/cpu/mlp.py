"""A whole trained MLP in one compiled call: the fused inference path.

It runs a network as ``kernels.network`` describes it (a sequence of ``DenseLayer``, from the
model's ``describe()``), so it reads no attributes of nn's layers.

The graph path runs a network layer by layer, and each layer costs a few microseconds of Python
(Tensor wrapping, validation, dispatch) on top of its arithmetic. For one example at a time
(the textbook's ranking model answering within a latency budget) that overhead is most of the
time. ``CompiledMLP`` copies the weights once into one contiguous buffer and runs every layer
inside a single Numba call: no graph, no Tensors, no allocation per layer (two preallocated
ping-pong buffers hold the activations).

Each layer reads its weight matrix in place, row by row: a block of up to ``ROWS`` examples
times 64 output columns (float32) is accumulated in registers while the inputs stream through,
then bias and activation are applied as the block is stored.

One call runs on one thread. Splitting the rows over two threads made small batches faster when
nothing else ran, but a program that also calls numpy's BLAS has an OpenBLAS thread
busy-waiting for ~0.1 s after each such call, and the two thread pools then fight for the
cores, making a call two orders of magnitude slower (README has the figures). Batch-1 latency,
the point of this path, gains nothing from threads. Calls from several threads at once are
safe and run in parallel (the kernels release the GIL): each call takes scratch buffers no
other running call holds.

>>> fast = model.compile()      # a snapshot of model's weights
>>> scores = fast(x)            # numpy array, same values as model(x)
>>> fast.refresh()              # after more training, copy the new weights in
"""

import numba
import numpy as np
from numba import njit

from ... import activations as sm
from ...errors import ArgumentTypeError, DTypeError, ShapeError
from ..network import check_network
from .activations import activate, bias_activation
from .intrinsics import runtime_int, stack_tile, tile_width

__all__ = ["CompiledMLP", "mlp_forward"]

ROWS = 4   # examples per register block when the batch has at least that many


@njit(cache=True, nogil=True, fastmath={"contract"})
def _block(inp, i0, rows, tiles, params, w_off, b_off, nin, nout, j0, code, slope, out):
    """out[i0:i0+rows, j0:j0+tiles*NR] = act(inp[i0:i0+rows] @ W[:, those columns] + b).

    ``rows`` and ``tiles`` are compile-time constants with rows * tiles <= ROWS (4):
    16 vector accumulators. Each weight row segment is loaded once and used by every row of
    the block; the weights are read in place (row-major W, no packing).
    """
    nr = tile_width(params.dtype)
    acc = numba.carray(stack_tile(ROWS, params.dtype), (rows * tiles, nr))
    for r in range(rows * tiles):
        for j in range(nr):
            acc[r, j] = 0
    for p in range(nin):
        start = w_off + p * nout + j0
        wrow = params[start:start + tiles * nr]
        for t in range(tiles):
            for j in range(nr):
                wv = wrow[t * nr + j]
                for r in range(rows):
                    acc[r * tiles + t, j] += inp[i0 + r, p] * wv
    for r in range(rows):
        orow = out[i0 + r, j0:j0 + tiles * nr]
        for t in range(tiles):
            for j in range(nr):
                orow[t * nr + j] = acc[r * tiles + t, j]
    # Bias and activation in place, with a loop compiled per activation (vectorized).
    bias_activation(out, out, i0, j0, runtime_int(rows), tiles * nr,
                    params[b_off:b_off + nout], code, slope)


@njit(cache=True, nogil=True)
def _layer(inp, n, params, w_off, b_off, nin, nout, code, slope, out):
    """One dense layer for the first n rows of inp, in register blocks."""
    nr = tile_width(params.dtype)
    full = nout - nout % nr
    i0 = runtime_int(0)   # a literal 0 would compile _block once more (see runtime_int)
    while i0 + ROWS <= n:
        for j0 in range(0, full, nr):
            _block(inp, i0, ROWS, 1, params, w_off, b_off, nin, nout, j0, code, slope, out)
        i0 += ROWS
    for i in range(i0, n):   # single rows: spread the accumulators over more columns instead
        j0 = runtime_int(0)
        while j0 + 4 * nr <= full:
            _block(inp, i, 1, 4, params, w_off, b_off, nin, nout, j0, code, slope, out)
            j0 += 4 * nr
        if j0 + 2 * nr <= full:
            _block(inp, i, 1, 2, params, w_off, b_off, nin, nout, j0, code, slope, out)
            j0 += 2 * nr
        if j0 < full:
            _block(inp, i, 1, 1, params, w_off, b_off, nin, nout, j0, code, slope, out)
    # Columns past the last full tile (e.g. a single output score): plain dot products.
    for j in range(full, nout):
        for i in range(n):
            s = params[b_off + j]
            for p in range(nin):
                s += inp[i, p] * params[w_off + p * nout + j]
            out[i, j] = activate(code, s, slope)


@njit(cache=True, nogil=True)
def mlp_forward(x, params, meta, scratch, out):
    """Run a whole MLP on the rows of ``x`` (n, nin), writing ``out`` (n, nout).

    ``meta`` (int64): the number of layers L, the L + 1 layer sizes, then the L activation
    codes. ``params``: per layer its weight (row-major, nin x nout) then its bias, and at the
    end the L activation slopes. ``scratch``: (2, >= n, widest hidden layer), ping-pong
    buffers for the hidden activations. Few arguments, because each costs dispatch time.
    """
    n = x.shape[0]
    nlayers = meta[0]
    slopes = params[params.size - nlayers:]
    inp = x
    off = runtime_int(0)   # a literal 0 would compile _layer twice (see runtime_int)
    for layer in range(nlayers):
        nin, nout = meta[1 + layer], meta[2 + layer]
        dst = out if layer == nlayers - 1 else scratch[layer % 2]
        _layer(inp, n, params, off, off + nin * nout, nin, nout, meta[2 + nlayers + layer],
               slopes[layer], dst)
        off += nin * nout + nout
        inp = dst


class CompiledMLP:
    """A snapshot of a dense network's weights that runs inference in one Numba call.

    ``CompiledMLP(model)`` (or ``mlp.compile()``) takes any ``model`` with a ``describe()``
    method that returns a sequence of ``kernels.network.DenseLayer`` (``nn.MLP`` has one;
    PReLU layers are described as leaky ReLU with their learned slope) and copies the weights.
    Later training does not change the snapshot until ``refresh()`` calls ``describe()`` again.
    Calling it with ``x`` of shape ``(nin,)`` or ``(batch, nin)`` (a numpy array, a Tensor or
    nested lists) returns a numpy array of shape ``(nout,)`` or ``(batch, nout)`` equal to
    ``model(x)`` up to rounding. No graph is recorded: this path is for inference only.

    Attributes: ``sizes`` (the input size, then every layer's output size), ``codes`` (the
    layers' activation codes), ``dtype``, ``nin``, ``nout``.
    Raises ArgumentTypeError for a model without ``describe()``, and the errors of
    ``kernels.network.check_network`` for a description that does not fit together.
    """

    def __init__(self, model):
        self._model = model
        layers = _describe(model, "CompiledMLP")
        self.dtype = layers[0].weight.dtype
        self.sizes = np.array([layers[0].nin] + [layer.nout for layer in layers], np.int64)
        self.codes = np.array([layer.code for layer in layers], np.int64)
        self._meta = np.concatenate([[len(layers)], self.sizes, self.codes]).astype(np.int64)
        # Scratch buffers not in use by a running call. The kernels release the GIL, and two
        # calls sharing a buffer would overwrite each other's hidden activations.
        self._idle = []
        self._load(layers)

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
        snapshot was compiled: compile the model again then.
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
        self._load(layers)
        return self

    def _load(self, layers):
        # One buffer: per layer its row-major weight then its bias (zeros without one), then
        # every layer's slope, the layout mlp_forward reads.
        chunks = []
        for layer in layers:
            bias = layer.bias if layer.bias is not None else np.zeros(layer.nout, self.dtype)
            chunks += [layer.weight.reshape(-1), bias]
        slopes = np.array([layer.slope for layer in layers])
        self.params = np.concatenate(chunks + [slopes]).astype(self.dtype)

    def __call__(self, x):
        if not (type(x) is np.ndarray and x.dtype == self.dtype and x.flags.c_contiguous):
            x = _as_input(x, self.dtype, self.nin)   # the fast path skips this for arrays
        if x.ndim == 2 and x.shape[1] == self.nin:
            out = np.empty((x.shape[0], self.nout), self.dtype)
            scratch = self._claim(x.shape[0])
            mlp_forward(x, self.params, self._meta, scratch, out)
            self._idle.append(scratch)
            return out
        if x.ndim != 1 or x.shape[0] != self.nin:
            _as_input(x, self.dtype, self.nin)   # raises the shape error
        out = np.empty((1, self.nout), self.dtype)
        scratch = self._claim(1)
        mlp_forward(x.reshape(1, -1), self.params, self._meta, scratch, out)
        self._idle.append(scratch)
        return out.reshape(-1)

    def _claim(self, rows):
        """Ping-pong buffers for the hidden activations of ``rows`` examples that no running
        call holds: an idle one (``list.pop`` is atomic under the GIL) or a new one."""
        try:
            scratch = self._idle.pop()
        except IndexError:
            scratch = None
        if scratch is None or rows > scratch.shape[1]:
            width = int(self.sizes[1:-1].max()) if self.sizes.size > 2 else 1
            scratch = np.empty((2, rows, width), self.dtype)
        return scratch

    def __repr__(self):
        return f"CompiledMLP({'→'.join(map(str, self.sizes))}, dtype={self.dtype})"


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
    return np.ascontiguousarray(array, dtype=dtype)
