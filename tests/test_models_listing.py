"""The bundled models can be listed (Python and `emovc models`); names in other case are
pointed at the right spelling."""

from __future__ import annotations

import pytest

import emovc
from emovc.cli.main import main
from emovc.errors import ConfigError

BUNDLED = ["cyclegan-calm-angry", "m2m-ravdess", "ser-ravdess", "spectrogan-ravdess"]


def test_available_models_lists_every_bundled_model_with_what_loads_it():
    models = emovc.available_models()
    assert "available_models" in emovc.__all__ and [m.name for m in models] == BUNDLED
    by_name = {m.name: m for m in models}
    assert by_name["m2m-ravdess"].kind == "emotion-converter/stargan"
    assert by_name["m2m-ravdess"].loader == "EmotionConverter" and by_name["m2m-ravdess"].default
    assert by_name["ser-ravdess"].loader == "EmotionRecognizer"
    assert by_name["ser-ravdess"].description == "RAVDESS 8-emotion recogniser"
    assert all(m.card.is_file() and "\n" not in m.description and m.description
               for m in models)


def test_available_models_filters_by_kind_and_names_the_valid_kinds():
    assert [m.name for m in emovc.available_models("emotion-converter")] == [
        "cyclegan-calm-angry", "m2m-ravdess", "spectrogan-ravdess"]
    assert [m.name for m in emovc.available_models("emotion-converter/stargan")] == [
        "m2m-ravdess"]
    with pytest.raises(ConfigError, match=r"^unknown model kind 'converter'; valid choices: "
                                          r"emotion-converter, .*emotion-recognizer$"):
        emovc.available_models("converter")


def test_the_models_command_prints_the_table(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "KIND", "WHAT", "IT", "DOES", "CARD"]
    assert [line.split()[0] for line in out[1:5]] == BUNDLED
    assert "m2m-ravdess *" in out[2] and out[2].endswith("m2m-ravdess/card.md")
    assert main(["models", "--kind", "emotion-recognizer"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # header, one model, the footnote
    assert main(["models", "--kind", "nope"]) == 2
    assert "unknown model kind 'nope'" in capsys.readouterr().err


def test_a_name_in_other_case_gets_a_did_you_mean():
    from emovc.pipelines.recognition import EmotionRecognizer

    with pytest.raises(ConfigError, match=r"^unknown model 'SER-RAVDESS' \(names are "
                                          r"case-sensitive: did you mean 'ser-ravdess'\?\); "
                                          r"bundled models: default, ser-ravdess$"):
        EmotionRecognizer.from_pretrained("SER-RAVDESS")
    with pytest.raises(ConfigError, match=r"^unknown model 'ser-ravdes'; bundled"):
        EmotionRecognizer.from_pretrained("ser-ravdes")  # no guess for a typo
