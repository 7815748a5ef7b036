"""Every user-controlled string in the HTML reports is escaped (issue 15, item 6).

Class names (CSV, QML, CLASSES text, a class raster's own table), file names and
notes are given as markup; the reports must show them as text: the escaped forms are
in the file, and no <script> element or on* attribute appears when it is parsed.
"""

import html
import os
import sys
import types

import numpy as np
import pytest

from conftest import ROOT
from html_checks import assert_inert
from models.raster.io import RasterWriter
from segmenter_rasters import GEOTRANSFORM, run_command, utm_wkt, write_raster

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import demo_report  # noqa: E402

SCRIPT = "<script>alert(1)</script>"
ABSENT = "<script>alert(2)</script>"  # a class in neither raster: listed as excluded
FILE = '"><img src=x onerror=alert(1)>'
REFERENCE = np.array([[0, 0, 1], [1, 1, 0]], np.uint8)
PREDICTION = np.array([[0, 1, 1], [1, 1, 0]], np.uint8)
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def _csv(tmp_path):
    path = tmp_path / "classes.csv"
    path.write_text("index,name,r,g,b\n" + "".join(
        f"{i},{n},{r},{g},{b}\n" for i, (n, (r, g, b)) in enumerate(zip((SCRIPT, "b", ABSENT), COLOURS))),
        encoding="utf-8")
    return str(path)


def _qml(tmp_path):
    path = tmp_path / "classes.qml"
    entries = "".join(f'<paletteEntry value="{i}" label="{html.escape(n)}" color="#{r:02x}{g:02x}{b:02x}"/>'
                      for i, (n, (r, g, b)) in enumerate(zip((SCRIPT, "b", ABSENT), COLOURS)))
    path.write_text(f"<qgis><pipe><rasterrenderer type=\"paletted\"><colorPalette>{entries}"
                    f"</colorPalette></rasterrenderer></pipe></qgis>", encoding="utf-8")
    return str(path)


def _text(tmp_path):
    return "; ".join(f"{i} {n} {r},{g},{b}" for i, (n, (r, g, b)) in
                     enumerate(zip((SCRIPT, "b", ABSENT), COLOURS)))


def _classified(path):
    """A prediction carrying its own class table, written as classify writes it."""
    with RasterWriter(path, PREDICTION.shape[1], PREDICTION.shape[0], 1, np.uint8, GEOTRANSFORM,
                      utm_wkt(), nodata=255, color_table=dict(enumerate(COLOURS)),
                      category_names=[SCRIPT, "b", ABSENT]) as writer:
        writer.write(PREDICTION, 0, 0)
    return path


@pytest.mark.parametrize("source", ["csv", "qml", "text", "embedded"])
def test_evaluation_report_escapes_class_and_file_names(tmp_path, source):
    prediction = str(tmp_path / f"pred{FILE}.tif")
    reference = write_raster(tmp_path / f"ref{FILE}.tif", REFERENCE)
    classes = []
    if source == "embedded":
        _classified(prediction)
    else:
        write_raster(prediction, PREDICTION, nodata=255)
        classes = ["--classes", {"csv": _csv, "qml": _qml, "text": _text}[source](tmp_path)]
    report = tmp_path / "report.html"
    result, _ = run_command("evaluate", "--prediction", prediction, "--reference", reference,
                            *classes, "--output-html", report)
    assert result["per_class"][0]["name"] == SCRIPT and result["excluded_classes"] == [ABSENT]
    text = report.read_text(encoding="utf-8")
    assert_inert(text, SCRIPT, ABSENT, prediction, reference)
    assert f"{html.escape(SCRIPT)}</td>" in text and html.escape(ABSENT) + "." in text


def test_demo_report_escapes_file_names_captions_and_notes(tmp_path):
    figure = tmp_path / f"tile{FILE}.png"
    figure.write_bytes(b"\x89PNG not really")
    chart = tmp_path / "miou.png"
    chart.write_bytes(b"\x89PNG")
    demo = types.SimpleNamespace(
        out=str(tmp_path / "out"), one_shot=f"/data/one{FILE}.tif",
        tgt_train=[f"/data/train{FILE}.tif"], tgt_test=[f"/data/test{FILE}.tif"],
        s=types.SimpleNamespace(patch_size=64, batch_size=2, encoder=f"enc{FILE}",
                                translator_iterations=1, segmenter_iterations=1, seed=0))
    row = {"row": f"row {SCRIPT}", "miou": 1.0, "mean_f1": 2.0, "overall_accuracy": 3.0,
           "translator_parameters": None, "seconds_per_iteration": None, "seconds": 4.0}
    sections = [(f"Classification of the test tile test{FILE}.tif",
                 [(f"target test tile test{FILE}.tif", str(figure))])]
    os.makedirs(demo.out)
    path = demo_report.write_html(demo, [row], sections, str(chart), [f"lrm failed: class {SCRIPT}"])
    text = open(path, encoding="utf-8").read()
    assert_inert(text, f"one{FILE}.tif", f"train{FILE}.tif", f"test{FILE}.tif", f"enc{FILE}",
                 f"row {SCRIPT}", f"lrm failed: class {SCRIPT}")
    assert f'alt="{html.escape(figure.name, quote=True)}"' in text  # the file name as an attribute


def test_evaluation_report_shows_a_dollar_in_a_class_name_as_text(tmp_path):
    """matplotlib reads "$...$" as maths notation (a bad macro raises): class names are
    plain text in the confusion-matrix picture too."""
    name = r"cost $\undefinedmacro$"
    prediction = write_raster(tmp_path / "pred.tif", PREDICTION, nodata=255)
    reference = write_raster(tmp_path / "ref.tif", REFERENCE)
    report = tmp_path / "report.html"
    result, _ = run_command("evaluate", "--prediction", prediction, "--reference", reference,
                            "--classes", f"0 {name} 255,0,0; 1 b 0,255,0",
                            "--output-html", report)
    assert result["per_class"][0]["name"] == name
    assert html.escape(name) in report.read_text(encoding="utf-8")


def test_training_reports_escape_class_and_file_names(tmp_path):
    from segmenter_rasters import train_tiny
    from translation_rasters import source_and_target

    model = tmp_path / f"{FILE}.safetensors"
    report = tmp_path / "segmenter.html"
    train_tiny(tmp_path, "--epochs", 1, "--max-iterations", 2, "--classes", _csv(tmp_path),
               "--output", model, "--output-html", report)
    assert_inert(report.read_text(encoding="utf-8"), str(model))

    source, target, _, _ = source_and_target(str(tmp_path))
    translator = tmp_path / f"{FILE}_t.safetensors"
    report = tmp_path / "translator.html"
    run_command("train-translator", "--source", source, "--target", target, "--patch-size", 32,
                "--batch-size", 2, "--max-iterations", 2, "--one-shot-size", 0, "--device", "cpu",
                "--output", translator, "--output-html", report)
    assert_inert(report.read_text(encoding="utf-8"), str(translator))
