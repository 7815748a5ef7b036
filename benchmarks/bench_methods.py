"""Translation methods side by side: seconds per training iteration and parameter counts.

    .venv/bin/python benchmarks/bench_methods.py [--iterations 3] [--methods lrm,cyclegan]

Every method is trained through its own ``train(config, reporter)`` (the code users
run, LRM included: ``models.translation.methods.lrm``), for a few iterations on synthetic 8-bit
rasters, and its ``seconds_per_iteration`` is reported: the mean wall-clock time of an
iteration, data reading included, the first (warm-up) iteration left out; every
method measures it the same way. Settings: 128x128 patches, batch 4 on CPU; and, when
CUDA is present, 512x512 patches, batch 8 on the GPU. Histogram matching and FDA have
no parameters and no iterations: their whole "training" time is shown instead.
LRM runs without VGG19 ImageNet weights here (a random VGG19 costs the same time).

The last line gives LRM's speed-up over CycleGAN (CycleGAN s/iter / LRM s/iter); the
LRM paper reports 0.531 / 0.16 = 3.3x on an RTX 3060 (batch and patch as in its
published code).
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("LRM_OFFLINE", "1")

from osgeo import gdal, osr  # noqa: E402

from models.runtime.reporting import Reporter  # noqa: E402
from models.translation.config import TranslatorConfig  # noqa: E402
from models.translation.registry import get_method, method_names  # noqa: E402

PAPER = {  # Table I of the LRM paper (RTX 3060): s/iter, parameters
    "lrm": (0.16, "0.115M"), "cyclegan": (0.531, "11.378M"), "colormapgan": (0.054, "100.663M"),
    "histogram_matching": (None, "0"), "fda": (None, "0"),
    "dualgan": (0.207, "41.828M"), "benjdira": (0.531, "11.378M"),
}


def write_raster(path, mean, side, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    bands = [mean[b] + 30 * np.sin(xx / (9.0 + b)) * np.cos(yy / 13.0)
             + 10 * rng.standard_normal((side, side)) for b in range(3)]
    data = np.clip(np.stack(bands), 0, 255).astype(np.uint8)
    ds = gdal.GetDriverByName("GTiff").Create(path, side, side, 3, gdal.GDT_Byte,
                                              options=["TILED=YES"])
    ds.SetGeoTransform((431000.0, 0.5, 0.0, 5412000.0, 0.0, -0.5))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    for i in range(3):
        ds.GetRasterBand(i + 1).WriteArray(data[i])
    ds = None
    return path


def run_method(method, folder, source, target, patch, batch, iterations, device):
    config = TranslatorConfig(sources=[source], target=target, patch_size=patch,
                              batch_size=batch, epochs=1, max_iterations=iterations,
                              patience=0, device=device, method=method,
                              output=os.path.join(folder, f"{method}_{patch}.safetensors"))
    started = time.perf_counter()
    result = get_method(method).train(config, Reporter())
    return result, time.perf_counter() - started


def bench(methods, patch, batch, iterations, device, folder):
    # Enough SOURCE windows for one epoch of `iterations` batches (plus validation).
    side = patch * int(np.ceil(np.sqrt(batch * iterations * 1.3 + 2)))
    source = write_raster(os.path.join(folder, f"source_{patch}.tif"), (70, 90, 60), side, 1)
    target = write_raster(os.path.join(folder, f"target_{patch}.tif"), (170, 120, 150),
                          max(patch * 2, 256), 2)
    rows = {}
    for method in methods:
        result, seconds = run_method(method, folder, source, target, patch, batch, iterations,
                                     device)
        rows[method] = {"parameters": result["parameters"],
                        "spi": result.get("seconds_per_iteration"),
                        "iterations": result.get("iterations", 0), "seconds": seconds}
        print(f"  {method}: {rows[method]}", file=sys.stderr, flush=True)
    return rows


def fmt_spi(row):
    if row["spi"] is None:
        return f"- ({row['seconds']:.2f} s total)"
    return f"{row['spi']:.3f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=3,
                        help="training iterations per method (the first is not timed)")
    parser.add_argument("--methods", default=",".join(method_names()))
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    settings = [("cpu", 128, 4)]
    if torch.cuda.is_available():
        settings.append(("cuda", 512, 8))
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_methods_") as folder:
        for device, patch, batch in settings:
            print(f"{device}: {patch}x{patch}, batch {batch}, {args.iterations} iterations",
                  file=sys.stderr, flush=True)
            results[device] = bench(methods, patch, batch, args.iterations, device, folder)
    cpu_desc = f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"torch {torch.__version__}; load average at the end: {load} (a shared machine's "
          f"other jobs slow the CPU figures down)\n")
    header = ["method", "parameters", f"s/iter {cpu_desc} 128x128 b4"]
    if "cuda" in results:
        header.append(f"s/iter {torch.cuda.get_device_name(0)} 512x512 b8")
    header += ["paper s/iter (RTX 3060)", "paper params"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for method in methods:
        row = results["cpu"][method]
        cells = [method, f"{row['parameters']:,}", fmt_spi(row)]
        if "cuda" in results:
            cells.append(fmt_spi(results["cuda"][method]))
        spi, params = PAPER.get(method, (None, "?"))
        cells += ["-" if spi is None else f"{spi:g}", params]
        print("| " + " | ".join(cells) + " |")
    for device, rows in results.items():
        if "lrm" in rows and "cyclegan" in rows and rows["lrm"]["spi"] and rows["cyclegan"]["spi"]:
            ratio = rows["cyclegan"]["spi"] / rows["lrm"]["spi"]
            print(f"\nLRM speed-up over CycleGAN on {device}: {rows['cyclegan']['spi']:.3f} / "
                  f"{rows['lrm']['spi']:.3f} = {ratio:.2f}x (paper: 0.531 / 0.16 = 3.3x)")


if __name__ == "__main__":
    main()
