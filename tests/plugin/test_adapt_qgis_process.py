"""lrm:adapt and the shipped graphical model, end to end through qgis_process (tiny sizes)."""

import json
import os
import struct
import subprocess

import pytest
from osgeo import gdal

from conftest import ROOT, VENV_PYTHON

WRAPPER = os.path.join(ROOT, "scripts", "qgis_process.sh")
MODEL3 = os.path.join(ROOT, "resources", "models", "lrm_pipeline.model3")


def qgis_process_json(*args, timeout=900):
    proc = subprocess.run([WRAPPER, "--json", *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])


@pytest.fixture(scope="module")
def tiny_sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adapt_sample")
    proc = subprocess.run([VENV_PYTHON, "-m", "models", "create-sample-data", "--output-folder", str(folder),
                           "--tiles", "2", "--size", "64", "--seed", "5"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    def files(sub):
        return sorted(os.path.join(folder, sub, f) for f in os.listdir(os.path.join(folder, sub))
                      if f.endswith(".tif"))

    return {"source": files("source/images"), "labels": files("source/labels"),
            "target": files("target/images"), "reference": files("target/labels")}


def model_metadata(path):
    """The LRM metadata of a .safetensors model file (read from its header, no torch)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return json.loads(header["__metadata__"]["lrm"])


def same_grid(a, b):
    da, db = gdal.Open(a), gdal.Open(b)
    return ((da.RasterXSize, da.RasterYSize, da.GetGeoTransform(), da.GetProjection())
            == (db.RasterXSize, db.RasterYSize, db.GetGeoTransform(), db.GetProjection()))


@pytest.mark.slow
def test_adapt_end_to_end(tiny_sample, tmp_path):
    out = tmp_path / "adapt"
    params = [f"SOURCE={p}" for p in tiny_sample["source"]] + [f"SOURCE_LABELS={p}" for p in tiny_sample["labels"]]
    params += [f"TARGET={tiny_sample['target'][0]}", f"TARGET_REFERENCE={tiny_sample['reference'][0]}",
               "PRESET=1", "PATCH_SIZE=32", "BATCH_SIZE=2", "TRANSLATOR_ITERATIONS=2",
               "SEGMENTER_ITERATIONS=2", "DEVICE=cpu",
               # reach the translator: spatial is not weight_free's default, 0 not ONE_SHOT_SIZE's
               "PERCEPTUAL_LOSS=2", "STYLE_MIXING=0", "ONE_SHOT_SIZE=0",
               f"OUTPUT_TRANSLATOR={out}/translator.safetensors", f"OUTPUT_SEGMENTER={out}/segmenter.safetensors",
               f"OUTPUT_CLASSIFIED={out}/classified.tif", f"OUTPUT_TRANSLATED_FOLDER={out}/translated",
               f"OUTPUT_HTML={out}/report.html"]
    results = qgis_process_json("run", "lrm:adapt", "--", *params)["results"]
    for key in ("OUTPUT_TRANSLATOR", "OUTPUT_SEGMENTER", "OUTPUT_CLASSIFIED", "OUTPUT_HTML"):
        assert os.path.isfile(results[key]), key
    assert same_grid(results["OUTPUT_CLASSIFIED"], tiny_sample["target"][0])
    translated = sorted(os.listdir(results["OUTPUT_TRANSLATED_FOLDER"]))
    assert len([t for t in translated if t.endswith(".tif")]) == len(tiny_sample["source"])
    for name in translated:
        if name.endswith(".tif"):
            src = [s for s in tiny_sample["source"] if os.path.splitext(os.path.basename(s))[0] in name][0]
            assert same_grid(os.path.join(results["OUTPUT_TRANSLATED_FOLDER"], name), src)
    # the scores lrm:adapt reports are lrm:evaluate's on its own outputs
    scored = qgis_process_json("run", "lrm:evaluate", "--", f"PREDICTION={results['OUTPUT_CLASSIFIED']}",
                               f"REFERENCE={tiny_sample['reference'][0]}", "LABEL_FORMAT=0")["results"]
    for key in ("MIOU", "MEAN_F1", "OVERALL_ACCURACY"):
        assert 0 <= results[key] <= 100
        assert results[key] == pytest.approx(scored[key], abs=1e-9), key
    assert results["PERCEPTUAL_LOSS_USED"] == "weight_free"
    # the children's training reports sit next to the models and the evaluation links them
    report = open(results["OUTPUT_HTML"], encoding="utf-8").read()
    for model in ("translator", "segmenter"):
        path = out / f"{model}_report.html"
        assert path.is_file() and "data:image/png;base64," in path.read_text(), model
        assert f"{model}_report.html</a>" in report
    meta = model_metadata(results["OUTPUT_TRANSLATOR"])
    assert (meta["perceptual_loss"], meta["style_mixing"], meta["one_shot_size"]) == ("weight_free", "spatial", 32)


def pipeline_model_params(sample, folder, iterations, *extra):
    """qgis_process arguments of the shipped graphical model on the tiny sample."""
    return [f"SOURCE={sample['source'][0]}", f"SOURCE_LABELS={sample['labels'][0]}",
            f"TARGET={sample['target'][0]}", f"TARGET_REFERENCE={sample['reference'][0]}",
            "LABEL_FORMAT=0", "PATCH_SIZE=32", "BATCH_SIZE=2", f"TRANSLATOR_ITERATIONS={iterations}",
            f"SEGMENTER_ITERATIONS={iterations}", "ENCODER=resnet18", "DEVICE=cpu", *extra,
            f"classify:CLASSIFIED={folder}/classified.tif",
            f"evaluate:EVALUATION_HTML={folder}/evaluation.html",
            f"evaluate:EVALUATION_TABLE={folder}/evaluation.csv",
            f"train_translator:TRANSLATOR_MODEL={folder}/translator.safetensors",
            f"train_segmenter:SEGMENTER_MODEL={folder}/segmenter.safetensors",
            f"translate:TRANSLATED_SOURCE={folder}/translated.tif"]


@pytest.mark.slow
def test_shipped_graphical_model_runs(tiny_sample, tmp_path):
    qgis_process_json("run", MODEL3, "--", *pipeline_model_params(tiny_sample, tmp_path, 2))
    assert same_grid(str(tmp_path / "classified.tif"), tiny_sample["target"][0])
    assert os.path.getsize(tmp_path / "evaluation.html") > 500
    assert "building" in (tmp_path / "evaluation.csv").read_text()


@pytest.mark.slow
def test_adapt_with_benjdira_classifies_the_target_translated_towards_the_source(tiny_sample, tmp_path):
    # METHOD 6: the segmenter learns the untranslated SOURCE; the TARGET is translated
    # towards the source look before it is classified (Benjdira et al. 2019).
    out = tmp_path / "benjdira"
    params = [f"SOURCE={p}" for p in tiny_sample["source"]] + [f"SOURCE_LABELS={p}" for p in tiny_sample["labels"]]
    params += [f"TARGET={tiny_sample['target'][0]}", "PRESET=1", "PATCH_SIZE=32", "BATCH_SIZE=2",
               "TRANSLATOR_ITERATIONS=1", "SEGMENTER_ITERATIONS=1", "DEVICE=cpu", "METHOD=6",
               f"OUTPUT_TRANSLATOR={out}/translator.safetensors", f"OUTPUT_SEGMENTER={out}/segmenter.safetensors",
               f"OUTPUT_CLASSIFIED={out}/classified.tif", f"OUTPUT_TRANSLATED_FOLDER={out}/translated"]
    results = qgis_process_json("run", "lrm:adapt", "--", *params)["results"]
    meta = model_metadata(results["OUTPUT_TRANSLATOR"])
    assert (meta["method"], meta["direction"]) == ("benjdira", "target_to_source")
    translated = [f for f in os.listdir(results["OUTPUT_TRANSLATED_FOLDER"]) if f.endswith(".tif")]
    assert translated == ["target_translated.tif"]
    assert same_grid(os.path.join(results["OUTPUT_TRANSLATED_FOLDER"], translated[0]), tiny_sample["target"][0])
    trained_on = model_metadata(results["OUTPUT_SEGMENTER"])["training"]["images"]
    assert sorted(map(os.path.abspath, trained_on)) == sorted(map(os.path.abspath, tiny_sample["source"]))
    assert same_grid(results["OUTPUT_CLASSIFIED"], tiny_sample["target"][0])
    assert results["PERCEPTUAL_LOSS_USED"] in ("", None)


@pytest.mark.slow
def test_shipped_graphical_model_applies_benjdira_towards_the_source(tiny_sample, tmp_path):
    # the model's one chain picks by METHOD which image is translated, trained on and
    # classified: for benjdira the TARGET is translated and the segmenter learns the SOURCE
    qgis_process_json("run", MODEL3, "--", *pipeline_model_params(tiny_sample, tmp_path, 1, "METHOD=6"))
    assert model_metadata(str(tmp_path / "translator.safetensors"))["direction"] == "target_to_source"
    assert same_grid(str(tmp_path / "translated.tif"), tiny_sample["target"][0])
    trained_on = model_metadata(str(tmp_path / "segmenter.safetensors"))["training"]["images"]
    assert list(map(os.path.abspath, trained_on)) == [os.path.abspath(tiny_sample["source"][0])]
    assert same_grid(str(tmp_path / "classified.tif"), tiny_sample["target"][0])
