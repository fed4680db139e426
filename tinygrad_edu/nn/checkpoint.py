"""Checkpoint files: named arrays in a ``.npz`` archive, written atomically, read with care.

``write_arrays`` never leaves a half-written checkpoint where the old one was: it writes a
temporary file beside the target, flushes and fsyncs it, then renames it over the target (an
atomic step on POSIX and Windows), so a failure at any point (disk full, a file-size limit, a
crash) leaves the previous file as it was.

``read_arrays`` reads each member's ``.npy`` header (its shape and dtype) before any data is
decompressed, so a file whose names or shapes do not fit the model is refused without
allocating what it claims to hold, and every way a file can be unreadable (empty, truncated,
corrupt, a pickle, a single ``.npy``) is one ``CheckpointError`` naming the file.
"""

import errno
import os
import secrets
import stat
import zipfile
import zlib

import numpy as np

from ..errors import CheckpointError, DTypeError, ShapeError

__all__ = ["npz_path", "write_arrays", "read_arrays"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")   # a zip with members, an empty zip


def npz_path(path):
    """``path`` with ``.npz`` appended when it lacks it, as ``numpy.savez`` does."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def write_arrays(path, arrays, where):
    """Write ``arrays`` (name -> numpy array) to the ``.npz`` file ``path``, atomically.

    On failure the error propagates with a note saying that ``path`` was left unchanged.
    """
    target = os.path.realpath(path)   # a symlinked checkpoint keeps its link
    directory = os.path.dirname(target)
    temporary = os.path.join(directory, f".{os.path.basename(target)}."
                                        f"{secrets.token_hex(6)}.tmp")
    try:
        # O_EXCL: never reuse a file someone else made; mode 0o666 lets the umask decide, as
        # for any new file.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(target):
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temporary, target)
    except BaseException as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            exc.add_note(f"{where}: {path!r} was left as it was; nothing was written")
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)


def read_arrays(path, expected, strict, where):
    """``(arrays, missing, unexpected)``: the arrays of the checkpoint ``path`` that
    ``expected`` (name -> shape) asks for, and the names each side lacks.

    Names are compared first: with ``strict`` and a mismatch, ``arrays`` is None and nothing
    is read (the caller reports the names); otherwise members the module does not have are
    skipped. Then each wanted member's declared shape and dtype are checked, all before any
    array is decompressed. Raises CheckpointError for a file that is not a readable
    checkpoint, ShapeError for a shape that does not fit and DTypeError for non-numbers.
    """
    if isinstance(path, (str, os.PathLike)):
        name = repr(os.fspath(path))
        with open(path, "rb") as f:
            head = f.read(8)
    else:   # an open binary file
        name = repr(getattr(path, "name", path))
        start = path.tell()
        head = path.read(8)
        path.seek(start)
    if not head:
        raise CheckpointError(f"{where}: {name} is empty (0 bytes); it holds no checkpoint "
                              "(was the save interrupted?)")
    if not head.startswith(_ZIP_MAGIC):
        raise CheckpointError(f"{where}: {name} is not a .npz checkpoint: {_kind(head)}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CheckpointError(f"{where}: {name} is truncated or corrupt (not a complete zip "
                              f"archive: {exc})") from None
    with archive:
        members = _members(archive, name, where)
        # What each member declares, read from its header alone: a file that is not a
        # checkpoint is reported as such before its names are compared with the module's.
        declared = {key: _header(archive, info, name, key, where)
                    for key, info in members.items()}
        missing = [key for key in expected if key not in members]
        unexpected = [key for key in members if key not in expected]
        if strict and (missing or unexpected):
            return None, missing, unexpected
        wanted = [key for key in expected if key in members]
        for key in wanted:
            shape, dtype = declared[key]
            if dtype.kind not in "fiu":
                raise DTypeError(f"{where}: {key!r} in {name} has dtype {dtype}; expected "
                                 "numbers")
            if shape != tuple(expected[key]):
                raise ShapeError(f"{where}: {key!r} has shape {shape} in the state but "
                                 f"{tuple(expected[key])} in the module (reading {name})")
        arrays = {key: _data(archive, members[key], name, key, where) for key in wanted}
    return arrays, missing, unexpected


def _kind(head):
    """What the first bytes of a file that is not a zip archive suggest it is."""
    if head.startswith(b"\x93NUMPY"):
        return ("it is a single .npy array (numpy.save); Module.save writes a .npz archive of "
                "named arrays")
    if head[:1] == b"\x80":
        return ("it is a Python pickle (torch.save or pickle.dump?), which Module.load never "
                "unpickles; convert the weights to arrays and save them with numpy.savez")
    return f"it starts with the bytes {head!r}, not those of a zip archive"


def _members(archive, name, where):
    """{array name: ZipInfo} of the archive, each member checked to be one .npy array."""
    members = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise CheckpointError(f"{where}: {name} holds {info.filename!r}, which is not a "
                                  ".npy array; it was not written by Module.save")
        key = info.filename[:-len(".npy")]
        if key in members:
            raise CheckpointError(f"{where}: {name} holds {key!r} twice; it is corrupt")
        members[key] = info
    return members


def _header(archive, info, name, key, where):
    """The shape and dtype that member ``info`` declares, from its .npy header alone."""
    try:
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise CheckpointError(f"{where}: {key!r} in {name} is not a readable array ({exc}); the "
                              "file is corrupt") from None
    if dtype.hasobject:
        raise CheckpointError(f"{where}: {name} stores {key!r} as Python objects (pickled "
                              "data), which is never unpickled; it was not written by "
                              "Module.save")
    needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if info.file_size < needed:
        raise CheckpointError(f"{where}: {key!r} in {name} declares shape {shape} ({needed} "
                              f"bytes of {dtype}) but its member holds {info.file_size} bytes; "
                              "the file is truncated or corrupt")
    return tuple(shape), dtype


def _data(archive, info, name, key, where):
    try:
        with archive.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise CheckpointError(f"{where}: {key!r} in {name} cannot be read ({exc}); the file is "
                              "truncated or corrupt") from None
