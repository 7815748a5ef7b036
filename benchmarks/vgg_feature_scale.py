"""Why the published loss weights fail with a random VGG19 (benchmarks/RESULTS_protocol.md).

    .venv/bin/python benchmarks/vgg_feature_scale.py [--data out/demo/data] [--patch 128] [--seed 0]

Takes a PATCH x PATCH crop (top-left) of the first source tile and of the first target tile
(model units: 0..255), builds the ``vgg19_random`` network with torch seed SEED, and prints
the RMS of its relu1_2..relu4_3 features on the source crop, and the content and style
losses (models/translation/methods/lrm/losses.py) of three candidate "translations": copying the
target, not translating at all, and a per-band mean shift to the target's means.
"""

import argparse
import glob
import os
import sys

import numpy as np
import torch
from osgeo import gdal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models.translation.methods.lrm.losses import PerceptualLoss  # noqa: E402
from models.translation.methods.lrm.vgg import STYLE_LAYERS, random_vgg19  # noqa: E402


def crop(path, size):
    return torch.from_numpy(gdal.Open(path).ReadAsArray(0, 0, size, size).astype(np.float32))[None]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "out", "demo", "data"))
    p.add_argument("--patch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    source = crop(sorted(glob.glob(f"{args.data}/source/images/*.tif"))[0], args.patch)
    target = crop(sorted(glob.glob(f"{args.data}/target/images/*.tif"))[0], args.patch)
    torch.manual_seed(args.seed)
    vgg = random_vgg19().eval()
    with torch.no_grad():
        feats = vgg(source, STYLE_LAYERS)
        print("feature RMS on the source crop:",
              ", ".join(f"{k} {v.pow(2).mean().sqrt():.1f}" for k, v in feats.items()))
        loss = PerceptualLoss(vgg, target, source.shape[1])
        shifted = source - source.mean(dim=(2, 3), keepdim=True) + target.mean(dim=(2, 3), keepdim=True)
        for name, candidate in (("copy the target", target), ("no translation", source),
                                ("mean shift to the target", shifted)):
            content, style = loss(source, candidate)
            print(f"{name}: content {float(content):.2f}, style {float(style):.2f} "
                  f"(x published weights 1 / 5: {float(content):.1f} / {5 * float(style):.1f})")


if __name__ == "__main__":
    main()
