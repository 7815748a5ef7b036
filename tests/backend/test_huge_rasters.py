"""Rasters far larger than their file: a VRT that GDAL expands from one small tile
(nearest-neighbour upscaling, nothing written at full size). Classifying it keeps the
worker's peak memory bounded by the window size, not by the raster: the peak for a
4096 x 4096 VRT (64x the pixels) stays within 256 MiB of the peak for a 512 x 512 one,
while holding the raster's input and class scores as float32 arrays would take at least
4096^2 x (3 + 3) x 4 bytes = 384 MiB more. (What does grow is one strip of windows x the
raster's width, about 100 MiB here; run to run the peaks vary by some 50 MiB, which is why
a 2048-pixel version with a 10% margin failed under load.)"""

import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal

from conftest import ROOT
from segmenter_rasters import GEOTRANSFORM, block_labels, image_for, train_tiny, utm_wkt, write_raster

pytestmark = pytest.mark.slow

RSS_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
               "sys.stdout.write('PEAK_RSS_KIB %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "sys.exit(rc)")


def big_vrt(path, tile, size):
    """A ``size`` x ``size`` VRT showing ``tile`` stretched over it (one source)."""
    src = gdal.Open(tile)
    gt = list(GEOTRANSFORM)
    gt[1] = GEOTRANSFORM[1] * src.RasterXSize / size
    gt[5] = GEOTRANSFORM[5] * src.RasterYSize / size
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{tile}</SourceFilename><SourceBand>{b}</SourceBand>'
        f'<SrcRect xOff="0" yOff="0" xSize="{src.RasterXSize}" ySize="{src.RasterYSize}"/>'
        f'<DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/></SimpleSource></VRTRasterBand>'
        for b in (1, 2, 3))
    with open(path, "w") as f:
        f.write(f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><SRS>{utm_wkt()}</SRS>'
                f'<GeoTransform>{", ".join(map(repr, gt))}</GeoTransform>{bands}</VRTDataset>')
    return str(path)


def peak_rss_kib(*argv):
    proc = subprocess.run([sys.executable, "-c", RSS_WRAPPER, sys.executable, "-m", "models", *map(str, argv)],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.split("PEAK_RSS_KIB")[-1])


def test_classifying_a_64x_larger_vrt_stays_within_the_window_budget(tmp_path):
    result, _ = train_tiny(tmp_path, "--epochs", 1, "--max-iterations", 2)
    rng = np.random.default_rng(3)
    tile = write_raster(tmp_path / "tile.tif", image_for(block_labels(64, 3, rng), rng))
    peaks = {}
    for size in (512, 4096):
        vrt = big_vrt(tmp_path / f"big{size}.vrt", tile, size)
        out = tmp_path / f"classes{size}.tif"
        peaks[size] = peak_rss_kib("classify", "--input", vrt, "--model", result["output"],
                                   "--overlap", 8, "--device", "cpu", "--output", out)
        ds = gdal.Open(str(out))
        assert (ds.RasterXSize, ds.RasterYSize) == (size, size)
        assert ds.GetGeoTransform() == gdal.Open(vrt).GetGeoTransform()
    print(f"classify peak RSS: 512^2 {peaks[512] / 1024:.0f} MiB, 4096^2 {peaks[4096] / 1024:.0f} MiB")
    assert peaks[4096] < peaks[512] + 256 * 1024, peaks
