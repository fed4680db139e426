"""Tensors laid out as views of one flat buffer, so one backend call can update them all.

An optimizer built with ``flat=True`` keeps every parameter's data, its gradient and each kind
of optimizer state as views of one flat buffer per kind: the update (``sgd_update``,
``adam_update`` are elementwise) is then one backend call over all parameters instead of one
per parameter, with the same numbers. Everything else keeps working on the views: a view is an
ordinary array of its backend, which writes through it into the flat buffer.
"""

import math
import numbers

from ..errors import ArgumentError, GradError
from ..tensor import Tensor
from ..tensor.autodiff import mark_written

__all__ = ["FlatLayout", "FlatParameters"]


class FlatLayout:
    """Where each of ``shapes`` sits in one flat buffer: ``offsets`` and ``sizes`` in elements,
    ``total`` elements in all."""

    def __init__(self, shapes):
        self.shapes = [tuple(s) for s in shapes]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.offsets = [sum(self.sizes[:i]) for i in range(len(self.sizes))]
        self.total = sum(self.sizes)

    def views(self, backend, flat):
        """One array per shape, each a view of its stretch of ``flat``."""
        return [backend.reshape(backend.getitem(flat, slice(o, o + n)), shape)
                for o, n, shape in zip(self.offsets, self.sizes, self.shapes)]

    def pack(self, backend, arrays, dtype):
        """``(flat, views)``: a new flat buffer of ``dtype`` holding ``arrays`` (one per shape;
        None leaves zeros), and its views."""
        flat = backend.full((self.total,), 0, dtype)
        views = self.views(backend, flat)
        for view, a in zip(views, arrays):
            if a is not None:
                backend.assign_(view, a if a.dtype == dtype else backend.cast(a, dtype))
        return flat, views

    @staticmethod
    def check_views(backend, dtype, where):
        """ArgumentError unless ``backend`` gives views (not copies) of a flat buffer: a
        write through a view must land in the buffer."""
        probe = backend.full((2,), 1, dtype)
        view = backend.reshape(backend.getitem(probe, slice(0, 1)), ())
        backend.assign_(view, 0)
        if backend.to_numpy(probe).tolist()[0] != 0:
            raise ArgumentError(f"{where}: backend {backend.name!r} copies slices of an array "
                                "instead of viewing them, so parameters cannot share one flat "
                                "buffer; use flat=False")


class FlatParameters:
    """An optimizer's parameters laid out flat (``flat=True``): ``data`` and ``grad`` are flat
    buffers whose views are the parameters' data and their gradients (Tensors in ``grads``,
    kept from step to step); ``state`` is the optimizer's state of the whole buffer (key ->
    flat array or count), and each per-parameter state entry holds views of it.

    ``state`` (the optimizer's per-parameter list of dicts) is laid out in place as well.
    """

    def __init__(self, params, state, where):
        self.params = params
        self._build(state, f"{where}(flat=True)")

    # Looked up on every use, as the ops do, so a captured step records the calls.
    backend = property(lambda self: self.device.backend)

    def _build(self, state, where):
        first = self.params[0]
        for i, p in enumerate(self.params):
            if p._device is not first._device or p.dtype != first.dtype:
                raise ArgumentError(f"{where}: parameter {i} has dtype {p.dtype} on "
                                    f"{p.device!r}, parameter 0 {first.dtype} on "
                                    f"{first.device!r}; one flat buffer needs one dtype and "
                                    "device (convert the model first, or use flat=False)")
        self.device, self.dtype = first._device, first.dtype
        backend = self.backend
        FlatLayout.check_views(backend, self.dtype, where)
        self.layout = layout = FlatLayout([p.shape for p in self.params])
        self.data, self.views = layout.pack(backend, [p.data for p in self.params], self.dtype)
        self.grad, views = layout.pack(backend, [None if p.grad is None else p.grad.data
                                                 for p in self.params], self.dtype)
        self.grads = [Tensor._wrap(v, self.device) for v in views]
        for p, view, g in zip(self.params, self.views, self.grads):
            p.data, p.grad = view, g
        self.state, self.state_views = {}, {}
        self.adopt_state(state)

    def adopt_state(self, state):
        """Make the per-parameter ``state`` entries views of one flat buffer per key,
        written in place into the buffers there are already (``load_state_dict``)."""
        first, backend = state[0], self.backend
        for key in [k for k in self.state if k not in first]:
            del self.state[key]
            self.state_views.pop(key, None)
        for key, value in first.items():
            values = [entry[key] for entry in state]
            if isinstance(value, numbers.Number):
                self.state[key] = value
                continue
            if key in self.state_views:
                for view, a in zip(self.state_views[key], values):
                    backend.assign_(view, a)
            else:
                self.state[key], self.state_views[key] = self.layout.pack(backend, values,
                                                                          self.dtype)
            for entry, v in zip(state, self.state_views[key]):
                entry[key] = v

    def zero_grad(self):
        """Zero the flat gradient in place: one backend call."""
        self.backend.assign_(self.grad, 0)
        mark_written(*self.grads)
        for p, g in zip(self.params, self.grads):
            p.grad = g

    def step(self, update, grads, state, where):
        """``update(backend, data, grad, flat_state)`` once over the flat buffers, after laying
        them out again if a parameter's data was replaced (moved, converted) and copying in
        any gradient that is not its view (set anew after ``p.grad = None``)."""
        if any(p.data is not v for p, v in zip(self.params, self.views)):
            self._relayout(state, where)
            grads = [g.data for g in self.grads]   # packed from the gradients there were
        backend = self.backend
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is not self.grads[i].data:
                if g is None:
                    raise GradError(f"{where}(flat=True).step: parameter {i} (shape {p.shape}) "
                                    "has no gradient; a flat optimizer updates every "
                                    "parameter at once. Zero gradients with opt.zero_grad() "
                                    "(which keeps them), or use flat=False")
                backend.assign_(self.grads[i].data, g)
                p.grad = self.grads[i]
        known = dict(self.state)
        update(backend, self.data, self.grad, self.state)
        for key, value in self.state.items():
            if isinstance(value, numbers.Number):
                for entry in state:
                    entry[key] = value
            elif value is not known.get(key):   # made by this (first) update: view it
                self.state_views[key] = self.layout.views(backend, value)
                for entry, v in zip(state, self.state_views[key]):
                    entry[key] = v
        mark_written(*self.params)

    def _relayout(self, state, where):
        """Pack again after ``model.to(device)`` or ``astype``: the state follows the
        parameters to their device and dtype."""
        source, target = self.backend, self.params[0]._device.backend
        if target is not source:
            for entry in state:
                for key, value in entry.items():
                    if not isinstance(value, numbers.Number):
                        host = source.to_numpy(value)
                        entry[key] = target.asarray(host, host.dtype)
        self._build(state, f"{where}(flat=True)")
