"""CycleGAN (Zhu et al. 2017) as the LRM paper's baseline.

Choices, following the authors' reference implementation unless said otherwise:

* Networks: two 9-block ResNet generators (SOURCE->TARGET and back; 11,378,179
  parameters each for 3 bands) and two 70x70 PatchGAN discriminators
  (:mod:`models.translation.methods.gan_networks`), weights initialised N(0, 0.02).
* Losses: LSGAN (mean squared error to 1 for real, 0 for fake), cycle consistency L1
  with lambda 10, identity L1 with weight 0.5 * lambda; discriminators trained on
  0.5 * (real + fake) with a pool of the last 50 generated images.
* Adam, lr 2e-4 (unless LEARNING_RATE is changed from its LRM default), betas
  (0.5, 0.999); constant for the first half of the epochs, then linearly decayed to 0.
* Data: CycleGAN learns a distribution, which one patch cannot show, so instead of the
  one-shot patch it samples a random PATCH_SIZE window of the whole TARGET layer for
  every target sample (and says so). TARGET_EXTENT is ignored. Batches of BATCH_SIZE
  (the reference uses 1). An epoch is one pass over the SOURCE training patches.
* Values: the shared input scaling (models units about 0..255) mapped to [-1, 1] for
  the tanh output; the output cannot leave the scaling's range (for non-8-bit data,
  the 0.5th..99.5th percentiles), which is where the generator's tanh saturates.
* No early stopping (GAN losses do not tell translation quality): the model is saved
  after every epoch. The cycle loss of the validation SOURCE patches is reported per
  epoch as ``val_cycle_loss``.

Only the SOURCE->TARGET generator is saved: it is all that translation needs.
"""

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F

from ...runtime.devices import (autocast, describe_device, grad_scaler, out_of_memory_hint,
                       resolve_device, seed_everything)
from ...errors import LrmError
from ...storage.model_file import save_model
from ..sampling import SourcePatches, check_inputs
from ..scaling import InputScaling
from .common import (IterationTimer, TargetPatches, Translator, count_parameters, from_unit,
                     iteration_budget, method_learning_rate, provenance, require_meta,
                     require_tensors, result, to_unit)
from .gan_networks import NGF, RESIDUAL_BLOCKS, init_normal, patch_discriminator, resnet_generator

METHOD = "cyclegan"
PUBLISHED_LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)
LAMBDA_CYCLE = 10.0
IDENTITY_WEIGHT = 0.5  # times LAMBDA_CYCLE
POOL_SIZE = 50
WINDOW_MULTIPLE = 4    # two stride-2 downsamplings


class ImagePool:
    """The reference's history of generated images for the discriminators."""

    def __init__(self, size, rng):
        self.size, self.rng, self.images = size, rng, []

    def query(self, batch):
        out = []
        for image in batch.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                k = int(self.rng.integers(len(self.images)))
                out.append(self.images[k])
                self.images[k] = image
            else:
                out.append(image)
        return torch.cat(out)


def lsgan(prediction, real):
    prediction = prediction.float()
    return F.mse_loss(prediction, torch.full_like(prediction, 1.0 if real else 0.0))


def _requires_grad(modules, flag):
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


class CycleGan:
    """The four networks, their optimisers and one training step."""

    def __init__(self, channels, device, learning_rate, rng):
        self.device = device
        self.g_st = init_normal(resnet_generator(channels, channels)).to(device)
        self.g_ts = init_normal(resnet_generator(channels, channels)).to(device)
        self.d_t = init_normal(patch_discriminator(channels)).to(device)
        self.d_s = init_normal(patch_discriminator(channels)).to(device)
        self.opt_g = torch.optim.Adam(itertools.chain(self.g_st.parameters(),
                                                      self.g_ts.parameters()),
                                      lr=learning_rate, betas=BETAS)
        self.opt_d = torch.optim.Adam(itertools.chain(self.d_t.parameters(),
                                                      self.d_s.parameters()),
                                      lr=learning_rate, betas=BETAS)
        self.pool_t, self.pool_s = ImagePool(POOL_SIZE, rng), ImagePool(POOL_SIZE, rng)
        self.scaler = grad_scaler(device)

    def step(self, s, t):
        """One iteration on unit-range batches ``s`` (SOURCE) and ``t`` (TARGET)."""
        _requires_grad([self.d_t, self.d_s], False)
        with autocast(self.device):
            fake_t, fake_s = self.g_st(s), self.g_ts(t)
            adv = lsgan(self.d_t(fake_t), True) + lsgan(self.d_s(fake_s), True)
            cycle = (F.l1_loss(self.g_ts(fake_t).float(), s)
                     + F.l1_loss(self.g_st(fake_s).float(), t))
            identity = (F.l1_loss(self.g_st(t).float(), t) + F.l1_loss(self.g_ts(s).float(), s))
            loss_g = adv + LAMBDA_CYCLE * cycle + LAMBDA_CYCLE * IDENTITY_WEIGHT * identity
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        self.scaler.step(self.opt_g)
        _requires_grad([self.d_t, self.d_s], True)
        with autocast(self.device):
            old_t, old_s = self.pool_t.query(fake_t), self.pool_s.query(fake_s)
            loss_d = 0.5 * (lsgan(self.d_t(t), True) + lsgan(self.d_t(old_t), False)
                            + lsgan(self.d_s(s), True) + lsgan(self.d_s(old_s), False))
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler.scale(loss_d).backward()
        self.scaler.step(self.opt_d)
        self.scaler.update()
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "cycle": cycle.item()}

    def validation_cycle(self, batches):
        losses = []
        with torch.no_grad(), autocast(self.device):
            for s in batches:
                losses.append(F.l1_loss(self.g_ts(self.g_st(s)).float(), s).item())
        return float(np.mean(losses)) if losses else None


def _tensor(raw, scaling, device):
    return torch.from_numpy(to_unit(scaling.to_model(raw))).to(device)


def _save(config, model, scaling, bands, target_info, source_infos, extra):
    tensors = {f"generator.{k}": v for k, v in model.g_st.state_dict().items()}
    window = [0, 0, target_info.width, target_info.height]
    save_model(config.output, tensors, {
        "kind": "translator", "method": METHOD,
        **provenance(config, bands, target_info, source_infos, window),
        "input_scaling": scaling.to_meta(), "target_sampling": "whole TARGET layer",
        "architecture": {"ngf": NGF, "blocks": RESIDUAL_BLOCKS, "channels": len(bands)},
        "parameters": count_parameters(model.g_st), **extra})


def train(config, reporter):
    config.validate()
    bands, source_infos, target_info = check_inputs(config.sources, config.target,
                                                    config.bands, config.patch_size)
    device = resolve_device(config.device)
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    targets = TargetPatches(target_info, bands, config.patch_size, rng)
    reporter.warning(f"CycleGAN needs many target patches: it samples random "
                     f"{config.patch_size}x{config.patch_size} windows from the whole TARGET "
                     f"layer ({target_info.width}x{target_info.height}) instead of one one-shot "
                     f"patch, so its result is not a one-shot adaptation.")
    if config.target_extent and str(config.target_extent).strip():
        reporter.warning("CycleGAN ignores TARGET_EXTENT (it samples the whole TARGET layer).")
    if targets.distinct_patches() < 4:
        reporter.warning(f"TARGET holds only {targets.distinct_patches()} non-overlapping "
                         f"{config.patch_size}-pixel patch(es); CycleGAN will overfit them.")
    sources = SourcePatches(source_infos, bands, config.patch_size, rng,
                            config.validation_fraction, config.max_validation_patches, reporter)
    target_pixels = targets.sample(min(4, config.batch_size))
    scaling = InputScaling.from_samples(
        [sources.pixel_sample(), target_pixels.transpose(1, 0, 2, 3).reshape(len(bands), -1)],
        [i.dtype for i in source_infos] + [target_info.dtype])
    learning_rate = method_learning_rate(config, PUBLISHED_LEARNING_RATE, "CycleGAN", reporter)
    model = CycleGan(len(bands), device, learning_rate, rng)
    per_epoch = sources.iterations_per_epoch(config.batch_size)
    total = iteration_budget(config, per_epoch)
    epochs = math.ceil(total / per_epoch)
    decay_from = max(1, epochs // 2)  # linear decay over the second half, as in the reference

    def factor(e):
        return 1.0 - max(0, e + 1 - decay_from) / float(epochs - decay_from + 1)

    schedulers = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in (model.opt_g, model.opt_d)]
    reporter.info(f"CycleGAN on {describe_device(device)}: {epochs} epoch(s), {total} "
                  f"iteration(s), batch {config.batch_size}, generator "
                  f"{count_parameters(model.g_st):,} parameters.")
    validation = [_tensor(b, scaling, device)
                  for b in sources.validation_batches(config.batch_size)]
    timer, iteration, epoch, val = IterationTimer(device), 0, 0, None
    summary = {"parameters_total": count_parameters(model.g_st, model.g_ts, model.d_t, model.d_s)}
    with out_of_memory_hint(device, config.batch_size, config.patch_size):
        for epoch in range(1, epochs + 1):
            losses = []
            timer.start_epoch()
            for raw in sources.epoch(config.batch_size):
                s = _tensor(raw, scaling, device)
                t = _tensor(targets.sample(len(raw)), scaling, device)
                losses.append(model.step(s, t))
                timer.lap()
                iteration += 1
                reporter.progress(100.0 * iteration / total)
                if iteration >= total:
                    break
            for scheduler in schedulers:
                scheduler.step()
            val = model.validation_cycle(validation)
            mean = {k: float(np.mean([l[k] for l in losses])) for k in losses[0]}
            reporter.info(f"epoch {epoch}/{epochs}: generator {mean['loss_g']:.4f}, "
                          f"discriminators {mean['loss_d']:.4f}, cycle {mean['cycle']:.4f}, "
                          f"validation cycle {val:.4f}")
            reporter.metric("val_cycle_loss", val, epoch=epoch)
            _save(config, model, scaling, bands, target_info, source_infos,
                  {"epochs_run": epoch, "iterations": iteration, "val_cycle_loss": val})
            if iteration >= total:
                break
    return result(config, count_parameters(model.g_st),
                  [0, 0, target_info.width, target_info.height], device,
                  seconds_per_iteration=timer.seconds_per_iteration, epochs_run=epoch,
                  iterations=iteration, validation_cycle_loss=val,
                  target_sampling="whole TARGET layer", **summary)


class CycleGanTranslator(Translator):
    def __init__(self, bands, generator, scaling, device, patch_size):
        super().__init__(bands, window_multiple=WINDOW_MULTIPLE, preferred_window=patch_size)
        self.generator, self.scaling, self.device = generator, scaling, device

    def translate(self, batch, offsets=None):
        x = _tensor(np.asarray(batch, np.float32), self.scaling, self.device)
        with torch.inference_mode(), autocast(self.device):
            y = self.generator(x).float().cpu().numpy()
        return self.scaling.to_raw(from_unit(y))


def load(tensors, meta, device):
    require_meta(meta, ["bands", "input_scaling", "architecture", "patch_size"], METHOD)
    arch = meta["architecture"]
    channels = int(arch.get("channels", len(meta["bands"])))
    generator = resnet_generator(channels, channels, int(arch.get("ngf", NGF)),
                                 int(arch.get("blocks", RESIDUAL_BLOCKS)))
    state = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
    require_tensors(state, [k for k in generator.state_dict()], METHOD)
    try:
        generator.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise LrmError(f"This CycleGAN model file does not match the generator architecture "
                       f"({exc}). Train it again.") from None
    generator.to(device).eval()
    scaling = InputScaling.from_meta(meta["input_scaling"])
    return CycleGanTranslator(meta["bands"], generator, scaling, device, int(meta["patch_size"]))
