"""NeuralCloner inference: a decoder limit that follows the text, and sentences (tiny
untrained models; their stop token is forced, so "never stops" is certain)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from emovc.errors import ConfigError, EmovcError, EmovcWarning
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS, phonemes_to_ids
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines.sv2tts import DecodeLimit, NeuralCloner

HOP, R = 40, 2  # tiny vocoder's samples per frame; tiny synthesizer's frames per step
LIMIT = DecodeLimit(seconds_per_symbol=0.01, min_seconds=0.02)  # 4 / 8 frames of 2.5 ms
SPEAKER = np.full(256, 1 / 16, np.float32)


class _NoEncoder:
    """Stands in for the speaker encoder (the tests pass embeddings themselves)."""


def _cloner(stop: float = -20.0, **kw) -> NeuralCloner:
    """Tiny cloner whose stop logit is ``stop`` at every step (< 0: never stops)."""
    torch.manual_seed(0)
    taco = Tacotron(TacotronConfig.tiny(speaker_dim=256))
    with torch.no_grad():
        taco.stop_proj.weight.zero_()
        taco.stop_proj.bias.fill_(stop)
    return NeuralCloner(taco, WaveRNN(WaveRNNConfig.tiny()), SYMBOLS, encoder=_NoEncoder(),
                        device="cpu", **{"limit": LIMIT, **kw})


def _symbols(cloner: NeuralCloner, sentence: str) -> int:
    return len(phonemes_to_ids(cloner.frontend.phonemes(sentence), SYMBOLS))


def _cut_length(cloner: NeuralCloner, sentence: str) -> int:
    """Samples of ``sentence`` cut at its limit (whole decoder steps)."""
    frames = cloner.limit.frames(_symbols(cloner, sentence), 16000, HOP)
    return frames // R * R * HOP


def test_the_limit_follows_the_text() -> None:
    limit = DecodeLimit()
    assert limit.seconds(5) == 2.0  # "Hi.": the floor
    assert limit.seconds(43) == pytest.approx(10.75)  # a Harvard sentence (≈ 3 s read)
    assert limit.seconds(400) == pytest.approx(100.0)  # no fixed cap (was 20 s for any text)
    assert limit.frames(43, 16000, 200) == 860
    assert DecodeLimit(0.01, 0.02).frames(1, 16000, 4000) == 1


@pytest.mark.parametrize("bad", [
    {"seconds_per_symbol": 0}, {"seconds_per_symbol": -0.1}, {"min_seconds": float("nan")},
    {"min_seconds": "2"}, {"seconds_per_symbol": True}])
def test_bad_limits_are_refused(bad) -> None:
    name = next(iter(bad))
    with pytest.raises(ConfigError, match=f"DecodeLimit.{name} must be a number of seconds > 0"):
        DecodeLimit(**bad)


def test_a_sentence_without_a_stop_token_is_cut_at_its_limit_with_a_warning() -> None:
    cloner = _cloner()
    short, long = "Hi.", "The birch canoe slid on the smooth planks of the old wooden dock."
    with pytest.warns(EmovcWarning) as caught:
        wav_short, _ = cloner.synthesize_sentence(SPEAKER, short)
    assert len(caught) == 1
    n = _symbols(cloner, short)
    assert str(caught[0].message) == (
        f'sentence "Hi." (0.05 s, {n} phoneme symbols) did not end within its limit: the '
        "synthesizer gave no stop token, so it is cut there")
    with pytest.warns(EmovcWarning, match='sentence "The birch canoe .*…" .* did not') as caught:
        wav_long, _ = cloner.synthesize_sentence(SPEAKER, long)
    assert len(caught) == 1
    assert len(wav_short) == _cut_length(cloner, short) and len(wav_short) < len(wav_long)
    assert len(wav_long) == _cut_length(cloner, long)  # proportional to the symbols
    assert _symbols(cloner, long) * 0.01 * 16000 - R * HOP < len(wav_long)


def test_a_sentence_that_stops_by_itself_gives_no_warning() -> None:
    cloner = _cloner(stop=20.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wav, _ = cloner.synthesize_sentence(SPEAKER, "The birch canoe slid on the planks.")
    assert len(wav) == R * HOP


def test_text_is_spoken_sentence_by_sentence_with_pauses() -> None:
    cloner = _cloner(pause_s=0.1)
    with pytest.warns(EmovcWarning) as caught:
        wav, sr = cloner.synthesize(SPEAKER, "Hello there. How are you today?")
    # one warning for the sentences cut (an untrained model gave a line per sentence)
    assert [str(w.message).split(" (")[0] for w in caught] == [
        '2 of 2 sentences did not end within their limits, e.g. "Hello there."']
    first, second = (_cut_length(cloner, s) for s in ("Hello there.", "How are you today?"))
    assert sr == 16000 and wav.dtype == np.float32
    assert len(wav) == first + 1600 + second
    assert np.all(wav[first:first + 1600] == 0)


def test_clone_splits_sentences_too() -> None:
    cloner = _cloner(stop=20.0)
    cloner.embed = lambda references: SPEAKER
    wav, _ = cloner.clone([(np.zeros(16000, np.float32), 16000)], "One. Two. Three.")
    assert len(wav) == 3 * R * HOP + 2 * 4000  # default pause: 0.25 s


@pytest.mark.parametrize(("text", "error"), [("", EmovcError), (" ... ", EmovcError),
                                             (b"Hi.", ConfigError), (None, ConfigError)])
def test_text_without_words_is_refused(text, error) -> None:
    with pytest.raises(error, match="text is empty|text must be a string|nothing to pronounce"):
        _cloner().synthesize(SPEAKER, text)


@pytest.mark.parametrize(("kw", "message"), [
    ({"limit": 3.0}, "limit must be a DecodeLimit, got float"),
    ({"pause_s": -1}, "pause_s must be a number of seconds ≥ 0, got -1")])
def test_bad_settings_are_refused(kw, message) -> None:
    with pytest.raises(ConfigError, match=message):
        _cloner(**kw)


def test_the_cut_warning_comes_on_every_call_that_cuts() -> None:
    """Python's default filter showed it once per place and text: a second clone of the same
    text in one process was cut without a word."""
    cloner = _cloner()
    for action, count in (("default", 3), ("ignore", 0), ("once", 1)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            for _ in range(3):
                cloner.synthesize(SPEAKER, "Hi.")
        cuts = [w for w in caught if issubclass(w.category, EmovcWarning)]
        assert len(cuts) == count, action
        assert all(w.filename == __file__ for w in cuts)  # named where it was asked for
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        with pytest.raises(EmovcWarning, match='sentence "Hi." .* did not end'):
            cloner.synthesize(SPEAKER, "Hi.")


def test_warn_every_time_names_the_callers_place() -> None:
    from emovc.errors import warn_every_time

    def inner():
        warn_every_time("x", stacklevel=2)

    import linecache

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(2):
            inner()
    assert len(caught) == 2 and all(w.filename == __file__ for w in caught)
    assert {linecache.getline(w.filename, w.lineno).strip() for w in caught} == {"inner()"}


def test_warn_every_time_from_a_command_line_script() -> None:
    """Handing the caller's globals to warn_explicit failed where they have no source (a
    ``python -c`` script): "'__main__' is not a built-in module"."""
    import subprocess
    import sys

    code = "from emovc.errors import warn_every_time as w\nw('a')\nw('a')"
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("EmovcWarning: a") == 2
