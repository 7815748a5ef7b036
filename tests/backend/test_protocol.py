"""The experiment protocol (benchmarks/protocol.py): data layout, split, one-shot windows,
score aggregation, and one tiny end-to-end run that writes its tables."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import experiment as ex  # noqa: E402
import protocol_data as pdata  # noqa: E402

VENV_PYTHON = ex.default_python()

PROTOCOL = os.path.join(ROOT, "benchmarks", "protocol.py")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("protocol_sample")
    proc = subprocess.run([VENV_PYTHON, "-m", "models", "create-sample-data", "--output-folder", str(folder),
                           "--tiles", "2", "--size", "64", "--seed", "3", "--skip-shift-check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return folder


def test_convention_split_is_70_15_15_and_deterministic():
    names = [f"p{i:03d}.tif" for i in range(20)]
    split = pdata.convention_split(names, seed=0)
    assert [len(split[k]) for k in pdata.SPLITS] == [14, 3, 3]
    assert sorted(sum(split.values(), [])) == names
    assert split == pdata.convention_split(list(reversed(names)), seed=0)
    assert split != pdata.convention_split(names, seed=1)
    two = pdata.convention_split(["a.tif", "b.tif"])
    assert len(two["train"]) == 1 and len(two["test"]) == 1


def test_split_file_is_checked(sample, tmp_path):
    domains = {d: pdata.domain(str(sample), d, "auto") for d in ("source", "target")}
    assert domains["target"]["label_format"] == "index"
    good = tmp_path / "split.json"
    good.write_text(json.dumps({"target": {"train": ["tile_001.tif"], "test": ["tile_000.tif"]}}))
    split = pdata.make_split(domains, str(good))
    assert split["target"] == {"train": ["tile_001.tif"], "val": [], "test": ["tile_000.tif"]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"target": {"train": ["tile_009.tif"], "test": ["tile_000.tif"]}}))
    with pytest.raises(pdata.DataError, match="tile_009"):
        pdata.make_split(domains, str(bad))
    no_test = tmp_path / "no_test.json"
    no_test.write_text(json.dumps({"target": {"train": ["tile_000.tif", "tile_001.tif"]}}))
    with pytest.raises(pdata.DataError, match="no test tile"):
        pdata.make_split(domains, str(no_test))


def test_one_shot_windows_round_trip_through_the_translator_sampling(sample):
    from models.raster.io import raster_info
    from models.translation.sampling import extent_to_window

    tiles = sorted(str(p) for p in (sample / "target" / "images").iterdir())
    windows = pdata.one_shot_windows(tiles, 32, 5, seed=0)
    assert windows == pdata.one_shot_windows(tiles, 32, 5, seed=0)
    assert len({(w["tile"], tuple(w["window"])) for w in windows}) == 5
    for w in windows:
        back = extent_to_window(raster_info(w["tile"]), w["extent"], 32)
        assert list(back) == w["window"]
    with pytest.raises(pdata.DataError, match="windows"):
        pdata.one_shot_windows(tiles, 32, 9)


def test_scores_of_several_tiles_come_from_the_summed_confusion_matrix():
    a = np.array([[5, 1, 0], [0, 3, 0], [0, 0, 0]])
    b = np.array([[0, 0, 0], [2, 2, 0], [0, 0, 4]])
    combined = ex.combine_scores([{"confusion_matrix": a.tolist()}, {"confusion_matrix": b.tolist()}],
                                 "0 a 1,1,1; 1 b 2,2,2; 2 c 3,3,3")
    assert combined["overall_accuracy"] == pytest.approx(100 * 14 / 17)
    assert combined["per_class"][0]["iou"] == pytest.approx(100 * 5 / 8)
    assert combined["miou"] != pytest.approx(np.mean([ex.combine_scores([{"confusion_matrix": m.tolist()}],
                                                                         "0 a 1,1,1; 1 b 2,2,2; 2 c 3,3,3")["miou"]
                                                      for m in (a, b)]))


def test_mosaic_vrt_holds_every_tile(sample, tmp_path):
    tiles = sorted(str(p) for p in (sample / "target" / "images").iterdir())
    vrt = pdata.mosaic_vrt(tiles, str(tmp_path / "m.vrt"))
    ds = gdal.Open(vrt)
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (128, 64, 3)
    second = gdal.Open(tiles[1]).ReadAsArray()
    assert np.array_equal(ds.ReadAsArray(64, 0, 64, 64), second)


@pytest.mark.slow
def test_protocol_runs_on_tiny_data_and_writes_its_tables(sample, tmp_path):
    out = tmp_path / "protocol"
    cmd = [VENV_PYTHON, PROTOCOL, "--data", str(sample), "--out", str(out), "--patches", "2",
           "--methods", "lrm,histogram_matching", "--device", "cpu", "--jobs", "2",
           "--patch-size", "32", "--batch-size", "2", "--encoder", "resnet18",
           "--translator-iterations", "2", "--segmenter-iterations", "2"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "results.csv", newline="") as f:
        rows = {r["key"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["lower", "lrm", "histogram_matching", "upper"]
    assert rows["lrm"]["runs"] == "2" and rows["lower"]["runs"] == "1"
    names = ["miou", "mean_f1", "overall_accuracy"] + [f"iou_{c}" for c in ex.load_class_table(None).names]
    for r in rows.values():
        for name in names:
            if r[name]:
                assert 0.0 <= float(r[name]) <= 100.0, (r["key"], name)
        assert r["miou"] and r["overall_accuracy"]
    assert rows["lrm"]["miou_std"] != ""  # two one-shot patches: a standard deviation
    assert int(rows["lrm"]["translator_parameters"]) == 114659
    assert float(rows["lrm"]["seconds_per_iteration"]) > 0
    assert int(rows["histogram_matching"]["translator_parameters"]) == 0
    with open(out / "runs.csv", newline="") as f:
        runs = [r for r in csv.DictReader(f) if r["key"] == "lrm"]
    assert len(runs) == 2 and runs[0]["target_window"] != runs[1]["target_window"]
    table = (out / "results.md").read_text()
    for label in ("lower baseline", "LRM (2 one-shot patches)", "histogram matching", "upper baseline"):
        assert label in table
    assert (out / "miou.png").stat().st_size > 1000
    # A second run with the same settings reuses every finished run.
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("reused:") == 5, again.stdout[-2000:]


def test_the_benchmarks_read_the_presets_without_qgis():
    # experiment.py loads algorithms/presets.py as a file (no QGIS, no package): it must
    # stay importable on its own, with both presets (paper, quick) in the public order
    presets = ex.load_presets()
    assert list(presets) == ["paper", "quick"]
    assert ex.Settings.from_preset("quick", device="cpu").patch_size == presets["quick"]["patch_size"]
