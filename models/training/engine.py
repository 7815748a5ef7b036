"""One training loop for every trainer (the LRM translator, the GAN baselines, the segmenter).

The engine owns what every training shares: the iteration budget (EPOCHS passes over the
training batches, capped by MAX_ITERATIONS), progress events, seconds per iteration, model
selection on a validation score, PATIENCE and the reason training stopped. A trainer hands
it a *task* that knows only its own work:

``batches()``
    the training batches of one epoch;
``step(batch)``
    one optimiser iteration, returning its losses as a dict of floats;
``end_epoch(epoch)``
    end-of-epoch work (validation, schedulers); returns the validation score, lower is
    better, or None when the method has no model selection: then every epoch is saved;
``save(epoch)``
    write the model file (atomically) for an epoch that improved the score (or every epoch
    when there is no score), so a cancelled run keeps the best model so far;
``report(epoch)``
    log and emit metrics for the epoch, after saving ("saved" means the file is there);
``patience_counts()`` (optional)
    False while epochs without improvement must not count towards PATIENCE.

``epoch`` is an :class:`Epoch`: its number, the iteration count, the mean training losses,
the score, whether it improved on the best, and the best so far.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Budget:
    epochs: int
    per_epoch: int           # training iterations in one pass over the batches
    max_iterations: int = 0  # 0 = no cap
    patience: int = 0        # epochs without improvement before stopping; 0 = never

    @property
    def uncapped(self):
        return self.epochs * self.per_epoch

    @property
    def total(self):
        return min(self.uncapped, self.max_iterations) if self.max_iterations else self.uncapped


@dataclass
class Epoch:
    number: int
    epochs: int
    iterations: int
    train: dict
    score: float = None
    improved: bool = False
    best: float = math.inf
    best_epoch: int = 0


@dataclass
class Outcome:
    epochs_run: int = 0
    iterations: int = 0
    stopped_by: str = "epochs"   # epochs | max_iterations | early_stopping
    best: float = math.inf
    best_epoch: int = 0
    seconds_per_iteration: float = None
    epochs: list = field(default_factory=list)


class IterationTimer:
    """Wall-clock seconds per training iteration.

    A lap runs from the end of the previous iteration (or the start of the epoch) to the end
    of this one, so reading the data counts. The first lap is left out when there are more
    (it pays for memory allocation and kernel selection); on CUDA the clock waits for the GPU.
    """

    def __init__(self, device):
        self._device = device if getattr(device, "type", "cpu") == "cuda" else None
        self._times = []
        self._tick = None

    def _now(self):
        if self._device is not None:  # the device trained on, not the current one
            import torch

            torch.cuda.synchronize(self._device)
        return time.perf_counter()

    def start_epoch(self):
        self._tick = self._now()

    def lap(self):
        now = self._now()
        self._times.append(now - self._tick)
        self._tick = now

    @property
    def seconds_per_iteration(self):
        if not self._times:
            return None
        times = self._times[1:] if len(self._times) > 1 else self._times
        return float(np.mean(times))


def mean_losses(losses):
    """Mean of each key over a list of loss dicts (keys of the first)."""
    return {k: float(np.mean([loss[k] for loss in losses])) for k in losses[0]}


def train(task, budget, reporter, device=None, progress=(0.0, 100.0), best=math.inf):
    """Run ``task`` within ``budget``; ``best``: a score to beat from before training."""
    low, high = progress
    total = budget.total
    timer = IterationTimer(device)
    outcome = Outcome(best=best)
    counts = getattr(task, "patience_counts", lambda: True)
    stale = 0
    for number in range(1, budget.epochs + 1):
        losses = []
        timer.start_epoch()
        for batch in task.batches():
            losses.append(task.step(batch))
            timer.lap()
            outcome.iterations += 1
            reporter.progress(low + (high - low) * outcome.iterations / total)
            if outcome.iterations >= total:
                break
        if not losses:
            break
        outcome.epochs_run = number
        epoch = Epoch(number, budget.epochs, outcome.iterations, mean_losses(losses))
        epoch.score = task.end_epoch(epoch)
        epoch.improved = epoch.score is not None and epoch.score < outcome.best
        if epoch.improved:
            outcome.best, outcome.best_epoch, stale = epoch.score, number, 0
        elif epoch.score is not None and counts():
            stale += 1
        epoch.best, epoch.best_epoch = outcome.best, outcome.best_epoch
        if epoch.improved or epoch.score is None:
            task.save(epoch)
        task.report(epoch)
        outcome.epochs.append(epoch)
        if outcome.iterations >= total:
            outcome.stopped_by = "max_iterations" if total < budget.uncapped else "epochs"
            break
        if budget.patience and stale >= budget.patience:
            outcome.stopped_by = "early_stopping"
            break
    outcome.seconds_per_iteration = timer.seconds_per_iteration
    return outcome
