"""The vocoder trained on ground-truth-aligned mels (``--set gta=SYNTH_RUN/model.pt``): the
synthesizer's teacher-forced predictions, cached per clip, paired with the audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from emovc.cli.main import main
from emovc.errors import EmovcError, EmovcWarning
from emovc.models.checkpoint import load_checkpoint, save_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines.sv2tts_encoder import choose_encoder, file_sha256
from emovc.training import gta
from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata
from emovc.training import vocoder as tvoc

VOC_MODEL = WaveRNNConfig.tiny(n_mels=80, hop_length=200).to_dict()
TINY = {"model": VOC_MODEL, "seq_frames": 4, "batch_size": 2, "threads": 1}


def _synthesizer(path: Path, encoder: Path | None, seed: int = 0, mel: dict | None = None,
                 symbols: list[str] = SYMBOLS) -> Path:
    """A random tiny synthesizer checkpoint (80 bands at 16 kHz unless ``mel``) recording
    ``encoder`` (8-d) or the bundled one."""
    mel = mel or tsyn.MEL
    torch.manual_seed(seed)
    record = choose_encoder(encoder, "test")
    model = Tacotron(TacotronConfig.tiny(speaker_dim=record.embedding, n_mels=mel["n_mels"]))
    return save_checkpoint(path, kind=tsyn.KIND, config=model.cfg.to_dict(),
                           state_dict=model.state_dict(),
                           extra={"mel": mel, "symbols": symbols, "encoder": record.record()})


def _vocoder(path: Path) -> Path:
    model = WaveRNN(WaveRNNConfig(**VOC_MODEL))
    return save_checkpoint(path, kind=tvoc.KIND, config=model.cfg.to_dict(),
                           state_dict=model.state_dict(), extra={"mel": tsyn.MEL})


def _corpus(make, root: Path) -> Path:
    """The 4 transcribed clips of ``transcribed_corpus`` and one without a transcript."""
    corpus = make(root)
    from emovc.data.synthetic import EMOTION_VOICES, synthesize

    wav = synthesize(EMOTION_VOICES["neutral"], duration=1.0, seed=5)
    make.clip(corpus, "12", 7, wav, "x").with_name("12_100_000007_000000.normalized.txt").unlink()
    return corpus


def test_vocoder_trains_on_the_synthesizers_gta_mels(tmp_path, capsys, transcribed_corpus,
                                                     ge2e_checkpoint, monkeypatch) -> None:
    """The vocoder learned from ground-truth mels only, never the synthesizer's own output."""
    from emovc.data.cache import safe_name
    from emovc.data.catalogs import catalog_corpus

    corpus = _corpus(transcribed_corpus, tmp_path / "corpus")
    enc = ge2e_checkpoint(tmp_path / "enc.pt")
    syn, cache = _synthesizer(tmp_path / "taco" / "model.pt", enc), tmp_path / "cache"
    code = main(["train-voice", "vocoder", str(corpus), "-o", str(tmp_path / "voc"),
                 "--max-steps", "2", "--set", f"model={json.dumps(VOC_MODEL)}",
                 "--set", "seq_frames=4", "--set", "batch_size=2", "--set", "threads=1",
                 "--set", f"gta={syn}", "--set", f"cache_dir={cache}"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert ("1 clip(s) without a transcript left out of the vocoder corpus (GTA mels need the "
            "synthesizer's text input), e.g. ") in err and "12_100_000007_000000.wav" in err
    extra = load_checkpoint(tmp_path / "voc" / "model.pt")["extra"]
    assert extra["gta"] == {"synthesizer": str(syn), "sha256": file_sha256(syn)}
    # the synthesizer's inputs embedded with the encoder it records; both cached per clip
    (inputs,) = cache.glob("corpus-*/synthesizer-*")
    settings = json.loads((inputs / "config.json").read_text())["settings"]
    assert settings["encoder"] == f"sha256:{file_sha256(enc)}"
    (mels,) = cache.glob("corpus-*/vocoder-gta-*")
    assert len(list(inputs.glob("*.npz"))) == len(list(mels.glob("*.npz"))) == 4

    # read back from the caches; each mel is the teacher-forced output, paired with its audio
    calls: list[str] = []
    real_gta, real_pre = gta.gta_mel, tdata._preprocess
    monkeypatch.setattr(gta, "gta_mel", lambda m, u: calls.append("gta") or real_gta(m, u))
    monkeypatch.setattr(tdata, "_preprocess",
                        lambda u, mel, tools: calls.append("pre") or real_pre(u, mel, tools))
    cfg = tvoc.build_config(str(corpus), "unused", overrides={
        **TINY, "gta": str(syn), "cache_dir": str(cache)})
    with pytest.warns(EmovcWarning, match="without a transcript"):
        pairs = tvoc.load_corpus(cfg, progress=False)
    assert calls == [] and len(pairs) == 4
    utt = next(u for u in catalog_corpus(corpus) if u.text)
    arrays = np.load(inputs / f"{safe_name(utt.utt_id)}.npz")
    taco = gta.gta_source(str(syn), tsyn.MEL, "test").model(torch.device("cpu"))
    inp = tdata.Utterance(arrays["ids"].tolist(), arrays["speaker"], arrays["mel"])
    mel, wav = pairs[0]
    np.testing.assert_allclose(mel, gta.gta_mel(taco, inp), atol=1e-5)
    assert mel.shape == arrays["mel"].shape and not np.allclose(mel, arrays["mel"], atol=0.1)
    np.testing.assert_array_equal(wav, tdata.speech_16k(utt.path))  # mel rate = 16 kHz
    assert len(mel) == len(wav) // 200 + 1

    # another synthesizer file: new GTA mels, the same inputs
    _synthesizer(syn, enc, seed=1)
    calls.clear()
    with pytest.warns(EmovcWarning):
        again = tvoc.load_corpus(replace_gta(cfg, syn), progress=False)
    assert calls == ["gta"] * 4 and not np.allclose(again[0][0], mel)
    assert len(list(cache.glob("corpus-*/vocoder-gta-*"))) == 2


def test_a_first_gta_run_decodes_each_clip_once(tmp_path, transcribed_corpus, ge2e_checkpoint,
                                                monkeypatch) -> None:
    """The synthesizer's inputs and the vocoder's waveform each decoded and VAD-trimmed the
    clip: twice per clip on a first run (and the waveform again at every start)."""
    import emovc.audio

    corpus = transcribed_corpus(tmp_path / "corpus")
    syn = _synthesizer(tmp_path / "syn.pt", ge2e_checkpoint(tmp_path / "enc.pt"))
    decoded, trimmed = [], []
    real_load, real_trim = emovc.audio.load_audio, emovc.audio.trim_silence
    monkeypatch.setattr(emovc.audio, "load_audio", lambda path, *a, **k: decoded.append(
        Path(path).name) or real_load(path, *a, **k))
    monkeypatch.setattr(emovc.audio, "trim_silence", lambda wav, *a, **k: trimmed.append(
        k.get("method")) or real_trim(wav, *a, **k))
    cfg = tvoc.build_config(str(corpus), "unused", overrides={
        **TINY, "gta": str(syn), "cache_dir": str(tmp_path / "cache")})
    clips = tvoc.load_corpus(cfg, progress=False)
    assert len(clips) == 4
    assert len(decoded) == len(set(decoded)) == 4 and trimmed == ["vad"] * 4
    # the synthesizer's inputs, the GTA mels and the waveforms are all cached
    for kind in ("synthesizer", "vocoder-gta"):
        (folder,) = (tmp_path / "cache").glob(f"corpus-*/{kind}-*")
        assert len(list(folder.glob("*.npz"))) == 4
    decoded.clear()
    again = tvoc.load_corpus(cfg, progress=False)
    assert decoded == [] and len(again) == 4
    np.testing.assert_array_equal(again[0][1], clips[0][1])


def replace_gta(cfg, syn: Path):
    from dataclasses import replace

    return replace(cfg, gta=str(syn))


def test_gta_mels_are_repeatable_and_leave_the_torch_generator_alone() -> None:
    torch.manual_seed(0)
    taco = Tacotron(TacotronConfig.tiny(n_mels=20)).eval()
    utt = tdata.Utterance([3, 4, 5, 2], np.ones(16, np.float32),
                          np.random.default_rng(0).normal(size=(7, 20)).astype(np.float32))
    state = torch.get_rng_state()
    a, b = gta.gta_mel(taco, utt), gta.gta_mel(taco, utt)
    assert a.shape == (7, 20) and np.array_equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(("setting", "message"), [
    ("missing.pt", "vocoder training setting gta: checkpoint not found: missing.pt; give the "
                   "model.pt of emovc train-voice synthesizer"),
    ("vocoder", "vocoder training setting gta: checkpoint voc.pt is a 'vocoder/wavernn' model, "
                "expected 'synthesizer/tacotron'"),
    ("mel", "vocoder training setting gta: synthesizer syn.pt makes mels with n_fft = 160, "
            "hop_length = 40 and n_mels = 20 but the vocoder's mel.n_fft, mel.hop_length and "
            "mel.n_mels are 800, 200 and 80; train the vocoder with the synthesizer's mel "
            "settings (--set 'mel={sr: 16000, n_fft: 160, hop_length: 40, n_mels: 20}' --set "
            "'model={n_mels: 20, hop_length: 40}')"),
    ("symbols", "vocoder training setting gta: synthesizer syn.pt reads another phoneme "
                "symbol table than this emovc's"),
    (5, "vocoder training setting gta must be the path of a synthesizer's model.pt, got 5"),
])
def test_gta_setting_mistakes_are_one_line_errors_before_the_corpus(
        setting, message, tmp_path, monkeypatch, capsys) -> None:
    def boom(cfg, progress=True):
        raise AssertionError("the corpus was read before the gta setting was checked")

    monkeypatch.setattr(tvoc, "load_corpus", boom)
    monkeypatch.setattr(gta, "load_corpus", boom)
    monkeypatch.chdir(tmp_path)
    if setting == "vocoder":
        setting = _vocoder(Path("voc.pt"))
    elif setting == "mel":
        setting = _synthesizer(Path("syn.pt"), None,
                               mel={"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40})
    elif setting == "symbols":
        setting = _synthesizer(Path("syn.pt"), None, symbols=SYMBOLS[:-1])
    code = main(["train-voice", "vocoder", str(tmp_path), "-o", "run", "--set",
                 f"gta={setting}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run").exists()


def test_gta_needs_transcripts(tmp_path, transcribed_corpus) -> None:
    corpus = tmp_path / "corpus"
    transcribed_corpus.clip(corpus, "11", 0, np.zeros(8000, np.float32), "x").with_name(
        "11_100_000000_000000.normalized.txt").unlink()
    cfg = tvoc.build_config(str(corpus), "unused", overrides={
        **TINY, "gta": str(_synthesizer(tmp_path / "syn.pt", None))})
    with pytest.warns(EmovcWarning), pytest.raises(EmovcError) as err:
        tvoc.load_corpus(cfg, progress=False)
    assert "no transcribed utterances under" in str(err.value)
    assert "need transcripts; leave out gta to train on ground-truth mels" in str(err.value)


def test_the_synthesizer_and_a_gta_vocoder_draw_the_same_utterances(tmp_path,
                                                                    transcribed_corpus) -> None:
    """docs/cloning.md promises that the synthesizer and a gta vocoder of one corpus, with
    the same max_utterances and seed, take the same ones (the vocoder's GTA mels are then
    of clips the synthesizer trained on); each recipe had its own copy of the draw."""
    corpus = _corpus(transcribed_corpus, tmp_path / "corpus")  # 4 transcribed, 1 not
    for spk, i in (("11", 3), ("11", 4), ("12", 5)):
        transcribed_corpus.clip(corpus, spk, i, np.zeros(8000, np.float32), f"Clip {i}.")
    syn = _synthesizer(tmp_path / "syn.pt", None)
    drawn = []
    for seed in (0, 1, 2):
        settings = {"max_utterances": 4, "seed": seed}
        ids = [u.utt_id for u in tsyn.corpus_utterances(
            tsyn.build_config(str(corpus), "unused", overrides=settings))]
        with pytest.warns(EmovcWarning, match="1 clip\\(s\\) without a transcript left out"):
            gta_ids = [u.utt_id for u in tvoc.corpus_utterances(tvoc.build_config(
                str(corpus), "unused", overrides={**TINY, **settings, "gta": str(syn)}))]
        assert gta_ids == ids and len(ids) == 4
        drawn.append(ids)
    assert len({tuple(d) for d in drawn}) > 1  # a sample of the 7, drawn with the seed


def test_next_steps_point_to_gta_and_note_a_vocoder_of_another_synthesizer(tmp_path) -> None:
    from emovc.training.sv2tts import next_steps

    voice = tmp_path / "voice"
    voice.mkdir()
    syn = _synthesizer(voice / "synthesizer.pt", None)
    (line,) = next_steps("synthesizer", "runs/taco/model.pt", voice)
    assert line == (f"{voice} still needs vocoder.pt: emovc train-voice vocoder DATA_DIR -o "
                    f"RUN_DIR --set gta=runs/taco/model.pt --export {voice}")
    voc = WaveRNN(WaveRNNConfig(**VOC_MODEL))
    for sha, notes in ((file_sha256(syn), 0), ("0" * 64, 1)):
        save_checkpoint(voice / "vocoder.pt", kind=tvoc.KIND, config=voc.cfg.to_dict(),
                        state_dict=voc.state_dict(), extra={
                            "mel": tsyn.MEL, "gta": {"synthesizer": "x.pt", "sha256": sha}})
        lines = next_steps("vocoder", "runs/voc/model.pt", voice)
        assert len(lines) == notes + 1 and lines[-1].startswith("clone with it:")
    assert lines[0].startswith("note: vocoder.pt was trained on the GTA mels of another "
                               "synthesizer (x.pt, sha256 000000000000)")


def test_the_gta_mel_hint_gives_settings_that_work(tmp_path) -> None:
    """It gave --set 'mel={...}' alone, which the vocoder refused next: its model.n_mels and
    model.hop_length must equal the mel settings'."""
    import re
    import shlex

    from emovc.cli.convert_cmds import run_settings
    from emovc.errors import ConfigError

    mel = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}
    syn = str(_synthesizer(tmp_path / "syn.pt", None, mel=mel))
    with pytest.raises(ConfigError) as err:
        tvoc.build_config("unused", "unused", overrides={"gta": syn})
    (options,) = re.findall(r"mel settings \(((?:--set '[^']*' ?)+)\)$", str(err.value))
    items = shlex.split(options)
    assert items[::2] == ["--set"] * 2
    cfg = tvoc.build_config("unused", "unused",
                            overrides={**run_settings(items[1::2]), "gta": syn})
    assert cfg.mel == mel and cfg.model["n_mels"] == 20 and cfg.model["hop_length"] == 40


def test_resuming_on_a_gta_synthesizer_retrained_into_the_same_file_is_refused(tmp_path) -> None:
    """As the synthesizer's encoder: the vocoder run went on from its checkpoint with the GTA
    mels of another synthesizer."""
    from emovc.errors import ConfigError

    syn, run = _synthesizer(tmp_path / "taco" / "model.pt", None), tmp_path / "voc"
    rng = np.random.default_rng(1)
    pairs = [(rng.normal(-4.0, 1.0, (10, 80)).astype(np.float32),
              rng.uniform(-0.5, 0.5, 2000).astype(np.float32)) for _ in range(3)]

    def train(steps: int):
        cfg = tvoc.build_config("unused", str(run), steps, overrides={**TINY, "gta": str(syn)})
        return tvoc.train(cfg, data=pairs)

    train(1)
    _synthesizer(syn, None, seed=1)
    with pytest.raises(ConfigError, match=f"run folder {run} was started with the GTA "
                                          f"synthesizer {syn} of sha256 .*, and that file has "
                                          "changed since .*: the vocoder would go on learning "
                                          "the GTA mels of another synthesizer; choose another"):
        train(2)


def test_a_gta_run_resumed_on_edited_transcripts_is_refused(tmp_path, capsys, monkeypatch,
                                                            transcribed_corpus,
                                                            ge2e_checkpoint) -> None:
    """Its GTA mels are the synthesizer's of each clip's transcript: an edited one gave new
    mels, cached again and trained on without a word; a ground-truth vocoder, which reads no
    transcript, still resumes."""
    corpus = transcribed_corpus(tmp_path / "corpus")
    syn = _synthesizer(tmp_path / "taco" / "model.pt", ge2e_checkpoint(tmp_path / "enc.pt"))
    args = ["train-voice", "vocoder", str(corpus), "--set", f"model={json.dumps(VOC_MODEL)}",
            "--set", "seq_frames=4", "--set", "batch_size=2", "--set", "threads=1",
            "--set", "val_seconds=0", "--set", f"cache_dir={tmp_path / 'cache'}"]
    gta_run = [*args, "-o", str(tmp_path / "voc"), "--set", f"gta={syn}"]
    plain_run = [*args, "-o", str(tmp_path / "plain")]
    for run in (gta_run, plain_run):
        assert main([*run, "--max-steps", "1"]) == 0, capsys.readouterr().err
    clip = corpus / "12" / "100" / "12_100_000000_000000.wav"
    clip.with_name(clip.stem + ".normalized.txt").write_text("Something else entirely.")
    monkeypatch.setattr(gta, "load_corpus", lambda *a, **k: pytest.fail("corpus read"))
    capsys.readouterr()
    assert main([*gta_run, "--max-steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and (
        f"was trained on other transcripts than {corpus} holds now (1 with another "
        "transcript: 12/100/12_100_000000_000000.wav)") in err, err
    assert main([*plain_run, "--max-steps", "2"]) == 0, capsys.readouterr().err
