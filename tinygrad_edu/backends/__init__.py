"""Where a backend plugs in: the device registry, the numpy reference and the strict backend.

- ``registry``: devices (``"cpu"``, ``"cuda"``), whether each can be used here (``devices()``),
  and the backends registered for them; the one place that decides which code runs an op;
- ``reference``: ``NumpyBackend``, every primitive written plainly in numpy: the specification
  the compiled backends are tested against;
- ``strict``: ``StrictBackend``, the reference behind arrays that refuse every operation, so a
  test run on it proves that no code outside the backend computes on tensor data.

A new backend subclasses ``NumpyBackend`` (or implements its methods) and calls
``register_backend``.
"""

from .registry import (Device, DeviceInfo, available_backends, devices, get_backend, get_device,
                       register_backend, set_backend)

__all__ = ["Device", "DeviceInfo", "devices", "register_backend", "available_backends",
           "set_backend", "get_backend", "get_device"]
