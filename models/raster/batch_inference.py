"""Classify or translate many rasters in one run, on one device or spread over several.

A region is thousands of rasters on a machine with several GPUs; ``classify_raster`` and
``translate_raster`` each do one. What a batch adds is here, once, for both commands:

* inputs: INPUT, INPUTS and the rasters of INPUT_FOLDER (``RASTER_EXTENSIONS``, not
  hidden files, not a batch's own ``mosaic.vrt``), each once, in that order;
* outputs: ``<OUTPUT_FOLDER>/<input stem><suffix>.tif``; two inputs that would write the
  same file are refused before anything runs;
* resuming: an output that exists under its final name (partials have hidden names), opens
  with GDAL and has its input's size is complete and skipped, so a crashed or cancelled
  batch continues where it stopped; any other existing output is made again, with a warning;
* devices: one DEVICE runs the rasters one after another in this process; a DEVICE list
  (``models/runtime/device_list.py``) starts one spawned worker process per device, all
  fed from one queue so faster devices take more rasters (``batch_workers.py``);
* failures: the first failing input stops the batch with an error naming it and saying
  how many outputs are complete (they are kept; a rerun resumes). Ctrl+C or SIGTERM ends
  the workers (their partial outputs are removed) and propagates;
* the mosaic: ``mosaic.vrt`` over every output (gdal.BuildVRT, written under a hidden name
  and renamed); rasters that cannot be mosaicked (CRS, band count) give a warning, not an error.
"""

import os
import time
from dataclasses import dataclass

from osgeo import gdal, osr

from ..errors import LrmError
from ..runtime.device_list import is_device_list, parse_device_list
from ..runtime.reporting import Reporter
from ..storage.atomic import partial_path, write_text_atomically

gdal.UseExceptions()

RASTER_EXTENSIONS = (".tif", ".tiff", ".vrt", ".img", ".jp2")
MOSAIC_NAME = "mosaic.vrt"


@dataclass(frozen=True)
class Job:
    input: str
    outputs: tuple  # ((keyword of the per-raster function, output path), ...); the first is the raster

    @property
    def output(self):
        return self.outputs[0][1]


def run_inference(args, run_one, options, reporter, outputs=(("output", ""),)):
    """The whole command: ``run_one(input_path, **outputs, **options, device, reporter)``
    on ``args.input`` -> ``args.output`` as before, or as a batch when ``args`` names
    INPUTS, INPUT_FOLDER or OUTPUT_FOLDER. ``outputs``: (keyword, batch file suffix); an
    output after the first is written when its flag (``args.<keyword>``) is given."""
    if not (args.inputs or args.input_folder or args.output_folder):
        if not args.input or not args.output:
            raise LrmError("Give INPUT and OUTPUT for one raster, or INPUTS and/or INPUT_FOLDER "
                           "with OUTPUT_FOLDER for several.")
        named = {key: getattr(args, key) or None for key, _ in outputs}
        return run_one(args.input, **named, **options, device=single_device(args.device, reporter),
                       reporter=reporter)
    if args.output:
        reporter.warning(f"OUTPUT ({args.output}) is not used for several inputs: every output "
                         f"goes to OUTPUT_FOLDER as <input name>.tif.")
    wanted = [(key, suffix) for i, (key, suffix) in enumerate(outputs) if i == 0 or getattr(args, key)]
    inputs = gather_inputs([args.input] if args.input else [], args.inputs, args.input_folder)
    jobs = plan_jobs(inputs, args.output_folder, wanted, args.input_folder)
    return run_batch(run_one, jobs, options, args.device, reporter, args.output_folder)


def single_device(spec, reporter):
    """One raster with a DEVICE list runs on the list's first device (all CPU threads for cpu:N)."""
    if not is_device_list(spec):
        return spec
    device = parse_device_list(spec)[0]
    reporter.info(f"DEVICE={spec} spreads several inputs; one raster runs on {device}.")
    return device


def gather_inputs(inputs, more=None, folder=None):
    """The input rasters, each once (by real path): ``inputs``, ``more``, then ``folder``'s."""
    paths = list(inputs) + list(more or [])
    if folder:
        if not os.path.isdir(folder):
            raise LrmError(f"INPUT_FOLDER {folder} is not a folder. Choose the folder that holds "
                           f"the rasters.")
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(RASTER_EXTENSIONS)
                       and not n.startswith(".") and n.lower() != MOSAIC_NAME)
        if not names:
            raise LrmError(f"INPUT_FOLDER {folder} holds no raster ({', '.join('*' + e for e in RASTER_EXTENSIONS)}). "
                           f"Choose the folder that holds them, or give them as INPUTS.")
        paths += [os.path.join(folder, n) for n in names]
    unique, seen = [], set()
    for path in paths:
        if os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            unique.append(path)
    if not unique:
        raise LrmError("No input raster: give INPUT, INPUTS or INPUT_FOLDER.")
    return unique


def plan_jobs(inputs, output_folder, outputs=(("output", ""),), input_folder=None):
    """One Job per input: ``<output_folder>/<stem><suffix>.tif`` for each (keyword, suffix)."""
    if not output_folder:
        raise LrmError(f"{len(inputs)} input raster(s) are written to a folder: give OUTPUT_FOLDER.")
    if input_folder and os.path.realpath(input_folder) == os.path.realpath(output_folder):
        raise LrmError(f"OUTPUT_FOLDER is INPUT_FOLDER ({output_folder}): the outputs would be taken "
                       f"for inputs on the next run, or overwrite them. Choose another OUTPUT_FOLDER.")
    os.makedirs(output_folder, exist_ok=True)
    writers, inputs_real, jobs = {}, {os.path.realpath(p) for p in inputs}, []
    for path in inputs:
        stem = os.path.splitext(os.path.basename(path))[0]
        outs = tuple((key, os.path.join(output_folder, f"{stem}{suffix}.tif")) for key, suffix in outputs)
        for _, out in outs:
            if os.path.realpath(out) in inputs_real:
                raise LrmError(f"The output {out} would overwrite an input raster. Choose another "
                               f"OUTPUT_FOLDER.")
            if out.lower() in writers:
                raise LrmError(f"{writers[out.lower()]} and {path} would both be written to {out}. "
                               f"Rename one of them, or run them in separate batches.")
            writers[out.lower()] = path
        jobs.append(Job(path, outs))
    return jobs


def incomplete(job):
    """None when every output of ``job`` is complete; else why not ("" when one is missing)."""
    try:
        ds = gdal.Open(job.input)
        size = (ds.RasterXSize, ds.RasterYSize)
    except RuntimeError:
        return ""  # the run says what is wrong with the input
    for _, path in job.outputs:
        if not os.path.exists(path):
            return ""
        try:
            out = gdal.Open(path)
        except RuntimeError as exc:
            return f"{path} exists but GDAL cannot open it ({str(exc)[:200]})"
        if (out.RasterXSize, out.RasterYSize) != size:
            return f"{path} is {out.RasterXSize}x{out.RasterYSize}, not its input's {size[0]}x{size[1]}"
    return None


def run_batch(run_one, jobs, options, device, reporter, output_folder):
    """Make every output not yet complete, then the mosaic; return what was done."""
    started = time.perf_counter()
    pending, skipped = [], []
    for job in jobs:
        why = incomplete(job)
        if why:
            reporter.warning(f"{why}; it is made again.")
        (skipped if why is None else pending).append(job)
    if skipped:
        reporter.info(f"{len(skipped)} of {len(jobs)} outputs are already complete and kept "
                      f"(delete one to have it made again).")
    parallel = is_device_list(device)
    devices = parse_device_list(device) if parallel else [device]
    progress = _Progress(reporter, len(jobs), len(skipped))
    if pending and parallel:
        from .batch_workers import run_workers

        run_workers(run_one, pending, options, devices, progress, _failed, _JobReporter)
    else:
        for job in pending:
            job_reporter = _JobReporter(reporter.info, reporter.warning,
                                        lambda percent, job=job: progress.update(job, percent))
            try:
                result = run_one(job.input, **dict(job.outputs), **options, device=device,
                                 reporter=job_reporter)
            except (LrmError, RuntimeError) as exc:
                raise _failed(job, exc, progress)
            progress.finish(job, result)
    mosaic = build_mosaic([job.output for job in jobs], os.path.join(output_folder, MOSAIC_NAME),
                          reporter)
    return {"output_folder": output_folder, "mosaic": mosaic, "devices": devices,
            "outputs": [dict(job.outputs, input=job.input) for job in jobs],
            "written": [job.output for job in pending], "skipped": [job.output for job in skipped],
            "seconds": round(time.perf_counter() - started, 3)}


def _failed(job, exc, progress, kind=None):
    """The error that stops the batch: which input failed, and what is complete."""
    message = (f"{job.input} failed: {exc} The batch stopped: {progress.done} of {progress.total} "
               f"outputs are complete (kept; run it again to resume with the rest).")
    error = type(exc)(message) if isinstance(exc, LrmError) else LrmError(message)
    if kind:
        error.kind = kind
    return error


class _Progress:
    """Overall percent: complete outputs plus the running ones' fractions; a line per output."""

    def __init__(self, reporter, total, done):
        self.reporter, self.total, self.done, self.running = reporter, total, done, {}

    def update(self, job, percent):
        self.running[job] = percent / 100.0
        self.reporter.progress(100.0 * (self.done + sum(self.running.values())) / self.total)

    def finish(self, job, result):
        self.running.pop(job, None)
        self.done += 1
        self.reporter.progress(100.0 * (self.done + sum(self.running.values())) / self.total)
        where = f" on {result['device']}" if isinstance(result, dict) and result.get("device") else ""
        self.reporter.info(f"{self.done}/{self.total}: {job.output} written{where}.")


class _JobReporter(Reporter):
    """The per-raster function's reporter: messages named by their input, progress to a callback."""

    def __init__(self, info, warning, progress, name=""):
        self._info, self._warning, self._progress, self.name = info, warning, progress, name

    def progress(self, percent):
        self._progress(percent)

    def info(self, message):
        self._info(f"{self.name}{message}")

    def warning(self, message):
        self._warning(f"{self.name}{message}")


def build_mosaic(paths, mosaic, reporter):
    """``mosaic`` (a VRT) over ``paths``, renamed into place when complete; None with a
    warning when they cannot be mosaicked. The first output's .qml style is copied to it."""
    why = _not_mosaicable(paths)
    if why:
        reporter.warning(f"No mosaic was made: {why}. The outputs themselves are complete.")
        return None
    tmp = partial_path(mosaic)
    try:
        ds = gdal.BuildVRT(tmp, paths)  # same folder: the sources' relative paths hold for both
        if ds is None:
            raise RuntimeError(gdal.GetLastErrorMsg())
        ds = None  # closing writes the file
        os.replace(tmp, mosaic)
    except (RuntimeError, OSError) as exc:
        reporter.warning(f"No mosaic was made: {mosaic} could not be written ({exc}). The outputs "
                         f"themselves are complete.")
        return None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    style = os.path.splitext(paths[0])[0] + ".qml"
    if os.path.isfile(style):  # the outputs' class style (classify) styles the mosaic too
        with open(style, encoding="utf-8") as f:
            write_text_atomically(os.path.splitext(mosaic)[0] + ".qml", f.read())
    reporter.info(f"Mosaic of the {len(paths)} outputs: {mosaic}.")
    return mosaic


def _not_mosaicable(paths):
    """Why the rasters cannot share one VRT (CRS, band count, rotation), or ''."""
    first, reference = None, None
    for path in paths:
        ds = gdal.Open(path)
        transform = ds.GetGeoTransform()
        srs = osr.SpatialReference(wkt=ds.GetProjection()) if ds.GetProjection() else None
        if transform[2] or transform[4]:
            return f"{path} is rotated"
        if first is None:
            first, reference, bands = path, srs, ds.RasterCount
            continue
        if ds.RasterCount != bands:
            return f"{path} has {ds.RasterCount} band(s) but {first} has {bands}"
        if (srs is None) != (reference is None) or (srs is not None and not srs.IsSame(reference)):
            return f"{path} and {first} have different CRSs (reproject them to one CRS to mosaic them)"
    return ""
