"""The SV2TTS recipes' corpus preprocessing: cached per clip (a resumed run or another run
with the same settings computes nothing again), unusable clips left out with one warning."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from emovc.errors import AudioError, EmovcError, EmovcWarning
from emovc.training import speaker_encoder as tge2e
from emovc.training import speaker_encoder_data as encoder_data
from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata
from emovc.training import vocoder as tvoc


def _fake_preprocess(calls: list[str]):
    """A stand-in for the synthesizer's preprocessing (no encoder, no espeak): arrays from
    the file's first samples; a silent file is refused as the real one is."""
    def fake(utt, mel, tools):
        from emovc.audio import load_audio

        calls.append(Path(utt.path).name)
        wav = load_audio(utt.path)
        if not np.any(wav):
            raise AudioError(f"{utt.path} is silent")
        return {"ids": np.arange(len(utt.text), dtype=np.int64),
                "speaker": wav[:256].astype(np.float32),
                "mel": np.tile(wav[:mel["n_mels"]], (3, 1)).astype(np.float32)}
    return fake


def test_synthesizer_corpus_is_cached_per_utterance(tmp_path, transcribed_corpus,
                                                    monkeypatch) -> None:
    """Every start or resume preprocessed the whole corpus again (VAD, espeak, GE2E, mel)."""
    corpus = transcribed_corpus(tmp_path / "corpus", silent=True)
    calls: list[str] = []
    monkeypatch.setattr(tdata, "_preprocess", _fake_preprocess(calls))
    cfg = tsyn.build_config(str(corpus), str(tmp_path / "run"),
                            overrides={"cache_dir": str(tmp_path / "cache")})

    def load(cfg=cfg) -> list:
        calls.clear()
        with pytest.warns(EmovcWarning, match=r"1 clip\(s\) left out of the synthesizer corpus "
                                              r"\(their audio cannot be used\), e\.g\. .*silent"):
            return tsyn.load_corpus(cfg, progress=False)

    first = load()
    assert len(first) == 4 and len(calls) == 5
    again = load()
    assert calls == ["12_100_000009_000000.wav"]  # only the unusable clip is tried again
    for a, b in zip(first, again, strict=True):
        assert a.ids == b.ids and np.array_equal(a.mel, b.mel)
        assert np.array_equal(a.speaker, b.speaker)
    # a clip changed in place, or its transcript, is computed again
    changed = corpus / "11" / "100" / "11_100_000000_000000.wav"
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    (corpus / "12" / "100" / "12_100_000001_000000.normalized.txt").write_text("Other words.")
    load()
    assert sorted(calls) == ["11_100_000000_000000.wav", "12_100_000001_000000.wav",
                             "12_100_000009_000000.wav"]
    # other mel settings: another cache folder
    load(tsyn.build_config(str(corpus), str(tmp_path / "run"), overrides={
        "cache_dir": str(tmp_path / "cache"), "mel": {"n_mels": 40}, "model": {"n_mels": 40}}))
    assert len(calls) == 5
    folders = sorted(p.name.split("-")[0] for p in (tmp_path / "cache").glob("*/*"))
    assert folders == ["synthesizer", "synthesizer"]


def test_default_cache_is_under_emovc_cache(tmp_path, transcribed_corpus, monkeypatch) -> None:
    corpus = transcribed_corpus(tmp_path / "corpus")
    monkeypatch.setattr(tdata, "_preprocess", _fake_preprocess([]))
    monkeypatch.setenv("EMOVC_CACHE", str(tmp_path / "home-cache"))
    tsyn.load_corpus(tsyn.build_config(str(corpus), "unused"), progress=False)
    (folder,) = (tmp_path / "home-cache" / "sv2tts").glob("corpus-*/synthesizer-*")
    assert len(list(folder.glob("*.npz"))) == 4 and (folder / "config.json").is_file()


def test_a_corpus_without_a_usable_clip_is_one_line_error(tmp_path, transcribed_corpus,
                                                          monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    transcribed_corpus.clip(corpus, "11", 0, np.zeros(16000, np.float32), "Nothing.")
    monkeypatch.setattr(tdata, "_preprocess", _fake_preprocess([]))
    cfg = tsyn.build_config(str(corpus), "unused", overrides={"cache_dir": str(tmp_path / "c")})
    with pytest.raises(EmovcError) as err:
        tsyn.load_corpus(cfg, progress=False)
    assert "no usable clip for the synthesizer corpus: all 1 failed, e.g. " in str(err.value)
    assert "\n" not in str(err.value)


def test_speaker_encoder_corpus_is_cached_and_leaves_out_bad_clips(tmp_path, transcribed_corpus,
                                                                   monkeypatch) -> None:
    corpus = transcribed_corpus(tmp_path / "corpus", silent=True)
    calls: list[int] = []
    real = encoder_data.mel_frames
    monkeypatch.setattr(encoder_data, "mel_frames",
                        lambda wav, cfg: calls.append(1) or real(wav, cfg))
    cfg = tge2e.build_config(str(corpus), "unused", overrides={"cache_dir": str(tmp_path / "c"),
                                                                "val_speakers": 0})
    for computed in (4, 0):
        calls.clear()
        with pytest.warns(EmovcWarning, match=r"1 clip\(s\) left out of the speaker-encoder"):
            mels, val_wavs, val_labels = tge2e.load_corpus(cfg, progress=False)
        assert len(calls) == computed
        assert sorted((s, len(m)) for s, m in mels.items()) == [("11", 2), ("12", 2)]
        assert all(m.shape[1] == 40 for ms in mels.values() for m in ms)
        assert val_wavs == val_labels == []


def test_vocoder_corpus_leaves_out_a_bad_clip(tmp_path, transcribed_corpus, monkeypatch) -> None:
    import emovc.audio

    corpus = transcribed_corpus(tmp_path / "corpus")
    real = emovc.audio.load_audio

    def load(path, sr=16000):
        if "12_100_000001" in str(path):
            raise AudioError(f"cannot decode {path}")
        return real(path, sr)

    monkeypatch.setattr(emovc.audio, "load_audio", load)
    cfg = tvoc.build_config(str(corpus), "unused")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs = tvoc.load_corpus(cfg, progress=False)
    assert len(pairs) == 3
    (msg,) = [str(w.message) for w in caught if w.category is EmovcWarning]
    assert msg.startswith("1 clip(s) left out of the vocoder corpus") and "cannot decode" in msg


def test_a_cache_write_failure_stops_instead_of_leaving_clips_out(tmp_path, transcribed_corpus,
                                                                 monkeypatch) -> None:
    """A full disk (or a quota, a read-only cache) left out every clip whose arrays could not
    be written, with a warning blaming their audio, and training went on with the rest."""
    from emovc.training import clip_cache

    corpus = transcribed_corpus(tmp_path / "corpus")
    monkeypatch.setattr(tdata, "_preprocess", _fake_preprocess([]))

    def full(path, arrays):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(clip_cache, "write_npz", full)
    cfg = tsyn.build_config(str(corpus), str(tmp_path / "run"),
                            overrides={"cache_dir": str(tmp_path / "cache")})
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        with pytest.raises(clip_cache.CacheWriteError,
                           match=f"cannot write the clip cache {tmp_path / 'cache'}.*: No space "
                                 "left on device; free space there, make it writable or choose "
                                 "another folder"):
            tsyn.load_corpus(cfg, progress=False)


def _reference_window(mel: np.ndarray, wav: np.ndarray, a: int, seq: int, hop: int):
    """The window the vocoder's sampler cut from pairs held in memory before they were read
    from disk (its formula, kept here as the reference)."""
    padded = np.pad(wav, (1, hop * (len(mel) + 1)))  # leading 0 = "previous" sample
    return (mel[a: a + seq].astype(np.float32),
            padded[a * hop: (a + seq) * hop + 1].astype(np.float32))


def test_the_vocoder_corpus_is_read_from_disk_window_by_window(tmp_path, transcribed_corpus
                                                                ) -> None:
    """Every waveform of the corpus was kept in memory for the whole run (no cache;
    tens of GB for a LibriSpeech subset); now each clip's pair is cached on disk and a batch
    reads its windows alone, with the same numbers."""
    import tracemalloc

    import torch

    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    corpus = tmp_path / "corpus"
    for i in range(3):
        wav = synthesize(EMOTION_VOICES["neutral"], duration=3.0, seed=20 + i)
        transcribed_corpus.clip(corpus, "11", i, wav, "Hello.")
    cfg = tvoc.build_config(str(corpus), "unused",
                            overrides={"cache_dir": str(tmp_path / "cache")})
    first = tvoc.load_corpus(cfg, progress=False)  # computes and caches every clip
    (folder,) = (tmp_path / "cache").glob("corpus-*/vocoder-*")
    assert len(list(folder.glob("*.npz"))) == 3
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        clips = tvoc.load_corpus(cfg, progress=False)  # read back: nothing computed
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    pairs = [clips[i] for i in range(len(clips))]
    audio = sum(w.nbytes + m.nbytes for m, w in pairs)
    assert len(clips) == 3 and audio > 500_000
    assert held < audio / 20, (held, audio)  # where each array lies, not the arrays

    # the same windows as from the pairs in memory, the first and the last one included
    hop, seq = cfg.mel["hop_length"], 4
    for i, (mel, wav) in enumerate(pairs):
        np.testing.assert_array_equal(mel, first[i][0])
        for a in (0, 1, 7, len(mel) - seq):
            want = _reference_window(mel, wav, a, seq, hop)
            for got in (clips.window(i, a, seq, hop), tvoc.PairWindows(pairs).window(i, a, seq,
                                                                                     hop)):
                np.testing.assert_array_equal(got[0], want[0])
                np.testing.assert_array_equal(got[1], want[1])
    disk = tvoc.SegmentSampler(clips, hop, seq, 8, seed=3)
    memory = tvoc.SegmentSampler(pairs, hop, seq, 8, seed=3)
    for step in range(5):
        for x, y in zip(disk.sample(disk.rng(step)), memory.sample(memory.rng(step)),
                        strict=True):
            assert x.dtype == torch.float32 and torch.equal(x, y)
