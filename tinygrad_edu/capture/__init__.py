"""Captured training steps: record a step's backend calls once, replay them without the engine.

``capture(train_step)`` (``step.py``) records two calls of the step through a stand-in for
each backend (``tape.py``), checks they did the same thing, and compiles the recorded calls
into one straight-line Python function (``program.py``). ``flat.py`` lays tensors out as views
of one flat buffer, which lets an optimizer update every parameter in one backend call.

The package itself is callable: ``tinygrad_edu.capture(fn)`` is ``capture(fn)``.
"""

import sys
import types

from .flat import FlatLayout, FlatParameters
from .step import CapturedStep, capture
from .tape import CaptureError, recording

__all__ = ["capture", "CapturedStep", "CaptureError", "recording", "FlatLayout",
           "FlatParameters"]


class _CallablePackage(types.ModuleType):
    """This package, made callable (as ``tinygrad_edu.tensor`` is): a function named
    ``capture`` in ``tinygrad_edu`` would hide the package of that name."""

    def __call__(self, fn=None, *, warmup=1):
        return capture(fn, warmup=warmup)

    __call__.__doc__ = capture.__doc__


sys.modules[__name__].__class__ = _CallablePackage
