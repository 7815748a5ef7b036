"""Seeded mutations of a real model file's bytes, for the model-file fuzz.

Each mutation kind takes the file's bytes and a ``numpy.random.Generator`` and returns
(description, new bytes). Kinds:

* ``truncate``: cut inside the 8-byte header length, the JSON header or the data;
* ``flip_header`` / ``flip_data``: flip 1-4 random bits in the header / in the tensors;
* ``safetensors_header``: edit a tensor entry of the safetensors JSON header (offsets,
  dtype, shape; remove, rename or add one) or its ``__metadata__``;
* ``metadata``: edit our metadata JSON (any key the loaders read, or any key at all:
  removed, wrong type, other numbers, other bands, classes, methods, architectures);
* ``tensors``: consistent files whose tensors were removed, renamed, reshaped, re-typed
  or filled with non-finite values.
"""

import json
import math

import numpy as np

from model_fuzz_files import join_safetensors, split_safetensors

# Keys (dotted paths) that some loader reads: edited half of the time in ``metadata``.
READ_KEYS = ("kind", "format_version", "method", "bands", "channels", "patch_size",
             "architecture", "architecture_version", "architecture.ngf", "architecture.blocks",
             "architecture.levels", "architecture.channels", "input_scaling",
             "input_scaling.offset", "input_scaling.scale", "input_scaling.mode",
             "input_scaling.mean", "input_scaling.std", "input_scaling.dtype", "beta",
             "classes", "classes.names", "classes.colors", "encoder", "in_channels",
             "decoder_channels", "encoder_depth", "sources", "target", "target.band_count",
             "training", "training.images")
OTHER_STRINGS = ("translator", "segmenter", "lrm", "histogram_matching", "fda", "cyclegan",
                 "colormapgan", "dualgan", "benjdira", "unet", "resnet34", "resnet18",
                 "lrm_translator", "identity", "percentile", "standardize", "uint16", "",
                 "../../etc/passwd", "x" * 5000)
ODD_VALUES = (None, True, False, "abc", "", -1, 0, 1, 2, 3, 7, 2**31, 2**63, 10**30, 1.5, -0.0,
              1e308, math.nan, math.inf, -math.inf, [], {}, [1, 2, 3], [4, 5, 6], [0], [-1],
              ["1", "2", "3"], [1.5, 2.0, 3.0], [True, 2, 3], [[1, 2, 3]], {"a": 1},
              "1,2,3", [1, 2, 3, 4], list(range(1, 300)), [0.0, 0.0, 0.0], [1e-40] * 3,
              {"names": ["a"], "colors": [[1, 2, 3], [4, 5, 6]]},
              {"names": [str(i) for i in range(300)], "colors": [[i % 256, i // 256, 0]
                                                                for i in range(300)]},
              {"offset": [0, 0, 0], "scale": [0, 0, 0]}, {"mean": [0] * 3, "std": [0] * 3},
              {"ngf": 2**20, "blocks": 10**6, "levels": 40, "channels": 2**20})
DTYPES = ("F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64", "BOOL",
          "F8_E4M3", "F8_E5M2", "C64", "X9", "", 5, None)


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _region(blob):
    (length,) = np.frombuffer(blob[:8], "<u8")
    return 8 + int(length), len(blob)


def truncate(blob, rng):
    header_end, size = _region(blob)
    where = int(rng.integers(3))
    low, high = [(0, 8), (8, header_end), (header_end, size)][where]
    cut = int(rng.integers(low, max(low + 1, high)))
    return f"truncated at byte {cut} of {size}", blob[:cut]


def _flip(blob, rng, low, high):
    data = bytearray(blob)
    spots = []
    for _ in range(int(rng.integers(1, 5))):
        pos, bit = int(rng.integers(low, high)), int(rng.integers(8))
        data[pos] ^= 1 << bit
        spots.append(f"{pos}.{bit}")
    return ",".join(spots), bytes(data)


def flip_header(blob, rng):
    where, data = _flip(blob, rng, 0, _region(blob)[0])
    return f"header bits {where} flipped", data


def flip_data(blob, rng):
    header_end, size = _region(blob)
    where, data = _flip(blob, rng, header_end, size)
    return f"data bits {where} flipped", data


def safetensors_header(blob, rng):
    header, data = split_safetensors(blob)
    names = [k for k in header if k != "__metadata__"]
    op = _pick(rng, ("offsets", "dtype", "shape", "remove", "rename", "add", "metadata"))
    if op == "metadata" or not names:
        meta = header.get("__metadata__", {})
        choice = int(rng.integers(5))
        if choice == 0:
            header.pop("__metadata__", None)
        elif choice == 1:
            header["__metadata__"] = dict(meta, format=_pick(rng, ("pt", "", "lrm-adapt2")))
        elif choice == 2:
            header["__metadata__"] = {k: v for k, v in meta.items() if k != "lrm"}
        elif choice == 3:
            header["__metadata__"] = dict(meta, lrm=meta.get("lrm", "")[:int(rng.integers(1, 50))])
        else:
            header["__metadata__"] = _pick(rng, ([], "x", 5, {"format": 5}))
        return f"__metadata__ edit {choice}", join_safetensors(header, data)
    name = _pick(rng, names)
    entry = header[name]
    a, b = entry["data_offsets"]
    if op == "offsets":
        other = header[_pick(rng, names)]["data_offsets"]
        entry["data_offsets"] = _pick(rng, ([a, b + 1], [a - 1, b], [b, a], [a, a], [0, 2 * b],
                                            [a, 2**64 - 1], [-1, b], ["0", b], [a], [a, b, b],
                                            None, list(other)))
    elif op == "dtype":
        entry["dtype"] = _pick(rng, DTYPES)
    elif op == "shape":
        shape = entry["shape"]
        entry["shape"] = _pick(rng, ([], [0], shape + [1], shape[1:], [2 * s for s in shape],
                                     [-1], [2**62, 2**62], [2**32] * 4, ["3"], None,
                                     [int(np.prod(shape))], [1] + shape))
    elif op == "remove":
        del header[name]
    elif op == "rename":
        header[_pick(rng, (name + "x", "generator." + name, name.upper(), "",
                           _pick(rng, names)))] = header.pop(name)
    else:
        header[name + ".extra"] = {"dtype": "F32", "shape": [2**40], "data_offsets": [a, b]}
    return f"tensor entry {name!r}: {op} -> {header.get(name)}", join_safetensors(header, data)


def _key_paths(value, prefix=""):
    """Dotted paths of every dict key and list element down to depth 3."""
    paths = []
    if prefix.count(".") >= 3:
        return paths
    items = value.items() if isinstance(value, dict) else (
        enumerate(value[:4]) if isinstance(value, list) else ())
    for key, child in items:
        path = f"{prefix}{key}"
        paths.append(path)
        paths += _key_paths(child, path + ".")
    return paths


def _resolve(meta, path):
    """(container, key) of a dotted path, or (None, None) where it does not exist."""
    node = meta
    *parents, last = path.split(".")
    for part in parents:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None, None
    if isinstance(node, list):
        return (node, int(last)) if last.isdigit() and int(last) < len(node) else (None, None)
    return (node, last) if isinstance(node, dict) else (None, None)


def _new_value(old, rng):
    """A replacement: an odd value, another string, or a perturbation of the old value."""
    choice = int(rng.integers(4))
    if choice == 0 or old is None:
        return _pick(rng, ODD_VALUES)
    if choice == 1:
        return _pick(rng, OTHER_STRINGS)
    if isinstance(old, bool):
        return not old
    if isinstance(old, (int, float)):
        return _pick(rng, (old * 2, old + 1, old - 1, -old, old * 1000, old / 3))
    if isinstance(old, list):
        return _pick(rng, ([], old[:-1], old + old[-1:], old[::-1], [old], [str(v) for v in old]))
    if isinstance(old, dict):
        return _pick(rng, ({}, {k: old[k] for k in list(old)[:-1]}, {"x": old}))
    return old + _pick(rng, ("x", "_v2", " "))


def metadata(blob, rng):
    header, data = split_safetensors(blob)
    meta = json.loads(header["__metadata__"]["lrm"])
    if rng.random() < 0.5:
        path = _pick(rng, READ_KEYS)
    else:
        path = _pick(rng, _key_paths(meta))
    container, key = _resolve(meta, path)
    if container is None:  # not in this method's metadata: add it
        container, key = meta, path.split(".")[0]
    old = container[key] if (isinstance(container, list) or key in container) else None
    if rng.random() < 0.15 and old is not None:
        del container[key]
        what = "removed"
    else:
        container[key] = _new_value(old, rng)
        what = f"= {json.dumps(container[key])[:80]}"
    header["__metadata__"]["lrm"] = json.dumps(meta)
    return f"metadata {path} {what}", join_safetensors(header, data)


def tensors(blob, rng):
    import torch
    from safetensors.torch import load, save

    header, _ = split_safetensors(blob)
    state = load(blob)
    name = _pick(rng, sorted(state))
    t = state[name]
    op = _pick(rng, ("remove", "rename", "reshape", "retype", "values", "add"))
    if op == "remove":
        del state[name]
    elif op == "rename":
        state[_pick(rng, (name + "_", name.replace(".", "_"), "x." + name))] = state.pop(name)
    elif op == "reshape":
        state[name] = _pick(rng, (t.flatten(), t.unsqueeze(0),
                                  t.reshape(-1)[:max(1, t.numel() // 2)],
                                  torch.cat([t, t]) if t.dim() else t.reshape(1),
                                  t.reshape(-1)[0].clone() if t.numel() else t,
                                  t.transpose(0, -1).contiguous() if t.dim() > 1 else t[None, None],
                                  torch.zeros((0,) + tuple(t.shape[1:]), dtype=t.dtype)))
    elif op == "retype":
        dtype = _pick(rng, (torch.float16, torch.bfloat16, torch.float64, torch.int64, torch.int32,
                            torch.uint8, torch.bool, torch.int8, torch.float8_e4m3fn,
                            torch.uint16, torch.uint32))
        state[name] = t.to(dtype)
    elif op == "values":
        fill = _pick(rng, (math.nan, math.inf, -math.inf, 1e30, -1e30, 0.0, -1.0, 2**40))
        state[name] = (torch.full_like(t.double(), fill).to(t.dtype) if t.is_floating_point()
                       else torch.full_like(t, int(min(abs(fill), 2**62)) if math.isfinite(fill)
                                            else -1))
    else:
        state[name + "_extra"] = torch.zeros(3, 3)
    state = {k: v.contiguous() for k, v in state.items()}
    what = f"tensor {name!r}: {op}" + (f" -> {tuple(state[name].shape)} {state[name].dtype}"
                                       if name in state else "")
    return what, save(state, metadata=header.get("__metadata__"))


KINDS = {"truncate": truncate, "flip_header": flip_header, "flip_data": flip_data,
         "safetensors_header": safetensors_header, "metadata": metadata, "tensors": tensors}


def mutate(kind, blob, rng):
    return KINDS[kind](blob, rng)


def _edit_meta(**changes):
    def edit(meta, state):
        for path, value in changes.items():
            container, key = _resolve(meta, path.replace("__", "."))
            container[key] = value
        return meta, state
    return edit


def _edit_state(function):
    def edit(meta, state):
        function(state)
        return meta, state
    return edit


def _many_bands(count, segmenter=False):
    def edit(meta, state):
        bands = list(range(1, count + 1))
        meta.update(bands=bands, **({"in_channels": count} if segmenter else {"channels": count}))
        scaling = meta["input_scaling"]
        for key in ("offset", "mean"):
            if key in scaling:
                scaling[key] = [0.0] * count
        for key in ("scale", "std"):
            if key in scaling:
                scaling[key] = [1.0] * count
        if "architecture" in meta and isinstance(meta["architecture"], dict):
            meta["architecture"]["channels"] = count
        return meta, state
    return edit


# (name, model file it edits, edit(meta, tensors) -> (meta, tensors)): damage a random
# mutation rarely produces exactly, each case aimed at one check.
TARGETED = [
    ("translator named a segmenter", "lrm", _edit_meta(kind="segmenter")),
    ("newer format version", "fda", _edit_meta(format_version=2)),
    ("LRM file naming the FDA method", "lrm", _edit_meta(method="fda")),
    ("CycleGAN file naming DualGAN", "cyclegan", _edit_meta(method="dualgan")),
    ("other bands than the raster has", "histogram_matching", _edit_meta(bands=[4, 5, 6])),
    ("band 0", "colormapgan", _edit_meta(bands=[0, 1, 2])),
    ("LRM with 4096 bands", "lrm", _many_bands(4096)),
    ("LRM with 10^6 channels", "lrm", _edit_meta(channels=10**6)),
    ("CycleGAN of width 4096, 256 blocks", "cyclegan",
     _edit_meta(architecture={"ngf": 4096, "blocks": 256, "channels": 3})),
    ("DualGAN of 12 levels, width 4096", "dualgan",
     _edit_meta(architecture={"ngf": 4096, "levels": 12, "channels": 3})),
    ("Benjdira with 10^9 blocks", "benjdira", _edit_meta(architecture__blocks=10**9)),
    ("GAN architecture a list", "dualgan", _edit_meta(architecture=[64, 7])),
    ("GAN patch size 2^40", "cyclegan", _edit_meta(patch_size=2**40)),
    ("scale of zero", "cyclegan", _edit_meta(input_scaling__scale=[0.0, 1.0, 1.0])),
    ("FDA beta a string", "fda", _edit_meta(beta="0.01")),
    ("FDA beta NaN", "fda", _edit_meta(beta=math.nan)),
    ("histogram lengths of fractions", "histogram_matching",
     _edit_state(lambda s: s.__setitem__("lengths", s["lengths"].double() - 0.5))),
    ("LRM style without rows", "lrm",
     _edit_state(lambda s: s.__setitem__("target_style", s["target_style"][:, :0]))),
    ("colours past 256^3", "colormapgan",
     _edit_state(lambda s: s.__setitem__("colours", s["colours"] + 2**24))),
    ("colours as floats", "colormapgan",
     _edit_state(lambda s: s.__setitem__("colours", s["colours"].float()))),
    ("segmenter with 4096 bands", "segmenter", _many_bands(4096, segmenter=True)),
    ("segmenter decoder 4096 wide", "segmenter", _edit_meta(decoder_channels=[4096] * 5)),
    ("segmenter of 254 classes", "segmenter", _edit_meta(classes={
        "names": [f"c{i}" for i in range(254)], "colors": [[i, 0, 0] for i in range(254)]})),
    ("segmenter of 300 classes", "segmenter", _edit_meta(classes={
        "names": [f"c{i}" for i in range(300)], "colors": [[i % 256, i // 256, 0]
                                                           for i in range(300)]})),
    ("segmenter names without colours", "segmenter", _edit_meta(classes__colors=[])),
    ("segmenter resnet34 encoder", "segmenter", _edit_meta(encoder="resnet34")),
    ("segmenter unknown encoder", "segmenter", _edit_meta(encoder="resnet9000")),
    ("segmenter encoder a number", "segmenter", _edit_meta(encoder=18)),
    ("segmenter training images not paths", "segmenter",
     _edit_meta(training={"images": [0, 1, 2, None]})),
    ("segmenter std of zero", "segmenter", _edit_meta(input_scaling__std=[0, 0, 0])),
]


def targeted(blob, edit):
    """The bytes of a real model file after one TARGETED edit."""
    from safetensors.torch import load, save

    header, _ = split_safetensors(blob)
    meta, state = edit(json.loads(header["__metadata__"]["lrm"]), load(blob))
    header["__metadata__"]["lrm"] = json.dumps(meta)
    return save({k: v.contiguous() for k, v in state.items()}, metadata=header["__metadata__"])
