"""The worker client relays the JSON-lines protocol and ends the child on cancel."""

import os
import threading
import time

import pytest
from qgis.core import QgsProcessingException


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); check its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_progress_messages_metrics_and_result_are_relayed(worker_module, fake_interpreter, feedback, tmp_path):
    fake_interpreter("ok")
    result = worker_module.run_backend("train-translator", ["--patch-size", 64], feedback,
                                       progress_range=(50, 100))
    assert result == {"answer": 42}
    assert "hello from the worker" in feedback.infos
    assert "careful: no pretrained weights" in feedback.warnings
    assert any("val_loss = 0.5" in d and "epoch=1" in d for d in feedback.debug)
    # progress is mapped into the given range
    assert pytest.approx(55.0) in feedback.progress_values
    assert feedback.progress_values[-1] == pytest.approx(100.0)
    # arguments reach the child as `-m models <command> --jsonl ...` with strings
    import json
    argv = json.loads((tmp_path / "worker.argv").read_text())
    assert argv == ["-m", "models", "train-translator", "--jsonl", "--patch-size", "64"]


def test_backend_error_becomes_processing_exception_with_its_message(worker_module, fake_interpreter, feedback):
    fake_interpreter("error")
    with pytest.raises(QgsProcessingException, match="SOURCE rasters have 4 bands but TARGET has 3"):
        worker_module.run_backend("train-translator", [], feedback)


def test_child_dying_without_a_message_reports_stderr_tail(worker_module, fake_interpreter, feedback):
    fake_interpreter("crash")
    with pytest.raises(QgsProcessingException) as info:
        worker_module.run_backend("train-segmenter", [], feedback)
    message = str(info.value)
    assert "killed by signal 9" in message and "out of memory" in message
    assert "simulated segfault in a C extension" in message


@pytest.mark.parametrize("scenario", ["hang", "silent_hang"])
def test_cancel_ends_the_child_within_two_seconds(worker_module, fake_interpreter, feedback, tmp_path, scenario):
    fake_interpreter(scenario)
    timer = threading.Timer(1.0, feedback.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(worker_module.WorkerCancelled):
        worker_module.run_backend("train-translator", [], feedback)
    cancelled_after = time.monotonic() - started - 1.0
    assert cancelled_after < 2.0, f"child ended {cancelled_after:.2f} s after cancel"
    pid = int((tmp_path / "worker.pid").read_text())
    assert not _pid_alive(pid)


def test_cancel_removes_partial_outputs(worker_module, fake_interpreter, feedback, tmp_path):
    fake_interpreter("partial")
    out = tmp_path / "out.tif"
    threading.Timer(0.8, feedback.cancel).start()
    with pytest.raises(worker_module.WorkerCancelled):
        worker_module.run_backend("translate", [], feedback, outputs=[str(out)])
    assert not list(tmp_path.glob(".out.tif.*partial"))
    assert not out.exists()


@pytest.mark.parametrize("mode", ["ok", "error"])
def test_the_childs_pipes_are_closed_after_a_run(worker_module, fake_interpreter, feedback, mode):
    """Left open, the pipes raised 'ResourceWarning: unclosed file' when collected (the demo
    printed them)."""
    import gc
    import warnings

    fake_interpreter(mode)
    run = worker_module.BackendRun("train-translator", [], feedback)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            run.run()
        except QgsProcessingException:
            pass
        assert run.process.stdout.closed and run.process.stderr.closed
        del run
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize("path", ["/data/out.tif", "relative/name with space.safetensors", "x.onnx"])
def test_the_plugin_cleans_the_partial_files_the_backend_writes(worker_module, path):
    from models.raster.io import partial_path

    assert worker_module.partial_path(path, 4242) == partial_path(path, 4242)  # one rule on both sides
