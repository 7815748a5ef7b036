"""The paper's Table I protocol on any data set laid out like the sample data.

    .venv/bin/python benchmarks/protocol.py --data DIR [--out DIR] [--patches 10]
        [--preset quick|paper] [--methods all|lrm,fda,...] [--device auto] [--split FILE]

(``make protocol DATA=DIR``; the layout, the split and how to prepare ISPRS Potsdam and
Vaihingen are in docs/protocol.md.)

Rows, all scored on the same target TEST tiles (confusion matrices of all tiles summed):

* lower baseline: a segmenter trained on the source train+val tiles;
* every translation method the plugin offers (models.translation.registry): its
  translator trained on the source tiles and a one-shot target patch (CycleGAN: the
  whole set of target train tiles, as one mosaic), the source train+val tiles
  translated with it, a segmenter trained on them; the methods in --repeat (default
  LRM) run once per one-shot patch (N = --patches, mean and standard deviation), the
  others with the first patch;
* upper baseline: a segmenter trained on the target train+val tiles.

Every segmenter has the preset's settings; the val tiles are joined to the train tiles
and the segmenter holds out the same share of patches for its validation. Finished
runs are kept (runs/<row>_<n>/run.json) and reused when the protocol is run again with
the same settings (--fresh runs everything again). Outputs in --out: results.md,
results.csv (one line per row), runs.csv (one line per run), miou.png, results.json,
split.json (the split used; reusable as --split) and logs/.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import experiment as ex  # noqa: E402
import tables as tb  # noqa: E402
import protocol_data as pdata  # noqa: E402
from models import contract  # noqa: E402  (plain data: method directions)

NAMES = {"lrm": "LRM", "histogram_matching": "histogram matching", "fda": "FDA",
         "cyclegan": "CycleGAN", "colormapgan": "ColorMapGAN", "dualgan": "DualGAN",
         "benjdira": "Benjdira et al."}
LOWER, UPPER = "lower baseline (source only)", "upper baseline (target labels)"


def method_names():
    from models.translation.registry import method_names as names

    return names()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="The paper's Table I protocol (docs/protocol.md).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", required=True, help="folder with source/ and target/ (docs/protocol.md)")
    p.add_argument("--out", default=os.path.join(ex.ROOT, "out", "protocol"), help="output folder")
    p.add_argument("--patches", type=int, default=10, help="one-shot patches N for --repeat methods")
    p.add_argument("--preset", default="quick", choices=sorted(ex.load_presets()))
    p.add_argument("--methods", default="all", help="comma-separated translation methods, or all")
    p.add_argument("--repeat", default="lrm", help="methods run once per one-shot patch (comma list)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--split", default=None, help="split JSON file (default: the 70/15/15 convention)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the 70/15/15 convention")
    p.add_argument("--seed", type=int, default=0, help="training seed and one-shot window draw")
    p.add_argument("--label-format", default="auto", choices=("auto", "index", "color"),
                   help="auto: labels/ holds indices, else labels_rgb/ colours")
    p.add_argument("--classes", default=None, help="class table (default: the six ISPRS classes)")
    p.add_argument("--jobs", type=int, default=1, help="runs side by side (CPU threads are shared)")
    p.add_argument("--max-translator-sources", type=int, default=256,
                   help="at most this many source tiles (evenly spaced) train a translator")
    p.add_argument("--vgg-weights", default=None, help="VGG19 ImageNet weights for LRM's losses")
    p.add_argument("--encoder-weights", default=None, help="ImageNet weights of the U-Net encoder")
    p.add_argument("--translator-option", action="append", default=[], metavar="NAME=VALUE",
                   help="extra train-translator flag for every method, e.g. lambda_style=50 (repeat)")
    p.add_argument("--one-shot-size", type=int, default=512,
                   help="side of the one-shot samples (largest square that fits in the target "
                        "train tiles when smaller; 0 = patch size)")
    p.add_argument("--keep-translated", action="store_true", help="keep the translated source tiles")
    p.add_argument("--fresh", action="store_true", help="do not reuse finished runs")
    for name, kind in (("patch-size", int), ("batch-size", int), ("encoder", str),
                       ("translator-iterations", int), ("segmenter-iterations", int)):
        p.add_argument(f"--{name}", type=kind, default=None, help="override the preset")
    return p.parse_args(argv)


class Protocol:
    def __init__(self, args):
        self.args, self.out = args, os.path.abspath(args.out)
        self.t0 = time.monotonic()
        data = os.path.abspath(args.data)
        self.domains = {d: pdata.domain(data, d, args.label_format) for d in ("source", "target")}
        self.split = pdata.make_split(self.domains, args.split, args.split_seed)
        available = method_names()
        wanted = available if args.methods == "all" else [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [m for m in wanted if m not in available]
        if unknown:
            raise pdata.DataError(f"Unknown method(s) {', '.join(unknown)}; the plugin offers {', '.join(available)}.")
        self.methods = [m for m in available if m in wanted]
        self.repeat = {m.strip() for m in args.repeat.split(",") if m.strip()}
        self.s = ex.Settings.from_preset(
            args.preset, device=args.device, seed=args.seed, patch_size=args.patch_size,
            batch_size=args.batch_size, encoder=args.encoder,
            translator_iterations=args.translator_iterations, segmenter_iterations=args.segmenter_iterations)
        cores = os.cpu_count() or 1
        threads = max(1, cores // args.jobs) if args.jobs > 1 else None
        self.backend = ex.Backend(os.path.join(self.out, "logs"), threads=threads)
        self.class_names = list(ex.load_class_table(args.classes).names)
        self.segmenter_extra = {"encoder_weights": args.encoder_weights}
        self.translator_extra = {"vgg_weights": args.vgg_weights}
        for option in args.translator_option:
            name, sep, value = option.partition("=")
            if not sep or not name.strip():
                raise pdata.DataError(f"--translator-option {option!r} must be NAME=VALUE.")
            self.translator_extra[name.strip().replace("-", "_")] = value.strip()
        # one-shot samples of ONE_SHOT_SIZE (the paper's 512 px), or the largest square that
        # fits in the target train tiles; never smaller than the patch size
        size = pdata.one_shot_size(self.paths("target", "train"), args.one_shot_size,
                                   self.s.patch_size, max(1, args.patches))
        self.translator_extra["one_shot_size"] = size
        self.windows = pdata.one_shot_windows(self.paths("target", "train"), size,
                                           max(1, args.patches), args.seed)

    def paths(self, domain, *parts, labels=False):
        d = self.domains[domain]
        names = [n for part in parts for n in self.split[domain][part]]
        return [d["labels" if labels else "images"][n] for n in names]

    def log(self, message):
        print(f"[{ex.clock(self.t0)}] {message}", flush=True)

    def validation_fraction(self, domain):
        train, val = len(self.split[domain]["train"]), len(self.split[domain]["val"])
        return round(val / (train + val), 4) if val else None

    # -- one run ----------------------------------------------------------------------
    def run(self, key, index):
        """One trained segmenter scored on the test tiles; cached in runs/<key>_<index>/run.json."""
        folder = os.path.join(self.out, "runs", f"{key}_{index}")
        window = None if key in ("lower", "upper", *contract.WHOLE_TARGET_LAYER) else self.windows[index]
        recipe = {"key": key, "settings": self.s.to_dict(), "split": self.split, "window": window,
                  "classes": self.args.classes, "segmenter": self.segmenter_extra}
        if key not in ("lower", "upper"):
            recipe.update(translator=self.translator_extra, max_translator_sources=self.args.max_translator_sources)
        cache = os.path.join(folder, "run.json")
        if not self.args.fresh and os.path.exists(cache):
            with open(cache, encoding="utf-8") as f:
                saved = json.load(f)
            if saved.get("recipe") == json.loads(json.dumps(recipe)):
                self.log(f"reused: {key} #{index + 1} (mIoU {saved['scores']['miou']:.2f}%)")
                return saved
        os.makedirs(folder, exist_ok=True)
        self.log(f"start: {key} #{index + 1}")
        started = time.monotonic()
        run = {"recipe": recipe, "key": key, "index": index}
        fmt_s = self.domains["source"]["label_format"]
        if key == "upper":
            images, labels = self.paths("target", "train", "val"), self.paths("target", "train", "val", labels=True)
            fmt, fraction = self.domains["target"]["label_format"], self.validation_fraction("target")
        else:
            images, labels = self.paths("source", "train", "val"), self.paths("source", "train", "val", labels=True)
            fmt, fraction = fmt_s, self.validation_fraction("source")
        test_images = self.paths("target", "test")
        if key not in ("lower", "upper"):
            model = self.train_translator(key, folder, window, run)
            translated = os.path.join(folder, "translated")
            if key in contract.TARGET_TO_SOURCE:  # Benjdira et al.: the target goes to the source look
                test_images = ex.translate_all(self.backend, model, test_images, translated, self.s,
                                               label=f"{key}{index + 1}_translate")
            else:
                images = ex.translate_all(self.backend, model, images, translated, self.s,
                                          label=f"{key}{index + 1}_translate")
        segmenter = os.path.join(folder, "segmenter.safetensors")
        seg = ex.train_segmenter(self.backend, images, labels, segmenter, self.s, fmt, self.args.classes,
                                 fraction, label=f"{key}{index + 1}_segmenter", extra=self.segmenter_extra)
        run["segmenter_seconds_per_iteration"] = seg.get("seconds_per_iteration")
        _, run["scores"] = ex.score_tiles(
            self.backend, segmenter, test_images, self.paths("target", "test", labels=True),
            os.path.join(folder, "classified"), self.s, self.domains["target"]["label_format"],
            self.args.classes, label=f"{key}{index + 1}_score")
        if key not in ("lower", "upper") and not self.args.keep_translated:
            shutil.rmtree(os.path.join(folder, "translated"), ignore_errors=True)
        run["seconds"] = time.monotonic() - started
        with open(cache, "w", encoding="utf-8") as f:
            json.dump(run, f, indent=1)
        self.log(f"done:  {key} #{index + 1} in {run['seconds']:.0f} s: mIoU {run['scores']['miou']:.2f}%")
        return run

    def train_translator(self, method, folder, window, run):
        sources = self.paths("source", "train", "val")
        limit = self.args.max_translator_sources
        if limit and len(sources) > limit:
            sources = [sources[i] for i in sorted({int(k) for k in
                                                   [j * len(sources) / limit for j in range(limit)]})]
        if window is None:  # the GANs sample a whole layer: every target train tile, as a mosaic
            target, extent = pdata.mosaic_vrt(self.paths("target", "train"),
                                           os.path.join(folder, "target_mosaic.vrt")), None
        else:
            target, extent = window["tile"], window["extent"]
        model = os.path.join(folder, "translator.safetensors")
        result = ex.train_translator(self.backend, method, sources, target, model, self.s, extent,
                                     label=f"{method}{run['index'] + 1}_translator",
                                     extra=self.translator_extra)
        if window and result.get("target_window") and list(result["target_window"]) != window["window"]:
            self.log(f"note: {method} used the window {result['target_window']}, not {window['window']}")
        run.update(translator_parameters=result.get("parameters"),
                   seconds_per_iteration=result.get("seconds_per_iteration"),
                   target=target, target_window=result.get("target_window"))
        return model

    # -- all runs -------------------------------------------------------------------------
    def tasks(self):
        keys = [("lower", 0), ("upper", 0)]
        for m in self.methods:
            keys += [(m, i) for i in range(self.args.patches if m in self.repeat else 1)]
        return keys

    def execute(self):
        keys = self.tasks()
        s = self.s
        self.log(f"{len(keys)} runs; preset {self.args.preset}: {s.patch_size}px, batch {s.batch_size}, "
                 f"{s.encoder}, {s.translator_iterations or s.translator_epochs} translator / "
                 f"{s.segmenter_iterations or s.segmenter_epochs} segmenter "
                 f"{'iterations' if s.segmenter_iterations else 'epochs'}; device {s.device}; "
                 f"split " + "; ".join(f"{d} " + "/".join(str(len(self.split[d][k])) for k in pdata.SPLITS)
                                       for d in ("source", "target")) + " (train/val/test)")
        outcomes = ex.run_pool([lambda k=k: self.run(*k) for k in keys], self.args.jobs)
        return list(zip(keys, outcomes))

    def rows(self, results):
        runs = {}
        for (key, _), (status, value) in results:
            if status == "ok":
                runs.setdefault(key, []).append(value)
        order = ["lower", *self.methods, "upper"]
        rows = []
        for key in order:
            if key in runs:
                n = len(runs[key])
                name = {"lower": LOWER, "upper": UPPER}.get(key) or (
                    NAMES.get(key, key) + (f" ({n} one-shot patches)" if n > 1 else ""))
                rows.append(tb.summarise(name, key, runs[key], self.class_names))
        return rows, runs


def write_outputs(proto, results, rows, runs):
    out, args, s = proto.out, proto.args, proto.s
    failures = [f"{k} #{i + 1}: {v}" for (k, i), (st, v) in results if st != "ok"]
    per_run = []
    for key, items in runs.items():
        for r in items:
            line = {"key": key, "run": r["index"] + 1, "target": r.get("target"),
                    "target_window": " ".join(map(str, r.get("target_window") or [])) or None,
                    "miou": r["scores"]["miou"], "mean_f1": r["scores"]["mean_f1"],
                    "overall_accuracy": r["scores"]["overall_accuracy"]}
            line.update({f"iou_{c}": r["scores"]["per_class"][i]["iou"] for i, c in enumerate(proto.class_names)})
            line.update({k: r.get(k) for k in ("translator_parameters", "seconds_per_iteration",
                                                "segmenter_seconds_per_iteration", "seconds")})
            per_run.append(line)
    tb.write_csv(os.path.join(out, "results.csv"), rows)
    tb.write_csv(os.path.join(out, "runs.csv"), per_run)
    tb.bar_chart(os.path.join(out, "miou.png"), rows, "mIoU on the target test tiles "
                 "(error bars: one standard deviation over the one-shot patches)")
    with open(os.path.join(out, "split.json"), "w", encoding="utf-8") as f:
        json.dump(proto.split, f, indent=1)
    sizes = "; ".join(f"{d}: " + ", ".join(f"{len(proto.split[d][k])} {k}" for k in pdata.SPLITS)
                      for d in ("source", "target"))
    text = ["# Experiment protocol results\n",
            f"Data: `{os.path.abspath(args.data)}` ({sizes} tiles; split: "
            f"{args.split or f'70/15/15 convention, seed {args.split_seed}'}).",
            f"Preset `{args.preset}`: {s.patch_size}px patches, batch {s.batch_size}, U-Net {s.encoder}, "
            f"translator {s.translator_iterations or '-'} iterations (max {s.translator_epochs} epochs), "
            f"segmenter {s.segmenter_iterations or '-'} iterations (max {s.segmenter_epochs} epochs), "
            f"patience {s.patience}, seed {s.seed}, device `{s.device}`; {args.jobs} job(s) side by side.",
            f"One-shot patches: N = {args.patches} for {', '.join(sorted(proto.repeat & set(proto.methods))) or '-'}"
            f" (others: the first patch). Host: {platform.node()}, {os.cpu_count()} CPU(s). "
            f"Total time {ex.clock(proto.t0)} (mm:ss).\n",
            "Scores in percent on the target test tiles (mean ± standard deviation over runs); "
            "s/iter = the translator's seconds per training iteration.\n",
            tb.markdown_table(rows, proto.class_names)]
    if failures:
        text += ["\nFailed runs:\n"] + [f"- {f}" for f in failures]
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"settings": s.to_dict(), "arguments": vars(args), "split": proto.split,
                   "windows": proto.windows, "rows": rows, "runs": per_run, "failures": failures}, f, indent=1)
    return failures


def raise_file_limit():
    """Thousands of tiles are opened at once when training on a whole data set."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def main(argv=None):
    args = parse_args(argv)
    try:
        raise_file_limit()
    except (ValueError, OSError):
        pass
    try:
        proto = Protocol(args)
    except pdata.DataError as exc:
        print(f"protocol: {exc}", file=sys.stderr)
        return 2
    os.makedirs(proto.out, exist_ok=True)
    results = proto.execute()
    rows, runs = proto.rows(results)
    failures = write_outputs(proto, results, rows, runs)
    print("\n" + tb.markdown_table(rows, proto.class_names))
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    print(f"Results: {os.path.join(proto.out, 'results.md')} (.csv, runs.csv, miou.png)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
