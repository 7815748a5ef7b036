"""The evaluation report: one self-contained HTML file (table + confusion-matrix picture).

The confusion matrix is drawn with matplotlib (Agg backend, no display needed), rows
normalised to percent of the reference class (so small classes stay readable) with
the pixel counts written in the cells, and embedded as a base64 PNG.
"""

import base64
import datetime
import html
import io
import os

import numpy as np


def confusion_png(matrix, names):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matrix = np.asarray(matrix, np.int64)
    n = len(names)
    totals = matrix.sum(axis=1, keepdims=True)
    percent = np.divide(100.0 * matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    size = max(4.0, 0.9 * n + 2.5)
    fig = Figure(figsize=(size + 1.0, size))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(image, ax=ax, label="% of the reference class")
    # a "$" in a user's class name would start matplotlib's maths notation (and a bad
    # macro there raises): show it as the character it is
    labels = [str(name).replace("$", r"\$") for name in names]
    ax.set_xticks(range(n), labels=labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels=labels)
    ax.set_xlabel("prediction")
    ax.set_ylabel("reference")
    for r in range(n):
        for c in range(n):
            ax.text(c, r, f"{percent[r, c]:.1f}%\n{matrix[r, c]}", ha="center", va="center",
                    fontsize=7, color="white" if percent[r, c] > 55 else "black")
    ax.set_title("Confusion matrix")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _cell(value):
    return "&ndash;" if value is None else f"{value:.2f}"


def render_html(scores, prediction, reference, classes):
    esc = html.escape
    rows = []
    for c, color in zip(scores["per_class"], classes.colors):
        swatch = f'<span class="sw" style="background:rgb{tuple(color)}"></span>'
        rows.append(
            f"<tr{' class=absent' if not c['present'] else ''}><td>{c['index']}</td>"
            f"<td>{swatch}{esc(c['name'])}</td><td>{_cell(c['iou'])}</td>"
            f"<td>{_cell(c['precision'])}</td><td>{_cell(c['recall'])}</td>"
            f"<td>{_cell(c['f1'])}</td><td>{c['reference_pixels']}</td>"
            f"<td>{c['predicted_pixels']}</td></tr>")
    excluded = ""
    if scores["excluded_classes"]:
        excluded = (f"<p class=note>Absent from both rasters, so left out of mIoU and mean F1: "
                    f"{esc(', '.join(scores['excluded_classes']))}.</p>")
    png = base64.b64encode(confusion_png(scores["confusion_matrix"], classes.names)).decode()
    now = datetime.datetime.now().isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>LRM Adapt evaluation</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #bbb; padding: 3px 8px; text-align: right; }}
td:nth-child(2) {{ text-align: left; }}
tr.absent {{ color: #999; }}
.sw {{ display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #555;
       margin-right: 0.4em; vertical-align: middle; }}
.note {{ color: #a60; }}
</style></head><body>
<h1>Land-cover map evaluation</h1>
<p>Prediction: <code>{esc(str(prediction))}</code><br>Reference: <code>{esc(str(reference))}</code><br>
Written {now}.</p>
<h2>Summary (percent)</h2>
<table><tr><th>mIoU</th><th>mean F1</th><th>overall accuracy</th><th>scored pixels</th>
<th>ignored reference pixels</th><th>unclassified pixels</th></tr>
<tr><td>{_cell(scores['miou'])}</td><td>{_cell(scores['mean_f1'])}</td>
<td>{_cell(scores['overall_accuracy'])}</td><td>{scores['pixels']}</td>
<td>{scores.get('ignored_reference_pixels', 0)}</td><td>{scores.get('unclassified_pixels', 0)}</td></tr></table>
{excluded}
<h2>Per class (percent)</h2>
<table><tr><th>#</th><th>class</th><th>IoU</th><th>precision</th><th>recall</th><th>F1</th>
<th>reference pixels</th><th>predicted pixels</th></tr>
{chr(10).join(rows)}
</table>
<p>IoU = TP/(TP+FP+FN), F1 = 2TP/(2TP+FP+FN); &ndash; where undefined (nothing predicted as the
class, or the class not in the reference).</p>
<h2>Confusion matrix</h2>
<img alt="confusion matrix (rows: reference, columns: prediction)" src="data:image/png;base64,{png}">
</body></html>
"""


def write_html(path, scores, prediction, reference, classes):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    from ..storage.atomic import write_text_atomically

    return write_text_atomically(path, render_html(scores, prediction, reference, classes))
