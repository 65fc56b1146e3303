"""Waveform preprocessing shared by feature preparation and inference.

Load at 16 kHz → loudness normalisation (active speech level, −23 dBFS) → trim leading and
trailing silence → normalise the kept part again → speech sanity check. Training features
(:mod:`emovc.data.prepare`) and inference pipelines use the same :class:`PreprocessConfig`
so a model sees the same kind of input in both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from emovc.audio import check_speech, load_audio, normalize_loudness, trim_silence
from emovc.config import PlainConfig
from emovc.errors import AudioError

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy < 2
    from numpy import byte_bounds


@dataclass(frozen=True)
class PreprocessConfig(PlainConfig):
    """Waveform preprocessing applied before any feature (and to be mirrored at inference).

    Attributes:
        sample_rate: target rate in Hz (soxr resampling).
        loudness_dbfs: active speech level after normalisation, dBFS.
        trim: remove leading/trailing silence.
        trim_top_db: silence threshold below the loudest frame, dB.
        trim_pad_ms: silence kept at each end, ms.
        renormalize: normalise the loudness again after trimming. The active-level meter
            takes the loudest half of the frames, so long leading/trailing silences bias the
            first measurement (by ~4 dB on a clip that is 2/3 silence); the second pass
            measures the kept speech only.
        min_duration: shorter clips (after trimming) fail, seconds.
    """

    sample_rate: int = 16000
    loudness_dbfs: float = -23.0
    trim: bool = True
    trim_top_db: float = 35.0
    trim_pad_ms: float = 50.0
    renormalize: bool = True
    min_duration: float = 0.5


def preprocess_waveform(wav: np.ndarray, cfg: PreprocessConfig = PreprocessConfig(),
               name: str = "audio") -> tuple[np.ndarray, tuple[int, int]]:
    """Normalise loudness and trim silence of a waveform already at ``cfg.sample_rate``.

    Order: loudness normalisation (so trimming sees a sane level even for very quiet takes)
    → silence trimming → loudness normalisation of the kept part (``cfg.renormalize``).

    Returns:
        ``(wav, (start, end))``: the processed float32 ``(n,)`` waveform and the sample range
        of the input that it was cut from.

    Raises:
        AudioError: NaN or Inf samples (checked first: they made the clip "too short"), or
            the result is too short or silent.
    """
    sr = cfg.sample_rate
    if not np.isfinite(wav).all():
        raise AudioError(f"{name} contains NaN or Inf samples")
    x = normalize_loudness(wav, sr, target_dbfs=cfg.loudness_dbfs)
    start, end = 0, len(x)
    if cfg.trim:
        y = trim_silence(x, sr, top_db=cfg.trim_top_db, pad_ms=cfg.trim_pad_ms)
        start = _find_offset(x, y)
        end = start + len(y)
    out = x[start:end]
    if cfg.trim and cfg.renormalize:
        out = normalize_loudness(out, sr, target_dbfs=cfg.loudness_dbfs)
    check_speech(out, sr, min_duration=cfg.min_duration, name=name)
    return out, (start, end)


def _find_offset(x: np.ndarray, y: np.ndarray) -> int:
    """Start of ``y`` inside ``x`` (trim_silence returns a slice view of its input)."""
    if y.size and np.shares_memory(x, y):
        return (byte_bounds(y)[0] - byte_bounds(x)[0]) // x.itemsize
    return 0


def load_preprocessed(path: str | os.PathLike, cfg: PreprocessConfig = PreprocessConfig(),
                      ) -> np.ndarray:
    """Load ``path`` at ``cfg.sample_rate``, then :func:`preprocess_waveform`; ``(n,)`` float32."""
    return preprocess_waveform(load_audio(path, sr=cfg.sample_rate), cfg, name=str(path))[0]
