"""What a SpectroGAN run does besides training: the clips it reads (:func:`clip_list`, recorded
so that a resume must read the same), its validation clips (source-emotion takes of the
validation actors that ``emovc convert`` would take), and its Lightning callback
(:class:`RunCallback`: atomic ``last.ckpt``, the ``model.pt`` export and validation audio at
fixed iteration intervals, timed saves in between)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import lightning as L
import numpy as np
import torch

from emovc.audio import check_voiced_speech, save_audio
from emovc.data.catalogs.base import ScanLog
from emovc.errors import ConfigError, EmovcWarning
from emovc.features.stats import FeatureStats
from emovc.fileio import atomic_output
from emovc.models.spectrogan.representation import SpecConfig
from emovc.training import spectrogan_data as data
from emovc.training.checkpointing import SaveClock
from emovc.training.feature_cache import report_left_out
from emovc.training.progress import untimed
from emovc.training.run_clips import ClipList
from emovc.training.spectrogan_config import TrainConfig
from emovc.training.validation_audio import warn_if_validating_on_training, write_source_clip

if TYPE_CHECKING:
    from emovc.training.spectrogan import SpectroGANModule


class RunCallback(L.Callback):
    """Atomic checkpoints, model export and validation audio at fixed iteration intervals;
    between the checkpoints, ``last.ckpt`` alone every ``ckpt_minutes`` of training."""

    def __init__(self, cfg: TrainConfig, stats: FeatureStats,
                 val_wavs: list[tuple[str, np.ndarray]], t0: float, elapsed0: float) -> None:
        self.cfg, self.stats, self.val_wavs = cfg, stats, val_wavs
        self.t0, self.elapsed0 = t0, elapsed0
        self.run = Path(cfg.run_dir)
        self.clock = SaveClock(cfg.ckpt_minutes)

    def elapsed(self) -> float:
        """Training seconds including earlier (resumed) sessions."""
        return self.elapsed0 + time.time() - self.t0

    def save(self, trainer: L.Trainer, module: SpectroGANModule) -> None:
        """Lightning state (:meth:`save_state`) and the emovc inference checkpoint."""
        self.save_state(trainer)
        if trainer.is_global_zero:
            module.export(self.stats, self.run / "model.pt",
                          {"train_seconds": round(self.elapsed(), 1)})

    def save_state(self, trainer: L.Trainer) -> None:
        """``checkpoints/last.ckpt``: the full Lightning state, written atomically
        (:func:`~emovc.fileio.atomic_output`), for an exact resume. Every process takes part
        (saving is collective); only the first writes the file."""
        final = self.run / "checkpoints" / "last.ckpt"
        if trainer.is_global_zero:
            with atomic_output(final) as tmp:
                trainer.save_checkpoint(tmp, weights_only=False)
        else:  # the other processes write nothing: a temporary of theirs would replace it
            trainer.save_checkpoint(final, weights_only=False)
        self.clock.restart()

    def on_save_checkpoint(self, trainer, module, checkpoint) -> None:
        checkpoint["emovc_train_seconds"] = self.elapsed()

    def on_train_start(self, trainer, module) -> None:
        self.clock.restart()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        it = module.iteration
        with untimed(trainer):  # not a training step's time on the progress lines
            if it % self.cfg.ckpt_every == 0 or it >= self.cfg.max_steps:
                self.save(trainer, module)
            elif self.clock.due(trainer):
                self.save_state(trainer)
            if self.val_wavs and (it % self.cfg.val_every == 0 or it >= self.cfg.max_steps):
                self.validate(trainer, module, it)

    def validate(self, trainer, module: SpectroGANModule, it: int) -> None:
        """Convert the validation clips with the current generator as ``emovc convert`` does
        (with a prosody stage: the level change and the input's edge pauses too); wav files
        + tensorboard, and once per run each clip unconverted (``val_audio/source_NAME.wav``)."""
        if not trainer.is_global_zero:
            return
        from emovc.pipelines.conversion import EmotionConverter

        conv = EmotionConverter(module.converter(self.stats))
        sr = SpecConfig.from_dict(self.cfg.spec).sample_rate  # the clips' rate (val_wavs)
        out_dir = self.run / "val_audio" / f"step_{it:06d}"
        for name, wav in self.val_wavs:
            write_source_clip(self.run / "val_audio", name, wav, sr)
            for tgt in module.val_targets():
                y = conv.convert(wav, sr, tgt, source=self.cfg.source,
                                 name=f"validation clip {name}")
                save_audio(out_dir / f"{name}_to_{tgt}.wav", y, sr, force=True,
                           comment=f"emovc spectrogan validation step {it}")
                tb = getattr(trainer.logger, "experiment", None)
                if tb is not None and hasattr(tb, "add_audio"):
                    tb.add_audio(f"val/{name}_to_{tgt}", torch.from_numpy(y)[None], it,
                                 sample_rate=sr)
        module.train()


def val_files(cfg: TrainConfig) -> list[Path]:
    """The validation clips: up to ``n_val_clips`` source-emotion takes of the validation
    actors, spread over their sorted list."""
    if cfg.n_val_clips <= 0 or not cfg.val_actors:
        return []
    try:
        files = data.ravdess_files(cfg.data_dir, cfg.source, cfg.val_actors)
    except ConfigError:
        return []
    return files[:: max(1, len(files) // cfg.n_val_clips)][: cfg.n_val_clips]


def val_wavs(cfg: TrainConfig) -> list[tuple[str, np.ndarray]]:
    """``(name, waveform)`` of the validation clips (:func:`val_files`); a pick that
    ``emovc convert`` would refuse is left out with a line
    (:func:`~emovc.training.feature_cache.report_left_out`), and a corpus without any
    (e.g. a subset without the default validation actors 17-20) gets one
    :class:`~emovc.errors.EmovcWarning` line saying how to name some, as do validation
    actors that also train
    (:func:`~emovc.training.validation_audio.warn_if_validating_on_training`)."""
    sr = SpecConfig.from_dict(cfg.spec).sample_rate
    files = val_files(cfg)
    if not files and cfg.n_val_clips > 0 and cfg.val_actors:
        warnings.warn(no_validation_note(cfg), EmovcWarning, stacklevel=2)
    elif files:
        warn_if_validating_on_training(cfg.train_actors, cfg.val_actors, "train_actors",
                                       "val_actors", stacklevel=2)
    log = ScanLog(root=str(cfg.data_dir))
    got = data.load_usable(files, sr, lambda wav: voiced_take(wav, sr), log)
    report_left_out(log, f"the validation clips of {cfg.data_dir}")
    return [(p.stem, wav) for p, wav in got.items()]


def no_validation_note(cfg: TrainConfig) -> str:
    """Why a run writes no validation audio although ``n_val_clips`` asks for some: the
    corpus has no ``cfg.source`` take of its ``val_actors``. Suggests actors that have one,
    one the run does not train on if there is such an actor."""
    have = data.ravdess_actors(cfg.data_dir, cfg.source)
    held_out = [a for a in have if a not in cfg.train_actors]
    if held_out:
        hint = f": --set val_actors=[{held_out[0]}]"
    elif len(have) > 1:  # hold the last one out
        hint = (f": --set val_actors=[{have[-1]}] --set train_actors="
                f"[{','.join(map(str, have[:-1]))}]")  # no space: one shell word
    elif have:
        hint = f": --set val_actors=[{have[0]}] (an actor it trains on)"
    else:
        hint = ""
    return (f"no validation audio: {cfg.data_dir} has no {cfg.source} take by the "
            f"validation actors ({', '.join(map(str, cfg.val_actors))}, setting val_actors); "
            + (f"it has {cfg.source} takes by actors {', '.join(map(str, have))}" if have else
               f"it has no {cfg.source} take named as RAVDESS names them") + hint)


def voiced_take(wav: np.ndarray, sr: int) -> np.ndarray:
    """``wav``, refused (AudioError) when it holds no voiced sound, as ``emovc convert`` does."""
    check_voiced_speech(wav, sr, name="the take")
    return wav


def clip_list(cfg: TrainConfig) -> ClipList:
    """The clips a run reads: every take of its emotions by the training actors, and its
    validation clips."""
    emotions = cfg.emotions or [cfg.source, cfg.target]
    train = [p for e in emotions for p in data.ravdess_files(cfg.data_dir, e, cfg.train_actors)]
    return ClipList(cfg.data_dir, {"train": train, "val": val_files(cfg)})
