"""EmotionConverter with bad sample rates, a non-string target and the "default" model name."""

from __future__ import annotations

import pytest

from emovc.errors import AudioError, ConfigError, EmovcError
from emovc.pipelines.conversion import EmotionConverter


@pytest.fixture(scope="module")
def converter() -> EmotionConverter:
    return EmotionConverter.from_pretrained()  # the bundled default, m2m-ravdess


def test_default_name_loads_the_default_converter(converter: EmotionConverter) -> None:
    default = EmotionConverter.from_pretrained("default")
    assert type(default.backend) is type(converter.backend)
    assert default.source_emotions == converter.source_emotions
    assert default.settings == converter.settings  # m2m-ravdess's meta.json defaults
    with pytest.raises(ConfigError, match="bundled models: default, cyclegan-calm-angry"):
        EmotionConverter.from_pretrained("no-such-model")


@pytest.mark.parametrize("sr", [0, -16000])
def test_bad_sample_rate_is_one_line_error(converter: EmotionConverter, calm, sr: int) -> None:
    with pytest.raises(AudioError, match=f"sample rate must be a positive integer.*got {sr}"):
        converter.convert(calm, sr, "angry", source="calm")


@pytest.mark.parametrize("target", [None, 3])
def test_non_string_target_lists_the_emotions(converter: EmotionConverter, calm, target) -> None:
    with pytest.raises(ConfigError, match="target emotion must be a name.*valid choices: .*angry"):
        converter.convert(calm, 16000, target, source="calm")


def test_channel_layouts_convert_like_mono(converter: EmotionConverter, calm) -> None:
    import numpy as np

    mono = converter.convert(calm, 16000, "sad", source="calm")
    np.testing.assert_array_equal(converter.convert(calm[:, None], 16000, "sad", source="calm"),
                                  mono)
    stereo = np.stack([calm, calm], axis=1)  # channels-last, as soundfile reads it
    np.testing.assert_allclose(converter.convert(stereo, 16000, "sad", source="calm"), mono,
                               atol=1e-6)
    with pytest.raises(AudioError, match="channels-first"):
        converter.convert(stereo.T, 16000, "sad", source="calm")


def test_convert_file_never_overwrites_its_input(converter: EmotionConverter, tmp_path) -> None:
    """Even with force, by any name; one error type (ConfigError) and wording for every
    command."""
    from emovc.audio import save_audio
    from emovc.data.synthetic import SyntheticVoice, synthesize

    src = save_audio(tmp_path / "a.wav", synthesize(SyntheticVoice(), duration=1.0), 16000)
    (tmp_path / "link.wav").symlink_to(src)
    with pytest.raises(ConfigError, match=r"^output would overwrite the input file: "):
        converter.convert_file(src, tmp_path / "link.wav", "angry", force=True)


@pytest.mark.parametrize("value", [True, "1", None])
def test_intensity_must_be_a_number(converter: EmotionConverter, calm, value) -> None:
    """``True`` and ``"1"`` used to be read as an intensity of 1."""
    with pytest.raises(ConfigError, match=f"^intensity must be between 0 and 1, got {value!r} "
                       r"\(not a number\)$"):
        converter.convert(calm, 16000, "angry", source="calm", intensity=value)


@pytest.mark.parametrize("setting", ["pitch_level", "envelope_gain", "voice_quality"])
def test_numeric_settings_refuse_bools_and_strings(converter: EmotionConverter, calm,
                                                   setting: str) -> None:
    with pytest.raises(ConfigError, match="must be between 0 and .*got '1' \\(not a number"):
        converter.convert(calm, 16000, "angry", source="calm", **{setting: "1"})
    with pytest.raises(ConfigError, match="must be between .*got True \\(not a number"):
        setattr(converter, setting, True)


def test_keep_level_must_be_a_bool(converter: EmotionConverter, calm, tmp_path) -> None:
    """``keep_level="yes"`` (or ``"no"``) used to be taken as true."""
    with pytest.raises(ConfigError, match="^keep_level must be True or False, got 'no'"):
        converter.convert(calm, 16000, "angry", source="calm", keep_level="no")
    with pytest.raises(ConfigError, match="^force must be True or False, got 1"):
        converter.convert_file(tmp_path / "in.wav", tmp_path / "out.wav", "angry", force=1)


def test_detect_source_refuses_an_unknown_excluded_emotion(converter: EmotionConverter,
                                                           calm) -> None:
    with pytest.raises(ConfigError, match="unknown emotion 'bogus'; valid choices: .*angry"):
        converter.detect_source(calm, 16000, exclude="bogus")


def test_detect_source_excludes_the_target_however_it_is_spelled(converter: EmotionConverter,
                                                                 calm) -> None:
    found = converter.detect_source(calm, 16000)
    assert converter.detect_source(calm, 16000, exclude=found.upper()) != found


class Measured:
    """A recogniser that answers with fixed probabilities."""

    def __init__(self, probs: dict[str, float]) -> None:
        self.probs = probs

    def predict(self, wav, sr):
        return self.probs


@pytest.mark.parametrize("top", ["angry", "sad", "calm"])
def test_source_from_probs_decides_as_detect_source(converter: EmotionConverter, calm,
                                                    top: str) -> None:
    """A caller that already has the recogniser's probabilities (the app shows them) gets
    the converter's choice without a stand-in recogniser."""
    probs = {e: 0.04 for e in converter.source_emotions} | {top: 0.72}
    for exclude in (None, top):
        assert converter.source_from_probs(probs, exclude) == converter.detect_source(
            calm, 16000, exclude=exclude, recognizer=Measured(probs))
    assert converter.source_from_probs(probs, top) != top
    with pytest.raises(EmovcError, match="labels do not cover this model's source emotions"):
        converter.source_from_probs({"laughing": 1.0})


def test_detects_source_for_some_target(converter: EmotionConverter, monkeypatch) -> None:
    """A model whose pairs fix the source for some targets only still detects it for the
    others: detects_source looked at the first target alone."""
    assert converter.detects_source
    monkeypatch.setattr(converter, "fixed_source", lambda t: "calm" if t == "neutral" else None)
    assert converter.target_emotions[0] == "neutral" and converter.detects_source
    monkeypatch.setattr(converter, "fixed_source", lambda t: "calm")
    assert not converter.detects_source


def test_no_recogniser_asks_for_the_python_argument(monkeypatch, calm) -> None:
    """The hint named the command line's --from only, which a Python caller does not have."""
    from emovc.pipelines.recognition import EmotionRecognizer

    def missing(*_args, **_kwargs):
        raise ConfigError("no recogniser bundled")

    monkeypatch.setattr(EmotionRecognizer, "from_pretrained", missing)
    conv = EmotionConverter.from_pretrained()
    with pytest.raises(EmovcError, match=r"no recogniser bundled\); pass source= one of "
                       r"neutral, calm, .*surprised \(command line: --from\)$"):
        conv.convert(calm, 16000, "angry")


def test_voice_quality_without_statistics_names_the_python_argument(calm) -> None:
    conv = EmotionConverter.from_pretrained("cyclegan-calm-angry")
    with pytest.raises(ConfigError, match=r"leave voice_quality at 0 \(command line: "
                       r"--voice-quality\)$"):
        conv.convert(calm, 16000, "angry", renderer="source", voice_quality=1.0)


@pytest.mark.parametrize("name", ["default", "cyclegan-calm-angry"])
@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_world_models_convert_arrays_at_any_rate(calm, name: str, sr: int) -> None:
    """The WORLD-feature models refused arrays at other rates than 16 kHz, while SpectroGAN
    resampled them; both return audio at the caller's rate now."""
    import numpy as np

    from emovc.audio.io import resample
    from emovc.audio.processing import PEAK_LIMIT

    conv = EmotionConverter.from_pretrained(name)
    at_16k = conv.convert(calm, 16000, "angry", source="calm")
    out = conv.convert(resample(calm, 16000, sr), sr, "angry", source="calm")
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert np.abs(out).max() < PEAK_LIMIT
    assert abs(len(out) - len(at_16k) * sr / 16000) <= 2  # the same duration, at sr
    back = resample(out, sr, 16000)[:len(at_16k)]
    level = np.sqrt(np.mean(back ** 2)) / np.sqrt(np.mean(at_16k ** 2))
    assert 0.89 < level < 1.12  # within 1 dB: the same conversion, not just a length


def test_convert_with_source_reports_the_detected_source(converter: EmotionConverter,
                                                         calm) -> None:
    """convert() never said which source it detected; a caller had to run the recogniser
    again (detect_source) to record it."""
    import numpy as np

    out, used = converter.convert_with_source(calm.astype(np.float64), 16000, "angry")
    assert used == converter.detect_source(calm, 16000, exclude="angry")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, converter.convert(calm, 16000, "angry"))
    assert converter.convert_with_source(calm, 16000, "angry", source="Calm")[1] == "calm"


def test_convert_with_source_names_a_pairwise_models_other_emotion(calm) -> None:
    conv = EmotionConverter.from_pretrained("cyclegan-calm-angry")
    assert conv.convert_with_source(calm, 16000, "angry")[1] == "calm"


def test_a_spectrogan_reports_its_detected_source_too(calm) -> None:
    conv = EmotionConverter.from_pretrained("spectrogan-ravdess")
    out, used = conv.convert_with_source(calm, 16000, "sad")
    assert used == conv.detect_source(calm, 16000, exclude="sad")
    assert out.dtype.name == "float32"
