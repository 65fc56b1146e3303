"""Time-domain pitch-synchronous overlap-add (TD-PSOLA): new F0 contour and tempo for a
waveform, keeping its own samples (and so its spectral fine structure) period by period.

Written here because no permissively licensed implementation exists on PyPI: Praat (through
``praat-parselmouth``) and PyTSMod are GPL-3.0, and emovc is MIT. PSOLA is short and is core to
the conversion renderer (:func:`emovc.models.conversion.render.render_on_source`).

The method (Moulines & Charpentier 1990): *analysis marks* sit one pitch period apart on a
stable point of each period (the peak of the low-passed signal) in voiced speech, and at a
fixed spacing elsewhere. Output marks are laid down one *target* period apart (the analysis
marks' own spacing divided by the wanted F0 factor); each takes the analysis mark nearest to
its position mapped back through the tempo, and adds that mark's
segment, from the previous to the next analysis mark under a window whose halves cross-fade
neighbouring marks (so unchanged F0 and tempo give the input back exactly). Unvoiced stretches
keep their spacing (only the tempo acts).
All positions are in samples; frame tracks are on a grid of ``hop`` samples (frame ``k``
centred on sample ``k * hop``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfiltfilt

UNVOICED_PERIOD_S = 0.01  # spacing of the analysis marks outside voiced speech
MARK_LOWPASS_HZ = 900.0  # pitch marks are placed on peaks of the signal low-passed here
SEARCH = 0.25  # a mark is searched within ± this share of a period around its prediction


@dataclass(frozen=True)
class PitchMarks:
    """Analysis marks of a waveform.

    Attributes:
        pos: ``(M,)`` increasing sample positions.
        period: ``(M,)`` local period in samples (the unvoiced spacing where not voiced).
        voiced: ``(M,)`` whether each mark sits in voiced speech.
    """

    pos: np.ndarray
    period: np.ndarray
    voiced: np.ndarray


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the runs of true values in a boolean ``(T,)`` array."""
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _voiced_marks(y: np.ndarray, period: np.ndarray, s0: int, s1: int) -> list[int]:
    """Marks one local period apart on the peaks of ``y`` within samples ``[s0, s1)``;
    ``period`` is the per-sample period track."""
    p0 = int(period[s0])
    m = s0 + int(np.argmax(y[s0:min(s0 + p0, s1)]))
    marks = [m]
    while True:
        p = float(period[m])
        lo, hi = int(m + p * (1 - SEARCH)), int(m + p * (1 + SEARCH)) + 1
        if lo >= s1:
            return marks
        m = lo + int(np.argmax(y[lo:min(hi, s1)]))
        marks.append(m)


def pitch_marks(x: np.ndarray, f0: np.ndarray, hop: int, sr: int) -> PitchMarks:
    """Analysis marks of ``x`` given its F0 track.

    Args:
        x: ``(n,)`` waveform at ``sr`` Hz.
        f0: ``(T,)`` F0 in Hz per frame (0 or negative = unvoiced), frames ``hop`` apart.
        hop: frame hop in samples.
        sr: sample rate in Hz.
    """
    n = x.shape[0]
    voiced_frames = f0 > 0
    voiced_samples = np.repeat(voiced_frames, hop)[:n]
    if voiced_samples.shape[0] < n:
        voiced_samples = np.pad(voiced_samples, (0, n - voiced_samples.shape[0]), mode="edge")
    period = np.full(n, sr * UNVOICED_PERIOD_S)
    if voiced_frames.any():  # F0 read between voiced frames only: interpolating towards the
        k = np.flatnonzero(voiced_frames)  # unvoiced 0 would stretch a run's last period
        f = np.interp(np.arange(n) / hop, k, f0[k])
        period[voiced_samples] = sr / f[voiced_samples]
    y = sosfiltfilt(butter(4, MARK_LOWPASS_HZ, fs=sr, output="sos"), x.astype(np.float64))
    # one polarity for the whole input: the side of its largest excursion in voiced speech
    if voiced_samples.any() and -y[voiced_samples].min() > y[voiced_samples].max():
        y = -y
    pos, voiced = [], []
    cursor = 0
    uv = int(round(sr * UNVOICED_PERIOD_S))
    for k0, k1 in _runs(voiced_frames):
        s0, s1 = min(int(k0 * hop), n - 1), min(int(k1 * hop), n)
        gap = np.arange(cursor, s0 - uv // 2, uv)
        pos.append(gap)
        voiced.append(np.zeros(gap.shape[0], bool))
        marks = np.asarray(_voiced_marks(y, period, s0, s1))
        pos.append(marks)
        voiced.append(np.ones(marks.shape[0], bool))
        cursor = int(marks[-1] + period[marks[-1]])
    # marks to a last one at or beyond the end: the fall of the mark before it then meets a
    # rise, so the input's last samples come back exactly (not faded out)
    tail = np.arange(cursor, n + uv, uv)
    pos, voiced = np.concatenate(pos + [tail]).astype(np.int64), np.concatenate(voiced + [
        np.zeros(tail.shape[0], bool)])
    per = np.where(voiced, period[np.minimum(pos, n - 1)], float(uv))
    return PitchMarks(pos=pos, period=per, voiced=voiced)


def psola(x: np.ndarray, marks: PitchMarks, pitch_factor: np.ndarray, hop: int,
          tempo: float = 1.0, jitter: float = 0.0, shimmer_db: float = 0.0,
          seed: int = 0) -> np.ndarray:
    """``x`` with its F0 multiplied by ``pitch_factor`` and its duration by ``tempo``
    (TD-PSOLA).

    Args:
        x: ``(n,)`` waveform.
        marks: its analysis marks (:func:`pitch_marks`).
        pitch_factor: ``(T,)`` wanted F0 over ``x``'s F0 (> 0) on ``x``'s frame grid (input
            timing); read at voiced marks only. Where it is 1 the output period is the
            analysis marks' own spacing, so unchanged settings give ``x`` back exactly.
        hop: frame hop in samples.
        tempo: duration factor (> 1 = slower, longer output).
        jitter: standard deviation of a random relative change of each voiced output period
            (0.01 = 1 %; eGeMAPS' local jitter of the added part is about 1.13 times it).
        shimmer_db: standard deviation (dB) of a random gain on each voiced period.
        seed: of the random perturbations (the same input and settings give the same output).

    Returns:
        float32 ``(round(n * tempo),)``. Each period keeps its amplitude, so a higher pitch
        (more periods per second) is louder, as in natural voice; callers set the level.
    """
    n_out = int(round(x.shape[0] * tempo))
    pos, period = marks.pos, marks.period
    # a segment reaches from the previous mark to the next one (the first and last: a period)
    spacing = np.diff(pos)
    left = np.r_[np.ceil(period[0]), spacing].astype(np.int64)
    right = np.r_[spacing, np.ceil(period[-1])].astype(np.int64)
    pad = int(max(left.max(), right.max())) + 1
    xp = np.pad(x.astype(np.float64), (pad, pad + max(0, int(pos[-1]) - x.shape[0] + 1)))
    out = np.zeros(n_out + 3 * pad)
    frames = np.arange(pitch_factor.shape[0])
    rng = np.random.default_rng(seed)
    ts = float(pos[0]) * tempo
    while ts < n_out + pad:  # up to the mark past the end, whose rise completes the last fall
        ta = ts / tempo
        i = int(np.searchsorted(pos, ta))
        if i == len(pos) or (i > 0 and ta - pos[i - 1] < pos[i] - ta):
            i -= 1
        lo, hi = int(left[i]), int(right[i])
        a, c = int(pos[i]) + pad - lo, int(round(ts)) + pad - lo  # segment starts
        gain = 1.0
        step = float(right[i])
        if marks.voiced[i]:  # the period, scaled by the wanted F0 change (and perturbed)
            step /= max(float(np.interp(ta / hop, frames, pitch_factor)), 1e-3)
            if jitter or shimmer_db:
                step *= 1.0 + jitter * rng.standard_normal()
                gain = 10.0 ** (shimmer_db * rng.standard_normal() / 20.0)
        out[c:c + lo + hi] += gain * xp[a:a + lo + hi] * _window(lo, hi)
        ts += max(step, 1.0)
    return out[pad:pad + n_out].astype(np.float32)


def time_stretch(x: np.ndarray, tempo: float, sr: int) -> np.ndarray:
    """``(n,)`` ``x`` at ``sr`` Hz made ``round(n * tempo)`` samples long by overlap-adding its
    own 10 ms segments: pitch and spectrum unchanged, for audio without voiced speech."""
    hop = int(round(sr * UNVOICED_PERIOD_S))
    n_frames = x.shape[0] // hop + 1
    unvoiced = np.zeros(n_frames)
    return psola(x, pitch_marks(x, unvoiced, hop, sr), np.ones(n_frames), hop, tempo)


@lru_cache(maxsize=4096)
def _window(left: int, right: int) -> np.ndarray:
    """``(left + right,)``: a sin² rise over ``left`` samples to 1 at the mark, then a cos²
    fall over ``right``; the fall of one mark and the rise of the next sum to 1 exactly."""
    rise = np.sin(0.5 * np.pi * np.arange(left) / left) ** 2
    fall = np.cos(0.5 * np.pi * np.arange(right) / right) ** 2
    window = np.concatenate([rise, fall])
    window.flags.writeable = False  # shared by the cache
    return window
