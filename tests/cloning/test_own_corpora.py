"""Your own recordings in the voice tools: speaker folders read by `emovc embed-map` and by
the SV2TTS recipes (`emovc train-voice`), transcripts included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from emovc.models.synthesizer.tacotron import TacotronConfig
from emovc.models.vocoder import WaveRNNConfig
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


RECIPE_ARGS = {
    "synthesizer": ["--set", "model=" + json.dumps(
        TacotronConfig.tiny(speaker_dim=256, n_mels=80).to_dict()), "--set", "batch_size=2"],
    "vocoder": ["--set", "model=" + json.dumps(
        WaveRNNConfig.tiny(n_mels=80, hop_length=200).to_dict()),
        "--set", "seq_frames=4", "--set", "val_seconds=0", "--set", "batch_size=2"],
    "encoder": ["--set", "model={hidden: 16, layers: 1, embedding: 8}", "--set", "speakers=2",
                "--set", "utterances=2", "--set", "val_speakers=0"],
}


@pytest.mark.parametrize("recipe", sorted(RECIPE_ARGS))
def test_train_voice_reads_the_layout_its_corpus_option_names(recipe, tmp_path, capsys) -> None:
    """`emovc train-voice` had no --corpus (catalog, embed-map and prepare do): a corpus
    whose layout was not detected, e.g. speaker folders beside loose takes, as the detection
    error itself suggests `--corpus speakers` for, could not be trained on."""
    from emovc.audio import save_audio
    from emovc.cli.main import main
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    corpus = _speaker_corpus(tmp_path / "mine")
    for i in range(13):  # more loose takes than clips in speaker folders
        save_audio(corpus / f"loose{i}.wav", synthesize(EMOTION_VOICES["calm"], 1.0, seed=i),
                   16000)
    args = ["train-voice", recipe, str(corpus), "--max-steps", "1", "--set", "threads=1",
            "--set", f"cache_dir={tmp_path / 'cache'}", *RECIPE_ARGS[recipe]]
    code = main([*args, "-o", str(tmp_path / "auto")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown corpus layout" in err and "--corpus speakers" in err, err
    code = main([*args, "-o", str(tmp_path / "run"), "--corpus", "speakers"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "13 file(s) left out" in err and "not inside a speaker folder" in err
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["corpus"] == "speakers"
    code = main([*args, "-o", str(tmp_path / "run2"), "--corpus", "speaker"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "unknown corpus 'speaker'; valid choices: auto, ravdess, " in err
    assert not (tmp_path / "run2").exists()  # refused before anything was written


def test_a_run_resumes_with_its_layout_named_or_detected_and_not_with_another(tmp_path) -> None:
    """The layout a run reads is one of its settings: auto and the layout it detects are one
    (config.yaml records the layout), another is refused; a run folder of an earlier emovc,
    whose config.yaml has no corpus setting (it detected the layout), resumes."""
    import numpy as np

    from emovc.errors import ConfigError
    from emovc.training import speaker_encoder as tge2e

    corpus, run = _speaker_corpus(tmp_path / "mine"), tmp_path / "run"
    rng = np.random.default_rng(2)
    data = ({s: [rng.random((30, 40), dtype=np.float32) for _ in range(3)] for s in "abc"},
            [], [])

    def train(steps: int, layout: str):
        cfg = tge2e.build_config(str(corpus), str(run), steps, overrides={
            "model": {"hidden": 16, "layers": 1, "embedding": 8, "partial_frames": 20},
            "speakers": 2, "utterances": 2, "threads": 1, "corpus": layout})
        return tge2e.train(cfg, data=data)

    config = run / "config.yaml"
    train(1, "auto")
    assert yaml.safe_load(config.read_text())["corpus"] == "speakers"
    train(2, "speakers")  # the layout auto detected: the same run
    with pytest.raises(ConfigError, match=r"holds another run \(different settings: corpus\)"):
        train(3, "ljspeech")
    old = yaml.safe_load(config.read_text())
    del old["corpus"]  # as an earlier emovc wrote it
    config.write_text(yaml.safe_dump(old))
    with pytest.raises(ConfigError, match=r"different settings: corpus"):
        train(3, "ljspeech")
    train(3, "auto")
