"""Detecting the source emotion without a usable recogniser: one line that asks for --from."""

from __future__ import annotations

import re

import pytest

from emovc.errors import ConfigError, EmovcError
from emovc.pipelines.conversion import EmotionConverter


@pytest.mark.parametrize("failure", [
    ConfigError("unknown model 'default'; bundled models: (none bundled)"),
    ImportError("No module named 'opensmile'"),
])
def test_no_recogniser_asks_for_the_source(stargan_run, calm, monkeypatch, failure):
    """A trimmed install without the bundled recogniser, or without one of its packages."""
    from emovc.pipelines import recognition

    def unavailable(*args, **kwargs):
        raise failure

    monkeypatch.setattr(recognition.EmotionRecognizer, "from_pretrained", unavailable)
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    assert conv.resolve_emotions(calm, 16000, "sad", "calm") == ("calm", "sad")  # a given one
    with pytest.raises(EmovcError, match=re.escape(
            f"source emotion unknown and no emotion recogniser available ({failure}); pass "
            "source= one of calm, happy, sad, angry (command line: --from)")) as err:
        conv.resolve_emotions(calm, 16000, "sad", None)
    assert "\n" not in str(err.value)


def test_a_recogniser_with_other_labels_asks_for_the_source(stargan_run, calm):
    """A recogniser (e.g. one trained on another corpus) that knows none of the model's
    emotions cannot choose among them."""

    class OtherLabels:
        def predict(self, wav, sr, **kwargs):
            return {"bored": 0.7, "excited": 0.3}

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    conv._recognizer = OtherLabels()
    with pytest.raises(EmovcError, match=re.escape(
            "the recogniser's labels do not cover this model's source emotions; pass source= "
            "one of calm, happy, sad, angry (command line: --from)")):
        conv.resolve_emotions(calm, 16000, "sad", None)
