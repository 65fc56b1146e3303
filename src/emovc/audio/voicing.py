"""Voiced-sound check: does a recording hold periodic (voiced) sound at all?

Emotion conversion changes the voice's pitch and envelope; on noise or a whisper it has nothing
to change and would mostly change the level. :func:`periodic_share` is the share of a
recording's active 40 ms frames whose YIN cumulative-mean-normalised difference (de Cheveigné &
Kawahara, 2002) dips below :data:`PERIODIC_DIP` at a period of 2-15 ms (65-500 Hz). It tells
periodic sound from noise, not speech from other periodic sound: tones, hum at 55 Hz and
above, narrow-band noise below 500 Hz, click trains, music and singing count as voiced.
:func:`check_voiced_speech` (conversion, clone references) refuses a recording below
:data:`MIN_PERIODIC_SHARE`; :func:`warn_if_unvoiced` (emotion recognition) warns.

Our own code because the libraries do not fit the budget: ``librosa.pyin`` decides voicing
but costs about 0.04 × real time (twice a whole conversion's), ``librosa.yin`` gives an F0
for every frame and no voicing decision, and WORLD's DIO calls whole clean LibriSpeech clips
unvoiced. This one costs about 0.002 × real time (vectorised; at most :data:`MAX_FRAMES`
frames, so a long input costs at most ~0.2 s, and a few MB of memory).
"""

from __future__ import annotations

import warnings

import numpy as np

from emovc.audio.processing import checked_mono_at, frame_power
from emovc.errors import AudioError, EmovcWarning

SR = 8000  # analysis rate in Hz (the voice's periodicity lies far below 4 kHz)
FRAME_S, HOP_S = 0.04, 0.02  # analysis frame and hop in seconds
FMIN, FMAX = 65.0, 500.0  # F0 search range in Hz
ACTIVE_RANGE_DB = 40.0  # frames within this of the 95th-percentile frame energy are analysed
#: of those, the frames that stand out from the recording's noise floor (its 10th-percentile
#: frame energy) by this much, when there are at least MIN_STANDOUT_S of them: a few seconds of
#: speech in a minute of room noise are then measured by themselves, not diluted by the noise
#: (emovc.audio.noise's rule of the same kind works per 500 Hz band, 3 dB over the floor)
FLOOR_PERCENTILE, ABOVE_FLOOR_DB, MIN_STANDOUT_S = 10.0, 6.0, 0.5
DIGITAL_SILENCE_DB = -150.0  # frames below this (exact zeros) are left out of the floor
MAX_FRAMES = 6000  # at most this many active frames, evenly spaced, are analysed
BLOCK_FRAMES = 256  # frames analysed at once (~6 MB of working memory)
#: a frame counts as periodic when its normalised difference dips below this (YIN's
#: aperiodicity; 0 = perfectly periodic, ~1 = noise)
PERIODIC_DIP = 0.35
#: share of active frames that must be periodic. Measured (2026-12-01) on all 1491 clips of
#: ../shared/data (RAVDESS actors 01-20, VCTK, LibriSpeech): lowest 0.14, 1st percentile 0.23;
#: one RAVDESS take in 60 s of room noise at -60 dBFS 0.53; the 60 LibriSpeech clips lowest
#: here with white noise added at 10 dB SNR ≥ 0.019 (one below 0.02), at 5 or 0 dB some 0.0
#: (the check is not a noisy-speech detector); white, pink, brown, red and band-passed noise
#: (100-400 Hz to 1-4 kHz) and 50 Hz hum ≤ 0.007, random clicks ≤ 0.021 (two within 15 ms
#: read as a period).
MIN_PERIODIC_SHARE = 0.02


def periodic_share(wav: np.ndarray, sr: int, name: str = "audio") -> float:
    """Share (0..1) of the active frames of mono float ``wav`` (``(n,)`` at ``sr`` Hz) that are
    periodic (module docstring); 0.0 for input shorter than one frame.

    Raises:
        AudioError: not mono ``(n,)``, NaN/Inf or integer-scaled samples, a bad ``sr``.
    """
    y = checked_mono_at(wav, sr, SR, name)
    frame, hop = int(FRAME_S * SR), int(HOP_S * SR)
    lag_min, lag_max = int(SR / FMAX), int(SR / FMIN)
    span = frame + lag_max
    starts = _active_starts(y, frame, hop, span)
    if starts.size == 0:
        return 0.0
    periodic = 0
    for i in range(0, starts.size, BLOCK_FRAMES):  # in blocks: memory stays small and flat
        frames = y[starts[i:i + BLOCK_FRAMES, None] + np.arange(span)].astype(np.float64)
        frames -= frames.mean(axis=1, keepdims=True)  # (F, span)
        periodic += int(np.sum(_min_dip(frames, frame, lag_min, lag_max) < PERIODIC_DIP))
    return periodic / starts.size


def _active_starts(y: np.ndarray, frame: int, hop: int, span: int) -> np.ndarray:
    """Start samples of the active frames of ``y`` (at most :data:`MAX_FRAMES`, evenly
    spaced) that have ``span`` samples after them."""
    n = (len(y) - span) // hop + 1
    if n < 1:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(n) * hop
    power = frame_power(y, hop)  # (len(y) // hop,) mean power of each hop
    per_frame = np.convolve(power, np.ones(frame // hop), mode="valid")[:n]
    db = 10.0 * np.log10(per_frame + 1e-20)
    # digital silence is never active: a constant (a DC offset, once removed) measured as
    # perfectly periodic, its difference function being 0 at every lag
    active = (db > np.percentile(db, 95) - ACTIVE_RANGE_DB) & (db > DIGITAL_SILENCE_DB)
    sounding = db[db > DIGITAL_SILENCE_DB]  # the floor of the sound, not of zeroed stretches
    floor = np.percentile(sounding, FLOOR_PERCENTILE) if sounding.size else -np.inf
    standout = active & (db > floor + ABOVE_FLOOR_DB)
    if standout.sum() * HOP_S >= MIN_STANDOUT_S:  # else steady sound: all of it is measured
        active = standout
    starts = starts[active]
    if starts.size > MAX_FRAMES:
        starts = starts[np.linspace(0, starts.size - 1, MAX_FRAMES).astype(np.int64)]
    return starts


def _min_dip(frames: np.ndarray, frame: int, lag_min: int, lag_max: int) -> np.ndarray:
    """YIN's cumulative-mean-normalised difference of each row of ``frames`` (``(F, frame +
    lag_max)``, the first ``frame`` samples against their shifted copies), minimised over
    lags ``lag_min..lag_max``; ``(F,)``."""
    n_fft = 1 << int(np.ceil(np.log2(2 * frames.shape[1])))
    spec = np.fft.rfft(frames, n_fft)
    head = np.fft.rfft(frames[:, :frame], n_fft)
    corr = np.fft.irfft(np.conj(head) * spec, n_fft)[:, : lag_max + 1]  # Σ x[j] x[j+τ]
    cum = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    lags = np.arange(lag_max + 1)
    diff = (cum[:, frame:frame + 1] + cum[:, lags + frame] - cum[:, lags]) - 2.0 * corr
    diff = np.maximum(diff[:, 1:], 0.0)  # τ = 1..lag_max
    norm = diff * lags[1:] / np.maximum(np.cumsum(diff, axis=1), 1e-12)
    return norm[:, lag_min - 1:].min(axis=1)


def check_voiced_speech(wav: np.ndarray, sr: int, name: str = "audio") -> None:
    """Refuse ``wav`` (mono float ``(n,)`` at ``sr`` Hz, already through
    :func:`~emovc.audio.processing.check_speech`) when it holds no voiced sound.

    Raises:
        AudioError: fewer than :data:`MIN_PERIODIC_SHARE` of its active frames are periodic
            (noise, clicks, 50 Hz hum, a whisper); one line naming ``name``; or the input
            errors of :func:`periodic_share`.
    """
    share = periodic_share(wav, sr, name)
    if share < MIN_PERIODIC_SHARE:
        raise AudioError(f"no voiced speech found in {name}: {share:.1%} of its frames are "
                         f"voiced (need at least {MIN_PERIODIC_SHARE:.0%}; noise and whispers "
                         "have none, speech drowned in noise too few)")


def warn_if_unvoiced(wav: np.ndarray, sr: int, name: str, consequence: str,
                     stacklevel: int = 1) -> float:
    """:func:`periodic_share` of ``wav`` (as :func:`check_voiced_speech`), with an
    :class:`~emovc.errors.EmovcWarning` ending in ``consequence`` when it is below
    :data:`MIN_PERIODIC_SHARE`: a warning, not a refusal, since speech in loud noise can
    measure that low too. ``stacklevel``: the frame the warning names, 1 for the function
    calling this, 2 for its caller, ... (the line of the user's code that asked)."""
    share = periodic_share(wav, sr, name)
    if share < MIN_PERIODIC_SHARE:
        warnings.warn(f"{name} may not be speech: only {share:.1%} of its frames are voiced "
                      f"(noise, a whisper or speech in loud noise); {consequence}",
                      EmovcWarning, stacklevel=stacklevel + 1)
    return share
