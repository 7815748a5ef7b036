"""Translate or classify a virtual raster far larger than memory; print time and peak RSS.

    .venv/bin/python benchmarks/bench_huge_vrt.py --size 40000 --model MODEL --command translate \
        [--tile TILE.tif] [--out DIR] [--keep]

The VRT shows one small tile stretched over SIZE x SIZE pixels (one GDAL source, nothing
written at full size); the output is written to disk as the real command writes it. The
worker runs in a child whose peak RSS is measured (``resource.RUSAGE_CHILDREN``). Without
--tile a 256 px tile of noise is made. Make a cheap model for the translate case with
``python -m models train-translator --method histogram_matching ...``.

``--seconds N`` ends the worker after N seconds as Processing's Cancel does (SIGTERM), for
a command that would take hours here (classifying 40000^2 on a CPU): the peak RSS is
reached with the first strip of windows, and the run says how far it got and whether
anything was left behind.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, osr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_tile(path, size=256):
    rng = np.random.default_rng(0)
    ds = gdal.GetDriverByName("GTiff").Create(path, size, size, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((500000.0, 0.5, 0.0, 5700000.0, 0.0, -0.5))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    ds.WriteRaster(0, 0, size, size, rng.integers(0, 255, (3, size, size), dtype=np.uint8).tobytes())
    ds = None
    return path


def stretched_vrt(path, tile, size):
    src = gdal.Open(tile)
    gt = list(src.GetGeoTransform())
    gt[1] *= src.RasterXSize / size
    gt[5] *= src.RasterYSize / size
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{os.path.abspath(tile)}</SourceFilename><SourceBand>{b}</SourceBand>'
        f'<SrcRect xOff="0" yOff="0" xSize="{src.RasterXSize}" ySize="{src.RasterYSize}"/>'
        f'<DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/></SimpleSource></VRTRasterBand>'
        for b in range(1, src.RasterCount + 1))
    with open(path, "w") as f:
        f.write(f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><SRS>{src.GetProjection()}</SRS>'
                f'<GeoTransform>{", ".join(map(repr, gt))}</GeoTransform>{bands}</VRTDataset>')
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=40000)
    p.add_argument("--model", required=True)
    p.add_argument("--command", choices=["translate", "classify"], default="translate")
    p.add_argument("--tile", default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--seconds", type=float, default=0, help="cancel after this long (0: run to the end)")
    args = p.parse_args(argv)
    out_dir = args.out or tempfile.mkdtemp(prefix="lrm_huge_")
    os.makedirs(out_dir, exist_ok=True)
    tile = args.tile or make_tile(os.path.join(out_dir, "tile.tif"))
    vrt = stretched_vrt(os.path.join(out_dir, f"stretched_{args.size}.vrt"), tile, args.size)
    output = os.path.join(out_dir, f"{args.command}_{args.size}.tif")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "models", args.command, "--jsonl", "--input", vrt,
                             "--model", args.model, "--device", args.device, "--output", output],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    percent, cancelled = 0.0, False
    for line in proc.stdout:
        event = json.loads(line)
        percent = event.get("value", percent) if event.get("type") == "progress" else percent
        if args.seconds and time.monotonic() - started > args.seconds and not cancelled:
            proc.send_signal(signal.SIGTERM)
            cancelled = True
    rc = proc.wait()
    seconds = time.monotonic() - started
    if cancelled:
        left = [n for n in os.listdir(out_dir) if n.endswith(".partial") or n == os.path.basename(output)]
        print(f"cancelled after {seconds:.0f} s at {percent:.2f} % "
              f"({percent / 100 * args.size ** 2 / 1e6 / seconds:.2f} MP/s); left behind: {left or 'nothing'}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    size_gb = os.path.getsize(output) / 1e9 if os.path.exists(output) else 0
    megapixels = args.size * args.size / 1e6
    speed = "cancelled" if cancelled else f"{megapixels / seconds:.2f} MP/s"
    print(f"{args.command} {args.size}x{args.size} ({megapixels:.0f} MP): exit {rc}, {seconds:.0f} s, "
          f"{speed}, peak RSS {peak:.2f} GiB, output {size_gb:.2f} GB")
    if not args.keep and os.path.exists(output):
        os.remove(output)


if __name__ == "__main__":
    main()
