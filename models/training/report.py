"""Training reports: one self-contained HTML file per training (OUTPUT_HTML).

Translator: the loss terms per epoch (training and validation), the one-shot sample, and
a few source windows before and after translation, all drawn with ONE display stretch
(2-98th percentiles of the pooled pictures): a per-image stretch would undo any per-band
colour change and make a translation look like its source. Segmenter: training and
validation loss and validation mIoU per epoch, per-class validation IoU over time, and the
validation confusion matrix of the saved (best) model. Plots are matplotlib (Agg) PNGs
embedded as base64; this runs in the worker, never in QGIS.
"""

import base64
import html
import io
import os

import numpy as np

from ..storage.model_file import read_metadata


def check_report_path(path):
    """Fail before training, not after, when OUTPUT_HTML cannot be an HTML file."""
    from ..errors import LrmError

    if path and not path.lower().endswith((".html", ".htm")):
        raise LrmError(f"OUTPUT_HTML {path} must end with .html or .htm.")


def report_or_warn(reporter, write, path, *args):
    """Write a report; a failure is a warning (the trained model is already saved)."""
    try:
        return write(path, *args)
    except Exception as exc:  # matplotlib missing, disk full, ...: keep the training's result
        reporter.warning(f"The training report {path} could not be written "
                         f"({type(exc).__name__}: {exc}); the model file is complete.")
        return None


def _figure(width=7.0, height=3.6):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _png(fig):
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(png, alt):
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def _label(text):
    return str(text).replace("$", r"\$")  # no matplotlib maths from user text


def _page(title, body):
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:1000px;margin:1em auto}"
            "img{max-width:100%}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:2px 6px}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")


def _write(path, text):
    from ..storage.atomic import write_text_atomically

    write_text_atomically(path, text)


def translator_curves_png(history):
    terms = sorted({k for h in history for k in h.get("train", {})} - {"total"})
    epochs = [h["epoch"] for h in history]
    fig = _figure()
    ax, av = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for term in terms:
        ax.plot(epochs, [h["train"].get(term, np.nan) for h in history], label=_label(term))
    for term in sorted({k for h in history for k in h.get("validation", {})}):
        av.plot(epochs, [h["validation"].get(term, np.nan) for h in history], label=_label(term))
    for a, title in ((ax, "training losses"), (av, "validation losses (model selection)")):
        a.set_xlabel("epoch")
        a.set_title(title)
        a.set_yscale("log")
        a.legend(fontsize=7)
    return _png(fig)


def _display(arrays):
    """Arrays (C, H, W) -> uint8 RGB pictures with one shared 2-98 % stretch per band."""
    rgb = [a[:3] if a.shape[0] >= 3 else np.repeat(a[:1], 3, 0) for a in arrays]
    pooled = np.concatenate([r.reshape(3, -1) for r in rgb], axis=1)
    low = np.percentile(pooled, 2, axis=1)[:, None, None]
    high = np.percentile(pooled, 98, axis=1)[:, None, None]
    scale = np.maximum(high - low, 1e-6)
    return [np.clip((r - low) / scale * 255, 0, 255).astype(np.uint8).transpose(1, 2, 0) for r in rgb]


def translator_pictures_png(model_path, sources, count=3):
    """The one-shot sample and ``count`` source windows before/after translation."""
    import torch

    from ..storage.model_file import load_model
    from ..raster.io import open_raster, raster_info, read_window
    from ..translation.registry import get_method

    tensors, meta = load_model(model_path, expected_kind="translator")
    translator = get_method(meta.get("method", "lrm")).load(tensors, meta, torch.device("cpu"))
    size = int(meta["patch_size"])
    multiple = max(1, int(getattr(translator, "window_multiple", 1)))
    pairs = []
    for path in sources[:count]:
        info = raster_info(path)
        w, h = min(size, info.width), min(size, info.height)
        w, h = w - w % multiple, h - h % multiple
        if w < multiple or h < multiple:
            continue
        x, y = (info.width - w) // 2 // multiple * multiple, (info.height - h) // 2 // multiple * multiple
        raw = read_window(open_raster(path), translator.bands, x, y, w, h).astype(np.float32)
        out = translator.translate(raw[None], offsets=[(x, y)])[0]
        pairs.append((os.path.basename(path), raw, out))
    target = tensors.get("target_image")
    target = None if target is None else target.numpy()
    pictures = _display([a for _, raw, out in pairs for a in (raw, out)]
                        + ([target] if target is not None else []))
    rows = len(pairs) + (1 if target is not None else 0)
    fig = _figure(6.0, 3.0 * rows)
    for i, (name, _, _) in enumerate(pairs):
        for j, caption in enumerate(("source", "translated")):
            ax = fig.add_subplot(rows, 2, 2 * i + j + 1)
            ax.imshow(pictures[2 * i + j])
            ax.set_title(_label(f"{caption}: {name}"), fontsize=8)
            ax.axis("off")
    if target is not None:
        ax = fig.add_subplot(rows, 2, 2 * rows - 1)
        ax.imshow(pictures[-1])
        ax.set_title("one-shot target sample", fontsize=8)
        ax.axis("off")
    return _png(fig)


def write_translator_report(path, model_path, sources, result):
    meta = read_metadata(model_path, "translator")
    history = meta.get("loss_history") or []
    body = [f"<p>Model <code>{html.escape(os.path.abspath(model_path))}</code>: method "
            f"{html.escape(str(meta.get('method')))}, losses "
            f"{html.escape(str(meta.get('perceptual_loss', '-')))}, style mixing "
            f"{html.escape(str(meta.get('style_mixing', '-')))}, {result.get('iterations')} "
            f"iterations, best epoch {meta.get('best_epoch')}, stopped by "
            f"{html.escape(str(meta.get('stopped_by')))}.</p>"]
    if history:
        body.append("<h2>Losses per epoch</h2>" + _img(translator_curves_png(history), "loss curves"))
    diagnostics = meta.get("diagnostics")
    if diagnostics:
        body.append("<h2>Label-free check (held-out source patches)</h2><table>"
                    + "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.4g}</td></tr>"
                              for k, v in diagnostics.items() if isinstance(v, (int, float)))
                    + "</table>")
    body.append("<h2>Before and after</h2><p>One display stretch for all pictures (so colour "
                "changes show).</p>" + _img(translator_pictures_png(model_path, sources), "translations"))
    _write(path, _page("LRM Adapt translator training report", "".join(body)))
    return path


def segmenter_curves_png(history, names):
    epochs = [h["epoch"] for h in history]
    fig = _figure(9.0, 3.4)
    ax, am, ac = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    ax.plot(epochs, [np.nan if h.get("train_loss") is None else h["train_loss"] for h in history],
            label="training")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.set_title("loss")
    ax.legend(fontsize=7)
    am.plot(epochs, [h["val_miou"] for h in history])
    am.set_title("validation mIoU (%)")
    for c, name in enumerate(names):
        values = [np.nan if not h.get("val_iou") or h["val_iou"][c] is None else h["val_iou"][c]
                  for h in history]
        if not all(np.isnan(values)):
            ac.plot(epochs, values, label=_label(name))
    ac.set_title("validation IoU per class (%)")
    ac.legend(fontsize=6)
    for a in (ax, am, ac):
        a.set_xlabel("epoch")
    return _png(fig)


def write_segmenter_report(path, model_path, result):
    from ..labels.classes import ClassTable
    from ..evaluation.report_html import confusion_png

    meta = read_metadata(model_path, "segmenter")
    names = list(ClassTable.from_dict(meta["classes"]).names)
    history = meta.get("history") or []
    body = [f"<p>Model <code>{html.escape(os.path.abspath(model_path))}</code>: U-Net, encoder "
            f"{html.escape(str(meta.get('encoder')))}, {result.get('iterations')} iterations, best "
            f"epoch {meta.get('best_epoch')} (validation mIoU "
            f"{meta.get('best_validation_miou') or 0:.2f}%), stopped by "
            f"{html.escape(str(result.get('stopped_by')))}.</p>"]
    if history:
        body.append("<h2>Per epoch</h2>" + _img(segmenter_curves_png(history, names), "curves"))
    confusion = meta.get("best_validation_confusion")
    if confusion:
        png = base64.b64encode(confusion_png(confusion, names)).decode("ascii")
        body.append("<h2>Validation confusion matrix of the saved model</h2>" + _img(png, "confusion"))
    _write(path, _page("LRM Adapt segmenter training report", "".join(body)))
    return path
