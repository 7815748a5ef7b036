"""Rows, tables and figures of the demo and the protocol.

* A row summarises its runs (e.g. LRM with N one-shot patches): mean and sample
  standard deviation of mIoU, mean F1 and overall accuracy, mean per-class IoU, the
  translator's parameters and seconds per iteration.
* Markdown and CSV tables, a bar chart of mIoU with error bars (matplotlib), and PNG
  previews of image and class rasters read with GDAL.
"""

import csv

import numpy as np

from experiment import load_class_table


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return float(np.mean(values)), (float(np.std(values, ddof=1)) if len(values) > 1 else None)


def summarise(name, key, runs, class_names):
    """One table row from its runs (dicts with ``scores`` and optional translator figures)."""
    row = {"row": name, "key": key, "runs": len(runs)}
    for metric in ("miou", "mean_f1", "overall_accuracy"):
        row[metric], row[f"{metric}_std"] = mean_std([r["scores"][metric] for r in runs])
    for i, cls in enumerate(class_names):
        row[f"iou_{cls}"], _ = mean_std([r["scores"]["per_class"][i]["iou"] for r in runs])
    for field in ("translator_parameters", "seconds_per_iteration", "seconds"):
        row[field], _ = mean_std([r.get(field) for r in runs])
    if row["translator_parameters"] is not None:
        row["translator_parameters"] = int(row["translator_parameters"])
    return row


def fmt(value, std=None, digits=2):
    if value is None:
        return "-"
    text = f"{value:.{digits}f}"
    return text + (f" ± {std:.{digits}f}" if std is not None else "")


def fmt_params(n):
    if n is None:
        return "-"
    return f"{n / 1e6:.3f}M" if n >= 1000 else str(int(n))


def markdown_table(rows, class_names, per_class=True, runs=True):
    head = ["", "runs", "mIoU", "mean F1", "OA"] if runs else ["", "mIoU", "mean F1", "OA"]
    if per_class:
        head += [f"IoU {c}" for c in class_names]
    head += ["translator params", "s/iter"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["row"]] + ([str(r["runs"])] if runs else []) + [fmt(r["miou"], r["miou_std"]),
                 fmt(r["mean_f1"], r["mean_f1_std"]),
                 fmt(r["overall_accuracy"], r["overall_accuracy_std"])]
        if per_class:
            cells += [fmt(r[f"iou_{c}"], digits=1) for c in class_names]
        cells += [fmt_params(r["translator_parameters"]), fmt(r["seconds_per_iteration"], digits=3)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(path, rows, columns=None):
    """Rows (dicts) as CSV; numbers unformatted, missing values empty."""
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(columns)
        for r in rows:
            out.writerow(["" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float) else r[c])
                          for c in columns])
    return path


def bar_chart(path, rows, title="mIoU on the target test tiles"):
    """Bar chart of mIoU per row; error bars (one standard deviation) where runs > 1."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [r["miou"] or 0.0 for r in rows]
    errors = [r["miou_std"] or 0.0 for r in rows]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(rows), 4.2))
    colours = ["#999999" if r["key"] in ("lower", "upper") else "#3b75af" for r in rows]
    ax.bar(range(len(rows)), values, color=colours)
    spread = [i for i, r in enumerate(rows) if r["miou_std"] is not None]
    if spread:
        ax.errorbar(spread, [values[i] for i in spread], yerr=[errors[i] for i in spread],
                    fmt="none", ecolor="black", capsize=5)
    for i, v in enumerate(values):
        ax.text(i, v + errors[i] + 0.8, f"{v:.1f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r["row"] for r in rows], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("mIoU (%)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, max(values + [1.0]) * 1.2 + max(errors + [0.0]))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- previews -------------------------------------------------------------------------

def read_rgb(path, window=None, bands=(1, 2, 3)):
    """(H, W, 3) uint8 of three bands; 8-bit data as is, other types stretched 2-98 %."""
    from osgeo import gdal

    ds = gdal.Open(path)
    x, y, w, h = window or (0, 0, ds.RasterXSize, ds.RasterYSize)
    data = np.stack([ds.GetRasterBand(min(b, ds.RasterCount)).ReadAsArray(x, y, w, h) for b in bands], -1)
    if data.dtype == np.uint8:
        return data
    data = data.astype(np.float64)
    lo, hi = np.percentile(data, 2, axis=(0, 1)), np.percentile(data, 98, axis=(0, 1))
    return (np.clip((data - lo) / np.maximum(hi - lo, 1e-9), 0, 1) * 255).astype(np.uint8)


def read_classes_rgb(path, classes=None, label_format="index", window=None):
    """(H, W, 3) uint8 class colours of a class raster (index) or colour labels (as they are)."""
    if label_format in ("color", "colour", "1", 1):
        return read_rgb(path, window)
    from osgeo import gdal

    ds = gdal.Open(path)
    x, y, w, h = window or (0, 0, ds.RasterXSize, ds.RasterYSize)
    index = ds.GetRasterBand(1).ReadAsArray(x, y, w, h)
    palette = np.zeros((256, 3), np.uint8)  # ignored / unknown values stay black
    colours = np.asarray(load_class_table(classes).colors, np.uint8)
    palette[:len(colours)] = colours
    return palette[index]


def save_png(path, rgb):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.imsave(path, rgb)
    return path
