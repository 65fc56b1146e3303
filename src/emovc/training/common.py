"""Pieces shared by the CycleGAN and StarGAN conversion trainers: data setup, Lightning run.

Here: the feature cache and speaker split (:func:`prepare_features`), the per-step batch
generators (:func:`step_rng`), and the Lightning run with exact resume (:func:`fit`,
:func:`fit_or_interrupt`). The settings' overrides and checks are in
:mod:`emovc.training.run_settings`, what a run records of its inputs for a resume in
:mod:`emovc.training.run_records`, the checkpoint callback and timed saves in
:mod:`emovc.training.checkpointing`; their names are importable from here as before.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader

from emovc.data.cache import default_cache_dir
from emovc.data.catalogs.ravdess import TRAIN_ACTORS, VALIDATION_ACTORS
from emovc.features.world import WorldConfig
from emovc.training.checkpointing import (  # noqa: F401 — re-exported: the trainers import them
    CKPT_MINUTES,
    SaveClock,
    check_keep_checkpoints,
    checkpoint_callback,
)
from emovc.training.devices import cpu_choice, device_line
from emovc.training.feature_cache import build_cache, read_index
from emovc.training.progress import (
    log_interval,
    progress_callback,
    quiet_lightning,
    uses_bar,
)
from emovc.training.run_clips import ClipList
from emovc.training.run_dir import config_data, last_checkpoint, prepare_run_dir
from emovc.training.run_records import (  # noqa: F401 — re-exported: the trainers import them
    record_corpus_layout,
    record_file_hash,
)
from emovc.training.run_settings import (  # noqa: F401 — re-exported: the trainers import them
    LEARNING_RATES,
    MIN_SEGMENT,
    RUN_RANGES,
    WORLD_KEYS,
    apply_nested_overrides,
    apply_run_settings,
    check_corpus,
    check_keys,
    check_mel_recipe,
    check_paths,
    check_ranges,
    merge_mapping,
    merge_nested,
    model_sizes,
    speaker_ids,
)


def default_cache() -> str:
    """Feature cache root of the conversion trainers: ``$EMOVC_CACHE/conversion``, else
    ``~/.cache/emovc/conversion`` (:func:`~emovc.data.cache.default_cache_dir`, the base of
    every emovc cache), whatever the current directory."""
    return str(default_cache_dir() / "conversion")


def default_speakers(cache_folder: Path) -> tuple[list[str], list[str]]:
    """RAVDESS split (train 01-16, validation 17-20) when present, else all speakers train;
    ``cache_folder`` is one corpus's folder (:func:`build_cache`), so only its speakers count."""
    speakers = sorted({r.speaker for r in read_index(cache_folder)})
    train = [s for s in speakers if s in TRAIN_ACTORS]
    val = [s for s in speakers if s in VALIDATION_ACTORS]
    if not train:
        return speakers, []
    return train, val


def prepare_features(data_dir: str, cache_dir: str, world: dict, train: list[str] | None,
                     val: list[str] | None, workers: int = 2, corpus: str = "auto",
                     ) -> tuple[Path, list[str], list[str]]:
    """Build/reuse the feature cache of the corpus (``corpus``: its layout, or ``"auto"``)
    and resolve the speaker split.

    Returns:
        ``(folder, train, val)``: the cache folder of this corpus alone (its ``index.csv``
        lists this corpus's utterances; files whose features failed are left out, each named
        in an EmovcWarning) and the speaker ids.
    """
    cfg = WorldConfig.from_dict(world)
    keep = None if train is None else list(train) + list(val or [])
    folder = build_cache(data_dir, cache_dir, cfg, speakers=keep, workers=workers,
                         corpus=corpus)
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


VAL_STEP = 10**9  # the "step" of validation batches: a stream no training step draws from


def step_rng(seed: int, step: int, rank: int = 0) -> np.random.Generator:
    """Batch generator of training step ``step`` on process ``rank``: a function of the three
    alone, so a run resumed from a checkpoint draws the batches an uninterrupted run draws,
    validation (which draws from ``step_rng(seed, VAL_STEP)``) does not shift them, and
    ``devices=N`` trains on N different batches per step (rank 0 draws what a one-device run
    draws)."""
    return np.random.default_rng([seed, step] if rank == 0 else [seed, step, rank])


def seed_torch(rng: np.random.Generator) -> None:
    """Seed torch's global generator (dropout masks) from a step's ``rng``: Lightning seeds it
    once per start and does not checkpoint it, so a resumed run drew other masks."""
    torch.manual_seed(int(rng.integers(2**62)))


class _Timer(Callback):
    """Accumulates training wall time into ``module.train_seconds`` (saved in checkpoints)."""

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self._t = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        module.train_seconds += time.perf_counter() - self._t


def device_strategy(devices: int) -> str:
    """Lightning strategy for ``devices``: DDP that tolerates parameters a step does not use
    (each of the GAN's optimiser steps updates one network; the others get no gradient)."""
    return "ddp_find_unused_parameters_true" if devices > 1 else "auto"


def use_threads(threads: int) -> None:
    """Run torch on ``threads`` CPU threads (at least 1) from now on. A recipe whose corpus
    preprocessing runs torch (the SV2TTS recipes' speaker embeddings and GTA mels) sets its
    ``threads`` before it, as :func:`fit` does for the training."""
    torch.set_num_threads(max(1, threads))


def fit(module: L.LightningModule, config: Any, run_dir: str, max_steps: int, devices: int,
        ckpt_every: int, val_every: int, resume: bool, threads: int,
        keep_checkpoints: int = 5, cli: bool = True, clips: ClipList | None = None,
        ckpt_minutes: float = CKPT_MINUTES, accelerator: str = "auto") -> Path:
    """Run Lightning training with exact resume from ``run_dir/checkpoints/last.ckpt``.

    Keeps the ``keep_checkpoints`` newest step-numbered checkpoints (-1: all) besides
    ``last.ckpt`` (a compact StarGAN checkpoint is ~29 MB, every 250 steps by default), which
    is also written every ``ckpt_minutes`` of training between them (0: only with them).
    ``cli`` false: run-folder messages name config fields, not command-line options
    (:func:`~emovc.training.run_dir.claim_run_dir`). ``clips``: the clips the run reads
    (:class:`~emovc.training.run_clips.ClipList`); a resumed run must read the
    ones it recorded (:func:`~emovc.training.run_dir.prepare_run_dir`). ``last.ckpt`` is read
    with ``weights_only=True`` whatever torch's default (False before torch 2.6), so a
    resume never unpickles arbitrary objects. The TensorBoard logs' ``hparams.yaml`` (and
    HPARAMS tab) hold ``config``, as ``config.yaml`` does. ``accelerator``: Lightning's
    (:data:`~emovc.training.devices.ACCELERATORS`), checked by the trainer
    (:func:`~emovc.training.devices.check_devices`); the run says on stderr, in one line,
    where it trains (:func:`say_device`).
    """
    root = prepare_run_dir(run_dir, config, resume, cli, clips)
    use_threads(threads)
    ckpt = checkpoint_callback(root / "checkpoints", ckpt_every, keep_checkpoints, ckpt_minutes)
    bar = progress_callback(max_steps)
    with quiet_lightning():
        trainer = L.Trainer(
            max_steps=max_steps, accelerator=accelerator, devices=devices,
            strategy=device_strategy(devices),
            logger=TensorBoardLogger(str(root), name="tb", version=0),
            callbacks=[ckpt, _Timer(), bar],
            enable_progress_bar=uses_bar(bar),
            # a run shorter than val_every validates once, at its end (a 1-step run's 1 is
            # Lightning's "validation will run after every batch", quieted: progress.py)
            val_check_interval=min(val_every, max_steps),
            check_val_every_n_epoch=None, num_sanity_val_steps=0,
            log_every_n_steps=log_interval(max_steps, min(25, ckpt_every)),
            enable_model_summary=False, limit_val_batches=1,
        )
        say_device(trainer, cli)
        trainer.logger.log_hyperparams(config_data(config))  # tb/version_0/hparams.yaml
        steps = DataLoader(_StepRange(max_steps), batch_size=None, shuffle=False)
        val = DataLoader(_StepRange(1), batch_size=None)
        last = last_checkpoint(root) if resume else None
        fit_or_interrupt(trainer, root, module, steps, val, ckpt_path=str(last) if last else None,
                         ckpt_every=ckpt_every, ckpt_minutes=ckpt_minutes,
                         weights_only=True)  # the trainers' checkpoints hold plain data only
    exit_if_worker(trainer)
    return root


def say_device(trainer: L.Trainer, cli: bool = True) -> None:
    """Say on stderr, once (DDP's other processes run the command too), where ``trainer``
    trains, and off the CPU how to stay on it (``cli``: ``--accelerator cpu``, else the
    config field): :func:`~emovc.training.devices.device_line`."""
    if rank_zero_only.rank == 0:
        print(device_line(trainer, hint=cpu_choice(cli)), file=sys.stderr)


def fit_or_interrupt(trainer: L.Trainer, run_dir: Path, *args,
                     ckpt_every: int | None = None, ckpt_minutes: float = 0.0,
                     steps_per_iteration: int = 1, **kwargs) -> None:
    """``trainer.fit(*args, **kwargs)``; a Ctrl-C (or SIGTERM) is re-raised as
    KeyboardInterrupt with a note on resuming, where Lightning, after its graceful shutdown,
    exits with status 1 as if the run had failed. ``ckpt_every`` (steps between checkpoints,
    ``checkpoints/last.ckpt`` one of them) and ``ckpt_minutes`` (minutes between the saves of
    ``last.ckpt`` in between): the note says the step the run resumes from, or that it has
    none yet and starts again (``steps_per_iteration``: Lightning steps per training step,
    2 for SpectroGAN)."""
    try:
        trainer.fit(*args, **kwargs)
    except SystemExit:
        if not trainer.interrupted:
            raise
        note = resume_note(run_dir, ckpt_every, ckpt_minutes, steps_per_iteration)
        # the run's own status line at Ctrl-C (the caller pressed it; KeyboardInterrupt
        # carries no text), as its progress lines: stays on stderr, not a warning
        print(f"training interrupted: {note}", file=sys.stderr)
        raise KeyboardInterrupt from None


def resume_note(run_dir: Path, ckpt_every: int | None, ckpt_minutes: float = 0.0,
                steps_per_iteration: int = 1) -> str:
    """What the same command does after an interrupt (see :func:`fit_or_interrupt`)."""
    from emovc.training.run_dir import checkpoint_step

    if ckpt_every is None:
        return f"the same command resumes {run_dir} from its last checkpoint"
    last = last_checkpoint(run_dir)
    if last is None:
        every = f" and every {ckpt_minutes:g} minutes" if ckpt_minutes > 0 else ""
        return (f"no checkpoint yet (one every {ckpt_every} steps{every}): the same command "
                f"starts {run_dir} again from step 0")
    step = checkpoint_step(last) // steps_per_iteration
    return f"the same command resumes {run_dir} from step {step}"


def exit_if_worker(trainer: L.Trainer) -> None:
    """End a ``--devices N`` worker process once training is done: the first process exports
    the model and reports (Lightning's launcher runs the whole command once per device)."""
    if trainer.global_rank != 0:
        raise SystemExit(0)


def to_tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    """Float32/int64 numpy array -> tensor on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.to(device)
