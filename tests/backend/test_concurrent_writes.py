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


def test_two_trainings_into_one_model_file_leave_one_whole_model(tmp_path):
    # two real translator trainings (different seeds) save their best model to the same
    # path at once, again and again: each save goes through the process's own partial
    # file, so the file is always one run's whole model, with that run's metadata and
    # tensors, never a mix, and neither run fails
    from models.storage.model_file import load_model
    from models.translation.registry import get_method

    rng = np.random.default_rng(0)
    images = []
    for name, size in (("source", 96), ("target", 64)):
        path = tmp_path / f"{name}.tif"
        ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 3, gdal.GDT_Byte)
        ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
        ds.WriteArray(rng.integers(0, 255, (3, size, size), dtype=np.uint8))
        ds = None
        images.append(str(path))
    model, report = tmp_path / "models" / "same.safetensors", tmp_path / "models" / "same.html"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    runs = [subprocess.Popen([sys.executable, "-m", "models", "train-translator", "--source", images[0],
                              "--target", images[1], "--patch-size", "32", "--batch-size", "2",
                              "--epochs", "4", "--one-shot-size", "64", "--seed", str(seed),
                              "--output", str(model), "--output-html", str(report)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for seed in (1, 2)]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-2000:]
    tensors, meta = load_model(str(model), expected_kind="translator")
    assert meta["training"]["seed"] in (1, 2)
    get_method(meta["method"]).load(tensors, meta, "cpu")  # whole: the network takes every tensor
    assert report.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert sorted(os.listdir(model.parent)) == ["same.html", "same.safetensors"]


def test_a_terminated_worker_leaves_no_partial_file(tmp_path):
    # SIGTERM (Processing's Cancel, a batch scheduler, kill) unwinds the backend like
    # Ctrl+C: the output being written is removed, exit status 130, one "cancelled" event
    import json
    import signal

    rng = np.random.default_rng(0)
    src = tmp_path / "s.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 64, 64, 3, gdal.GDT_Byte)
    ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
    ds.WriteArray(rng.integers(0, 255, (3, 64, 64), dtype=np.uint8))
    ds = None
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
    model = tmp_path / "hm.safetensors"
    subprocess.run([sys.executable, "-m", "models", "train-translator", "--method", "histogram_matching",
                    "--source", str(src), "--target", str(src), "--patch-size", "32", "--output", str(model)],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    vrt = tmp_path / "big.vrt"
    bands = "".join(f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource><SourceFilename relativeToVRT="0">'
                    f'{src}</SourceFilename><SourceBand>{b}</SourceBand><SrcRect xOff="0" yOff="0" xSize="64" '
                    f'ySize="64"/><DstRect xOff="0" yOff="0" xSize="16384" ySize="16384"/></SimpleSource>'
                    f'</VRTRasterBand>' for b in (1, 2, 3))
    vrt.write_text(f'<VRTDataset rasterXSize="16384" rasterYSize="16384"><GeoTransform>0, 1, 0, 0, 0, -1'
                   f'</GeoTransform>{bands}</VRTDataset>')
    out = tmp_path / "out" / "translated.tif"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "models", "translate", "--jsonl", "--input", str(vrt),
                             "--model", str(model), "--output", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["type"] == "progress" and events[-1]["value"] > 0 and len(events) < 1000:
            if not any(e.get("sent") for e in events):
                proc.send_signal(signal.SIGTERM)
                events.append({"sent": True})
    proc.stdout.close()
    assert proc.wait(timeout=60) == 130
    assert [e["kind"] for e in events if e.get("type") == "error"] == ["cancelled"]
    assert os.listdir(out.parent) == []  # neither the output nor its partial file
