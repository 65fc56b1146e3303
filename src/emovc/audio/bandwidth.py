"""How much of the speech band a recording holds: telephone audio (8 kHz, or such audio
resampled to 16 kHz) has no sound above 4 kHz, where 16 kHz speech, which emovc's models were
trained on, reaches 8 kHz. :func:`band_limit_hz` finds it, :func:`band_limit_note` says so in
one line, for ``emovc clone``'s references, ``emovc convert``'s inputs and the recogniser's.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.signal import welch

from emovc.errors import EmovcWarning

#: a recording made below this rate (Hz) lacks the upper band of 16 kHz speech
FULL_BAND_RATE = 16000
#: share of a recording's power (dB) above its upper band edge (:func:`upper_band_edge`)
EDGE_FLOOR_DB = -50.0
#: a recording whose upper band edge is below this (Hz) counts as band-limited: half-way
#: between 16 kHz speech and 8 kHz audio. The edges of the 1491 clips of emovc's 16 kHz data
#: (RAVDESS, VCTK, LibriSpeech) are 6.25-8.0 kHz (median 7.72), those of their 8 kHz copies
#: resampled back to 16 kHz (soxr VHQ) 3.69-3.91 kHz (``benchmarks/diag_band_limit.py``)
LIMITED_BELOW_HZ = 5000.0


#: samples per block of :func:`average_spectrum`: memory stays flat in the input's length
SPECTRUM_BLOCK = 1 << 18


def average_spectrum(wav: np.ndarray, sr: int, nperseg: int = 512,
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """Welch's average power spectrum of ``wav`` (mono ``(n,)`` at ``sr`` Hz), ``(freqs
    (nperseg // 2 + 1,), power)``, or ``None`` for a clip shorter than ``nperseg``. Computed
    in blocks of :data:`SPECTRUM_BLOCK` samples weighted by their segment counts (scipy's
    ``welch`` of a whole 30 min input holds all its segments and their spectra at once:
    about 0.9 GB), so memory does not grow with the input; one block is ``welch`` itself."""
    n = wav.shape[0]
    if n < nperseg:
        return None
    total, count, freqs = None, 0, None
    for start in range(0, n, SPECTRUM_BLOCK):
        block = np.asarray(wav[start:start + SPECTRUM_BLOCK], dtype=np.float64)
        if block.shape[0] < nperseg:  # a short tail: its segments are a rounding error
            continue
        freqs, power = welch(block, sr, nperseg=nperseg)
        segments = 1 + (block.shape[0] - nperseg) // (nperseg // 2)
        total = power * segments if total is None else total + power * segments
        count += segments
    return freqs, total / count


def upper_band_edge(wav: np.ndarray, sr: int) -> float:
    """The frequency (Hz) above which ``wav`` (mono float ``(n,)`` at ``sr`` Hz) holds less than
    :data:`EDGE_FLOOR_DB` of its power (Welch's average spectrum, 512-sample segments:
    :func:`average_spectrum`); ``sr / 2`` for a clip without power or shorter than a
    segment."""
    spectrum = average_spectrum(wav, sr)
    if spectrum is None:
        return sr / 2
    freqs, power = spectrum
    above = np.cumsum(power[::-1])[::-1]  # power at and above each frequency
    if not above[0] > 0:
        return sr / 2
    quiet = above < above[0] * 10 ** (EDGE_FLOOR_DB / 10)
    return float(freqs[np.argmax(quiet)]) if quiet.any() else sr / 2


def band_limit_hz(wav: np.ndarray, sr: int, rate: int | None = None) -> float | None:
    """The upper band edge (Hz) of a band-limited recording, else ``None``: half the rate it
    was recorded at (``rate``, else ``sr``) when that is below :data:`FULL_BAND_RATE`,
    otherwise its measured edge (:func:`upper_band_edge`) when below
    :data:`LIMITED_BELOW_HZ` (telephone audio resampled to 16 kHz or more)."""
    recorded = rate if rate is not None else sr
    if recorded < FULL_BAND_RATE:
        return recorded / 2
    edge = upper_band_edge(wav, sr)
    return edge if edge < LIMITED_BELOW_HZ else None


def band_limit_note(name: str, wav: np.ndarray, sr: int, consequence: str,
                    rate: int | None = None) -> str:
    """One line saying that ``name`` is band-limited (:func:`band_limit_hz`), ending in
    ``consequence``; ``""`` when it is not. ``rate``: the rate it was recorded at when
    ``wav`` was resampled (a file's own rate), ``None`` when ``sr`` is it or it is unknown."""
    limit = band_limit_hz(wav, sr, rate)
    if limit is None:
        return ""
    recorded = rate if rate is not None else sr
    if recorded < FULL_BAND_RATE:
        what = f"is {recorded} Hz audio, with no sound above {limit / 1000:g} kHz"
    else:  # measured, rounded up to 0.5 kHz (the edge of 8 kHz audio reads 3.7-3.9 kHz)
        what = (f"has no sound above about {math.ceil(limit / 500) / 2:g} kHz (as telephone "
                "audio)")
    return f"{name} {what}: {consequence}"


def warn_if_band_limited(wav: np.ndarray, sr: int, name: str, consequence: str,
                         rate: int | None = None, stacklevel: int = 1) -> bool:
    """An :class:`~emovc.errors.EmovcWarning` (:func:`band_limit_note`) when ``wav`` is
    band-limited; returns whether it is. ``stacklevel``: the frame the warning names, 1 for
    the function calling this."""
    note = band_limit_note(name, wav, sr, consequence, rate)
    if note:
        warnings.warn(note, EmovcWarning, stacklevel=stacklevel + 1)
    return bool(note)
