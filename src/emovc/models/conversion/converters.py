"""Frame-level converters loaded from emovc checkpoints (no audio I/O here).

Each converter maps the :class:`~emovc.models.conversion.features.FrameFeatures` of a source
utterance to converted ``(mcep (T, D), lf0 (T,))`` plus a duration factor, given the source and
target emotions and an intensity in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from emovc.errors import ConfigError, EmovcError, choice_error
from emovc.features.world import WorldConfig
from emovc.models.conversion.features import FrameFeatures
from emovc.models.conversion.normalizer import EmotionNormalizer, UtteranceStats
from emovc.models.conversion.stargan import StarGANGenerator, StarGANModelConfig


@dataclass
class Converted:
    """Converted features: ``mcep (T, D)``, continuous ``lf0 (T,)`` and a tempo factor."""

    mcep: np.ndarray
    lf0: np.ndarray
    tempo: float


def check_intensity(intensity: float) -> float:
    """Validate ``intensity`` in [0, 1] (one-line error otherwise)."""
    a = float(intensity)
    if not 0.0 <= a <= 1.0:
        raise EmovcError(f"intensity must be between 0 and 1, got {intensity}")
    return a


def check_features(feats: FrameFeatures, world: WorldConfig, dim: int) -> None:
    """Raise a one-line error when features do not match what the model was trained on."""
    if feats.mcep.shape[1] != dim:
        raise ConfigError(f"model/feature mismatch: model expects {dim} mcep coefficients, "
                          f"features have {feats.mcep.shape[1]} (WorldConfig.mcep_dim)")


class StarGANFeatureConverter:
    """Many-to-many converter: one target-conditioned generator for all emotions.

    Args:
        ckpt: checkpoint dict of kind ``"emotion-converter/stargan"``.
        tempo: apply the per-emotion global tempo factor learned from the training speakers.
    """

    kind = "emotion-converter/stargan"

    def __init__(self, ckpt: dict, tempo: bool = True):
        extra = ckpt["extra"]
        self.world = WorldConfig.from_dict(extra["world"])
        self.emotions = list(extra["emotions"])
        self.normalizer = EmotionNormalizer.from_dict(extra["normalizer"])
        self.model_cfg = StarGANModelConfig.from_dict(ckpt["config"])
        self.generator = StarGANGenerator(self.model_cfg)
        state = {k: v.float() if v.is_floating_point() else v
                 for k, v in ckpt["state_dict"].items()}
        self.generator.load_state_dict(state)
        self.generator.eval()
        self.tempo = tempo
        self.info = extra.get("training", {})

    @property
    def source_emotions(self) -> list[str]:
        """Emotions a source may be spoken in."""
        return list(self.emotions)

    @property
    def target_emotions(self) -> list[str]:
        """Emotions the model converts to."""
        return list(self.emotions)

    def _index(self, emotion: str) -> int:
        if emotion not in self.emotions:
            raise choice_error("emotion", emotion, self.emotions)
        return self.emotions.index(emotion)

    @torch.no_grad()
    def convert(self, feats: FrameFeatures, source: str, target: str,
                intensity: float = 1.0) -> Converted:
        """Convert one utterance's features from ``source`` to ``target`` emotion."""
        a = check_intensity(intensity)
        check_features(feats, self.world, self.model_cfg.n_out - 1)
        src, tgt = self._index(source), self._index(target)
        norm = self.normalizer
        spk = norm.speaker_stats(UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv), source)
        m, f = norm.normalize(feats.mcep, feats.lf0, spk)
        x = np.concatenate([m.T, f[None], feats.vuv[None].astype(np.float32)], 0)
        y = self.generator.convert(torch.from_numpy(x[None]), torch.tensor([tgt]), a,
                                   source=torch.tensor([src]))[0].numpy()
        d = y.shape[0] - 1
        mcep, lf0 = norm.denormalize(y[:d].T, y[d], spk)
        log_tempo = norm.log_tempo[tgt] - norm.log_tempo[src] if self.tempo else 0.0
        return Converted(mcep, lf0, float(np.exp(a * log_tempo)))
