"""Two processes writing the same output at once: each writes its own partial file, the
one that finishes last wins whole (never a mix), and no partial file is left."""

import os
import subprocess
import sys

import numpy as np
from osgeo import gdal

from conftest import ROOT

WRITER = """
import sys, time
import numpy as np
sys.path.insert(0, {root!r})
from models.raster.io import RasterWriter
value, delay, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
with RasterWriter(path, 64, 64, 1, np.uint8, (0, 1, 0, 0, 0, -1), "") as writer:
    for row in range(0, 64, 8):
        writer.write(np.full((8, 64), value, np.uint8), 0, row)
        writer._ds.FlushCache()
        time.sleep(delay)
"""


def test_two_writers_of_one_output_never_mix(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=ROOT))
    out = tmp_path / "same.tif"
    slow = subprocess.Popen([sys.executable, str(script), "7", "0.15", str(out)])
    fast = subprocess.Popen([sys.executable, str(script), "9", "0.05", str(out)])
    assert fast.wait(timeout=120) == 0 and slow.wait(timeout=120) == 0
    values = np.unique(gdal.Open(str(out)).ReadAsArray())
    assert values.tolist() == [7]  # the slow writer finished last and replaced the fast one whole
    assert sorted(os.listdir(tmp_path)) == ["same.tif", "writer.py"]
