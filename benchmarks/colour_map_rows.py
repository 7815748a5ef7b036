"""Segmenter rows for pure colour maps of the SOURCE towards the one-shot TARGET tile.

    .venv/bin/python benchmarks/colour_map_rows.py DATA OUT [VARIANT ...]

VARIANT: identity (no adaptation: the lower baseline), hm_per_band (per-band histogram
matching), affine_mkl (the linear Monge-Kantorovich map between the two colour Gaussians: mean and covariance, Pitie &
Kokaram 2007), full_ot_idt (iterative distribution transfer, Pitie et al. 2005: the
whole joint colour distribution, the optimum a sliced-Wasserstein style loss pulls
towards). The split is the demo's (benchmarks/lrm_row.py): one-shot = first target
tile, scored on the second half of the target tiles, quick-preset segmenter, one thread.
A colour map changes no texture, so the rows tell which *statistics* of the one-shot
tile a translation should match when its class proportions differ from the source's.
Prints one JSON line per variant.
"""

import glob
import json
import os
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import experiment as ex  # noqa: E402

VARIANTS = ("identity", "hm_per_band", "affine_mkl", "full_ot_idt")


def histogram_matching(image, reference):
    out = np.empty(image.shape, np.float64)
    for b in range(image.shape[0]):
        values, ref = image[b].ravel(), np.sort(reference[b].ravel())
        ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable") / max(1, values.size - 1)
        out[b] = np.interp(ranks, np.linspace(0, 1, ref.size), ref).reshape(image.shape[1:])
    return out


def _sqrtm(matrix):
    w, v = np.linalg.eigh(matrix)
    return v @ np.diag(np.sqrt(np.maximum(w, 1e-12))) @ v.T


def affine_mkl(source_pixels, reference_pixels):
    """(C, N) -> the map x -> T (x - mu_s) + mu_r that sends N(mu_s, A) to N(mu_r, B)."""
    mu_s, mu_r = source_pixels.mean(1, keepdims=True), reference_pixels.mean(1, keepdims=True)
    a_half = _sqrtm(np.cov(source_pixels))
    a_inv = np.linalg.inv(a_half)
    t = a_inv @ _sqrtm(a_half @ np.cov(reference_pixels) @ a_half) @ a_inv
    return lambda x: t @ (x - mu_s) + mu_r


def full_ot_idt(source_pixels, reference_pixels, iterations=30, seed=0):
    """(C, N) source pixels moved until every 1-D projection matches the reference's."""
    rng = np.random.default_rng(seed)
    x = source_pixels.copy()
    channels = x.shape[0]
    for _ in range(iterations):
        rotation, _ = np.linalg.qr(rng.normal(size=(channels, channels)))
        px, pr = rotation.T @ x, rotation.T @ reference_pixels
        for k in range(channels):
            order, quantiles = np.argsort(px[k]), np.sort(pr[k])
            px[k, order] = np.interp(np.linspace(0, 1, px[k].size), np.linspace(0, 1, quantiles.size),
                                     quantiles)
        x = rotation @ px
    return x


def mapped_sources(variant, images, reference):
    if variant == "identity":
        return images
    if variant == "hm_per_band":
        return [histogram_matching(i, reference) for i in images]
    pixels = np.concatenate([i.reshape(len(i), -1) for i in images], 1)
    if variant == "affine_mkl":
        f = affine_mkl(pixels, reference.reshape(len(reference), -1))
        return [f(i.reshape(len(i), -1)).reshape(i.shape) for i in images]
    moved = full_ot_idt(pixels, reference.reshape(len(reference), -1))
    edges = np.cumsum([0] + [i[0].size for i in images])
    return [moved[:, edges[k]:edges[k + 1]].reshape(images[k].shape) for k in range(len(images))]


def row(data, out, variant, seed=0):
    def tiles(domain, kind):
        return sorted(glob.glob(f"{data}/{domain}/{kind}/tile_*.tif"))

    src, src_labels = tiles("source", "images"), tiles("source", "labels")
    tgt, tgt_labels = tiles("target", "images"), tiles("target", "labels")
    half = len(tgt) // 2
    reference = gdal.Open(tgt[0]).ReadAsArray().astype(np.float64)
    images = [gdal.Open(p).ReadAsArray().astype(np.float64) for p in src]
    folder = os.path.join(out, variant)
    os.makedirs(os.path.join(folder, "translated"), exist_ok=True)
    paths = []
    for path, mapped in zip(src, mapped_sources(variant, images, reference)):
        dst = os.path.join(folder, "translated", os.path.basename(path))
        gdal.Translate(dst, path)
        ds = gdal.Open(dst, gdal.GA_Update)
        ds.WriteArray(np.clip(np.round(mapped), 0, 255).astype(np.uint8))
        ds = None
        paths.append(dst)
    settings = ex.Settings.from_preset("quick", device="cpu")
    settings.seed = seed
    backend = ex.Backend(os.path.join(folder, "logs"), threads=1)
    segmenter = os.path.join(folder, "segmenter.safetensors")
    ex.train_segmenter(backend, paths, src_labels, segmenter, settings)
    _, scores = ex.score_tiles(backend, segmenter, tgt[half:], tgt_labels[half:],
                               os.path.join(folder, "classified"), settings)
    return {"data": data, "variant": variant, "miou": scores["miou"]}


if __name__ == "__main__":
    data, out, *variants = sys.argv[1:]
    for variant in variants or VARIANTS:
        print(json.dumps(row(data, out, variant)), flush=True)
