"""Training the U-Net segmenter (paper settings, see docs/segmenter.md).

Cross-entropy ignoring ``ignore_value``; Adam (lr, betas (0.5, 0.999), weight decay)
with a OneCycle schedule over the planned iterations; random flips and 90-degree
rotations; validation loss and mIoU after every epoch; early stopping when the
validation loss has not improved for ``patience`` epochs.

The model file is written (atomically) before the first training step, with the
untrained network and its validation scores, and rewritten whenever the validation
loss improves. So a killed or cancelled job always leaves a valid model file: the best
one so far (``trained_iterations`` in its metadata says how far it had got).
"""

import math
import os

import numpy as np
import torch

from ..runtime import devices, distributed
from ..errors import LrmError
from ..evaluation.metrics import ConfusionMatrix
from ..storage.model_file import save_model
from ..training import engine
from ..training.engine import Budget
from .data import (PatchDataset, PatchReader, augment, band_statistics, open_pairs,
                   patch_entries, split_entries)
from .encoder_weights import initialise_encoder
from .config import MIN_PATCH, check_config
from .network import build_unet, count_parameters

BETAS = (0.5, 0.999)


def _loader(dataset, batch_size, shuffle, workers, seed, drop_single=False, sampler=None):
    """``drop_single``: drop a last batch of one patch (batch norm cannot train on 1x1x1).
    ``sampler``: a data-parallel rank's shard (it shuffles; ``shuffle`` is then ignored)."""
    generator = torch.Generator().manual_seed(seed)
    size = len(sampler) if sampler is not None else len(dataset)
    drop = drop_single and size > batch_size and size % batch_size == 1
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                       shuffle=shuffle and sampler is None, sampler=sampler,
                                       num_workers=workers, generator=generator,
                                       persistent_workers=workers > 0, drop_last=drop)


def _loss_sum(logits, labels, ignore_value):
    """Summed cross-entropy and the number of labelled pixels (all-ignored batches give 0)."""
    loss = torch.nn.functional.cross_entropy(logits.float(), labels, ignore_index=ignore_value,
                                             reduction="sum")
    return loss, int((labels != ignore_value).sum())


def validate(model, loader, device, n_classes, ignore_value, group=None):
    """(mean loss per labelled pixel, mIoU in percent, per-class IoU list (None: absent),
    confusion matrix as nested lists) on the validation patches (in a data-parallel
    ``group``: this rank's share, summed over the ranks)."""
    model.eval()
    cm = ConfusionMatrix(n_classes)
    total, pixels = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            with devices.autocast(device):
                logits = model(images)
            loss, n = _loss_sum(logits, labels, ignore_value)
            total, pixels = total + float(loss), pixels + n
            pred = logits.argmax(1).cpu().numpy()
            ref = labels.cpu().numpy()
            cm.update(ref, pred, ref != ignore_value)
    if group is not None and group.active:
        sums = group.all_reduce_sum(np.concatenate([[total, pixels], cm.matrix.ravel()]))
        total, pixels = float(sums[0]), int(round(sums[1]))
        cm.matrix = np.rint(sums[2:]).astype(np.int64).reshape(cm.matrix.shape)
    scores = cm.scores()
    miou = scores["miou"]
    per_class = [c["iou"] if c["present"] else None for c in scores["per_class"]]
    return (total / max(pixels, 1), (0.0 if miou is None else miou), per_class,
            cm.matrix.tolist())


def _train_step(model, images, labels, optimizer, scaler, device, ignore_value):
    optimizer.zero_grad(set_to_none=True)
    with devices.autocast(device):
        logits = model(images)
    loss, n = _loss_sum(logits, labels, ignore_value)
    loss = loss / max(n, 1)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return float(loss.detach())


def _metadata(cfg, pairs, scaling, weights_info, history, best, n_params, iterations,
              group):
    """Everything needed to use the model alone (classify) and to know how it was made."""
    return {
        "kind": "segmenter", "architecture": "unet", "encoder": cfg.encoder,
        "encoder_depth": 5, "decoder_channels": list(cfg.decoder_channels),
        "in_channels": len(pairs[0].bands), "bands": pairs[0].bands,
        "input_scaling": scaling, "classes": cfg.classes.to_dict(),
        "ignore_value": cfg.ignore_value, "patch_size": cfg.patch_size,
        "label_format": cfg.label_format, "encoder_weights": weights_info,
        "parameters": n_params, "trained_iterations": iterations,
        "best_epoch": best["epoch"], "best_validation_loss": best["loss"],
        "best_validation_miou": best["miou"], "history": history,
        "best_validation_confusion": best.get("confusion"),
        "training": {"images": [p.image for p in pairs], "labels": [p.label for p in pairs],
                     "batch_size": cfg.batch_size, "epochs": cfg.epochs,
                     "max_iterations": cfg.max_iterations, "learning_rate": cfg.learning_rate,
                     "weight_decay": cfg.weight_decay, "betas": list(BETAS),
                     "schedule": "OneCycle", "patience": cfg.patience,
                     "validation_fraction": cfg.validation_fraction, "seed": cfg.seed,
                     "ranks": group.world_size,
                     "batch_size_total": cfg.batch_size * group.world_size},
    }


def train_segmenter(cfg, reporter):
    """Train on one device, or as one rank of a data-parallel group (``runtime/distributed``:
    BATCH_SIZE patches per rank, only rank 0 writes)."""
    check_config(cfg)
    group = distributed.join(cfg.device)
    try:
        with group.failures_as_errors():
            return _train(cfg, reporter, group)
    finally:
        group.close()


def _train(cfg, reporter, group):
    device = group.device
    devices.seed_everything(cfg.seed)
    reporter.info(f"Device: {group.describe()}")

    pairs = open_pairs(cfg.images, cfg.labels, cfg.label_format, cfg.classes, cfg.ignore_value,
                       cfg.bands, reporter)
    _check_labelled_pixels(cfg, pairs, reporter)
    entries = patch_entries(pairs, cfg.patch_size)
    train_entries, val_entries = split_entries(entries, cfg.validation_fraction, cfg.seed, reporter)
    if group.active:
        reporter.info(f"Data-parallel training on {group.world_size} ranks: {cfg.batch_size} "
                      f"patches per rank and step ({cfg.batch_size * group.world_size} in all); "
                      f"each rank trains on its own shard of the training patches.")
    reader = PatchReader(pairs, cfg.patch_size, cfg.ignore_value)
    reader.scaling = band_statistics(reader, train_entries, pairs[0].info.dtype, cfg.seed,
                                     lambda f: reporter.progress(3 + 2 * f))
    if reader.scaling["pixels"] == 0:
        raise LrmError(f"Every training patch of the IMAGES is nodata in BANDS {pairs[0].bands}: "
                       f"there is nothing to learn from. Check the images' nodata value and "
                       f"BANDS, or give images with data.")
    reporter.info(f"{len(train_entries)} training and {len(val_entries)} validation patches of "
                  f"{cfg.patch_size}x{cfg.patch_size} from {len(pairs)} image(s).")

    in_channels = len(pairs[0].bands)
    model = build_unet(cfg.encoder, in_channels, len(cfg.classes), cfg.decoder_channels)
    weights_info = initialise_encoder(model, cfg.encoder, in_channels, cfg.encoder_weights, reporter)
    model.to(device)
    trained = group.wrap(model)  # DDP in a group; the model itself otherwise
    n_params = count_parameters(model)
    reporter.info(f"U-Net {cfg.encoder}: {n_params / 1e6:.3f}M parameters; encoder weights: "
                  f"{weights_info['source']}.")

    train_loader, val_loader = _loaders(cfg, reader, train_entries, val_entries, device, group)
    budget = Budget(cfg.epochs, len(train_loader), cfg.max_iterations, cfg.patience)

    def write_model(state, history, best):
        if group.is_main:  # one writer per group
            save_model(cfg.output, state, _metadata(cfg, pairs, reader.scaling, weights_info,
                                                    history, best, n_params, best["iterations"],
                                                    group))

    task = _SegmenterTask(cfg, model, trained, train_loader, val_loader, group, budget.total,
                          reporter, write_model)
    with devices.out_of_memory_hint(device, cfg.batch_size, cfg.patch_size):
        initial_miou = task.validate_untrained()
        outcome = engine.train(task, budget, reporter, device, progress=(5, 100),
                               best=task.best["loss"])
        best = task.best
        if outcome.stopped_by == "early_stopping":
            reporter.info(f"Early stopping: validation loss has not improved for "
                          f"{cfg.patience} epochs (best at epoch {best['epoch']}).")
        if best["epoch"] != outcome.epochs_run:  # the best weights, with the whole history
            task.save_best()
    parallel = {}
    if group.active:  # identical weights on every rank, or data-parallel training went wrong
        group.sync_buffers(model)
        prints = group.gather(distributed.fingerprint(model))
        parallel = {"ranks": group.world_size, "rank_fingerprints": prints,
                    "ranks_in_sync": len(set(prints)) == 1,
                    "training_patches_per_rank": len(train_loader.sampler)}
        if not parallel["ranks_in_sync"]:
            reporter.warning(f"The ranks' final weights differ ({prints}); the model file holds "
                             f"rank 0's. Please report this.")

    return {
        "output": os.path.abspath(cfg.output),
        "best_validation_miou": best["miou"], "best_validation_loss": best["loss"],
        "best_epoch": best["epoch"], "initial_validation_miou": initial_miou,
        "epochs_run": outcome.epochs_run, "iterations": outcome.iterations,
        "stopped_by": outcome.stopped_by, "seconds_per_iteration": outcome.seconds_per_iteration,
        "device": group.describe(), "parameters": n_params,
        "encoder": cfg.encoder, "encoder_weights": weights_info["source"],
        "training_patches": len(train_entries), "validation_patches": len(val_entries),
        "history": task.history, "best_validation_confusion": best.get("confusion"),
        **parallel,
    }


def _check_labelled_pixels(cfg, pairs, reporter):
    """Count the labelled pixels per class (progress 0-3 %); refuse labels with none."""
    counts = np.zeros(len(cfg.classes), np.int64)
    scan = reporter.scaled(0, 3)
    for i, p in enumerate(pairs):
        counts += p.labels.scan(progress=lambda f, i=i: scan.progress(100 * (i + f) / len(pairs)))
    reporter.info("Labelled pixels per class: " + ", ".join(
        f"{n} {c}" for n, c in zip(cfg.classes.names, counts.tolist())))
    if counts.sum() == 0:
        raise LrmError(f"The LABELS contain no labelled pixel (all are IGNORE_VALUE "
                       f"{cfg.ignore_value} or nodata). Check IGNORE_VALUE, LABEL_FORMAT and the "
                       f"label rasters' nodata value, or give labels with classes.")
    absent = [n for n, c in zip(cfg.classes.names, counts) if c == 0]
    if absent:
        reporter.warning(f"Classes without any labelled pixel: {', '.join(absent)}.")


def _loaders(cfg, reader, train_entries, val_entries, device, group):
    """The training and validation DataLoaders (worker processes only on CUDA by default);
    in a data-parallel group, this rank's shards."""
    workers = cfg.num_workers if cfg.num_workers >= 0 else (
        min(4, max(0, (os.cpu_count() or 1) - 1)) if device.type == "cuda" else 0)
    if cfg.patch_size == MIN_PATCH and len(train_entries) < 2:
        raise LrmError(f"PATCH_SIZE {MIN_PATCH} needs at least 2 training patches; use a larger "
                       f"PATCH_SIZE or more data.")
    train_set = PatchDataset(reader, train_entries)
    train_loader = _loader(train_set, cfg.batch_size, True, workers, cfg.seed,
                           drop_single=cfg.patch_size == MIN_PATCH,
                           sampler=group.train_sampler(train_set, cfg.seed))
    val_loader = _loader(PatchDataset(reader, group.shard(val_entries)), cfg.batch_size, False,
                         workers, cfg.seed)
    return train_loader, val_loader


class _SegmenterTask:
    """The training engine's task for the U-Net: cross-entropy steps with the OneCycle
    schedule, model selection on the validation loss (the file is rewritten whenever it
    improves). ``trained``: the model as trained (DDP in a data-parallel group), ``model``
    the network itself (validated and saved)."""

    def __init__(self, cfg, model, trained, train_loader, val_loader, group, planned, reporter,
                 write):
        self.cfg, self.model, self.trained, self.reporter = cfg, model, trained, reporter
        self.group, self.device = group, group.device
        self.train_loader, self.val_loader, self.write = train_loader, val_loader, write
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, betas=BETAS,
                                          weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=cfg.learning_rate, total_steps=planned + 1)
        self.scaler = devices.grad_scaler(self.device)
        self.augment_rng = torch.Generator().manual_seed(cfg.seed + 2 + 1009 * group.rank)
        self.epochs_started = 0
        self.n_classes = len(cfg.classes)
        self.history, self.best, self.best_state, self.latest = [], None, None, None

    def snapshot(self):  # the best weights, kept on the CPU to write the final history with them
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def save_best(self):
        self.write(self.best_state, self.history, self.best)

    def validate_untrained(self):
        """Score and save the untrained network: a valid model file exists before anything
        slow happens. Returns its validation mIoU."""
        self.write(self.snapshot(), [], {"epoch": 0, "iterations": 0, "loss": None, "miou": None})
        loss, miou, iou, confusion = self._validate()
        self.history.append({"epoch": 0, "iterations": 0, "train_loss": None, "val_loss": loss,
                             "val_miou": miou, "val_iou": iou})
        self.best = {"epoch": 0, "iterations": 0, "loss": loss, "miou": miou,
                     "confusion": confusion}
        self.best_state = self.snapshot()
        self.save_best()
        self.reporter.info(f"Before training: validation loss {loss:.4f}, mIoU {miou:.2f}%; "
                           f"model file {self.cfg.output} written (rewritten whenever validation "
                           f"improves).")
        return miou

    def _validate(self):
        self.group.sync_buffers(self.model)
        return validate(self.model, self.val_loader, self.device, self.n_classes,
                        self.cfg.ignore_value, self.group)

    def batches(self):
        self.trained.train()
        if self.group.active:  # a new shuffle of the shards every epoch
            self.train_loader.sampler.set_epoch(self.epochs_started)
        self.epochs_started += 1
        return self.train_loader

    def step(self, batch):
        images, labels = augment(*batch, self.augment_rng)
        images, labels = images.to(self.device, non_blocking=True), labels.to(self.device)
        loss = _train_step(self.trained, images, labels, self.optimizer, self.scaler,
                           self.device, self.cfg.ignore_value)
        self.scheduler.step()
        return {"loss": loss}

    def end_epoch(self, epoch):
        train_loss = epoch.train["loss"]
        if not math.isfinite(train_loss):
            self.reporter.warning(f"Epoch {epoch.number}: the training loss is not finite; "
                                  f"training has diverged. Lower LEARNING_RATE.")
        loss, miou, iou, confusion = self._validate()
        self.latest = {"epoch": epoch.number, "iterations": epoch.iterations, "loss": loss,
                       "miou": miou, "confusion": confusion}
        self.history.append({"epoch": epoch.number, "iterations": epoch.iterations,
                             "train_loss": train_loss, "val_loss": loss, "val_miou": miou,
                             "val_iou": iou,
                             "learning_rate": self.optimizer.param_groups[0]["lr"]})
        for name, value in (("train_loss", train_loss), ("val_loss", loss), ("val_miou", miou)):
            self.reporter.metric(name, value, epoch=epoch.number, iteration=epoch.iterations)
        return self.group.broadcast(loss)  # model selection decided once, by rank 0

    def save(self, epoch):
        self.best, self.best_state = self.latest, self.snapshot()
        self.save_best()

    def report(self, epoch):
        self.reporter.info(f"Epoch {epoch.number}/{epoch.epochs}: train loss "
                           f"{epoch.train['loss']:.4f}, validation loss {self.latest['loss']:.4f}, "
                           f"validation mIoU {self.latest['miou']:.2f}%"
                           f"{' (best so far, saved)' if epoch.improved else ''}")
