"""End the worker when the process that started it dies (QGIS crashed or was killed).

The Processing side starts the worker with a pipe on its stdin that it never writes to
and never closes, and sets ``LRM_EXIT_WITH_PARENT=1``. When that process dies, for any
reason, its operating system closes the pipe and a read on the worker's stdin returns
end-of-file: on Linux, macOS and Windows alike, without polling and without signals
(which Windows lacks). Without this, a worker in a quiet phase (loading a big raster,
validating, a first CUDA step) would keep a GPU busy until it next wrote to its
closed stdout.

On end-of-file the main thread gets a KeyboardInterrupt (a real SIGINT on POSIX, which
also wakes a blocking system call; ``_thread.interrupt_main`` on Windows), so ``with``
blocks run: partial outputs are deleted, the best checkpoint so far stays as saved. If
it is inside a long native call and has not ended ``GRACE_SECONDS`` later, the process
exits at once.
Callers that give the worker no such pipe (the CLI in a shell, benchmarks with stdin
from /dev/null) do not set the variable, so nothing watches.
"""

import _thread
import os
import signal
import sys
import threading

ENV_VARIABLE = "LRM_EXIT_WITH_PARENT"  # algorithms/worker.py sets it (tests tie the two)
GRACE_SECONDS = 2.0
EXIT_STATUS = 75  # what the worker exits with when the grace period runs out


def _watch(stream, grace_seconds):
    try:
        while stream.read(1024):
            pass  # the parent never writes; anything read is ignored
    except (OSError, ValueError):
        pass  # a broken or closed pipe means the same as end-of-file
    timer = threading.Timer(grace_seconds, os._exit, args=(EXIT_STATUS,))
    timer.daemon = True
    timer.start()
    if os.name == "posix":  # a real SIGINT also wakes a main thread blocked in a system call
        os.kill(os.getpid(), signal.SIGINT)
    else:
        _thread.interrupt_main()
    try:  # stderr went to the parent too: it is probably a broken pipe by now
        print("LRM worker: the process that started it is gone; stopping.", file=sys.stderr,
              flush=True)
    except (OSError, ValueError):
        pass


def watch_parent(stream=None, environ=None, grace_seconds=GRACE_SECONDS):
    """Start the watcher thread when ``LRM_EXIT_WITH_PARENT=1``; return it (or None)."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_VARIABLE) != "1":
        return None
    stream = stream or sys.stdin.buffer
    thread = threading.Thread(target=_watch, args=(stream, grace_seconds), daemon=True,
                              name="lrm-parent-watch")
    thread.start()
    return thread
