"""Pieces shared by the CycleGAN and StarGAN conversion trainers: data setup, Lightning run."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader

from emovc.data.catalogs.ravdess import TRAIN_ACTORS, VALIDATION_ACTORS
from emovc.errors import ConfigError
from emovc.features.world import WorldConfig
from emovc.training.feature_cache import build_cache, read_index
from emovc.training.run_dir import last_checkpoint, prepare_run_dir


def default_cache() -> str:
    """Feature cache root: ``$EMOVC_CACHE`` or ``.cache/conversion`` (relative to the CWD)."""
    return os.environ.get("EMOVC_CACHE", ".cache/conversion")


def default_speakers(cache_folder: Path) -> tuple[list[str], list[str]]:
    """RAVDESS split (train 01-16, validation 17-20) when present, else all speakers train."""
    speakers = sorted({r.speaker for r in read_index(cache_folder)})
    train = [s for s in speakers if s in TRAIN_ACTORS]
    val = [s for s in speakers if s in VALIDATION_ACTORS]
    if not train:
        return speakers, []
    return train, val


def prepare_features(data_dir: str, cache_dir: str, world: dict, train: list[str] | None,
                     val: list[str] | None, workers: int = 2,
                     ) -> tuple[Path, list[str], list[str]]:
    """Build/reuse the feature cache and resolve the speaker split."""
    cfg = WorldConfig.from_dict(world)
    keep = None if train is None else list(train) + list(val or [])
    folder = build_cache(data_dir, cache_dir, cfg, speakers=keep, workers=workers)
    if train is None:
        train, val = default_speakers(folder)
    return folder, list(train), list(val or [])


class _StepRange(torch.utils.data.Dataset):
    """Dummy dataset of step numbers; modules draw their batch from the global step."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class _Timer(Callback):
    """Accumulates training wall time into ``module.train_seconds`` (saved in checkpoints)."""

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self._t = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        module.train_seconds += time.perf_counter() - self._t


# Lightning messages that say nothing to a user of ``emovc train``, or mislead: a
# cloud-logging advert, the validation-batch limit we set on purpose, a deprecation
# inside Lightning itself, the manual-optimisation checkpoint note (checkpoints after the
# optimiser step are what exact resume needs), and on resume the non-empty checkpoint
# folder and "dataloader is not resumable" (batches are drawn from the global step, so
# resuming mid-"epoch" is exact; tests/conversion/test_training.py checks it).
_QUIET_INFO = ("💡 Tip:", "`Trainer(limit_val_batches=1)` was configured")
_QUIET_WARNINGS = (r".*ModelCheckpoint with manual optimization",
                   r".*isinstance\(treespec, LeafSpec\)",
                   r"Checkpoint directory .* exists and is not empty",
                   r".*your dataloader is not resumable")


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
    ``step 4500/9000 (50%), 13.1 steps/s, 0:05:43 left; g 12.9``.

    Args:
        every: steps between lines.
        optimizer_steps: Lightning ``global_step`` increments per training step (2 for a
            trainer that steps its generator and discriminator optimisers separately).
    """

    def __init__(self, every: int, optimizer_steps: int = 1) -> None:
        self.every, self.per = max(1, every), max(1, optimizer_steps)

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = (time.perf_counter(), trainer.global_step // self.per)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        step, total = trainer.global_step // self.per, trainer.max_steps // self.per
        if step % self.every and step < total:
            return
        rate = (step - self._start[1]) / max(time.perf_counter() - self._start[0], 1e-9)
        left = time.strftime("%H:%M:%S", time.gmtime((total - step) / rate)) if rate else "?"
        losses = "; " + ", ".join(f"{k} {float(v):.4g}" for k, v in
                                  trainer.progress_bar_metrics.items() if k != "v_num")
        print(f"step {step}/{total} ({step / total:.0%}), {rate:.1f} steps/s, {left} left"
              + (losses if len(losses) > 2 else ""), flush=True)


def progress_callback(max_steps: int, optimizer_steps: int = 1) -> Callback:
    """A live bar on a terminal, plain lines (about 20 per run) otherwise; see
    :class:`LogProgress` for ``optimizer_steps``."""
    if sys.stdout.isatty():
        return StepProgressBar()
    return LogProgress(max(1, max_steps // 20), optimizer_steps)


def check_keep_checkpoints(keep: int) -> int:
    """Validate a ``keep_checkpoints`` setting: -1 (all) or at least 1.

    Raises:
        ConfigError: ``keep`` is 0 or below -1.
    """
    if keep == 0 or keep < -1:
        raise ConfigError(f"keep_checkpoints must be -1 (all) or at least 1, got {keep}")
    return keep


def checkpoint_callback(folder: Path, every: int, keep: int) -> ModelCheckpoint:
    """``stepNNNNNN.ckpt`` every ``every`` steps, the ``keep`` newest kept (-1: all), plus
    ``last.ckpt``."""
    check_keep_checkpoints(keep)
    return ModelCheckpoint(dirpath=folder, every_n_train_steps=every, save_last=True,
                           save_top_k=keep, monitor=None if keep == -1 else "step",
                           mode="max", filename="step{step:06d}", auto_insert_metric_name=False)


def fit(module: L.LightningModule, config: Any, run_dir: str, max_steps: int, devices: int,
        ckpt_every: int, val_every: int, resume: bool, threads: int,
        keep_checkpoints: int = 5) -> Path:
    """Run Lightning training with exact resume from ``run_dir/checkpoints/last.ckpt``.

    Keeps the ``keep_checkpoints`` newest step-numbered checkpoints (-1: all) besides
    ``last.ckpt`` (a compact StarGAN checkpoint is ~29 MB, every 250 steps by default).
    """
    root = prepare_run_dir(run_dir, config, resume)
    torch.set_num_threads(max(1, threads))
    ckpt = checkpoint_callback(root / "checkpoints", ckpt_every, keep_checkpoints)
    bar = progress_callback(max_steps)
    with quiet_lightning():
        trainer = L.Trainer(
            max_steps=max_steps, accelerator="auto", devices=devices,
            logger=TensorBoardLogger(str(root), name="tb", version=0),
            callbacks=[ckpt, _Timer(), bar],
            enable_progress_bar=isinstance(bar, StepProgressBar),
            val_check_interval=min(val_every, max_steps),
            check_val_every_n_epoch=None, num_sanity_val_steps=0,
            log_every_n_steps=max(1, min(25, ckpt_every, max_steps)),
            enable_model_summary=False, limit_val_batches=1,
        )
        steps = DataLoader(_StepRange(max_steps), batch_size=None, shuffle=False)
        val = DataLoader(_StepRange(1), batch_size=None)
        last = last_checkpoint(root) if resume else None
        trainer.fit(module, steps, val, ckpt_path=str(last) if last else None)
    return root


def to_tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    """Float32/int64 numpy array -> tensor on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.to(device)
