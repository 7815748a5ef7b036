"""The demo's driver: lrm:adapt (quick preset, CPU) through qgis_process, the baselines, a table
and an HTML report. Run by scripts/demo.sh after the sample data exist:

    .venv/bin/python scripts/demo.py --data out/demo/data --out out/demo

Fair split (same for every row): the target tiles are cut in two halves by name. The
FIRST half are the target's "training" tiles: the upper baseline is trained on their
labels, and the one-shot sample is taken from the first of them (by the shared automatic
window rule, so every one-shot method gets the same patch). The SECOND half is the
evaluation set: every row is scored on exactly these tiles, with the confusion matrices
of all tiles summed. Every row trains its segmenter with the quick preset's settings
(encoder, patch size, batch, iterations, seed); only the training images differ.

Two jobs run side by side (one thread each on two cores): lrm:adapt in one lane, the
baselines and the cheap translation methods (histogram matching, FDA) in the other. The
optional rows start only when they are expected to end within --budget-minutes of the
demo's start; CycleGAN and ColorMapGAN are left to benchmarks/protocol.py (too slow for a
15-minute CPU demo).
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, ROOT)

import experiment as ex  # noqa: E402

QGIS_PROCESS = os.path.join(ROOT, "scripts", "qgis_process.sh")
TICK = re.compile(r"(?m)^\.*(\d{1,3})(?=[.A-Za-z]|$)")  # qgis_process's progress ticks
CHEAP_METHODS = ("histogram_matching", "fda")
NAMES = {"lower": "lower baseline (source only)", "lrm": "adapted: LRM (lrm:adapt)",
         "histogram_matching": "histogram matching", "fda": "FDA (beta 0.01)",
         "upper": "upper baseline (target labels)"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="sample data folder (create-sample-data output)")
    p.add_argument("--out", required=True, help="output folder (report.html, results.md/.csv, ...)")
    p.add_argument("--budget-minutes", type=float, default=14.0,
                   help="optional rows start only if expected to end within this many minutes "
                        "of --started-at (default 14)")
    p.add_argument("--started-at", type=float, default=None,
                   help="UNIX time the demo started (default: now)")
    p.add_argument("--all-methods", action="store_true",
                   help="run the optional rows (histogram matching, FDA) whatever the budget")
    p.add_argument("--jobs", type=int, default=2, help="jobs side by side (default 2)")
    for name in ("patch-size", "batch-size", "translator-iterations", "segmenter-iterations"):
        p.add_argument(f"--{name}", type=int, default=None,
                       help="override the quick preset (for a smoke test only; default: the preset)")
    return p.parse_args(argv)


def tiles(data, domain, sub):
    found = sorted(glob.glob(os.path.join(data, domain, sub, "tile_*.tif")))
    if not found:
        raise SystemExit(f"No {domain}/{sub}/tile_*.tif in {data}: create the sample data first.")
    return found


class Demo:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        self.start = args.started_at or time.time()
        self.mono0 = time.monotonic() - (time.time() - self.start)
        cores = os.cpu_count() or 2
        self.threads = max(1, cores // max(1, args.jobs))
        self.progress = {}
        self.running = set()
        self.finished = {}
        self.backend = ex.Backend(os.path.join(self.out, "logs"), threads=self.threads,
                                  on_progress=lambda label, v: self.progress.__setitem__(label, v))
        self.overrides = {k: getattr(args, k) for k in ("patch_size", "batch_size",
                                                        "translator_iterations", "segmenter_iterations")}
        self.s = ex.Settings.from_preset("quick", device="cpu", **self.overrides)
        data = os.path.abspath(args.data)
        self.src, self.src_labels = tiles(data, "source", "images"), tiles(data, "source", "labels")
        tgt, tgt_labels = tiles(data, "target", "images"), tiles(data, "target", "labels")
        half = max(1, len(tgt) // 2)
        if len(tgt) < 2:
            raise SystemExit("The demo needs at least 2 target tiles (one to train on, one to test).")
        self.tgt_train, self.tgt_train_labels = tgt[:half], tgt_labels[:half]
        self.tgt_test, self.tgt_test_labels = tgt[half:], tgt_labels[half:]
        self.one_shot = self.tgt_train[0]

    def log(self, message):
        print(f"[{ex.clock(self.mono0)}] {message}", flush=True)

    def elapsed(self):
        return time.time() - self.start

    # -- the rows ---------------------------------------------------------------------
    def timed(self, name, body):
        self.running.add(name)
        self.log(f"start: {NAMES[name]}")
        t0 = time.monotonic()
        try:
            run = body()
        except Exception as exc:
            self.log(f"FAILED: {NAMES[name]}: {exc}")
            raise
        finally:
            self.running.discard(name)
        run["seconds"] = time.monotonic() - t0
        self.log(f"done:  {NAMES[name]} in {run['seconds']:.0f} s, mIoU {run['scores']['miou']:.2f}%")
        return run

    def score(self, key, model):
        classified, scores = ex.score_tiles(self.backend, model, self.tgt_test, self.tgt_test_labels,
                                            os.path.join(self.out, key, "classified"), self.s,
                                            label=f"{key}_score")
        return {"scores": scores, "classified": classified, "model": model}

    def baseline(self, key, images, labels):
        def body():
            model = os.path.join(self.out, key, "segmenter.safetensors")
            ex.train_segmenter(self.backend, images, labels, model, self.s, label=f"{key}_segmenter")
            return self.score(key, model)
        return self.timed(key, body)

    def adapt(self):
        folder = os.path.join(self.out, "lrm")
        params = [f"SOURCE={p}" for p in self.src] + [f"SOURCE_LABELS={p}" for p in self.src_labels]
        params += [f"TARGET={self.one_shot}", "LABEL_FORMAT=0", "PRESET=1", "DEVICE=cpu",
                   f"SEED={self.s.seed}",
                   f"OUTPUT_TRANSLATOR={folder}/translator.safetensors",
                   f"OUTPUT_SEGMENTER={folder}/segmenter.safetensors",
                   f"OUTPUT_CLASSIFIED={folder}/one_shot_tile_classified.tif",
                   f"OUTPUT_TRANSLATED_FOLDER={folder}/translated"]
        params += [f"{k.upper()}={v}" for k, v in self.overrides.items() if v]

        def body():
            os.makedirs(folder, exist_ok=True)
            log_path = os.path.join(self.backend.log_dir, "adapt_qgis_process.log")
            answer = self.run_qgis_process("lrm", ["run", "lrm:adapt", "--", *params], log_path)
            results = answer["results"]
            run = self.score("lrm", results["OUTPUT_SEGMENTER"])
            run.update(self.translator_figures(answer, results["OUTPUT_TRANSLATOR"]))
            run["translated"] = sorted(glob.glob(os.path.join(results["OUTPUT_TRANSLATED_FOLDER"], "*.tif")))
            return run
        return self.timed("lrm", body)

    def run_qgis_process(self, name, argv, log_path):
        """Run qgis_process in text mode, relaying its progress bar ("0...10...20...") to
        the demo's ticker (its --json mode prints no progress); return {"results": {KEY:
        value}, "log": {"info": [lines]}} parsed from its text output."""
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen([QGIS_PROCESS, *argv], cwd=ROOT, env=self.backend.env,
                                    stdout=subprocess.PIPE, stderr=log)
            text = ""
            with proc.stdout:
                for chunk in iter(lambda: os.read(proc.stdout.fileno(), 4096), b""):
                    text += chunk.decode("utf-8", "replace")
                    # ticks ("0", ".", "10", ...) are printed without newlines, so each one ends
                    # up at the start of the next log line ("10epoch 5/1000: ...")
                    tail = text[-20000:]
                    if len(text) > len(tail):  # start at a line start, not mid-line
                        tail = tail[tail.find("\n") + 1:]
                    done = [int(v) for v in TICK.findall(tail) if int(v) <= 100]
                    if done:
                        self.progress[name] = float(done[-1])
            proc.wait()
            log.write(text)
        if proc.returncode != 0 or "Results" not in text:
            raise ex.ExperimentError(f"qgis_process {' '.join(argv[:2])} failed (code "
                                     f"{proc.returncode}); see {log_path}")
        head, _, tail = text.rpartition("Results")
        results = dict(line.split(":\t", 1) for line in tail.splitlines() if ":\t" in line)
        return {"results": {k.strip(): v.strip() for k, v in results.items()},
                "log": {"info": head.splitlines()}}

    @staticmethod
    def translator_figures(answer, translator):
        from models.storage.model_file import read_metadata

        meta = read_metadata(translator, "translator")
        figures = {"translator_parameters": meta.get("parameters"),
                   "vgg_weights": meta.get("training", {}).get("vgg_weights_used"),
                   "perceptual_loss": meta.get("perceptual_loss", "vgg19"),
                   "style_mixing": meta.get("style_mixing", "spatial"),
                   "diagnostics": meta.get("diagnostics"),
                   "target_window": meta.get("target", {}).get("window"), "seconds_per_iteration": None}
        for line in answer.get("log", {}).get("info", []):
            m = re.search(r"Translator: (\d+) parameters, ([0-9.eE+-]+) s/iteration", line)
            if m:
                figures["translator_parameters"] = int(m.group(1))
                figures["seconds_per_iteration"] = float(m.group(2))
        return figures

    def method(self, method):
        def body():
            folder = os.path.join(self.out, method)
            model = os.path.join(folder, "translator.safetensors")
            result = ex.train_translator(self.backend, method, self.src, self.one_shot, model, self.s,
                                         label=f"{method}_translator")
            translated = ex.translate_all(self.backend, model, self.src, os.path.join(folder, "translated"),
                                          self.s, label=f"{method}_translate")
            segmenter = os.path.join(folder, "segmenter.safetensors")
            ex.train_segmenter(self.backend, translated, self.src_labels, segmenter, self.s,
                               label=f"{method}_segmenter")
            run = self.score(method, segmenter)
            run.update(translator_parameters=result.get("parameters"),
                       seconds_per_iteration=result.get("seconds_per_iteration"),
                       target_window=result.get("target_window"), translated=translated)
            return run

        def guarded():
            if not self.args.all_methods:
                estimate = self.row_estimate()
                budget = 60 * self.args.budget_minutes
                if estimate is None or self.elapsed() + estimate > budget:
                    why = ("no finished row to estimate from" if estimate is None else
                           f"expected to end at {(self.elapsed() + estimate) / 60:.1f} min, after the "
                           f"{self.args.budget_minutes:g}-minute budget")
                    self.log(f"skip:  {NAMES[method]} ({why}; --all-methods runs it anyway)")
                    return {"skipped": why}
            return self.timed(method, body)
        return guarded

    def row_estimate(self):
        """Seconds a baseline row took (the longest finished one), plus 15 % for the translation."""
        done = [self.finished[k]["seconds"] for k in ("lower", "upper") if k in self.finished]
        return 1.15 * max(done) if done else None

    # -- the whole demo -----------------------------------------------------------------
    def run(self):
        s = self.s
        self.log(f"quick preset: {s.patch_size}px patches, batch {s.batch_size}, {s.encoder}, "
                 f"{s.translator_iterations} translator / {s.segmenter_iterations} segmenter iterations, "
                 f"seed {s.seed}, CPU; {self.args.jobs} jobs side by side, {self.threads} thread(s) each")
        self.log(f"target tiles for training/one-shot: {', '.join(map(os.path.basename, self.tgt_train))} "
                 f"(one-shot from {os.path.basename(self.one_shot)}); evaluation: "
                 f"{', '.join(map(os.path.basename, self.tgt_test))}")
        keys = ["lrm", "lower", "upper", *CHEAP_METHODS]
        bodies = {"lrm": self.adapt,
                  "lower": lambda: self.baseline("lower", self.src, self.src_labels),
                  "upper": lambda: self.baseline("upper", self.tgt_train, self.tgt_train_labels)}
        bodies.update({m: self.method(m) for m in CHEAP_METHODS})

        def task(key):
            def call():
                self.finished[key] = bodies[key]()
                return self.finished[key]
            return call
        ticker = threading.Thread(target=self.tick, daemon=True)
        ticker.start()
        outcomes = dict(zip(keys, ex.run_pool([task(k) for k in keys], self.args.jobs)))
        self.ticking = False
        return outcomes

    def tick(self):
        self.ticking = True
        while self.ticking:
            time.sleep(60)
            if self.ticking and self.running:
                parts = []
                for name in sorted(self.running):
                    p = [v for k, v in self.progress.items() if k.startswith(name)]
                    parts.append(NAMES[name] + (f" ({p[-1]:.0f}% of its current step)" if p else ""))
                self.log("running: " + "; ".join(parts))


def main(argv=None):
    args = parse_args(argv)
    demo = Demo(args)
    outcomes = demo.run()
    from demo_report import write_outputs  # noqa: E402  (scripts/demo_report.py)

    return write_outputs(demo, outcomes)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
