"""The convert tab's settings of one conversion, resolved against a model's defaults."""

import pytest

from emovc.app.convert_options import ConvertOptions, default_voice_quality
from emovc.errors import ConfigError


class Plain:  # no renderer choice, no defaults of its own (like a SpectroGAN in the app)
    pass


class Rendering:  # like the WORLD-feature models
    renderers = ("world", "source")
    renderer = "source"
    pitch_level, envelope_gain, voice_quality = 0.125, 1.15, 1.0
    voice_quality_stats = {"calm": {"jitter": 0.01, "shimmer_db": 0.5}}


def test_defaults_come_from_the_model():
    assert ConvertOptions.resolve(Plain(), "m") == ConvertOptions(1.0, 1.0)
    opts = ConvertOptions.resolve(Rendering(), "m")
    assert opts == ConvertOptions(0.125, 1.15, "source", 1.0)
    assert opts.call_kwargs() == {"pitch_level": 0.125, "envelope_gain": 1.15,
                                  "renderer": "source", "voice_quality": 1.0}
    assert ConvertOptions.resolve(Plain(), "m").call_kwargs() == {"pitch_level": 1.0,
                                                                  "envelope_gain": 1.0}


def test_choices_override_and_describe_themselves():
    opts = ConvertOptions.resolve(Rendering(), "m", pitch_level=0.4, renderer="world",
                                  voice_quality=0.5)
    assert opts.describe() == "pitch level 0.4, envelope gain 1.15, renderer world"
    assert opts.call_kwargs()["voice_quality"] is None  # WORLD rendering: not passed on
    opts = ConvertOptions.resolve(Rendering(), "m", envelope_gain=1)
    assert opts.describe() == ("pitch level 0.125, envelope gain 1, renderer source, "
                               "voice quality 1")
    assert opts.describe(exact=True).startswith("pitch level 0.125, envelope gain 1.0,")
    assert ConvertOptions.resolve(Plain(), "m").describe() == "pitch level 1, envelope gain 1"


@pytest.mark.parametrize("model,kwargs,message", [
    (Plain(), {"renderer": "world"}, "m has no choice of renderer"),
    (Plain(), {"voice_quality": 1.0}, "m has no voice-quality setting"),
    (Rendering(), {"renderer": "praat"}, "unknown renderer 'praat'; valid choices: world"),
    (Rendering(), {"voice_quality": 4}, "voice quality must be between 0 and 3"),
    (Rendering(), {"pitch_level": -0.1}, "pitch level must be between 0 and 1"),
    (Plain(), {"envelope_gain": 5}, "envelope gain must be between 0 and 3"),
])
def test_bad_or_unoffered_settings_are_one_line_errors(model, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ConvertOptions.resolve(model, "m", **kwargs)


def test_a_model_without_voice_quality_statistics_offers_no_voice_quality():
    """A trained run renders on the source but has no statistics: the toolbox's slider is
    off (the setting would be refused) rather than doing nothing."""
    class TrainedRun(Rendering):
        voice_quality = 0.0
        voice_quality_stats = {}

    assert default_voice_quality(TrainedRun()) is None
    assert default_voice_quality(Rendering()) == 1.0
