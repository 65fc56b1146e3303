"""The trainers' Lightning checkpoints: ``stepNNNNNN.ckpt`` every ``ckpt_every`` steps with the
``keep_checkpoints`` newest kept (:func:`checkpoint_callback`), and ``last.ckpt`` written with
each of them and, in between, every :data:`CKPT_MINUTES` of training (:class:`SaveClock`), so
that a stopped run loses little and resumes exactly."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from emovc.errors import ConfigError
from emovc.training.progress import untimed


def check_keep_checkpoints(keep: int) -> int:
    """Validate a ``keep_checkpoints`` setting: -1 (all) or at least 1.

    Raises:
        ConfigError: ``keep`` is 0 or below -1.
    """
    if keep == 0 or keep < -1:
        raise ConfigError(f"keep_checkpoints must be -1 (all) or at least 1, got {keep}")
    return keep


# minutes of training after which checkpoints/last.ckpt is written again between the
# ckpt_every saves (a stopped run loses at most that much)
CKPT_MINUTES = 5.0


class SaveClock:
    """When a wall-clock save of ``checkpoints/last.ckpt`` is due: ``minutes`` after the last
    save (0: never). Asked between training steps only (``on_train_batch_end``), where the
    state is whole — the GANs take several optimiser steps per training step — so a run
    resumed from such a save continues exactly as from a ``ckpt_every`` one."""

    def __init__(self, minutes: float) -> None:
        self.seconds = 60.0 * minutes
        self.restart()

    def restart(self) -> None:
        """Count from now (a checkpoint was just written, or training starts)."""
        self.since = time.monotonic()

    def due(self, trainer: L.Trainer) -> bool:
        """Whether a save is due; the first process decides for all (saving is collective)."""
        if not self.seconds > 0:
            return False
        late = time.monotonic() - self.since >= self.seconds
        return bool(trainer.strategy.broadcast(late, src=0))


class _NewestCheckpoints(ModelCheckpoint):
    """Lightning's checkpoint callback, which keeps the ``save_top_k`` best by ``step``, i.e.
    the newest; on resume with a smaller ``keep_checkpoints`` it first drops the earlier
    files beyond the new limit (Lightning prunes only one file per save, and only once the
    count equals the limit, so the surplus would stay forever). Between its step saves it
    writes ``last.ckpt`` alone every ``minutes`` of training (:class:`SaveClock`; Lightning's
    own ``train_time_interval`` is not applied to manually optimised modules). No timed save
    is made while Lightning holds a step save back until validation ends (an automatically
    optimised module's last batch of an epoch): it would mark the step saved, and so
    swallow that save."""

    def __init__(self, *args: Any, minutes: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = SaveClock(minutes)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any,
                           ) -> None:
        with untimed(trainer):  # saves are not a training step's time on the progress lines
            super().on_train_batch_end(trainer, pl_module, *args)
            if self._last_global_step_saved == trainer.global_step:  # a step save just now
                self.clock.restart()
            elif not self._defer_save_until_validation and self.clock.due(trainer):
                self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
                self.clock.restart()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        with untimed(trainer):
            super().on_validation_end(trainer, pl_module)
        if self._last_global_step_saved == trainer.global_step:  # the deferred save, say
            self.clock.restart()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self.clock.restart()
        kept = self.best_k_models
        if self.save_top_k == -1 or len(kept) <= self.save_top_k:
            return
        for path in sorted(kept, key=kept.get)[:-self.save_top_k]:
            del kept[path]
            trainer.strategy.remove_checkpoint(path)
        self.kth_best_model_path = min(kept, key=kept.get)
        self.kth_value = kept[self.kth_best_model_path]


def checkpoint_callback(folder: Path, every: int, keep: int,
                        minutes: float = CKPT_MINUTES) -> ModelCheckpoint:
    """``stepNNNNNN.ckpt`` every ``every`` steps, the ``keep`` newest kept (-1: all), plus
    ``last.ckpt``, written with each of them and, in between, every ``minutes`` of training
    (0: only with them).

    The monitor is ``step`` whatever ``keep`` is: Lightning restores a checkpoint callback's
    state only into one with the same monitor and mode, so a run resumed with another
    ``keep_checkpoints`` still knows its earlier files. Files are overwritten, never
    versioned: a resumed run whose callback state was not restored (a run of an older emovc)
    used to write ``last-v1.ckpt`` and leave ``last.ckpt``, which the next resume reads, behind."""
    check_keep_checkpoints(keep)
    return _NewestCheckpoints(dirpath=folder, every_n_train_steps=every, save_last=True,
                              save_top_k=keep, monitor="step", mode="max",
                              filename="step{step:06d}", auto_insert_metric_name=False,
                              enable_version_counter=False, minutes=minutes)
