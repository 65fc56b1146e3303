import numpy as np
import pytest

from emovc.audio import check_speech, normalize_loudness, trim_silence
from emovc.audio.processing import active_rms_dbfs, keep_edge_pauses, speech_bounds
from emovc.errors import AudioError


def test_normalize_loudness_reaches_target(speech: np.ndarray) -> None:
    quiet = speech * 0.01  # like RAVDESS's near -40 dBFS takes
    out = normalize_loudness(quiet, 16000, target_dbfs=-23.0)
    assert abs(active_rms_dbfs(out, 16000) - (-23.0)) < 0.5
    assert np.max(np.abs(out)) <= 0.99


def test_normalize_limits_peaks(speech: np.ndarray) -> None:
    out = normalize_loudness(speech, 16000, target_dbfs=0.0)
    assert np.max(np.abs(out)) <= 0.99 + 1e-6


def test_normalize_leaves_digital_silence_alone() -> None:
    silent = np.zeros(16000, dtype=np.float32)
    assert np.array_equal(normalize_loudness(silent, 16000), silent)


@pytest.mark.parametrize("method", ["energy", "vad"])
def test_trim_silence_removes_padding(speech: np.ndarray, method: str) -> None:
    pad = np.zeros(16000, dtype=np.float32)
    padded = np.concatenate([pad, speech, pad])
    trimmed = trim_silence(padded, 16000, method=method)
    assert len(speech) * 0.6 < len(trimmed) < len(padded) - 16000


def test_trim_unknown_method(speech: np.ndarray) -> None:
    with pytest.raises(AudioError, match="valid choices: energy, vad"):
        trim_silence(speech, 16000, method="magic")


def test_check_speech_errors(speech: np.ndarray) -> None:
    check_speech(speech, 16000)
    with pytest.raises(AudioError, match="too short"):
        check_speech(speech[:1600], 16000)
    with pytest.raises(AudioError, match="silent"):
        check_speech(np.zeros(16000, dtype=np.float32), 16000)


def test_soft_limit_passes_small_samples_and_bounds_peaks():
    from emovc.audio.processing import soft_limit

    x = np.linspace(-3.0, 3.0, 6001, dtype=np.float32)
    y = soft_limit(x, ceiling=0.977, knee=0.6)
    small = np.abs(x) <= 0.6
    np.testing.assert_array_equal(y[small], x[small])
    assert np.abs(y).max() < 0.977
    assert np.all(np.diff(y) >= 0)  # monotone: no fold-over distortion


def _padded_tone(lead_s: float, tone_s: float, trail_s: float, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(tone_s * sr)) / sr
    tone = 0.5 * np.sin(2 * np.pi * 220 * t) * np.hanning(len(t)) ** 0.1
    noise = lambda s: 1e-4 * rng.standard_normal(int(s * sr))  # noqa: E731
    return np.r_[noise(lead_s), tone, noise(trail_s)].astype(np.float32)


@pytest.mark.parametrize("tempo", [0.8, 1.25])
def test_keep_edge_pauses_scales_only_the_speech(tempo: float) -> None:
    x = _padded_tone(0.5, 1.0, 0.3)
    # a uniformly time-scaled copy of x, as a tempo change makes it
    y = np.interp(np.arange(int(round(len(x) * tempo))) / tempo, np.arange(len(x)), x)
    out = keep_edge_pauses(y, x)
    start, end = speech_bounds(x)
    o_start, o_end = speech_bounds(out)
    assert abs(o_start - start) <= 256 and abs((len(out) - o_end) - (len(x) - end)) <= 256
    assert (o_end - o_start) / (end - start) == pytest.approx(tempo, abs=0.02)
    assert len(out) == pytest.approx(len(x) + (end - start) * (tempo - 1), abs=2)
    assert np.abs(np.diff(out[: o_start])).max() < 1e-3  # the extended pause has no clicks
    np.testing.assert_array_equal(keep_edge_pauses(x, x), x)  # no tempo change: unchanged
    loud = _padded_tone(0.0, 1.0, 0.0)  # no pause to keep: plain time scaling stays
    assert len(keep_edge_pauses(loud[::2], loud)) == pytest.approx(len(loud) // 2, abs=160)
