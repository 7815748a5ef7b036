"""A fast, low-noise screen of translation methods: a pixel classifier trained on the
translated source, scored on the target.

Segmenter runs on 2 CPU cores take minutes and vary with the segmenter's own training
noise; to compare translator designs on many data sets this script replaces the
segmenter with the Gaussian (quadratic discriminant) pixel classifier of
``models.sample_data.shift`` (band values, local means and local standard deviation).
It is trained on the translated source tiles with the source labels and scored on the
target's held-out tiles. A translation that gives each class its target colour scores
high; one that swaps classes' colours or leaves the source's colours scores low. It
ranks translations, it does not replace the segmenter figures (benchmarks/protocol.py,
scripts/demo.py).

Split (as the demo's): target tiles cut in two halves by name; the one-shot sample is
the first tile of the first half (the whole tile up to ONE_SHOT_SIZE); the "upper" row
trains on the first half's labels; every row is scored on the second half.

    .venv/bin/python benchmarks/translation_qda_proxy.py --data DIR \\
        --methods lower,upper,histogram_matching,fda,lrm [--tag NAME] \\
        [--translator-option perceptual_loss=weight_free ...] [--iterations 300]

One JSON line per row on stdout (and appended to --results when given).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from osgeo import gdal  # noqa: E402

from models.sample_data.shift import GaussianClassifier, pixel_features, scores  # noqa: E402

TRANSLATE = ("import sys\nfrom models.translation.apply import translate_raster\n"
             "model = sys.argv[1]\n"
             "for i, o in zip(sys.argv[2::2], sys.argv[3::2]):\n"
             "    translate_raster(i, model, o, overlap=32, device='cpu')\n")


def read(path):
    return gdal.Open(path).ReadAsArray()


def tiles(data, domain, sub):
    found = sorted(glob.glob(os.path.join(data, domain, sub, "tile_*.tif")))
    if not found:
        raise SystemExit(f"no {domain}/{sub}/tile_*.tif in {data}")
    return found


def qda_scores(images, labels, test_images, test_labels, classes=6, seed=0):
    rng = np.random.default_rng(seed)
    features = np.concatenate([pixel_features(read(p)) for p in images])
    truth = np.concatenate([read(p).ravel() for p in labels]).astype(np.int64)
    model = GaussianClassifier(classes).fit(features, truth, rng)
    test = np.concatenate([pixel_features(read(p)) for p in test_images])
    test_truth = np.concatenate([read(p).ravel() for p in test_labels]).astype(np.int64)
    return scores(test_truth, model.predict(test), classes)


def run(argv, env, what):
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return done


def translate(method, args, sources, one_shot, folder, env):
    model = os.path.join(folder, "translator.safetensors")
    argv = [args.python, "-m", "models", "train-translator", "--method", method,
            "--target", one_shot, "--patch-size", str(args.patch_size), "--batch-size",
            str(args.batch_size), "--epochs", "1000", "--max-iterations", str(args.iterations),
            "--patience", "0", "--device", "cpu", "--seed", str(args.seed), "--output", model]
    for option in args.translator_option:
        name, _, value = option.partition("=")
        argv += ["--" + name.replace("_", "-"), value]
    for path in sources:
        argv += ["--source", path]
    run(argv, env, f"train-translator ({method})")
    outputs = [os.path.join(folder, "translated_" + os.path.basename(p)) for p in sources]
    pairs = [a for pair in zip(sources, outputs) for a in pair]
    run([args.python, "-c", TRANSLATE, model, *pairs], env, "translate")
    return outputs


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="sample data folder (source/, target/)")
    p.add_argument("--methods", default="lower,upper,histogram_matching,fda,lrm",
                   help="comma list: lower, upper and train-translator methods")
    p.add_argument("--tag", default="", help="suffix of the row names and output folders")
    p.add_argument("--out", default=os.path.join(ROOT, "out", "qda_proxy"))
    p.add_argument("--results", default=None, help="append the JSON lines to this file")
    p.add_argument("--translator-option", action="append", default=[],
                   help="extra train-translator flag NAME=VALUE (repeat)")
    p.add_argument("--iterations", type=int, default=300, help="translator iterations (quick preset)")
    p.add_argument("--patch-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads of the children")
    p.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data = os.path.abspath(args.data)
    sources, source_labels = tiles(data, "source", "images"), tiles(data, "source", "labels")
    targets, target_labels = tiles(data, "target", "images"), tiles(data, "target", "labels")
    half = max(1, len(targets) // 2)
    test, test_labels = targets[half:], target_labels[half:]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    for method in args.methods.split(","):
        started = time.monotonic()
        name = method + (f"_{args.tag}" if args.tag and method not in ("lower", "upper") else "")
        folder = os.path.join(args.out, os.path.basename(data), name)
        os.makedirs(folder, exist_ok=True)
        if method == "lower":
            images, labels = sources, source_labels
        elif method == "upper":
            images, labels = targets[:half], target_labels[:half]
        else:
            images, labels = translate(method, args, sources, targets[0], folder, env), source_labels
        figures = qda_scores(images, labels, test, test_labels)
        row = {"data": os.path.basename(data), "row": name,
               **{k: round(v, 2) for k, v in figures.items()},
               "seconds": round(time.monotonic() - started)}
        print(json.dumps(row), flush=True)
        if args.results:
            with open(args.results, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
