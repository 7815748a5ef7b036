"""Model files for the model-file fuzz: real files of every method, and hostile ones.

Real files come from tiny real trainings through each method's own ``train`` (and the
``train-segmenter`` command for the segmenter: a resnet18 U-Net without pretrained
weights), so every method's actual file format is fuzzed. Hostile files are built by
hand: what a model file could be when it is not one (a pickle, a zip, nothing), or a
safetensors file built to exhaust memory, recursion or time.

Used by tests/backend/test_model_file_fuzz.py and benchmarks/fuzz_model_files.py.
"""

import json
import os
import pickle
import struct
import zipfile

import numpy as np

from models import contract
from translation_rasters import RecordingReporter, texture, tiny_config, write_raster

TRANSLATORS = contract.METHODS  # every translation method's file format
SEGMENTER = "segmenter"
INPUT_SIZE = 48  # side of the rasters translated/classified in each case (tiny: fast)


def make_rasters(folder):
    """Training rasters plus the small INPUT raster every case translates or classifies."""
    rng = np.random.default_rng(0)
    paths = {
        "source": write_raster(os.path.join(folder, "source.tif"),
                               texture(rng, (70, 90, 60), (20,) * 3, (3, 128, 128))),
        "target": write_raster(os.path.join(folder, "target.tif"),
                               texture(rng, (180, 120, 160), (25,) * 3, (3, 128, 128))),
        "input": write_raster(os.path.join(folder, "input.tif"),
                              texture(rng, (70, 90, 60), (20,) * 3, (3, INPUT_SIZE, INPUT_SIZE))),
    }
    return paths


def train_translator(method, folder, rasters):
    """A real model file of ``method`` from one training iteration (DualGAN: 128-pixel
    patches, the least its seven-level U-Net takes; the others 32)."""
    from models.translation.registry import get_method

    output = os.path.join(folder, f"{method}.safetensors")
    config = tiny_config(rasters["source"], rasters["target"], output, method=method,
                         patch_size=128 if method == "dualgan" else 32, batch_size=1,
                         epochs=1, max_iterations=1)
    get_method(method).train(config, RecordingReporter())
    return output


def train_segmenter(folder):
    """A real segmenter file: resnet18 U-Net, random weights, one iteration."""
    from segmenter_rasters import train_tiny

    sub = os.path.join(folder, "segmenter_training")
    os.makedirs(sub, exist_ok=True)
    train_tiny(sub, "--epochs", 1, "--max-iterations", 1, pairs=1, size=64)
    return os.path.join(sub, "model.safetensors")


def real_model_files(folder, names=TRANSLATORS + (SEGMENTER,)):
    """{name: path} of real model files (translation methods and/or "segmenter")."""
    rasters = make_rasters(folder)
    files = {}
    for name in names:
        files[name] = (train_segmenter(folder) if name == SEGMENTER
                       else train_translator(name, folder, rasters))
    return rasters, files


# --- safetensors bytes ------------------------------------------------------------------

def split_safetensors(blob):
    """(header dict, data bytes) of a safetensors file's bytes."""
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + length]), blob[8 + length:]


def join_safetensors(header, data, raw_header=None):
    """Bytes of a safetensors file from a header (dict, or ``raw_header`` bytes) and data."""
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads the header to 8 bytes
    return struct.pack("<Q", len(text)) + text + data


def safetensors_bytes(metadata, tensors=None):
    """A safetensors file holding ``tensors`` (name -> numpy array) and string metadata."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, array in (tensors or {}).items():
        raw = np.ascontiguousarray(array).tobytes()
        dtype = {"float32": "F32", "int64": "I64", "uint8": "U8"}[str(array.dtype)]
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return join_safetensors(header, data)


# --- hostile files ----------------------------------------------------------------------

class MarkerPayload:
    """Unpickling this creates ``marker`` (it calls open(marker, "w")): a file that must
    never appear proves that loading a model executed nothing."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def lrm_meta(kind="translator", **extra):
    return {"format": "lrm-adapt", "lrm": json.dumps({"kind": kind, "format_version": 1,
                                                       **extra})}


def nested(depth):
    return "[" * depth + "]" * depth


def hostile_cases(folder, real_files, marker, big_header_mb=50, tensor_count=100_000):
    """[(name, bytes or a callable(path) that creates the file)]: files a model path may
    point to that are not valid model files, each built to fail in its own way (one, the
    ``big_header_mb`` metadata around a real LRM file, is valid and must still work).
    ``real_files`` supplies the tensors of a real translator for the cases that need them;
    ``marker`` is the file the pickles' payload would create; ``tensor_count`` tensors
    make the header with many entries."""
    import torch

    def torch_pickle(path):
        torch.save({"generator.weight": torch.zeros(2), "payload": MarkerPayload(marker)}, path)

    def zip_file(path):
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("model.json", json.dumps({"kind": "translator"}))

    def directory(path):
        os.makedirs(path)

    def tiff(path):
        write_raster(path, np.zeros((1, 8, 8), np.uint8))

    with open(real_files["lrm"], "rb") as f:
        lrm_header, lrm_data = split_safetensors(f.read())
    lrm_json = json.loads(lrm_header["__metadata__"]["lrm"])
    entries = ", ".join(['{"epoch": 1, "loss": 0.5}'] * (big_header_mb * 2**20 // 27))
    big_header = dict(lrm_header, __metadata__={"format": "lrm-adapt", "lrm": json.dumps(
        lrm_json)[:-1] + f', "history_copy": [{entries}]}}'})
    huge_string = dict(lrm_header, __metadata__={"format": "lrm-adapt", "lrm": json.dumps(
        dict(lrm_json, method="x" * (big_header_mb * 2**20)))})
    many = {f"t{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]}
            for i in range(tensor_count)}
    many["__metadata__"] = lrm_meta(method="lrm")
    return [
        ("empty file", b""),
        ("seven bytes", b"\x10\x00\x00\x00\x00\x00\x00"),
        ("header length 2^63", struct.pack("<Q", 2**63) + b"{}" + b"\0" * 90),
        ("header length 2^40", struct.pack("<Q", 2**40) + b"{}" + b"\0" * 90),
        ("header length past the end", struct.pack("<Q", 200) + b"{}" + b" " * 90),
        ("header not JSON", struct.pack("<Q", 16) + bytes(range(200, 216))),
        ("header JSON a list", join_safetensors(None, b"", b"[1, 2, 3]")),
        ("header deeply nested", join_safetensors(None, b"", nested(100_000).encode())),
        ("metadata deeply nested", safetensors_bytes(
            {"format": "lrm-adapt", "lrm": nested(100_000)})),
        ("metadata deeply nested object", safetensors_bytes(
            {"format": "lrm-adapt", "lrm": '{"kind":' * 50_000 + "1" + "}" * 50_000})),
        ("metadata huge integer", safetensors_bytes(
            {"format": "lrm-adapt", "lrm": '{"kind": "translator", "format_version": '
                                           + "9" * 100_000 + "}"})),
        ("metadata a list", safetensors_bytes({"format": "lrm-adapt", "lrm": "[1, 2]"})),
        ("metadata a string", safetensors_bytes({"format": "lrm-adapt", "lrm": '"translator"'})),
        ("metadata null", safetensors_bytes({"format": "lrm-adapt", "lrm": "null"})),
        ("metadata value not a string", join_safetensors(
            {"__metadata__": {"format": "lrm-adapt", "lrm": {"kind": "translator"}}}, b"")),
        ("no metadata", safetensors_bytes(None, {"w": np.zeros(4, np.float32)})),
        ("other framework's metadata", safetensors_bytes({"format": "pt"},
                                                         {"w": np.zeros(4, np.float32)})),
        ("kind a list", safetensors_bytes(lrm_meta(kind=["translator"]))),
        ("format_version a string", safetensors_bytes(
            {"format": "lrm-adapt", "lrm": '{"kind": "translator", "format_version": "1"}'})),
        ("no tensors: lrm", safetensors_bytes(lrm_meta(**{k: v for k, v in lrm_json.items()
                                                          if k != "kind"}))),
        ("method a module path", safetensors_bytes(lrm_meta(method="..registry"))),
        ("method a number", safetensors_bytes(lrm_meta(method=3))),
        ("segmenter without anything", safetensors_bytes(lrm_meta(kind="segmenter"))),
        ("tensor of 2^62 x 2^62 floats", join_safetensors({
            "__metadata__": lrm_meta(method="lrm"),
            "w": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 16]}},
            b"\0" * 16)),
        ("shape product overflows", join_safetensors({
            "__metadata__": lrm_meta(method="lrm"),
            "w": {"dtype": "F32", "shape": [2**32, 2**32, 2**32], "data_offsets": [0, 0]}}, b"")),
        ("tensor offsets past the end", join_safetensors({
            "__metadata__": lrm_meta(method="lrm"),
            "w": {"dtype": "F32", "shape": [2**30], "data_offsets": [0, 2**32]}}, b"\0" * 16)),
        ("unknown dtype", join_safetensors({
            "__metadata__": lrm_meta(method="lrm"),
            "w": {"dtype": "Q7", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16)),
        (f"{tensor_count} tensors", join_safetensors(many, b"\0" * tensor_count)),
        (f"{big_header_mb} MB metadata (valid otherwise)", join_safetensors(big_header, lrm_data)),
        (f"{big_header_mb} MB method name", join_safetensors(huge_string, lrm_data)),
        ("raw pickle", pickle.dumps(MarkerPayload(marker), protocol=2)),
        ("raw pickle protocol 0", pickle.dumps(MarkerPayload(marker), protocol=0)),
        ("torch.save pickle", torch_pickle),
        ("zip file", zip_file),
        ("GeoTIFF", tiff),
        ("directory", directory),
    ]


def write_case(path, content):
    """Create the model file of a case at ``path`` (bytes, or a callable that writes it)."""
    if callable(content):
        content(path)
    else:
        with open(path, "wb") as f:
            f.write(content)
