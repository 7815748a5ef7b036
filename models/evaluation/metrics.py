"""Segmentation scores from a confusion matrix accumulated window by window.

``matrix[r, p]`` counts pixels of reference class ``r`` predicted as class ``p``;
pixels whose reference or prediction is ignored are not counted. Per class::

    IoU       = TP / (TP + FP + FN)
    precision = TP / (TP + FP)        (None when nothing was predicted as the class)
    recall    = TP / (TP + FN)        (None when the class is not in the reference)
    F1        = 2 TP / (2 TP + FP + FN)   (= 2PR / (P + R) where both are defined)

all in percent, as in the paper's Table I. mIoU and mean F1 average over the classes
present in the reference or the prediction: a class absent from both has no defined
IoU and is left out of the means (as the paper's code does with a NaN-mean) and listed
in ``excluded_classes``. A class present in only one of them counts with IoU = F1 = 0.
Overall accuracy is trace / total over the counted pixels.
"""

import numpy as np


class ConfusionMatrix:
    def __init__(self, n_classes):
        self.n = int(n_classes)
        self.matrix = np.zeros((self.n, self.n), np.int64)

    def update(self, reference, prediction, valid=None):
        """Add a window. Pixels outside 0..N-1 in either array, or not ``valid``, are skipped."""
        ref = np.asarray(reference).astype(np.int64).ravel()
        pred = np.asarray(prediction).astype(np.int64).ravel()
        keep = (ref >= 0) & (ref < self.n) & (pred >= 0) & (pred < self.n)
        if valid is not None:
            keep &= np.asarray(valid, bool).ravel()
        self.matrix += np.bincount(self.n * ref[keep] + pred[keep],
                                   minlength=self.n * self.n).reshape(self.n, self.n)
        return self

    def scores(self, names=None):
        return scores_from_matrix(self.matrix, names)


def _percent(num, den):
    return None if den == 0 else 100.0 * float(num) / float(den)


def scores_from_matrix(matrix, names=None):
    """Per-class and mean scores (percent) from a confusion matrix (reference x prediction)."""
    matrix = np.asarray(matrix, np.int64)
    n = matrix.shape[0]
    names = list(names) if names is not None else [str(i) for i in range(n)]
    tp = np.diag(matrix)
    ref_total = matrix.sum(axis=1)
    pred_total = matrix.sum(axis=0)
    fp = pred_total - tp
    fn = ref_total - tp
    per_class, excluded = [], []
    for i in range(n):
        present = bool(ref_total[i] > 0 or pred_total[i] > 0)
        entry = {
            "index": i, "name": names[i], "present": present,
            "iou": _percent(tp[i], tp[i] + fp[i] + fn[i]),
            "precision": _percent(tp[i], tp[i] + fp[i]),
            "recall": _percent(tp[i], tp[i] + fn[i]),
            "f1": _percent(2 * tp[i], 2 * tp[i] + fp[i] + fn[i]),
            "reference_pixels": int(ref_total[i]), "predicted_pixels": int(pred_total[i]),
        }
        per_class.append(entry)
        if not present:
            excluded.append(names[i])
    counted = [c for c in per_class if c["present"]]
    total = int(matrix.sum())
    return {
        "miou": float(np.mean([c["iou"] for c in counted])) if counted else None,
        "mean_f1": float(np.mean([c["f1"] for c in counted])) if counted else None,
        "overall_accuracy": _percent(tp.sum(), total),
        "per_class": per_class,
        "excluded_classes": excluded,
        "pixels": total,
        "confusion_matrix": matrix.tolist(),
    }
