"""Seconds per training iteration of each LRM loss family, in the same run (a benchmark).

    .venv/bin/python benchmarks/bench_loss_families.py [--iterations 8] [--patch-size 128]
        [--batch-size 4] [--threads 0] [--device cpu]

Trains the translator through the real ``train()`` on generated 3-band rasters with
``PERCEPTUAL_LOSS`` weight_free, vgg19_imagenet and vgg19_random, one after the other,
and prints the mean seconds per iteration (first iteration left out). It also prints the
weight-free structure loss for a few transformations of one smooth random image (the
figures quoted in docs/translator.md). vgg19_imagenet is
given a VGG19 weights file of torchvision's layout made here with random values: the
cost of the published losses does not depend on the values of the weights, and no
machine of this project can download the real ones.
"""

import argparse
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("LRM_OFFLINE", "1")

from osgeo import gdal  # noqa: E402

FAMILIES = ("weight_free", "vgg19_imagenet", "vgg19_random")


def write(path, array):
    ds = gdal.GetDriverByName("GTiff").Create(path, array.shape[2], array.shape[1], 3, gdal.GDT_Byte)
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(array[b])
    ds = None
    return path


def vgg_file(folder):
    import torch
    import torchvision

    from models.translation.methods.lrm.vgg import LAYERS, VGG19_FILENAME

    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])
    state = {f"features.{k}": v for k, v in features.state_dict().items()
             if int(k.split(".")[0]) <= LAYERS["relu4_3"]}
    path = os.path.join(folder, VGG19_FILENAME)
    torch.save(state, path)
    return path


def structure_figures():
    """Structure loss of transformations of a smooth random (4, 3, 128, 128) image."""
    import torch
    import torch.nn.functional as F

    from models.translation.methods.lrm.weight_free import structure_loss

    torch.manual_seed(0)
    x = F.avg_pool2d(torch.randn(4, 3, 128, 128), 5, 1, 2) * 3
    mixing = torch.tensor([[0.8, 0.3, -0.2], [0.1, 1.2, 0.4], [-0.3, 0.2, 0.9]])
    recoloured = torch.einsum("ij,njhw->nihw", mixing, x) * 2 + 1
    mask = (x[:, :1] > 0).float()
    per_class = recoloured * mask + (torch.einsum("ij,njhw->nihw", mixing.T, x) - 0.5) * (1 - mask)
    shuffled = x.reshape(4, 3, -1)[:, :, torch.randperm(128 * 128)].reshape(x.shape)
    cases = {"band-mixing colour change": recoloured,
             "two colour changes split by a sharp mask": per_class,
             "5x5 blur": F.avg_pool2d(x, 5, 1, 2), "flat image": torch.zeros_like(x),
             "pixels shuffled": shuffled}
    print("weight-free structure loss (0 = same structure):")
    for name, image in cases.items():
        print(f"  {name:42s} {structure_loss(image, x).item():.3f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=8)
    p.add_argument("--patch-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    import torch

    from models.runtime.reporting import Reporter
    from models.translation.config import TranslatorConfig
    from models.translation.methods.lrm.train import train

    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    side = 4 * args.patch_size
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
          f"{args.patch_size}x{args.patch_size} batch {args.batch_size}, {args.iterations} "
          f"iterations, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_losses_") as folder:
        source = write(os.path.join(folder, "source.tif"),
                       rng.integers(0, 256, (3, side, side), dtype=np.uint8))
        target = write(os.path.join(folder, "target.tif"),
                       rng.integers(0, 256, (3, 2 * args.patch_size, 2 * args.patch_size),
                                    dtype=np.uint8))
        weights = vgg_file(folder)
        for family in FAMILIES:
            config = TranslatorConfig(
                sources=[source], target=target, patch_size=args.patch_size,
                batch_size=args.batch_size, epochs=1000, max_iterations=args.iterations,
                patience=0, device=args.device, perceptual_loss=family,
                vgg_weights=weights if family == "vgg19_imagenet" else None,
                output=os.path.join(folder, f"{family}.safetensors"))
            result = train(config, Reporter())
            print(f"  {family:15s} {result['seconds_per_iteration']:.3f} s/iteration", flush=True)
    structure_figures()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
