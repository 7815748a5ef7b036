"""Progress, messages, metrics and results of a backend command.

Two reporters share one interface:

* ``JsonLinesReporter`` writes the worker protocol: one JSON object per line on a
  stream (the worker's real stdout), read by the Processing algorithms::

    {"type": "progress", "value": 42.5}              # percent, 0-100
    {"type": "info", "message": "..."}
    {"type": "warning", "message": "..."}
    {"type": "metric", "name": "val_loss", "value": 0.31, "epoch": 3}
    {"type": "result", "data": {...}}                # exactly one on success
    {"type": "error", "message": "...", "kind": "input"}  # exactly one on failure

* ``TextReporter`` prints the same events for a person at a terminal.
"""

import json
import math
import sys
import time


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _jsonable(value.item())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class Reporter:
    """Base reporter: silent. Library code takes a reporter and never prints."""

    def progress(self, percent):
        pass

    def info(self, message):
        pass

    def warning(self, message):
        pass

    def metric(self, name, value, **context):
        pass

    def result(self, data):
        pass

    def error(self, message, kind="input"):
        pass

    def scaled(self, start, end):
        """A reporter whose 0-100 progress maps to ``start..end`` of this one."""
        return ScaledReporter(self, start, end)


class ScaledReporter(Reporter):
    def __init__(self, parent, start, end):
        self._parent, self._start, self._end = parent, start, end

    def progress(self, percent):
        self._parent.progress(self._start + (self._end - self._start) * percent / 100.0)

    def info(self, message):
        self._parent.info(message)

    def warning(self, message):
        self._parent.warning(message)

    def metric(self, name, value, **context):
        self._parent.metric(name, value, **context)


class JsonLinesReporter(Reporter):
    def __init__(self, stream, min_progress_interval=0.1):
        self._stream = stream
        self._last_progress = -1.0
        self._last_time = 0.0
        self._min_interval = min_progress_interval

    def _emit(self, obj):
        self._stream.write(json.dumps(_jsonable(obj)) + "\n")
        self._stream.flush()

    def progress(self, percent):
        percent = max(0.0, min(100.0, float(percent)))
        now = time.monotonic()
        # Throttle: the GUI does not need more than ~10 updates a second.
        if percent in (0.0, 100.0) or now - self._last_time >= self._min_interval:
            if abs(percent - self._last_progress) > 1e-9:
                self._emit({"type": "progress", "value": round(percent, 3)})
                self._last_progress, self._last_time = percent, now

    def info(self, message):
        self._emit({"type": "info", "message": str(message)})

    def warning(self, message):
        self._emit({"type": "warning", "message": str(message)})

    def metric(self, name, value, **context):
        self._emit({"type": "metric", "name": name, "value": value, **context})

    def result(self, data):
        self._emit({"type": "result", "data": data})

    def error(self, message, kind="input"):
        self._emit({"type": "error", "message": str(message), "kind": kind})


class TextReporter(Reporter):
    """Human-readable output on stderr; the result goes to stdout as JSON."""

    def __init__(self, stream=None, result_stream=None):
        self._stream = stream or sys.stderr
        self._result_stream = result_stream or sys.stdout
        self._last_percent = -10.0

    def progress(self, percent):
        if percent >= self._last_percent + 5 or percent >= 100:
            self._stream.write(f"[{percent:5.1f}%]\n")
            self._stream.flush()
            self._last_percent = percent

    def info(self, message):
        self._stream.write(f"{message}\n")

    def warning(self, message):
        self._stream.write(f"WARNING: {message}\n")

    def metric(self, name, value, **context):
        ctx = " ".join(f"{k}={v}" for k, v in context.items())
        self._stream.write(f"  {name} = {value} {ctx}\n".rstrip() + "\n")

    def result(self, data):
        self._result_stream.write(json.dumps(_jsonable(data), indent=2) + "\n")
        self._result_stream.flush()

    def error(self, message, kind="input"):
        self._stream.write(f"ERROR: {message}\n")
        self._stream.flush()
