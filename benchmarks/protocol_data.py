"""Data side of the experiment protocol: the folder layout, the split, the one-shot windows.

Layout (docs/protocol.md): DATA/{source,target}/images/<name>.tif with labels of the
same file name in DATA/{source,target}/labels/ (class indices) or labels_rgb/ (ISPRS
colours), exactly as the sample data generator writes them.

Split: a JSON file ``{"source": {"train": [...], "val": [...], "test": [...]}, "target":
{...}}`` listing image file names, or, without one, the 70/15/15 convention: per domain
the names are sorted, shuffled with ``numpy.random.default_rng(split_seed)``, and the
first round(70 %) are train, the next round(15 %) val, the rest test (at least one
train and one test tile when there are two or more).

One-shot windows: every non-overlapping PATCH_SIZE window of the target TRAIN tiles
(tiles in name order, windows in row order) is a candidate; the N windows used are the
first N of a permutation drawn with ``default_rng(seed)``. Each is passed to the
translator as TARGET (its tile) and TARGET_EXTENT (the window's corners in the tile's
CRS, from its geotransform), so the translator's sampling rule picks exactly it.
"""

import json
import os
from xml.sax.saxutils import escape

import numpy as np

IMAGE_EXTENSIONS = (".tif", ".tiff", ".vrt", ".png", ".jpg", ".jp2", ".img")
SPLITS = ("train", "val", "test")


class DataError(ValueError):
    """The data folder or split file does not fit the protocol (the message says how)."""


def _images(folder):
    if not os.path.isdir(folder):
        raise DataError(f"{folder} does not exist: lay the data out as in docs/protocol.md "
                        f"(DATA/source/images, DATA/source/labels, DATA/target/images, ...).")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS)
                   and not n.startswith("."))
    if not names:
        raise DataError(f"{folder} holds no image ({', '.join(IMAGE_EXTENSIONS)}).")
    return names


def label_folder(domain_dir, label_format):
    """(folder, format): labels/ holds class indices, labels_rgb/ ISPRS colours."""
    index, colour = os.path.join(domain_dir, "labels"), os.path.join(domain_dir, "labels_rgb")
    if label_format == "auto":
        if os.path.isdir(index):
            return index, "index"
        if os.path.isdir(colour):
            return colour, "color"
        raise DataError(f"Neither {index} (class indices) nor {colour} (colour labels) exists.")
    if label_format == "color":
        return (colour if os.path.isdir(colour) else index), "color"
    return index, "index"


def domain(data, name, label_format):
    """{"images": {file name: path}, "labels": {file name: path}, "label_format": ...}."""
    folder = os.path.join(data, name)
    images = _images(os.path.join(folder, "images"))
    labels_dir, fmt = label_folder(folder, label_format)
    labels = {}
    for image in images:
        stem = os.path.splitext(image)[0]
        found = [n for n in (os.listdir(labels_dir) if os.path.isdir(labels_dir) else [])
                 if os.path.splitext(n)[0] == stem and n.lower().endswith(IMAGE_EXTENSIONS)]
        if not found:
            raise DataError(f"No label raster for {name}/images/{image} in {labels_dir} (labels "
                            f"must have the image's file name).")
        labels[image] = os.path.join(labels_dir, found[0])
    return {"images": {n: os.path.join(folder, "images", n) for n in images}, "labels": labels,
            "label_format": fmt}


def convention_split(names, seed=0, fractions=(0.70, 0.15)):
    names = sorted(names)
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n = len(order)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    if n >= 2:
        n_train = min(max(n_train, 1), n - 1)
        n_val = min(n_val, n - 1 - n_train)
    parts = (order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:])
    return {k: sorted(v) for k, v in zip(SPLITS, parts)}


def make_split(domains, split_file=None, seed=0):
    """{"source": {"train": [...], ...}, "target": {...}} of file names, checked."""
    given = {}
    if split_file:
        try:
            with open(split_file, encoding="utf-8") as f:
                given = json.load(f)
        except (OSError, ValueError) as exc:
            raise DataError(f"Cannot read the split file {split_file}: {exc}") from None
    split = {}
    for name, d in domains.items():
        available = set(d["images"])
        if name in given:
            part = {k: list(given[name].get(k, [])) for k in SPLITS}
            unknown = sorted(n for k in SPLITS for n in part[k] if n not in available)
            if unknown:
                raise DataError(f"The split file names {name} images that do not exist: "
                                f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
        else:
            part = convention_split(available, seed)
        seen = [n for k in SPLITS for n in part[k]]
        if len(seen) != len(set(seen)):
            raise DataError(f"A {name} tile is in more than one part of the split.")
        split[name] = part
    for name, need in (("source", ("train",)), ("target", ("train", "test"))):
        for k in need:
            if not split[name][k]:
                raise DataError(f"The {name} domain has no {k} tile (the protocol needs source "
                                f"train, target train and target test tiles; give more tiles or "
                                f"a split file).")
    return split


def window_extent(geotransform, x, y, w, h):
    """'xmin,ymin,xmax,ymax' of the pixel window in the raster's CRS (north-up or not)."""
    gt = geotransform
    if gt[2] or gt[4]:
        raise DataError("Rotated geotransforms are not supported for one-shot windows.")
    xs = (gt[0] + gt[1] * x, gt[0] + gt[1] * (x + w))
    ys = (gt[3] + gt[5] * y, gt[3] + gt[5] * (y + h))
    return f"{min(xs)!r},{min(ys)!r},{max(xs)!r},{max(ys)!r}"


def one_shot_size(paths, wanted, patch_size, count=1):
    """The one-shot sample side: ``wanted`` (0 = patch size), at most the smallest tile side
    (even), at least the patch size, and small enough that the tiles hold ``count``
    non-overlapping samples (halved until they do)."""
    from osgeo import gdal

    sides = [(gdal.Open(p).RasterXSize, gdal.Open(p).RasterYSize) for p in paths]
    size = min(wanted or patch_size, min(min(s) for s in sides))
    size = max(patch_size, size - size % 2)
    while size > patch_size and sum((w // size) * (h // size) for w, h in sides) < count:
        size = max(patch_size, size // 2 - (size // 2) % 2)
    return size


def one_shot_windows(paths, patch_size, count, seed=0):
    """``count`` windows [{"tile", "window", "extent"}] drawn from the tiles, deterministically."""
    from osgeo import gdal

    candidates = []
    for path in paths:
        ds = gdal.Open(path)
        if ds is None:
            raise DataError(f"Cannot open {path} with GDAL.")
        gt = ds.GetGeoTransform()
        for y in range(0, ds.RasterYSize - patch_size + 1, patch_size):
            for x in range(0, ds.RasterXSize - patch_size + 1, patch_size):
                candidates.append({"tile": path, "window": [x, y, patch_size, patch_size],
                                   "extent": window_extent(gt, x, y, patch_size, patch_size)})
    if len(candidates) < count:
        raise DataError(f"The target train tiles hold {len(candidates)} non-overlapping "
                        f"{patch_size}x{patch_size} windows but {count} one-shot patches were "
                        f"asked for: use fewer --patches or more/larger target train tiles.")
    order = np.random.default_rng(seed).permutation(len(candidates))
    return [candidates[i] for i in order[:count]]


def mosaic_vrt(paths, output):
    """A VRT placing the tiles side by side on a grid (no georeferencing): one raster of
    many tiles, for methods that sample a whole TARGET layer (CycleGAN)."""
    from osgeo import gdal

    infos = []
    for p in paths:
        ds = gdal.Open(p)
        infos.append((p, ds.RasterXSize, ds.RasterYSize, ds.RasterCount,
                      gdal.GetDataTypeName(ds.GetRasterBand(1).DataType)))
    cell_w, cell_h = max(i[1] for i in infos), max(i[2] for i in infos)
    columns = int(np.ceil(np.sqrt(len(infos))))
    rows = int(np.ceil(len(infos) / columns))
    bands, dtype = infos[0][3], infos[0][4]
    xml = [f'<VRTDataset rasterXSize="{columns * cell_w}" rasterYSize="{rows * cell_h}">']
    for b in range(1, bands + 1):
        xml.append(f'  <VRTRasterBand dataType="{dtype}" band="{b}">')
        for k, (p, w, h, _, _) in enumerate(infos):
            x, y = (k % columns) * cell_w, (k // columns) * cell_h
            xml.append(f'    <SimpleSource><SourceFilename relativeToVRT="0">{escape(os.path.abspath(p))}'
                       f'</SourceFilename><SourceBand>{b}</SourceBand>'
                       f'<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
                       f'<DstRect xOff="{x}" yOff="{y}" xSize="{w}" ySize="{h}"/></SimpleSource>')
        xml.append("  </VRTRasterBand>")
    xml.append("</VRTDataset>")
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(xml) + "\n")
    return output
