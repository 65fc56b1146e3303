"""A prepared voice: references read, checked and analysed once for any number of texts."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.audio.io import read_comment
from emovc.audio.processing import active_rms_dbfs
from emovc.errors import ConfigError, EmovcError, EmovcWarning
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines import clone_refs, clone_voices
from emovc.pipelines.cloning import CloneConfig, Voice, VoiceCloner

TEXTS = ["Thanks for calling.", "We will be right back.", "Goodbye now."]


@pytest.fixture()
def counted(monkeypatch) -> dict[str, int]:
    """How often the references are prepared and analysed (the real work is done)."""
    calls = {"prepare": 0, "analyse": 0}
    prepare, analyse = clone_refs.prepare_reference, us.analyse_reference

    def count_prepare(*args, **kwargs):
        calls["prepare"] += 1
        return prepare(*args, **kwargs)

    def count_analyse(*args, **kwargs):
        calls["analyse"] += 1
        return analyse(*args, **kwargs)

    monkeypatch.setattr(clone_voices, "prepare_reference", count_prepare)
    monkeypatch.setattr(us, "analyse_reference", count_analyse)
    return calls


def _refs(reference_wav) -> list[tuple[np.ndarray, int]]:
    """Two references of the same synthetic speaker."""
    return [(reference_wav[:32000], 16000), (reference_wav[32000:], 16000)]


def test_a_prepared_voice_clones_many_texts_with_one_analysis(reference_wav, counted) -> None:
    """Every clone() call read, trimmed, checked and analysed the references again."""
    cloner = VoiceCloner(CloneConfig.for_style("clear"))  # no phone recogniser: faster
    voice = cloner.prepare_voice(_refs(reference_wav))
    assert isinstance(voice, Voice) and len(voice.wavs) == 2
    assert voice.names == ("reference 1", "reference 2") and voice.seconds > 2.0
    outs = [cloner.clone(voice, text)[0] for text in TEXTS]
    assert counted == {"prepare": 2, "analyse": 1}
    fresh = VoiceCloner(CloneConfig.for_style("clear"))  # the same audio as before
    for text, out in zip(TEXTS, outs, strict=True):
        assert np.array_equal(out, fresh.clone(_refs(reference_wav), text)[0])


def test_the_same_references_again_are_not_analysed_again(reference_wav, counted) -> None:
    """The app's Clone tab gives the same upload on every click."""
    cloner = VoiceCloner(CloneConfig.for_style("clear"))
    first = [cloner.clone(_refs(reference_wav), text)[0] for text in TEXTS[:2]]
    assert counted == {"prepare": 2, "analyse": 1}
    other = (reference_wav[::-1].copy(), 16000)  # other samples: another voice
    cloner.clone([other], TEXTS[0])
    assert counted == {"prepare": 3, "analyse": 2}
    assert np.array_equal(cloner.clone(_refs(reference_wav), TEXTS[0])[0], first[0])
    assert counted == {"prepare": 3, "analyse": 2}


def test_the_cache_keeps_the_last_voices_only(reference_wav, counted) -> None:
    """Up to ``voice_cache_seconds`` of reference speech in all (VOICE_CACHE_SECONDS by
    default), the newest voice always; the bound is the cloner's own (the module constant,
    re-exported by emovc.pipelines.cloning, was read where setting it had no effect)."""
    cloner = VoiceCloner()
    assert cloner.voice_cache_seconds == clone_voices.VOICE_CACHE_SECONDS
    voices = [[(reference_wav * (1.0 - 0.01 * i), 16000)] for i in range(4)]
    seconds = cloner.prepare_voice(voices[0]).seconds
    cloner.voice_cache_seconds = 2.5 * seconds  # room for two
    for refs in voices[1:]:
        cloner.prepare_voice(refs)
    assert counted["prepare"] == 4
    cloner.prepare_voice(voices[-1])  # kept
    cloner.prepare_voice(voices[-2])  # kept
    assert counted["prepare"] == 4
    cloner.prepare_voice(voices[0])  # dropped
    assert counted["prepare"] == 5
    cloner.voice_cache_seconds = 0.0
    cloner.prepare_voice(voices[1])
    cloner.prepare_voice(voices[1])  # the newest stays
    assert counted["prepare"] == 6


def test_an_edited_file_is_read_again(tmp_path: Path, reference_wav, counted) -> None:
    """The cache is keyed by what the file holds, not by its name."""
    cloner = VoiceCloner()
    path = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    cloner.prepare_voice([path])
    cloner.prepare_voice([path])
    assert counted["prepare"] == 1
    save_audio(path, reference_wav[::-1].copy(), 16000, force=True)
    cloner.prepare_voice([path])
    assert counted["prepare"] == 2


def test_warnings_come_again_with_the_same_references(tmp_path: Path, reference_wav) -> None:
    """A cached voice must not silence its references' warnings on a later call (the app
    shows each click's warnings on the page)."""
    level = 10 ** ((active_rms_dbfs(reference_wav, 16000) - 8.0) / 20)  # 8 dB SNR
    noisy = (reference_wav + level * np.random.default_rng(0).standard_normal(
        len(reference_wav))).astype(np.float32)
    path = save_audio(tmp_path / "street.wav", noisy, 16000)
    cloner = VoiceCloner()
    for _ in range(2):
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            cloner.prepare_voice([path, path])
        notes = [str(w.message) for w in shown if issubclass(w.category, EmovcWarning)]
        assert len(notes) == 2
        assert notes[0] == "reference street.wav given 2 times: each recording is used once"
        assert notes[1].startswith("reference street.wav is noisy")
        assert all(w.filename == __file__ for w in shown)  # the caller's line
    voice = cloner.prepare_voice([path])
    with warnings.catch_warnings():  # a prepared voice has told its warnings already
        warnings.simplefilter("error")
        cloner.clone(voice, "Hi there.")


def test_a_voice_is_used_only_with_the_settings_it_was_prepared_with(reference_wav) -> None:
    voice = VoiceCloner().prepare_voice([(reference_wav, 16000)])
    with pytest.raises(ConfigError, match=r"^this voice was prepared with other reference "
                                          r"settings: denoise=False \(this cloner: True\); "
                                          r"prepare it with this cloner"):
        VoiceCloner(CloneConfig(denoise=True)).clone(voice, "Hi.")
    # another style analyses the same prepared clips its own way
    wav, _ = VoiceCloner(CloneConfig.for_style("clear")).clone(voice, "Hi there.")
    want, _ = VoiceCloner(CloneConfig.for_style("clear")).clone([(reference_wav, 16000)],
                                                                "Hi there.")
    assert np.array_equal(wav, want)


def test_clone_to_file_takes_a_voice(tmp_path: Path, reference_wav) -> None:
    ref = save_audio(tmp_path / "alice.wav", reference_wav, 16000)
    cloner = VoiceCloner(CloneConfig.for_style("clear"))
    voice = cloner.prepare_voice([ref])
    assert voice.files == (ref,)
    out = cloner.clone_to_file(voice, "Hello there.", tmp_path / "out.wav", consent=True)
    assert "synthetic speech from reference alice.wav" in read_comment(out)
    with pytest.raises(EmovcError, match="a reference file"):
        cloner.clone_to_file(voice, "Hello.", ref, consent=True, force=True)
    with pytest.raises(EmovcError, match="consent"):
        cloner.clone_to_file(voice, "Hello.", tmp_path / "b.wav", consent=False)


def test_the_neural_path_embeds_a_voice_once(monkeypatch, reference_wav) -> None:
    import torch

    from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
    from emovc.models.synthesizer.text import SYMBOLS
    from emovc.models.vocoder import WaveRNN, WaveRNNConfig
    from emovc.pipelines.sv2tts import NeuralCloner

    torch.manual_seed(0)
    cloner = VoiceCloner()
    cloner.neural = NeuralCloner(Tacotron(TacotronConfig.tiny(speaker_dim=256)),
                                 WaveRNN(WaveRNNConfig.tiny()), SYMBOLS, encoder=object(),
                                 device="cpu")
    embedded = []
    monkeypatch.setattr(NeuralCloner, "embed", lambda self, refs: (
        embedded.append(len(refs)) or np.zeros(256, np.float32)))
    monkeypatch.setattr(NeuralCloner, "_decode",
                        lambda self, speaker, text: (np.full(1600, 0.1, np.float32), ""))
    voice = cloner.prepare_voice(_refs(reference_wav))
    for text in TEXTS:
        cloner.clone(voice, text)
    cloner.clone(_refs(reference_wav), TEXTS[0])  # the same references: the cached voice
    assert embedded == [2]
