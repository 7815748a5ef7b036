"""Throughput of data-parallel training: 1 rank against N ranks, same total batch.

    .venv/bin/python benchmarks/bench_data_parallel.py [--devices cpu:2] [--command segmenter]
        [--batch 8] [--patch 128] [--iterations 12] [--data DIR]

Trains the same job twice through the real command line: on one device (``cpu``, or the
first device of the list) with the total batch, and as one rank per listed device with
BATCH/N patches each (``--devices cpu:2``, ``cuda:0,1``, ``cuda:all``). Prints seconds per
iteration, patches per second, the speed-up and the scaling efficiency (speed-up / N) as
JSON. On a CPU machine the 1-rank run uses every core and each of N CPU ranks a 1/N share,
so the comparison is on the same cores (the speed-up is what gloo's gradient all-reduce
and the smaller per-rank batches cost or gain); on GPUs each rank has its own device.
Data: sample data made with ``create-sample-data`` (6 tiles of 256 px) unless --data
gives a folder of it.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models.runtime.device_list import parse_device_list  # noqa: E402


def sample_data(folder):
    if not glob.glob(os.path.join(folder, "source", "images", "*.tif")):
        subprocess.run([sys.executable, "-m", "models", "create-sample-data", "--output-folder",
                        folder, "--tiles", "6", "--size", "256", "--skip-shift-check"],
                       cwd=ROOT, check=True, capture_output=True)
    images = sorted(glob.glob(os.path.join(folder, "source", "images", "*.tif")))
    labels = sorted(glob.glob(os.path.join(folder, "source", "labels", "*.tif")))
    target = sorted(glob.glob(os.path.join(folder, "target", "images", "*.tif")))
    return images, labels, target


def job(command, data, device, batch, patch, iterations, output):
    images, labels, target = data
    common = ["--jsonl", "--device", device, "--batch-size", str(batch), "--patch-size",
              str(patch), "--max-iterations", str(iterations), "--epochs", "1000",
              "--output", output]
    if command == "segmenter":
        args = ["train-segmenter", "--encoder", "resnet18", "--validation-fraction", "0.1",
                *common]
        for image, label in zip(images, labels):
            args += ["--images", image, "--labels", label]
    else:
        args = ["train-translator", "--target", target[0], "--one-shot-size", "0", *common]
        for image in images:
            args += ["--source", image]
    proc = subprocess.run([sys.executable, "-m", "models", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": ROOT})
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    results = [e["data"] for e in events if e["type"] == "result"]
    if proc.returncode or not results:
        sys.exit(f"{device} failed: {proc.stderr[-3000:]}")
    return results[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="cpu:2")
    parser.add_argument("--command", choices=("segmenter", "translator"), default="segmenter")
    parser.add_argument("--batch", type=int, default=8, help="total batch (split over ranks)")
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    listed = parse_device_list(args.devices)
    ranks = len(listed)
    if args.batch % ranks:
        sys.exit(f"--batch {args.batch} must divide among {ranks} ranks")
    with tempfile.TemporaryDirectory() as tmp:
        data = sample_data(args.data or os.path.join(tmp, "data"))
        single = job(args.command, data, listed[0], args.batch, args.patch, args.iterations,
                     os.path.join(tmp, "one.safetensors"))
        parallel = job(args.command, data, args.devices, args.batch // ranks, args.patch,
                       args.iterations, os.path.join(tmp, "many.safetensors"))
    one, many = single["seconds_per_iteration"], parallel["seconds_per_iteration"]
    speedup = one / many
    print(json.dumps({
        "command": args.command, "devices": args.devices, "ranks": ranks,
        "total_batch": args.batch, "patch": args.patch, "iterations": args.iterations,
        "one_rank": {"device": single["device"], "seconds_per_iteration": round(one, 4),
                     "patches_per_second": round(args.batch / one, 2)},
        "n_ranks": {"device": parallel["device"], "seconds_per_iteration": round(many, 4),
                    "patches_per_second": round(args.batch / many, 2),
                    "in_sync": parallel.get("ranks_in_sync")},
        "speedup": round(speedup, 3), "scaling_efficiency": round(speedup / ranks, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
