"""TD-PSOLA: pitch marks, F0 change, tempo change, envelope kept."""

import numpy as np
import pytest
import pyworld
from scipy.signal import lfilter

from emovc.audio.psola import pitch_marks, psola

SR, HOP = 16000, 80


def _vowel(f0_hz: np.ndarray, formant: float = 700.0, noise_s: float = 0.2) -> np.ndarray:
    """A pulse train following ``f0_hz`` (per sample) through one formant resonator, after
    ``noise_s`` of noise (an unvoiced stretch)."""
    phase = np.cumsum(f0_hz / SR)
    pulses = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    r = np.exp(-np.pi * 80.0 / SR)  # 80 Hz bandwidth
    a = [1.0, -2 * r * np.cos(2 * np.pi * formant / SR), r * r]
    voiced = lfilter([1.0], a, lfilter([1.0], [1.0, -0.95], pulses))
    voiced *= 0.3 / np.abs(voiced).max()
    noise = np.random.default_rng(0).normal(0.0, 0.01, int(noise_s * SR))
    return np.concatenate([noise, voiced]).astype(np.float32)


def _f0(x: np.ndarray) -> np.ndarray:
    f0, t = pyworld.dio(x.astype(np.float64), SR, frame_period=HOP * 1000 / SR)
    return pyworld.stonemask(x.astype(np.float64), f0, t, SR)


@pytest.fixture(scope="module")
def vowel():
    t = np.arange(int(1.2 * SR)) / SR
    return _vowel(120.0 + 20.0 * np.sin(2 * np.pi * 0.8 * t))


def test_marks_are_one_period_apart_in_voiced_speech(vowel):
    f0 = _f0(vowel)
    marks = pitch_marks(vowel, f0, HOP, SR)
    assert np.all(np.diff(marks.pos) > 0)
    voiced = marks.pos[marks.voiced]
    spacing = np.diff(voiced)
    expected = SR / np.interp(voiced[:-1] / HOP, np.arange(f0.shape[0]), f0)
    assert np.median(np.abs(spacing / expected - 1)) < 0.03
    assert marks.voiced.sum() > 100  # ~1 s at 100-140 Hz
    # the noise lead-in gets evenly spaced unvoiced marks
    lead = marks.pos[~marks.voiced & (marks.pos < 0.15 * SR)]
    assert len(lead) >= 10 and np.all(np.diff(lead) == 160)


@pytest.mark.parametrize("factor", [0.8, 1.3])
def test_f0_follows_the_target_and_the_length_is_kept(vowel, factor):
    f0 = _f0(vowel)
    marks = pitch_marks(vowel, f0, HOP, SR)
    y = psola(vowel, marks, np.full(f0.shape, factor), HOP)
    assert y.shape == vowel.shape and y.dtype == np.float32 and np.isfinite(y).all()
    g = _f0(y)
    both = (f0 > 0) & (g > 0)
    ratio = np.median(g[both] / f0[both])
    assert abs(ratio / factor - 1) < 0.03, ratio


@pytest.mark.parametrize("tempo", [0.75, 1.4])
def test_tempo_changes_the_length_not_the_pitch(vowel, tempo):
    f0 = _f0(vowel)
    marks = pitch_marks(vowel, f0, HOP, SR)
    y = psola(vowel, marks, np.ones(f0.shape), HOP, tempo=tempo)
    assert y.shape[0] == round(vowel.shape[0] * tempo)
    g = _f0(y)
    assert abs(np.median(g[g > 0]) / np.median(f0[f0 > 0]) - 1) < 0.03


def test_the_formant_stays_where_it_was(vowel):
    """PSOLA moves the harmonics, not the envelope (a resampling would move both)."""
    f0 = _f0(vowel)
    marks = pitch_marks(vowel, f0, HOP, SR)
    y = psola(vowel, marks, np.full(f0.shape, 1.3), HOP)

    def peak_hz(x):
        x = x.astype(np.float64)
        g = _f0(x)
        t = np.arange(g.shape[0]) * HOP / SR
        sp = pyworld.cheaptrick(x, g, t, SR, fft_size=1024)[g > 0]
        return np.argmax(np.log(sp).mean(axis=0)) * SR / 1024

    assert abs(peak_hz(vowel) - 700.0) < 50.0
    assert abs(peak_hz(y) - 700.0) < 50.0  # resampled by 1.3 it would sit at ~910 Hz


def test_identity_settings_give_the_input_back(vowel):
    f0 = _f0(vowel)
    marks = pitch_marks(vowel, f0, HOP, SR)
    y = psola(vowel, marks, np.ones(f0.shape), HOP)
    np.testing.assert_allclose(y, vowel, atol=1e-6)  # every sample, the first and last too
    tail = np.concatenate([vowel, np.random.default_rng(1).normal(0, 0.01, 1234)])
    tail = tail.astype(np.float32)  # ends in an unvoiced stretch (used to be faded out)
    f0 = _f0(tail)
    y = psola(tail, pitch_marks(tail, f0, HOP, SR), np.ones(f0.shape), HOP)
    np.testing.assert_allclose(y, tail, atol=1e-6)


@pytest.mark.parametrize("f0_hz", [110.0, 230.0])
def test_a_voiced_run_ends_on_its_own_period(f0_hz):
    """At the end of a voiced run the marks keep the run's period (the F0 track is not read
    as falling towards the unvoiced 0), so no stretch after it goes without marks and a
    pitch change leaves the following noise at its level."""
    n_frames = 300
    f0 = np.zeros(n_frames)
    f0[20:88] = f0_hz
    n = (n_frames - 1) * HOP + 1
    per_sample = np.interp(np.arange(n) / HOP, np.arange(n_frames), f0)
    rng = np.random.default_rng(0)
    x = np.where(per_sample > 0, 0.5 * np.sin(np.cumsum(2 * np.pi * per_sample / SR)), 0.0)
    x = x + 0.05 * rng.standard_normal(n)
    marks = pitch_marks(x, f0, HOP, SR)
    last = np.flatnonzero(marks.voiced)[-1]
    assert marks.period[last] < 1.3 * SR / f0_hz
    assert marks.pos[last + 1] - marks.pos[last] < 1.3 * SR / f0_hz
    y = psola(x, marks, np.full(n_frames, 1.5), HOP)
    after = slice(88 * HOP + 200, 88 * HOP + 1000)
    assert 20 * np.log10(np.std(y[after]) / np.std(x[after])) < 1.0
