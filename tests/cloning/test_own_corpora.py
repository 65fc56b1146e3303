"""Your own recordings in the voice tools: speaker folders read by `emovc embed-map` and by
the SV2TTS recipes (`emovc train-voice`), transcripts included."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata


def _speaker_corpus(root: Path) -> Path:
    """Speaker folders of your own: 3 speakers × 4 transcribed 1 s synthetic clips (a .txt
    beside each of alice's, bob's metadata.csv, carol's in the root's metadata.csv)."""
    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    rows = []
    for k, spk in enumerate(("alice", "bob", "carol")):
        meta = []
        for i in range(4):
            wav = synthesize(EMOTION_VOICES["neutral"], duration=1.0, seed=10 * k + i)
            path = save_audio(root / spk / f"take{i}.wav", wav, 16000)
            text = f"{spk} says number {i}."
            if spk == "alice":
                path.with_suffix(".txt").write_text(text)
            elif spk == "bob":
                meta.append(f"take{i}|{text}")
            else:
                rows.append(f"{spk}/take{i}|{text}")
        if meta:
            (root / spk / "metadata.csv").write_text("\n".join(meta) + "\n")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root


def _fake_preprocess(utt, mel, tools):
    """No encoder, no espeak: one phoneme id per character of the transcript."""
    return {"ids": np.arange(len(utt.text), dtype=np.int64),
            "speaker": np.zeros(256, np.float32), "mel": np.zeros((3, 80), np.float32)}


def test_the_synthesizer_reads_speaker_folders_with_their_transcripts(tmp_path,
                                                                      monkeypatch) -> None:
    """`emovc train-voice synthesizer alice/ bob/ ...` stopped at "unknown corpus layout"."""
    corpus = _speaker_corpus(tmp_path / "mine")
    monkeypatch.setattr(tdata, "_preprocess", _fake_preprocess)
    cfg = tsyn.build_config(str(corpus), "unused", overrides={"cache_dir": str(tmp_path / "c")})
    data = tsyn.load_corpus(cfg, progress=False)
    # 12 transcribed utterances, in catalog order: alice's, bob's, carol's
    assert [len(u.ids) for u in data] == [len(f"{s} says number 0.") for s in
                                          ("alice", "bob", "carol") for _ in range(4)]


def test_max_utterances_spreads_over_the_speakers_of_the_corpus(tmp_path, monkeypatch) -> None:
    """max_utterances took the first N in catalog order: 6 here were alice's 4 and bob's 2."""
    from emovc.data.catalogs import catalog_corpus
    from emovc.training.sv2tts_sample import sample_utterances

    corpus = _speaker_corpus(tmp_path / "mine")
    monkeypatch.setattr(tdata, "_preprocess", _fake_preprocess)
    cfg = tsyn.build_config(str(corpus), "unused", overrides={
        "cache_dir": str(tmp_path / "c"), "max_utterances": 6})
    data = tsyn.load_corpus(cfg, progress=False)
    assert sorted(u.speaker_id for u in data) == ["alice"] * 2 + ["bob"] * 2 + ["carol"] * 2
    assert all(len(u.ids) == len(f"{u.speaker_id} says number 0.") for u in data)
    # a gta vocoder takes the same utterances for the same seed and N
    transcribed = [u for u in catalog_corpus(corpus) if u.text]
    assert [u.utt_id for u in sample_utterances(transcribed, 6, 0)] == [u.utt_id for u in data]


def test_embed_map_reads_speaker_folders(tmp_path, capsys, speaker_clips) -> None:
    """`emovc embed-map alice/ bob/ ...` was "unknown corpus layout"; --corpus forces one."""
    from emovc.audio import save_audio
    from emovc.cli.main import main

    root = tmp_path / "mine"
    for name in ("low", "high"):
        for i, wav in enumerate(speaker_clips[name][:2]):
            save_audio(root / name / f"{i}.wav", wav[:16000], 16000)
    rc = main(["embed-map", str(root), "-o", str(tmp_path / "map.png"), "--method", "pca"])
    out, err = capsys.readouterr()
    assert rc == 0 and "(pca, 4 clips)" in out, err
    for i in range(2):  # loose takes beside the speaker folders: auto-detection gives up
        save_audio(root / f"loose{i}.wav", speaker_clips["mid"][i][:16000], 16000)
    rc = main(["embed-map", str(root), "-o", str(tmp_path / "map2.png"), "--method", "pca"])
    out, err = capsys.readouterr()
    assert rc == 2 and "unknown corpus layout" in err and "--corpus speakers" in err
    rc = main(["embed-map", str(root), "-o", str(tmp_path / "map2.png"), "--method", "pca",
               "--corpus", "speakers"])
    out, err = capsys.readouterr()
    assert rc == 0 and "(pca, 4 clips)" in out, err
    assert "2 file(s) left out" in err and "not inside a speaker folder" in err
