"""Running one model-file fuzz case through the real load paths, and judging it.

A case is a file at a model path. It is used the way users use model files: translated
with (``translate_raster``, for translator files), classified with (``classify_raster``)
or exported (``export_segmenter``, for segmenter files), or through the CLI in this
process (``python -m models translate|classify``). Allowed outcomes:

* ``ok``: it still works (a flipped bit in a weight changes a weight, not the format),
  and the outputs are complete: a raster of the input's size and the model's bands, a
  class raster with only valid classes plus its style, an ONNX file; no ``.partial`` file;
* ``error``: exactly one LrmError (CLI: exit status 2 and one ``ERROR:`` line) whose
  message names the model file and is at most MAX_MESSAGE characters; nothing written.

Anything else is a failure: another exception (the CLI's "internal error", exit 1), an
output left behind, more than TIME_LIMIT seconds, more than MEMORY_LIMIT bytes of
resident memory above what the process held before the case (the address space each
case may claim is also capped, so a runaway allocation fails the case instead of the
machine), or a file created by unpickling (nothing may be executed).
"""

import contextlib
import io
import json
import os
import re
import resource
import signal
import time
import traceback
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from models.errors import LrmError

TIME_LIMIT = 10.0          # seconds per case
MEMORY_LIMIT = 1.5 * 2**30  # resident bytes a case may add
ADDRESS_LIMIT = 3 * 2**30   # private writable memory a case may claim (RLIMIT_DATA)
MAX_MESSAGE = 1500


@dataclass
class Outcome:
    status: str      # "ok", "error" or "fail"
    detail: str      # the error message, or what failed
    seconds: float = 0.0
    peak_bytes: int = 0


class CaseTimeout(BaseException):
    """Raised in the case by the watchdog (BaseException: no handler may swallow it)."""


def _status_bytes(key):
    """A memory figure of this process from /proc (Linux); 0 where there is none."""
    try:
        with open("/proc/self/status") as f:
            return int(re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024
    except (OSError, AttributeError):
        return 0


@contextlib.contextmanager
def resource_guard(time_limit=TIME_LIMIT):
    """Watchdog (SIGALRM) and an address-space cap for one case; yields a dict that gets
    ``peak_bytes``: resident memory added at the peak (VmHWM reset before the case)."""
    usage = {"peak_bytes": 0}

    def alarm(signum, frame):
        raise CaseTimeout(f"still running after {time_limit:g} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    data = _status_bytes("VmData")
    if data:  # the cap is relative to what the process holds; unknown off Linux
        cap = data + ADDRESS_LIMIT
        resource.setrlimit(resource.RLIMIT_DATA, (cap if hard < 0 else min(cap, hard), hard))
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident size (VmHWM) to the current one
        can_measure = True
    except OSError:
        can_measure = False
    before = _status_bytes("VmRSS")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit + 5)  # the hard stop; TIME_LIMIT judged
    try:
        yield usage
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
        if can_measure:
            usage["peak_bytes"] = max(0, _status_bytes("VmHWM") - before)


def _leftovers(folder, allowed):
    return sorted(set(os.listdir(folder)) - set(allowed))


def _check_translation(out_dir, result, input_path):
    path = os.path.join(out_dir, "out.tif")
    ds, src = gdal.Open(path), gdal.Open(input_path)
    if ds is None:
        return "the output raster cannot be opened"
    if (ds.RasterXSize, ds.RasterYSize) != (src.RasterXSize, src.RasterYSize) \
            or ds.RasterCount != len(result["bands"]) \
            or ds.GetGeoTransform() != src.GetGeoTransform():
        return f"output raster {ds.RasterXSize}x{ds.RasterYSize}x{ds.RasterCount} does not match"
    ds.ReadAsArray()
    return None


def _check_classification(out_dir, result, input_path):
    classes = gdal.Open(os.path.join(out_dir, "classes.tif")).ReadAsArray()
    conf = gdal.Open(os.path.join(out_dir, "confidence.tif")).ReadAsArray()
    n = len(result["classes"]["names"])
    if classes.shape != (gdal.Open(input_path).RasterYSize, gdal.Open(input_path).RasterXSize):
        return f"class raster of shape {classes.shape}"
    if classes.max() >= n or not np.all((conf >= 0) & (conf <= 1)):
        return "class raster or confidence out of range"
    return None


def _targets(model, input_path, out_dir):
    """{target: (call, files it writes, checker)}."""
    from models.runtime.reporting import Reporter

    def translate():
        from models.translation.apply import translate_raster
        return translate_raster(input_path, model, os.path.join(out_dir, "out.tif"), overlap=8,
                                batch_size=2, device="cpu", reporter=Reporter())

    def classify():
        from models.segmentation.predict import classify_raster
        return classify_raster(input_path, model, os.path.join(out_dir, "classes.tif"),
                               os.path.join(out_dir, "confidence.tif"), overlap=8, batch_size=2,
                               device="cpu", reporter=Reporter(), window=64)

    def export():
        from models.segmentation.export_onnx import export_segmenter
        return export_segmenter(model, os.path.join(out_dir, "model.onnx"), tile_size=64,
                                resolution_cm=10.0)

    def cli(command):
        from models.cli.main import main

        def call():
            stderr, stdout = io.StringIO(), io.StringIO()
            out = "out.tif" if command == "translate" else "classes.tif"
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
                code = main([command, "--input", input_path, "--model", model, "--device", "cpu",
                             "--overlap", "8", "--output", os.path.join(out_dir, out)])
            errors = [line for line in stderr.getvalue().splitlines() if line.startswith("ERROR:")]
            if code == 2 and len(errors) == 1:
                raise LrmError(errors[0][len("ERROR: "):])
            if code != 0 or errors:
                raise AssertionError(f"exit status {code}, {len(errors)} error line(s): "
                                     f"{' | '.join(errors)[:MAX_MESSAGE]}")
            return json.loads(stdout.getvalue())
        return call

    return {
        "translate": (translate, ["out.tif"], _check_translation),
        "classify": (classify, ["classes.tif", "classes.qml", "confidence.tif"],
                     _check_classification),
        "export": (export, ["model.onnx"], None),
        "cli-translate": (cli("translate"), ["out.tif"], _check_translation),
        "cli-classify": (cli("classify"), ["classes.tif", "classes.qml"], None),
    }


def run_case(target, model, input_path, out_dir, marker=None, time_limit=TIME_LIMIT):
    """Use ``model`` with ``target`` (see ``_targets``) and judge the outcome."""
    os.makedirs(out_dir, exist_ok=True)
    call, outputs, check = _targets(model, input_path, out_dir)[target]
    status, detail, result = "fail", "", None
    start = time.perf_counter()
    with resource_guard(time_limit) as usage:
        try:
            result = call()
            status = "ok"
        except CaseTimeout as exc:
            detail = f"timeout: {exc}"
        except LrmError as exc:
            status, detail = "error", str(exc)
        except BaseException as exc:  # noqa: B902 - every other exception is a finding
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail = (f"{type(exc).__name__}: {str(exc)[:300]} "
                      f"(at {os.path.basename(where.filename)}:{where.lineno})")
    seconds = time.perf_counter() - start
    outcome = Outcome(status, detail, seconds, usage["peak_bytes"])
    problems = []
    if status == "error":
        left = _leftovers(out_dir, [])
        if left:
            problems.append(f"error but files left: {left}")
        if len(detail) > MAX_MESSAGE:
            problems.append(f"message of {len(detail)} characters")
        if model not in detail and os.path.basename(model) not in detail:
            problems.append("message does not name the model file")
    elif status == "ok":
        left = _leftovers(out_dir, outputs + [f + ".aux.xml" for f in outputs])
        missing = [f for f in outputs if not os.path.exists(os.path.join(out_dir, f))]
        if left or missing:
            problems.append(f"ok but unexpected files {left}, missing {missing}")
        elif check:
            bad = check(out_dir, result, input_path)
            if bad:
                problems.append(bad)
    if seconds > time_limit:
        problems.append(f"took {seconds:.1f} s")
    if outcome.peak_bytes > MEMORY_LIMIT:
        problems.append(f"peak memory +{outcome.peak_bytes / 2**20:.0f} MiB")
    if marker and os.path.exists(marker):
        problems.append("the pickle payload ran (marker file created)")
    if problems:
        outcome.status = "fail"
        outcome.detail = f"{'; '.join(problems)} [{status}: {detail[:300]}]"
    return outcome
