"""Frame-level converters loaded from emovc checkpoints (no audio I/O here).

Each converter maps the :class:`~emovc.models.conversion.features.FrameFeatures` of a source
utterance to converted ``(mcep (T, D), lf0 (T,))`` plus a duration factor, given the source and
target emotions and an intensity in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import uniform_filter1d

from emovc.errors import ConfigError, choice_error
from emovc.features.world import WorldConfig
from emovc.models.checkpoint import float_state
from emovc.models.conversion.features import FrameFeatures
from emovc.models.conversion.normalizer import EmotionNormalizer, UtteranceStats
from emovc.models.conversion.stargan import StarGANGenerator, StarGANModelConfig


@dataclass
class Converted:
    """Converted features: ``mcep (T, D)``, continuous ``lf0 (T,)`` and a tempo factor."""

    mcep: np.ndarray
    lf0: np.ndarray
    tempo: float


MAX_ENVELOPE_GAIN = 3.0


def check_range(value, name: str, low: float, high: float, unit: str = "") -> float:
    """``value`` as a float in ``[low, high]`` (one-line :class:`ConfigError` naming the
    setting ``name`` otherwise). Only numbers are taken: a bool, a string or ``None`` is
    refused even where ``float()`` would read it (``True`` is not an intensity of 1)."""
    x = None
    if not isinstance(value, (bool, np.bool_, str, bytes)):
        try:
            x = float(value)
        except (TypeError, ValueError):
            pass
    if x is None:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}{unit}, got {value!r} "
                          "(not a number)")
    if not low <= x <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}{unit}, got {value}")
    return x


def check_intensity(intensity: float, name: str = "intensity") -> float:
    """Validate ``intensity`` (or another setting called ``name``) in [0, 1]."""
    return check_range(intensity, name, 0.0, 1.0)


def check_envelope_gain(gain: float) -> float:
    """Validate an envelope gain (:func:`scale_envelope_change`) in [0, MAX_ENVELOPE_GAIN]."""
    return check_range(gain, "envelope gain", 0.0, MAX_ENVELOPE_GAIN)


def scale_f0_level(lf0: np.ndarray, source_lf0: np.ndarray, vuv: np.ndarray,
                   fraction: float) -> np.ndarray:
    """Converted log-F0 with only ``fraction`` of its change of *level* kept.

    Args:
        lf0: converted continuous natural-log F0, ``(T,)``.
        source_lf0: the source's continuous log-F0 on the same frames, ``(T,)``.
        vuv: voicing flags ``(T,)``; the level is the mean over voiced frames.
        fraction: 1 = ``lf0`` unchanged, 0 = moved to the source's mean log-F0; the
            contour's shape and spread are kept either way.

    Returns:
        ``(T,)`` log-F0 (``lf0`` itself without voiced frames or at ``fraction == 1``).
    """
    voiced = np.asarray(vuv) > 0
    if fraction == 1.0 or not voiced.any():
        return lf0
    change = float(lf0[voiced].mean()) - float(source_lf0[voiced].mean())
    return lf0 - (1.0 - float(fraction)) * change


def smooth_envelope_change(mcep: np.ndarray, source_mcep: np.ndarray, vuv: np.ndarray,
                           width: int) -> np.ndarray:
    """Converted envelope whose change from the source is moving-averaged over ``width`` frames.

    The converters change the envelope of voiced frames only, frame by frame; the fast part of
    that change (shorter than a syllable) carries little emotion but moves speaker encoders
    (on unseen RAVDESS actors, ``m2m-ravdess`` with a 100 ms average: speaker similarity
    0.806 -> 0.813, emotion rates within a point; docs/conversion.md). The average runs over
    voiced frames only (a mask-normalised moving average), so the change keeps its size at
    the edges of voiced stretches and unvoiced frames stay the source's.

    Args:
        mcep: converted coded envelope ``(T, D)``.
        source_mcep: the source's ``(T, D)`` on the same frames.
        vuv: voicing flags ``(T,)``.
        width: window in frames (``<= 1``: ``mcep`` unchanged).

    Returns:
        ``(T, D)`` envelope: the source plus the smoothed change on voiced frames, the
        source's own on unvoiced frames (``mcep`` itself when ``width <= 1``).
    """
    if width <= 1:
        return mcep
    voiced = (np.asarray(vuv) > 0).astype(np.float64)
    diff = (np.asarray(mcep, np.float64) - source_mcep) * voiced[:, None]
    # scipy's uniform filter: a moving average with edge handling, no hand-written loop
    num = uniform_filter1d(diff, width, axis=0, mode="constant")
    den = uniform_filter1d(voiced, width, mode="constant")[:, None]
    change = np.where(voiced[:, None] > 0, num / np.maximum(den, 1e-9), 0.0)
    return (source_mcep + change).astype(np.asarray(mcep).dtype)


def scale_envelope_change(mcep: np.ndarray, source_mcep: np.ndarray, gain: float
                          ) -> np.ndarray:
    """``source_mcep + gain * (mcep - source_mcep)``: the converter's change of the coded
    envelope (both ``(T, D)``) made ``gain`` times larger (> 1 exaggerates it) or smaller.

    The generator's aligned L1 loss pulls its output towards the median of real takes whose
    emphasis differs, so its spectral change is smaller than a real take's; on unseen RAVDESS
    actors, the 4500-step ``m2m-ravdess`` (pitch level 0.5) with gain 1.5 was heard as the
    target emotion in 49 % of the conversions instead of 36 %, at a speaker similarity of
    0.772 instead of 0.813 (docs/conversion.md; the shipped model's default is gain 1.15 at
    pitch level 0.125 on the source renderer). Returns ``mcep`` itself for ``gain == 1``.
    """
    if gain == 1.0:
        return mcep
    src = np.asarray(source_mcep, np.float64)
    return (src + float(gain) * (np.asarray(mcep, np.float64) - src)).astype(
        np.asarray(mcep).dtype)


def check_features(feats: FrameFeatures, world: WorldConfig, dim: int) -> None:
    """Raise a one-line error when features do not match what the model was trained on."""
    if feats.mcep.shape[1] != dim:
        raise ConfigError(f"model/feature mismatch: model expects {dim} mcep coefficients, "
                          f"features have {feats.mcep.shape[1]} (WorldConfig.mcep_dim)")


class TempoFromNormalizer:
    """``tempo_factor`` of a WORLD-feature converter with a ``normalizer`` and a ``tempo``
    switch (the many-to-many and the pairwise models alike)."""

    normalizer: EmotionNormalizer
    tempo: bool

    def tempo_factor(self, source: str, target: str, intensity: float = 1.0) -> float:
        """Duration factor of the conversion (1 when built with ``tempo=False``)."""
        return self.normalizer.tempo_factor(source, target, intensity) if self.tempo else 1.0


class StarGANFeatureConverter(TempoFromNormalizer):
    """Many-to-many converter: one target-conditioned generator for all emotions.

    Args:
        ckpt: checkpoint dict of kind ``"emotion-converter/stargan"``.
        tempo: apply the per-emotion global tempo factor learned from the training speakers.
        f0_offsets: set the converted utterance's mean log-F0 (voiced frames) to the source's
            plus the training speakers' average offset between the two emotions (times the
            intensity); the generator still shapes the contour and its spread. Off: the
            generator's own level, which overshoots (m2m-ravdess, calm -> angry on actors
            17-20: +907 cents vs +483 for the real takes and +695 for the offsets); on 192
            conversions the offsets raised speaker similarity 0.724 -> 0.746 and lowered the
            log-F0 RMSE 702 -> 670 cents (docs/conversion.md).
    """

    kind = "emotion-converter/stargan"

    def __init__(self, ckpt: dict, tempo: bool = True, f0_offsets: bool = True):
        extra = ckpt["extra"]
        self.world = WorldConfig.from_dict(extra["world"])
        self.emotions = list(extra["emotions"])
        self.normalizer = EmotionNormalizer.from_dict(extra["normalizer"])
        self.model_cfg = StarGANModelConfig.from_dict(ckpt["config"])
        self.generator = StarGANGenerator(self.model_cfg)
        self.generator.load_state_dict(float_state(ckpt["state_dict"]))
        self.generator.eval()
        self.tempo = tempo
        self.f0_offsets = f0_offsets
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
                intensity: float = 1.0, stats: UtteranceStats | None = None) -> Converted:
        """Convert one utterance's features from ``source`` to ``target`` emotion.

        ``stats``: the speaker's voiced-frame statistics to normalise with (a window of a long
        input gets the whole input's); ``None``: those of ``feats`` itself."""
        a = check_intensity(intensity)
        check_features(feats, self.world, self.model_cfg.n_out - 1)
        src, tgt = self._index(source), self._index(target)
        norm = self.normalizer
        if stats is None:
            stats = UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv)
        spk = norm.speaker_stats(stats, source)
        m, f = norm.normalize(feats.mcep, feats.lf0, spk)
        x = np.concatenate([m.T, f[None], feats.vuv[None].astype(np.float32)], 0)
        y = self.generator.convert(torch.from_numpy(x[None]), torch.tensor([tgt]), a,
                                   source=torch.tensor([src]))[0].numpy()
        d = y.shape[0] - 1
        mcep, lf0 = norm.denormalize(y[:d].T, y[d], spk)
        if self.f0_offsets:
            lf0 = self._offset_level(lf0, feats, src, tgt, a)
        return Converted(mcep, lf0, self.tempo_factor(source, target, a))

    def _offset_level(self, lf0: np.ndarray, feats: FrameFeatures, src: int, tgt: int,
                      a: float) -> np.ndarray:
        """``lf0 (T,)`` moved so its voiced-frame mean is the source's plus ``a`` times the
        emotion offset (unchanged without voiced frames)."""
        voiced = feats.vuv > 0
        if not voiced.any():
            return lf0
        off = self.normalizer.off_lf0
        want = float(feats.lf0[voiced].mean()) + a * float(off[tgt] - off[src])
        return lf0 + (want - float(lf0[voiced].mean()))
