"""SpectroGANConverter.convert validates intensity, pitch level, samples and rate up front."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, ConfigError
from emovc.models.spectrogan import analyze
from emovc.pipelines.spectrogan import SpectroGANConverter


@pytest.fixture(scope="module")
def tiny(tiny_spectrogan) -> SpectroGANConverter:
    """An untrained calm <-> angry converter without a prosody stage."""
    return tiny_spectrogan


@pytest.fixture(scope="module")
def calm() -> np.ndarray:
    return synthesize(EMOTION_VOICES["calm"], duration=1.0, seed=4)


@pytest.mark.parametrize("intensity", [float("nan"), 1.5, -0.1])
def test_intensity_outside_0_1_is_refused(tiny, calm, intensity: float) -> None:
    with pytest.raises(ConfigError, match="intensity must be between 0 and 1"):
        tiny.convert(calm, 16000, "angry", intensity=intensity)
    with pytest.raises(ConfigError, match="intensity must be between 0 and 1"):
        tiny.convert_log_mag(analyze(calm, tiny.spec)[0], "angry", intensity=intensity)


@pytest.fixture(scope="module")
def bundled() -> SpectroGANConverter:
    return SpectroGANConverter.from_pretrained("spectrogan-ravdess")  # has a prosody stage


@pytest.mark.parametrize("pitch_level", [-2.0, 5.0, float("nan")])
def test_pitch_level_outside_0_1_is_refused(bundled, calm, pitch_level: float) -> None:
    with pytest.raises(ConfigError, match="pitch level must be between 0 and 1"):
        bundled.convert(calm, 16000, "angry", source="calm", pitch_level=pitch_level)


def test_integer_pcm_and_pcm_scale_floats_are_refused(tiny, calm) -> None:
    pcm = (calm * 32767).astype(np.int16)
    with pytest.raises(AudioError, match="integer samples"):
        tiny.convert(pcm, 16000, "angry")
    with pytest.raises(AudioError, match="samples up to"):
        tiny.convert(pcm.astype(np.float32), 16000, "angry")


def test_bad_rate_and_channels_first_are_refused(tiny, calm) -> None:
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        tiny.convert(calm, 0, "angry")
    with pytest.raises(AudioError, match="looks channels-first"):
        tiny.convert(np.stack([calm, calm]), 16000, "angry")
    out = tiny.convert(np.stack([calm, calm], 1), 16000, "angry")  # channels-last: mixed down
    assert out.shape == calm.shape
