"""The optional libraries the programs use, each checked with the one line that installs it.

matplotlib draws the plots and tqdm the progress bar; both come with ``pip install
tinygrad_edu``, but a library installed without its dependencies (``--no-deps``, a vendored
copy) still imports without them, so the programs ask here first and fail, or fall back, with
a message that says what to run.
"""

import importlib

from ..errors import TinygradEduError

__all__ = ["MissingDependencyError", "INSTALL_HINTS", "require", "available"]

INSTALL_HINTS = {
    "matplotlib": "pip install matplotlib",
    "tqdm": "pip install tqdm",
}


class MissingDependencyError(TinygradEduError, ImportError):
    """A library a program needs is not installed; the message says how to install it."""


def available(module):
    """True when ``module`` imports."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def require(module, purpose):
    """Import and return ``module``, or raise ``MissingDependencyError`` naming ``purpose``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"{module} is not installed (needed for {purpose}): "
                                     f"{INSTALL_HINTS[module]}") from None
