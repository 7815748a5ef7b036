"""Confusion-matrix scores against matrices worked out by hand."""

import numpy as np
import pytest

from models.evaluation.metrics import ConfusionMatrix, scores_from_matrix

NAMES = ["a", "b", "c", "d"]
# reference and prediction of 9 pixels; the last reference pixel is ignored (255)
REFERENCE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 255])
PREDICTION = np.array([0, 0, 1, 1, 1, 2, 0, 2, 1])


def test_hand_computed_matrix_with_absent_class_and_ignored_pixel():
    cm = ConfusionMatrix(4).update(REFERENCE, PREDICTION, REFERENCE != 255)
    # rows: reference, columns: prediction
    assert cm.matrix.tolist() == [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    s = cm.scores(NAMES)
    a, b, c, d = s["per_class"]
    # a: TP 2, FP 1 (a c-pixel predicted a), FN 1 (an a-pixel predicted b)
    assert a["iou"] == pytest.approx(100 * 2 / 4)
    assert a["precision"] == pytest.approx(100 * 2 / 3)
    assert a["recall"] == pytest.approx(100 * 2 / 3)
    assert a["f1"] == pytest.approx(100 * 4 / 6)
    # b: TP 2, FP 1, FN 0
    assert b["iou"] == pytest.approx(100 * 2 / 3)
    assert b["precision"] == pytest.approx(100 * 2 / 3)
    assert b["recall"] == pytest.approx(100.0)
    assert b["f1"] == pytest.approx(100 * 4 / 5)
    # c: TP 2, FP 0, FN 1
    assert c["iou"] == pytest.approx(100 * 2 / 3)
    assert c["precision"] == pytest.approx(100.0)
    assert c["recall"] == pytest.approx(100 * 2 / 3)
    # d is in neither raster: no scores, left out of the means, and reported
    assert not d["present"] and d["iou"] is None and d["f1"] is None
    assert s["excluded_classes"] == ["d"]
    assert s["miou"] == pytest.approx((50 + 200 / 3 + 200 / 3) / 3)
    assert s["mean_f1"] == pytest.approx((400 / 6 + 80 + 80) / 3)
    assert s["overall_accuracy"] == pytest.approx(100 * 6 / 8)
    assert s["pixels"] == 8


def test_accumulating_windows_equals_one_pass():
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 5, (60, 70))
    pred = np.where(rng.random((60, 70)) < 0.7, ref, rng.integers(0, 5, (60, 70)))
    ref[rng.random((60, 70)) < 0.1] = 255
    whole = ConfusionMatrix(5).update(ref, pred, ref != 255).matrix
    windows = ConfusionMatrix(5)
    for y in range(0, 60, 25):
        for x in range(0, 70, 30):
            r, p = ref[y:y + 25, x:x + 30], pred[y:y + 25, x:x + 30]
            windows.update(r, p, r != 255)
    assert np.array_equal(windows.matrix, whole)
    assert windows.matrix.sum() == (ref != 255).sum()


def test_all_correct():
    ref = np.array([[0, 1], [2, 2]])
    s = ConfusionMatrix(3).update(ref, ref).scores()
    assert s["miou"] == s["mean_f1"] == s["overall_accuracy"] == pytest.approx(100.0)
    assert all(c["precision"] == c["recall"] == pytest.approx(100.0) for c in s["per_class"])


def test_all_wrong():
    ref = np.array([0, 0, 1, 1, 1])
    pred = 1 - ref
    s = ConfusionMatrix(2).update(ref, pred).scores()
    assert s["miou"] == s["mean_f1"] == s["overall_accuracy"] == 0.0
    assert [c["precision"] for c in s["per_class"]] == [0.0, 0.0]
    assert s["excluded_classes"] == []


def test_class_only_predicted_counts_with_zero_iou():
    ref = np.array([0, 0, 0, 0])
    pred = np.array([0, 0, 0, 1])
    s = scores_from_matrix(ConfusionMatrix(3).update(ref, pred).matrix, ["x", "y", "z"])
    x, y, z = s["per_class"]
    assert y["present"] and y["iou"] == 0.0 and y["recall"] is None and y["precision"] == 0.0
    assert x["iou"] == pytest.approx(75.0)
    assert s["miou"] == pytest.approx(37.5)  # (75 + 0) / 2: z is excluded, y is not
    assert s["excluded_classes"] == ["z"]


def test_out_of_range_values_are_not_counted():
    cm = ConfusionMatrix(2).update(np.array([0, 1, 7, 255]), np.array([0, 9, 1, 0]))
    assert cm.matrix.sum() == 1
