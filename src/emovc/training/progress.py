"""What a training run shows: Lightning's notices filtered to the ones a user needs, a live
progress bar on a terminal and plain progress lines in a log file (a data-loading bar only on
a terminal: :func:`loading_bar`)."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import TypeVar

import lightning as L
from lightning.pytorch.callbacks import Callback, RichProgressBar

T = TypeVar("T")

# Lightning messages that say nothing to a user of ``emovc train``, or mislead: a
# cloud-logging advert, the validation-batch limit we set on purpose, the validation
# interval of a run shorter than its validation period (it validates once, at its end:
# ``val_check_interval=max_steps``, which for a 1-step run is Lightning's "validation will
# run after every batch"), a deprecation
# inside Lightning itself, the manual-optimisation checkpoint note (checkpoints after the
# optimiser step are what exact resume needs), and on resume the non-empty checkpoint
# folder and "dataloader is not resumable" (batches are drawn from the global step, so
# resuming mid-"epoch" is exact; tests/conversion/test_training.py checks it), the request
# to provide the callbacks of a checkpoint written by an older emovc (its step files
# and last.ckpt are written all the same), and the
# "fit stopped: max_steps reached" line (it counts a SpectroGAN's two optimiser steps per
# iteration; our progress lines report the end), and the device lines of an accelerator the
# machine lacks ("GPU available: False, used: False", "TPU available: False, ..."): they say
# nothing on a CPU run; on a machine with a GPU the line stays, since it tells whether the GPU
# is used.
_QUIET_INFO = ("💡 Tip:", "`Trainer(limit_val_batches=1)` was configured",
               "`Trainer(val_check_interval=1)` was configured", "`Trainer.fit` stopped:",
               "GPU available: False", "TPU available: False")
_QUIET_WARNINGS = (r".*ModelCheckpoint with manual optimization",
                   r".*isinstance\(treespec, LeafSpec\)",
                   r"Checkpoint directory .* exists and is not empty",
                   r"GPU available but not used",  # SER's --accelerator cpu: it was asked for
                   r".*your dataloader is not resumable",
                   r".*callbacks used to create the checkpoint need to be provided")


class _DropInfo(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_QUIET_INFO)


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's irrelevant notices for the duration of a run (restored after)."""
    log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    drop = _DropInfo()
    log.addFilter(drop)
    try:
        with warnings.catch_warnings():
            for pattern in _QUIET_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        log.removeFilter(drop)


class StepProgressBar(RichProgressBar):
    """Lightning's rich bar, labelled for step-counted runs: a run is one pass over
    ``max_steps`` step numbers, so Lightning's "Epoch 0/-2" label (max_epochs is -1 when
    only max_steps is set) and its logger-version column say nothing; the bar shows
    "training" and the losses."""

    def _get_train_description(self, current_epoch: int) -> str:  # overrides Lightning's
        return "training"

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        return items


class LogProgress(Callback):
    """Plain progress lines for runs whose output goes to a file (e.g. ``nohup ... > log``),
    where a live bar shows nothing: every ``every`` steps and at the end, e.g.
    ``step 4500/9000 (50%), 13.1 steps/s, 0:05:43 left; g 12.9`` (first process only; a step
    slower than a second shows as ``25.3 s/step``). The speed is measured from the end of the
    session's first step, whose one-off setup is not a step's time; a line before a second
    step says ``estimating the time left``. It counts training time only: Lightning's
    validation loop and the sections run under :func:`untimed` (checkpoint saves, model
    export, validation audio) are left out, so neither the speed nor the time left jumps
    after each of them (a 2-step SpectroGAN run ended with "25.0 s/step" for 0.3 s steps).

    Args:
        every: steps between lines.
        optimizer_steps: Lightning ``global_step`` increments per training step (2 for a
            trainer that steps its generator and discriminator optimisers separately).
    """

    def __init__(self, every: int, optimizer_steps: int = 1) -> None:
        self.every, self.per = max(1, every), max(1, optimizer_steps)
        self._untimed, self._depth, self._since = 0.0, 0, 0.0

    def pause(self) -> None:
        """Stop counting time until :meth:`resume` (calls nest: the outermost pair counts)."""
        if self._depth == 0:
            self._since = time.perf_counter()
        self._depth += 1

    def resume(self) -> None:
        """Count time again after :meth:`pause` (a resume without a pause is ignored)."""
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._untimed += time.perf_counter() - self._since

    def _clock(self) -> float:
        """Seconds of training: the wall clock less the time left out so far."""
        return time.perf_counter() - self._untimed

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = self._warm = None

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        # here, not at train start: a resumed run's step is restored by its first batch, and
        # the first line's rate counted the steps before the interruption
        if self._start is None:
            self._start = (self._clock(), trainer.global_step // self.per)

    def on_validation_start(self, trainer, module) -> None:
        self.pause()

    def on_validation_end(self, trainer, module) -> None:
        self.resume()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        step, total = trainer.global_step // self.per, trainer.max_steps // self.per
        if self._warm is None:
            self._warm = (self._clock(), step)
        if (step % self.every and step < total) or not trainer.is_global_zero:
            return
        losses = "; " + ", ".join(f"{k} {float(v):.4g}" for k, v in
                                  trainer.progress_bar_metrics.items() if k != "v_num")
        # the job's progress output (stdout, as Lightning's bar), not a note to capture
        print(f"step {step}/{total} ({step / total:.0%}), {self._timing(step, total)}"
              + (losses if len(losses) > 2 else ""), flush=True)

    def _timing(self, step: int, total: int) -> str:
        """``2.4 s/step, 0:00:47 left``, the speed measured over the steps after the session's
        first; ``estimating the time left`` before a second step (a one-step session ends
        with the speed of its only step)."""
        t0, s0 = self._warm
        if step <= s0:
            if step < total:
                return "estimating the time left"
            t0, s0 = self._start
        rate = (step - s0) / max(self._clock() - t0, 1e-9)
        left = _hms((total - step) / rate) if rate > 0 else "?"
        return f"{_speed(rate)}, {left} left"


@contextlib.contextmanager
def untimed(trainer: L.Trainer) -> Iterator[None]:
    """Leave the time spent inside out of the speed and time left of ``trainer``'s progress
    lines (:class:`LogProgress`): for work done between training steps, such as checkpoint
    saves, model export and validation audio."""
    bars = [cb for cb in getattr(trainer, "callbacks", []) if isinstance(cb, LogProgress)]
    for bar in bars:
        bar.pause()
    try:
        yield
    finally:
        for bar in bars:
            bar.resume()


def progress_callback(max_steps: int, optimizer_steps: int = 1) -> Callback:
    """A live bar on a terminal, plain lines (about 20 per run) otherwise; see
    :class:`LogProgress` for ``optimizer_steps``."""
    if sys.stdout.isatty():
        return StepProgressBar()
    return LogProgress(max(1, max_steps // 20), optimizer_steps)


def log_interval(max_steps: int, most: int) -> int:
    """Steps between TensorBoard scalars: ``most``, or fewer in a short run, so that it gets
    about 10 points at least (a 20-step run logged its first step only, a run resumed for its
    last 10 steps none)."""
    return max(1, min(int(most), int(max_steps) // 10))


def loading_bar(items: Iterable[T], desc: str, unit: str) -> Iterable[T]:
    """``items`` with a tqdm bar on stderr when it is a terminal; in a log file nothing (a bar
    written there is a run of carriage-return updates), as the feature cache of the WORLD
    trainers does."""
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, disable=None, leave=False)


def uses_bar(callback: Callback) -> bool:
    """Whether ``callback`` is Lightning's progress bar (``Trainer(enable_progress_bar=...)``)."""
    return isinstance(callback, StepProgressBar)


def _speed(steps_per_second: float) -> str:
    """``13.1 steps/s``, or ``25.3 s/step`` below one step a second (a full-size recipe on a
    CPU: "0.0 steps/s" said nothing)."""
    if steps_per_second >= 1 or steps_per_second <= 0:
        return f"{steps_per_second:.1f} steps/s"
    return f"{1 / steps_per_second:.1f} s/step"


def _hms(seconds: float) -> str:
    """``H:MM:SS`` with hours past 24 (a full-size recipe on a CPU runs for days)."""
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
