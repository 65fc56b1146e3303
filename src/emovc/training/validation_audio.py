"""Periodic validation audio: convert one held-out utterance to a few emotions as
``emovc convert`` does and save WAVs, beside the unconverted take (for A/B listening)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from emovc.audio import load_audio, save_audio
from emovc.errors import EmovcError, EmovcWarning

AUDIO_TARGETS = ("angry", "sad", "happy")


def write_validation_audio(module, folder: Path, model: Path, max_targets: int = 2,
                           targets: list[str] | None = None) -> list[Path]:
    """Convert the first validation (else training) utterance with the exported ``model`` as
    ``emovc convert`` does (:class:`~emovc.pipelines.conversion.EmotionConverter`: tempo,
    level change, edge pauses, limiter) and write ``step{N}_{source}_to_{target}.wav`` for up
    to ``max_targets`` targets, and once ``source_{name}.wav``, the take itself.

    ``module`` must expose ``data`` (:class:`~emovc.training.datamodule.ConversionData`),
    ``cfg.world`` and ``global_step``. ``targets``: the emotions to convert to (the
    utterance's own is skipped); default: those of :data:`AUDIO_TARGETS` the model has, then
    its other emotions, so every model writes some. A take that cannot be read or converted
    (e.g. its file is gone) writes nothing, with a warning.
    """
    from emovc.pipelines.conversion import EmotionConverter

    data = module.data
    pool = data.val or data.train
    utt = next((u for u in pool if u.row.emotion in ("calm", "neutral")), pool[0])
    src = utt.row.emotion
    if targets is None:
        targets = ([e for e in AUDIO_TARGETS if e in data.emotions]
                   + [e for e in data.emotions if e not in AUDIO_TARGETS])
    targets = [e for e in targets if e != src][:max_targets]
    sr = int(module.cfg.world["sample_rate"])
    try:
        wav = load_audio(utt.row.path, sr)
        conv = EmotionConverter.from_pretrained(model)
        outs = [(emo, conv.convert(wav, sr, emo, source=src, name=str(utt.row.path)))
                for emo in targets]
    except EmovcError as err:
        warnings.warn(f"no validation audio at step {module.global_step}: {err}", EmovcWarning,
                      stacklevel=2)
        return []
    write_source_clip(folder, Path(utt.row.path).stem, wav, sr)
    return [_write(module, folder / f"step{module.global_step:06d}_{src}_to_{emo}.wav", emo,
                   out, sr) for emo, out in outs]


def _write(module, path: Path, target: str, wav: np.ndarray, sr: int) -> Path:
    """Save one validation conversion and add it to TensorBoard (``val/<target>``)."""
    save_audio(path, wav, sr, force=True)
    logger = getattr(module, "logger", None)
    if logger is not None and hasattr(logger.experiment, "add_audio"):
        logger.experiment.add_audio(f"val/{target}", torch.from_numpy(wav)[None],
                                    module.global_step, sr)
    return path


def write_source_clip(folder: Path, name: str, wav: np.ndarray, sr: int) -> Path:
    """``folder/source_{name}.wav``: a validation take as it is, written once per run (an
    existing file is kept; one written meanwhile by another process is replaced, atomically,
    with the same clip)."""
    path = Path(folder) / f"source_{name}.wav"
    if not path.exists():
        save_audio(path, wav, sr, force=True)
    return path


def warn_if_validating_on_training(train: list, val: list, train_key: str, val_key: str,
                                   stacklevel: int = 1) -> None:
    """One :class:`~emovc.errors.EmovcWarning` line when a validation speaker also trains
    (``val`` and ``train``: speaker ids, the run's ``val_key`` and ``train_key`` settings,
    e.g. ``val_actors``/``train_actors``): its validation audio then says nothing about
    speakers the model has not heard. The hint holds them out of training."""
    both = [v for v in val if v in train]
    if not both:
        return
    rest = [t for t in train if t not in both]
    hint = (f"; to hold them out: --set {train_key}=[{','.join(map(str, rest))}]" if rest
            else "")  # no space: one shell word; --set keeps speaker ids as text: [01,02]
    warnings.warn(f"validation on training speakers: {', '.join(map(str, both))} of "
                  f"{val_key} also in {train_key}, so the validation audio says nothing about "
                  f"speakers the model has not heard{hint}", EmovcWarning,
                  stacklevel=stacklevel + 1)
