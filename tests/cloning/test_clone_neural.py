"""Tiny Tacotron synthesizer and WaveRNN vocoder: shapes, overfitting, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emovc.models.checkpoint import load_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig, tacotron_loss
from emovc.models.synthesizer.text import EOS, SYMBOLS, phonemes_to_ids
from emovc.models.vocoder import WaveRNN, WaveRNNConfig, mulaw_decode, mulaw_encode
from emovc.pipelines.sv2tts import DecodeLimit
from emovc.training import synthesizer as tsyn
from emovc.training import vocoder as tvoc
from emovc.training.synthesizer_module import collate

MEL = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}


def test_phoneme_ids_round_trip() -> None:
    ids = phonemes_to_ids("həlˈoʊ wˈɜːld")
    assert ids[-1] == SYMBOLS.index(EOS)
    assert "".join(SYMBOLS[i] for i in ids[:-1]) == "həlˈoʊ wˈɜːld"
    assert 0 not in ids


def _utterances(speech_like) -> list[tsyn.Utterance]:
    rng = np.random.default_rng(0)
    out = []
    for i, wav in enumerate(speech_like):
        mel = tsyn.log_mel(wav[4000:5600], MEL)  # 0.1 s → 41 frames of 2.5 ms
        ids = list(rng.integers(2, len(SYMBOLS), 12)) + [SYMBOLS.index(EOS)]
        out.append(tsyn.Utterance(ids, np.eye(16, dtype=np.float32)[i], mel))
    return out


def test_tacotron_shapes() -> None:
    model = Tacotron(TacotronConfig.tiny())
    ids = torch.randint(2, 40, (2, 9))
    out = model(ids, torch.tensor([9, 6]), torch.rand(2, 16), torch.rand(2, 10, 20))
    assert out["mel_post"].shape == (2, 10, 20)
    assert out["stop"].shape == (2, 10)
    assert out["alignment"].shape == (2, 5, 9)
    torch.testing.assert_close(out["alignment"][1, :, 6:].sum(), torch.tensor(0.0))
    mel = model.eval().infer(ids[0], torch.rand(16), max_frames=12)
    assert mel.shape[1] == 20 and 2 <= mel.shape[0] <= 12


def test_tiny_synthesizer_overfits(speaker_clips, tmp_path) -> None:
    data = _utterances([c[0] for c in speaker_clips.values()][:2])
    torch.manual_seed(0)
    model = Tacotron(TacotronConfig.tiny())
    batch = {k: v for k, v in collate(data, 2).items()}

    def loss_now() -> float:
        with torch.no_grad():
            out = model(batch["ids"], batch["id_lengths"], batch["speaker"], batch["mels"])
            return tacotron_loss(out, batch["mels"], batch["mel_lengths"])[0].item()

    before = loss_now()
    cfg = tsyn.build_config("unused", str(tmp_path / "taco"), max_steps=40, overrides={
        "model": TacotronConfig.tiny().to_dict(), "mel": MEL, "batch_size": 2, "lr": 1e-2,
        "threads": 1})
    path = tsyn.train(cfg, data=data)
    ckpt = load_checkpoint(path, tsyn.KIND)
    model.load_state_dict(ckpt["state_dict"])
    assert loss_now() < 0.05 * before  # L1+L2 of log-mels: ~95 at init
    assert ckpt["extra"]["symbols"] == SYMBOLS
    # the voice its transcripts were phonemised with, which cloning reads text with
    assert ckpt["extra"]["frontend"]["voice"] == "en-us"


def test_mulaw_round_trip() -> None:
    x = torch.linspace(-1, 1, 101)
    y = mulaw_decode(mulaw_encode(x, 9), 9)
    assert torch.max(torch.abs(x - y)) < 0.02


def test_tiny_vocoder_overfits(speaker_clips, tmp_path) -> None:
    wav = speaker_clips["low"][0][4000:4160]  # one 4-frame window, always the same sample
    pairs = [(tsyn.log_mel(wav, MEL)[:4], wav)]
    cfg = tvoc.build_config("unused", str(tmp_path / "voc"), max_steps=60, overrides={
        "model": WaveRNNConfig.tiny().to_dict(), "mel": MEL, "batch_size": 4, "seq_frames": 4,
        "lr": 1e-2, "threads": 1})
    sampler = tvoc.SegmentSampler(pairs, 40, 4, 4, seed=1)
    torch.manual_seed(0)
    fresh = WaveRNN(WaveRNNConfig.tiny())

    def nll(model: WaveRNN) -> float:
        mels, wav = sampler.sample(sampler.rng(0))
        with torch.no_grad():
            logits = model(mels, wav[:, :-1])
            target = mulaw_encode(wav[:, 1:], 8)
            return torch.nn.functional.cross_entropy(logits.reshape(-1, 256),
                                                     target.reshape(-1)).item()

    before = nll(fresh)
    path = tvoc.train(cfg, data=pairs)
    trained = WaveRNN(WaveRNNConfig.tiny())
    trained.load_state_dict(load_checkpoint(path, tvoc.KIND)["state_dict"])
    assert nll(trained) < 0.6 * before  # uniform over 256 classes = 5.5 nats
    audio = trained.generate(torch.from_numpy(pairs[0][0][:3]))
    assert audio.shape == (120,) and torch.all(audio.abs() <= 1)


@pytest.mark.filterwarnings("ignore::emovc.errors.EmovcWarning")  # untrained: cut, maybe
def test_neural_cloner_runs_from_checkpoints(tmp_path, reference_wav) -> None:
    from emovc.models.checkpoint import save_checkpoint
    from emovc.pipelines.cloning import VoiceCloner

    taco = Tacotron(TacotronConfig.tiny(speaker_dim=256))
    voc = WaveRNN(WaveRNNConfig.tiny())
    save_checkpoint(tmp_path / "synthesizer.pt", kind=tsyn.KIND, config=taco.cfg.to_dict(),
                    state_dict=taco.state_dict(), extra={"mel": MEL, "symbols": SYMBOLS})
    save_checkpoint(tmp_path / "vocoder.pt", kind=tvoc.KIND, config=voc.cfg.to_dict(),
                    state_dict=voc.state_dict(), extra={"mel": MEL})
    cloner = VoiceCloner.from_pretrained(tmp_path, device="cpu")
    assert cloner.neural is not None and cloner.neural.device == torch.device("cpu")
    cloner.neural.limit = DecodeLimit(seconds_per_symbol=0.01, min_seconds=0.05)
    wav, sr = cloner.clone([(reference_wav, 16000)], "Hi.")  # cut at 0.05 s, or stopped
    assert sr == 16000 and wav.ndim == 1 and 0 < len(wav) <= 800 and np.isfinite(wav).all()


def _save_models(folder, synth_mel: dict, voc_mel: dict, voc_cfg=None,
                 frontend: dict | None = None) -> None:
    """A voice folder of random tiny models (``frontend``: the synthesizer's record of its
    espeak-ng settings; ``None``: none, as an earlier emovc wrote)."""
    from emovc.models.checkpoint import save_checkpoint

    taco = Tacotron(TacotronConfig.tiny(speaker_dim=256))
    voc = WaveRNN(voc_cfg or WaveRNNConfig.tiny())
    extra = {"mel": synth_mel, "symbols": SYMBOLS}
    save_checkpoint(folder / "synthesizer.pt", kind=tsyn.KIND, config=taco.cfg.to_dict(),
                    state_dict=taco.state_dict(),
                    extra=extra if frontend is None else {**extra, "frontend": frontend})
    save_checkpoint(folder / "vocoder.pt", kind=tvoc.KIND, config=voc.cfg.to_dict(),
                    state_dict=voc.state_dict(), extra={"mel": voc_mel})


@pytest.mark.parametrize(("voc_mel", "voc_cfg", "message"), [
    ({**MEL, "sr": 22050}, None, "sr = 16000 in synthesizer.pt but 22050 in vocoder.pt"),
    ({**MEL, "hop_length": 80}, None, "hop_length = 40 in synthesizer.pt but 80 in vocoder.pt"),
    ({**MEL, "n_fft": 320}, None, "n_fft = 160 in synthesizer.pt but 320 in vocoder.pt"),
    (MEL, WaveRNNConfig.tiny(hop_length=80), "vocoder upsamples by hop_length 80 but"),
])
def test_mismatched_mel_settings_are_refused(tmp_path, voc_mel, voc_cfg, message) -> None:
    from emovc.errors import ConfigError
    from emovc.pipelines.cloning import VoiceCloner

    _save_models(tmp_path, MEL, voc_mel, voc_cfg)
    with pytest.raises(ConfigError, match=message):
        VoiceCloner.from_pretrained(tmp_path)


@pytest.mark.filterwarnings("ignore::emovc.errors.EmovcWarning")  # untrained: cut, maybe
def test_neural_output_at_another_rate_is_resampled_to_16k(tmp_path, reference_wav) -> None:
    from emovc.pipelines.cloning import CloneConfig, VoiceCloner

    mel = {**MEL, "sr": 22050}
    _save_models(tmp_path, mel, mel)
    cloner = VoiceCloner.from_pretrained(tmp_path)
    assert cloner.neural.sample_rate == 22050
    cloner.neural.limit = DecodeLimit(seconds_per_symbol=0.01, min_seconds=0.05)
    torch.manual_seed(0)
    native, sr = cloner.neural.clone([(reference_wav, 16000)], "Hi.")
    assert sr == 22050
    torch.manual_seed(0)
    wav, sr = cloner.clone([(reference_wav, 16000)], "Hi.")
    assert sr == 16000 and abs(len(wav) - len(native) * 16000 / 22050) <= 1

    # sentences: resampled each, joined with pause_s like the unit-selection path
    cloner.config = CloneConfig(pause_s=0.5)
    cloner.neural._decode = lambda speaker, text: (np.full(11025, 0.1, np.float32), "")
    wav, sr = cloner.clone([(reference_wav, 16000)], "One. Two.")
    assert sr == 16000 and len(wav) == 8000 + 8000 + 8000
    assert np.all(wav[8200:15800] == 0) and np.all(wav[:7800] != 0)


def test_the_front_end_is_the_one_the_synthesizer_was_trained_on(tmp_path) -> None:
    """CloneConfig.frontend was ignored on the neural path: German text given a German voice
    was phonemised with the English one, without a word."""
    from dataclasses import asdict

    from emovc.errors import ConfigError
    from emovc.pipelines.cloning import CloneConfig, VoiceCloner
    from emovc.pipelines.frontend import EspeakFrontend, FrontendConfig

    _save_models(tmp_path, MEL, MEL)  # no record (an earlier emovc's): trained on en-us
    german = CloneConfig(frontend=FrontendConfig(voice="de"))
    with pytest.raises(ConfigError) as err:
        VoiceCloner.from_pretrained(tmp_path, german)
    assert str(err.value) == (
        f"CloneConfig.frontend voice 'de' is not the espeak-ng voice the synthesizer of "
        f"{tmp_path} was trained on ('en-us'): it reads that voice's phonemes only; leave "
        "frontend out, or give FrontendConfig(voice='en-us')")
    # the same voice (a variant, another rate: the phonemes are the same) is taken
    same = CloneConfig(frontend=FrontendConfig(voice="en-us+f3", rate=200))
    assert VoiceCloner.from_pretrained(tmp_path, same).neural.frontend.config.voice == "en-us"

    # a synthesizer trained on German phonemes reads German text, also with the default config
    _save_models(tmp_path, MEL, MEL, frontend=asdict(FrontendConfig(voice="de")))
    for config in (None, CloneConfig(), german):
        cloner = VoiceCloner.from_pretrained(tmp_path, config)
        assert cloner.neural.frontend.config.voice == "de"
    german_ipa = EspeakFrontend(FrontendConfig(voice="de")).phonemes("Guten Morgen.")
    assert german_ipa != EspeakFrontend().phonemes("Guten Morgen.")
    assert cloner.neural.frontend.phonemes("Guten Morgen.") == german_ipa
    with pytest.raises(ConfigError, match="voice 'en-us' is not the espeak-ng voice .* \\('de'\\)"):
        VoiceCloner.from_pretrained(tmp_path, CloneConfig(frontend=FrontendConfig(voice="en-us",
                                                                                   rate=170)))
    _save_models(tmp_path, MEL, MEL, frontend={"language": "de"})
    with pytest.raises(ConfigError, match="records its espeak-ng front-end as .*, not "
                                          "FrontendConfig settings"):
        VoiceCloner.from_pretrained(tmp_path)


def test_vocoder_corpus_is_read_at_the_mel_settings_rate(tmp_path):
    """Mels at mel["sr"] were computed from audio loaded at 16 kHz whatever that rate was."""
    from dataclasses import replace

    from emovc.audio import save_audio
    from emovc.data.synthetic import EMOTION_VOICES, synthesize
    from emovc.errors import EmovcWarning
    from emovc.training import vocoder

    wav = synthesize(EMOTION_VOICES["neutral"], duration=1.0, sr=16000, seed=0)
    save_audio(tmp_path / "c" / "1" / "2" / "1_2_000001_000000.wav", wav, 16000)
    cfg = vocoder.build_config(str(tmp_path / "c"), str(tmp_path / "run"))
    mel22 = {**cfg.mel, "sr": 22050, "hop_length": 256, "n_fft": 1024}
    with pytest.warns(EmovcWarning, match="recorded below the mel settings' rate"):
        ((mel, audio),) = vocoder.load_corpus(replace(cfg, mel=mel22))
    assert abs(len(audio) - 22050) < 50  # one second at the mel settings' rate
    assert abs(mel.shape[0] - len(audio) / 256) <= 2


@pytest.mark.parametrize("present", ["synthesizer.pt", "vocoder.pt"])
def test_half_a_neural_cloner_names_the_missing_file(tmp_path, present) -> None:
    """A folder with one of the two models said "unknown cloner '...'" (as for a typo)."""
    from emovc.errors import ConfigError
    from emovc.pipelines.cloning import VoiceCloner

    _save_models(tmp_path, MEL, MEL)
    missing = "vocoder.pt" if present == "synthesizer.pt" else "synthesizer.pt"
    (tmp_path / missing).unlink()
    with pytest.raises(ConfigError, match=f"holds {present} but no {missing}; the neural "
                                          f"cloner needs both: train it with emovc "
                                          f"train-voice {missing[:-3]} DATA_DIR"):
        VoiceCloner.from_pretrained(tmp_path)
    (tmp_path / present).unlink()
    with pytest.raises(ConfigError, match="holds neither synthesizer.pt nor vocoder.pt"):
        VoiceCloner.from_pretrained(tmp_path)
    _save_models(tmp_path / "run", MEL, MEL)  # a train-voice run folder: export it
    (tmp_path / "run" / "synthesizer.pt").rename(tmp_path / "run" / "model.pt")
    (tmp_path / "run" / "vocoder.pt").unlink()
    with pytest.raises(ConfigError, match="the run folder of a synthesizer/tacotron training, "
                                          "not a voice folder: re-run .* --export VOICE_DIR"):
        VoiceCloner.from_pretrained(tmp_path / "run")
    (tmp_path / "model.pt").write_bytes(b"")  # another trainer's run (or no checkpoint)
    with pytest.raises(ConfigError, match=r"holds a model.pt \(not an emovc checkpoint\), not "
                                          "a voice folder's synthesizer.pt"):
        VoiceCloner.from_pretrained(tmp_path)
    with pytest.raises(ConfigError, match="unknown cloner 'no-such-cloner'"):
        VoiceCloner.from_pretrained("no-such-cloner")


def test_cli_clones_with_a_trained_folder(tmp_path, reference_wav, monkeypatch) -> None:
    """`emovc clone --model FOLDER` uses the neural path (the file's tag says so); --style,
    which only unit selection has, is refused with it."""
    import typer

    from emovc.audio import save_audio
    from emovc.audio.io import read_comment
    from emovc.cli.clone_cmds import register
    from emovc.errors import EmovcError
    from emovc.pipelines.sv2tts import NeuralCloner

    _save_models(tmp_path, MEL, MEL)
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    # a stand-in for the untrained models' slow sample-by-sample output
    shown = []
    monkeypatch.setattr(NeuralCloner, "_decode", lambda self, speaker, text: (
        shown.append(self.progress) or np.full(1600, 0.1, np.float32), ""))
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    base = ["clone", "-r", str(ref), "-t", "Hi.", "--consent", "--model", str(tmp_path)]
    app(args=[*base, "-o", str(tmp_path / "out.wav")], standalone_mode=False)
    assert "by neural SV2TTS" in read_comment(tmp_path / "out.wav")
    assert shown == [True]  # the vocoder's bar (review 42b L5); off in the Python API
    from emovc.pipelines.cloning import VoiceCloner

    assert VoiceCloner.from_pretrained(tmp_path).neural.progress is False
    for style in ("clear", "voice"):  # the default, given: refused too
        with pytest.raises(EmovcError, match="--style chooses how unit selection"):
            app(args=[*base, "--style", style, "-o", str(tmp_path / "o2.wav")],
                standalone_mode=False)


def test_cli_device_places_a_trained_folder(tmp_path, reference_wav, monkeypatch) -> None:
    """`emovc clone --model FOLDER --device D` loads the models onto D; a device torch lacks,
    an unknown one, or --device with unit selection (no neural model) is refused in one
    line before any work."""
    import typer

    from emovc.audio import save_audio
    from emovc.cli.clone_cmds import register
    from emovc.errors import EmovcError
    from emovc.pipelines import cloning
    from emovc.pipelines.sv2tts import NeuralCloner

    _save_models(tmp_path, MEL, MEL)
    ref = save_audio(tmp_path / "ref.wav", reference_wav, 16000)
    devices = []
    monkeypatch.setattr(NeuralCloner, "_decode", lambda self, speaker, text: (
        devices.append(self.device) or np.full(1600, 0.1, np.float32), ""))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    base = ["clone", "-r", str(ref), "-t", "Hi.", "--consent"]
    app(args=[*base, "--model", str(tmp_path), "--device", "cpu", "-o", str(tmp_path / "a.wav")],
        standalone_mode=False)
    app(args=[*base, "--model", str(tmp_path), "-o", str(tmp_path / "b.wav")],  # auto
        standalone_mode=False)
    assert devices == [torch.device("cpu")] * 2
    monkeypatch.setattr(cloning.VoiceCloner, "prepare_voice", None)  # no work before these
    for device, message in [("cuda", "device 'cuda' needs a CUDA GPU, but torch finds none"),
                            ("tpu", "unknown device 'tpu'; valid choices: auto, cpu, cuda")]:
        with pytest.raises(EmovcError, match=message) as err:
            app(args=[*base, "--model", str(tmp_path), "--device", device,
                      "-o", str(tmp_path / "c.wav")], standalone_mode=False)
        assert "\n" not in str(err.value)
    for model in ("default", "unit-selection"):
        with pytest.raises(EmovcError, match="--device places a trained SV2TTS model "
                                             r"\(--model FOLDER\); unit selection has no"):
            app(args=[*base, "--model", model, "--device", "cpu", "-o", str(tmp_path / "d.wav")],
                standalone_mode=False)
    assert not (tmp_path / "c.wav").exists() and not (tmp_path / "d.wav").exists()


def test_python_device_for_unit_selection_is_refused() -> None:
    from emovc.errors import ConfigError
    from emovc.pipelines.cloning import VoiceCloner

    with pytest.raises(ConfigError, match="unit selection has no torch model and runs on the "
                                          "CPU: leave device='cuda' out"):
        VoiceCloner.from_pretrained("default", device="cuda")
    assert VoiceCloner.from_pretrained("default").neural is None


def test_a_model_file_as_cloner_says_a_voice_folder_is_needed(tmp_path) -> None:
    """`clone --model runs/taco/model.pt` answered only "unknown cloner '...'"."""
    from emovc.errors import ConfigError
    from emovc.pipelines.cloning import VoiceCloner

    _save_models(tmp_path, MEL, MEL)
    with pytest.raises(ConfigError, match=r"synthesizer.pt is a file; pass its voice folder "):
        VoiceCloner.from_pretrained(tmp_path / "synthesizer.pt")
    (tmp_path / "synthesizer.pt").rename(tmp_path / "model.pt")
    with pytest.raises(ConfigError, match=r"model.pt is a file; a trained cloner is a voice "
                                          r"folder holding synthesizer.pt \+ vocoder.pt"):
        VoiceCloner.from_pretrained(tmp_path / "model.pt")
