"""Channels holding different sounds are warned about when mixed to mono (audit s38 L1)."""

import warnings

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import fftconvolve

from emovc.audio import load_audio
from emovc.audio.channels import ChannelEnvelopes
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import EmovcWarning

SR = 16000


def _talk(emotion: str, seed: int, seconds: float = 8.0) -> np.ndarray:
    """Utterances of 1.2 s with pauses, as a talker's turns."""
    one = synthesize(EMOTION_VOICES[emotion], duration=1.2, seed=seed)
    pause = np.zeros(int(SR * (0.3 + 0.1 * (seed % 5))), np.float32)
    return np.resize(np.concatenate([one, pause]), int(seconds * SR)).astype(np.float32)


def _room(x: np.ndarray, seed: int) -> np.ndarray:
    """``x`` as one microphone of a room hears it (0.4 s of reverberation)."""
    t = np.arange(int(0.4 * SR)) / SR
    h = np.random.default_rng(seed).standard_normal(t.shape[0]) * np.exp(-6.9 * t / 0.4)
    h[0] = 8.0
    return fftconvolve(x, h / np.sqrt((h * h).sum()))[:x.shape[0]].astype(np.float32)


def _warnings_of(tmp_path, left, right) -> list[str]:
    path = tmp_path / "two.wav"
    sf.write(path, np.stack([left, right], 1), SR, subtype="FLOAT")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        load_audio(path)
    return [str(w.message) for w in shown if issubclass(w.category, EmovcWarning)]


A = _talk("calm", 1)
B = _talk("angry", 2)


@pytest.mark.parametrize("right", [
    A,  # identical
    0.4 * A,  # panned
    np.concatenate([np.zeros(80, np.float32), A[:-80]]),  # a spaced pair: 5 ms later
    np.zeros_like(A),  # one channel silent
    1e-3 * np.random.default_rng(0).standard_normal(A.shape[0]).astype(np.float32),  # hiss
])
def test_one_voice_on_two_channels_is_not_warned_about(tmp_path, right):
    assert _warnings_of(tmp_path, A, right) == []


def test_one_voice_on_two_microphones_in_a_room_is_not_warned_about(tmp_path):
    assert _warnings_of(tmp_path, _room(A, 1), _room(A, 2)) == []


@pytest.mark.parametrize("left,right", [
    (A, B),  # two voices at once
    (np.where(np.arange(A.size) % (4 * SR) < 2 * SR, A, 0),
     np.where(np.arange(A.size) % (4 * SR) < 2 * SR, 0, B)),  # turns of an interview
])
def test_two_voices_are_warned_about_in_one_line_naming_the_file(tmp_path, left, right):
    (note,) = _warnings_of(tmp_path, left.astype(np.float32), right.astype(np.float32))
    assert note.startswith(f"{tmp_path / 'two.wav'}: its 2 channels hold different sounds")
    assert "\n" not in note


def test_envelope_sums_do_not_depend_on_the_blocks():
    x = np.stack([A, B, A], 1)[:50_000]
    whole, parts = ChannelEnvelopes(3), ChannelEnvelopes(3)
    whole.feed(x)
    for s in range(0, x.shape[0], 3000):
        parts.feed(x[s:s + 3000])
    powers = (x.astype(np.float64) ** 2).mean(0)
    assert whole.frames == parts.frames == 50_000 // 1024
    assert whole.least_correlation(powers) == pytest.approx(parts.least_correlation(powers))
