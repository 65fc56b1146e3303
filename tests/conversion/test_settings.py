"""ConversionSettings: a model's inference settings, validated whenever they are made."""

import pytest

from emovc.errors import ConfigError
from emovc.pipelines.conversion_settings import ConversionSettings, Setting

STATS = {"calm": {"jitter": 0.016, "shimmer_db": 1.07},
         "angry": {"jitter": 0.025, "shimmer_db": 1.26}}


def test_from_meta_takes_known_keys_and_keeps_the_other_defaults():
    s = ConversionSettings.from_meta({"pitch_level": 0.125, "renderer": "source",
                                      "voice_quality_stats": STATS, "note": "ignored"})
    assert (s.pitch_level, s.renderer, s.envelope_gain, s.envelope_smoothing_ms) == (
        0.125, "source", 1.0, 0.0)
    assert s.voice_quality_stats["angry"]["jitter"] == pytest.approx(0.025)


@pytest.mark.parametrize("field,value,words", [
    ("pitch_level", 1.5, "pitch level"), ("envelope_gain", 5, "envelope gain"),
    ("envelope_smoothing_ms", -1, "envelope smoothing"), ("renderer", "praat", "world"),
    ("voice_quality", "loud", "voice quality"),
    ("voice_quality_stats", {"angry": {"jitter": -1, "shimmer_db": 1}}, "jitter")])
def test_bad_values_are_one_line_config_errors(field, value, words):
    with pytest.raises(ConfigError, match=words) as err:
        ConversionSettings(**{field: value})
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=words):  # in a meta.json too
        ConversionSettings.from_meta({field: value})


def test_overrides_replace_only_the_values_given():
    s = ConversionSettings(pitch_level=0.5, envelope_gain=1.2)
    t = s.with_overrides(pitch_level=None, envelope_gain=1.0, renderer=None)
    assert (t.pitch_level, t.envelope_gain, t.renderer) == (0.5, 1.0, "world")
    assert s.envelope_gain == 1.2  # frozen: the original is unchanged
    with pytest.raises(ConfigError, match="envelope gain"):
        s.with_overrides(envelope_gain=9)


def test_tag_names_what_differs_from_plain_world_synthesis():
    assert ConversionSettings().tag() == ""
    s = ConversionSettings(envelope_smoothing_ms=100, envelope_gain=1.15, renderer="source",
                           voice_quality=1.0)
    assert s.tag() == (", smoothing 100 ms, envelope gain 1.15, renderer source, "
                       "voice quality 1")
    # the voice quality is the source renderer's: WORLD synthesis ignores it
    assert ConversionSettings(voice_quality=1.0).tag() == ""


class _Holder:
    pitch_level = Setting()
    renderer = Setting()

    def __init__(self):
        self.settings = ConversionSettings()


def test_setting_attributes_validate_on_assignment():
    h = _Holder()
    h.pitch_level = 0.25
    assert h.settings.pitch_level == 0.25 and h.pitch_level == 0.25
    with pytest.raises(ConfigError, match="renderer"):
        h.renderer = "x"
    assert h.renderer == "world"  # a failed assignment leaves the settings as they were


def test_voice_quality_without_statistics_is_refused_not_ignored(stargan_run, calm):
    """A trained run has no voice-quality statistics: --voice-quality 1 changed nothing while
    the output's tag claimed it."""
    from emovc.pipelines.conversion import EmotionConverter

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    with pytest.raises(ConfigError, match="voice quality needs .*statistics"):
        conv.convert(calm, 16000, "sad", source="calm", renderer="source", voice_quality=1.0)
    conv.convert(calm, 16000, "sad", source="calm", renderer="source")  # 0: fine
    with pytest.raises(ConfigError, match="voice quality applies to the source renderer"):
        conv.convert(calm, 16000, "sad", source="calm", voice_quality=1.0)  # WORLD: ignored


def test_a_bad_meta_json_is_named(cyclegan_run, tmp_path):
    """A hand-edited meta.json's bad value must not read as if --pitch-level had been given."""
    import json
    import shutil

    from emovc.pipelines.conversion import EmotionConverter

    model = shutil.copy(cyclegan_run, tmp_path / "model.pt")
    (tmp_path / "meta.json").write_text(json.dumps({"inference": {"pitch_level": 7}}))
    with pytest.raises(ConfigError, match=r"meta\.json: its inference settings: pitch level"):
        EmotionConverter.from_pretrained(str(model))


def test_world_rendering_of_a_model_whose_default_adds_voice_quality(calm, tmp_path):
    """m2m-ravdess adds voice quality by default (source renderer); --renderer world alone
    must convert (the default is not an asked-for voice quality), in convert_file too."""
    from emovc.audio import save_audio
    from emovc.pipelines.conversion import EmotionConverter

    conv = EmotionConverter.from_pretrained("m2m-ravdess")
    assert conv.voice_quality > 0 and conv.renderer == "source"
    src = save_audio(tmp_path / "calm.wav", calm, 16000)
    out, _ = conv.convert_file(src, tmp_path / "w.wav", "sad", source="calm", renderer="world")
    assert out.is_file()
    with pytest.raises(ConfigError, match="voice quality applies to the source renderer"):
        conv.convert_file(src, tmp_path / "v.wav", "sad", source="calm", renderer="world",
                          voice_quality=1.0)
