"""Damaged, edited and hostile model files: each still works or ends in one clear error.

Real model files of every translation method and of the segmenter (tiny real trainings,
once for the module) are truncated, bit-flipped and edited (safetensors header, our
metadata, the tensors) by seeded mutations, a few cases of every kind here (the
benchmark benchmarks/fuzz_model_files.py runs many more); targeted edits aim at single
checks; hand-made hostile files (pickles, zips, huge or deeply nested headers, ...) go
through every load path. tests/backend/model_fuzz.py says how a case is judged: in
short, a working model with complete outputs, or one LrmError naming the file with
nothing written, within 10 s and 1.5 GiB, and nothing executed.

A failing mutation case prints its seeds [SEED, file, kind, case]; the benchmark with
``--seed 20240515`` makes the same cases (and more of them).
"""

import os
import pickle
import shutil

import numpy as np
import pytest

pytest.importorskip("resource", reason="the fuzz caps each case's memory with POSIX rlimits")

from model_fuzz import run_case  # noqa: E402
from model_fuzz_files import (SEGMENTER, TRANSLATORS, hostile_cases, real_model_files,  # noqa: E402
                              write_case)
from model_fuzz_mutations import KINDS, TARGETED, mutate, targeted  # noqa: E402
from translation_rasters import one_torch_thread  # noqa: E402,F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SEED = 20240515
CASES_PER_KIND = 2  # per mutation kind and model file: 6 kinds x 8 files x 2 = 96 cases
FILES = TRANSLATORS + (SEGMENTER,)


@pytest.fixture(scope="module")
def real(tmp_path_factory, one_torch_thread):  # noqa: F811
    folder = str(tmp_path_factory.mktemp("model_fuzz"))
    rasters, files = real_model_files(folder)
    rasters["segmenter_input"] = os.path.join(folder, "segmenter_training", "train0_image.tif")
    blobs = {name: open(path, "rb").read() for name, path in files.items()}
    return {"folder": folder, "rasters": rasters, "files": files, "blobs": blobs}


def judge(real, blob, target, label, marker=None):
    """Write ``blob`` as a model file, use it with ``target``, return the outcome."""
    folder = os.path.join(real["folder"], "case")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    path = os.path.join(folder, "model.safetensors")
    write_case(path, blob)
    raster = real["rasters"]["segmenter_input" if "classify" in target else "input"]
    outcome = run_case(target, path, raster, os.path.join(folder, "out"), marker=marker)
    return outcome, f"{label} ({target}): {outcome.detail}"


def default_target(name):
    return "classify" if name == SEGMENTER else "translate"


@pytest.mark.parametrize("name", FILES)
def test_real_files_work(real, name):
    # the judge's "ok" path, and proof that the checks added for damaged files refuse
    # nothing that training writes
    targets = ("classify", "export", "cli-classify") if name == SEGMENTER else \
        ("translate", "cli-translate")
    for target in targets:
        outcome, label = judge(real, real["blobs"][name], target, name)
        assert outcome.status == "ok", label


@pytest.mark.parametrize("name", FILES)
def test_seeded_mutations(real, name):
    failures, seen = [], set()
    for k, kind in enumerate(KINDS):
        for i in range(CASES_PER_KIND):
            seeds = [SEED, FILES.index(name), k, i]
            what, blob = mutate(kind, real["blobs"][name], np.random.default_rng(seeds))
            target = default_target(name)
            if name == SEGMENTER and i == 1:
                target = "export"
            outcome, label = judge(real, blob, target, f"{kind} {seeds}: {what}")
            seen.add(outcome.status)
            if outcome.status == "fail":
                failures.append(label)
    assert not failures, "\n".join(failures)
    assert "error" in seen  # the mutations do damage files


@pytest.mark.parametrize("case", TARGETED, ids=[c[0] for c in TARGETED])
def test_targeted_edits(real, case):
    label, name, edit = case
    blob = targeted(real["blobs"][name], edit)
    targets = ("classify", "export") if name == SEGMENTER else ("translate",)
    for target in targets:
        outcome, message = judge(real, blob, target, label)
        assert outcome.status != "fail", message
        if label != "segmenter training images not paths":
            assert outcome.status == "error", message


def test_hostile_files(real):
    marker = os.path.join(real["folder"], "PAYLOAD_RAN")
    cases = hostile_cases(os.path.join(real["folder"], "hostile_src"), real["files"], marker)
    failures, tried = [], 0
    for label, content in cases:
        targets = ["translate"] if " MB " in label or "tensors" in label else \
            ["translate", "classify"]  # the big ones cost seconds: once is enough here
        if "pickle" in label or label in ("zip file", "directory", "empty file"):
            targets += ["export", "cli-translate", "cli-classify"]
        for target in targets:
            outcome, message = judge(real, content, target, label, marker=marker)
            tried += 1
            if outcome.status == "fail" or (outcome.status == "ok" and "valid otherwise"
                                            not in label):
                failures.append(message)
    assert not failures, "\n".join(failures)
    assert tried >= 2 * len(cases)


def test_pickles_are_never_unpickled(real, tmp_path):
    marker = str(tmp_path / "PAYLOAD_RAN")
    payloads = [(label, content) for label, content in hostile_cases(
        str(tmp_path), real["files"], marker, big_header_mb=1) if "pickle" in label]
    assert len(payloads) == 3
    # the payload is live: unpickling the raw pickle does create the marker
    pickle.loads(payloads[0][1])
    assert os.path.exists(marker)
    os.remove(marker)
    for label, content in payloads:
        for target in ("translate", "classify", "export"):
            outcome, message = judge(real, content, target, label, marker=marker)
            assert outcome.status == "error", message
            assert "pickle" in outcome.detail or "zip" in outcome.detail, message
            assert not os.path.exists(marker), message
