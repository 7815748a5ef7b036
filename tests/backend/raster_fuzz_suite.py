"""Runs the raster fuzz's kinds of case and summarises the outcomes (shared by
tests/backend/test_raster_fuzz.py and benchmarks/fuzz_rasters.py)."""

import collections
import re

import numpy as np

from raster_fuzz import Cover
from raster_fuzz_checks import FAILED, REFUSED
from raster_fuzz_kinds import classify_case, translate_case
from raster_fuzz_labels import convert_labels_case, evaluate_case
from raster_fuzz_training import train_segmenter_case, train_translator_case

KINDS = {
    "translate": translate_case,
    "classify": classify_case,
    "train-translator": train_translator_case,
    "train-segmenter": train_segmenter_case,
    "evaluate": evaluate_case,
    "convert-labels": convert_labels_case,
}


def run_cases(kind, count, folder, models, seed=0, on_outcome=None):
    """``count`` cases of ``kind`` (seeded). Returns (outcomes, Cover with what was drawn)."""
    rng = np.random.default_rng([seed, list(KINDS).index(kind)])
    cover = Cover(rng)
    outcomes = []
    for index in range(count):
        outcome = KINDS[kind](folder, models, rng, index, cover)
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes, cover


def tally(outcomes):
    """{kind: Counter(outcome)}."""
    counts = collections.defaultdict(collections.Counter)
    for o in outcomes:
        counts[o.kind][o.outcome] += 1
    return counts


def failures(outcomes):
    return [o for o in outcomes if o.outcome == FAILED]


def describe_failures(outcomes):
    return "\n\n".join(f"[{o.kind}] {o.case}\n  {o.detail}" for o in failures(outcomes))


def coverage_lines(cover):
    """One line per dimension drawn: how often each value was drawn. (Label rasters draw
    their own "label dtype", "label nodata" and "label coverage"; the generic ones are then
    those of the raster they are laid on.)"""
    lines = []
    for name in dict.fromkeys(d for d, _ in cover.counts):
        values = sorted(((str(v), n) for (d, v), n in cover.counts.items() if d == name))
        if values:
            lines.append(f"  {name}: " + ", ".join(f"{v} {n}" for v, n in values))
    return lines


def refusal_reasons(outcomes, top=8):
    """The most frequent refusal messages, paths and numbers replaced: [(count, text)]."""
    counts = collections.Counter()
    for o in outcomes:
        if o.outcome == REFUSED:
            text = re.sub(r"\d+", "N", re.sub(r"\S*[/\\]\S*", "PATH", o.detail))
            counts[text[:120]] += 1
    return [(n, text) for text, n in counts.most_common(top)]
