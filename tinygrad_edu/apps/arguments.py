"""Checking what a user typed at the command line, before any work starts.

Every mistake becomes one line that names the flag, says what was given and what is
expected, and exits with code 2 (``OneLineParser``): value ranges (``positive_int`` and its
kin, as argparse types), output files and folders (``check_output_file``,
``check_output_dir``: a missing folder, a file where a folder should be, a read-only place,
an extension the writer does not know) and the backend (``selected_backend``).
"""

import argparse
import contextlib
import math
import os
import sys

from ..backends import available_backends, devices, get_backend, get_device, set_backend
from ..errors import ArgumentError, DeviceError

__all__ = ["OneLineParser", "positive_int", "non_negative_int", "positive_float",
           "check_output_file", "check_output_dir", "npz_path", "selected_backend"]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) on stderr, exit code 2."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _typed(convert, check, expected):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    parse.__name__ = expected   # argparse names the type in some messages
    return parse


positive_int = _typed(int, lambda v: v >= 1, "a positive integer")
non_negative_int = _typed(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _typed(float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")


def _nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_output_file(parser, flag, path, extensions=None):
    """Error (exit 2) unless ``path`` can be written as a file: its folder exists and is
    writable, it is not a folder, and its extension is one of ``extensions`` (if given)."""
    if extensions is not None:
        ext = os.path.splitext(path)[1][1:].lower()
        if ext not in extensions:
            got = f"extension .{ext}" if ext else "no extension"
            parser.error(f"{flag} {path}: {got}; expected a file ending in "
                         f"{', '.join('.' + e for e in extensions)}")
    if os.path.isdir(path):
        parser.error(f"{flag} {path}: is a folder; expected a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        existing = _nearest_existing(folder)
        if os.path.isfile(existing):
            parser.error(f"{flag} {path}: {existing} is a file, not a folder")
        parser.error(f"{flag} {path}: the folder {folder} does not exist; create it first")
    if not os.path.isdir(folder):
        parser.error(f"{flag} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        parser.error(f"{flag} {path}: the folder {folder} is not writable")
    return path


def check_output_dir(parser, flag, path):
    """Error (exit 2) unless ``path`` is a writable folder or can be created as one."""
    if os.path.exists(path) and not os.path.isdir(path):
        parser.error(f"{flag} {path}: is a file; expected a folder (it is created if missing)")
    existing = _nearest_existing(path)
    if not os.path.isdir(existing):
        parser.error(f"{flag} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        parser.error(f"{flag} {path}: {existing} is not writable")
    return path


def npz_path(path):
    """``path`` with ``.npz`` appended when it lacks it (what ``numpy.savez`` writes)."""
    return path if path.endswith(".npz") else path + ".npz"


def _device_of(backend):
    """The device that ``backend`` (an object ``set_backend`` returned) now runs."""
    if get_backend("cpu") is backend:
        return "cpu"
    for info in devices():
        if info.available and get_backend(info.name) is backend:
            return info.name
    raise DeviceError(f"backend {backend.name!r} is selected but no usable device runs it")


@contextlib.contextmanager
def selected_backend(parser, flag, name):
    """Select backend or device ``name`` (None: the default) for the ``with`` block and yield
    the device name; the previous CPU backend is restored afterwards.

    An unknown name or a device that cannot be used here (CUDA without a GPU) is a usage
    error naming the flag, with the reason ``devices()`` gives.
    """
    previous = get_backend("cpu")
    try:
        if name is None:
            device = "cpu"
        elif name in available_backends():
            device = _device_of(set_backend(name))
        else:
            device = get_device(name).name
    except DeviceError as exc:
        parser.error(f"{flag} {name}: {exc}")
    except ArgumentError:
        parser.error(f"{flag} {name}: unknown; expected a backend "
                     f"({', '.join(available_backends())}) or a device "
                     f"({', '.join(d.name for d in devices())})")
    try:
        yield device
    finally:
        set_backend(previous.name)
