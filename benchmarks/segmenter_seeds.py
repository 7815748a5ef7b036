"""How much of a difference between two demo rows is the segmenter's own noise?

Retrains the quick preset's segmenter with several seeds on the training images of
finished demo rows (scripts/demo.py output: ``<out>/<row>/translated`` for translation
rows, the source images for ``lower``) and scores each on the demo's test tiles:

    .venv/bin/python benchmarks/segmenter_seeds.py --demo out/demo --rows lrm,histogram_matching \\
        --seeds 1,2 [--jobs 2]

Prints one line per (row, seed) and the mean and spread per row.
"""

import argparse
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import experiment as ex  # noqa: E402


def row_images(demo, row):
    if row == "lower":
        return sorted(glob.glob(os.path.join(demo, "data", "source", "images", "tile_*.tif")))
    found = sorted(glob.glob(os.path.join(demo, row, "translated", "*.tif")))
    if not found:
        raise SystemExit(f"no translated tiles in {demo}/{row}/translated: run scripts/demo.py first")
    return found


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--demo", required=True, help="a scripts/demo.py output folder")
    p.add_argument("--rows", default="lrm,histogram_matching")
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    demo = os.path.abspath(args.demo)
    labels = sorted(glob.glob(os.path.join(demo, "data", "source", "labels", "tile_*.tif")))
    targets = sorted(glob.glob(os.path.join(demo, "data", "target", "images", "tile_*.tif")))
    references = sorted(glob.glob(os.path.join(demo, "data", "target", "labels", "tile_*.tif")))
    half = max(1, len(targets) // 2)
    out = os.path.join(demo, "segmenter_seeds")
    backend = ex.Backend(os.path.join(out, "logs"), threads=max(1, (os.cpu_count() or 2) // args.jobs))

    def task(row, seed):
        def call():
            s = ex.Settings.from_preset("quick", device="cpu", seed=seed)
            model = os.path.join(out, f"{row}_seed{seed}.safetensors")
            ex.train_segmenter(backend, row_images(demo, row), labels, model, s,
                               label=f"{row}_seed{seed}")
            _, scores = ex.score_tiles(backend, model, targets[half:], references[half:],
                                       os.path.join(out, f"{row}_seed{seed}"), s,
                                       label=f"{row}_seed{seed}_score")
            line = {"row": row, "seed": seed, "miou": round(scores["miou"], 2)}
            print(json.dumps(line), flush=True)
            return line
        return call

    jobs = [(row, int(seed)) for row in args.rows.split(",") for seed in args.seeds.split(",")]
    results = ex.run_pool([task(*job) for job in jobs], args.jobs)
    for status, value in results:
        if status != "ok":
            print(f"failed: {value}")
    for row in args.rows.split(","):
        values = [v["miou"] for status, v in results if status == "ok" and v["row"] == row]
        if values:
            print(f"{row}: mIoU {np.mean(values):.2f} +- {np.std(values):.2f} over seeds "
                  f"{args.seeds} ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
