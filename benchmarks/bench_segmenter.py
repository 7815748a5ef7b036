"""Segmenter benchmark: classification throughput on CPU and peak memory on a big raster.

    .venv/bin/python benchmarks/bench_segmenter.py                    # defaults below
    .venv/bin/python benchmarks/bench_segmenter.py --throughput-size 1024 \\
        --encoders resnet101 resnet18 --memory-size 8000 --memory-encoder resnet18

1. Throughput: ``classify`` (512x512 windows, overlap 64, batch 4, DEVICE=cpu) of a
   ``--throughput-size`` square 3-band uint8 raster, for each encoder; prints megapixels
   per second and seconds per window. The models are untrained U-Nets (same compute).
2. Peak memory: ``classify`` of a ``--memory-size`` square 3-band raster (written window
   by window) in a fresh process; prints the child's peak RSS (target < 2 GB) and its
   time. ``--memory-size 0`` skips it.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("LRM_OFFLINE", "1")


def make_model(path, encoder, patch=512):
    """An untrained segmenter model file with the metadata classify needs."""
    from models.labels.classes import default_classes
    from models.storage.model_file import save_model
    from models.segmentation.network import DECODER_CHANNELS, build_unet

    classes = default_classes()
    model = build_unet(encoder, 3, len(classes))
    save_model(path, model.state_dict(), {
        "kind": "segmenter", "architecture": "unet", "encoder": encoder,
        "decoder_channels": list(DECODER_CHANNELS), "in_channels": 3, "bands": [1, 2, 3],
        "input_scaling": {"method": "standardize", "mean": [120.0] * 3, "std": [50.0] * 3,
                          "dtype": "uint8"},
        "classes": classes.to_dict(), "ignore_value": 255, "patch_size": patch})
    return sum(p.numel() for p in model.parameters())


def make_raster(path, size, block=1000, seed=0):
    """A size x size 3-band uint8 GeoTIFF written block by block (bounded memory)."""
    from osgeo import gdal

    rng = np.random.default_rng(seed)
    ds = gdal.GetDriverByName("GTiff").Create(path, size, size, 3, gdal.GDT_Byte,
                                              ["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform((0, 0.5, 0, 0, 0, -0.5))
    for y in range(0, size, block):
        h = min(block, size - y)
        for x in range(0, size, block):
            w = min(block, size - x)
            smooth = rng.integers(40, 220, (3, h // 50 + 1, w // 50 + 1)).astype(np.uint8)
            tile = np.kron(smooth, np.ones((1, 50, 50), np.uint8))[:, :h, :w]
            noise = rng.integers(0, 20, (3, h, w), dtype=np.uint8)
            for b in range(3):
                ds.GetRasterBand(b + 1).WriteArray(tile[b] + noise[b], x, y)
    ds = None


# runs the command in a child and prints that child's peak RSS (KiB) on stderr
_RSS_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
                "sys.stderr.write('PEAK_RSS_KIB %d\\n' % "
                "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def classify_cli(raster, model, output, batch_size=4, overlap=64):
    """Run ``python -m models classify`` in a fresh process; (result, wall s, peak RSS GiB)."""
    import json

    cmd = [sys.executable, "-c", _RSS_WRAPPER, sys.executable, "-m", "models", "classify",
           "--jsonl", "--input", raster, "--model", model, "--output", output, "--device", "cpu",
           "--overlap", str(overlap), "--batch-size", str(batch_size)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"classify failed: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    result = [json.loads(line) for line in proc.stdout.splitlines()
              if '"result"' in line][-1]["data"]
    peak_kib = int(proc.stderr.rsplit("PEAK_RSS_KIB", 1)[1].split()[0])
    return result, wall, peak_kib / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", nargs="*", default=["resnet101", "resnet18"])
    parser.add_argument("--throughput-size", type=int, default=1024)
    parser.add_argument("--memory-size", type=int, default=8000)
    parser.add_argument("--memory-encoder", default="resnet101")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    from models.raster.tiling import window_grid

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_segmenter_") as tmp:
        size = args.throughput_size
        raster = os.path.join(tmp, f"in_{size}.tif")
        make_raster(raster, size)
        windows = sum(len(r) for r in window_grid(size, size, 512, 64))
        for encoder in args.encoders:
            model = os.path.join(tmp, f"{encoder}.safetensors")
            params = make_model(model, encoder)
            result, _, peak = classify_cli(raster, model, os.path.join(tmp, f"out_{encoder}.tif"))
            print(f"throughput {encoder} ({params / 1e6:.1f}M parameters): {size}x{size} raster, "
                  f"{windows} windows of 512 (overlap 64, batch 4), cpu: "
                  f"{result['megapixels_per_second']:.3f} MP/s, "
                  f"{result['seconds'] / windows:.2f} s/window, {result['seconds']:.1f} s, "
                  f"peak RSS {peak:.2f} GiB")
        if args.memory_size:
            size = args.memory_size
            raster = os.path.join(tmp, f"big_{size}.tif")
            start = time.perf_counter()
            make_raster(raster, size)
            print(f"wrote {size}x{size}x3 raster in {time.perf_counter() - start:.0f} s")
            model = os.path.join(tmp, f"{args.memory_encoder}.safetensors")
            if not os.path.exists(model):
                make_model(model, args.memory_encoder)
            result, wall, peak = classify_cli(raster, model, os.path.join(tmp, "big_out.tif"))
            print(f"memory {args.memory_encoder}: classify {size}x{size}x3 (512 windows, overlap "
                  f"64, batch 4, cpu): peak RSS {peak:.2f} GiB (target < 2 GB), "
                  f"{result['megapixels_per_second']:.3f} MP/s, {wall:.0f} s")


if __name__ == "__main__":
    main()
