import numpy as np
import pytest

from emovc.audio import check_speech, normalize_loudness, trim_silence
from emovc.audio.processing import active_rms_dbfs
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
