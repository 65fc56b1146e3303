"""Front-end, unit selection and the VoiceCloner pipeline end to end (synthetic audio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer

from emovc.audio import load_audio, save_audio
from emovc.audio.io import read_comment
from emovc.errors import AudioError, EmovcError
from emovc.features.world import WorldConfig
from emovc.models.synthesizer import concatenation
from emovc.models.synthesizer import unit_selection as us
from emovc.pipelines.cloning import VoiceCloner, split_sentences
from emovc.pipelines.frontend import EspeakFrontend


def test_frontend_speaks_and_phonemises() -> None:
    fe = EspeakFrontend()
    wav, sr = fe.synthesize("Hello world.")
    assert sr == 16000 and wav.dtype == np.float32
    assert 0.4 < len(wav) / sr < 3.0 and np.max(np.abs(wav)) > 0.05
    longer, _ = fe.synthesize("Hello world. This sentence is clearly longer than the first.")
    assert len(longer) > 2 * len(wav)
    assert "w" in fe.phonemes("Hello world.")


def test_frontend_rejects_empty_text() -> None:
    with pytest.raises(EmovcError, match="text is empty"):
        EspeakFrontend().synthesize("   ")


def test_viterbi_prefers_consecutive_units() -> None:
    # candidate 0 is always slightly better but jumps around; candidate 1 runs 10, 11, 12, ...
    idx = np.array([[50 + 7 * t, 10 + t] for t in range(20)])
    dist = np.tile([0.0, 0.1], (20, 1))
    assert np.array_equal(us.viterbi_units(idx, dist, jump_cost=1.0), 10 + np.arange(20))
    assert np.array_equal(us.viterbi_units(idx, dist, jump_cost=0.0), idx[:, 0])


def test_runs_and_concatenation_reproduce_reference() -> None:
    wcfg = WorldConfig()
    ref = np.sin(np.arange(16000) * 0.05).astype(np.float32)
    sel = np.arange(20, 120)
    assert concatenation.runs(sel) == [(20, 100)]
    out = concatenation.concatenate_segments(ref, sel, wcfg, crossfade_ms=5.0)
    hop = 80
    start = 20 * hop - hop // 2
    np.testing.assert_allclose(out[200:7000], ref[start + 200: start + 7000], atol=1e-6)


def test_self_conversion_uses_long_units(reference_wav) -> None:
    wcfg, cfg = WorldConfig(), us.UnitSelectionConfig()
    units = us.analyse_reference([reference_wav], cfg, wcfg)
    query = us.matching_features(us._analyse(reference_wav[:32000], wcfg, False), cfg, wcfg)
    sel = us.select_units(query, units, cfg)
    # mostly the original order
    assert np.mean([length for _, length in concatenation.runs(sel)]) > 20


def test_clone_end_to_end_with_provenance(tmp_path: Path, reference_wav) -> None:
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    cloner = VoiceCloner.from_pretrained("default")
    out = cloner.clone_to_file([ref], "Hello there. How are you today?", tmp_path / "out.wav",
                               consent=True)
    wav = load_audio(out)
    assert 1.0 < len(wav) / 16000 < 6.0 and np.isfinite(wav).all() and np.abs(wav).max() > 0.01
    tag = read_comment(out)
    assert tag.startswith("emovc ") and "cloned voice" in tag and "ref.wav" in tag
    assert "by unit selection" in tag
    with pytest.raises(EmovcError, match="exists"):
        cloner.clone_to_file([ref], "Hi.", out, consent=True)


def test_clone_in_memory_reference(reference_wav) -> None:
    wav, sr = VoiceCloner().clone([(reference_wav, 16000)], "One more test.")
    assert sr == 16000 and len(wav) > 8000


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_rejected(reference_wav, text: str) -> None:
    with pytest.raises(EmovcError, match="text is empty"):
        VoiceCloner().clone([(reference_wav, 16000)], text)


@pytest.mark.parametrize("text", ["...", "...!?", "😀😀", " - "])
def test_text_without_a_letter_or_digit_has_nothing_to_pronounce(reference_wav, text) -> None:
    """Punctuation or emoji alone was called "text is empty", which it is not."""
    with pytest.raises(EmovcError, match=r'text ".*" has nothing to pronounce: no letter or '
                                         r"digit in it"):
        VoiceCloner().clone([(reference_wav, 16000)], text)


def test_short_silent_and_missing_references(reference_wav) -> None:
    cloner = VoiceCloner()
    with pytest.raises(AudioError, match="too short"):
        cloner.clone([(reference_wav[:24000], 16000)], "Hi there.")  # 1.5 s < 2 s
    with pytest.raises(AudioError, match="silent"):
        cloner.clone([(np.zeros(48000, np.float32), 16000)], "Hi there.")
    with pytest.raises(AudioError, match="no reference"):
        cloner.clone([], "Hi there.")


def test_consent_is_required(tmp_path: Path, reference_wav) -> None:
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    with pytest.raises(EmovcError, match="consent"):
        VoiceCloner().clone_to_file([ref], "Hi.", tmp_path / "o.wav", consent=False)
    assert not (tmp_path / "o.wav").exists()


def test_split_sentences() -> None:
    assert split_sentences("One. Two? Three!  ") == ["One.", "Two?", "Three!"]
    assert split_sentences(" ... ") == []


def _cli(args: list[str]) -> None:
    from emovc.cli.clone_cmds import register

    app = typer.Typer()
    register(app)
    app(args=args, standalone_mode=False)


def test_cli_clone_embed_similarity(tmp_path: Path, reference_wav, speaker_clips) -> None:
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    out = tmp_path / "clone.wav"
    with pytest.raises(EmovcError, match="consent"):
        _cli(["clone", "--reference", str(ref), "--text", "Hi there.", "-o", str(out)])
    _cli(["clone", "--reference", str(ref), "--text", "Hi there.", "-o", str(out), "--consent"])
    assert "cloned voice" in read_comment(out)
    other = save_audio(tmp_path / "other.wav", speaker_clips["low"][0], 16000)
    _cli(["embed", str(ref), str(other), "-o", str(tmp_path / "e.npy")])
    emb = np.load(tmp_path / "e.npy")
    assert emb.shape == (2, 256)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_emotion_is_chained_and_validated(monkeypatch, reference_wav) -> None:
    import emovc.pipelines.conversion as conversion

    calls = {}

    class FakeConverter:
        source_emotions = ["neutral", "calm"]

        def convert(self, wav, sr, target, source=None, name="audio"):
            calls.update(target=target, source=source, sr=sr)
            return wav * 0.5

    monkeypatch.setattr(conversion.EmotionConverter, "from_pretrained",
                        classmethod(lambda cls, *a, **k: FakeConverter()))
    wav, _ = VoiceCloner().clone([(reference_wav, 16000)], "Hi there.", emotion="Angry")
    assert calls == {"target": "angry", "source": "neutral", "sr": 16000}
    with pytest.raises(EmovcError, match="unknown emotion 'bored'"):
        VoiceCloner().clone([(reference_wav, 16000)], "Hi there.", emotion="bored")


def test_warp_envelope_moves_formants() -> None:
    sp = np.full((2, 513), 1e-4)
    sp[:, 100] = 1.0
    np.testing.assert_allclose(us.warp_envelope(sp, 1.0), sp)
    assert int(np.argmax(us.warp_envelope(sp, 1.2)[0])) == 120


def test_denoised_reference_keeps_speech(reference_wav) -> None:
    pytest.importorskip("noisereduce")
    from emovc.pipelines.cloning import prepare_reference

    noisy = reference_wav + 0.02 * np.random.default_rng(0).normal(size=len(reference_wav))
    clean = prepare_reference(noisy.astype(np.float32), 16000, denoise=True)
    assert len(clean) > 2 * 16000 and np.isfinite(clean).all()


def test_continuations_work_for_fewer_frames_than_the_lookahead() -> None:
    idx = np.arange(5)[:, None] * 10 + np.arange(3)[None]  # (T=5, k=3)
    out = us._with_continuations(idx, 30, 100)
    assert out.shape == (5, 3 * 31)
    np.testing.assert_array_equal(out[1:, 3:6], idx[:-1] + 1)  # frame t-1's, moved on by 1
    np.testing.assert_array_equal(out[:, 3 * 30:], idx)  # 30 frames back: none, own kept
    assert us._with_continuations(idx[:1], 30, 100).shape == (1, 93)


def test_very_short_sentence_at_a_fast_rate(reference_wav) -> None:
    from emovc.pipelines.cloning import CloneConfig
    from emovc.pipelines.frontend import FrontendConfig

    cloner = VoiceCloner(CloneConfig(frontend=FrontendConfig(rate=450)))
    wav, sr = cloner.clone([(reference_wav, 16000)], "I.")  # ~20 front-end frames
    assert sr == 16000 and 0.05 < len(wav) / sr < 0.5 and np.isfinite(wav).all()


def test_frontend_at_another_rate_is_resampled_with_its_phone_times(monkeypatch,
                                                                   reference_wav) -> None:
    from emovc.pipelines.cloning import CloneConfig
    from emovc.pipelines.frontend import FrontendConfig

    seen = []
    convert = us.convert

    def spy(src, *args, **kwargs):
        seen.append((len(src), args[3]))
        return convert(src, *args, **kwargs)

    monkeypatch.setattr(us, "convert", spy)
    lengths = {}
    for rate in (16000, 22050):
        cloner = VoiceCloner(CloneConfig.for_style("clear",
                                                   frontend=FrontendConfig(sample_rate=rate)))
        lengths[rate] = len(cloner.clone([(reference_wav, 16000)], "Thanks for calling.")[0])
    assert abs(lengths[22050] - lengths[16000]) < 0.01 * lengths[16000]
    for n, phones in seen:  # the phones end where the 16 kHz front-end audio ends
        assert abs(phones[-1][2] - n / 16000) < 0.02


def test_emotion_converter_is_loaded_once_per_cloner(monkeypatch, reference_wav) -> None:
    import emovc.pipelines.conversion as conversion

    loads = []

    class FakeConverter:
        source_emotions = ["neutral"]

        def convert(self, wav, sr, target, source=None, name="audio"):
            return wav * 0.5

    def load(cls, *args, **kwargs):
        loads.append(1)
        return FakeConverter()

    monkeypatch.setattr(conversion.EmotionConverter, "from_pretrained", classmethod(load))
    cloner = VoiceCloner()
    for _ in range(3):
        cloner.clone([(reference_wav, 16000)], "Hi there.", emotion="angry")
    assert len(loads) == 1
