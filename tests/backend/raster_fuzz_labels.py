"""Fuzz cases for label rasters: evaluate (a prediction against reference labels, on the
same grid or not, in any data type) and convert-labels (colours <-> class indices)."""

import csv
import os

import numpy as np

from raster_fuzz import choose, random_spec, write_spec
from raster_fuzz_checks import attempt, check_grid, expect, read_bands
from raster_fuzz_kinds import case_folder
from raster_fuzz_training import RELATIONS, grids_match, label_spec, label_values
from segmenter_rasters import THREE_CLASSES, run_command

COLORS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]])
COLOR_TYPES = ("Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64", "CInt16")
LABEL_SIZES = [(1, 1), (1, 9), (9, 1), (7, 5), (33, 31), (64, 64), (97, 70)]


def ignored(values, mask):
    """Pixels left out: nodata (``mask``) or the ignore value 255."""
    return mask | (values == 255)


def evaluate_case(folder, models, rng, index, cover=None):
    """Score a random prediction against random reference labels (index or colour)."""
    base = random_spec(rng, cover, sizes=LABEL_SIZES, bands=(1, 1), unreadable_share=0)
    relation = choose(rng, cover, "relation", RELATIONS, [4, 1, 1, 1, 1, 1, 1])
    pred_spec = label_spec(base, "same", rng, cover)
    ref_spec = label_spec(pred_spec, relation, rng, cover)
    colour = choose(rng, cover, "LABEL_FORMAT", ["index", "color"], [2, 1]) == "color"
    if colour:
        ref_spec.dtype = choose(rng, cover, "colour dtype", COLOR_TYPES, [8, 2, 2, 2, 2, 2, 1, 1])
        ref_spec.bands = int(choose(rng, cover, "colour bands", [1, 3, 4], [1, 3, 1]))
    case_dir = case_folder(folder, "evaluate", index)
    prediction, pred_values, pred_mask = write_spec(os.path.join(case_dir, "prediction.tif"),
                                                    pred_spec, label_values(pred_spec, rng))
    ref_index = label_values(ref_spec, rng)
    ref_raw = COLORS[np.clip(ref_index[0], 0, 2)].transpose(2, 0, 1) if colour else ref_index
    if colour:
        ref_raw = np.concatenate([ref_raw, np.full((ref_spec.bands,) + ref_raw.shape[1:], 7)])
        ref_raw = ref_raw[:ref_spec.bands]
    reference, ref_values, ref_mask = write_spec(os.path.join(case_dir, "reference.tif"),
                                                 ref_spec, ref_raw, exact=colour)
    table = os.path.join(case_dir, "scores.csv")
    args = ["--prediction", prediction, "--reference", reference, "--classes", THREE_CLASSES,
            "--label-format", "color" if colour else "index", "--output-table", table]

    same_grid = grids_match(pred_spec, ref_spec)
    if same_grid and not colour:
        ref_ignored = ignored(ref_values[0], ref_mask)
    elif same_grid:
        ref_ignored = ref_mask.copy()
    scored = None
    if same_grid:
        scored = ~ref_ignored & ~ignored(pred_values[0], pred_mask)
    refuse = (not (pred_spec.readable and ref_spec.readable) or not same_grid
              or (colour and ref_spec.bands < 3) or not scored.any())
    # colour labels: the "ignored" index pixels were written as class colours
    expected = "refuse" if refuse else "work"

    def check(result):
        scores = result[0]
        expect(scores["pixels"] == int(scored.sum()),
               f"{scores['pixels']} pixels scored, {int(scored.sum())} are valid in both")
        truth = ref_values[0] if not colour else np.clip(ref_index[0], 0, 2)
        agree = float((truth[scored] == pred_values[0][scored]).mean()) * 100
        expect(abs(scores["overall_accuracy"] - agree) < 1e-6,
               f"overall accuracy {scores['overall_accuracy']}, expected {agree}")
        with open(table, newline="", encoding="utf-8") as f:
            expect(len(list(csv.reader(f))) == 3 + 2 + 1, "the CSV table lacks rows")

    label = (f"{'color' if colour else 'index'} reference {relation} {ref_spec.label()} | "
             f"prediction {pred_spec.label()}")
    return attempt("evaluate", label, lambda: run_command("evaluate", *args), check, [table],
                   expected)


def convert_labels_case(folder, models, rng, index, cover=None):
    """Convert random colour labels to class indices, or class indices to colours."""
    to_index = choose(rng, cover, "DIRECTION", ["to-index", "to-color"]) == "to-index"
    if to_index:
        spec = random_spec(rng, cover, dtypes=COLOR_TYPES, sizes=LABEL_SIZES, bands=(1, 5),
                           unreadable_share=0.05)
    else:
        spec = label_spec(random_spec(rng, cover, sizes=LABEL_SIZES, bands=(1, 1)), "same",
                          rng, cover)
    case_dir = case_folder(folder, "convert-labels", index)
    index_values = label_values(spec, rng)
    raw = index_values
    if to_index:
        raw = COLORS[np.clip(index_values[0], 0, 2)].transpose(2, 0, 1)
        raw = np.concatenate([raw, np.full((spec.bands,) + raw.shape[1:], 9)])[:spec.bands]
    path, values, mask = write_spec(os.path.join(case_dir, "labels.tif"), spec, raw,
                                    exact=to_index)
    output = os.path.join(case_dir, "converted.tif")
    args = ["--input", path, "--direction", "to-index" if to_index else "to-color",
            "--classes", THREE_CLASSES, "--output", output]
    refuse = not spec.readable or (to_index and spec.bands < 3)
    expected = "refuse" if refuse else "work"

    def check(_):
        out = check_grid(output, path)
        data = read_bands(out)
        expect(data.dtype == np.uint8, f"output is {data.dtype}")
        nodata = out.GetRasterBand(1).GetNoDataValue()
        if to_index:
            expect(data.shape[0] == 1 and nodata == 255, f"{data.shape[0]} bands, nodata {nodata}")
            want = np.where(mask, 255, np.clip(index_values[0], 0, 2))
            expect((data[0] == want).all(), f"{int((data[0] != want).sum())} pixel(s) converted "
                                            f"to the wrong class")
        else:
            expect(data.shape[0] == 3, f"{data.shape[0]} bands")
            classes = np.where(mask, 255, values[0]).astype(np.int64)
            skip = ignored(classes, mask)
            want = COLORS[np.clip(classes, 0, 2)].transpose(2, 0, 1)
            expect((data[:, ~skip] == want[:, ~skip]).all(), "wrong colours")
            expect((data[:, skip] == nodata).all(), "ignored pixels are not nodata")

    return attempt("convert-labels", f"{'to-index' if to_index else 'to-color'} {spec.label()}",
                   lambda: run_command("convert-labels", *args), check, [output], expected)
