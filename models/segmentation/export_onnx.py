"""Export a trained segmenter to ONNX for Deepness (the QGIS plugin for running ONNX models).

Deepness feeds a model (N, C, T, T) float32 tiles in NCHW order with the raster's first
C bands divided by 255, and reads back (N, classes, T, T) class probabilities; it takes the
model type, class names, resolution, tile size and overlap from the ONNX metadata
(``model_type``, ``class_names``, ``resolution`` in cm/pixel, ``tile_size``,
``tiles_overlap`` in percent; values JSON-encoded, as Deepness's ``ModelBase`` reads them).

So the exported graph is ``softmax(unet((255 x input - mean) / std))``: our per-band
standardisation (``input_scaling``) and the 0..1 -> raw-value step are folded into the
graph, and Deepness's own standardisation stays at its default (none). For a model trained
on 8-bit imagery, Deepness then gets the probabilities ``lrm:classify`` computes for the
same window. Models trained on 16-bit or float imagery export too, but Deepness's /255
assumes 8-bit input: that is reported as a warning. The batch axis is dynamic; the tile
side is fixed (Deepness reads the tile size from the input shape).
"""

import json
import os

import numpy as np
import torch

from ..errors import LrmError
from .model_file import read_segmenter
from .network import OUTPUT_STRIDE

OPSET = 17
DEEPNESS_INPUT_SCALE = 255.0  # Deepness divides 8-bit values by 255 before the model


class DeepnessSegmentor(torch.nn.Module):
    """0..1 input (Deepness's scaling) -> class probabilities, our scaling folded in."""

    def __init__(self, unet, mean, std):
        super().__init__()
        self.unet = unet
        scale = DEEPNESS_INPUT_SCALE / np.asarray(std, np.float32)
        shift = -np.asarray(mean, np.float32) / np.asarray(std, np.float32)
        self.register_buffer("scale", torch.from_numpy(scale).view(1, -1, 1, 1))
        self.register_buffer("shift", torch.from_numpy(shift).view(1, -1, 1, 1))

    def forward(self, x):
        return torch.softmax(self.unet(x * self.scale + self.shift), dim=1)


def training_resolution_cm(meta):
    """Pixel size of the first training image in cm, when its CRS is in metres; else None."""
    images = (meta.get("training") or {}).get("images") or []
    if not images or not os.path.isfile(images[0]):
        return None
    from osgeo import gdal, osr

    ds = gdal.Open(images[0])
    if ds is None or not ds.GetProjection():
        return None
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    if not srs.IsProjected() or abs(srs.GetLinearUnits() - 1.0) > 1e-9:
        return None
    gt = ds.GetGeoTransform()
    return round(100.0 * (abs(gt[1]) + abs(gt[5])) / 2.0, 4)


def deepness_metadata(meta, classes, tile_size, resolution_cm, overlap_percent):
    """The ONNX metadata_props, JSON-encoded values (Deepness json.loads each one)."""
    props = {
        "model_type": "Segmentor",
        "class_names": {str(i): name for i, name in enumerate(classes.names)},
        "tile_size": int(tile_size),
        "tiles_overlap": int(overlap_percent),
        "seg_thresh": 0.0,         # argmax as lrm:classify: no pixel left unclassified
        "seg_small_segment": 0,    # no small-segment removal
        "lrm_bands": [int(b) for b in meta["bands"]],
        "lrm_encoder": meta["encoder"],
        "lrm_input": "band values / 255 (Deepness); the model's per-band standardisation "
                     "is folded into the graph",
        "lrm_trained_on_dtype": meta["input_scaling"].get("dtype", "unknown"),
    }
    if resolution_cm:
        props["resolution"] = float(resolution_cm)
    return {key: json.dumps(value) for key, value in props.items()}


def export_segmenter(model_path, output, tile_size=0, resolution_cm=None, overlap_percent=15,
                     reporter=None):
    """Write ``output`` (.onnx); return the result dict of the export-segmenter command."""
    import onnx

    if not output.lower().endswith(".onnx"):
        raise LrmError(f"OUTPUT {output} must end with .onnx.")
    if not 0 <= overlap_percent < 100:
        raise LrmError(f"OVERLAP_PERCENT must be 0 to 99, not {overlap_percent}.")
    loaded = read_segmenter(model_path)
    meta, classes = loaded.meta, loaded.classes
    tile_size = int(tile_size) or loaded.patch_size
    if tile_size % OUTPUT_STRIDE:
        raise LrmError(f"TILE_SIZE must be a multiple of {OUTPUT_STRIDE} (the U-Net's output "
                       f"stride), not {tile_size}.")
    scaling = loaded.scaling
    module = DeepnessSegmentor(loaded.model, scaling["mean"], scaling["std"]).eval()
    if resolution_cm is None:
        resolution_cm = training_resolution_cm(meta)
    warn = reporter.warning if reporter else (lambda message: None)
    if resolution_cm is None:
        warn("No RESOLUTION_CM given and the training images' pixel size is unknown (not in "
             "metres or not found): the ONNX model has no 'resolution', so Deepness uses the "
             "resolution you set in its dialog.")
    if scaling.get("dtype") not in ("uint8", None):
        warn(f"The model was trained on {scaling.get('dtype')} images; Deepness divides input "
             f"values by 255 (8-bit), so its predictions differ from lrm:classify unless the "
             f"layer is 8-bit. Use lrm:classify for such imagery.")
    bands = [int(b) for b in meta["bands"]]
    if bands != list(range(1, len(bands) + 1)):
        warn(f"The model uses bands {bands}; Deepness feeds a layer's first {len(bands)} "
             f"bands: give it a layer whose first bands are those, in that order.")

    folder = os.path.dirname(os.path.abspath(output))
    os.makedirs(folder, exist_ok=True)
    from ..storage.atomic import partial_path

    partial = partial_path(output)
    example = torch.zeros(1, int(meta["in_channels"]), tile_size, tile_size)
    try:
        with torch.no_grad():
            torch.onnx.export(module, (example,), partial, dynamo=False, opset_version=OPSET,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        graph = onnx.load(partial)
        for key, value in deepness_metadata(meta, classes, tile_size, resolution_cm,
                                            overlap_percent).items():
            graph.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(graph)
        onnx.save(graph, partial)
        os.replace(partial, output)  # never a half-written .onnx under the final name
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    if reporter:
        reporter.info(f"Wrote {output}: Segmentor, {len(classes)} classes, tile {tile_size} px, "
                      f"overlap {overlap_percent}%, resolution "
                      f"{f'{resolution_cm} cm/px' if resolution_cm else 'unset'}.")
    return {"output": output, "tile_size": tile_size,
            "resolution_cm": resolution_cm, "classes": list(classes.names)}
