"""Periodic validation audio: convert one held-out utterance to a few emotions and save WAVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from emovc.audio import save_audio
from emovc.features.world import WorldConfig
from emovc.models.conversion.render import render

AUDIO_TARGETS = ("angry", "sad", "happy")


def write_validation_audio(module, folder: Path, max_targets: int = 2,
                           targets: list[str] | None = None) -> list[Path]:
    """Convert the first validation (else training) utterance and write
    ``step{N}_{source}_to_{target}.wav`` for up to ``max_targets`` targets.

    ``module`` must expose ``data`` (:class:`~emovc.training.datamodule.ConversionData`),
    ``cfg.world``, ``global_step`` and ``convert_utterance(utt, target)`` returning the
    denormalised ``(mcep (T, D), lf0 (T,))``. ``targets``: the emotions to convert to (the
    utterance's own is skipped); default: those of :data:`AUDIO_TARGETS` the model has, then
    its other emotions, so every model writes some.
    """
    data = module.data
    pool = data.val or data.train
    utt = next((u for u in pool if u.row.emotion in ("calm", "neutral")), pool[0])
    cfg = WorldConfig.from_dict(module.cfg.world)
    if targets is None:
        targets = ([e for e in AUDIO_TARGETS if e in data.emotions]
                   + [e for e in data.emotions if e not in AUDIO_TARGETS])
    targets = [e for e in targets if e != utt.row.emotion]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    feats = utt.raw
    for emo in targets[:max_targets]:
        mcep, lf0 = module.convert_utterance(utt, emo)
        wav = render(feats, mcep, lf0, cfg)
        wav = (0.9 * wav / max(float(np.abs(wav).max()), 1e-6)).astype(np.float32)
        path = folder / f"step{module.global_step:06d}_{utt.row.emotion}_to_{emo}.wav"
        save_audio(path, wav, cfg.sample_rate, force=True)
        logger = getattr(module, "logger", None)
        if logger is not None and hasattr(logger.experiment, "add_audio"):
            logger.experiment.add_audio(f"val/{emo}", torch.from_numpy(wav)[None],
                                        module.global_step, cfg.sample_rate)
        out.append(path)
    return out
