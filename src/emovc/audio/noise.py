"""Background noise: a blind estimate of a recording's SNR (``emovc info`` reports it;
``convert``, ``ser predict`` and the clone references warn below :data:`LOW_SNR_DB`).

Noise, unlike a low level, degrades every model here: WORLD's F0 and envelope analysis, the
emotion recogniser and the speaker encoder. :func:`estimate_snr` reads the SNR of one
recording without a clean reference, as the active speech level over the noise floor, the
definition of ``benchmarks/diag_noise.py``, which mixes noise at known SNRs:

- the noise floor is tracked per frequency band, as in minimum statistics (R. Martin, "Noise
  power spectral density estimation based on optimal smoothing and minimum statistics", IEEE
  Trans. Speech Audio Process. 9(5), 2001): each of :data:`N_BANDS` 500 Hz bands of the
  32 ms frames' power spectrum takes its :data:`NOISE_PERCENTILE`-th percentile over the
  recording, divided by the value that percentile has for stationary Gaussian noise
  (:data:`PERCENTILE_BIAS`), and the bands' floors are summed. A band rests at the noise
  floor whenever the speech in it is weak, which in some band happens even in speech without
  pauses (low bands in fricatives and closures, high bands in vowels);
- the speech level is the mean power of the frames that stand :data:`STANDOUT_DB` or more
  above that floor, less the floor (the louder half of the frames, as
  :func:`~emovc.audio.processing.active_rms_dbfs`, when fewer do: noise alone, or speech
  drowned in it). Not the louder half always: a take after 10 s of its noise read 5 dB low
  that way. (:mod:`emovc.audio.voicing` picks the frames it analyses by a rule of the same
  kind on whole frames: :data:`~emovc.audio.voicing.ABOVE_FLOOR_DB` over their 10th
  percentile, all frames when too few stand out);
- when fewer frames stand out and the sound is steady and periodic (a held vowel, a sung
  note, a tone, a held vowel padded with digital silence: a
  :func:`~emovc.audio.voicing.periodic_share` of :data:`STEADY_PERIODIC_SHARE` or more, and a
  spectrum that does not change: fewer than :data:`MAX_CHANGING_WINDOWS` of its 1.5 kHz
  windows, :func:`window_changes`, with their 90th-percentile power :data:`CHANGE_DB` or more
  over their 10th), no band ever rests at a noise floor: the floor measured is the sound
  itself, and the estimate is NaN ("cannot tell") rather than a number. Such a vowel read
  -20 dB, "noisy", clean or with white noise at 40 dB. Periodic is not enough: a buzz, a
  mains hum or an engine drone is as periodic as a vowel, and speech drowned in one read NaN
  too, unwarned; the speech shows as change in the bands the hum leaves free. Measured
  (2026-12, ``benchmarks/diag_noise.py --parts steady``): synthetic held vowels (F0
  110-220 Hz, level swings up to ±30 %), sung notes (330-1047 Hz, 1-5 % vibrato, which
  sweeps harmonics in and out of single 500 Hz bands: hence the windows of three), the
  strongest vowel of 24 RAVDESS takes held (WORLD resynthesis) and sine and square tones,
  clean or with white noise at 40 dB (the vowels also at 20 dB), measure 1.0 and change at
  most 6.5 dB: no estimate (but for two sung notes, below); under white noise at 0 dB the
  held vowels measure 0.28-0.80 and read -20 to -3 dB. White, pink and
  babble noise alone measure at most 0.52, and the 88 RAVDESS takes drowned in them at -5
  and -10 dB at most 0.54 (they read -15 to 10 dB); under a buzz of 100-150 Hz (29
  harmonics), a 50 or 60 Hz mains hum (20 harmonics) or a 70 Hz engine drone (40), 10, 5 or
  0 dB over them, up to 1.0, but they change by 29 dB or more and read -20 to 8 dB (all 88
  read NaN at -10 dB under the buzz before the change was looked at). Where the periodic
  noise fills every band, nothing here tells the speech under it: a buzz with harmonics up to
  7.9 kHz 10 or 5 dB over the takes leaves 88 and 69 of 88 with no estimate, an engine drone
  with its broadband roar 88 and 51 (at 0 dB: 1 and 0). Sung notes with 5 % vibrato at 523
  and 1047 Hz, and a held vowel whose level swings by ±50 % (a strong tremolo), have frames
  standing out and read low (0-6 dB).

Measured (2026-12, ``benchmarks/diag_noise.py``; 88 RAVDESS takes of actors 17-20 per
condition; docs/conversion.md, "Noisy input"): white and pink noise at 15-30 dB read within
1.2 dB of the true SNR (medians; 10th-90th percentile within 1.3 dB of it), at 5-10 dB
1.4-2.6 dB high (weak speech frames sink into the noise and are left out of the speech
level); babble (six LibriSpeech talkers), whose dips let the floor look lower, reads 2-5 dB
high. Clean recordings read high: RAVDESS 34 dB or more, VCTK 29 dB or more. Speech without
any pause reads lower, its weakest sounds being taken for the floor: RAVDESS takes cut to
their speech 17 dB or more (median 28). Recordings whose pauses hold noise read what they
hold (LibriSpeech: median 33 dB, 15 of 251 clips below 20 dB, their quietest frames a flat
noise floor 11-20 dB under the speech).

Our own code because no maintained library fits: no established package on PyPI offers a
blind speech SNR (those that claim one are early single-author releases), and the method
most scripts copy, WADA-SNR (C. Kim and R. M. Stern, "Robust signal-to-noise ratio
estimation based on waveform amplitude distribution analysis", Interspeech 2008; measured
here with its table recomputed from the paper's model), cannot carry a threshold near
20 dB: it models clean speech as Gamma-distributed samples, so a take with pauses in digital
near-silence reads 100 dB, the same take cut to its speech 15 dB or more (median 25), and
white noise at 30 dB 49 to 100 dB (10th-90th percentile). A broadband frame-energy estimate
(the 20th percentile of whole frames for the floor) reads the cut takes 10 dB lower than
this one (median 17 dB), and a webrtcvad-based one (the floor measured over the frames it
calls non-speech) reads clean takes 18 dB and 30 dB of white noise 16 dB (medians), its
decisions failing in the noise it is meant to measure. This one is vectorised (0.3 ms per
second of audio; memory flat in blocks of :data:`BLOCK_FRAMES`; at most :data:`MAX_FRAMES`
frames, evenly spaced, are analysed). Where too few frames stand out, the periodic share
costs about 6 times that again (measured on a 30 s held vowel against 30 s of speech).
"""

from __future__ import annotations

import warnings

import numpy as np

from emovc.audio.processing import checked_mono_at, louder_half
from emovc.audio.voicing import periodic_share
from emovc.errors import EmovcWarning

SR = 16000  # analysis rate in Hz (every command converts and recognises at 16 kHz)
N_FFT, HOP = 512, 256  # 32 ms frames, 16 ms hop at SR
N_BANDS = 16  # equal bands of 16 bins (500 Hz) over bins 1-256 (DC left out)
NOISE_PERCENTILE = 10.0
#: the NOISE_PERCENTILE-th percentile of a band's power over its mean in stationary white
#: Gaussian noise (Hann-windowed, 16 bins a band): measured, 20 seeds of 3 s: 0.6033
PERCENTILE_BIAS = 0.603
MIN_FRAMES = 10  # fewer analysable frames (0.18 s): no estimate
#: frames this far (dB) above the noise floor carry speech; their mean power is its level
STANDOUT_DB = 3.0
MAX_FRAMES = 20000  # at most this many frames (~5 min), evenly spaced, are analysed
#: frames transformed at once (~2 MB of working memory; 2048, 16 MB, raised a 32 s
#: conversion's peak memory by 12 MB over an 8 s one: tests/conversion/test_long_inputs.py)
BLOCK_FRAMES = 256
SILENT_FRAME = 1e-15  # frames whose mean power per sample is below this (-150 dB) are left out
MIN_SNR_DB, MAX_SNR_DB = -20.0, 100.0  # estimates are clamped to this range
#: with fewer than MIN_FRAMES frames standing out, a sound whose active frames are periodic
#: at least this often (:func:`~emovc.audio.voicing.periodic_share`) is steady: no estimate,
#: unless part of its spectrum changes (:data:`CHANGE_DB`). Held vowels measure 1.0 down to
#: 20 dB of white noise, white, pink and babble noise and speech drowned in them at most 0.54;
#: a hum or buzz and speech drowned in it up to 1.0 (module docstring)
STEADY_PERIODIC_SHARE = 0.9
#: a steady sound's spectrum is looked at in windows of this many adjacent bands (1.5 kHz,
#: one every 500 Hz: 14 windows), wide enough that a sung note's harmonics (up to ~1.2 kHz
#: apart) never all leave one as its vibrato sweeps them across the bands' edges
CHANGE_WINDOW_BANDS = 3
#: a window changes when the 90th percentile of its frames' power is this much (dB) or more
#: over their 10th; a sound with MAX_CHANGING_WINDOWS or more such windows is not steady
#: whatever its periodic share: speech under a hum or buzz shows in the bands the hum leaves
#: free. Measured (``benchmarks/diag_noise.py --parts steady``; module docstring), in the
#: MAX_CHANGING_WINDOWS-th most changing window: the steady sounds given no estimate at most
#: 6.5 dB (sung notes with 5 % vibrato; held vowels 5.1, tones 2.4), RAVDESS takes 0 to 10 dB
#: under a buzz, a mains hum or an engine drone at least 29.0 dB
CHANGE_DB = 15.0
MAX_CHANGING_WINDOWS = 3
#: estimates below this (dB) are warned about. Measured (benchmarks/diag_noise.py, RAVDESS
#: actors 17-20, docs/conversion.md "Noisy input"): at 20 dB of white or pink noise the
#: converter's target-emotion rate is 1-3 % (47 % clean), the recogniser's accuracy on the
#: noisy takes 20-25 % (48 %), the conversions' speaker similarity 0.73-0.74 (0.84); babble
#: at 15 dB: 17 %, 33 %, 0.72. Of the clean corpora, no RAVDESS or VCTK clip reads below it
#: (lowest 34 and 29 dB), 6 % of LibriSpeech's (noisy home recordings) and 5 % of RAVDESS
#: takes cut to their speech do. Stationary noise at 25 dB already halves both rates, but a
#: threshold there would warn about 18 % of LibriSpeech and 30 % of the cut takes.
LOW_SNR_DB = 20.0


def estimate_snr(wav: np.ndarray, sr: int, name: str = "audio") -> float:
    """Estimated SNR in dB (active speech level over the noise floor; module docstring) of
    mono float ``wav`` ``(n,)`` at ``sr`` Hz (resampled to :data:`SR`), clamped to
    :data:`MIN_SNR_DB`..:data:`MAX_SNR_DB`; NaN ("cannot tell") when it has fewer than
    :data:`MIN_FRAMES` frames that are not digital silence, or when it is a steady periodic
    sound (a held vowel, a tone: module docstring).

    Raises:
        AudioError: not mono ``(n,)``, NaN/Inf or integer-scaled samples, a bad ``sr``.
    """
    y = checked_mono_at(wav, sr, SR, name)
    bands = band_powers(y)
    if bands.shape[0] < MIN_FRAMES:
        return float("nan")
    total = bands.sum(axis=1)
    noise = float(np.percentile(bands, NOISE_PERCENTILE, axis=0).sum()) / PERCENTILE_BIAS
    active = total[total > noise * 10 ** (STANDOUT_DB / 10)]
    if active.shape[0] < MIN_FRAMES:  # noise alone, speech drowned in it, or a steady sound
        if (np.sum(window_changes(bands) >= CHANGE_DB) < MAX_CHANGING_WINDOWS
                and periodic_share(y, SR, name) >= STEADY_PERIODIC_SHARE):
            return float("nan")  # a held vowel, a tone: its floor is the sound itself
        active = louder_half(total)  # of the noise
    speech = float(active.mean()) - noise
    if noise <= 0.0:
        return MAX_SNR_DB
    snr = 10.0 * np.log10(max(speech, 1e-30) / noise)
    return float(np.clip(snr, MIN_SNR_DB, MAX_SNR_DB))


def band_powers(y: np.ndarray) -> np.ndarray:
    """``(frames, N_BANDS)`` power of each band of each Hann-windowed frame of ``y`` (mono
    ``(n,)`` at :data:`SR`, its DC offset removed; at most :data:`MAX_FRAMES` frames, evenly
    spaced), per sample of the frame; frames of digital silence are left out."""
    n = (y.shape[0] - N_FFT) // HOP + 1
    if n < 1:
        return np.zeros((0, N_BANDS))
    starts = np.arange(n) * HOP
    if n > MAX_FRAMES:
        starts = starts[np.linspace(0, n - 1, MAX_FRAMES).astype(np.int64)]
    offset = float(y.mean(dtype=np.float64))  # removed frame by frame: no copy of a long input
    window = np.hanning(N_FFT)
    scale = 2.0 / (N_FFT * float(np.sum(window**2)))  # Parseval: power per sample
    out = []
    for i in range(0, starts.size, BLOCK_FRAMES):
        frames = y[starts[i:i + BLOCK_FRAMES, None] + np.arange(N_FFT)] - offset  # float64
        power = np.abs(np.fft.rfft(frames * window, axis=1)[:, 1:]) ** 2 * scale  # (F, 256)
        out.append(power.reshape(power.shape[0], N_BANDS, -1).sum(axis=2))
    bands = np.concatenate(out)
    return bands[bands.sum(axis=1) > SILENT_FRAME]


def window_changes(bands: np.ndarray) -> np.ndarray:
    """How much (dB) each window of :data:`CHANGE_WINDOW_BANDS` adjacent bands of ``bands``
    (``(frames, N_BANDS)`` powers, :func:`band_powers`) changes over the frames: the 90th
    percentile of its power over the 10th; ``(N_BANDS - CHANGE_WINDOW_BANDS + 1,)``. Powers
    90 dB or more under the mean frame's count as that level (the numerical dust in the
    empty bands of a synthetic sound)."""
    dust = 1e-9 * float(bands.sum(axis=1).mean())
    windows = np.lib.stride_tricks.sliding_window_view(np.maximum(bands, dust),
                                                       CHANGE_WINDOW_BANDS, axis=1).sum(axis=2)
    low, high = np.percentile(windows, [NOISE_PERCENTILE, 100.0 - NOISE_PERCENTILE], axis=0)
    return 10.0 * np.log10(high / low)


def low_snr_note(name: str, snr: float, consequence: str) -> str:
    """One line saying that ``name`` is noisy when ``snr`` (dB, :func:`estimate_snr`) is below
    :data:`LOW_SNR_DB`, ending in ``consequence``; else (NaN included) ``""``."""
    if not snr < LOW_SNR_DB:
        return ""
    return (f"{name} is noisy: its estimated SNR is {snr:.0f} dB (below {LOW_SNR_DB:g} dB, "
            f"where results clearly degrade); {consequence}")


def warn_if_noisy(wav: np.ndarray, sr: int, name: str, consequence: str,
                  stacklevel: int = 1) -> float:
    """:func:`estimate_snr` of ``wav`` (mono float ``(n,)`` at ``sr`` Hz), with an
    :class:`~emovc.errors.EmovcWarning` (:func:`low_snr_note`) when it is below
    :data:`LOW_SNR_DB`; ``stacklevel``: the frame the warning names, 1 for the function
    calling this, 2 for its caller, ..."""
    snr = estimate_snr(wav, sr, name)
    note = low_snr_note(name, snr, consequence)
    if note:
        warnings.warn(note, EmovcWarning, stacklevel=stacklevel + 1)
    return snr
