"""Text the English espeak-ng front-end cannot pronounce: letters of other scripts were
spelled out by name ("Cyrillic letter ...", "Chinese letter") without a word."""

from __future__ import annotations

import warnings

import pytest

from emovc.errors import EmovcError, EmovcWarning
from emovc.pipelines.frontend import EspeakFrontend, FrontendConfig, foreign_letters


@pytest.mark.parametrize("text", [
    "Hello there.", "Café au lait costs $4.50, naïve Øresund straße — 100%!",
    "The 3rd of May, 1999: ﬁne (µs) & co.", "Señor Ñandú's façade, Ærø, Łódź."])
def test_english_text_is_spoken_as_before(text) -> None:
    assert foreign_letters(text) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert EspeakFrontend().phonemes(text)


@pytest.mark.parametrize(("text", "named"), [
    ("Hello мир.", "м и р (Cyrillic)"),
    ("Hello 你好 and ＨＩ", "你 好 Ｈ Ｉ (CJK, Fullwidth)"),
    ("αβγ 3", "α β γ (Greek)"),
])
def test_letters_of_other_scripts_are_named_in_one_warning(text, named) -> None:
    fe = EspeakFrontend()
    for speak in (fe.phonemes, fe.synthesize):
        with pytest.warns(EmovcWarning) as caught:
            assert len(speak(text)) > 0  # still spoken, as before
        (w,) = caught
        assert str(w.message) == (
            f'text "{text}" has letters the English front-end (espeak-ng voice en-us) cannot '
            f"pronounce, which it spells out letter by letter: {named}")


@pytest.mark.parametrize("text", ["Привет!", "你好", "שלום", "こんにちは。"])
def test_text_with_nothing_pronounceable_is_refused(text) -> None:
    fe = EspeakFrontend()
    for speak in (fe.phonemes, fe.synthesize_with_phones):
        with pytest.raises(EmovcError) as err:
            speak(text)
        msg = str(err.value)
        assert msg.startswith(f'text "{text}" has nothing the English front-end (espeak-ng '
                              "voice en-us) can pronounce: its letters ")
        assert msg.endswith("are not Latin ones; give English text, or an espeak-ng voice "
                            "of its language (Python: FrontendConfig.voice; the command line "
                            "has no option for it)") and "\n" not in msg


@pytest.mark.parametrize("text", ["don\u02bct stop", "\u02c8stress and \u02ccsecond",
                                  "5 \u2113 of water at 20 \u2103", "No\u02b0 \u2116 5"])
def test_modifier_letters_and_letterlike_symbols_are_not_another_script(text) -> None:
    """The modifier-letter apostrophe, IPA stress marks and ℓ were called letters of
    another script ("Modifier", "Script") and warned about."""
    assert foreign_letters(text) == []
    assert foreign_letters(text + " мир") == ["м", "и", "р"]


def test_another_languages_voice_is_not_checked() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert EspeakFrontend(FrontendConfig(voice="ru")).phonemes("Привет") == "prʲivʲˈet"


def test_the_neural_cloner_warns_and_refuses_through_the_front_end() -> None:
    """The neural cloner's phonemes come through the same front-end."""
    import numpy as np
    import torch

    from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
    from emovc.models.synthesizer.text import SYMBOLS
    from emovc.models.vocoder import WaveRNN, WaveRNNConfig
    from emovc.pipelines.sv2tts import DecodeLimit, NeuralCloner

    torch.manual_seed(0)
    cloner = NeuralCloner(Tacotron(TacotronConfig.tiny(speaker_dim=256)),
                          WaveRNN(WaveRNNConfig.tiny()), SYMBOLS, encoder=object(),
                          device="cpu", limit=DecodeLimit(0.01, 0.02))
    speaker = np.full(256, 1 / 16, np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloner.synthesize(speaker, "Hello Москва.")
    assert any("cannot pronounce, which it spells out letter by letter: М о с к в а "
               "(Cyrillic)" in str(w.message) for w in caught)
    with pytest.raises(EmovcError, match="has nothing the English front-end"):
        cloner.synthesize(speaker, "Москва.")


def test_a_text_spoken_in_sentences_is_checked_whole_before_any_is_spoken(monkeypatch) -> None:
    """The cloners speak a text sentence by sentence: "Hello. Привет." was refused for its
    second sentence after the first had been synthesised, and each sentence with such
    letters gave its own warning."""
    import numpy as np

    from emovc.pipelines.cloning import VoiceCloner

    spoken: list[str] = []
    real = EspeakFrontend.synthesize_with_phones

    def record(self, text, checked=False):
        spoken.append(text)
        return real(self, text, checked)

    monkeypatch.setattr(EspeakFrontend, "synthesize_with_phones", record)
    cloner = VoiceCloner()
    ref = [(np.zeros(16000, np.float32), 16000)]
    monkeypatch.setattr(VoiceCloner, "prepare_voice", lambda self, refs: pytest.fail(
        "the references were read before the text was checked"))
    with pytest.raises(EmovcError, match="has nothing the English front-end"):
        cloner.clone(ref, "Привет. Как дела?")
    assert spoken == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(pytest.fail.Exception):
            cloner.clone(ref, "Hello мир. Good day, друг.")
    (w,) = [w for w in caught if issubclass(w.category, EmovcWarning)]
    assert "м и р д у г (Cyrillic)" in str(w.message)


def test_the_neural_path_checks_the_text_before_the_references(monkeypatch) -> None:
    """A voice folder's cloner refused text it cannot pronounce only after the references
    had been decoded, checked and embedded (unit selection checked it first)."""
    import numpy as np
    import torch

    from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
    from emovc.models.synthesizer.text import SYMBOLS
    from emovc.models.vocoder import WaveRNN, WaveRNNConfig
    from emovc.pipelines.cloning import Voice, VoiceCloner
    from emovc.pipelines.sv2tts import NeuralCloner

    torch.manual_seed(0)
    cloner = VoiceCloner()
    cloner.neural = NeuralCloner(Tacotron(TacotronConfig.tiny(speaker_dim=256)),
                                 WaveRNN(WaveRNNConfig.tiny()), SYMBOLS, encoder=object(),
                                 device="cpu")
    ref = [(np.zeros(16000, np.float32), 16000)]
    monkeypatch.setattr(VoiceCloner, "prepare_voice", lambda self, refs: pytest.fail(
        "the references were read before the text was checked"))
    with pytest.raises(EmovcError, match="has nothing the English front-end"):
        cloner.clone(ref, "你好。")
    # text it can speak in part: one warning, then the references (here: the stand-in's stop)
    monkeypatch.setattr(VoiceCloner, "prepare_voice", lambda self, refs: Voice(
        (np.ones(8, np.float32),), ("reference 1",), (), (), ()))
    monkeypatch.setattr(NeuralCloner, "embed", lambda self, refs: np.zeros(256, np.float32))
    monkeypatch.setattr(NeuralCloner, "_decode",
                        lambda self, speaker, text: (np.zeros(160, np.float32), ""))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloner.clone(ref, "Hello мир. Good day.")
    (w,) = [w for w in caught if issubclass(w.category, EmovcWarning)]
    assert "м и р (Cyrillic)" in str(w.message)
