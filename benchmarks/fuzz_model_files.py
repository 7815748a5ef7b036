"""The model-file fuzz at length: many seeded mutations of real model files of every method.

    .venv/bin/python benchmarks/fuzz_model_files.py [--cases 50] [--seed 0]
        [--methods lrm,fda,...,segmenter] [--kinds truncate,metadata,...] [--keep DIR]

The same cases as tests/backend/test_model_file_fuzz.py (which runs a few of each):
``--cases`` of every mutation kind for every method's real model file (tiny real
trainings first, about 15 s), every targeted edit, and every hand-crafted hostile file
through every load path (translate, classify, export, and the CLI). Translator files are used with
``translate`` (every fifth case through the CLI); segmenter files in turn with
``classify``, ``export`` and the CLI's ``classify``. Prints, per mutation kind and per
method, how many cases were tried and how they ended (ok: still works, error: one clear
LrmError, fail), then every failure with its seed and case number; exit status 1 when
any case failed. See tests/backend/model_fuzz.py for what counts as a failure.
"""

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "backend")]
os.environ.setdefault("LRM_OFFLINE", "1")

import numpy as np  # noqa: E402

from model_fuzz import run_case  # noqa: E402
from model_fuzz_files import (SEGMENTER, TRANSLATORS, hostile_cases, real_model_files,  # noqa: E402
                              write_case)
from model_fuzz_mutations import KINDS, TARGETED, mutate, targeted  # noqa: E402

HOSTILE_TARGETS = ("translate", "classify", "export", "cli-translate", "cli-classify")


def target_for(name, index):
    if name == SEGMENTER:
        return ("classify", "export", "cli-classify")[index % 3]
    return "cli-translate" if index % 5 == 4 else "translate"


def mutation_cases(files, kinds, cases, seed):
    """(method, kind, index, rng seed) of every mutation case, in a fixed order."""
    every, all_kinds = TRANSLATORS + (SEGMENTER,), list(KINDS)
    for name in files:  # seeds by position in the full lists: the same case whatever is chosen
        for kind in kinds:
            for i in range(cases):
                yield name, kind, i, [seed, every.index(name), all_kinds.index(kind), i]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50, help="cases per mutation kind and method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(TRANSLATORS + (SEGMENTER,)))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--no-hostile", action="store_true", help="skip the hand-crafted files")
    parser.add_argument("--keep", default=None, help="work in this folder and keep it")
    parser.add_argument("--messages", action="store_true",
                        help="also print every distinct error message (numbers masked) once")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    folder = args.keep or tempfile.mkdtemp(prefix="fuzz_model_files_")
    os.makedirs(folder, exist_ok=True)
    started = time.perf_counter()
    rasters, files = real_model_files(folder, tuple(args.methods.split(",")))
    seg_input = os.path.join(folder, "segmenter_training", "train0_image.tif")
    print(f"real model files trained in {time.perf_counter() - started:.1f} s", flush=True)
    marker = os.path.join(folder, "PICKLE_PAYLOAD_RAN")
    counts = collections.defaultdict(collections.Counter)
    failures = []

    messages = collections.Counter()
    extremes = {"seconds": (0.0, ""), "memory": (0, "")}

    def record(groups, label, outcome):
        extremes["seconds"] = max(extremes["seconds"], (outcome.seconds, label))
        extremes["memory"] = max(extremes["memory"], (outcome.peak_bytes, label))
        for group in groups:
            counts[group][outcome.status] += 1
        if outcome.status == "error":
            messages[re.sub(r"\d+", "N", outcome.detail.replace(folder, "<dir>"))[:300]] += 1
        if outcome.status == "fail":
            failures.append(f"{label}: {outcome.detail}")
            print(f"FAIL {label}: {outcome.detail}", flush=True)

    blobs = {name: open(path, "rb").read() for name, path in files.items()}
    case_path = os.path.join(folder, "case.safetensors")
    out_dir = os.path.join(folder, "out")
    for name, kind, index, seeds in mutation_cases(files, args.kinds.split(","), args.cases,
                                                   args.seed):
        what, blob = mutate(kind, blobs[name], np.random.default_rng(seeds))
        write_case(case_path, blob)
        target = target_for(name, index)
        shutil.rmtree(out_dir, ignore_errors=True)
        source = seg_input if name == SEGMENTER else rasters["input"]
        outcome = run_case(target, case_path, source, out_dir)
        label = f"{name} {kind} #{index} (seed {seeds}, {target}): {what}"
        record([f"kind {kind}", f"method {name}"], label, outcome)
    for label, name, edit in TARGETED:
        if name not in files:
            continue
        write_case(case_path, targeted(blobs[name], edit))
        for target in (("classify", "export", "cli-classify") if name == SEGMENTER
                       else ("translate", "cli-translate")):
            shutil.rmtree(out_dir, ignore_errors=True)
            source = seg_input if name == SEGMENTER else rasters["input"]
            outcome = run_case(target, case_path, source, out_dir)
            record(["targeted edits"], f"targeted {label!r} ({target})", outcome)
    if not args.no_hostile and "lrm" not in files:
        print("hostile files skipped: some are built from the LRM file (add lrm to --methods)")
    elif not args.no_hostile:
        hostile_dir = os.path.join(folder, "hostile")
        for name, content in hostile_cases(folder, files, marker, tensor_count=200_000):
            for target in HOSTILE_TARGETS:
                shutil.rmtree(hostile_dir, ignore_errors=True)
                os.makedirs(hostile_dir)
                path = os.path.join(hostile_dir, "model.safetensors")
                write_case(path, content)
                shutil.rmtree(out_dir, ignore_errors=True)
                source = seg_input if "classify" in target else rasters["input"]
                outcome = run_case(target, path, source, out_dir, marker=marker)
                record(["hostile files"], f"hostile {name!r} ({target})", outcome)
    seconds = time.perf_counter() - started
    if args.messages:
        print(f"\n{len(messages)} distinct error messages (count: message):")
        for message, count in messages.most_common():
            print(f"{count:6}: {message}")
    print(f"\n{'group':<28} {'tried':>6} {'ok':>6} {'error':>6} {'fail':>6}")
    for group in sorted(counts):
        c = counts[group]
        print(f"{group:<28} {sum(c.values()):>6} {c['ok']:>6} {c['error']:>6} {c['fail']:>6}")
    tried = sum(sum(c.values()) for g, c in counts.items() if not g.startswith("method"))
    (slow, slow_label), (peak, peak_label) = extremes["seconds"], extremes["memory"]
    print(f"\n{tried} cases, {len(failures)} failure(s), {seconds:.0f} s in all\nslowest case "
          f"{slow:.2f} s: {slow_label}\nlargest peak memory +{peak / 2**20:.0f} MiB: "
          f"{peak_label[:200]}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
