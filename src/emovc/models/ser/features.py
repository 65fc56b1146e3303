"""Feature extraction for speech emotion recognition (16 kHz mono float32 input).

Two families, both computed after the same preprocessing (loudness normalisation to an
active speech level, then trimming of leading/trailing silence):

- utterance *functionals* from openSMILE (eGeMAPSv02: 88 values; ComParE_2016: 6373 values) —
  we use the audEERING ``opensmile`` package rather than re-implementing the standard sets;
- a *log-mel spectrogram* ``(n_mels, frames)`` for the CNN (librosa).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from emovc.audio import check_speech, normalize_loudness, trim_silence
from emovc.audio.processing import MIN_DURATION_S
from emovc.config import PlainConfig
from emovc.errors import AudioError, choice_error

FUNCTIONAL_SETS = ("egemaps", "compare")
MIN_SPEECH_S = MIN_DURATION_S
"""Least speech, in seconds, a clip must hold once its leading/trailing silence is trimmed
(0.5 s, every command's minimum): a 3 s file holding 0.2 s of speech passed the whole-clip
check and was classified from those 0.2 s."""


@dataclass(frozen=True)
class SerFeatureConfig(PlainConfig):
    """Preprocessing and feature settings stored in every SER checkpoint.

    Attributes:
        sample_rate: model input rate in Hz (audio is resampled to it first).
        target_dbfs: active speech level after loudness normalisation, dBFS.
        trim_top_db: silence-trim threshold below the loudest frame, dB (0 disables).
        n_mels: mel bands of the log-mel spectrogram.
        n_fft: STFT size in samples (25 ms window at 16 kHz uses 400 of them).
        win_length: analysis window in samples.
        hop_length: hop in samples (10 ms at 16 kHz).
        fmin: lowest mel band edge, Hz.
        fmax: highest mel band edge, Hz.
    """

    ignore_unknown = True  # older checkpoints carry retired keys

    sample_rate: int = 16000
    target_dbfs: float = -23.0
    trim_top_db: float = 35.0
    n_mels: int = 64
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    fmin: float = 50.0
    fmax: float = 8000.0


def preprocess(wav: np.ndarray, cfg: SerFeatureConfig, name: str = "audio",
               min_speech_s: float | None = MIN_SPEECH_S) -> np.ndarray:
    """Validate, loudness-normalise and trim a waveform at ``cfg.sample_rate``.

    Args:
        wav: mono float waveform ``(n,)`` already at ``cfg.sample_rate``.
        cfg: feature settings.
        name: how the input is named in error messages.
        min_speech_s: least audio, in seconds, left once silence is trimmed (the audio the
            features describe). ``None``: only the whole clip is checked (at least 0.5 s),
            and a clip whose trimming leaves under 0.25 s is kept whole — the rule before
            this check existed, which the source-emotion detection of conversion keeps
            (:func:`~emovc.pipelines.source_choice.recognise_long`).

    Returns:
        float32 ``(m,)`` with m ≤ n.

    Raises:
        AudioError: too short (as a whole, or once trimmed: one line naming ``name`` and the
            seconds of speech found), non-finite or silent input.
    """
    sr = cfg.sample_rate
    check_speech(np.asarray(wav, dtype=np.float32), sr, name=name)  # quiet real takes pass
    x = normalize_loudness(wav, sr, cfg.target_dbfs)
    if cfg.trim_top_db > 0:
        trimmed = trim_silence(x, sr, top_db=cfg.trim_top_db)
        if min_speech_s is not None or len(trimmed) >= sr // 4:  # lenient: keep a clip
            x = trimmed  # whose trimming leaves almost nothing whole
    if min_speech_s is not None and len(x) < min_speech_s * sr:
        # the span from the first to the last sound: two short bursts far apart pass
        raise AudioError(f"{name} is too short: only {len(x) / sr:.2f} s from its first to "
                         f"its last sound in {len(wav) / sr:.2f} s (need at least "
                         f"{min_speech_s:g} s once leading and trailing silence is trimmed)")
    return np.ascontiguousarray(x, dtype=np.float32)


@lru_cache(maxsize=4)
def _smile(feature_set: str):
    import opensmile

    sets = {"egemaps": opensmile.FeatureSet.eGeMAPSv02,
            "compare": opensmile.FeatureSet.ComParE_2016}
    return opensmile.Smile(feature_set=sets[feature_set],
                           feature_level=opensmile.FeatureLevel.Functionals)


def functionals(wav: np.ndarray, sr: int, feature_set: str) -> np.ndarray:
    """openSMILE utterance functionals of a preprocessed waveform.

    Args:
        wav: preprocessed mono waveform ``(n,)``.
        sr: its sample rate in Hz.
        feature_set: ``"egemaps"`` (88 values) or ``"compare"`` (6373 values).

    Returns:
        float64 vector ``(D,)`` with non-finite values replaced by 0.
    """
    if feature_set not in FUNCTIONAL_SETS:
        raise choice_error("feature set", feature_set, FUNCTIONAL_SETS)
    values = _smile(feature_set).process_signal(wav, sr).to_numpy()[0]
    return np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def log_mel(wav: np.ndarray, cfg: SerFeatureConfig) -> np.ndarray:
    """Natural-log mel power spectrogram of a preprocessed waveform.

    Returns:
        float32 ``(cfg.n_mels, frames)``, frames = 1 + n // hop_length.
    """
    import librosa

    mel = librosa.feature.melspectrogram(
        y=wav, sr=cfg.sample_rate, n_fft=cfg.n_fft, win_length=cfg.win_length,
        hop_length=cfg.hop_length, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, power=2.0)
    return np.log(mel + 1e-6).astype(np.float32)
