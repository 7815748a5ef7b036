"""Helpers shared by the demo (scripts/demo.py) and the experiment protocol (benchmarks/protocol.py).

* ``Backend`` runs backend commands as child processes of the worker interpreter
  (``python -m models <command> --jsonl ...``) and returns the ``result`` event's data,
  or raises ``ExperimentError`` with the ``error`` event's message. ``run_many`` runs a
  list of commands in ONE child (this module's worker mode, which parses each command
  with the CLI's own parser and calls the command module's ``run``): per-tile
  translation, classification and evaluation then pay torch's import once, not once
  per tile.
* Pipeline steps with the settings of an lrm:adapt preset (``Settings``).
* Scores over several tiles: the confusion matrices returned by ``evaluate`` are
  summed and scored with ``models.evaluation.metrics.scores_from_matrix`` (so a large tile
  weighs more than a small one, exactly as if the tiles were one raster).
* ``run_pool``: independent runs side by side (each in its own child processes).

Rows, tables, the bar chart and PNG previews are in ``tables.py``.
"""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from models.labels.classes import load_class_table  # noqa: E402
from models.evaluation.metrics import scores_from_matrix  # noqa: E402


class ExperimentError(RuntimeError):
    """A backend command failed; the message says which, why, and where its log is."""


def default_python():
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def load_presets():
    """algorithms/presets.py, read without importing the (QGIS) algorithms package."""
    spec = importlib.util.spec_from_file_location("lrm_presets", os.path.join(ROOT, "algorithms", "presets.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PRESETS


@dataclass
class Settings:
    """The knobs of both stages, as an lrm:adapt preset sets them."""
    patch_size: int
    batch_size: int
    encoder: str
    translator_epochs: int
    translator_iterations: int
    segmenter_epochs: int
    segmenter_iterations: int
    patience: int
    overlap: int
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def from_preset(cls, name, **overrides):
        preset = dict(load_presets()[name])
        preset.update({k: v for k, v in overrides.items() if v is not None})
        if preset["overlap"] >= preset["patch_size"]:  # a smaller PATCH_SIZE than the preset's
            preset["overlap"] = preset["patch_size"] // 4
        return cls(**{k: preset[k] for k in cls.__dataclass_fields__ if k in preset})

    def to_dict(self):
        return asdict(self)


def to_argv(flags):
    """{"source": [a, b], "patch_size": 128, "x": None} -> --source a --source b --patch-size 128."""
    argv = []
    for key, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


class Backend:
    """Runs backend commands in child processes; logs go to ``log_dir/<label>.log``.

    ``threads`` (e.g. 1 when two jobs share two cores) sets OMP/MKL thread counts of
    the children. ``on_progress(label, percent)`` is called on progress events.
    """

    def __init__(self, log_dir, python=None, threads=None, on_progress=None):
        self.log_dir, self.python = log_dir, python or default_python()
        self.on_progress = on_progress
        os.makedirs(log_dir, exist_ok=True)
        self.env = dict(os.environ, PYTHONUNBUFFERED="1")
        if threads:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                self.env[name] = str(threads)
        self._lock = threading.Lock()
        self._count = 0

    def _log_path(self, label):
        with self._lock:
            self._count += 1
            return os.path.join(self.log_dir, f"{self._count:03d}_{label}.log")

    def _execute(self, argv, label):
        """Run ``argv``; return the list of result events' data (error events raise)."""
        log_path = self._log_path(label)
        results, error = [], None
        with open(log_path, "w", encoding="utf-8", buffering=1) as log:
            log.write("$ " + " ".join(argv) + "\n")
            proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                event = None
                if line.startswith('{"type"'):
                    try:
                        event = json.loads(line)
                    except ValueError:
                        pass
                if event is None:
                    log.write(line)
                    continue
                kind = event.get("type")
                if kind == "progress":
                    if self.on_progress:
                        self.on_progress(label, event.get("value", 0))
                    continue
                if kind == "result":
                    results.append(event.get("data") or {})
                    log.write("result: " + json.dumps(event.get("data"))[:2000] + "\n")
                elif kind == "error":
                    error = event
                    log.write(f"ERROR: {event.get('message')}\n")
                elif kind in ("info", "warning"):
                    log.write(f"{kind}: {event.get('message')}\n")
            code = proc.wait()
            log.write(f"exit code {code}\n")
        if error:
            raise ExperimentError(f"{label}: {error.get('message')} (log: {log_path})")
        if code != 0:
            raise ExperimentError(f"{label}: the backend exited with code {code} without an "
                                  f"error message (log: {log_path})")
        return results

    def run(self, command, flags, label=None):
        """``python -m models <command> --jsonl <flags>``; returns the result's data."""
        argv = [self.python, "-m", "models", command, "--jsonl", *to_argv(flags)]
        results = self._execute(argv, label or command)
        if len(results) != 1:
            raise ExperimentError(f"{label or command}: expected one result, got {len(results)}")
        return results[0]

    def run_many(self, jobs, label):
        """Run [(command, flags), ...] in one child process; returns their results in order."""
        if not jobs:
            return []
        fd, spec = tempfile.mkstemp(prefix="jobs_", suffix=".json", dir=self.log_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([[command, to_argv(flags)] for command, flags in jobs], f)
        try:
            results = self._execute([self.python, os.path.abspath(__file__), "--worker", spec], label)
        finally:
            os.remove(spec)
        if len(results) != len(jobs):
            raise ExperimentError(f"{label}: {len(jobs)} jobs but {len(results)} results")
        return results


# -- pipeline steps ------------------------------------------------------------------

def train_translator(backend, method, sources, target, output, s, target_extent=None, label=None,
                     extra=None):
    """``extra``: more train-translator flags, e.g. {"vgg_weights": path, "lambda_style": 50}."""
    flags = {"method": method, "source": sources, "target": target, "target_extent": target_extent,
             "patch_size": s.patch_size, "batch_size": s.batch_size, "epochs": s.translator_epochs,
             "max_iterations": s.translator_iterations, "patience": s.patience,
             "device": s.device, "seed": s.seed, "output": output, **(extra or {})}
    return backend.run("train-translator", flags, label or f"translator_{method}")


def translate_all(backend, model, inputs, out_dir, s, label="translate"):
    """Translate every input raster into ``out_dir`` (same file names); returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    outputs = [os.path.join(out_dir, os.path.basename(p)) for p in inputs]
    backend.run_many([("translate", {"input": src, "model": model, "overlap": s.overlap,
                                     "batch_size": s.batch_size, "device": s.device, "output": out})
                      for src, out in zip(inputs, outputs)], label)
    return outputs


def train_segmenter(backend, images, labels, output, s, label_format="index", classes=None,
                    validation_fraction=None, label="segmenter", extra=None):
    flags = {"images": images, "labels": labels, "label_format": label_format, "classes": classes,
             "encoder": s.encoder, "patch_size": s.patch_size, "batch_size": s.batch_size,
             "epochs": s.segmenter_epochs, "max_iterations": s.segmenter_iterations,
             "patience": s.patience, "validation_fraction": validation_fraction,
             "device": s.device, "seed": s.seed, "output": output, **(extra or {})}
    return backend.run("train-segmenter", flags, label)


def score_tiles(backend, model, images, references, out_dir, s, label_format="index", classes=None,
                label="score"):
    """Classify every image, evaluate each against its reference, and score all tiles together.

    Returns (classified paths, scores of the summed confusion matrix).
    """
    os.makedirs(out_dir, exist_ok=True)
    outputs = [os.path.join(out_dir, os.path.basename(p)) for p in images]
    jobs = [("classify", {"input": img, "model": model, "overlap": s.overlap,
                          "batch_size": s.batch_size, "device": s.device, "output": out})
            for img, out in zip(images, outputs)]
    jobs += [("evaluate", {"prediction": out, "reference": ref, "label_format": label_format,
                           "classes": classes}) for out, ref in zip(outputs, references)]
    results = backend.run_many(jobs, label)
    return outputs, combine_scores(results[len(images):], classes)


def combine_scores(evaluations, classes=None):
    """Scores of several ``evaluate`` results, from the sum of their confusion matrices."""
    matrix = sum(np.asarray(e["confusion_matrix"], np.int64) for e in evaluations)
    return scores_from_matrix(matrix, load_class_table(classes).names)


# -- running tasks side by side -----------------------------------------------------

def run_pool(tasks, jobs):
    """Run callables on ``jobs`` threads (each runs child processes); returns their outcomes.

    Tasks are started in list order. An outcome is ("ok", value) or ("error", message);
    one failing task does not stop the others.
    """
    outcomes = [None] * len(tasks)
    queue = list(enumerate(tasks))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, task = queue.pop(0)
            try:
                outcomes[index] = ("ok", task())
            except ExperimentError as exc:
                outcomes[index] = ("error", str(exc))
            except Exception as exc:  # a bug in the driver: keep the traceback
                outcomes[index] = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def clock(start):
    seconds = int(time.monotonic() - start)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


# -- worker mode: many backend commands in one process ---------------------------------

def _worker(spec_path):
    from models.cli import main as cli
    from models.runtime import dependencies
    from models.errors import LrmError
    from models.runtime.reporting import JsonLinesReporter

    with open(spec_path, encoding="utf-8") as f:
        jobs = json.load(f)
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)  # as the CLI does: library prints cannot corrupt the protocol
    sys.stdout = sys.stderr

    class JobReporter(JsonLinesReporter):
        def __init__(self, index):
            super().__init__(stream)
            self.index = index

        def progress(self, percent):
            super().progress(100.0 * (self.index + max(0.0, min(100.0, percent)) / 100.0) / len(jobs))

        def _emit(self, obj):
            obj["job"] = self.index
            super()._emit(obj)

    dependencies.check_backend_dependencies()
    for index, (name, argv) in enumerate(jobs):
        reporter = JobReporter(index)
        try:
            module = importlib.import_module(f"models.cli.commands.{cli.COMMANDS[name]}")
            args = cli.build_parser({name: module}).parse_args([name, *argv])
            reporter.result(module.run(args, reporter) or {})
        except LrmError as exc:
            reporter.error(f"{name} {' '.join(argv)}: {exc}", kind=exc.kind)
            return 2
        except SystemExit:
            reporter.error(f"invalid arguments for {name}: {' '.join(argv)}", kind="usage")
            return 2
        except Exception as exc:  # noqa: BLE001 -- reported with its traceback
            traceback.print_exc(file=sys.stderr)
            reporter.error(f"internal error in {name}: {type(exc).__name__}: {exc}", kind="internal")
            return 1
    return 0


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--worker":
    sys.exit(_worker(sys.argv[2]))
