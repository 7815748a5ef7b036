"""Training loop of the LRM translator: data, epochs, validation, early stopping, saving.

An epoch is one pass over the training source patches. Validation (eval mode, held-out
source patches) runs at the end of every epoch and when MAX_ITERATIONS stops training
mid-epoch; whenever the validation loss improves, the model file is rewritten
atomically, so from the end of the first epoch on a killed (cancelled) worker leaves
the best model so far as a valid file. Training stops after EPOCHS, after
MAX_ITERATIONS (when > 0), or when the validation loss has not improved for PATIENCE
epochs (when > 0; with the weight-free losses, counted only once their anchor to the
source is released, since the validation loss cannot settle before). At the end the
best weights are saved again with the full loss history.
"""

import math
import time

import numpy as np
import torch

from ....runtime import distributed
from ....runtime.devices import flush_denormals, out_of_memory_hint, seed_everything
from ....errors import LrmError
from ...sampling import SourcePatches, check_inputs, one_shot_sample
from ...scaling import InputScaling
from ....training import engine
from ....training.engine import Budget
from .network import Discriminator, Generator, count_parameters
from .save import save_translator
from . import weight_free as wf
from .trainer import Trainer
from .perceptual import resolve_perceptual_loss, style_mixing_for


def _describe(losses, keys=("total", "rec", "adv", "content", "style", "structure", "anchor",
                            "dis")):
    return ", ".join(f"{k} {losses[k]:.4g}" for k in keys if k in losses)


def _prepare(config, reporter):
    """Check inputs, read the one-shot sample and the source patches, fix the scaling."""
    bands, source_infos, target_info = check_inputs(config.sources, config.target,
                                                    config.bands, config.patch_size)
    target_raw, window = one_shot_sample(config, target_info, bands, reporter)
    reporter.info(f"One-shot target: {window[2]}x{window[3]} window at x={window[0]}, "
                  f"y={window[1]} of {target_info.describe()}; bands {bands}.")
    rng = np.random.default_rng(config.seed)
    patches = SourcePatches(source_infos, bands, config.patch_size, rng,
                            config.validation_fraction, config.max_validation_patches, reporter)
    sample = np.concatenate([patches.pixel_sample(), target_raw.reshape(len(bands), -1)], axis=1)
    scaling = InputScaling.from_samples([sample], [info.dtype for info in source_infos]
                                        + [target_info.dtype])
    in_model_units = scaling.to_model(sample[:, :, None])[:, :, 0]
    standardization = (in_model_units.mean(axis=1), in_model_units.std(axis=1))
    reporter.info(f"Source patches: {len(patches.train_windows)} for training, "
                  f"{len(patches.validation)} for validation, from {len(source_infos)} raster(s). "
                  f"Input scaling: {scaling.mode}.")
    return bands, source_infos, target_info, target_raw, window, patches, scaling, standardization


def train(config, reporter):
    """Train on one device, or as one rank of a data-parallel group (``runtime/distributed``):
    the source patches are sharded, the gradients of both networks averaged, and rank 0
    alone validates for the group and writes."""
    config.validate()
    group = distributed.join(config.device)
    try:
        with flush_denormals(), group.failures_as_errors():  # denormals slow CPU kernels ~5x
            return _train(config, reporter, group)
    finally:
        group.close()


def _train(config, reporter, group):
    started = time.monotonic()
    device = group.device
    reporter.info(f"Device: {group.describe()}")
    bands, source_infos, target_info, target_raw, window, patches, scaling, standard = _prepare(
        config, reporter.scaled(0, 2))
    seed_everything(config.seed)
    channels = len(bands)
    vgg, family, vgg_source = resolve_perceptual_loss(config.perceptual_loss, config.vgg_weights,
                                                      reporter)
    mixing = style_mixing_for(family, config.style_mixing)
    reporter.info(f"Losses: {family} (PERCEPTUAL_LOSS {config.perceptual_loss}); VGG19 weights: "
                  f"{vgg_source}; style mixing: {mixing}.")
    generator, discriminator, parameters = _networks(channels, standard, device, reporter)

    if len(patches.train_windows) < group.world_size:
        raise LrmError(f"{len(patches.train_windows)} training SOURCE patch(es) cannot be shared "
                       f"among {group.world_size} ranks; use fewer devices or a smaller PATCH_SIZE.")
    budget = Budget(config.epochs, patches.iterations_per_epoch(config.batch_size, group.world_size),
                    config.max_iterations, config.patience)
    to_device = lambda raw: torch.from_numpy(scaling.to_model(raw)).to(device)  # noqa: E731
    context = {
        "config": config, "bands": bands, "window": window, "scaling": scaling,
        "target_raw": target_raw, "target_info": target_info, "source_infos": source_infos,
        "vgg_source": vgg_source, "parameters": parameters, "history": [],
        "perceptual_loss": family, "style_mixing": mixing,
    }

    with out_of_memory_hint(device, config.batch_size, config.patch_size):
        target = to_device(target_raw[None])
        trainer = Trainer(generator, discriminator, vgg.to(device) if vgg is not None else None,
                          target, config, device, budget.total, mixing=mixing,
                          average_gradients=group.average_gradients)
        task = _TranslatorTask(trainer, patches, to_device, context, reporter, group)
        outcome = engine.train(task, budget, reporter, device, progress=(2, 99))
        parallel = _check_in_sync(group, trainer, reporter)
        if not group.is_main:
            return {}
        state = task.state
        state.update(stopped=outcome.stopped_by, iterations=outcome.iterations)
        if outcome.stopped_by == "early_stopping":
            reporter.info(f"Early stopping: no validation improvement for {config.patience} "
                          f"epochs (best {state['best']:.4g} at epoch {state['best_epoch']}).")
        if state["best_tensors"] is None:
            raise LrmError("Training produced no usable model: the validation loss was never "
                           "finite (the losses diverged). Try a lower LEARNING_RATE or check the "
                           "SOURCE and TARGET values.")
        diagnostics = _diagnostics(trainer, state, patches, config, to_device, reporter)
        context["diagnostics"] = diagnostics
        save_translator(config.output, state["best_tensors"], _metadata(context, state))  # full history

    return {
        "output": config.output, "method": "lrm", "parameters": parameters,
        "discriminator_parameters": count_parameters(discriminator),
        "seconds_per_iteration": outcome.seconds_per_iteration,
        "best_validation_loss": state["best"] if math.isfinite(state["best"]) else None,
        "best_epoch": state["best_epoch"], "target_window": window,
        "device": group.describe(), "epochs_run": outcome.epochs_run,
        "iterations": outcome.iterations, "stopped_by": state["stopped"], "vgg_weights": vgg_source,
        "perceptual_loss_used": family, "style_mixing": mixing, "one_shot_size": window[2],
        "input_scaling": scaling.mode, "diagnostics": diagnostics,
        "seconds": round(time.monotonic() - started, 3), **parallel,
    }


def _check_in_sync(group, trainer, reporter):
    """The ranks' final networks are identical (else data-parallel training went wrong)."""
    if not group.active:
        return {}
    group.sync_buffers(trainer.gen)
    prints = group.gather(distributed.fingerprint(trainer.gen) + distributed.fingerprint(trainer.dis))
    if len(set(prints)) != 1:
        reporter.warning(f"The ranks' final translators differ ({prints}); the model file holds "
                         f"rank 0's. Please report this.")
    return {"ranks": group.world_size, "rank_fingerprints": prints,
            "ranks_in_sync": len(set(prints)) == 1}


def _networks(channels, standard, device, reporter):
    """The generator (with the pooled standardisation) and the discriminator, on ``device``."""
    generator = Generator(channels)
    generator.set_standardization(*standard)
    generator.to(device)
    discriminator = Discriminator(channels).to(device)
    parameters = count_parameters(generator)
    reporter.info(f"Translator: {parameters:,} parameters (encoder + decoder); discriminator "
                  f"{count_parameters(discriminator):,}.")
    return generator, discriminator, parameters


def _diagnostics(trainer, state, patches, config, to_device, reporter):
    """Label-free check of the best model (see Trainer.diagnostics), logged with a warning
    when the translation did not move towards the one-shot sample or lost the layout."""
    best = {k[len("generator."):]: v for k, v in state["best_tensors"].items()
            if k.startswith("generator.")}
    trainer.gen.load_state_dict(best)
    figures = trainer.diagnostics(to_device(b) for b in patches.validation_batches(config.batch_size))
    moved = 1 - figures["style_translated"] / max(figures["style_source"], 1e-12)
    figures["style_moved"] = moved
    reporter.info(f"Check on held-out source patches: the translation is {100 * moved:.0f}% closer "
                  f"to the one-shot sample's colours and textures than the source (sliced "
                  f"Wasserstein {figures['style_source']:.3f} -> {figures['style_translated']:.3f}); "
                  f"structure loss {figures['structure']:.3f} (0 = layout kept, 1 = unrelated).")
    if moved < 0.1 or figures["structure"] > 0.5:
        reporter.warning("The translation " + ("hardly moved towards the target's look"
                         if moved < 0.1 else "lost much of the source's layout")
                         + ": adapting may not help. Look at translated tiles beside the target, "
                         "and try a one-shot sample (TARGET_EXTENT) that shows every land-cover "
                         "type, or more iterations.")
    return figures


class _TranslatorTask:
    """The training engine's task for LRM: model selection on the held-out source patches'
    validation loss; epochs without improvement count towards PATIENCE only once the
    weight-free anchor is released (the validation loss cannot settle before)."""

    def __init__(self, trainer, patches, to_device, context, reporter, group):
        self.trainer, self.patches, self.to_device = trainer, patches, to_device
        self.context, self.reporter, self.group = context, reporter, group
        self.epochs_started = 0
        self.config = context["config"]
        self.state = {"best": math.inf, "best_epoch": 0, "iterations": 0, "best_tensors": None,
                      "stopped": "epochs"}
        self.validation = None

    def batches(self):
        self.epochs_started += 1
        if not self.group.active:
            return self.patches.epoch(self.config.batch_size)
        return self.patches.shard_epoch(self.config.batch_size, self.epochs_started,
                                        self.group.rank, self.group.world_size, self.config.seed)

    def step(self, raw):
        return self.trainer.step(self.to_device(raw))

    def end_epoch(self, epoch):
        """Validation on every held-out patch; in a group rank 0's score decides for all
        (after rank 0's batch-norm statistics are copied to every rank)."""
        self.group.sync_buffers(self.trainer.gen)
        batches = self.patches.validation_batches(self.config.batch_size)
        validation = (self.trainer.validate(self.to_device(b) for b in batches)
                      if self.group.is_main else None)
        self.validation = self.group.broadcast(validation)
        self.context["history"].append({"epoch": epoch.number, "iterations": epoch.iterations,
                                        "learning_rate": self.trainer.learning_rate,
                                        "train": epoch.train, "validation": self.validation})
        return self.validation["total"]

    def patience_counts(self):
        return self.trainer.anchor_released

    def save(self, epoch):
        if not self.group.is_main:  # one writer per group
            return
        trainer = self.trainer
        self.state.update(best=epoch.score, best_epoch=epoch.number, iterations=epoch.iterations)
        self.state["best_tensors"] = {
            **{f"generator.{k}": v.detach().cpu().clone() for k, v in trainer.gen.state_dict().items()},
            "target_image": trainer.target[0].detach().float().cpu().clone(),
            "target_style": trainer.target_style().cpu(),
        }
        save_translator(self.config.output, self.state["best_tensors"],
                        _metadata(self.context, self.state))

    def report(self, epoch):
        val = self.validation
        self.reporter.info(f"epoch {epoch.number}/{epoch.epochs} ({epoch.iterations} iterations): "
                           f"train {_describe(epoch.train)} | validation {_describe(val)}"
                           + (" (best so far, saved)" if epoch.improved else ""))
        self.reporter.metric("train_loss", epoch.train["total"], epoch=epoch.number)
        self.reporter.metric("val_loss", val["total"], epoch=epoch.number)
        for key in ("rec", "content", "style", "structure"):
            if key in val:
                self.reporter.metric(f"val_{key}", val[key], epoch=epoch.number)


def _metadata(context, state):
    config = context["config"]
    return {
        "bands": context["bands"],
        "channels": len(context["bands"]),
        "patch_size": config.patch_size,
        "input_scaling": context["scaling"].to_meta(),
        "target": {"path": config.target, "window": context["window"],
                   "dtype": str(context["target_info"].dtype),
                   "band_count": context["target_info"].band_count},
        "sources": [{"path": i.path, "dtype": str(i.dtype), "band_count": i.band_count}
                    for i in context["source_infos"]],
        "training": {**config.to_dict(), "vgg_weights_used": context["vgg_source"]},
        "perceptual_loss": context["perceptual_loss"],
        **({"weight_free_losses": {"weights": dict(wf.WEIGHTS), "anchor_release": wf.ANCHOR_RELEASE,
                                   "r1_gamma": wf.R1_GAMMA}}
           if context["perceptual_loss"] == "weight_free" else {}),
        "style_mixing": context["style_mixing"],
        "one_shot_size": context["window"][2],
        "parameters": context["parameters"],
        "best_epoch": state["best_epoch"],
        "best_validation_loss": state["best"],
        "iterations": state["iterations"],
        "stopped_by": state["stopped"],
        "loss_history": context["history"],
        "diagnostics": context.get("diagnostics"),
    }
