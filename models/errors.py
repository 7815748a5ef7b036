"""Errors meant for the user.

``LrmError`` carries a message that says what is wrong and what to do. The CLI turns
it into one ``error`` event (or a plain message on stderr) and exit status 2; any
other exception is an internal error (exit status 1, traceback on stderr).
"""


class LrmError(Exception):
    """An error caused by the input or the environment, with an actionable message."""

    kind = "input"


class MissingDependencyError(LrmError):
    """The worker interpreter lacks a Python package (torch, smp, GDAL)."""

    kind = "missing_dependency"


class DeviceError(LrmError):
    """The requested device is unavailable, or it ran out of memory."""

    kind = "device"
