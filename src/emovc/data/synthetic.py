"""A small source-filter speech synthesizer for tests, demos and benchmarks.

It produces speech-like audio without any recorded data: a glottal pulse train following a
controllable F0 contour (with jitter and vibrato) alternates with noise bursts (unvoiced
"consonants"); a sequence of vowels is imposed by a cascade of formant resonators; an
energy envelope shapes syllables; a spectral tilt makes the voice darker or brighter.

>>> from emovc.data.synthetic import SyntheticVoice, synthesize
>>> wav = synthesize(SyntheticVoice(f0_mean=120.0), duration=1.0, seed=0)
>>> wav.shape, wav.dtype
((16000,), dtype('float32'))
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.signal import lfilter

# (F1, F2, F3) in Hz for a few vowels of an adult male voice
_VOWELS = {
    "a": (730.0, 1090.0, 2440.0),
    "i": (270.0, 2290.0, 3010.0),
    "u": (300.0, 870.0, 2240.0),
    "e": (530.0, 1840.0, 2480.0),
    "o": (570.0, 840.0, 2410.0),
}


@dataclass(frozen=True)
class SyntheticVoice:
    """Controls of the synthetic talker.

    Attributes:
        f0_mean: mean fundamental frequency in Hz.
        f0_range: peak deviation of the declining/rising intonation contour, in semitones.
        vibrato: slow F0 modulation depth in semitones.
        rate: syllables per second.
        energy: overall level scale (linear).
        tilt: spectral tilt of the source; 0.9 = breathy/dark, 0.5 = pressed/bright.
        formant_scale: multiplies all formants (≈ vocal-tract length; 1.15 ≈ female).
        unvoiced_ratio: share of each syllable that is a noise consonant.
    """

    f0_mean: float = 120.0
    f0_range: float = 3.0
    vibrato: float = 0.3
    rate: float = 4.0
    energy: float = 1.0
    tilt: float = 0.7
    formant_scale: float = 1.0
    unvoiced_ratio: float = 0.25

    def with_(self, **changes: float) -> SyntheticVoice:
        """Copy with some fields changed (e.g. an "angry" variant)."""
        return replace(self, **changes)


def f0_contour(voice: SyntheticVoice, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """F0 in Hz per sample: declination + phrase accent + vibrato + jitter, shape ``(n,)``."""
    t = np.arange(n) / sr
    dur = max(n / sr, 1e-3)
    semis = voice.f0_range * (np.sin(np.pi * t / dur) - 0.5 * t / dur)
    semis += voice.vibrato * np.sin(2 * np.pi * 5.0 * t)
    semis += 0.05 * np.cumsum(rng.standard_normal(n)) / np.sqrt(sr)
    return voice.f0_mean * 2.0 ** (semis / 12.0)


def _glottal_source(f0: np.ndarray, sr: int, tilt: float) -> np.ndarray:
    phase = np.cumsum(f0 / sr)
    pulses = np.diff(np.floor(phase), prepend=0.0)  # 1 at each glottal closure
    return lfilter([1.0], [1.0, -tilt], pulses)  # one-pole tilt = glottal roll-off


def _resonator(x: np.ndarray, freq: float, bw: float, sr: int) -> np.ndarray:
    r = np.exp(-np.pi * bw / sr)
    theta = 2 * np.pi * freq / sr
    a = [1.0, -2 * r * np.cos(theta), r * r]
    return lfilter([1.0 - r], a, x)


def synthesize(voice: SyntheticVoice | None = None, duration: float = 2.0, sr: int = 16000,
               seed: int = 0, vowels: str = "aeiou") -> np.ndarray:
    """Render ``duration`` seconds of speech-like audio at ``sr`` Hz.

    Returns:
        mono float32 waveform ``(round(duration*sr),)`` peaking near 0.5, with 0.15 s of
        near-silence at both ends (so trimming and VAD have something to find).
    """
    voice = voice or SyntheticVoice()
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    edge = min(int(0.15 * sr), n // 4)
    syl_len = max(int(sr / voice.rate), 1)
    out = np.zeros(n)
    f0 = f0_contour(voice, n, sr, rng)
    source = _glottal_source(f0, sr, voice.tilt)
    noise = rng.standard_normal(n) * 0.3
    for k, start in enumerate(range(edge, n - edge, syl_len)):
        end = min(start + syl_len, n - edge)
        cons = int((end - start) * voice.unvoiced_ratio)
        seg = np.concatenate([noise[start: start + cons], source[start + cons: end]])
        formants = _VOWELS[vowels[k % len(vowels)]]
        y = seg
        for i, fr in enumerate(formants):
            y = _resonator(y, fr * voice.formant_scale, 60.0 + 40.0 * i, sr) * (4.0 / (i + 1))
        env = np.hanning(len(y)) ** 0.5 if len(y) > 2 else np.ones(len(y))
        out[start:end] = y * env
    out += rng.standard_normal(n) * 1e-4  # a faint noise floor, like a real recording
    peak = np.max(np.abs(out)) or 1.0
    return (0.5 * voice.energy * out / peak).clip(-1, 1).astype(np.float32)


EMOTION_VOICES = {
    "neutral": SyntheticVoice(),
    "calm": SyntheticVoice(f0_range=2.0, rate=3.5, energy=0.7, tilt=0.8),
    "angry": SyntheticVoice(f0_mean=160.0, f0_range=5.0, rate=5.0, energy=1.0, tilt=0.5),
    "sad": SyntheticVoice(f0_mean=105.0, f0_range=1.5, rate=3.0, energy=0.5, tilt=0.85),
    "happy": SyntheticVoice(f0_mean=150.0, f0_range=6.0, rate=4.5, tilt=0.6),
}
"""Caricatures of a few emotions for tests (not a model of real emotional speech)."""
