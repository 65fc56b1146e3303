"""Speaker normalisation of conversion features, estimated from one utterance.

A converter never sees the absolute voice of a speaker: every utterance is normalised with
*its own* statistics, corrected for the emotion it is spoken in, so that unseen speakers look
like the training speakers:

- mcep: ``(mcep - (m_u - off_mcep[e])) / std`` where ``m_u`` is the utterance's mean over voiced
  frames, ``off_mcep[e]`` the average shift of emotion ``e`` from a speaker's overall mean
  (measured on the training speakers) and ``std`` a global per-dimension scale;
- log-F0: ``(lf0 - (l_u - off_lf0[e])) / (s_u / exp(off_lstd[e]))`` with the utterance's mean
  ``l_u`` and standard deviation ``s_u`` of voiced log-F0.

The per-emotion offsets are also what the "log-F0 mean/variance shift" baseline applies,
``log_tempo[e]`` (average log duration ratio of emotion ``e`` to the speaker's average over
parallel takes) drives the optional global tempo change, and ``off_level[e]`` (average active
speech level of emotion ``e`` relative to the speaker's average, in dB — vocal effort: on
RAVDESS angry speech is ~19 dB louder than calm speech of the same actor) the output level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emovc.errors import ConfigError, choice_error


@dataclass
class UtteranceStats:
    """Voiced-frame statistics of one utterance: ``mcep_mean (D,)``, log-F0 mean and std."""

    mcep_mean: np.ndarray
    lf0_mean: float
    lf0_std: float

    @classmethod
    def of(cls, mcep: np.ndarray, lf0: np.ndarray, vuv: np.ndarray) -> UtteranceStats:
        """Statistics of ``mcep (T, D)``, ``lf0 (T,)`` over frames with ``vuv (T,)`` true."""
        v = np.asarray(vuv, dtype=bool)
        if v.sum() < 2:
            v = np.ones_like(v)
        return cls(mcep[v].mean(0).astype(np.float64), float(lf0[v].mean()),
                   float(max(lf0[v].std(), 1e-3)))


@dataclass
class EmotionNormalizer:
    """Per-emotion offsets + global scales (see module docstring); plain-data serialisable."""

    emotions: list[str]
    mcep_std: np.ndarray
    off_mcep: np.ndarray
    off_lf0: np.ndarray
    off_lstd: np.ndarray
    log_tempo: np.ndarray
    off_level: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def index(self, emotion: str) -> int:
        """Row of ``emotion``; unknown names raise a one-line error listing valid ones."""
        if emotion not in self.emotions:
            raise choice_error("emotion", emotion, self.emotions)
        return self.emotions.index(emotion)

    def level_change_db(self, source: str, target: str) -> float:
        """Average level change (dB) from ``source`` to ``target`` speech of one speaker
        (0 for models trained before level offsets were measured)."""
        s, t = self.index(source), self.index(target)
        if self.off_level.size != len(self.emotions):
            return 0.0
        return float(self.off_level[t] - self.off_level[s])

    def tempo_factor(self, source: str, target: str, intensity: float = 1.0) -> float:
        """Duration factor of ``source`` -> ``target`` speech at ``intensity`` (> 1 = slower):
        the emotions' average log duration ratio, times ``intensity``."""
        log_tempo = self.log_tempo[self.index(target)] - self.log_tempo[self.index(source)]
        return float(np.exp(intensity * log_tempo))

    def speaker_stats(self, u: UtteranceStats, emotion: str) -> UtteranceStats:
        """Estimated emotion-free speaker statistics from an utterance spoken in ``emotion``."""
        i = self.index(emotion)
        return UtteranceStats(u.mcep_mean - self.off_mcep[i], u.lf0_mean - self.off_lf0[i],
                              u.lf0_std / float(np.exp(self.off_lstd[i])))

    def normalize(self, mcep: np.ndarray, lf0: np.ndarray, spk: UtteranceStats,
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``(T, D), (T,) -> `` normalised mcep and log-F0 (float32)."""
        m = (mcep - spk.mcep_mean) / self.mcep_std
        f = (lf0 - spk.lf0_mean) / spk.lf0_std
        return m.astype(np.float32), f.astype(np.float32)

    def denormalize(self, mcep_n: np.ndarray, lf0_n: np.ndarray, spk: UtteranceStats,
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`normalize` (float64)."""
        m = np.asarray(mcep_n, np.float64) * self.mcep_std + spk.mcep_mean
        f = np.asarray(lf0_n, np.float64) * spk.lf0_std + spk.lf0_mean
        return m, f

    def to_dict(self) -> dict:
        """Plain-data copy (lists of floats)."""
        return {"emotions": list(self.emotions), "mcep_std": self.mcep_std.tolist(),
                "off_mcep": self.off_mcep.tolist(), "off_lf0": self.off_lf0.tolist(),
                "off_lstd": self.off_lstd.tolist(), "log_tempo": self.log_tempo.tolist(),
                "off_level": self.off_level.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> EmotionNormalizer:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(list(d["emotions"]), *(np.asarray(d[k], np.float64) for k in
                       ("mcep_std", "off_mcep", "off_lf0", "off_lstd", "log_tempo")),
                       off_level=np.asarray(d.get("off_level", []), np.float64))
        except KeyError as e:
            raise ConfigError(f"normaliser data lacks {e}") from None


def speaker_centred_offsets(speakers: list[str], emotions_of: list[str], values: np.ndarray,
                            emotions: list[str]) -> np.ndarray:
    """Per-emotion offsets of a per-utterance quantity, relative to each speaker's mean.

    Args:
        speakers: speaker of each utterance (``N``).
        emotions_of: emotion of each utterance (``N``).
        values: ``(N, ...)`` the quantity (a scalar or a vector per utterance).
        emotions: label set (rows of the result).

    Returns:
        ``(len(emotions), ...)``: for every emotion, the mean over its utterances of
        ``value - mean(values of the same speaker)``; zeros for emotions absent from the data.
    """
    values = np.asarray(values, np.float64)
    spk = np.asarray(speakers)
    centred = values.copy()
    for s in np.unique(spk):
        centred[spk == s] -= values[spk == s].mean(0)
    emo = np.asarray(emotions_of)
    return np.stack([centred[emo == e].mean(0) if (emo == e).any() else np.zeros(values.shape[1:])
                     for e in emotions])


def fit_normalizer(items: list[tuple[str, str, UtteranceStats, float]], emotions: list[str],
                   mcep_frames: list[np.ndarray], durations: dict | None = None,
                   ) -> EmotionNormalizer:
    """Estimate the normaliser from training utterances.

    Args:
        items: ``(speaker, emotion, stats, speech_seconds)`` per utterance.
        emotions: label set (rows of the offset tables).
        mcep_frames: ``(T_i, D)`` voiced mcep frames per utterance (same order as ``items``),
            used for the global scale after removing each utterance's estimated speaker mean.
        durations: unused hook for explicit parallel duration ratios.

    Returns:
        The fitted :class:`EmotionNormalizer` (emotions absent from the data get zero offsets).
    """
    spk = [it[0] for it in items]
    emo = [it[1] for it in items]

    def offsets(values) -> np.ndarray:
        return speaker_centred_offsets(spk, emo, np.asarray(values), emotions)

    dim = items[0][2].mcep_mean.shape[0]
    norm = EmotionNormalizer(
        list(emotions), np.ones(dim),
        offsets([st.mcep_mean for _, _, st, _ in items]),
        offsets([st.lf0_mean for _, _, st, _ in items]),
        offsets([np.log(st.lf0_std) for _, _, st, _ in items]),
        offsets([np.log(d) for _, _, _, d in items]))
    resid = [frames - norm.speaker_stats(st, emo).mcep_mean
             for (_, emo, st, _), frames in zip(items, mcep_frames, strict=True)]
    norm.mcep_std = np.maximum(np.concatenate(resid).std(0), 1e-3)
    return norm


def fit_level_offsets(items: list[tuple[str, str, float]], emotions: list[str]) -> np.ndarray:
    """Per-emotion level offsets (dB) from ``(speaker, emotion, active_level_dbfs)`` rows,
    centred per speaker (recording gain differs between speakers and corpora); 0 for emotions
    absent from the data."""
    return speaker_centred_offsets([r[0] for r in items], [r[1] for r in items],
                                   np.array([r[2] for r in items], np.float64), emotions)
