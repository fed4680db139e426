"""Devices and the backend registry: the one place that decides which code runs an op.

A ``Device`` (``"cpu"``, later ``"cuda"``) holds the backend object that runs ops on tensors
living there. Every tensor keeps its Device, and ops call ``device.backend.<primitive>``, so no
op ever asks which device or backend it is on. Backends are registered by name with the import
path of their class and loaded on first use, so ``import tinygrad_edu`` loads no compiler.

The CPU backend is chosen, in order, by ``set_backend(name)``, the environment variable
``TINYGRAD_EDU_BACKEND`` (``numpy`` or ``numba``), and otherwise the first importable entry of
the device's default list (Numba when it is installed, else the numpy reference).
"""

import importlib
import os

from ..errors import ArgumentError

__all__ = ["register_backend", "available_backends", "set_backend", "get_backend", "get_device",
           "Device"]

# name -> (device, "module:Class"). Kernels register themselves here, not in the ops.
_REGISTRY = {
    "numpy": ("cpu", "tinygrad_edu.backends.reference:NumpyBackend"),
    "numba": ("cpu", "tinygrad_edu.kernels.cpu.backend:NumbaBackend"),
}
_DEFAULTS = {"cpu": ("numba", "numpy")}
_ENV_VAR = "TINYGRAD_EDU_BACKEND"
_instances = {}


def register_backend(name, device, path, default=False):
    """Register backend class ``path`` ("module:Class") as ``name`` for ``device``."""
    _REGISTRY[name] = (device, path)
    if default:
        _DEFAULTS[device] = (name,) + tuple(n for n in _DEFAULTS.get(device, ()) if n != name)


def available_backends():
    """Names of the registered backends, in registration order."""
    return list(_REGISTRY)


def _load(name):
    if name not in _instances:
        module_name, class_name = _REGISTRY[name][1].split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        _instances[name] = cls()
    return _instances[name]


def _check_name(name):
    if name not in _REGISTRY:
        raise ArgumentError(f"unknown backend {name!r}; registered backends: "
                            f"{', '.join(map(repr, _REGISTRY))}")


class Device:
    """A place where tensors live, with the backend object that computes on them."""

    __slots__ = ("name", "_backend")

    def __init__(self, name):
        self.name = name
        self._backend = None

    @property
    def backend(self):
        """The backend object; resolved on first use so importing loads no compiler."""
        if self._backend is None:
            self._backend = _resolve_default(self.name)
        return self._backend

    def __repr__(self):
        return f"Device({self.name!r})"


def _resolve_default(device):
    requested = os.environ.get(_ENV_VAR)
    if requested:
        _check_name(requested)
        if _REGISTRY[requested][0] != device:
            raise ArgumentError(f"{_ENV_VAR}={requested!r} is a {_REGISTRY[requested][0]} backend, "
                                f"not one for device {device!r}")
        return _load(requested)
    for name in _DEFAULTS.get(device, ()):
        try:
            return _load(name)
        except ImportError:
            continue
    raise RuntimeError(f"no backend for device {device!r} could be loaded "
                       f"(tried {', '.join(_DEFAULTS.get(device, ()))})")


_devices = {}


def get_device(name="cpu"):
    """The Device object called ``name``; a clear error for a device with no backend."""
    if isinstance(name, Device):
        return name
    device = _devices.get(name)
    if device is None:
        known = sorted({dev for dev, _ in _REGISTRY.values()})
        if name not in known:
            raise ArgumentError(f"unknown device {name!r}; available devices: "
                                f"{', '.join(map(repr, known))}")
        device = _devices[name] = Device(name)
    return device


def set_backend(name):
    """Run every op on ``name``'s device with backend ``name`` from now on.

    Takes effect for existing tensors too, since they look the backend up through their
    device. ``set_backend("numpy")`` selects the reference implementation.
    """
    _check_name(name)
    device = get_device(_REGISTRY[name][0])
    device._backend = _load(name)
    return device._backend


def get_backend(device="cpu"):
    """The backend object currently running ops on ``device``."""
    return get_device(device).backend
