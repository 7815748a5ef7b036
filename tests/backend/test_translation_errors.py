"""Bad input to train-translator and translate: one clear LrmError each, nothing
half-written left behind."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from models.errors import LrmError
from models.storage.model_file import save_model
from models.raster.io import partial_path
from models.runtime.reporting import Reporter
from models.translation.apply import translate_raster
from models.translation.sampling import check_inputs
from models.translation.scaling import InputScaling
from models.translation.methods.lrm import method as lrm
from models.translation.methods.lrm.network import Generator
from models.translation.methods.lrm.save import save_translator
from translation_rasters import (GEOTRANSFORM, ROOT, one_torch_thread, texture,  # noqa: F401
                                 tiny_config, write_raster)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def pixel_extent(x0, y0, x1, y1):
    """Map coordinates of a pixel rectangle of rasters written with GEOTRANSFORM."""
    ox, px, _, oy, _, py = GEOTRANSFORM
    return f"{ox + x0 * px},{oy + y1 * py},{ox + x1 * px},{oy + y0 * py}"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("translation_errors")
    rng = np.random.default_rng(0)
    paths = {"folder": folder}
    for name, bands, size in (("source", 3, 96), ("target", 3, 64), ("source4", 4, 96),
                              ("target4", 4, 64), ("small", 3, 40)):
        paths[name] = write_raster(folder / f"{name}.tif",
                                   texture(rng, (100,) * bands, (20,) * bands, (bands, size, size)))
    empty = np.zeros((3, 64, 64), np.uint8)
    paths["empty"] = write_raster(folder / "empty.tif", empty, nodata=0)
    half = texture(rng, (100,) * 3, (20,) * 3, (3, 64, 64))
    half[half == 0] = 1
    half[:, :, :32] = 0
    paths["half"] = write_raster(folder / "half.tif", half, nodata=0)
    paths["text"] = str(folder / "notes.tif")
    with open(paths["text"], "w") as f:
        f.write("this is not a raster\n")
    return paths


def training_error(data, **kw):
    values = dict(source=data["source"], target=data["target"])
    values.update(kw)
    output = data["folder"] / "never.safetensors"
    config = tiny_config(values.pop("source"), values.pop("target"), output, **values)
    with pytest.raises(LrmError) as error:
        lrm.train(config, Reporter())
    assert not os.path.exists(output)
    return str(error.value)


def test_source_with_another_band_count_than_target(data):
    message = training_error(data, source=data["source4"])
    assert "has 4 band(s) but TARGET" in message and "BANDS" in message
    # with explicit BANDS present everywhere it is accepted
    bands, _, _ = check_inputs([data["source4"]], data["target"], "1,2,3", 32)
    assert bands == [1, 2, 3]


def test_source_missing_a_selected_band(data):
    message = training_error(data, target=data["target4"], bands="1,2,4")
    assert "lacks the selected band(s) [4]" in message


def test_bands_that_target_does_not_have(data):
    assert "do not exist" in training_error(data, bands="1,5")


def test_target_smaller_than_patch_size_says_what_fits(data):
    message = training_error(data, target=data["small"], patch_size=64)
    assert "40x40" in message and "PATCH_SIZE to at most 40" in message


def test_source_smaller_than_patch_size(data):
    message = training_error(data, source=data["small"], patch_size=64)
    assert "SOURCE" in message and "at most 40" in message


def test_extent_smaller_than_patch_size_says_what_fits(data):
    message = training_error(data, target_extent=pixel_extent(10, 10, 50, 54), patch_size=64)
    assert "TARGET_EXTENT" in message and "40x44" in message and "at most 40" in message
    message = training_error(data, target_extent=pixel_extent(10, 10, 30, 34))
    assert "20x24" in message and "no PATCH_SIZE fits" in message


def test_extent_outside_the_layer(data):
    message = training_error(data, target_extent="0,0,100,100")
    assert "lies outside TARGET" in message


def test_malformed_extent(data):
    assert "xmin,ymin,xmax,ymax" in training_error(data, target_extent="1,2,3")


def test_all_nodata_target(data):
    assert "all nodata" in training_error(data, target=data["empty"])


def test_extent_over_the_nodata_part_of_the_target(data):
    message = training_error(data, target=data["half"], target_extent=pixel_extent(0, 0, 32, 64))
    assert "all nodata" in message and "TARGET_EXTENT" in message


def test_non_raster_source(data):
    assert "not a raster" in training_error(data, source=data["text"])


def test_bad_numbers(data):
    assert "PATCH_SIZE" in training_error(data, patch_size=31)
    assert "BATCH_SIZE" in training_error(data, batch_size=0)


def lrm_model_file(path, channels):
    gen = Generator(channels)
    tensors = {f"generator.{k}": v for k, v in gen.state_dict().items()}
    tensors["target_style"] = torch.zeros(32, 16, 16)
    bands = list(range(1, channels + 1))
    save_translator(str(path), tensors, {
        "bands": bands, "channels": channels, "patch_size": 32,
        "input_scaling": InputScaling.identity(channels).to_meta(),
        "target": {"band_count": channels}, "sources": [{"band_count": channels}]})
    return str(path)


def translate_error(data, model, source=None, output_name="out.tif", **kw):
    output = str(data["folder"] / output_name)
    with pytest.raises(LrmError) as error:
        translate_raster(source or data["source"], str(model), output, device="cpu",
                         reporter=Reporter(), **kw)
    assert not os.path.exists(output) and not os.path.exists(partial_path(output))
    return str(error.value)


def test_a_valid_stand_in_model_translates(data):
    """The crafted model files below are valid apart from what each test breaks."""
    model = lrm_model_file(data["folder"] / "three.safetensors", 3)
    output = str(data["folder"] / "fine.tif")
    translate_raster(data["source"], model, output, overlap=8, device="cpu")
    assert os.path.isfile(output)


def test_model_made_for_other_bands(data):
    model = lrm_model_file(data["folder"] / "four.safetensors", 4)
    message = translate_error(data, model)
    assert "made for bands [1, 2, 3, 4]" in message and "only 3 band(s)" in message


def test_corrupted_model_files(data):
    garbage = data["folder"] / "garbage.safetensors"
    garbage.write_bytes(os.urandom(2000))
    assert "not a readable LRM Adapt model" in translate_error(data, garbage)
    model = lrm_model_file(data["folder"] / "cut.safetensors", 3)
    content = open(model, "rb").read()
    truncated = data["folder"] / "truncated.safetensors"
    truncated.write_bytes(content[:len(content) // 2])
    assert "corrupted" in translate_error(data, truncated)


def test_foreign_model_files(data):
    plain = data["folder"] / "plain.safetensors"
    save_file({"weight": torch.zeros(3)}, str(plain))
    assert "not an LRM Adapt model" in translate_error(data, plain)
    segmenter = data["folder"] / "segmenter.safetensors"
    save_model(str(segmenter), {"w": torch.zeros(1)}, {"kind": "segmenter"})
    assert "segmenter model" in translate_error(data, segmenter)
    unknown = data["folder"] / "unknown.safetensors"
    save_model(str(unknown), {"w": torch.zeros(1)}, {"kind": "translator", "method": "magic"})
    assert "Unknown translation METHOD 'magic'" in translate_error(data, unknown)
    broken = data["folder"] / "no_weights.safetensors"
    save_model(str(broken), {"w": torch.zeros(1)},
               {"kind": "translator", "method": "lrm", "architecture": "lrm-i2it"})
    assert "incomplete" in translate_error(data, broken)


def test_non_raster_input_and_bad_translation_settings(data):
    model = lrm_model_file(data["folder"] / "three_again.safetensors", 3)
    assert "not a raster" in translate_error(data, model, source=data["text"])
    assert "OVERLAP" in translate_error(data, model, overlap=-1)
    assert "GeoTIFF" in translate_error(data, model, output_name="out.png")


def test_cli_reports_one_error_event(data):
    proc = subprocess.run(
        [sys.executable, "-m", "models", "translate", "--jsonl", "--input", data["text"],
         "--model", str(data["folder"] / "missing.safetensors"), "--output",
         str(data["folder"] / "cli.tif")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2
    (error,) = [e for e in events if e["type"] == "error"]
    assert error["kind"] == "input" and "not a raster" in error["message"]
