"""Scoring a class raster against reference labels, window by window (lrm:evaluate).

The prediction holds class indices (a ``classify`` output); the reference is read in
``LABEL_FORMAT`` (index or colour) through the class table. Pixels are left out when
the reference is ignored (IGNORE_VALUE or nodata) or the prediction is nodata /
IGNORE_VALUE (e.g. nodata areas of the classified image); both counts are reported.
Both rasters must lie on the same grid. Scores: see ``models.evaluation.metrics``.
"""

import csv
import os

from ..errors import LrmError
from ..raster.grid_check import georeferenced_both, grid_difference
from ..labels.rasters import LabelReader
from .metrics import ConfusionMatrix

BLOCK = 1024


def evaluate_rasters(prediction, reference, classes, label_format="index", ignore_value=255,
                     reporter=None):
    pred = LabelReader(prediction, "index", classes, ignore_value)
    ref = LabelReader(reference, label_format, classes, ignore_value)
    problem = grid_difference(pred.info, ref.info)
    if problem:
        raise LrmError(f"PREDICTION {prediction} and REFERENCE {reference} are not on the same "
                       f"grid: {problem}. Evaluate a prediction of the reference's area, or "
                       f"resample one raster onto the other's grid (e.g. gdal:warpreproject "
                       f"with the other as extent and resolution).")
    if reporter and ref.note:
        reporter.warning(ref.note)
    if reporter and not georeferenced_both(pred.info, ref.info):
        reporter.warning("PREDICTION and REFERENCE are not both georeferenced; assuming they are "
                         "aligned pixel for pixel.")
    cm = ConfusionMatrix(len(classes))
    ignored_reference = unclassified = 0
    rows = list(range(0, ref.height, BLOCK))
    for i, y in enumerate(rows):
        for x in range(0, ref.width, BLOCK):
            w, h = min(BLOCK, ref.width - x), min(BLOCK, ref.height - y)
            r = ref.read(x, y, w, h)
            p = pred.read(x, y, w, h)
            r_ok, p_ok = r != ignore_value, p != ignore_value
            ignored_reference += int((~r_ok).sum())
            unclassified += int((r_ok & ~p_ok).sum())
            cm.update(r, p, r_ok & p_ok)
        if reporter:
            reporter.progress(95 * (i + 1) / len(rows))
    ref.offenders.what += " (in the REFERENCE)"
    ref.finish()
    pred.offenders.what += " (in the PREDICTION, which should be a class raster of the same class table)"
    pred.finish()
    scores = cm.scores(classes.names)
    scores["ignored_reference_pixels"] = ignored_reference
    scores["unclassified_pixels"] = unclassified
    if scores["pixels"] == 0:
        raise LrmError(f"No pixel can be scored: every pixel of {reference} is ignored "
                       f"(IGNORE_VALUE {ignore_value} or nodata) or unclassified in {prediction}. "
                       f"Check IGNORE_VALUE and the nodata values of both rasters, or evaluate "
                       f"an area that has reference labels.")
    return scores


def write_table(path, scores):
    """Per-class CSV (percent) followed by the mean rows."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    from ..storage.atomic import partial_path

    tmp = partial_path(path)

    def fmt(v):
        return "" if v is None else f"{v:.4f}"

    with open(tmp, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["index", "class", "iou", "precision", "recall", "f1", "reference_pixels",
                      "predicted_pixels", "included_in_means"])
        for c in scores["per_class"]:
            out.writerow([c["index"], c["name"], fmt(c["iou"]), fmt(c["precision"]),
                          fmt(c["recall"]), fmt(c["f1"]), c["reference_pixels"],
                          c["predicted_pixels"], "yes" if c["present"] else "no"])
        out.writerow(["", "mean (mIoU, -, -, mean F1)", fmt(scores["miou"]), "", "",
                      fmt(scores["mean_f1"]), "", "", ""])
        out.writerow(["", "overall accuracy", fmt(scores["overall_accuracy"]), "", "", "",
                      scores["pixels"], "", ""])
    os.replace(tmp, path)
    return path


def scores_summary(scores):
    text = (f"mIoU {scores['miou']:.2f}%, mean F1 {scores['mean_f1']:.2f}%, overall accuracy "
            f"{scores['overall_accuracy']:.2f}% over {scores['pixels']} pixels")
    if scores["excluded_classes"]:
        text += (f"; absent from both rasters and left out of the means: "
                 f"{', '.join(scores['excluded_classes'])}")
    return text
