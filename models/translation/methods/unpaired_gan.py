"""What the two-generator GAN baselines share (CycleGAN, Benjdira et al., DualGAN).

Each is a pair of generators (SOURCE->TARGET and TARGET->SOURCE) and a pair of
discriminators trained on unpaired patches: SOURCE training patches, one pass of them per
epoch, against random PATCH_SIZE windows of the whole TARGET layer (one patch cannot
show these methods a distribution, so they are not one-shot, and say so). A method
supplies a :class:`GanSpec`: its name, its published learning rate, the model (networks,
optimisers and one ``step``), how its generator is built for loading, and which of the
two generators translation uses:

* ``source_to_target``: the model file holds the SOURCE->TARGET generator; the segmenter
  is trained on translated SOURCE images (CycleGAN, DualGAN, as in the LRM paper);
* ``target_to_source``: it holds the TARGET->SOURCE generator; TARGET images are
  translated towards the SOURCE look and classified by a segmenter trained on the
  untranslated SOURCE (Benjdira et al. 2019).

No early stopping (GAN losses do not tell translation quality): the model is saved after
every epoch; the validation SOURCE patches' cycle loss is reported as ``val_cycle_loss``.
"""

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import LrmError
from ...runtime.devices import (autocast, describe_device, out_of_memory_hint, resolve_device,
                                seed_everything)
from ...storage import model_checks as checks
from ...storage.model_file import DAMAGED, MAX_BANDS, save_model
from ..sampling import SourcePatches, check_inputs
from ..scaling import InputScaling
from ...training import engine
from ...training.engine import Budget
from .common import (TargetPatches, Translator, count_parameters, from_unit,
                     method_learning_rate, model_patch_size, provenance, require_meta, result,
                     to_unit)

DIRECTIONS = ("source_to_target", "target_to_source")


@dataclass
class GanSpec:
    method: str                      # the METHOD name
    label: str                       # for messages, e.g. "CycleGAN"
    published_learning_rate: float
    make_model: Callable             # (channels, device, learning_rate, rng) -> model
    build_generator: Callable        # (channels, architecture dict) -> nn.Module
    architecture: dict               # saved in the model file, passed to build_generator
    window_multiple: int
    direction: str = "source_to_target"
    decay_second_half: bool = True   # CycleGAN's linear decay; DualGAN keeps the rate
    extra_meta: dict = field(default_factory=dict)


def _tensor(raw, scaling, device):
    return torch.from_numpy(to_unit(scaling.to_model(raw))).to(device)


def _saved_generator(spec, model):
    return model.g_st if spec.direction == "source_to_target" else model.g_ts


def _save(spec, config, model, scaling, bands, target_info, source_infos, extra):
    generator = _saved_generator(spec, model)
    tensors = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    window = [0, 0, target_info.width, target_info.height]
    save_model(config.output, tensors, {
        "kind": "translator", "method": spec.method,
        **provenance(config, bands, target_info, source_infos, window),
        "input_scaling": scaling.to_meta(), "target_sampling": "whole TARGET layer",
        "direction": spec.direction,
        "architecture": {**spec.architecture, "channels": len(bands)},
        "parameters": count_parameters(generator), **spec.extra_meta, **extra})


def _warn_about_sampling(spec, config, targets, target_info, reporter):
    reporter.warning(f"{spec.label} needs many target patches: it samples random "
                     f"{config.patch_size}x{config.patch_size} windows from the whole TARGET "
                     f"layer ({target_info.width}x{target_info.height}) instead of one one-shot "
                     f"patch, so its result is not a one-shot adaptation.")
    if config.target_extent and str(config.target_extent).strip():
        reporter.warning(f"{spec.label} ignores TARGET_EXTENT (it samples the whole TARGET "
                         f"layer).")
    if targets.distinct_patches() < 4:
        reporter.warning(f"TARGET holds only {targets.distinct_patches()} non-overlapping "
                         f"{config.patch_size}-pixel patch(es); {spec.label} will overfit them.")
    if spec.direction == "target_to_source":
        reporter.info(f"{spec.label} translates TARGET images towards the SOURCE look: "
                      f"translate the TARGET rasters with this model and classify them with a "
                      f"segmenter trained on the untranslated SOURCE.")


def train(spec, config, reporter):
    """Train ``spec``'s model (see the module docstring) and return the result fields."""
    config.validate()
    if config.patch_size % spec.window_multiple:
        raise LrmError(f"{spec.label} needs PATCH_SIZE to be a multiple of "
                       f"{spec.window_multiple} pixels (its generator halves the image "
                       f"{int(math.log2(spec.window_multiple))} times); got "
                       f"{config.patch_size}.")
    bands, source_infos, target_info = check_inputs(config.sources, config.target,
                                                    config.bands, config.patch_size)
    device = resolve_device(config.device)
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    targets = TargetPatches(target_info, bands, config.patch_size, rng)
    _warn_about_sampling(spec, config, targets, target_info, reporter)
    sources = SourcePatches(source_infos, bands, config.patch_size, rng,
                            config.validation_fraction, config.max_validation_patches, reporter)
    target_pixels = targets.sample(min(4, config.batch_size))
    scaling = InputScaling.from_samples(
        [sources.pixel_sample(), target_pixels.transpose(1, 0, 2, 3).reshape(len(bands), -1)],
        [i.dtype for i in source_infos] + [target_info.dtype])
    learning_rate = method_learning_rate(config, spec.published_learning_rate, spec.label,
                                         reporter)
    model = spec.make_model(len(bands), device, learning_rate, rng)
    generator = _saved_generator(spec, model)
    budget = Budget(config.epochs, sources.iterations_per_epoch(config.batch_size),
                    config.max_iterations)
    budget.epochs = epochs = math.ceil(budget.total / budget.per_epoch)  # the ones that run
    reporter.info(f"{spec.label} on {describe_device(device)}: {epochs} epoch(s), {budget.total} "
                  f"iteration(s), batch {config.batch_size}, generator "
                  f"{count_parameters(generator):,} parameters ({spec.direction}).")
    task = _GanTask(spec, config, model, sources, targets, scaling, device, epochs, reporter,
                    (bands, target_info, source_infos))
    with out_of_memory_hint(device, config.batch_size, config.patch_size):
        outcome = engine.train(task, budget, reporter, device)
    return result(config, count_parameters(generator),
                  [0, 0, target_info.width, target_info.height], device,
                  seconds_per_iteration=outcome.seconds_per_iteration,
                  epochs_run=outcome.epochs_run, iterations=outcome.iterations,
                  validation_cycle_loss=task.validation_cycle_loss,
                  target_sampling="whole TARGET layer", direction=spec.direction,
                  parameters_total=count_parameters(*model.networks))


class _GanTask:
    """The training engine's task for a two-generator GAN: no model selection (GAN losses do
    not tell translation quality), so every epoch is saved; the held-out SOURCE patches'
    cycle loss is reported."""

    def __init__(self, spec, config, model, sources, targets, scaling, device, epochs,
                 reporter, provenance_parts):
        self.spec, self.config, self.model = spec, config, model
        self.sources, self.targets, self.scaling, self.device = sources, targets, scaling, device
        self.reporter, self.parts = reporter, provenance_parts
        self.validation = [_tensor(b, scaling, device)
                           for b in sources.validation_batches(config.batch_size)]
        self.schedulers = _linear_decay(model.optimizers, epochs) if spec.decay_second_half else []
        self.validation_cycle_loss = None

    def batches(self):
        return self.sources.epoch(self.config.batch_size)

    def step(self, raw):
        s = _tensor(raw, self.scaling, self.device)
        t = _tensor(self.targets.sample(len(raw)), self.scaling, self.device)
        return self.model.step(s, t)

    def end_epoch(self, epoch):
        for scheduler in self.schedulers:
            scheduler.step()
        self.validation_cycle_loss = validation_cycle_loss(self.model, self.validation)
        return None

    def save(self, epoch):
        _save(self.spec, self.config, self.model, self.scaling, *self.parts,
              {"epochs_run": epoch.number, "iterations": epoch.iterations,
               "val_cycle_loss": self.validation_cycle_loss})

    def report(self, epoch):
        losses, val = epoch.train, self.validation_cycle_loss
        self.reporter.info(f"epoch {epoch.number}/{epoch.epochs}: generator {losses['loss_g']:.4f}, "
                           f"discriminators {losses['loss_d']:.4f}, cycle {losses['cycle']:.4f}, "
                           f"validation cycle {val:.4f}")
        self.reporter.metric("val_cycle_loss", val, epoch=epoch.number)


def validation_cycle_loss(model, batches):
    """Mean L1 of SOURCE -> TARGET -> SOURCE on held-out unit-range batches, in eval mode
    (DualGAN's dropout off; CycleGAN's networks behave the same in both modes)."""
    losses = []
    for generator in (model.g_st, model.g_ts):
        generator.eval()
    with torch.no_grad(), autocast(model.device):
        for s in batches:
            losses.append(F.l1_loss(model.g_ts(model.g_st(s)).float(), s).item())
    for generator in (model.g_st, model.g_ts):
        generator.train()
    return float(np.mean(losses)) if losses else None


def _linear_decay(optimizers, epochs):
    """CycleGAN's schedule: the rate is kept for the first half of the epochs, then falls
    linearly towards zero (stepped once per epoch)."""
    decay_from = max(1, epochs // 2)

    def factor(e):
        return 1.0 - max(0, e + 1 - decay_from) / float(epochs - decay_from + 1)

    return [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in optimizers]


class GeneratorTranslator(Translator):
    def __init__(self, bands, generator, scaling, device, patch_size, window_multiple,
                 one_window_at_a_time):
        super().__init__(bands, window_multiple=window_multiple, preferred_window=patch_size)
        self.generator, self.scaling, self.device = generator, scaling, device
        self.one_window_at_a_time = one_window_at_a_time

    def translate(self, batch, offsets=None):
        x = _tensor(np.asarray(batch, np.float32), self.scaling, self.device)
        with torch.inference_mode(), autocast(self.device):
            if self.one_window_at_a_time:  # batch statistics: one window is one image
                y = torch.cat([self.generator(x[i:i + 1]) for i in range(len(x))])
            else:
                y = self.generator(x)
        return self.scaling.to_raw(from_unit(y.float().cpu().numpy()))


# Bounds on a model file's architecture values: far above what training writes (ngf 64,
# 9 blocks, 7 levels), low enough that checking a damaged value costs nothing.
ARCHITECTURE_BOUNDS = {"ngf": (1, 4096), "blocks": (0, 256), "levels": (1, 12)}


def load(spec, tensors, meta, device, one_window_at_a_time=False):
    require_meta(meta, ["bands", "input_scaling", "architecture", "patch_size"], spec.method)
    bands = checks.bands(meta)
    arch = checks.mapping(meta, "architecture")
    channels = checks.whole_number(arch.get("channels", len(bands)), "architecture.channels",
                                   1, MAX_BANDS)
    if channels != len(bands):
        raise LrmError(f"This {spec.label} model file declares {channels} channels for "
                       f"{len(bands)} bands. {DAMAGED}")
    arch = dict(arch, **{key: checks.whole_number(arch[key], f"architecture.{key}", low, high)
                         for key, (low, high) in ARCHITECTURE_BOUNDS.items() if key in arch})
    patch_size = model_patch_size(meta)
    scaling = InputScaling.from_meta(meta["input_scaling"], channels)
    state = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
    generator = checks.load_network(lambda: spec.build_generator(channels, arch), state,
                                    spec.label)
    generator.to(device).eval()
    return GeneratorTranslator(bands, generator, scaling, device, patch_size,
                               getattr(generator, "window_multiple", spec.window_multiple),
                               one_window_at_a_time)
