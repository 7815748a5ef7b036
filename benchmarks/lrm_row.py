"""The demo's LRM row alone (quick preset, CPU): translator, translate, segmenter, score.

    .venv/bin/python benchmarks/lrm_row.py DATA OUT [SEED [TRANSLATOR_ITERATIONS]]

DATA is a create-sample-data folder; the split is the demo's (one-shot = first target
tile, scored on the second half of the target tiles). One thread per run (as in the demo,
where two jobs share two cores), so a run is repeatable: the same code, data and thread
count give the same figures (torch's CPU kernels are deterministic at a fixed thread
count; changing it changes reduction order and so the result). Prints one JSON line.
Used to screen translator variants (benchmarks/RESULTS_protocol.md); TRANSLATOR_ITERATIONS
(default: the quick preset's) screens longer or shorter translator training.
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import experiment as ex  # noqa: E402


def main(data, out, seed=0, translator_iterations=None):
    def tiles(domain, kind):
        return sorted(glob.glob(f"{data}/{domain}/{kind}/tile_*.tif"))

    src, src_labels = tiles("source", "images"), tiles("source", "labels")
    tgt, tgt_labels = tiles("target", "images"), tiles("target", "labels")
    half = len(tgt) // 2
    settings = ex.Settings.from_preset("quick", device="cpu")
    settings.seed = int(seed)  # translator and segmenter seed (the demo uses 0)
    if translator_iterations:
        settings.translator_iterations = int(translator_iterations)
    backend = ex.Backend(os.path.join(out, "logs"), threads=1)
    model = os.path.join(out, "translator.safetensors")
    ex.train_translator(backend, "lrm", src, tgt[0], model, settings)
    translated = ex.translate_all(backend, model, src, os.path.join(out, "translated"), settings)
    segmenter = os.path.join(out, "segmenter.safetensors")
    ex.train_segmenter(backend, translated, src_labels, segmenter, settings)
    _, scores = ex.score_tiles(backend, segmenter, tgt[half:], tgt_labels[half:],
                               os.path.join(out, "classified"), settings)
    print(json.dumps({"out": out, "miou": scores["miou"], "oa": scores.get("overall_accuracy")}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
