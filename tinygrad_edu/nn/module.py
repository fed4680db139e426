"""``Module``: the base of every layer and network, plus ``Parameter`` and the containers.

A Module keeps its parameters and child modules in ordered dicts filled by attribute
assignment (``self.weight = Parameter(...)``, ``self.fc = Linear(...)``), so
``named_parameters()`` can name everything with dotted paths such as ``layers.0.weight``.
Calling a module runs ``forward`` inside ``context.module_scope``: every tensor made there
records which modules were running, which lets a graph renderer group nodes by module.
"""

import inspect
import os
from collections import namedtuple

import numpy as np

from ..backends import Device
from ..errors import ArgumentTypeError, DTypeError, ShapeError, TinygradEduError
from ..tensor import Tensor, context
from ..tensor.autodiff import mark_written
from . import checkpoint

__all__ = ["Parameter", "Module", "ModuleList", "Sequential", "RemovableHandle",
           "IncompatibleKeys", "StateDictError"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictError(TinygradEduError, KeyError):
    """A state dict whose keys do not match the module's parameters."""

    def __str__(self):
        # KeyError's own __str__ would print the message in quotes.
        return str(self.args[0])


class Parameter(Tensor):
    """A Tensor that is a learnable parameter of a Module: floating and ``requires_grad``.

    Integer or boolean data becomes float32. Modules register Parameters assigned to their
    attributes, and graph renderers draw them as parameters. Wrap random or filled values as
    ``Parameter(Tensor.randn(3, 2))``; the class constructors (``Parameter.zeros(...)``) follow
    their own ``requires_grad=`` argument like Tensor's.

    >>> w = Parameter([0.5, -1.0]); w.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None, device="cpu", label=""):
        kind = np.asarray(data.numpy() if isinstance(data, Tensor) else data).dtype.kind
        if dtype is None and kind in "iub":
            dtype = np.float32
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device,
                         label=label)
        if self.dtype.kind != "f":
            raise DTypeError(f"Parameter: parameters must be floating, got dtype {self.dtype}")

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``remove()`` detaches the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)


class Module:
    """Base class of layers and networks.

    Subclasses call ``super().__init__()`` first, assign Parameters and Modules as attributes
    (a list of Modules becomes a ``ModuleList``), and implement ``forward``. Calling the module
    runs ``forward`` and then any forward hooks.
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes (while setting {name!r})")
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, Module) for v in value):
            value = ModuleList(value)
        # As in PyTorch: a registered parameter or submodule is replaced only by another one
        # (or None), never silently dropped from parameters() by a plain value.
        if value is not None:
            if name in params and not isinstance(value, Parameter):
                raise ArgumentTypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to "
                    f"{name!r}, which is a Parameter: it would drop out of parameters(), "
                    f"state_dict() and training. Change its values with "
                    f"self.{name}.copy_(value), replace it with Parameter(value), or del it "
                    "first")
            if name in self._modules and not isinstance(value, Module):
                raise ArgumentTypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to "
                    f"{name!r}, which is a submodule; assign a Module (or None), or del it "
                    "first")
        params.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # ---- running ----
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        with context.module_scope(self):
            out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after every forward; a non-None return value
        replaces the output. Returns a handle whose ``remove()`` detaches the hook.
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---- walking the module tree ----
    def named_modules(self, prefix=""):
        """Yield ``(dotted_name, module)`` for this module (named ``prefix``, "" by default)
        and every descendant, parents before children, each module once."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self):
        """This module and all its descendants."""
        return [m for _, m in self.named_modules()]

    def children(self):
        """The direct child modules."""
        return list(self._modules.values())

    def named_parameters(self):
        """Yield ``(dotted_name, parameter)`` for every parameter, each one once."""
        seen = set()
        for module_name, module in self.named_modules():
            for key, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{key}" if module_name else key), p

    def parameters(self):
        """A list of all parameters (for an optimizer)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: forget them (``grad = None``; the default,
        as in PyTorch 2) or, with ``set_to_none=False``, fill them with zeros in place."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def train(self, mode=True):
        """Set training mode on this module and its descendants; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def astype(self, dtype):
        """Convert every parameter to ``dtype`` in place (gradients are dropped); returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise DTypeError(f"{type(self).__name__}.astype: parameters must be floating, got "
                             f"{dtype}")
        for p in self.parameters():
            p.data = p._device.backend.cast(p.data, dtype)
            p.grad = None
        return self

    def to(self, target):
        """Move every parameter (and its gradient) in place to ``target``, a device such as
        ``"cuda"``, or convert them to ``target``, a dtype (as ``astype``); returns self.

        Optimizers built before a move follow their parameters: their state moves with them on
        the next ``step()``.
        """
        if not isinstance(target, (str, Device)):
            return self.astype(target)
        for p in self.parameters():
            p._relocate_(target)
        return self

    def cpu(self):
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self):
        """``to("cuda")``."""
        return self.to("cuda")

    def double(self):
        """Parameters as float64 (for gradcheck); returns self."""
        return self.astype(np.float64)

    def float(self):
        """Parameters as float32; returns self."""
        return self.astype(np.float32)

    # ---- saving and loading ----
    def state_dict(self):
        """A dict of dotted parameter names to numpy copies of their values."""
        return {name: np.array(p.numpy()) for name, p in self.named_parameters()}

    def load_state_dict(self, state, strict=True):
        """Copy values from ``state`` (name -> array) into the parameters, cast to their dtype.

        With ``strict`` a missing or unexpected key is a ``StateDictError`` (a KeyError) naming
        the keys; otherwise they are skipped. A shape mismatch is always a ShapeError naming
        the key.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = dict(self.named_parameters())
        if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
            raise ArgumentTypeError(f"{type(self).__name__}.load_state_dict: expected a dict of "
                                    f"names to arrays (from state_dict()), got "
                                    f"{type(state).__name__}")
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise _mismatch(f"{type(self).__name__}.load_state_dict", "the state", missing,
                            unexpected)
        for name, p in own.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ShapeError(f"{type(self).__name__}.load_state_dict: {name!r} has shape "
                                 f"{value.shape} in the state but {p.shape} in the module")
            if value.dtype.kind not in "fiu":
                raise DTypeError(f"{type(self).__name__}.load_state_dict: {name!r} has dtype "
                                 f"{value.dtype}; expected numbers")
        loaded = []
        for name, p in own.items():
            if name in state:
                be = p._device.backend
                be.assign_(p.data, be.asarray(np.asarray(state[name]), p.dtype))
                loaded.append(p)
        mark_written(*loaded)
        return IncompatibleKeys(missing, unexpected)

    def save(self, path):
        """Write ``state_dict()`` to a ``.npz`` file (plain arrays, no pickle). As with
        ``numpy.savez``, ``.npz`` is appended to a file name that lacks it.

        The write is atomic: the file is written beside ``path``, flushed to disk and renamed
        over it, so a save that fails (disk full, a file-size limit, an interrupt) leaves any
        previous checkpoint at ``path`` intact. A file object is written to as it is.
        """
        if not isinstance(path, (str, os.PathLike)):
            np.savez(path, **self.state_dict())
            return
        checkpoint.write_arrays(checkpoint.npz_path(path), self.state_dict(),
                                f"{type(self).__name__}.save")

    def load(self, path, strict=True):
        """Load parameters saved by ``save(path)`` (the same ``.npz`` suffix rule applies;
        an open binary file works too); returns self.

        The names and the shapes each array declares are checked against the module before
        any data is decompressed, and nothing changes unless everything loads. Raises
        CheckpointError (a ValueError) naming the file when it is empty, truncated, corrupt or
        not a checkpoint (a pickle is never unpickled), ``StateDictError`` for names that do not
        match (see ``strict``), ShapeError and DTypeError as ``load_state_dict`` does.
        """
        where = f"{type(self).__name__}.load"
        if isinstance(path, (str, os.PathLike)):
            path = checkpoint.npz_path(path)
        own = dict(self.named_parameters())
        arrays, missing, unexpected = checkpoint.read_arrays(
            path, {name: p.shape for name, p in own.items()}, strict, where)
        if arrays is None:
            raise _mismatch(where, repr(path), missing, unexpected)
        self.load_state_dict(arrays, strict=False)
        return self

    # ---- printing ----
    def extra_repr(self):
        """A short description shown after the class name, e.g. ``"128→64"``."""
        return ""

    def __repr__(self):
        # Built bottom-up over the module tree with a loop (children before parents).
        order = list(self.named_modules())
        text = {}
        for name, module in reversed(order):
            extra = module.extra_repr()
            if not module._modules:
                text[id(module)] = f"{type(module).__name__}({extra})"
                continue
            lines = [f"{type(module).__name__}("] + ([f"  {extra}"] if extra else [])
            for key, child in module._modules.items():
                child_text = text.get(id(child), f"{type(child).__name__}(...)")
                lines.append(f"  ({key}): " + child_text.replace("\n", "\n  "))
            text[id(module)] = "\n".join(lines) + "\n)"
        return text[id(self)]


def _mismatch(where, source, missing, unexpected):
    return StateDictError(f"{where}: missing keys {missing}, unexpected keys {unexpected} in "
                          f"{source}; it was saved from a different architecture (pass "
                          "strict=False to load the matching keys only)")


class ModuleList(Module):
    """A list of modules registered as children ``"0"``, ``"1"``, ... (so parameter names read
    ``layers.0.weight``). Index it, iterate it, ``append`` to it; it has no forward."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        if isinstance(module, type) and issubclass(module, Module):
            name, call = _spelled(module)
            raise ArgumentTypeError(f"{type(self).__name__}: got the class {name} where a "
                                    f"module is expected; did you mean {call}?")
        if not isinstance(module, Module):
            raise ArgumentTypeError(f"{type(self).__name__}.append: expected a Module, got "
                                    f"{type(module).__name__}")
        self._modules[str(len(self._modules))] = module
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))


def _spelled(cls):
    """A module class's name as a user writes it (``nn.ReLU``) and its instantiation
    (``nn.ReLU()``, or ``nn.Linear(...)`` when the constructor needs arguments)."""
    name = f"nn.{cls.__name__}" if cls.__module__.startswith(__name__.rsplit(".", 1)[0]) \
        else cls.__name__
    needs = any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                for p in inspect.signature(cls).parameters.values())
    return name, f"{name}(...)" if needs else f"{name}()"


class Sequential(ModuleList):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *modules):
        super().__init__(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*list(self._modules.values())[index])
        return super().__getitem__(index)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x
