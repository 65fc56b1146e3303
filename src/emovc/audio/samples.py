"""The audio every pipeline takes: mono float32 samples in [-1, 1] at a whole sample rate in Hz.
The checks that refuse anything else in one line naming the argument — a rate in kHz or not
whole (:func:`check_sample_rate`), integer PCM or a channels-first array (:func:`as_mono`, which
mixes channels-last audio down), NaN/Inf or integer-scaled float samples
(:func:`check_float_samples`) — and an analysis input checked and resampled to its one rate
(:func:`checked_mono_at`)."""

from __future__ import annotations

import numpy as np

from emovc.errors import AudioError

MAX_INPUT_PEAK = 2.0  # beyond this (6 dB over full scale) the samples are not [-1, 1] floats
MAX_CHANNELS = 8  # a 2-D waveform with more "channels" than this is not (n, channels) audio
_PCM_HINT = ("expected float samples in [-1, 1] (a float file beyond full scale: normalise it "
             "first; integer PCM in an array: divide by 32768, or load with "
             "emovc.audio.load_audio)")


#: lowest sample rate taken for audio, Hz: below it a rate is most likely given in kHz (16 for
#: 16000); the lowest rates in use are telephone speech's 8000 Hz and a few older 4000-6000 Hz
MIN_SAMPLE_RATE = 1000


def check_sample_rate(sr, name: str = "sample rate") -> int:
    """``sr`` (Hz) as a positive ``int``; integral floats such as ``16000.0`` are accepted.

    Raises:
        AudioError: not a number (a string such as ``"16000"`` included), not whole, zero or
            negative, or below :data:`MIN_SAMPLE_RATE` (a rate in kHz); one line naming ``sr``.
    """
    try:
        ok = (isinstance(sr, (int, float, np.integer, np.floating)) and not isinstance(sr, bool)
              and float(sr) == int(sr) and int(sr) > 0)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise AudioError(f"{name} must be a positive integer in Hz (e.g. 16000), got {sr!r}")
    if int(sr) < MIN_SAMPLE_RATE:
        raise AudioError(f"implausible {name}: {int(sr)} Hz (below {MIN_SAMPLE_RATE} Hz); give "
                         f"it in Hz, not kHz (e.g. 16000)")
    return int(sr)


def as_mono(wav, name: str = "audio") -> np.ndarray:
    """``wav`` as a mono float32 waveform ``(n,)``, the one layout every pipeline takes.

    Accepted: ``(n,)``; one channel as ``(n, 1)`` or ``(1, n)`` (squeezed); channels-last
    ``(n, c)`` with ``2 <= c <= MAX_CHANNELS`` (the layout of ``soundfile`` and
    :func:`emovc.audio.io.load_channels`), mixed down by averaging the channels.

    Raises:
        AudioError: integer or non-numeric samples, channels-first ``(c, n)`` audio (which
            would be ambiguous to mix), or any other shape; the message names the shape.
    """
    x = np.asarray(wav)
    if x.dtype.kind in "iu":
        raise AudioError(f"{name} has integer samples ({x.dtype}); {_PCM_HINT}")
    if x.dtype.kind != "f":
        raise AudioError(f"{name} must be a numeric float waveform, got dtype {x.dtype}")
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    elif x.ndim == 2 and x.shape[1] <= MAX_CHANNELS < x.shape[0]:
        x = x.mean(axis=1)
    elif x.ndim == 2 and x.shape[0] <= MAX_CHANNELS < x.shape[1]:
        raise AudioError(f"{name} has shape {x.shape}, which looks channels-first; pass mono "
                         "(n,) or channels-last (n, channels) audio (e.g. wav.T)")
    if x.ndim != 1:
        raise AudioError(f"{name} must be mono audio of shape (n,) or (n, channels), "
                         f"got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


def check_float_samples(wav: np.ndarray, name: str = "audio") -> np.ndarray:
    """Refuse non-finite samples and samples far beyond full scale (``> MAX_INPUT_PEAK``: integer
    PCM passed as float); returns ``wav`` unchanged.

    Raises:
        AudioError: NaN/Inf samples, or peaks above :data:`MAX_INPUT_PEAK`.
    """
    peak = 0.0
    for s in range(0, len(wav), 1 << 20):  # in blocks: no copy of a long input
        block = wav[s:s + (1 << 20)]
        if not np.all(np.isfinite(block)):
            raise AudioError(f"{name} contains NaN or Inf samples")
        peak = max(peak, float(np.max(np.abs(block))))
    if peak > MAX_INPUT_PEAK:
        raise AudioError(f"{name} has samples up to {peak:g}, {_PCM_HINT}")
    return wav


def checked_mono_at(wav: np.ndarray, sr: int, rate: int, name: str = "audio") -> np.ndarray:
    """Mono float ``wav`` ``(n,)`` at ``sr`` Hz, checked (:func:`check_float_samples`,
    :func:`check_sample_rate`) and resampled to ``rate`` Hz (soxr) — the input of an analysis
    that works at one rate (:mod:`emovc.audio.voicing`, :mod:`emovc.audio.noise`).

    Raises:
        AudioError: not mono ``(n,)``, NaN/Inf or integer-scaled samples, a bad ``sr``.
    """
    y = np.asarray(wav, dtype=np.float32)
    if y.ndim != 1:  # soxr would read a (1, n) array as n channels
        raise AudioError(f"{name} must be mono audio of shape (n,), got shape {y.shape}")
    check_float_samples(y, name)
    sr = check_sample_rate(sr)
    if sr == rate:
        return y
    import soxr

    return soxr.resample(y, sr, rate)
