"""The demo's outputs: the printed table, results.md/.csv, the bar chart and report.html.

report.html is self-contained (PNG previews made with GDAL + matplotlib, embedded as
data URIs; the same PNGs are kept in figures/ next to it).
"""

import base64
import html
import os

import experiment as ex
import tables as tb
from demo import CHEAP_METHODS, NAMES

ORDER = ["lower", "lrm", *CHEAP_METHODS, "upper"]
SHORT = {"lrm": "LRM", "histogram_matching": "histogram matching", "fda": "FDA"}
RANDOM_VGG = ("The LRM translator ran with a RANDOMLY INITIALISED VGG19 (PERCEPTUAL_LOSS "
              "vgg19_random). Its content and style losses are then "
              "far smaller than the published loss weights (30, 1000, 1, 5) assume, the adversarial "
              "term, whose only 'real' sample is the one-shot patch, dominates, and the translation "
              "drifts towards copies of the one-shot patch (see the translated tile in report.html). "
              "Use PERCEPTUAL_LOSS auto or weight_free offline, or give VGG_WEIGHTS (torchvision's "
              "vgg19-dcbb9e9d.pth) for the published behaviour; benchmarks/RESULTS_protocol.md "
              "has the measurements.")
LEFT_TO_PROTOCOL = ("CycleGAN and ColorMapGAN are not run in the demo: CycleGAN costs about a "
                    "minute of CPU per iteration and both need their own segmenter training; "
                    "compare them with benchmarks/protocol.py (docs/protocol.md), on a GPU.")


def collect(outcomes, class_names):
    rows, runs, problems = [], {}, []
    for key in ORDER:
        status, value = outcomes.get(key, ("error", "not run"))
        if status == "error":
            problems.append(f"{NAMES[key]} failed: {value}")
        elif "skipped" in value:
            problems.append(f"{NAMES[key]} skipped: {value['skipped']}")
        else:
            runs[key] = value
            rows.append(tb.summarise(NAMES[key], key, [value], class_names))
    return rows, runs, problems


def verdict(runs):
    if "lrm" not in runs or "lower" not in runs:
        return "Adaptation vs. lower baseline: not available (a row failed)."
    gain = runs["lrm"]["scores"]["miou"] - runs["lower"]["scores"]["miou"]
    if gain > 0:
        text = f"Adaptation beats the lower baseline by {gain:.2f} mIoU points"
    else:
        text = (f"WARNING: adaptation does NOT beat the lower baseline ({gain:+.2f} mIoU points); "
                f"see the translator's losses in logs/ and benchmarks/RESULTS_protocol.md")
    others = [f"{SHORT[k]} {runs['lrm']['scores']['miou'] - runs[k]['scores']['miou']:+.2f}"
              for k in CHEAP_METHODS if k in runs]
    return text + (f" (LRM minus {', '.join(others)} mIoU points)." if others else ".")


def translator_note(lrm):
    """Which loss family and style mixing the LRM translator ran with, and its label-free check."""
    text = (f"The LRM translator trained with the {lrm.get('perceptual_loss')} losses "
            f"(PERCEPTUAL_LOSS auto: the published VGG19 losses need ImageNet weights, "
            f"{'found' if lrm.get('perceptual_loss') == 'vgg19_imagenet' else 'not found here'}) "
            f"and {lrm.get('style_mixing')} style mixing.")
    check = lrm.get("diagnostics") or {}
    if "style_moved" in check:
        text += (f" Label-free check on held-out source patches: translations "
                 f"{100 * check['style_moved']:.0f}% closer to the one-shot sample's colours and "
                 f"textures than the sources, structure loss {check['structure']:.3f} "
                 f"(0 = layout kept).")
    return text


def previews(demo, runs):
    """[(section title, [(caption, png path), ...]), ...]"""
    folder = os.path.join(demo.out, "figures")
    os.makedirs(folder, exist_ok=True)
    png = lambda name, rgb: tb.save_png(os.path.join(folder, name + ".png"), rgb)  # noqa: E731
    source = demo.src[0]
    translation = [("source tile (IR-R-G)", png("source", tb.read_rgb(source)))]
    for key in ("lrm", *CHEAP_METHODS):
        run = runs.get(key)
        if run and run.get("translated"):
            base = os.path.splitext(os.path.basename(source))[0]
            match = [p for p in run["translated"] if base in os.path.basename(p)]
            if match:
                translation.append((f"{SHORT[key]} translation", png(f"translated_{key}", tb.read_rgb(match[0]))))
    window = (runs.get("lrm") or {}).get("target_window")
    translation.append((f"one-shot target patch {tuple(window) if window else ''}",
                        png("one_shot", tb.read_rgb(demo.one_shot, window))))
    test_image, test_reference = demo.tgt_test[0], demo.tgt_test_labels[0]
    tile = os.path.basename(test_image)
    classified = [(f"target test tile {tile}", png("target", tb.read_rgb(test_image)))]
    for key in ORDER:
        run = runs.get(key)
        if run:
            label = {"lower": "without adaptation", "lrm": "with adaptation (LRM)"}.get(key, NAMES[key])
            classified.append((f"{label} (mIoU {run['scores']['miou']:.1f}% on all test tiles)",
                               png(f"classified_{key}", tb.read_classes_rgb(run["classified"][0]))))
    classified.append(("reference", png("reference", tb.read_classes_rgb(test_reference))))
    return [("Translation of a source tile into the target's style", translation),
            (f"Classification of the test tile {tile}", classified)]


def _img(path):
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(os.path.basename(path))}">'


def _html_table(rows):
    head = ["", "mIoU", "mean F1", "OA", "translator params", "s/iter", "row time (s)"]
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for r in rows:
        cells = [r["row"], tb.fmt(r["miou"]), tb.fmt(r["mean_f1"]), tb.fmt(r["overall_accuracy"]),
                 tb.fmt_params(r["translator_parameters"]), tb.fmt(r["seconds_per_iteration"], digits=3),
                 tb.fmt(r["seconds"], digits=0)]
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "\n".join(out) + "</table>"


def write_html(demo, rows, sections, chart, notes):
    classes = ex.load_class_table(None)
    legend = " ".join(f'<span class="key" style="background:rgb{tuple(c)}"></span>{html.escape(n)}'
                      for n, c in zip(classes.names, classes.colors))
    parts = [f"<h2>{html.escape(title)}</h2><div class='row'>" + "".join(
        f"<figure>{_img(p)}<figcaption>{html.escape(c)}</figcaption></figure>" for c, p in items)
        + "</div>" for title, items in sections]
    s = demo.s
    text = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>LRM Adapt demo</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:1800px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}} td:first-child{{text-align:left}}
.row{{display:flex;flex-wrap:wrap;gap:10px}} figure{{margin:0;width:220px}}
figure img{{width:220px;height:220px;image-rendering:pixelated;border:1px solid #888}}
figcaption{{font-size:12px}} .key{{display:inline-block;width:14px;height:14px;border:1px solid #666;
margin:0 4px 0 12px;vertical-align:middle}}</style></head><body>
<h1>LRM Adapt demo: one-shot adaptation on the sample data</h1>
<p>Quick preset on CPU: {s.patch_size}px patches, batch {s.batch_size}, U-Net {html.escape(s.encoder)},
{s.translator_iterations} translator and {s.segmenter_iterations} segmenter iterations, seed {s.seed}.
Every row is scored on the same held-out target tiles
({html.escape(', '.join(os.path.basename(p) for p in demo.tgt_test))}); the upper baseline is trained on
{html.escape(', '.join(os.path.basename(p) for p in demo.tgt_train))}, and the one-shot sample comes
from {html.escape(os.path.basename(demo.one_shot))}.</p>
{_html_table(rows)}
<p>{"<br>".join(html.escape(n) for n in notes)}</p>
<img src="data:image/png;base64,{base64.b64encode(open(chart, 'rb').read()).decode()}" alt="mIoU per row">
{''.join(parts)}
<p>Class colours: {legend}</p></body></html>"""
    path = os.path.join(demo.out, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_outputs(demo, outcomes):
    class_names = list(ex.load_class_table(None).names)
    rows, runs, problems = collect(outcomes, class_names)
    notes = [verdict(runs), *problems, LEFT_TO_PROTOCOL]
    if "lrm" in runs:
        notes.insert(1, translator_note(runs["lrm"]))
    if (runs.get("lrm") or {}).get("perceptual_loss") == "vgg19_random":
        notes.insert(2, RANDOM_VGG)
    print("\nResults on the held-out target tiles (percent):\n")
    print(tb.markdown_table(rows, class_names, per_class=False, runs=False))
    for note in notes:
        print(note)
    os.makedirs(demo.out, exist_ok=True)
    with open(os.path.join(demo.out, "results.md"), "w", encoding="utf-8") as f:
        f.write(tb.markdown_table(rows, class_names, runs=False) + "\n" + "\n\n".join(notes) + "\n")
    tb.write_csv(os.path.join(demo.out, "results.csv"), rows)
    chart = tb.bar_chart(os.path.join(demo.out, "miou.png"), rows,
                         "mIoU on the held-out sample target tiles")
    report = write_html(demo, rows, previews(demo, runs), chart, notes)
    print(f"\nReport: {report}\nTable: {os.path.join(demo.out, 'results.md')} (and .csv); "
          f"logs: {demo.backend.log_dir}")
    required = all(k in runs for k in ("lower", "lrm", "upper"))
    return 0 if required else 1
