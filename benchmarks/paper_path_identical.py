"""Check that the published training path is unchanged: same model, bit for bit.

    git worktree add /tmp/lrm_old <commit before the change>
    .venv/bin/python benchmarks/paper_path_identical.py --old-tree /tmp/lrm_old [--old-has-loss-families]

Trains the LRM translator for 8 iterations on tiny generated rasters (tests/backend's
``source_and_target``), with a test-made VGG19 weights file, once with the code of
``--old-tree`` (no PERCEPTUAL_LOSS or ONE_SHOT_SIZE there) and once with this tree
(``PERCEPTUAL_LOSS vgg19_imagenet``, ``ONE_SHOT_SIZE 0``, i.e. a one-shot sample of
PATCH_SIZE as in the paper's set-up), each in its own process, and compares every tensor
of the two model files. Prints "identical" or the tensors that differ (exit 1).
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAIN = r"""
import os, sys
tree, folder, new = sys.argv[1], sys.argv[2], sys.argv[3] == "new"
families = new or sys.argv[5] == "1"  # the tree knows PERCEPTUAL_LOSS and ONE_SHOT_SIZE
sys.path[:0] = [tree, os.path.join(sys.argv[4], "tests", "backend")]
os.environ["LRM_OFFLINE"] = "1"
import torch, torchvision
torch.set_num_threads(1)
from translation_rasters import source_and_target
from models.translation.methods.lrm import vgg as vgg_module
from models.translation.config import TranslatorConfig
from models.translation.methods.lrm.train import train
from models.runtime.reporting import Reporter
source, target, _, _ = source_and_target(folder)
torch.manual_seed(3)
features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])
state = {f"features.{k}": v for k, v in features.state_dict().items()
         if int(k.split(".")[0]) <= vgg_module.LAYERS["relu4_3"]}
weights = os.path.join(folder, "vgg19.pth")
torch.save(state, weights)
kw = dict(sources=[source], target=target, patch_size=32, batch_size=4, epochs=100,
          max_iterations=8, device="cpu", seed=0, vgg_weights=weights,
          output=os.path.join(folder, "new.safetensors" if new else "old.safetensors"))
if families:
    kw.update(perceptual_loss="vgg19_imagenet", one_shot_size=0)
train(TranslatorConfig(**kw), Reporter())
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old-tree", required=True, help="a checkout of the code before the change")
    p.add_argument("--old-has-loss-families", action="store_true",
                   help="the old tree has PERCEPTUAL_LOSS and ONE_SHOT_SIZE (1e7243c or later): "
                        "ask it for vgg19_imagenet and a PATCH_SIZE one-shot sample too")
    args = p.parse_args(argv)
    from safetensors.torch import load_file

    with tempfile.TemporaryDirectory(prefix="paper_path_") as folder:
        for tree, which in ((os.path.abspath(args.old_tree), "old"), (ROOT, "new")):
            subprocess.run([sys.executable, "-c", TRAIN, tree, folder, which, ROOT,
                            "1" if args.old_has_loss_families else "0"], check=True)
        old = load_file(os.path.join(folder, "old.safetensors"))
        new = load_file(os.path.join(folder, "new.safetensors"))
    differ = sorted(set(old) ^ set(new)) + [k for k in old if k in new and not
                                            (old[k].shape == new[k].shape and (old[k] == new[k]).all())]
    print("identical" if not differ else f"different: {differ[:10]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
