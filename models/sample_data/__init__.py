"""Synthetic sample data: a source and a target domain of aerial IR-R-G scenes.

``create_sample_data(folder, tiles, size, seed, shift=...)`` writes, for each domain, image tiles,
class-index labels (GDAL colour table and category names) and ISPRS colour-coded labels
as georeferenced, compressed, tiled GeoTIFFs (layout in ``README_TEXT`` and
docs/sample_data.md). The scenes share their semantics (``layout.py``); the domains
differ in materials, sun, sensor, resolution, blur and noise (``render.py``); the shift
is measured with a simple pixel classifier (``shift.py``). SHIFT picks the target: the
``radiometric`` one (default, unchanged since it was first written) or ``sensor_season``
(class-dependent season change and band mixing; same source).

Deterministic: every tile draws from its own random stream derived from
(seed, domain, tile index), so the same arguments give the same bytes.
numpy, scipy and GDAL only (no torch).
"""

import os
import re

import numpy as np
from osgeo import osr

from .. import contract
from ..labels.classes import default_classes
from ..errors import LrmError
from ..raster.io import RasterWriter
from .layout import make_scene
from .render import SENSOR_SEASON, SOURCE, TARGET, render
from .shift import measure_domain_shift

MIN_SIZE, MAX_SIZE = 64, 1024
MAX_TILES = 500
SHIFT_TILES, SHIFT_CROP = 8, 512  # bound the memory of the shift measurement
DOMAINS = (SOURCE, TARGET)  # the domains of SHIFT radiometric (the default)
SHIFTS = contract.SAMPLE_SHIFTS  # SHIFT enum order: 0 radiometric, 1 sensor_season
_TARGETS = {"radiometric": TARGET, "sensor_season": SENSOR_SEASON}
SUBFOLDERS = ("images", "labels", "labels_rgb")
LABEL_NODATA = 255

README_TEXT = """LRM Adapt synthetic sample data
================================

Created by: python -m models create-sample-data --output-folder DIR --tiles {tiles} --size {size} --seed {seed}
            --source-pixel-size {src_px} --target-pixel-size {tgt_px} --shift {shift}

Two domains of synthetic aerial scenes, 3-band IR-R-G (band 1 near infrared, band 2
red, band 3 green), like the ISPRS Vaihingen/Potsdam false-colour tiles, with the six
ISPRS classes:

{class_lines}

Layout (each folder holds tile_000.tif, tile_001.tif, ...; same names = same scene):

  source/images/       uint8 IR-R-G images of the source domain ({src_px} m pixels, EPSG:{src_epsg})
  source/labels/       uint8 class indices 0-5, colour table and class names, nodata 255
  source/labels_rgb/   the same labels as ISPRS colours (3-band RGB)
  target/images/       uint8 IR-R-G images of the target domain ({tgt_px} m pixels, EPSG:{tgt_epsg})
  target/labels/       reference labels of the target: for evaluation only, never for training
  target/labels_rgb/   the same as ISPRS colours
  classes.csv          the class table (index,name,r,g,b), usable as CLASSES

{shift_text} Tiles are {size}x{size} pixels, one tile per {src_extent:.1f} m (source) and
{tgt_extent:.1f} m (target) square, laid out on a grid with gaps.
"""


SHIFT_TEXT = {
    "radiometric": """Domain shift (SHIFT radiometric): the target is another "city" seen by another
camera: other materials (early-spring vegetation, other roofs and asphalt), another sun
position, sensor gain, gamma and haze, a finer resolution (objects look {scale:.2f}x
larger), more blur and more noise.""",
    "sensor_season": """Domain shift (SHIFT sensor_season): the target is another "city" after a dry
summer, seen by a camera with overlapping bands: each class changes its own way (dry
grass and brown trees lose their IR, clay and light roofs gain IR, asphalt and paving
darken), the bands mix, the sun, gain, gamma and haze differ, the resolution is finer
(objects look {scale:.2f}x larger), and there is more blur and noise. Per-band histogram
matching cannot undo this shift.""",
}


def domains(shift="radiometric"):
    """(source style, target style) of a SHIFT; the source is the same for every shift."""
    if shift not in _TARGETS:
        raise LrmError(f"SHIFT must be one of {', '.join(SHIFTS)}, got {shift!r}.")
    return SOURCE, _TARGETS[shift]


def _check_arguments(tiles, size, source_pixel_size, target_pixel_size):
    if tiles is None or tiles < 1 or tiles > MAX_TILES:
        raise LrmError(f"TILES must be between 1 and {MAX_TILES} tiles per domain, got {tiles}. "
                       f"Use e.g. 6 for the demo, 2 for a quick test.")
    if size is None or size < MIN_SIZE or size > MAX_SIZE:
        raise LrmError(f"SIZE must be between {MIN_SIZE} and {MAX_SIZE} pixels per tile side, got "
                       f"{size}: smaller tiles cannot hold the six classes, larger ones would need "
                       f"more memory than a tile is worth. Use more TILES for more data (e.g. SIZE 256).")
    for name, value in (("source pixel size", source_pixel_size),
                        ("target pixel size", target_pixel_size)):
        if not 0.01 <= value <= 1.0:
            raise LrmError(f"The {name} must be between 0.01 and 1.0 metres, got {value}.")


def _projection(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def tile_geotransform(style, index, tiles, size, pixel_size):
    """Tiles sit on a grid with gaps (half a tile), upper-left corner first."""
    columns = int(np.ceil(np.sqrt(tiles)))
    spacing = size * pixel_size * 1.5
    x0 = style.origin[0] + (index % columns) * spacing
    y0 = style.origin[1] - (index // columns) * spacing
    return (round(x0, 3), pixel_size, 0.0, round(y0, 3), 0.0, -pixel_size)


def generate_tile(style, pixel_size, size, seed, domain_index, tile_index):
    """(image (3, size, size) uint8, labels (size, size) uint8, complete) of one tile."""
    layout_seq, render_seq = np.random.SeedSequence([seed, domain_index, tile_index]).spawn(2)
    scene = make_scene(size, pixel_size, np.random.default_rng(layout_seq))
    image = scene.crop(render(scene, style, np.random.default_rng(render_seq)))
    return np.ascontiguousarray(image), np.ascontiguousarray(scene.crop(scene.labels)), scene.complete


def _write_tile(folder, name, image, labels, geotransform, projection, classes):
    colours = np.asarray(classes.colors, np.uint8)
    paths = [os.path.join(folder, sub, name) for sub in SUBFOLDERS]
    size = labels.shape[0]
    with RasterWriter(paths[0], size, size, 3, np.uint8, geotransform, projection,
                      band_descriptions=["IR", "R", "G"]) as w:
        w.write(image, 0, 0)
    with RasterWriter(paths[1], size, size, 1, np.uint8, geotransform, projection,
                      nodata=LABEL_NODATA, color_table=classes.color_table,
                      category_names=classes.names, band_descriptions=["class"]) as w:
        w.write(labels, 0, 0)
    with RasterWriter(paths[2], size, size, 3, np.uint8, geotransform, projection,
                      band_descriptions=["red", "green", "blue"]) as w:
        w.write(colours[labels].transpose(2, 0, 1), 0, 0)
    return paths


def _write_text(path, text):
    from ..storage.atomic import write_text_atomically

    write_text_atomically(path, text)


def _remove_stale_tiles(output_folder, tiles, reporter):
    """Tiles of an earlier, larger run in our own layout folders would be mistaken for data."""
    pattern = re.compile(r"^tile_(\d{3,})\.tif(\.aux\.xml)?$")
    removed = 0
    for style in DOMAINS:
        for sub in SUBFOLDERS:
            folder = os.path.join(output_folder, style.name, sub)
            if not os.path.isdir(folder):
                continue
            for name in os.listdir(folder):
                m = pattern.match(name)
                if m and int(m.group(1)) >= tiles:
                    os.remove(os.path.join(folder, name))
                    removed += 1
    if removed:
        reporter.info(f"removed {removed} file(s) of an earlier run with more tiles")


def create_sample_data(output_folder, tiles=6, size=256, seed=0, reporter=None,
                       source_pixel_size=None, target_pixel_size=None, measure_shift=True,
                       shift="radiometric"):
    """Write the sample data set; return the result dict of the CLI command."""
    from ..runtime.reporting import Reporter

    reporter = reporter or Reporter()
    styles = domains(shift)
    pixel_sizes = (source_pixel_size or styles[0].pixel_size,
                   target_pixel_size or styles[1].pixel_size)
    _check_arguments(tiles, size, *pixel_sizes)
    if not output_folder:
        raise LrmError("No output folder given (--output-folder / OUTPUT_FOLDER).")
    if os.path.exists(output_folder) and not os.path.isdir(output_folder):
        raise LrmError(f"{output_folder} exists and is not a folder; choose a folder path.")
    classes = default_classes()
    _remove_stale_tiles(output_folder, tiles, reporter)

    result = {"output_folder": os.path.abspath(output_folder)}
    pairs = {}
    for d, (style, pixel_size) in enumerate(zip(styles, pixel_sizes)):
        pairs[style.name] = _write_domain(output_folder, d, style, pixel_size, tiles, size, seed,
                                          classes, measure_shift, result, reporter)
    result.update(_write_side_files(output_folder, tiles, size, seed, shift, styles, pixel_sizes,
                                    classes))
    result.update(tiles=tiles, size=size, seed=seed, shift=shift)
    if measure_shift:
        result["domain_shift"] = _report_shift(pairs, classes, seed, tiles, size, reporter)
    reporter.progress(100)
    return result


def _write_domain(output_folder, d, style, pixel_size, tiles, size, seed, classes, measure_shift,
                  result, reporter):
    """Write one domain's tiles; fill its entries of ``result``; return the shift-check crops."""
    projection = _projection(style.epsg)
    keys = [f"{style.name}_images", f"{style.name}_labels", f"{style.name}_labels_color"]
    for key in keys:
        result[key] = []
    counts = np.zeros(len(classes), np.int64)
    pairs = []
    for i in range(tiles):
        image, labels, complete = generate_tile(style, pixel_size, size, seed, d, i)
        if not complete:
            reporter.warning(f"{style.name} tile {i}: not every class reached its minimum "
                             f"area in {size}x{size} pixels (a larger SIZE avoids this)")
        paths = _write_tile(os.path.join(output_folder, style.name), f"tile_{i:03d}.tif", image,
                            labels, tile_geotransform(style, i, tiles, size, pixel_size),
                            projection, classes)
        for key, path in zip(keys, paths):
            result[key].append(os.path.abspath(path))
        counts += np.bincount(labels.ravel(), minlength=len(classes))[:len(classes)]
        if measure_shift and i < SHIFT_TILES:
            lo = max(0, (size - SHIFT_CROP) // 2)
            crop = (slice(lo, lo + SHIFT_CROP),) * 2
            pairs.append((image[(slice(None),) + crop], labels[crop]))
        reporter.progress(100.0 * (d * tiles + i + 1) / (2 * tiles + 1))
    fractions = counts / counts.sum()
    result[f"{style.name}_class_fractions"] = {n: round(float(f), 4)
                                               for n, f in zip(classes.names, fractions)}
    missing = [n for n, c in zip(classes.names, counts) if c == 0]
    if missing:
        reporter.warning(f"the {style.name} domain lacks class(es) {', '.join(missing)}; "
                         f"use more or larger tiles")
    result[f"{style.name}_pixel_size"] = pixel_size
    result[f"{style.name}_crs"] = f"EPSG:{style.epsg}"
    reporter.info(f"{style.name}: {tiles} tile(s) of {size}x{size} px at {pixel_size} m; class "
                  f"fractions " + ", ".join(f"{n} {f:.3f}" for n, f in zip(classes.names, fractions)))
    return pairs


def _write_side_files(output_folder, tiles, size, seed, shift, styles, pixel_sizes, classes):
    """classes.csv and README.txt next to the tiles; their entries of the result."""
    csv_path = os.path.join(output_folder, "classes.csv")
    _write_text(csv_path, "index,name,r,g,b\n" + "".join(
        f"{i},{n},{r},{g},{b}\n" for i, (n, (r, g, b)) in enumerate(zip(classes.names, classes.colors))))
    readme_path = os.path.join(output_folder, "README.txt")
    scale = pixel_sizes[0] / pixel_sizes[1]
    _write_text(readme_path, README_TEXT.format(
        tiles=tiles, size=size, seed=seed, src_px=pixel_sizes[0], tgt_px=pixel_sizes[1],
        src_epsg=styles[0].epsg, tgt_epsg=styles[1].epsg, shift=shift,
        shift_text=SHIFT_TEXT[shift].format(scale=scale),
        src_extent=size * pixel_sizes[0], tgt_extent=size * pixel_sizes[1],
        class_lines="\n".join(f"  {i} {n:<20} ISPRS colour {r},{g},{b}" for i, (n, (r, g, b))
                              in enumerate(zip(classes.names, classes.colors)))))
    return {"classes": classes.to_dict(), "class_table": os.path.abspath(csv_path),
            "readme": os.path.abspath(readme_path)}


def _report_shift(pairs, classes, seed, tiles, size, reporter):
    """Measure and report the domain shift with a pixel classifier (result["domain_shift"])."""
    shift = measure_domain_shift(pairs["source"], pairs["target"], len(classes), seed)
    reporter.info(
        "domain shift (Gaussian pixel classifier, overall accuracy on held-out tiles): "
        f"source->source {shift['source_on_source']['overall_accuracy']:.1f}%, "
        f"source->target {shift['source_on_target']['overall_accuracy']:.1f}%, "
        f"target->target {shift['target_on_target']['overall_accuracy']:.1f}%"
        + (" (few or small tiles: these figures are noisy)" if tiles < 4 or size < 128 else ""))
    return shift
