"""Launching the ranks of a DEVICE list through PyTorch's own launcher.

``python -m models train-segmenter --device cuda:0,1 ...`` (and the Processing worker,
which runs exactly that) does not train itself: it runs

    python -m torch.distributed.run --standalone --nproc-per-node N -m models <same args>

and stays the one process its caller talks to. Rank 0 writes the JSON-lines protocol on
torchrun's stdout; this process relays its events to its own reporter (so progress,
metrics and cancel work as for one device) and holds back the final result or error:

* all ranks succeeded: rank 0's result, with the rank count;
* a rank failed: torchrun has stopped the others (rank 0 then reports "interrupted"); the
  error names the failed rank and what it said on stderr, not "cancelled";
* this process was cancelled (SIGTERM, Ctrl+C, QGIS gone): it stops torchrun, which stops
  every rank (each keeps its best model file as a single run does), and the cancel
  propagates.

The ranks do not inherit LRM_EXIT_WITH_PARENT (their stdin is not the caller's pipe);
on Linux torchrun gets SIGTERM if this process dies without cleaning up, and each rank
if torchrun does (``die_with_parent``), so Processing's kill after its one-second grace
still stops every rank.
"""

import collections
import json
import os
import signal
import subprocess
import sys
import threading

from ..errors import DeviceError, LrmError
from .device_list import parse_device_list, threads_per_worker
from .parent_watch import ENV_VARIABLE

STOP_SECONDS = 15  # how long torchrun gets to stop its ranks before it is killed
_TAIL = 60         # stderr lines kept for the error message


def launched_rank():
    """This process's rank when PyTorch's launcher started it (RANK, WORLD_SIZE), else None."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    return int(os.environ["RANK"])


def _package_root():
    """The folder holding the ``models`` package (put on the ranks' PYTHONPATH)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _package_name():
    return __package__.split(".")[0]


def die_with_parent():
    """Linux: this process gets SIGTERM when its parent dies, however it dies (SIGKILL too).

    Set in torchrun (whose parent is this launcher) and in every rank (whose parent is
    torchrun's agent): a killed launcher or agent never leaves ranks training on their own.
    Elsewhere a no-op."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def command(argv, count):
    """The torchrun command line for ``count`` ranks of ``python -m models <argv>``."""
    argv = [a for a in argv if a != "--jsonl"]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            "--nproc-per-node", str(count), "--max-restarts", "0",
            "-m", _package_name(), *argv, "--jsonl"]


def _environment(devices_listed):
    env = dict(os.environ)
    env.pop(ENV_VARIABLE, None)
    root = _package_root()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    threads = threads_per_worker(devices_listed)
    env["OMP_NUM_THREADS"] = str(threads or 1)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def launch(argv, spec, reporter):
    """Run ``python -m models <argv>`` as one rank per device of the list ``spec``;
    return rank 0's result (raises the group's error)."""
    listed = parse_device_list(spec)
    reporter.info(f"DEVICE={spec}: {len(listed)} data-parallel ranks "
                  f"({', '.join(listed)}) through torch.distributed.run.")
    process = subprocess.Popen(
        command(argv, len(listed)), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=_environment(listed), cwd=os.getcwd(),
        start_new_session=True, preexec_fn=die_with_parent if os.name == "posix" else None,
        text=True, encoding="utf-8", errors="replace", bufsize=1)
    tail = collections.deque(maxlen=_TAIL)
    relay = threading.Thread(target=_copy_stderr, args=(process.stderr, tail), daemon=True)
    relay.start()
    held = {}
    try:
        for line in process.stdout:
            _relay(line, reporter, held)
        status = process.wait()
    except KeyboardInterrupt:
        _stop(process)
        raise
    finally:
        if process.poll() is None:
            _stop(process)
        relay.join(timeout=5)
    return _outcome(status, held, list(tail), len(listed))


def _copy_stderr(stream, tail):
    for line in stream:
        sys.stderr.write(line)
        tail.append(line.rstrip("\n"))
    sys.stderr.flush()


def _relay(line, reporter, held):
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "type" not in event:
        if line.strip():
            sys.stderr.write(line)
        return
    kind = event["type"]
    if kind in ("result", "error"):
        held[kind] = event
    elif kind == "progress":
        reporter.progress(event.get("value", 0))
    elif kind in ("info", "warning"):
        getattr(reporter, kind)(event.get("message", ""))
    elif kind == "metric":
        context = {k: v for k, v in event.items() if k not in ("type", "name", "value")}
        reporter.metric(event.get("name"), event.get("value"), **context)


def _stop(process):
    """SIGTERM to torchrun (it stops its ranks), then SIGKILL to the whole session."""
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    except OSError:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass
    process.wait()


def _failed_rank(tail):
    """What the ranks said: their own error lines, else torchrun's failure summary."""
    own = [line for line in tail if line.startswith("rank ") and ": ERROR" in line]
    if own:
        return own[-1]
    summary = [line.strip() for line in tail
               if line.strip().startswith(("rank", "exitcode", "error_file", "traceback"))
               or "Signal" in line]
    return "; ".join(summary[-4:]) or (tail[-1] if tail else "no message")


def _outcome(status, held, tail, count):
    if status == 0 and "result" in held:
        result = dict(held["result"].get("data") or {})
        result.setdefault("ranks", count)
        return result
    error = held.get("error") or {}
    message = error.get("message", "")
    if error and error.get("kind") not in ("cancelled", "internal") \
            and "another rank" not in message:
        exc = LrmError(message)  # rank 0's own error (the other ranks met the same)
        exc.kind = error.get("kind", "input")
        raise exc
    said = f"rank 0: {message}" if error.get("kind") == "internal" else _failed_rank(tail)
    raise DeviceError(f"A rank of the {count}-rank training failed (torch.distributed.run exit "
                      f"status {status}): {said}. The other ranks were stopped; "
                      f"the model file, if one was written, holds the best model so far. The "
                      f"log has each rank's messages.")
