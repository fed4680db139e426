"""Thread-local engine state: gradient recording mode and the module scope stack.

Both are per thread, like PyTorch's grad mode, so a ``no_grad`` block in one thread never
changes what another thread records.
"""

import functools
import threading

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "module_scope", "current_scope"]


class _State(threading.local):
    def __init__(self):
        self.grad_enabled = True
        # Tuple of the modules whose forward is running, outermost first. Tensors record it
        # when they are created so a graph renderer can group nodes by the module that made them.
        self.scope = ()


_state = _State()


def is_grad_enabled():
    """True when operations record a graph for backward (the default)."""
    return _state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode and restores the previous one."""

    _enabled = True

    def __enter__(self):
        self._previous = _state.grad_enabled
        _state.grad_enabled = self._enabled
        return self

    def __exit__(self, *exc_info):
        _state.grad_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Record no graph inside: results have ``requires_grad=False`` and no parents.

    Use as ``with no_grad(): ...`` or as a decorator ``@no_grad()``. Per thread.
    """

    _enabled = False


class enable_grad(_GradMode):
    """Turn graph recording back on inside a ``no_grad`` region."""

    _enabled = True


class module_scope:
    """Push ``module`` on this thread's scope stack while its forward runs."""

    def __init__(self, module):
        self._module = module

    def __enter__(self):
        self._previous = _state.scope
        _state.scope = self._previous + (self._module,)
        return self

    def __exit__(self, *exc_info):
        _state.scope = self._previous
        return False


def current_scope():
    """The tuple of modules whose forward is running in this thread, outermost first."""
    return _state.scope
