"""The one training loop every trainer uses (models/training/engine.py): budget, model
selection, patience, stop reasons, the order of save and report, progress."""

import math

import pytest

from models.training import engine
from models.training.engine import Budget


class Recorder:
    def __init__(self):
        self.progress_values = []

    def progress(self, percent):
        self.progress_values.append(percent)


class ScriptedTask:
    """Batches 0..per_epoch-1 each epoch; the validation score of epoch n is scores[n-1]."""

    def __init__(self, per_epoch, scores, counts=True):
        self.per_epoch, self.scores, self.counts = per_epoch, list(scores), counts
        self.events = []

    def batches(self):
        return range(self.per_epoch)

    def step(self, batch):
        self.events.append(("step", batch))
        return {"loss": float(batch)}

    def end_epoch(self, epoch):
        self.events.append(("end", epoch.number, epoch.iterations))
        return self.scores[epoch.number - 1]

    def patience_counts(self):
        return self.counts

    def save(self, epoch):
        self.events.append(("save", epoch.number, epoch.score))

    def report(self, epoch):
        self.events.append(("report", epoch.number, epoch.improved, epoch.best_epoch))


def _saved(task):
    return [e[1] for e in task.events if e[0] == "save"]


def test_the_iteration_cap_stops_mid_epoch_and_is_named():
    task, reporter = ScriptedTask(4, [5.0, 4.0, 3.0]), Recorder()
    outcome = engine.train(task, Budget(epochs=3, per_epoch=4, max_iterations=6), reporter)
    assert (outcome.iterations, outcome.epochs_run, outcome.stopped_by) == (6, 2, "max_iterations")
    assert [e for e in task.events if e[0] == "end"] == [("end", 1, 4), ("end", 2, 6)]
    assert reporter.progress_values == sorted(reporter.progress_values)
    assert reporter.progress_values[-1] == pytest.approx(100.0)
    # the mean training loss of the short second epoch is over its two steps (batches 0, 1)
    assert outcome.epochs[1].train == {"loss": 0.5}


def test_all_epochs_run_when_the_cap_is_not_reached():
    outcome = engine.train(ScriptedTask(2, [3.0, 2.0]), Budget(2, 2, max_iterations=10), Recorder())
    assert (outcome.iterations, outcome.stopped_by) == (4, "epochs")


def test_patience_stops_after_epochs_without_improvement_and_only_improvements_are_saved():
    task = ScriptedTask(1, [3.0, 2.0, 2.5, 2.6, 1.0])
    outcome = engine.train(task, Budget(5, 1, patience=2), Recorder())
    assert (outcome.stopped_by, outcome.epochs_run, outcome.best, outcome.best_epoch) == \
        ("early_stopping", 4, 2.0, 2)
    assert _saved(task) == [1, 2]
    # every epoch is reported, after its save, with the best so far
    reports = [e for e in task.events if e[0] in ("save", "report")]
    assert reports == [("save", 1, 3.0), ("report", 1, True, 1), ("save", 2, 2.0),
                       ("report", 2, True, 2), ("report", 3, False, 2), ("report", 4, False, 2)]


def test_epochs_that_must_not_count_never_trigger_early_stopping():
    task = ScriptedTask(1, [3.0, 4.0, 4.0, 4.0], counts=False)
    outcome = engine.train(task, Budget(4, 1, patience=1), Recorder())
    assert (outcome.stopped_by, outcome.epochs_run) == ("epochs", 4)


def test_without_a_score_every_epoch_is_saved():
    task = ScriptedTask(2, [None, None, None])
    outcome = engine.train(task, Budget(3, 2, patience=1), Recorder())
    assert _saved(task) == [1, 2, 3]
    assert (outcome.best, outcome.best_epoch, outcome.stopped_by) == (math.inf, 0, "epochs")


def test_a_score_from_before_training_must_be_beaten_and_nan_never_is():
    task = ScriptedTask(1, [2.0, math.nan, 0.5])
    outcome = engine.train(task, Budget(3, 1), Recorder(), best=1.0)
    assert _saved(task) == [3]
    assert (outcome.best, outcome.best_epoch) == (0.5, 3)


def test_an_epoch_without_batches_ends_training():
    task = ScriptedTask(0, [1.0])
    outcome = engine.train(task, Budget(5, 1), Recorder())
    assert (outcome.epochs_run, outcome.iterations) == (0, 0)
    assert task.events == []


def test_seconds_per_iteration_leave_the_first_iteration_out():
    import time

    class Slow(ScriptedTask):
        def step(self, batch):
            time.sleep(0.2 if batch == 0 and not self.events else 0.01)
            self.events.append(("step", batch))
            return {"loss": 0.0}

    outcome = engine.train(Slow(3, [1.0]), Budget(1, 3), Recorder())
    assert outcome.seconds_per_iteration < 0.1
