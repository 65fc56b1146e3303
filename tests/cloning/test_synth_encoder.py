"""A synthesizer trained on a retrained speaker encoder (``--set encoder=RUN/model.pt``):
its corpus is embedded with that encoder, synthesizer.pt keeps the encoder, and cloning
embeds the references with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from emovc.cli.main import main
from emovc.errors import ConfigError
from emovc.models.checkpoint import load_checkpoint, save_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import SYMBOLS
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.pipelines.speaker import SpeakerEncoder
from emovc.pipelines.sv2tts_encoder import file_sha256
from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata

MEL = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}


def _vocoder(path: Path, mel: dict) -> Path:
    model = WaveRNN(WaveRNNConfig.tiny(n_mels=mel["n_mels"], hop_length=mel["hop_length"]))
    return save_checkpoint(path, kind="vocoder/wavernn", config=model.cfg.to_dict(),
                           state_dict=model.state_dict(), extra={"mel": mel})


def test_synthesizer_trains_on_a_retrained_encoder_and_cloning_uses_it(
        tmp_path, capsys, transcribed_corpus, reference_wav, ge2e_checkpoint) -> None:
    """The synthesizer always embedded its corpus with the bundled encoder, and cloning the
    references too: a retrained encoder (emovc train-voice encoder) could not be used."""
    from emovc.pipelines.sv2tts import NeuralCloner

    corpus = transcribed_corpus(tmp_path / "corpus")
    enc, voice = ge2e_checkpoint(tmp_path / "ge2e" / "model.pt"), tmp_path / "voice"
    model = TacotronConfig.tiny(speaker_dim=8, n_mels=80).to_dict()
    code = main(["train-voice", "synthesizer", str(corpus), "-o", str(tmp_path / "syn"),
                 "--max-steps", "2", "--set", f"encoder={enc}", "--set",
                 f"model={json.dumps(model)}", "--set", "batch_size=2", "--set", "threads=1",
                 "--set", f"cache_dir={tmp_path / 'cache'}", "--export", str(voice)])
    assert code == 0, capsys.readouterr().err

    # the corpus was embedded with the retrained encoder (8-d), cached under its hash
    (folder,) = (tmp_path / "cache").glob("corpus-*/synthesizer-*")
    settings = json.loads((folder / "config.json").read_text())["settings"]
    assert settings["encoder"] == f"sha256:{file_sha256(enc)}"
    (npz, *_) = sorted(folder.glob("*.npz"))
    clip = sorted(corpus.rglob("*.wav"))[0]
    want = SpeakerEncoder.from_pretrained(enc).embed(tdata.speech_16k(str(clip)), 16000)
    np.testing.assert_allclose(np.load(npz)["speaker"], want, atol=1e-6)

    # synthesizer.pt keeps the encoder as plain data
    extra = load_checkpoint(voice / "synthesizer.pt")["extra"]
    assert extra["encoder"]["sha256"] == file_sha256(enc)
    assert extra["encoder"]["config"] == load_checkpoint(enc)["config"]

    # cloning embeds with it, also once the encoder's own file is gone
    _vocoder(voice / "vocoder.pt", tsyn.MEL)
    enc_copy = SpeakerEncoder.from_pretrained(enc)
    enc.unlink()
    cloner = NeuralCloner.from_folder(voice, device="cpu")
    got = cloner.embed([(reference_wav, 16000)])
    assert got.shape == (8,)
    np.testing.assert_allclose(got, enc_copy.embed_speaker([reference_wav], 16000), atol=1e-6)


def test_a_synthesizer_without_the_record_clones_with_the_bundled_encoder(tmp_path) -> None:
    from emovc.pipelines.sv2tts import NeuralCloner

    taco = Tacotron(TacotronConfig.tiny(speaker_dim=256))
    save_checkpoint(tmp_path / "synthesizer.pt", kind=tsyn.KIND, config=taco.cfg.to_dict(),
                    state_dict=taco.state_dict(), extra={"mel": MEL, "symbols": SYMBOLS})
    _vocoder(tmp_path / "vocoder.pt", MEL)
    cloner = NeuralCloner.from_folder(tmp_path, device="cpu")
    bundled = SpeakerEncoder.from_pretrained().model.state_dict()
    for k, v in cloner.encoder.model.state_dict().items():
        assert torch.equal(v, bundled[k]), k


@pytest.mark.parametrize(("record", "speaker_dim", "message"), [
    ("ok", 256, "synthesizer reads 256-d speaker embeddings but the speaker encoder "
                "runs/ge2e/model.pt it records makes 8-d ones"),
    ({"name": "x.pt", "sha256": "ab"}, 8, "records its speaker encoder without the encoder's "
                                          "config and weights"),
    ("bad-weights", 8, "speaker encoder runs/ge2e/model.pt: not a usable speaker-encoder/ge2e "
                       "model"),
])
def test_a_bad_encoder_record_is_refused_in_one_line(tmp_path, record, speaker_dim, message,
                                                     ge2e_checkpoint) -> None:
    from emovc.pipelines.sv2tts import NeuralCloner
    from emovc.pipelines.sv2tts_encoder import choose_encoder

    if record in ("ok", "bad-weights"):
        rec = choose_encoder(ge2e_checkpoint(tmp_path / "e.pt"), "test").record()
        rec["name"] = "runs/ge2e/model.pt"
        if record == "bad-weights":
            rec["state_dict"] = {"lstm.weight": torch.zeros(2)}
        record = rec
    taco = Tacotron(TacotronConfig.tiny(speaker_dim=speaker_dim))
    save_checkpoint(tmp_path / "synthesizer.pt", kind=tsyn.KIND, config=taco.cfg.to_dict(),
                    state_dict=taco.state_dict(),
                    extra={"mel": MEL, "symbols": SYMBOLS, "encoder": record})
    _vocoder(tmp_path / "vocoder.pt", MEL)
    with pytest.raises(ConfigError) as err:
        NeuralCloner.from_folder(tmp_path, device="cpu")
    assert message in str(err.value) and "\n" not in str(err.value)


def _corpus_untouched(monkeypatch) -> None:
    def boom(cfg, progress=True):
        raise AssertionError("the corpus was loaded before the encoder setting was checked")

    monkeypatch.setattr(tsyn, "load_corpus", boom)


@pytest.mark.parametrize(("setting", "message"), [
    ("missing.pt", "synthesizer training setting encoder: checkpoint not found: missing.pt; "
                   "give the model.pt of emovc train-voice encoder"),
    ("vocoder", "synthesizer training setting encoder: checkpoint voc.pt is a 'vocoder/wavernn' "
                "model, expected 'speaker-encoder/ge2e'"),
    ("dim", "synthesizer training setting model.speaker_dim must be 8 (the embedding size of "
            "the speaker encoder enc.pt), got 256"),
    (7, "synthesizer training setting encoder must be the path of a speaker encoder's "
        "model.pt, got 7"),
])
def test_encoder_setting_mistakes_are_one_line_errors_before_the_corpus(
        setting, message, tmp_path, monkeypatch, capsys, ge2e_checkpoint) -> None:
    monkeypatch.chdir(tmp_path)
    _corpus_untouched(monkeypatch)
    if setting == "vocoder":
        setting = _vocoder(Path("voc.pt"), MEL)
    elif setting == "dim":
        setting = ge2e_checkpoint(Path("enc.pt"))
    code = main(["train-voice", "synthesizer", str(tmp_path), "-o", "run", "--set",
                 f"encoder={setting}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run").exists()


def test_cache_key_follows_the_encoder_file(tmp_path, transcribed_corpus, monkeypatch,
                                            ge2e_checkpoint) -> None:
    """Another encoder, or the encoder file retrained in place, preprocesses the corpus
    again (embeddings of one encoder are no use to a synthesizer trained on another)."""
    corpus = transcribed_corpus(tmp_path / "corpus")
    calls: list[str] = []

    def fake(utt, mel, tools):
        calls.append(Path(utt.path).name)
        return {"ids": np.arange(3, dtype=np.int64), "speaker": np.zeros(8, np.float32),
                "mel": np.zeros((3, mel["n_mels"]), np.float32)}

    monkeypatch.setattr(tdata, "_preprocess", fake)
    enc = ge2e_checkpoint(tmp_path / "enc.pt")

    def load(encoder) -> int:
        calls.clear()
        cfg = tsyn.build_config(str(corpus), "unused", overrides={
            "cache_dir": str(tmp_path / "cache"), "encoder": encoder,
            "model": {"speaker_dim": 8 if encoder else 256}})
        tsyn.load_corpus(cfg, progress=False)
        return len(calls)

    assert [load(None), load(str(enc)), load(None), load(str(enc))] == [4, 4, 0, 0]
    ge2e_checkpoint(enc, seed=1)  # retrained in place
    assert load(str(enc)) == 4
    assert len(list((tmp_path / "cache").glob("*/synthesizer-*"))) == 3


def test_a_trained_encoder_points_to_the_synthesizer_route() -> None:
    """train-voice encoder said the encoder could not be used for cloning."""
    from emovc.training.sv2tts import next_steps

    first, also = next_steps("encoder", "runs/ge2e/model.pt")
    assert first.startswith("train a synthesizer on it: emovc train-voice synthesizer DATA_DIR "
                            "-o RUN_DIR --set encoder=runs/ge2e/model.pt --export VOICE_DIR")
    assert also.startswith("also: emovc embed FILES -o emb.npy --model runs/ge2e/model.pt")


@pytest.mark.parametrize("name", ["resemblyzer", "default"])
def test_the_bundled_encoders_names_are_one_setting(name, tmp_path) -> None:
    """``encoder=resemblyzer`` was kept as written and compared as a path on resume (from
    another working directory, another run); it is the default, ``None``."""
    from emovc.training.synthesizer import build_config

    cfg = build_config(str(tmp_path), str(tmp_path / "run"), overrides={"encoder": name})
    assert cfg.encoder is None


def _utterances_8d(n: int = 4) -> list[tdata.Utterance]:
    rng = np.random.default_rng(0)
    return [tdata.Utterance(list(rng.integers(2, len(SYMBOLS), 12)) + [1],
                            np.eye(8, dtype=np.float32)[i % 8],
                            rng.normal(-4.0, 1.0, (9 + i, 20)).astype(np.float32))
            for i in range(n)]


def test_resuming_on_an_encoder_retrained_into_the_same_file_is_refused(
        tmp_path, ge2e_checkpoint) -> None:
    """The run folder recorded the encoder as a path: an encoder retrained into the same
    model.pt went unnoticed, and the synthesizer run went on from its checkpoint with the
    embeddings of another encoder."""
    import yaml

    enc, run = ge2e_checkpoint(tmp_path / "ge2e" / "model.pt"), tmp_path / "run"
    data = _utterances_8d()

    def train(steps: int, resume: bool = True):
        cfg = tsyn.build_config("unused", str(run), steps, overrides={
            "model": TacotronConfig.tiny(speaker_dim=8).to_dict(), "mel": MEL,
            "batch_size": 2, "threads": 1, "encoder": str(enc)})
        return tsyn.train(cfg, resume=resume, data=data)

    train(2)
    before = file_sha256(enc)
    assert yaml.safe_load((run / "config.yaml").read_text())["encoder_sha256"] == before
    train(3)  # the same file: resumed
    ge2e_checkpoint(enc, seed=1)  # retrained in place
    with pytest.raises(ConfigError) as err:
        train(4)
    assert str(err.value) == (
        f"run folder {run} was started with the speaker encoder {enc} of sha256 "
        f"{before[:12]}, and that file has changed since (sha256 {file_sha256(enc)[:12]}): "
        "the synthesizer would go on learning the embeddings of another encoder; choose "
        "another run_dir, or pass resume=False to train() to start this run afresh there "
        "(replacing its model.pt and checkpoints)")
    train(4, resume=False)  # a fresh start records the new file
    assert yaml.safe_load((run / "config.yaml").read_text())["encoder_sha256"] == \
        file_sha256(enc)
    # a run folder of an earlier emovc records no hash: resumed as before
    config = yaml.safe_load((run / "config.yaml").read_text())
    del config["encoder_sha256"]
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    train(5)


def test_the_command_line_says_force_starts_over_on_a_retrained_encoder(
        tmp_path, capsys, transcribed_corpus, ge2e_checkpoint) -> None:
    corpus = transcribed_corpus(tmp_path / "corpus")
    enc = ge2e_checkpoint(tmp_path / "ge2e" / "model.pt")
    model = TacotronConfig.tiny(speaker_dim=8, n_mels=80).to_dict()
    args = ["train-voice", "synthesizer", str(corpus), "-o", str(tmp_path / "syn"), "--set",
            f"encoder={enc}", "--set", f"model={json.dumps(model)}", "--set", "batch_size=2",
            "--set", "threads=1", "--set", f"cache_dir={tmp_path / 'cache'}"]
    assert main([*args, "--max-steps", "1"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    ge2e_checkpoint(enc, seed=1)
    code = main([*args, "--max-steps", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"was started with the speaker encoder {enc} of sha256 " in err
    assert "and that file has changed since" in err
    assert err.endswith("choose another -o, or pass --force to start this run afresh there "
                        "(replacing its model.pt and checkpoints; Python: resume=False)\n")
    assert main([*args, "--max-steps", "2", "--force"]) == 0, capsys.readouterr().err
