"""Rasters far larger than their file: a VRT that GDAL expands from one small tile
(nearest-neighbour upscaling, nothing written at full size). Classifying it keeps the
worker's peak memory bounded by the window size, not by the raster: the peak for a
2048 x 2048 VRT stays within 10% of the peak for a 512 x 512 one (16x the pixels)."""

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


def test_classifying_a_16x_larger_vrt_needs_no_more_memory(tmp_path):
    result, _ = train_tiny(tmp_path, "--epochs", 1, "--max-iterations", 2)
    rng = np.random.default_rng(3)
    tile = write_raster(tmp_path / "tile.tif", image_for(block_labels(64, 3, rng), rng))
    peaks = {}
    for size in (512, 2048):
        vrt = big_vrt(tmp_path / f"big{size}.vrt", tile, size)
        out = tmp_path / f"classes{size}.tif"
        peaks[size] = peak_rss_kib("classify", "--input", vrt, "--model", result["output"],
                                   "--overlap", 8, "--device", "cpu", "--output", out)
        ds = gdal.Open(str(out))
        assert (ds.RasterXSize, ds.RasterYSize) == (size, size)
        assert ds.GetGeoTransform() == gdal.Open(vrt).GetGeoTransform()
    print(f"classify peak RSS: 512^2 {peaks[512] / 1024:.0f} MiB, 2048^2 {peaks[2048] / 1024:.0f} MiB")
    # whole-raster float32 input + probabilities at 2048^2 would add ~100 MiB (> 10% of ~900)
    assert peaks[2048] < 1.10 * peaks[512], peaks
