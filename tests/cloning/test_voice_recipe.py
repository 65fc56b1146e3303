"""The SV2TTS recipes' training practice: held-out validation with alignment, mel and audio
diagnostics, the learning-rate decay, the length cap, the speaker-spread sample, the
resolved config in TensorBoard's hparams.yaml, and corpora of your own recordings."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emovc.errors import ConfigError, EmovcError, EmovcWarning
from emovc.models.checkpoint import save_checkpoint
from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import EOS, SYMBOLS
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.training import synthesizer as tsyn
from emovc.training import synthesizer_data as tdata
from emovc.training import vocoder as tvoc
from emovc.training.sv2tts_sample import hold_out, sample_utterances, spread, typical

MEL = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}
TINY = {"model": TacotronConfig.tiny().to_dict(), "mel": MEL, "batch_size": 2, "threads": 1}


def _utterances(n: int, speakers: int = 4, frames=lambda i: 9 + i % 6) -> list[tsyn.Utterance]:
    """``n`` random utterances of ``speakers`` speakers (``s0``, ``s1``, ...; ids ``u<i>``):
    12 phoneme ids + EOS, a one-hot 16-d speaker, ``frames(i)`` 20-band mel frames."""
    rng = np.random.default_rng(0)
    return [tsyn.Utterance(list(rng.integers(2, len(SYMBOLS), 12)) + [SYMBOLS.index(EOS)],
                           np.eye(16, dtype=np.float32)[i % speakers],
                           rng.normal(-4.0, 1.0, (frames(i), 20)).astype(np.float32),
                           utt_id=f"test/s{i % speakers}/u{i}", speaker_id=f"s{i % speakers}")
            for i in range(n)]


def _events(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb" / "version_0"),
                           size_guidance={"images": 0, "audio": 0, "scalars": 0})
    acc.Reload()
    return acc


def _vocoder_checkpoint(path: Path, mel: dict = MEL, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    model = WaveRNN(WaveRNNConfig.tiny(n_mels=mel["n_mels"], hop_length=mel["hop_length"]))
    return save_checkpoint(path, kind=tvoc.KIND, config=model.cfg.to_dict(),
                           state_dict=model.state_dict(), extra={"mel": mel})


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_validation_is_held_out_and_shows_alignment_mels_and_audio(tmp_path, capfd) -> None:
    """val/ was the loss of a fixed batch of training utterances (val 11.4 < train 12.6);
    TensorBoard had no alignment, mel or audio, and hparams.yaml was {}."""
    data = _utterances(40)
    vocoder = _vocoder_checkpoint(tmp_path / "voc.pt")
    seen: list[list[str]] = []
    real = tsyn.SynthesizerModule.validation_step

    def spy(self, *args):
        seen.append([u.utt_id for u in self.data])
        return real(self, *args)

    cfg = tsyn.build_config("unused", str(tmp_path / "run"), 4, overrides={
        **TINY, "val_utterances": 3, "val_every": 2, "val_vocoder": str(vocoder)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tsyn.SynthesizerModule, "validation_step", spy)
        tsyn.train(cfg, data=data)
    assert ("synthesizer: training on 37 utterance(s) of 4 speaker(s), validating on 3 "
            "held-out one(s) of 3 speaker(s)") in capfd.readouterr().err
    train_ids = set(seen[0])
    held = {u.utt_id for u in data} - train_ids
    assert len(held) == 3 and len({h.split("/")[1] for h in held}) == 3  # spread over speakers

    acc = _events(tmp_path / "run")
    tags = acc.Tags()
    assert {"val/loss", "val/mel", "val/stop", "train/lr"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("val/loss")] == [1, 3]  # steps 2 and 4
    assert set(tags["images"]) == {"val/alignment", "val/mel"}
    assert {"val/griffin_lim", "val/target_griffin_lim", "val/vocoder",
            "val/target_vocoder"} == set(tags["audio"])
    img = acc.Images("val/alignment")[-1]
    assert img.width > 200 and img.height > 100
    # the shown utterance is a held-out one, the same at every validation
    files = sorted(p.name for p in (tmp_path / "run" / "audio").iterdir())
    name = files[-1].removeprefix("target_").removesuffix("_vocoder.wav")
    assert any(h.endswith(f"/{name}") for h in held)
    assert files == [
        f"step000002_{name}_griffinlim.wav", f"step000002_{name}_vocoder.wav",
        f"step000004_{name}_griffinlim.wav", f"step000004_{name}_vocoder.wav",
        f"target_{name}_griffinlim.wav", f"target_{name}_vocoder.wav"]
    from emovc.audio import load_audio_with_rate

    wav, sr = load_audio_with_rate(tmp_path / "run" / "audio" / f"target_{name}_vocoder.wav")
    assert sr == 16000 and len(wav) > 0
    hparams = yaml.safe_load((tmp_path / "run" / "tb" / "version_0" / "hparams.yaml").read_text())
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert hparams == config and hparams["lr_decay_rate"] == 0.4


def test_held_out_loss_is_of_the_held_out_utterances() -> None:
    """The module's val/ numbers come from its val set, not from training batches."""
    data = _utterances(8)
    model = Tacotron(TacotronConfig.tiny())
    logged: dict[str, float] = {}
    a = tsyn.SynthesizerModule(model, data[:6], 2, 1e-3, val=data[6:])
    b = tsyn.SynthesizerModule(model, data[:2], 2, 1e-3, val=data[6:])
    c = tsyn.SynthesizerModule(model, data[:6], 2, 1e-3, val=data[4:6])
    values = []
    for m in (a, b, c):
        m.log = lambda k, v, **kw: logged.__setitem__(k, float(v))
        m.log_dict = lambda d, **kw: logged.update(d)
        m.eval()
        m.validation_step(0, 0)
        values.append(logged["val/loss"])
    assert values[0] == values[1] != values[2]


def test_split_holds_out_a_tenth_at_most_spread_over_speakers() -> None:
    data = _utterances(40, speakers=4)
    cfg = tsyn.build_config("unused", "unused", overrides={**TINY, "val_utterances": 32})
    train, val = tsyn.split_corpus(cfg, data, say=False)
    assert len(val) == 4 and len(train) == 36  # a tenth
    assert sorted(u.speaker_id for u in val) == ["s0", "s1", "s2", "s3"]
    assert not {u.utt_id for u in val} & {u.utt_id for u in train}
    assert tsyn.split_corpus(cfg, data, say=False)[1] == val  # seeded
    other = tsyn.build_config("unused", "unused", overrides={**TINY, "seed": 1})
    assert [u.utt_id for u in tsyn.split_corpus(other, data, say=False)[1]] != [
        u.utt_id for u in val]
    train, val = tsyn.split_corpus(cfg, data[:9], say=False)
    assert (len(train), val) == (9, [])  # too few to hold any out
    none = tsyn.build_config("unused", "unused", overrides={**TINY, "val_utterances": 0})
    assert tsyn.split_corpus(none, data, say=False)[1] == []


def test_utterances_over_max_seconds_are_left_out_with_one_warning() -> None:
    """No cap: LibriSpeech's 35-s clips padded whole batches (RTVC drops mels over 900
    frames)."""
    # hop 40 at 16 kHz: 400 frames per second; 1 s cap
    data = _utterances(12, frames=lambda i: 300 if i % 4 else 1000)
    cfg = tsyn.build_config("unused", "unused", overrides={**TINY, "max_seconds": 1.0,
                                                           "val_utterances": 0})
    with pytest.warns(EmovcWarning) as caught:
        train, _ = tsyn.split_corpus(cfg, data, say=False)
    assert len(caught) == 1 and len(train) == 9
    assert ("3 of 12 utterance(s) of the synthesizer corpus are longer than max_seconds (1 s "
            "of speech after trimming; the longest 2.5 s) and are left out"
            ) in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmovcWarning)
        uncapped = tsyn.build_config("unused", "unused", overrides={**TINY, "max_seconds": 0,
                                                                    "val_utterances": 0})
        assert len(tsyn.split_corpus(uncapped, data, say=False)[0]) == 12
    with pytest.raises(EmovcError, match="every utterance of the synthesizer corpus is longer "
                                         r"than max_seconds \(1 s"):
        tsyn.split_corpus(cfg, data[::4], say=False)


def test_the_default_schedule_decays_after_a_warm_start() -> None:
    """The learning rate was a constant 1e-3 for all 200 k steps."""
    s = tsyn.schedule(tsyn.build_config("unused", "unused"))
    assert s.at(0) == s.at(40_000) == 1e-3
    assert s.at(80_000) == pytest.approx(4e-4) and s.at(120_000) == pytest.approx(1.6e-4)
    assert s.at(200_000) == pytest.approx(2.56e-5) and s.at(400_000) == pytest.approx(1e-5)
    flat = tsyn.schedule(tsyn.build_config("unused", "unused", overrides={"lr_decay_rate": 1}))
    assert flat.at(10**6) == 1e-3


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_training_follows_the_schedule_and_records_it(tmp_path) -> None:
    cfg = tsyn.build_config("unused", str(tmp_path / "run"), 3, overrides={
        **TINY, "lr": 1e-3, "lr_decay_start": 1, "lr_decay_steps": 1, "lr_decay_rate": 0.5,
        "lr_min": 2e-4})
    tsyn.train(cfg, data=_utterances(4))
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    # after 3 steps the next one's rate: 1e-3 · 0.5^(3-1) = 2.5e-4; lr_min is not reached yet
    assert ckpt["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(2.5e-4)
    lrs = [e.value for e in _events(tmp_path / "run").Scalars("train/lr")]
    assert lrs == pytest.approx([1e-3, 1e-3, 5e-4][: len(lrs)]) and lrs


@pytest.mark.parametrize(("overrides", "message"), [
    ({"lr_decay_rate": 0.0}, "setting lr_decay_rate must be above 0, got 0.0"),
    ({"lr_decay_rate": 1.5}, "setting lr_decay_rate must be between 0 and 1, got 1.5"),
    ({"lr_min": 0.0}, "setting lr_min must be above 0, got 0.0"),
    ({"lr_min": 1e-2}, "setting lr_min (0.01) must be at most lr (0.001)"),
    ({"lr_decay_steps": 0}, "setting lr_decay_steps must be at least 1, got 0"),
    ({"max_seconds": 0.5}, "setting max_seconds must be 0 (no cap) or at least 1, got 0.5"),
    ({"max_seconds": -1}, "setting max_seconds must be at least 0, got -1"),
    ({"val_utterances": -1}, "setting val_utterances must be at least 0, got -1"),
    ({"val_vocoder": "missing.pt"}, "setting val_vocoder: checkpoint not found: missing.pt"),
])
def test_schedule_and_validation_setting_mistakes_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError) as err:
        tsyn.build_config("unused", "unused", overrides=overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_val_vocoder_of_other_mel_settings_is_refused(tmp_path) -> None:
    voc = _vocoder_checkpoint(tmp_path / "voc.pt", {**MEL, "hop_length": 80})
    with pytest.raises(ConfigError) as err:
        tsyn.build_config("unused", "unused", overrides={**TINY, "val_vocoder": str(voc)})
    assert "val_vocoder: vocoder " in str(err.value)
    assert "was trained with mel hop_length = 80, this synthesizer's are 40" in str(err.value)
    syn = save_checkpoint(tmp_path / "syn.pt", kind=tsyn.KIND, config={}, state_dict={},
                          extra={"mel": MEL})
    with pytest.raises(ConfigError, match="is a 'synthesizer/tacotron' model, expected "
                                               "'vocoder/wavernn'; give the model.pt of emovc "
                                               "train-voice vocoder"):
        tsyn.build_config("unused", "unused", overrides={**TINY, "val_vocoder": str(syn)})


def test_griffin_lim_renders_the_mel_it_is_given() -> None:
    from emovc.data.synthetic import SyntheticVoice, synthesize
    from emovc.training.sv2tts_diagnostics import griffin_lim_mel

    wav = synthesize(SyntheticVoice(), duration=1.0, seed=2)
    mel = tdata.log_mel(wav, tsyn.MEL)
    out = griffin_lim_mel(mel, tsyn.MEL)
    again = tdata.log_mel(out, tsyn.MEL)
    n = min(len(mel), len(again))
    assert abs(len(out) - len(wav)) <= tsyn.MEL["hop_length"] and np.abs(out).max() <= 0.9 + 1e-6
    loud = mel[:n] > mel.max() - 6  # the bands within 6 nepers of the peak
    r = np.corrcoef(mel[:n][loud], again[:n][loud] + 0.0)[0, 1]
    assert r > 0.9, r


def test_max_utterances_is_a_seeded_sample_spread_over_speakers() -> None:
    """It took the first N in catalog order: 20 of vctk4 were p225 and p226 alone."""
    from emovc.data.manifest import Utterance

    utts = [Utterance(f"/c/{s}/{i}.wav", "vctk", s, text="x") for s in ("a", "b", "c", "d")
            for i in range(10)]
    picked = sample_utterances(utts, 6, seed=0)
    per = {s: sum(u.speaker == s for u in picked) for s in "abcd"}
    assert sorted(per.values()) == [1, 1, 2, 2]
    assert picked == sorted(picked, key=utts.index)  # catalog order kept
    assert sample_utterances(utts, 6, seed=0) == picked
    assert sample_utterances(utts, 6, seed=1) != picked
    assert sample_utterances(utts, None, 0) == utts == sample_utterances(utts, 40, 0)
    # a speaker with fewer gives all of them, the others make up the rest
    few = [u for u in utts if u.speaker != "a" or u.path.endswith("/0.wav")]
    picked = sample_utterances(few, 13, seed=3)
    assert sum(u.speaker == "a" for u in picked) == 1 and len(picked) == 13
    assert spread(["x"] * 3, 5, np.random.default_rng(0)) == [0, 1, 2]
    train, val = hold_out(list(range(30)), ["a"] * 30, 5, 0)
    assert len(val) == 3 and sorted(train + val) == list(range(30))
    # the clip shown at each validation: of the length nearest the median (the first on a tie)
    assert typical([1, 9, 5, 30, 6]) == 4 and typical([3, 1, 1, 3]) == 0 and typical([7]) == 0


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_vocoder_validates_on_held_out_clips_and_renders_one(tmp_path, capfd) -> None:
    """Its val/ was a fixed batch of training windows, and it wrote no audio."""
    rng = np.random.default_rng(1)
    pairs = [(rng.normal(-4.0, 1.0, (10 + i, 20)).astype(np.float32),
              rng.uniform(-0.5, 0.5, 40 * (10 + i)).astype(np.float32)) for i in range(12)]
    cfg = tvoc.build_config("unused", str(tmp_path / "run"), 2, overrides={
        "model": WaveRNNConfig.tiny(n_mels=20, hop_length=40).to_dict(), "mel": MEL,
        "batch_size": 2, "seq_frames": 4, "threads": 1, "val_utterances": 5})
    drawn: list[list[int]] = []
    real = tvoc.SegmentSampler.sample

    def spy(self, rng):
        drawn.append(list(self.keep))
        return real(self, rng)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tvoc.SegmentSampler, "sample", spy)
        tvoc.train(cfg, data=pairs)
    assert "vocoder: training on 11 clip(s), validating on 1 held-out one(s)" in \
        capfd.readouterr().err
    train_keep, val_keep = drawn[0], drawn[-1]
    assert len(val_keep) == 1 and val_keep[0] not in train_keep and len(train_keep) == 11
    acc = _events(tmp_path / "run")
    assert "val/nll" in acc.Tags()["scalars"]
    assert set(acc.Tags()["audio"]) == {"val/vocoder", "val/target"}
    i = val_keep[0]
    files = sorted(p.name for p in (tmp_path / "run" / "audio").iterdir())
    assert files == [f"step000002_val{i}_vocoder.wav", f"target_val{i}.wav"]
    from emovc.audio import load_audio_with_rate

    wav, sr = load_audio_with_rate(tmp_path / "run" / "audio" / f"step000002_val{i}_vocoder.wav")
    assert sr == 16000 and len(wav) == 40 * (10 + i)  # the whole clip: under 2 s


def test_vocoder_config_has_the_validation_settings() -> None:
    cfg = tvoc.build_config("unused", "unused")
    assert (cfg.val_utterances, cfg.val_every) == (32, 1000)
    with pytest.raises(ConfigError, match="val_every must be at least 1, got 0"):
        tvoc.build_config("unused", "unused", overrides={"val_every": 0})


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_fresh_start_removes_the_validation_targets(tmp_path) -> None:
    """The targets are written once per run: a run started afresh (--force), perhaps with
    other mel settings, must render its own."""
    cfg = tsyn.build_config("unused", str(tmp_path / "run"), 1, overrides=TINY)
    tsyn.train(cfg, data=_utterances(4))
    audio = tmp_path / "run" / "audio"
    (target,) = audio.glob("target_*.wav")
    target.write_bytes(b"stale")
    tsyn.train(cfg, data=_utterances(4), resume=False)
    assert target.read_bytes() != b"stale"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seconds", [0.05, 0.0])
def test_a_vocoder_run_too_small_to_hold_out_renders_a_training_clip(tmp_path, seconds):
    rng = np.random.default_rng(1)
    pairs = [(rng.normal(-4.0, 1.0, (40, 20)).astype(np.float32),  # 0.1 s each
              rng.uniform(-0.5, 0.5, 1600).astype(np.float32)) for _ in range(3)]
    cfg = tvoc.build_config("unused", str(tmp_path / "run"), 1, overrides={
        "model": WaveRNNConfig.tiny(n_mels=20, hop_length=40).to_dict(), "mel": MEL,
        "batch_size": 2, "seq_frames": 4, "threads": 1, "val_seconds": seconds})
    tvoc.train(cfg, data=pairs)
    audio = tmp_path / "run" / "audio"
    if not seconds:  # no sample: no folder
        assert not audio.exists()
        return
    from emovc.audio import load_audio_with_rate

    assert sorted(p.name for p in audio.iterdir()) == ["step000001_train0_vocoder.wav",
                                                       "target_train0.wav"]
    wav, _ = load_audio_with_rate(audio / "step000001_train0_vocoder.wav")
    assert len(wav) == 800  # 0.05 s at 16 kHz


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_resume_may_change_the_validation_vocoder(tmp_path) -> None:
    cfg = tsyn.build_config("unused", str(tmp_path / "run"), 1, overrides=TINY)
    tsyn.train(cfg, data=_utterances(4))
    voc = _vocoder_checkpoint(tmp_path / "voc.pt")
    more = tsyn.build_config("unused", str(tmp_path / "run"), 2, overrides={
        **TINY, "val_vocoder": str(voc), "val_seconds": 0.05})
    tsyn.train(more, data=_utterances(4))
    assert any(p.name.endswith("_vocoder.wav") for p in (tmp_path / "run" / "audio").iterdir())


def _tb_audio(run: Path, tag: str) -> np.ndarray:
    """The last clip TensorBoard holds under ``tag``."""
    import io

    import soundfile as sf

    acc = _events(run)
    return sf.read(io.BytesIO(acc.Audio(tag)[-1].encoded_audio_string), dtype="float32")[0]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_resume_renders_the_targets_anew(tmp_path) -> None:
    """After a resume that changed val_vocoder (a FREE setting), audio/target_*_vocoder.wav
    kept the earlier vocoder's rendering while TensorBoard's val/target_vocoder and the step
    files beside it were the new one's; likewise a changed val_seconds left targets of the
    earlier length, in the synthesizer and the vocoder recipes."""
    from emovc.audio import load_audio_with_rate

    run = tmp_path / "run"
    for steps, seed, seconds in ((1, 0, 0.05), (2, 1, 0.1)):
        voc = _vocoder_checkpoint(tmp_path / f"voc{seed}.pt", seed=seed)
        tsyn.train(tsyn.build_config("unused", str(run), steps, overrides={
            **TINY, "val_vocoder": str(voc), "val_seconds": seconds}),
            data=_utterances(4, frames=lambda i: 60))
    (target,) = (run / "audio").glob("target_*_vocoder.wav")
    (latest,) = (run / "audio").glob("step000002_*_vocoder.wav")
    wav, _ = load_audio_with_rate(target)
    assert len(wav) == len(load_audio_with_rate(latest)[0]) == 1600  # 0.1 s at 16 kHz
    assert np.allclose(wav, _tb_audio(run, "val/target_vocoder"), atol=1e-3)

    rng = np.random.default_rng(1)
    pairs = [(rng.normal(-4.0, 1.0, (40, 20)).astype(np.float32),  # 0.1 s each
              rng.uniform(-0.5, 0.5, 1600).astype(np.float32)) for _ in range(3)]
    for steps, seconds in ((1, 0.05), (2, 0.1)):
        tvoc.train(tvoc.build_config("unused", str(tmp_path / "voc"), steps, overrides={
            "model": WaveRNNConfig.tiny(n_mels=20, hop_length=40).to_dict(), "mel": MEL,
            "batch_size": 2, "seq_frames": 4, "threads": 1, "val_seconds": seconds}),
            data=pairs)
    wav, _ = load_audio_with_rate(tmp_path / "voc" / "audio" / "target_train0.wav")
    assert len(wav) == 1600
