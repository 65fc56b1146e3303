"""SV2TTS training recipes: validation logging, exact resume, per-rank batches, config checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emovc.models.synthesizer.tacotron import Tacotron, TacotronConfig
from emovc.models.synthesizer.text import EOS, SYMBOLS
from emovc.models.vocoder import WaveRNN, WaveRNNConfig
from emovc.training import synthesizer as tsyn
from emovc.training import vocoder as tvoc

MEL = {"sr": 16000, "n_mels": 20, "n_fft": 160, "hop_length": 40}


def _utterances(n: int = 4) -> list[tsyn.Utterance]:
    """``n`` random utterances: 12 phoneme ids + EOS, a one-hot 16-d speaker, 9-14 mel frames."""
    rng = np.random.default_rng(0)
    return [tsyn.Utterance(list(rng.integers(2, len(SYMBOLS), 12)) + [SYMBOLS.index(EOS)],
                           np.eye(16, dtype=np.float32)[i % 16],
                           rng.normal(-4.0, 1.0, (9 + i, 20)).astype(np.float32))
            for i in range(n)]


def _pairs(n: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` random (mel (10+i, 20), waveform (40 · (10+i),)) pairs (hop 40)."""
    rng = np.random.default_rng(1)
    return [(rng.normal(-4.0, 1.0, (10 + i, 20)).astype(np.float32),
             rng.uniform(-0.5, 0.5, 40 * (10 + i)).astype(np.float32)) for i in range(n)]


def _logged(module) -> list[str]:
    """Names ``module`` logs (its ``log``/``log_dict`` replaced by recorders)."""
    names: list[str] = []
    module.log = lambda name, value, **kw: names.append(name)
    module.log_dict = lambda d, **kw: names.extend(d)
    return names


def test_validation_logs_under_val_only() -> None:
    """Validation used to call training_step, which logged train/* a second time (eval-mode
    values at the same step)."""
    data = _utterances(6)
    syn = tsyn.SynthesizerModule(Tacotron(TacotronConfig.tiny()), data[:4], 2, 1e-3,
                                 val=data[4:])
    names = _logged(syn)
    syn.validation_step(0, 0)
    assert names and all(n.startswith("val/") for n in names), names
    pairs = _pairs(4)
    voc = tvoc.VocoderModule(WaveRNN(WaveRNNConfig.tiny()),
                             tvoc.SegmentSampler(pairs, 40, 4, 2, only=[0, 1, 2]), 1e-3,
                             val=tvoc.SegmentSampler(pairs, 40, 4, 2, only=[3]))
    names = _logged(voc)
    voc.validation_step(0, 0)
    assert names and all(n.startswith("val/") for n in names), names


def _weights(path) -> dict:
    from emovc.models.checkpoint import load_checkpoint

    return load_checkpoint(path)["state_dict"]


def _assert_same_weights(a, b) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k, v in wa.items():
        assert torch.equal(v, wb[k]), k


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("recipe", ["synthesizer", "vocoder"])
def test_resume_continues_exactly(tmp_path, recipe, fit_sessions) -> None:
    """3 steps + resume to 5 == 5 straight steps (the batch generator restarted from the seed
    at every start, and validation drew from it: weights differed by up to 0.016)."""
    if recipe == "synthesizer":
        module, data = tsyn, _utterances()
        # the learning rate decays from step 1: the resume restores the schedule's place
        tiny = {"model": TacotronConfig.tiny(dropout=0.5).to_dict(), "mel": MEL,
                "batch_size": 2, "threads": 1, "lr_decay_start": 1, "lr_decay_steps": 1}
    else:
        module, data = tvoc, _pairs()
        tiny = {"model": WaveRNNConfig.tiny().to_dict(), "mel": MEL, "batch_size": 2,
                "seq_frames": 4, "threads": 1}

    def run(folder: str, steps: int):
        cfg = module.build_config("unused", str(tmp_path / folder), steps, overrides=tiny)
        return module.train(cfg, data=data)

    run("a", 3)
    _assert_same_weights(run("a", 5), run("b", 5))
    assert fit_sessions == [3, 2, 5]  # the resume trained steps 4 and 5 only


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_speaker_encoder_resume_continues_exactly(tmp_path, fit_sessions) -> None:
    from emovc.training import speaker_encoder as tge2e

    rng = np.random.default_rng(2)
    mels = {s: [rng.random((30 + 5 * i, 40), dtype=np.float32) for i in range(3)]
            for s in ("a", "b", "c")}
    tiny = {"model": {**tge2e.GE2EConfig().to_dict(), "hidden": 16, "layers": 1,
                      "embedding": 8, "partial_frames": 20},
            "speakers": 2, "utterances": 2, "threads": 1}

    def run(folder: str, steps: int):
        cfg = tge2e.build_config("unused", str(tmp_path / folder), steps, overrides=tiny)
        return tge2e.train(cfg, data=(mels, [], []))

    run("a", 3)
    _assert_same_weights(run("a", 5), run("b", 5))
    assert fit_sessions == [3, 2, 5]  # the resume trained steps 4 and 5 only


def test_ranks_draw_different_batches() -> None:
    """With devices=N every process seeded the same generator and trained on the same batch;
    now each rank draws its own, and rank 0 draws what a one-device run does."""
    from emovc.training import speaker_encoder as tge2e

    syn = tsyn.SynthesizerModule(Tacotron(TacotronConfig.tiny()), _utterances(8), 2, 1e-3)

    def ids(rng) -> list[int]:
        return syn._batch(rng)["ids"].sum(1).tolist()

    assert ids(syn.rng(3, 0)) != ids(syn.rng(3, 1))
    assert ids(syn.rng(3)) == ids(syn.rng(3, 0)) == ids(syn.rng(3, 0))
    seg = tvoc.SegmentSampler(_pairs(), 40, 4, 2)
    assert not torch.equal(seg.sample(seg.rng(3, 0))[1], seg.sample(seg.rng(3, 1))[1])
    assert torch.equal(seg.sample(seg.rng(3))[1], seg.sample(seg.rng(3, 0))[1])
    rng = np.random.default_rng(2)
    mels = {s: [rng.random((30, 4), dtype=np.float32) for _ in range(3)] for s in "abcd"}
    part = tge2e.PartialSampler(mels, 2, 2, 20)
    assert not torch.equal(part.sample(part.rng(3, 0)), part.sample(part.rng(3, 1)))


def test_partial_mel_override_merges_with_the_defaults() -> None:
    """mel={"sr": 22050} replaced the whole dict (KeyError: 'n_mels' once training began)."""
    from emovc.training import speaker_encoder as tge2e

    for mod in (tsyn, tvoc):
        cfg = mod.build_config("unused", "unused", overrides={"mel": {"sr": 22050},
                                                               "model": {"rnn_dim": 64}})
        assert cfg.mel == {**tsyn.MEL, "sr": 22050}
        assert cfg.model["rnn_dim"] == 64 and cfg.model["n_mels"] == 80
    cfg = tge2e.build_config("unused", "unused", overrides={"model": {"hidden": 16}})
    assert cfg.model == {**tge2e.GE2EConfig().to_dict(), "hidden": 16}


def _corpus_untouched(monkeypatch) -> None:
    """Make corpus loading fail loudly: a config error must come before it."""
    from emovc.training import speaker_encoder as tge2e

    def boom(cfg):
        raise AssertionError("the corpus was loaded before the config was checked")

    for mod in (tsyn, tvoc, tge2e):
        monkeypatch.setattr(mod, "load_corpus", boom)


@pytest.mark.parametrize(("module", "overrides", "message"), [
    ("syn", {"model": {"rnn_size": 64}}, "unknown synthesizer training setting model.rnn_size; "
                                         "valid keys: attention_dim, "),
    ("syn", {"mel": {"bands": 64}}, "unknown synthesizer training setting mel.bands; valid keys"),
    ("syn", {"model": {"n_mels": 20}}, "synthesizer training setting model.n_mels (20) must "
                                       "equal mel.n_mels (80)"),
    ("syn", {"batch_size": 0}, "synthesizer training setting batch_size must be at least 1, got 0"),
    ("syn", {"lr": -1.0}, "synthesizer training setting lr must be above 0, got -1.0"),
    ("syn", {"max_steps": 0}, "synthesizer training setting max_steps must be at least 1, got 0"),
    ("syn", {"mel": {"hop_length": 0}}, "setting mel.hop_length must be at least 1, got 0"),
    ("voc", {"seq_frames": 0}, "vocoder training setting seq_frames must be at least 1, got 0"),
    ("voc", {"batch_size": 0}, "vocoder training setting batch_size must be at least 1, got 0"),
    ("voc", {"lr": 0.0}, "vocoder training setting lr must be above 0, got 0.0"),
    ("voc", {"lr": float("nan")}, "lr must be above 0 and finite, got nan"),
    ("syn", {"mel": {"n_fft": 100}}, "mel.n_fft (100) must be at least mel.hop_length (200)"),
    ("voc", {"max_steps": 0}, "vocoder training setting max_steps must be at least 1, got 0"),
    ("voc", {"model": {"hop_length": 256}}, "vocoder training setting model.hop_length (256) "
                                            "must equal mel.hop_length (200)"),
    ("voc", {"mel": {"n_mels": 40}}, "vocoder training setting model.n_mels (80) must equal "
                                     "mel.n_mels (40)"),
    ("ge2e", {"speakers": 1}, "speaker-encoder training setting speakers must be at least 2"),
    ("ge2e", {"model": {"size": 3}}, "unknown speaker-encoder training setting model.size"),
    ("ge2e", {"lr": -1.0}, "speaker-encoder training setting lr must be above 0, got -1.0"),
])
def test_config_mistakes_are_one_line_errors(module, overrides, message) -> None:
    """They were raw KeyError/TypeError/RuntimeError tracebacks (some after the corpus was
    preprocessed), or accepted silently (lr -1, max_steps 0)."""
    from emovc.errors import ConfigError
    from emovc.training import speaker_encoder as tge2e

    mod = {"syn": tsyn, "voc": tvoc, "ge2e": tge2e}[module]
    with pytest.raises(ConfigError) as err:
        mod.build_config("unused", "unused", overrides=overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("module", "changes", "message"), [
    ("syn", {"mel": {"sr": 22050}}, "synthesizer training setting mel lacks n_mels, n_fft, "
                                    "hop_length; give all of sr, n_mels"),
    ("syn", {"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ("syn", {"model": TacotronConfig.tiny().to_dict(), "mel": MEL},
     "synthesizer training setting model.speaker_dim must be 256 (the embedding size of the "
     "bundled speaker encoder), got 16"),
    ("voc", {"mel": {"sr": 22050}}, "vocoder training setting mel lacks n_mels"),
    ("voc", {"seq_frames": 0}, "vocoder training setting seq_frames must be at least 1, got 0"),
    ("ge2e", {"max_steps": 0}, "speaker-encoder training setting max_steps must be at least 1"),
])
def test_train_checks_the_config_before_the_corpus(module, changes, message, monkeypatch,
                                                   tmp_path) -> None:
    """A config built by hand (no build_config) is checked when train starts, before the
    corpus is read and before the run folder is touched."""
    from dataclasses import replace

    from emovc.errors import ConfigError
    from emovc.training import speaker_encoder as tge2e

    _corpus_untouched(monkeypatch)
    mod = {"syn": tsyn, "voc": tvoc, "ge2e": tge2e}[module]
    cls = {"syn": tsyn.SynthesizerTrainConfig, "voc": tvoc.VocoderTrainConfig,
           "ge2e": tge2e.GE2ETrainConfig}[module]
    cfg = replace(cls(data_dir="unused", run_dir=str(tmp_path / "run")), **changes)
    with pytest.raises(ConfigError) as err:
        mod.train(cfg)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


def _trainer(module: str, tmp_path):
    """``run(folder, steps, overrides, data)`` of a tiny synthesizer/vocoder/speaker encoder,
    and its training data (speaker_dim 256: a corpus run may be checked without data)."""
    from emovc.training import speaker_encoder as tge2e

    if module == "syn":
        mod, data = tsyn, [tsyn.Utterance(u.ids, np.resize(u.speaker, 256), u.mel)
                           for u in _utterances()]
        tiny = {"model": TacotronConfig.tiny(speaker_dim=256).to_dict(), "mel": MEL,
                "batch_size": 2, "threads": 1}
    elif module == "voc":
        mod, data = tvoc, _pairs()
        tiny = {"model": WaveRNNConfig.tiny().to_dict(), "mel": MEL, "batch_size": 2,
                "seq_frames": 4, "threads": 1}
    else:
        rng = np.random.default_rng(2)
        mod = tge2e
        data = ({s: [rng.random((30, 40), dtype=np.float32) for _ in range(3)] for s in "abc"},
                [], [])
        tiny = {"model": {"hidden": 16, "layers": 1, "embedding": 8, "partial_frames": 20},
                "speakers": 2, "utterances": 2, "threads": 1}

    def run(folder: str, steps: int, overrides: dict | None = None, data=data):
        cfg = mod.build_config("unused", str(tmp_path / folder), steps,
                               overrides={**tiny, **(overrides or {})})
        return mod.train(cfg, data=data)

    return run


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("module", ["syn", "voc", "ge2e"])
def test_run_folder_is_checked_before_the_corpus(module, tmp_path, monkeypatch) -> None:
    """The run folder was claimed only after the whole corpus was preprocessed (27.9 s for 6
    clips, hours at corpus scale), and the messages named CLI options these Python-only
    trainers do not have (--max-steps, -o, --force)."""
    from emovc.errors import ConfigError

    run = _trainer(module, tmp_path)
    run("r", 3)
    _corpus_untouched(monkeypatch)
    with pytest.raises(ConfigError) as err:
        run("r", 2, data=None)
    msg = str(err.value)
    assert "--" not in msg
    assert "has already trained 3 steps, more than max_steps 2; set max_steps to 3 or more" \
        in msg and "resume=False" in msg
    change = {"syn": {"batch_size": 3}, "voc": {"seq_frames": 3}, "ge2e": {"utterances": 3}}
    with pytest.raises(ConfigError) as err:
        run("r", 3, change[module], data=None)
    msg = str(err.value)
    assert "holds another run (different settings: " in msg
    assert "choose another run_dir, or pass resume=False to train()" in msg
    for cli_only in ("--force", "--max-steps", " -o"):
        assert cli_only not in msg


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("module", ["syn", "voc", "ge2e"])
def test_timed_saves_can_be_turned_off_and_changed_on_resume(module, tmp_path,
                                                            monkeypatch) -> None:
    """The SV2TTS trainers wrote last.ckpt every 5 minutes with no way to change it
    (``ckpt_minutes`` was refused as unknown); a resume may change it, as ckpt_every."""
    from emovc.errors import ConfigError
    from emovc.training import common

    seen, real = [], common.fit

    def spy(*args, **kwargs):
        seen.append(kwargs["ckpt_minutes"])
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "fit", spy)
    run = _trainer(module, tmp_path)
    run("r", 2, {"ckpt_minutes": 0})
    run("r", 3, {"ckpt_minutes": 2.5})
    assert seen == [0, 2.5]
    with pytest.raises(ConfigError, match="ckpt_minutes must be at least 0"):
        run("r", 3, {"ckpt_minutes": -1})


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_finished_synthesizer_exported_again_keeps_its_file_and_its_gta_vocoder(
        tmp_path, monkeypatch) -> None:
    """A finished synthesizer run re-run from another folder (its paths spelled otherwise,
    another threads setting: an export again, no training) rewrote model.pt with those
    settings in it: a new SHA-256, and the vocoder training on its GTA mels refused to resume
    ("that file has changed since"), with the same weights."""
    from emovc.fileio import file_sha256
    from emovc.training.run_dir import checkpoint_step

    data = [tsyn.Utterance(u.ids, np.resize(u.speaker, 256), u.mel) for u in _utterances()]
    syn_tiny = {"model": TacotronConfig.tiny(speaker_dim=256).to_dict(), "mel": MEL,
                "batch_size": 2}
    voc_tiny = {"model": WaveRNNConfig.tiny().to_dict(), "mel": MEL, "batch_size": 2,
                "seq_frames": 4, "threads": 1, "ckpt_every": 1}
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    corpus = str(tmp_path / "corpus")
    taco = tsyn.train(tsyn.build_config(corpus, "taco", 2,
                                        overrides={**syn_tiny, "threads": 1}), data=data)
    taco = tmp_path / taco  # the path as run_dir names it, from tmp_path
    sha = file_sha256(taco)
    voc = tvoc.build_config(corpus, "voc", 1, overrides={**voc_tiny, "gta": "taco/model.pt"})
    tvoc.train(voc, data=_pairs())

    monkeypatch.chdir(tmp_path / "elsewhere")
    again = tsyn.build_config(corpus, str(tmp_path / "taco"), 2,
                              overrides={**syn_tiny, "threads": 2})
    assert tsyn.train(again, data=data) == taco
    assert file_sha256(taco) == sha
    monkeypatch.chdir(tmp_path)
    voc = tvoc.build_config(corpus, "voc", 2, overrides={**voc_tiny, "gta": "taco/model.pt"})
    tvoc.train(voc, data=_pairs())  # resumed: refused before
    assert checkpoint_step(tmp_path / "voc" / "checkpoints" / "last.ckpt") == 2
