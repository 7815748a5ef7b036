"""Every training parameter of a translator, with the defaults of the paper.

``TranslatorConfig`` is what ``train-translator`` builds from its flags and what a
method's ``train(config, reporter)`` receives. Methods read the fields they need and
ignore the others (histogram matching needs no learning rate).
"""

from dataclasses import asdict, dataclass, field, fields
from typing import List, Optional

from .. import contract
from ..errors import LrmError

MIN_PATCH_SIZE = 32  # the discriminator halves the patch five times


@dataclass
class TranslatorConfig:
    sources: List[str] = field(default_factory=list)  # SOURCE rasters (one or more)
    target: str = ""                                   # TARGET raster (the one-shot sample)
    target_extent: Optional[str] = None                # "xmin,ymin,xmax,ymax" in TARGET's CRS
    bands: Optional[str] = None                        # "1,2,3"; None = the first three
    patch_size: int = contract.PATCH_SIZE
    batch_size: int = contract.BATCH_SIZE
    epochs: int = 100
    max_iterations: int = 0                            # 0 = no cap
    learning_rate: float = contract.LEARNING_RATE
    weight_decay: float = contract.WEIGHT_DECAY
    lambda_rec: float = 30.0
    lambda_adv: float = 1000.0
    lambda_content: float = 1.0
    lambda_style: float = 5.0
    patience: int = 10                                 # epochs without improvement; 0 = off
    vgg_weights: Optional[str] = None
    device: str = "auto"
    seed: int = 0
    output: str = ""                                   # model file (.safetensors)
    method: str = "lrm"
    fda_beta: float = 0.01
    validation_fraction: float = 0.15                  # share of source patches held out
    max_validation_patches: int = 32                   # validation patches kept in memory
    perceptual_loss: str = "auto"                      # LRM loss family (translator/perceptual.py)
    style_mixing: Optional[str] = None                 # spatial | global; None = by loss family
    one_shot_size: int = contract.ONE_SHOT_SIZE        # side of the one-shot sample; 0 = patch size

    def validate(self):
        """Check values that make no sense whatever the data (raise LrmError)."""
        if not self.sources:
            raise LrmError("No SOURCE raster given: select at least one source layer.")
        if not self.target:
            raise LrmError("No TARGET raster given: select the one-shot target layer.")
        if not self.output:
            raise LrmError("No OUTPUT model file given.")
        if self.patch_size < MIN_PATCH_SIZE or self.patch_size % 2:
            raise LrmError(f"PATCH_SIZE must be an even number of at least {MIN_PATCH_SIZE} "
                           f"pixels, not {self.patch_size}.")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise LrmError(f"{name.upper()} must be at least 1, not {getattr(self, name)}.")
        for name in ("max_iterations", "patience"):
            if getattr(self, name) < 0:
                raise LrmError(f"{name.upper()} must be 0 or more, not {getattr(self, name)}.")
        if self.learning_rate <= 0:
            raise LrmError(f"LEARNING_RATE must be positive, not {self.learning_rate}.")
        for name in ("weight_decay", "lambda_rec", "lambda_adv", "lambda_content", "lambda_style"):
            if getattr(self, name) < 0:
                raise LrmError(f"{name.upper()} must not be negative, not {getattr(self, name)}.")
        if self.one_shot_size < 0:
            raise LrmError(f"ONE_SHOT_SIZE must be 0 (= PATCH_SIZE) or a size in pixels, not "
                           f"{self.one_shot_size}.")
        if not 0 <= self.fda_beta <= 0.5:
            raise LrmError(f"FDA_BETA must be between 0 and 0.5, not {self.fda_beta}.")
        return self

    def wanted_one_shot_size(self):
        """The one-shot sample's side before it is fitted to TARGET: ONE_SHOT_SIZE (even),
        never less than PATCH_SIZE (0 = PATCH_SIZE)."""
        size = self.one_shot_size - self.one_shot_size % 2
        return max(size, self.patch_size)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_args(cls, args):
        """Build from an argparse namespace (flags named after the fields)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in vars(args).items() if k in names and v is not None}
        if getattr(args, "source", None):
            values["sources"] = list(args.source)
        return cls(**values)
