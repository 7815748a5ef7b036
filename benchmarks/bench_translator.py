"""LRM translator benchmark: prints figures (it is not a test).

    .venv/bin/python benchmarks/bench_translator.py [--iterations 4] [--size 8000]
        [--threads N] [--skip-translate] [--losses] [--scaling-experiment]

1. Parameters and seconds per training iteration at 128x128, batch 4, on CPU (and at
   512x512, batch 8, on CUDA when present), through the real ``train()``: the mean
   wall-clock time of an iteration, data reading included, warm-up iteration left out.
2. Translation of a SIZE x SIZE 3-band uint8 raster (default 8000; generated window by
   window, never held in memory) on CPU by ``python -m models translate`` in a child
   process: megapixels per second and the child's peak resident memory (target: under
   1.5 GB whatever the raster size).
3. ``--losses``: magnitude of each loss term for the same images fed to VGG19 in 0..255
   (the choice made here, as in the published code) or in 0..1, i.e. what the paper's
   loss weights would face with normalised inputs.
4. ``--scaling-experiment``: validation loss after the same number of iterations on
   the ISPRS one-shot pair with the generator on standardised bands (the choice) and
   on raw 0..255 values (the published code's).
VGG19 ImageNet weights are used when found (VGG_WEIGHTS / torchvision cache), else a
random VGG19 (same cost; the loss magnitudes then differ from the published ones).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("LRM_OFFLINE", "1")

from osgeo import gdal, osr  # noqa: E402

from models.runtime.reporting import Reporter  # noqa: E402
from models.translation.config import TranslatorConfig  # noqa: E402

ONESHOT = os.path.join(os.path.dirname(ROOT), "shared", "data", "isprs_oneshot")


def create(path, width, height, bands=3, geotransform=(431000.0, 0.5, 0.0, 5412000.0, 0.0, -0.5)):
    ds = gdal.GetDriverByName("GTiff").Create(path, width, height, bands, gdal.GDT_Byte,
                                              options=["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform(geotransform)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    return ds


def synthetic(path, side, mean, seed, block=1024):
    """A textured uint8 raster written block by block (memory: one block)."""
    rng = np.random.default_rng(seed)
    ds = create(path, side, side)
    for y in range(0, side, block):
        for x in range(0, side, block):
            h, w = min(block, side - y), min(block, side - x)
            yy, xx = np.mgrid[y:y + h, x:x + w]
            for b in range(3):
                plane = (mean[b] + 30 * np.sin(xx / (9.0 + b)) * np.cos(yy / 13.0)
                         + 12 * rng.standard_normal((h, w)))
                ds.GetRasterBand(b + 1).WriteArray(np.clip(plane, 0, 255).astype(np.uint8), x, y)
    ds = None
    return path


def train(folder, name, patch, batch, iterations, device, source_side=None):
    from models.translation.methods.lrm import method as lrm

    side = source_side or 4 * patch
    source = synthetic(os.path.join(folder, f"{name}_source.tif"), side, (70, 90, 60), 1)
    target = synthetic(os.path.join(folder, f"{name}_target.tif"), 2 * patch, (180, 120, 160), 2)
    config = TranslatorConfig(sources=[source], target=target, patch_size=patch,
                              batch_size=batch, epochs=1000, max_iterations=iterations,
                              patience=0, device=device,
                              output=os.path.join(folder, f"{name}.safetensors"))
    return lrm.train(config, Reporter()), config.output


def bench_training(folder, iterations):
    import torch

    rows = [("cpu", 128, 4)]
    if torch.cuda.is_available():
        rows.append(("cuda", 512, 8))
    for device, patch, batch in rows:
        result, _ = train(folder, f"train_{device}", patch, batch, iterations, device)
        print(f"training  {device:4s} {patch}x{patch} batch {batch}: "
              f"{result['seconds_per_iteration']:.3f} s/iter over {result['iterations']} "
              f"iterations (first left out); translator {result['parameters']:,} parameters, "
              f"discriminator {result['discriminator_parameters']:,}; {result['device']}; "
              f"VGG19: {result['vgg_weights']}", flush=True)


def bench_translation(folder, side, threads):
    _, model = train(folder, "translate_model", 512, 1, 1, "cpu", source_side=1024)
    raster = synthetic(os.path.join(folder, "big.tif"), side, (70, 90, 60), 3)
    out = os.path.join(folder, "big_translated.tif")
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "models", "translate", "--jsonl", "--input",
                             raster, "--model", model, "--device", "cpu", "--output", out],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0.0]
    watcher = threading.Thread(target=_watch_peak, args=(proc, peak), daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    watcher.join()
    wall = time.monotonic() - started
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    results = [e["data"] for e in events if e["type"] == "result"]
    if proc.returncode or not results:
        print(stderr[-3000:], events[-3:])
        raise SystemExit("translation failed")
    peak = peak[0]
    r = results[0]
    print(f"translate cpu {side}x{side} 3-band uint8 (window {r['window']}, overlap "
          f"{r['overlap']}, batch 4, {r['device']}): "
          f"{r['megapixels_per_second']:.3f} MP/s ({r['seconds']:.0f} s, {wall:.0f} s with "
          f"start-up); peak RSS of the worker {peak:.2f} GiB", flush=True)


def _watch_peak(proc, peak):
    """Poll the child's VmHWM (peak RSS of its own address space) until it exits.

    getrusage(RUSAGE_CHILDREN) would not do: a child started by fork/vfork + exec keeps
    the parent's resident size at exec time in its ru_maxrss."""
    status = f"/proc/{proc.pid}/status"
    while proc.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) / 2**20)  # KiB -> GiB
        except OSError:
            break
        time.sleep(0.2)


def bench_losses():
    import torch

    from models.translation.methods.lrm.losses import PerceptualLoss
    from models.translation.methods.lrm.vgg import load_vgg19

    torch.manual_seed(0)  # the same random VGG19 every run when no weights are found
    vgg, source_of_weights = load_vgg19(None, Reporter())
    images = _oneshot_pair(256)
    source, target = (torch.from_numpy(a.astype(np.float32))[None] for a in images)
    translated = 0.5 * (source + target)  # a stand-in for a half-way translation
    print(f"loss terms for a 256x256 ISPRS crop (VGG19: {source_of_weights}):")
    for label, unit in (("0..255 (chosen, as published)", 1.0), ("0..1", 1 / 255)):
        loss = PerceptualLoss(vgg, target * unit, 3)
        with torch.no_grad():
            content, style = loss(source * unit, translated * unit)
        rec = float((translated - source).abs().mean()) * unit
        print(f"  {label:30s} L1 {rec:.4g}  content {float(content):.4g}  style {float(style):.4g}")


def _oneshot_pair(side):
    paths = [os.path.join(ONESHOT, n) for n in ("P_Style_Image1.jpg", "V_Style_Image1.png")]
    if all(os.path.isfile(p) for p in paths):
        return [gdal.Open(p).ReadAsArray(0, 0, side, side) for p in paths]
    rng = np.random.default_rng(0)
    return [np.clip(rng.normal(m, 30, (3, side, side)), 0, 255) for m in (100, 160)]


def bench_scaling(folder, epochs):
    from models.translation.methods.lrm import network, train as train_module

    pair = _oneshot_pair(512)
    paths = []
    for name, array in zip(("potsdam", "vaihingen"), pair):
        ds = create(os.path.join(folder, f"{name}.tif"), array.shape[2], array.shape[1])
        for b in range(3):
            ds.GetRasterBand(b + 1).WriteArray(array[b].astype(np.uint8))
        ds = None
        paths.append(os.path.join(folder, f"{name}.tif"))
    original = network.Generator.set_standardization
    for label, standardize in (("standardised generator (chosen)", True),
                               ("raw 0..255 generator (published)", False)):
        if not standardize:
            network.Generator.set_standardization = lambda self, mean, std: None
        config = TranslatorConfig(sources=[paths[0]], target=paths[1], patch_size=64,
                                  batch_size=4, epochs=epochs, patience=0, device="cpu",
                                  output=os.path.join(folder, f"scaling_{standardize}.safetensors"))
        result = train_module.train(config, Reporter())
        network.Generator.set_standardization = original
        print(f"  {label:34s} best validation loss {result['best_validation_loss']:.4g} after "
              f"{result['iterations']} iterations", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-translate", action="store_true")
    parser.add_argument("--losses", action="store_true")
    parser.add_argument("--scaling-experiment", type=int, default=0, metavar="EPOCHS")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CUDA "
          f"{torch.cuda.is_available()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_translator_") as folder:
        if not args.skip_training:
            bench_training(folder, args.iterations)
        if not args.skip_translate:
            bench_translation(folder, args.size, args.threads)
        if args.losses:
            bench_losses()
        if args.scaling_experiment:
            print(f"input scaling experiment ({args.scaling_experiment} epochs, 64x64, batch 4):")
            bench_scaling(folder, args.scaling_experiment)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
