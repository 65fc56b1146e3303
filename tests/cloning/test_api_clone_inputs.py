"""VoiceCloner reference forms (one path, one (wav, sr) pair, stereo) and repeatable output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.errors import AudioError
from emovc.pipelines.cloning import CloneConfig, VoiceCloner, reference_list
from emovc.pipelines.frontend import EspeakFrontend


def test_a_single_path_or_pair_is_one_reference(reference_wav, tmp_path: Path) -> None:
    path = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    pair = (reference_wav, 16000)
    assert reference_list(str(path)) == [str(path)] and reference_list(path) == [path]
    assert reference_list(pair)[0] is pair
    assert reference_list(("a.wav", "b.wav")) == ["a.wav", "b.wav"]  # two paths stay two
    cloner = VoiceCloner()
    want = cloner.load_references([pair])
    for refs in (pair, [pair], str(path), path):
        got = cloner.load_references(refs)
        assert len(got) == 1 and np.allclose(got[0], want[0], atol=1e-3)


def test_stereo_reference_is_mixed_down(reference_wav) -> None:
    cloner = VoiceCloner()
    stereo = np.stack([reference_wav, reference_wav], 1)
    got, want = (cloner.load_references([(w, 16000)])[0] for w in (stereo, reference_wav))
    np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(AudioError, match="looks channels-first"):
        cloner.load_references([(stereo.T, 16000)])


def test_bad_reference_forms_are_one_line_errors(reference_wav) -> None:
    cloner = VoiceCloner()
    with pytest.raises(AudioError, match=r"needs its sample rate: pass \(wav, sr\)"):
        cloner.clone(reference_wav, "Hi there.")
    with pytest.raises(AudioError, match="reference 1 must be a file path or a"):
        cloner.clone([reference_wav], "Hi there.")
    with pytest.raises(AudioError, match="sample rate of reference 1 must be a positive"):
        cloner.clone([(reference_wav, 0)], "Hi there.")
    with pytest.raises(AudioError, match="file not found: .*missing.wav"):
        cloner.clone("missing.wav", "Hi there.")


def test_frontend_repeats_itself_exactly() -> None:
    fe = EspeakFrontend()
    first = fe.synthesize_with_phones("Thanks for calling.")
    fe.synthesize("Something else first, to change espeak's state.")
    again = fe.synthesize_with_phones("Thanks for calling.")
    assert np.array_equal(first[0], again[0]) and first[2] == again[2]


def test_clone_repeats_itself_exactly(reference_wav) -> None:
    cloner = VoiceCloner(CloneConfig.for_style("clear"))  # no phone recogniser (see below)
    a, _ = cloner.clone([(reference_wav, 16000)], "Thanks for calling.")
    b, _ = cloner.clone([(reference_wav, 16000)], "Thanks for calling.")
    assert np.array_equal(a, b)


def test_clone_with_phone_labels_repeats_itself_exactly(reference_wav) -> None:
    cloner = VoiceCloner()  # "voice" style: reference phone labels by PocketSphinx
    a, _ = cloner.clone([(reference_wav, 16000)], "Thanks for calling.")
    b, _ = cloner.clone([(reference_wav, 16000)], "Thanks for calling.")
    assert np.array_equal(a, b)
