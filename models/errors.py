"""Errors meant for the user.

``LrmError`` carries a message that says what is wrong and what to do. The CLI turns
it into one ``error`` event (or a plain message on stderr) and exit status 2; any
other exception is an internal error (exit status 1, traceback on stderr).
"""

import os


class LrmError(Exception):
    """An error caused by the input or the environment, with an actionable message."""

    kind = "input"


class MissingDependencyError(LrmError):
    """The worker interpreter lacks a Python package (torch, smp, GDAL)."""

    kind = "missing_dependency"


class DeviceError(LrmError):
    """The requested device is unavailable, or it ran out of memory."""

    kind = "device"


class StorageError(LrmError):
    """An output could not be written: the disk is full, read-only, or not permitted."""

    kind = "storage"


_FULL = ("no space left", "disk full", "quota exceeded", "file too large")


def storage_error(path, exc):
    """A StorageError that says what went wrong writing ``path`` and what to do."""
    import errno
    import shutil

    folder = os.path.dirname(os.path.abspath(path))
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or any(s in text for s in _FULL) \
            or (free is not None and free < 1 << 20):
        left = f" ({free / 2**20:.1f} MiB free)" if free is not None else ""
        return StorageError(f"The disk holding {folder} is full{left}: {path} could not be "
                            f"written. Free some space or choose an output folder on another "
                            f"disk. Nothing half-written was left, and an earlier model file "
                            f"there is unchanged.")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "read-only" in text \
            or "permission denied" in text:
        return StorageError(f"Cannot write {path}: {folder} is read-only or you lack permission. "
                            f"Choose another output folder.")
    return StorageError(f"Writing {path} failed ({type(exc).__name__}: {exc}). Check that "
                        f"{folder} is writable and has free space.")
