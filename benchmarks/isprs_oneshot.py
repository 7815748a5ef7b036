"""Real ISPRS one-shot check (Potsdam -> Vaihingen): colour distribution and structure.

    .venv/bin/python benchmarks/isprs_oneshot.py [--iterations 300] [--out out/isprs_oneshot]
        [--rows lrm_weight_free,lrm_weight_free_spatial,lrm_vgg19_random,histogram_matching,fda]

Reads the real patches in ../shared/data/isprs_oneshot (never copied into the
repository): trains each method on the Potsdam patches P_Style_Image7..10 with
V_Style_Image1 as the one-shot Vaihingen sample, translates P_Style_Image1 (not trained
on) and measures

* colour: the sliced Wasserstein distance, jointly over the three bands (256 random
  directions, fixed seed, 0..255 units), between the translation and the OTHER Vaihingen
  patch V_Style_Image2 (lower = closer to the target's colours); the untranslated source
  gives the starting distance;
* colour precision: the mean distance (0..255 units) from each translated pixel's colour
  (20,000 pixels, fixed seed) to the nearest colour of V_Style_Image2: whether the
  translation uses colours the target has, whatever their proportions. The sliced
  Wasserstein distance also compares proportions, and the two patches' land cover differs
  (the held-out Potsdam patch is mostly road, the Vaihingen ones mostly vegetation), so a
  translation that restyles each class correctly can still be far from V2 in that figure;
* structure: the Pearson correlation of per-pixel gradient magnitudes (Sobel, summed over
  bands) between the translation and the source (1 = every edge kept where it was).

It prints a Markdown table and writes ``figure.png`` (source, each translation, the two
Vaihingen patches side by side) and ``results.json`` to --out. Offline, "auto" is
``weight_free``: the LRM rows name their loss family explicitly.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("LRM_OFFLINE", "1")

from osgeo import gdal  # noqa: E402
from scipy import ndimage  # noqa: E402

ONESHOT = os.path.join(os.path.dirname(ROOT), "shared", "data", "isprs_oneshot")
TRAIN = ["P_Style_Image7.png", "P_Style_Image8.png", "P_Style_Image9.png", "P_Style_Image10.png"]
HELD_OUT, ONE_SHOT, OTHER_TARGET = "P_Style_Image1.jpg", "V_Style_Image1.png", "V_Style_Image2.png"
ROWS = {  # row -> (method, extra TranslatorConfig fields)
    "lrm_weight_free": ("lrm", {"perceptual_loss": "weight_free"}),
    "lrm_weight_free_spatial": ("lrm", {"perceptual_loss": "weight_free", "style_mixing": "spatial"}),
    "lrm_vgg19_random": ("lrm", {"perceptual_loss": "vgg19_random"}),
    "histogram_matching": ("histogram_matching", {}),
    "fda": ("fda", {}),
}


def read(path):
    return gdal.Open(path).ReadAsArray().astype(np.float64)


def colour_distance(a, b, directions=256, seed=0):
    """Sliced Wasserstein-1 over bands between two (C, H, W) images (0..255 units)."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(a.shape[0], directions))
    d /= np.linalg.norm(d, axis=0)
    pa = np.sort(a.reshape(a.shape[0], -1).T @ d, axis=0)
    pb = np.sort(b.reshape(b.shape[0], -1).T @ d, axis=0)
    q = np.linspace(0, 1, 4096)
    return float(np.mean(np.abs(np.quantile(pa, q, axis=0) - np.quantile(pb, q, axis=0))))


def colour_precision(a, b, count=20000, seed=0):
    """Mean distance from ``count`` pixels of ``a`` to their nearest colour in ``b``."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    pa = a.reshape(a.shape[0], -1).T
    pa = pa[rng.choice(len(pa), min(count, len(pa)), replace=False)]
    tree = cKDTree(np.unique(b.reshape(b.shape[0], -1).T, axis=0))
    return float(tree.query(pa)[0].mean())


def gradient_magnitude(image):
    return sum(np.hypot(ndimage.sobel(b, 0), ndimage.sobel(b, 1)) for b in image)


def structure_correlation(a, b):
    return float(np.corrcoef(gradient_magnitude(a).ravel(), gradient_magnitude(b).ravel())[0, 1])


def train_and_translate(row, args, out):
    from models.runtime.reporting import Reporter
    from models.translation.apply import translate_raster
    from models.translation.config import TranslatorConfig
    from models.translation.registry import get_method

    method, extra = ROWS[row]
    model = os.path.join(out, f"{row}.safetensors")
    config = TranslatorConfig(
        sources=[os.path.join(ONESHOT, n) for n in TRAIN], target=os.path.join(ONESHOT, ONE_SHOT),
        patch_size=args.patch_size, batch_size=args.batch_size, epochs=1000,
        max_iterations=args.iterations, patience=0, device="cpu", seed=args.seed, output=model,
        method=method, **extra).validate()
    started = time.monotonic()
    result = get_method(method).train(config, Reporter())
    seconds = time.monotonic() - started
    translated = os.path.join(out, f"{row}.tif")
    translate_raster(os.path.join(ONESHOT, HELD_OUT), model, translated, overlap=32, device="cpu")
    return read(translated), result, seconds


def figure(images, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(images), figsize=(3 * len(images), 3.3))
    for ax, (title, image) in zip(axes, images):
        ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 255).astype(np.uint8))
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--patch-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--out", default=os.path.join(ROOT, "out", "isprs_oneshot"))
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    source = read(os.path.join(ONESHOT, HELD_OUT))
    other = read(os.path.join(ONESHOT, OTHER_TARGET))
    rows = [{"row": "no translation (source)", "colour_swd": colour_distance(source, other),
             "colour_precision": colour_precision(source, other), "gradient_correlation": 1.0}]
    images = [("source " + HELD_OUT, source)]
    for row in [r for r in args.rows.split(",") if r]:
        image, result, seconds = train_and_translate(row, args, args.out)
        rows.append({"row": row, "colour_swd": colour_distance(image, other),
                     "colour_precision": colour_precision(image, other),
                     "gradient_correlation": structure_correlation(image, source),
                     "seconds_per_iteration": result.get("seconds_per_iteration"),
                     "train_seconds": round(seconds, 1)})
        images.append((row, image))
        print(f"{row}: {rows[-1]}", flush=True)
    images += [("one-shot " + ONE_SHOT, read(os.path.join(ONESHOT, ONE_SHOT))),
               ("other target " + OTHER_TARGET, other)]
    figure(images, os.path.join(args.out, "figure.png"))
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"settings": vars(args), "rows": rows}, f, indent=1)
    print(f"\n{args.iterations} iterations, {args.patch_size}px, batch {args.batch_size}, seed "
          f"{args.seed}, CPU\n")
    print("| row | colour SWD to V_Style_Image2 (lower = closer) | colour precision: distance to "
          "the nearest V_Style_Image2 colour (lower = closer) | gradient correlation with source |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['row']} | {r['colour_swd']:.2f} | {r['colour_precision']:.2f} | "
              f"{r['gradient_correlation']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
