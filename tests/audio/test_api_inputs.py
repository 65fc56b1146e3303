"""Input validation shared by every pipeline: shapes, sample rates, integer PCM, emotion names
and the ``"default"`` model names (one-line errors naming the problem and the valid choices)."""

from __future__ import annotations

import numpy as np
import pytest

from emovc.audio import check_speech
from emovc.audio.processing import as_mono, check_float_samples, check_sample_rate
from emovc.data.emotions import EMOTIONS, check_emotion, normalize_emotion
from emovc.errors import AudioError, ConfigError
from emovc.pretrained.registry import default_model, resolve


@pytest.mark.parametrize("sr", [0, -16000, 0.5, 16000.5, float("nan"), "16k", None, True])
def test_check_speech_refuses_bad_sample_rates(speech: np.ndarray, sr) -> None:
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        check_speech(speech, sr)


def test_check_sample_rate_accepts_whole_numbers() -> None:
    assert check_sample_rate(16000) == 16000
    assert check_sample_rate(np.int64(22050)) == 22050
    assert check_sample_rate(16000.0) == 16000
    with pytest.raises(AudioError, match="sample rate must be a positive integer"):
        check_sample_rate("16000")  # a string is refused everywhere, not only in cloning


def test_a_sample_rate_in_khz_is_refused_as_implausible(speech: np.ndarray) -> None:
    """``(wav, 16)`` (kHz for Hz) was taken as 16 Hz: cloning said "no voiced speech found in
    reference 1", which sent the user to the audio instead of the number."""
    from emovc.pipelines.cloning import VoiceCloner

    for sr in (16, 44, 999):
        with pytest.raises(AudioError, match=rf"implausible sample rate: {sr} Hz .*not kHz"):
            check_sample_rate(sr)
    assert check_sample_rate(8000) == 8000
    with pytest.raises(AudioError, match="implausible sample rate of reference 1: 16 Hz"):
        VoiceCloner().load_references([(speech, 16)])


@pytest.mark.parametrize("layout", ["n1", "1n", "n2"])
def test_check_speech_refuses_2d_audio(speech: np.ndarray, layout: str) -> None:
    wav = {"n1": speech[:, None], "1n": speech[None], "n2": np.stack([speech, speech], 1)}[layout]
    with pytest.raises(AudioError, match=r"mono audio of shape \(n,\), got shape"):
        check_speech(wav, 16000)


def test_as_mono_squeezes_one_channel_and_mixes_channels_last(speech: np.ndarray) -> None:
    for wav in (speech, speech[:, None], speech[None], speech.astype(np.float64)):
        out = as_mono(wav)
        assert out.shape == speech.shape and out.dtype == np.float32
        np.testing.assert_array_equal(out, speech)
    stereo = np.stack([speech, 0.5 * speech], 1)
    np.testing.assert_allclose(as_mono(stereo), 0.75 * speech, atol=1e-7)


def test_as_mono_refuses_channels_first_other_shapes_and_integer_pcm(speech: np.ndarray) -> None:
    with pytest.raises(AudioError, match=r"shape \(2, 32000\), which looks channels-first"):
        as_mono(np.stack([speech, speech]), "clip")
    for wav in (np.zeros((2, 3, 4000), np.float32), np.float32(0.5), np.zeros((100, 100))):
        with pytest.raises(AudioError, match="got shape"):
            as_mono(wav)
    with pytest.raises(AudioError, match=r"integer samples \(int16\).*divide by 32768"):
        as_mono((speech * 32767).astype(np.int16))
    with pytest.raises(AudioError, match="numeric float waveform"):
        as_mono(np.array(["a", "b"]))


def test_check_float_samples_refuses_pcm_scale_and_nan(speech: np.ndarray) -> None:
    assert check_float_samples(speech) is speech
    with pytest.raises(AudioError, match="samples up to"):
        check_float_samples(speech * 32767)
    with pytest.raises(AudioError, match="NaN or Inf"):
        check_float_samples(np.r_[speech, np.nan])


@pytest.mark.parametrize("label", [None, 3, 1.5, ["angry"]])
def test_emotion_names_must_be_strings(label) -> None:
    with pytest.raises(ConfigError, match="target emotion must be a name.*valid choices: calm, "
                                          "angry"):
        check_emotion(label, ["calm", "angry"], "target emotion")
    with pytest.raises(ConfigError, match=f"valid choices: {', '.join(EMOTIONS)}"):
        normalize_emotion(label)


def test_default_model_names_per_kind() -> None:
    assert default_model("emotion-converter/") == "m2m-ravdess"
    assert default_model("emotion-converter") == "m2m-ravdess"
    assert default_model("emotion-recognizer") == "ser-ravdess"
    assert default_model("emotion-converter/spectrogan") == "spectrogan-ravdess"  # the only one
    assert resolve("default", "emotion-converter/") == resolve("m2m-ravdess")
    with pytest.raises(ConfigError, match="unknown model 'nope'; bundled models: default, "
                                          "cyclegan-calm-angry, m2m-ravdess"):
        resolve("nope", "emotion-converter/")
    # a bundled model of another kind is named as such (a StarGAN run's init_from, a teacher)
    with pytest.raises(ConfigError, match="cyclegan-calm-angry is a bundled cyclegan emotion "
                                          "converter, not a stargan emotion converter; bundled "
                                          "ones: default, m2m-ravdess"):
        resolve("cyclegan-calm-angry", "emotion-converter/stargan")
