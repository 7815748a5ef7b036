"""Run a backend command in a child Python process and relay it to Processing.

The child is ``<interpreter> -m models <command> --jsonl ...`` with the plugin folder
as its working directory and only entry on PYTHONPATH. It writes JSON lines on
stdout (see models/runtime/reporting.py): progress, info, warning, metric, and one result or
one error. Torch therefore never loads into QGIS's interpreter, a crash or
out-of-memory in the child cannot take QGIS down, and cancel ends the child at once
(freeing a GPU immediately).
"""

import collections
import json
import os
import queue
import signal
import subprocess
import threading
import time

from qgis.core import QgsProcessingException

from ..models import contract
from .interpreter import find_interpreter, plugin_root

# The worker exits by itself when this process dies: it watches the stdin pipe given
# to it below (models/runtime/parent_watch.py; the variable's name is tied by a test).
EXIT_WITH_PARENT_VARIABLE = "LRM_EXIT_WITH_PARENT"
POLL_SECONDS = 0.2  # how often cancel is checked while the child is quiet
STDERR_TAIL_LINES = 40


def partial_path(path, pid):
    """Where worker ``pid`` writes ``path`` until it is complete (one rule: models/contract/__init__.py)."""
    return contract.partial_path(path, pid)


def worker_environment():
    env = dict(os.environ)
    for key in ("PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    env["PYTHONPATH"] = plugin_root()
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONNOUSERSITE"] = "1"
    env[EXIT_WITH_PARENT_VARIABLE] = "1"
    return env


class WorkerCancelled(QgsProcessingException):
    """Raised when the user cancelled; the child has been ended."""


class BackendRun:
    """One child process; use ``run()`` (or the module-level ``run_backend``)."""

    def __init__(self, command, args, feedback, outputs=(), progress_range=(0.0, 100.0),
                 interpreter=None):
        self.command = command
        self.args = [str(a) for a in args]
        self.feedback = feedback
        self.outputs = [o for o in outputs if o]
        self.lo, self.hi = progress_range
        self.interpreter = interpreter
        self.metrics = []
        self.warnings = []
        self._events = queue.Queue()
        self._stderr = collections.deque(maxlen=STDERR_TAIL_LINES)

    # -- process handling -------------------------------------------------------------
    def _start(self):
        try:
            self.interpreter = self.interpreter or find_interpreter()
        except FileNotFoundError as exc:
            raise QgsProcessingException(str(exc)) from None
        cmd = [self.interpreter.path, "-m", "models", self.command, "--jsonl", *self.args]
        kwargs = {}
        if os.name == "nt":
            kwargs["creationflags"] = (subprocess.CREATE_NO_WINDOW
                                       | subprocess.CREATE_NEW_PROCESS_GROUP)
        else:
            kwargs["start_new_session"] = True  # own process group: kill it whole
        try:
            self.process = subprocess.Popen(
                cmd, cwd=plugin_root(), env=worker_environment(), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        except OSError as exc:
            raise QgsProcessingException(
                f"Cannot start the PyTorch worker with {self.interpreter.describe()}: {exc}") from None
        if self.feedback:
            self.feedback.pushDebugInfo("LRM worker: " + " ".join(cmd))
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self):
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"type": "log", "message": line}
            self._events.put(event)
        self._events.put(None)  # end of stream

    def _read_stderr(self):
        for raw in self.process.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def _end_child(self):
        if self.process.poll() is not None:
            return
        try:
            if os.name == "nt":
                self.process.kill()
            else:
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=1.0)
        except (subprocess.TimeoutExpired, ProcessLookupError, PermissionError):
            try:
                if os.name == "nt":
                    self.process.kill()
                else:
                    os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)

    def _close_pipes(self):
        """Close the child's pipes once it has ended and the readers have drained them
        (left open they raise ResourceWarning when garbage-collected)."""
        if self.process.poll() is None:
            return
        for reader in self._readers:
            reader.join(timeout=2.0)
        if self.process.stdin:
            self.process.stdin.close()  # the parent-death pipe: the child is gone
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe and not any(reader.is_alive() for reader in self._readers):
                pipe.close()

    def _remove_partials(self):
        for out in self.outputs:
            partial = partial_path(out, self.process.pid)
            for path in (partial, partial + ".aux.xml"):
                if os.path.exists(path):
                    try:
                        os.remove(path)
                    except OSError:
                        pass

    # -- relaying ---------------------------------------------------------------------
    def _handle(self, event):
        """Relay one JSON-line event (types: models/contract EVENT_TYPES)."""
        kind = event.get("type")
        handler = getattr(self, f"_on_{kind}") if kind in contract.EVENT_TYPES else None
        if handler is None:
            self._tell("pushDebugInfo", str(event.get("message", event)))
        else:
            handler(event)

    def _tell(self, method, text):
        if self.feedback is not None:
            getattr(self.feedback, method)(text)

    def _on_progress(self, event):
        if self.feedback is not None:
            self.feedback.setProgress(self.lo + (self.hi - self.lo) * float(event.get("value", 0)) / 100.0)

    def _on_info(self, event):
        self._tell("pushInfo", event.get("message", ""))

    def _on_warning(self, event):
        self.warnings.append(event.get("message", ""))
        self._tell("pushWarning", event.get("message", ""))

    def _on_metric(self, event):
        self.metrics.append(event)
        context = ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("type", "name", "value"))
        self._tell("pushDebugInfo", f"{event.get('name')} = {event.get('value')}"
                   + (f" ({context})" if context else ""))

    def _on_result(self, event):
        self.result = event.get("data") or {}

    def _on_error(self, event):
        self.error = event

    def run(self):
        self.result, self.error = None, None
        self._start()
        try:
            return self._relay()
        finally:
            self._close_pipes()

    def _relay(self):
        cancelled = False
        try:
            while True:
                if self.feedback is not None and self.feedback.isCanceled():
                    cancelled = True
                    self._end_child()
                    break
                try:
                    event = self._events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if event is None:
                    break
                self._handle(event)
            if not cancelled:
                self.process.wait()
        except BaseException:
            self._end_child()
            self._remove_partials()
            raise
        if cancelled or self.error or self.result is None:
            self._remove_partials()
        if cancelled:
            raise WorkerCancelled(f"{self.command} was cancelled; the worker process was ended.")
        if self.error:
            raise QgsProcessingException(self.error.get("message") or "the LRM worker failed")
        if self.result is None:
            time.sleep(0.1)  # let the stderr reader drain
            code = self.process.returncode
            why = f"exited with status {code}"
            if code is not None and code < 0:
                why = f"was killed by signal {-code}" + (
                    " (often: out of memory; try a smaller BATCH_SIZE or PATCH_SIZE)"
                    if -code == signal.SIGKILL else "")
            tail = "\n".join(self._stderr) or "(no error output)"
            raise QgsProcessingException(
                f"The LRM worker ({self.interpreter.describe()}) {why} without a result. "
                f"Last lines of its error output:\n{tail}")
        return self.result


def run_backend(command, args, feedback, outputs=(), progress_range=(0.0, 100.0), interpreter=None):
    """Run ``python -m models <command>`` and return its result dict.

    ``outputs``: destination paths the command writes; their ``.partial`` files are
    removed if the command fails or is cancelled.
    """
    return BackendRun(command, args, feedback, outputs, progress_range, interpreter).run()
