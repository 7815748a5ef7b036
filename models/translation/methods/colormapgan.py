"""ColorMapGAN (Tasar et al., IEEE TGRS 2020) as the LRM paper's baseline.

The generator is no network: for every possible 8-bit colour (256^3 of them for 3
bands) it holds a scale and a bias per band, and translates a pixel of colour ``x``
(in [-1, 1]) to ``x * scale[x] + bias[x]``. That is 256^3 * 3 * 2 = 100,663,296
parameters (Table I: 100.663M), initialised to the identity (scale 1, bias 0). It is
trained adversarially (LSGAN) against a discriminator (five convs 4x4 stride 2,
:mod:`models.translation.methods.gan_networks`) that sees the one-shot target patch (randomly
flipped and rotated; colours unchanged) as real and translated SOURCE patches as fake.
Here it maps SOURCE to TARGET (the paper maps target images to the source style; the
plugin translates SOURCE rasters, so the direction is reversed).

Choices and costs:

* 8-bit imagery with exactly 3 bands only (the table indexes 8-bit colours; other
  band counts would need 256^C colours). Anything else is a clear error.
* The table is an embedding with sparse gradients, optimised with ``SparseAdam``
  (lr 2e-4 unless LEARNING_RATE is changed, betas (0.5, 0.999)): only colours present
  in a batch are updated, which is what a per-colour table means, and an iteration
  costs the batch, not 100M parameters. Memory: the table (400 MB float32) and
  SparseAdam's two moment tables (800 MB) make about 1.2 GB whatever the batch; dense
  Adam with dense gradients would need about 1.6 GB.
* No output tanh, so the identity initialisation is exactly the identity; the output
  is clipped to 0..255 when translating.
* The model file stores only the colours whose scale or bias changed (colours never
  seen in training keep the identity), so a model of 100.7M parameters is a file of
  megabytes, not 400 MB. Translation looks colours up in that list.
* No early stopping (GAN losses do not tell translation quality); the model is saved
  after every epoch.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from ...runtime.devices import describe_device, out_of_memory_hint, resolve_device, seed_everything
from ...errors import LrmError
from ...storage import model_checks as checks
from ...storage.model_file import save_model
from ..sampling import SourcePatches, check_inputs, one_shot_sample
from ...training import engine
from ...training.engine import Budget
from .common import (Translator, count_parameters,
                     method_learning_rate, provenance, require_meta, require_tensors, result)
from .gan_networks import conv_discriminator

METHOD = "colormapgan"
CHANNELS = 3
LEVELS = 256
COLOURS = LEVELS ** CHANNELS
PARAMETERS = COLOURS * CHANNELS * 2  # 100,663,296
PUBLISHED_LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)


def check_imagery(bands, infos):
    if len(bands) != CHANNELS:
        raise LrmError(f"ColorMapGAN maps 8-bit colours of exactly {CHANNELS} bands (a table of "
                       f"256^{CHANNELS} colours); BANDS selects {len(bands)}. Choose 3 bands.")
    for info in infos:
        if np.dtype(info.dtype) != np.uint8:
            raise LrmError(f"ColorMapGAN needs 8-bit imagery (it indexes 8-bit colours), but "
                           f"{info.describe()} is {info.dtype}. Convert the rasters to Byte "
                           f"(e.g. gdal_translate -ot Byte -scale) or choose another METHOD.")


def colour_index(values):
    """(N, 3, H, W) integer colours 0..255 -> (N, H, W) index r * 65536 + g * 256 + b."""
    return (values[:, 0] * LEVELS + values[:, 1]) * LEVELS + values[:, 2]


class ColourTable(torch.nn.Module):
    """The per-colour affine generator: a (256^3, 6) table of scales and biases."""

    def __init__(self):
        super().__init__()
        table = torch.empty(COLOURS, 2 * CHANNELS)
        table[:, :CHANNELS] = 1.0
        table[:, CHANNELS:] = 0.0
        self.table = torch.nn.Parameter(table)

    def forward(self, colours):
        """``colours``: (N, 3, H, W) float 0..255 integers -> (N, 3, H, W) in ~[-1, 1]."""
        index = colour_index(colours.long())
        params = F.embedding(index, self.table, sparse=True).permute(0, 3, 1, 2)
        unit = colours / 127.5 - 1.0
        return unit * params[:, :CHANNELS] + params[:, CHANNELS:]

    def changed(self):
        """(indices, scale, bias) of the colours that differ from the identity."""
        table = self.table.detach()
        moved = (table[:, :CHANNELS] != 1).any(1) | (table[:, CHANNELS:] != 0).any(1)
        index = torch.nonzero(moved).flatten()
        rows = table[index].float().cpu()
        return index.cpu(), rows[:, :CHANNELS].contiguous(), rows[:, CHANNELS:].contiguous()


def _augment(patch, rng, size):
    """A random size x size crop of the (C, S, S) one-shot sample (S >= size), randomly
    flipped and turned by 90 degrees (colours unchanged)."""
    if patch.shape[-1] > size or patch.shape[-2] > size:
        y = int(rng.integers(patch.shape[-2] - size + 1))
        x = int(rng.integers(patch.shape[-1] - size + 1))
        patch = patch[:, y:y + size, x:x + size]
    patch = np.rot90(patch, int(rng.integers(4)), axes=(1, 2))
    if rng.random() < 0.5:
        patch = patch[:, :, ::-1]
    return np.ascontiguousarray(patch)


def _save(config, generator, meta, extra):
    index, scale, bias = generator.changed()
    save_model(config.output, {"colours": index.to(torch.int64), "scale": scale, "bias": bias},
               {"kind": "translator", "method": METHOD, "levels": LEVELS, **meta,
                "parameters": count_parameters(generator),
                "changed_colours": int(index.numel()), **extra})
    return int(index.numel())


def train(config, reporter):
    config.validate()
    bands, source_infos, target_info = check_inputs(config.sources, config.target,
                                                    config.bands, config.patch_size)
    check_imagery(bands, source_infos + [target_info])
    device = resolve_device(config.device)
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    target, window = one_shot_sample(config, target_info, bands, reporter)
    target = np.rint(target)  # nodata filled with band means: back to 8-bit colours
    meta = provenance(config, bands, target_info, source_infos, window)
    sources = SourcePatches(source_infos, bands, config.patch_size, rng,
                            config.validation_fraction, config.max_validation_patches, reporter)
    learning_rate = method_learning_rate(config, PUBLISHED_LEARNING_RATE, "ColorMapGAN", reporter)
    reporter.info(f"ColorMapGAN on {describe_device(device)}: a table of {PARAMETERS:,} "
                  f"parameters (about 1.2 GB with the optimiser state).")
    with out_of_memory_hint(device, config.batch_size, config.patch_size):
        task = _ColorMapTask(config, sources, target, rng, device, learning_rate, meta, reporter)
        budget = Budget(config.epochs, sources.iterations_per_epoch(config.batch_size),
                        config.max_iterations)
        budget.epochs = math.ceil(budget.total / budget.per_epoch)  # the ones that run
        outcome = engine.train(task, budget, reporter, device)
    return result(config, count_parameters(task.generator), window, device,
                  seconds_per_iteration=outcome.seconds_per_iteration,
                  epochs_run=outcome.epochs_run, iterations=outcome.iterations,
                  changed_colours=task.changed,
                  discriminator_parameters=count_parameters(task.discriminator))


class _ColorMapTask:
    """The training engine's task: least-squares GAN steps on the colour table, no model
    selection (saved after every epoch)."""

    def __init__(self, config, sources, target, rng, device, learning_rate, meta, reporter):
        self.config, self.sources, self.target, self.rng = config, sources, target, rng
        self.device, self.meta, self.reporter = device, meta, reporter
        self.generator = ColourTable().to(device)
        self.discriminator = conv_discriminator(CHANNELS).to(device)
        self.opt_g = torch.optim.SparseAdam(self.generator.parameters(), lr=learning_rate,
                                            betas=BETAS)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=learning_rate,
                                      betas=BETAS)
        self.changed = 0

    def batches(self):
        return self.sources.epoch(self.config.batch_size)

    def step(self, raw):
        s = torch.from_numpy(np.rint(raw)).to(self.device)
        real = np.stack([_augment(self.target, self.rng, self.config.patch_size)
                         for _ in range(len(raw))])
        real = torch.from_numpy(real).to(self.device) / 127.5 - 1.0
        fake = self.generator(s)
        pred = self.discriminator(fake)
        loss_g = F.mse_loss(pred, torch.ones_like(pred))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        p_real, p_fake = self.discriminator(real), self.discriminator(fake.detach())
        loss_d = 0.5 * (F.mse_loss(p_real, torch.ones_like(p_real))
                        + F.mse_loss(p_fake, torch.zeros_like(p_fake)))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item()}

    def end_epoch(self, epoch):
        return None

    def save(self, epoch):
        self.changed = _save(self.config, self.generator, self.meta,
                             {"epochs_run": epoch.number, "iterations": epoch.iterations})

    def report(self, epoch):
        self.reporter.info(f"epoch {epoch.number}/{epoch.epochs}: generator "
                           f"{epoch.train['loss_g']:.4f}, discriminator "
                           f"{epoch.train['loss_d']:.4f}, {self.changed:,} colours changed")
        self.reporter.metric("loss_g", epoch.train["loss_g"], epoch=epoch.number)


class ColorMapTranslator(Translator):
    def __init__(self, bands, colours, scale, bias):
        super().__init__(bands, window_multiple=1, preferred_window=None)
        self.colours, self.scale, self.bias = colours, scale, bias

    def translate(self, batch, offsets=None):
        x = np.rint(np.asarray(batch, np.float32))
        if x.shape[1] != CHANNELS:
            raise LrmError(f"ColorMapGAN translates {CHANNELS} bands, not {x.shape[1]}.")
        if x.size and (x.min() < 0 or x.max() >= LEVELS):
            raise LrmError("ColorMapGAN translates 8-bit imagery only (values 0..255), but "
                           "this raster has values outside that range. Translate a Byte raster "
                           "with the bands the model was trained on.")
        index = colour_index(x.astype(np.int64))
        scale = np.ones(x.shape[:1] + x.shape[2:] + (CHANNELS,), np.float32)
        bias = np.zeros_like(scale)
        if len(self.colours):
            pos = np.minimum(np.searchsorted(self.colours, index), len(self.colours) - 1)
            hit = self.colours[pos] == index
            scale[hit], bias[hit] = self.scale[pos[hit]], self.bias[pos[hit]]
        unit = x / 127.5 - 1.0
        out = unit * scale.transpose(0, 3, 1, 2) + bias.transpose(0, 3, 1, 2)
        return ((np.clip(out, -1.0, 1.0) + 1.0) * 127.5).astype(np.float32)


def load(tensors, meta, device):
    require_meta(meta, ["bands"], METHOD)
    require_tensors(tensors, ["colours", "scale", "bias"], METHOD)
    bands = checks.bands(meta)
    colours = tensors["colours"]
    if colours.is_floating_point() or colours.is_complex() or colours.dim() != 1:
        raise LrmError("This ColorMapGAN model file is damaged: its colour list is not one "
                       "row of whole numbers. Train it again.")
    colours = colours.long().cpu().numpy()
    scale = tensors["scale"].float().cpu().numpy()
    bias = tensors["bias"].float().cpu().numpy()
    if (len(bands) != CHANNELS or scale.shape != (len(colours), CHANNELS)
            or bias.shape != scale.shape or (len(colours) and np.any(np.diff(colours) <= 0))
            or (len(colours) and (colours[0] < 0 or colours[-1] >= COLOURS))):
        raise LrmError("This ColorMapGAN model file is inconsistent (colour table shapes). "
                       "Train it again.")
    return ColorMapTranslator(bands, colours, scale, bias)
