"""The worker processes of a batch over a DEVICE list (``batch_inference.run_batch``).

One spawned process per device (spawn, not fork: the parent may hold CUDA or GDAL
state that a forked child must not inherit), all fed input indices from one queue, so a
fast device takes more rasters than a slow one. Each reports start, progress (throttled),
messages, done or failed through one event queue that the parent turns into overall
progress. The parent watches for a worker that dies holding an input (killed for memory).
Stopping (the first failure, Ctrl+C, SIGTERM) sends each worker SIGTERM, which unwinds it
like Ctrl+C so the output it was writing is removed; one still alive STOP_SECONDS later
is killed and its partial files removed here. A worker whose parent vanished (killed
outright) stops at its next progress report instead of running on alone.
"""

import os
import queue
import signal
import time
import traceback

from ..errors import LrmError
from ..runtime.device_list import threads_per_worker
from ..storage.atomic import partial_path

STOP_SECONDS = 5.0  # how long stopped workers get to remove their partial outputs


def run_workers(run_one, pending, options, devices, progress, failed, job_reporter):
    """Make ``pending`` over ``devices``; ``progress`` is ``batch_inference._Progress``,
    ``failed(job, exc, progress, kind)`` the error that stops the batch."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold CUDA
    tasks, events = context.Queue(), context.Queue()
    count = min(len(devices), len(pending))
    for index in range(len(pending)):
        tasks.put(index)
    for _ in range(count):
        tasks.put(None)
    threads = threads_per_worker(devices[:count])
    workers = [context.Process(target=_worker, name=f"lrm-worker-{devices[k]}", daemon=True,
                               args=(k, run_one, pending, options, devices[k], threads, tasks,
                                     events, os.getpid(), job_reporter)) for k in range(count)]
    held, finished = {}, 0
    try:
        for worker in workers:
            worker.start()
        while finished < len(pending):
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                for k, worker in enumerate(workers):
                    if not worker.is_alive() and k in held:
                        raise failed(pending[held[k]], LrmError(
                            f"its worker on {devices[k]} ended (exit status {worker.exitcode}) "
                            f"without a result, often because it ran out of memory: lower "
                            f"BATCH_SIZE or use fewer devices."), progress)
                if not any(worker.is_alive() for worker in workers):
                    raise LrmError("Every worker ended before the batch was done; see the log.")
                continue
            kind, k, payload = event
            if kind == "start":
                held[k] = payload
            elif kind == "progress":
                progress.update(pending[held[k]], payload)
            elif kind in ("info", "warning"):
                getattr(progress.reporter, kind)(payload)
            elif kind == "done":
                progress.finish(pending[held.pop(k)], payload)
                finished += 1
            elif kind == "failed":
                error_kind, message, is_user_error = payload
                if not is_user_error:  # a bug: the worker printed its traceback on stderr
                    raise RuntimeError(f"{pending[held[k]].input}: {message}")
                raise failed(pending[held[k]], message, progress, error_kind)
    finally:
        _stop(workers, [pending[i] for i in held.values()])
        tasks.cancel_join_thread()  # unread tasks must not block this process's exit


def _stop(workers, held_jobs):
    """End the workers: SIGTERM unwinds them like Ctrl+C (partials removed); then SIGKILL,
    and the partials a killed worker left are removed here."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join(1.0)
    for worker in workers:
        for job in held_jobs:
            for _, path in job.outputs:
                for leftover in (partial_path(path, worker.pid), partial_path(path, worker.pid) + ".aux.xml"):
                    if worker.pid and os.path.exists(leftover):
                        os.remove(leftover)


def _worker(k, run_one, pending, options, device, threads, tasks, events, parent, job_reporter):
    """One device's worker: take input indices until the end marker; report through ``events``."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _interrupt_once)
    if threads and device == "cpu":
        import torch

        torch.set_num_threads(threads)

    def progress(percent):
        if os.getppid() != parent:  # the batch's process is gone: stop, do not run on alone
            raise KeyboardInterrupt
        events.put(("progress", k, percent))

    reporter = job_reporter(lambda m: events.put(("info", k, m)),
                            lambda m: events.put(("warning", k, m)), _Throttled(progress))
    try:
        for index in iter(tasks.get, None):
            if os.getppid() != parent:
                raise KeyboardInterrupt
            job = pending[index]
            reporter.name = f"{os.path.basename(job.input)}: "
            events.put(("start", k, index))
            try:
                result = run_one(job.input, **dict(job.outputs), **options, device=device,
                                 reporter=reporter)
            except LrmError as exc:
                events.put(("failed", k, (exc.kind, str(exc), True)))
                break
            except RuntimeError as exc:  # GDAL reading a damaged raster
                events.put(("failed", k, ("input", str(exc), True)))
                break
            except Exception as exc:
                traceback.print_exc()
                events.put(("failed", k, ("internal", f"{type(exc).__name__}: {exc}", False)))
                break
            events.put(("done", k, {"device": result.get("device")} if isinstance(result, dict) else {}))
    except KeyboardInterrupt:
        events.cancel_join_thread()  # the parent may no longer read: exit without flushing
        return
    events.close()
    events.join_thread()


class _Throttled:
    """Forward progress at most every 0.2 s (a worker's queue is not a firehose)."""

    def __init__(self, forward):
        self.forward, self.last = forward, 0.0

    def __call__(self, percent):
        now = time.monotonic()
        if now - self.last >= 0.2 or percent >= 100:
            self.last = now
            self.forward(percent)


def _interrupt_once(signum, frame):
    """A worker's SIGTERM/SIGINT: unwind like Ctrl+C (the output being written is removed),
    once: Cancel signals the whole process group and the parent then stops its workers too,
    and a second interrupt must not cut that clean-up short."""
    for other in (signal.SIGTERM, signal.SIGINT):
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt
