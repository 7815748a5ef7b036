"""evaluate: scores of class rasters against references, CSV table, HTML report, errors."""

import base64
import csv
import re

import numpy as np
import pytest

from models.errors import LrmError
from models.evaluation.metrics import ConfusionMatrix
from segmenter_rasters import GEOTRANSFORM, run_command, write_raster

CLASSES = "0 a 255,0,0; 1 b 0,255,0; 2 c 0,0,255; 3 d 255,255,0"
COLOURS = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)], np.uint8)
# the hand-computed case of test_metrics.py, as 3x3 rasters (reference pixel 9 ignored)
REFERENCE = np.array([[0, 0, 0], [1, 1, 2], [2, 2, 255]], np.uint8)
PREDICTION = np.array([[0, 0, 1], [1, 1, 2], [0, 2, 1]], np.uint8)


def _evaluate(tmp_path, prediction, reference, *extra):
    return run_command("evaluate", "--prediction", prediction, "--reference", reference,
                       "--classes", CLASSES, "--output-table", tmp_path / "scores.csv",
                       "--output-html", tmp_path / "report.html", *extra)


def test_scores_table_and_report(tmp_path):
    pred = write_raster(tmp_path / "pred.tif", PREDICTION, nodata=255)
    ref = write_raster(tmp_path / "ref.tif", REFERENCE)
    result, reporter = _evaluate(tmp_path, pred, ref)
    assert result["miou"] == pytest.approx((50 + 200 / 3 + 200 / 3) / 3)
    assert result["mean_f1"] == pytest.approx((400 / 6 + 80 + 80) / 3)
    assert result["overall_accuracy"] == pytest.approx(75.0)
    assert result["excluded_classes"] == ["d"]
    assert result["confusion_matrix"] == [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    assert [c["present"] for c in result["per_class"]] == [True, True, True, False]
    assert set(result["per_class"][0]) >= {"name", "iou", "precision", "recall", "f1", "present"}
    assert result["output_table"] == str(tmp_path / "scores.csv")
    assert any("left out of the means: d" in line for line in reporter.infos)
    assert {name for name, _, _ in reporter.metrics} == {"miou", "mean_f1", "overall_accuracy"}

    rows = list(csv.reader(open(tmp_path / "scores.csv")))
    assert rows[0][:6] == ["index", "class", "iou", "precision", "recall", "f1"]
    assert rows[1][1] == "a" and float(rows[1][2]) == pytest.approx(50.0)
    assert rows[4][1] == "d" and rows[4][2] == "" and rows[4][-1] == "no"
    assert float(rows[5][2]) == pytest.approx(result["miou"], abs=1e-3)
    assert float(rows[6][2]) == pytest.approx(75.0)

    html = open(tmp_path / "report.html", encoding="utf-8").read()
    assert "Per class" in html and ">a</td>" in html and "left out of mIoU" in html
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html).group(1))
    assert png.startswith(b"\x89PNG")


def test_colour_reference_gives_the_same_scores(tmp_path):
    pred = write_raster(tmp_path / "pred.tif", PREDICTION)
    colours = np.moveaxis(COLOURS[np.where(REFERENCE == 255, 0, REFERENCE)], -1, 0).copy()
    colours[:, REFERENCE == 255] = 7  # nodata colour (7, 7, 7) -> ignored
    ref = write_raster(tmp_path / "ref_rgb.tif", colours, nodata=7)
    index_result, _ = _evaluate(tmp_path, pred, write_raster(tmp_path / "ref.tif", REFERENCE))
    colour_result, _ = _evaluate(tmp_path, pred, ref, "--label-format", "color")
    assert colour_result["confusion_matrix"] == index_result["confusion_matrix"]
    assert colour_result["ignored_reference_pixels"] == 1


def test_prediction_nodata_is_left_out_and_counted(tmp_path):
    prediction = PREDICTION.copy()
    prediction[0, 0] = 255  # nodata of a classify output
    pred = write_raster(tmp_path / "pred.tif", prediction, nodata=255)
    result, _ = _evaluate(tmp_path, pred, write_raster(tmp_path / "ref.tif", REFERENCE))
    assert result["pixels"] == 7 and result["unclassified_pixels"] == 1


def test_large_raster_is_accumulated_window_by_window(tmp_path):
    rng = np.random.default_rng(1)
    ref = rng.integers(0, 4, (1100, 2100)).astype(np.uint8)  # larger than one 1024 block
    pred = np.where(rng.random(ref.shape) < 0.6, ref, rng.integers(0, 4, ref.shape)).astype(np.uint8)
    ref[rng.random(ref.shape) < 0.05] = 255
    result, _ = run_command("evaluate", "--prediction", write_raster(tmp_path / "p.tif", pred),
                            "--reference", write_raster(tmp_path / "r.tif", ref),
                            "--classes", CLASSES)
    expected = ConfusionMatrix(4).update(ref, pred, ref != 255)
    assert result["confusion_matrix"] == expected.matrix.tolist()
    assert result["output_table"] is None and result["output_html"] is None


def test_rasters_on_different_grids_are_an_error(tmp_path):
    pred = write_raster(tmp_path / "pred.tif", PREDICTION)
    bigger = write_raster(tmp_path / "big.tif", np.zeros((4, 3), np.uint8))
    with pytest.raises(LrmError, match="not on the same grid: sizes differ"):
        _evaluate(tmp_path, pred, bigger)
    shifted = (GEOTRANSFORM[0] + 10,) + GEOTRANSFORM[1:]
    moved = write_raster(tmp_path / "moved.tif", REFERENCE, geotransform=shifted)
    with pytest.raises(LrmError, match="not on the same grid: georeferencing differs"):
        _evaluate(tmp_path, pred, moved)
    other_crs = write_raster(tmp_path / "crs.tif", REFERENCE, wkt=_wkt(32633))
    with pytest.raises(LrmError, match="coordinate reference systems differ"):
        _evaluate(tmp_path, pred, other_crs)


def _wkt(epsg):
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def test_invalid_values_in_prediction_are_listed(tmp_path):
    prediction = PREDICTION.copy()
    prediction[0] = 9
    pred = write_raster(tmp_path / "pred.tif", prediction)
    with pytest.raises(LrmError) as err:
        _evaluate(tmp_path, pred, write_raster(tmp_path / "ref.tif", REFERENCE))
    assert "9: 3 pixels" in str(err.value) and "PREDICTION" in str(err.value)


def test_bad_output_extensions(tmp_path):
    pred = write_raster(tmp_path / "pred.tif", PREDICTION)
    with pytest.raises(LrmError, match="OUTPUT_TABLE"):
        run_command("evaluate", "--prediction", pred, "--reference", pred,
                    "--output-table", tmp_path / "t.xlsx")


def test_class_table_embedded_in_the_prediction_is_used(tmp_path):
    """A map classified with a custom table is scored with that table when CLASSES is empty."""
    pred = write_raster(tmp_path / "pred.tif", PREDICTION)
    run_command("convert-labels", "--input", pred, "--direction", "to-color", "--classes", CLASSES,
                "--output", tmp_path / "rgb.tif")
    run_command("convert-labels", "--input", tmp_path / "rgb.tif", "--classes", CLASSES,
                "--output", tmp_path / "pred_with_table.tif")
    result, _ = run_command("evaluate", "--prediction", tmp_path / "pred_with_table.tif",
                            "--reference", write_raster(tmp_path / "ref.tif", REFERENCE))
    assert [c["name"] for c in result["per_class"]] == ["a", "b", "c", "d"]
    assert result["excluded_classes"] == ["d"]
