"""Measure the domain shift of the sample data with a simple pixel classifier.

A Gaussian (quadratic discriminant) classifier on per-pixel neighbourhood features
(band values, local means at two scales, local standard deviation) is trained on
one domain and evaluated on held-out tiles of both domains. If the shift is real,
the classifier trained on the source does clearly worse on the target than on the
source, while the same classifier trained on the target does well there (so the
target classes are separable and the drop is caused by the shift).

Tiles with even index train, tiles with odd index test (with one tile, both use it).
numpy/scipy only: no torch.
"""

import numpy as np
from scipy import ndimage

SAMPLES_PER_CLASS = 4000


def pixel_features(image):
    """(H*W, 12) float64 features of a (3, H, W) uint8 image."""
    x = image.astype(np.float32) / 255.0
    feats = [x]
    for sigma in (1.5, 4.0):
        mean = np.stack([ndimage.gaussian_filter(b, sigma) for b in x])
        feats.append(mean)
        if sigma == 1.5:
            sq = np.stack([ndimage.gaussian_filter(b * b, sigma) for b in x])
            feats.append(np.sqrt(np.clip(sq - mean ** 2, 0, None)))
    return np.concatenate(feats).reshape(len(feats) * 3, -1).T.astype(np.float64)


class GaussianClassifier:
    """Quadratic discriminant analysis with shrinkage and class-frequency priors."""

    def __init__(self, n_classes, shrinkage=0.1):
        self.n_classes, self.shrinkage = n_classes, shrinkage

    def fit(self, features, labels, rng):
        self.params = []
        counts = np.bincount(labels, minlength=self.n_classes).astype(float)
        for c in range(self.n_classes):
            idx = np.flatnonzero(labels == c)
            if idx.size < 10:
                self.params.append(None)
                continue
            idx = rng.choice(idx, min(idx.size, SAMPLES_PER_CLASS), replace=False)
            f = features[idx]
            cov = np.cov(f, rowvar=False)
            cov = (1 - self.shrinkage) * cov + self.shrinkage * np.diag(np.diag(cov))
            cov += 1e-6 * np.eye(cov.shape[0])
            _, logdet = np.linalg.slogdet(cov)
            self.params.append((f.mean(0), np.linalg.inv(cov), logdet,
                                np.log(counts[c] / counts.sum())))
        return self

    def predict(self, features, chunk=200000):
        out = np.empty(len(features), np.uint8)
        for start in range(0, len(features), chunk):
            f = features[start:start + chunk]
            score = np.full((len(f), self.n_classes), -np.inf)
            for c, p in enumerate(self.params):
                if p is None:
                    continue
                mean, inv, logdet, prior = p
                d = f - mean
                score[:, c] = -0.5 * np.einsum("ij,jk,ik->i", d, inv, d) - 0.5 * logdet + prior
            out[start:start + chunk] = score.argmax(1)
        return out


def scores(truth, predicted, n_classes):
    """Overall accuracy and mean IoU (over classes present in truth or prediction), percent."""
    cm = np.bincount(truth.astype(int) * n_classes + predicted, minlength=n_classes ** 2)
    cm = cm.reshape(n_classes, n_classes).astype(float)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    present = union > 0
    return {"overall_accuracy": 100 * inter.sum() / cm.sum(),
            "miou": 100 * float(np.mean(inter[present] / union[present]))}


def _stack(pairs):
    feats = np.concatenate([pixel_features(img) for img, _ in pairs])
    labels = np.concatenate([lab.ravel() for _, lab in pairs]).astype(np.int64)
    return feats, labels


def _split(pairs):
    train = pairs[0::2]
    test = pairs[1::2] or pairs
    return train, test


def measure_domain_shift(source_pairs, target_pairs, n_classes=6, seed=0):
    """Train on each domain, test on held-out tiles; ``pairs`` are (image, labels) lists."""
    rng = np.random.default_rng(seed)
    src_train, src_test = (_stack(p) for p in _split(source_pairs))
    tgt_train, tgt_test = (_stack(p) for p in _split(target_pairs))
    on_source = GaussianClassifier(n_classes).fit(*src_train, rng)
    on_target = GaussianClassifier(n_classes).fit(*tgt_train, rng)
    result = {
        "source_on_source": scores(src_test[1], on_source.predict(src_test[0]), n_classes),
        "source_on_target": scores(tgt_test[1], on_source.predict(tgt_test[0]), n_classes),
        "target_on_target": scores(tgt_test[1], on_target.predict(tgt_test[0]), n_classes),
    }
    result = {k: {m: round(v, 2) for m, v in s.items()} for k, s in result.items()}
    result["accuracy_drop"] = round(result["source_on_source"]["overall_accuracy"]
                                    - result["source_on_target"]["overall_accuracy"], 2)
    return result
