"""SpectroGAN: network shapes, windowed inference, training/resume, checkpoints, Griffin-Lim."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, ConfigError
from emovc.features.spectral import griffin_lim, spectral_convergence
from emovc.features.stats import compute_stats
from emovc.models.checkpoint import load_checkpoint
from emovc.models.spectrogan import (
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    PatchDiscriminator,
    SpecConfig,
    analyze,
)
from emovc.pipelines.spectrogan import InferenceConfig, SpectroGANConverter
from emovc.training.spectrogan import build_config, train

TINY = (4, 8, 8)


def _patch_len(n: int, n_layers: int = 3) -> int:
    for _ in range(n_layers):  # 4x4 stride-2 convs, padding 1
        n = (n + 2 - 4) // 2 + 1
    for _ in range(2):  # two 4x4 stride-1 convs, padding 1
        n = n + 2 - 4 + 1
    return n


@pytest.mark.parametrize("blocks", [3, 6, 9])
@pytest.mark.parametrize("rows", [260, 520])
def test_generator_and_discriminator_shapes(blocks: int, rows: int) -> None:
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(TINY, blocks))
    d = PatchDiscriminator(DiscriminatorConfig(4, 3))
    x = torch.rand(2, 1, rows, 37) * 2 - 1  # odd length: padded inside and cropped back
    y = g(x)
    assert y.shape == x.shape
    assert float(y.detach().abs().max()) <= 1.0
    assert len(g.transformer) == blocks
    assert d(x).shape == (2, 1, _patch_len(rows), _patch_len(37))


def test_untrained_residual_generator_is_identity() -> None:
    g = Generator(GeneratorConfig(TINY, 3, residual=True, freq_coord=True))
    x = torch.rand(1, 1, 64, 40) * 2 - 1
    assert torch.equal(g(x), x)
    plain = Generator(GeneratorConfig(TINY, 3))
    assert not torch.allclose(plain(x), x, atol=0.05)


def _converter(residual: bool = True, window: int = 32, overlap: int = 8) -> SpectroGANConverter:
    spec = SpecConfig(n_fft=512, hop_length=128, freq_size=256)
    torch.manual_seed(0)
    gens = [Generator(GeneratorConfig(TINY, 1, residual=residual)) for _ in range(2)]
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.0, seed=3)
    stats = compute_stats([analyze(wav, spec)[0].T])
    return SpectroGANConverter(("calm", "angry"), gens[0], gens[1], spec, stats,
                               InferenceConfig(window_frames=window, overlap_frames=overlap,
                                               gl_iters=4))


@pytest.mark.parametrize("n,sr", [(16000, 16000), (12345, 16000), (20011, 22050)])
def test_any_length_windowed_inference_keeps_length(n: int, sr: int) -> None:
    conv = _converter(residual=False)
    wav = synthesize(EMOTION_VOICES["calm"], duration=n / sr, sr=sr, seed=4)[:n]
    out = conv.convert(wav, sr, "angry")
    assert out.shape == (n,) and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.max(np.abs(out)) <= 0.99 + 1e-6


def test_windowing_matches_single_window_for_identity_and_rejects_bad_target() -> None:
    conv = _converter(residual=True, window=24, overlap=8)
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.5, seed=5)
    log_mag = analyze(wav, conv.spec)[0]
    out = conv.convert_log_mag(log_mag, "angry", intensity=1.0)
    np.testing.assert_allclose(out, log_mag, atol=1e-5)  # identity generator, many windows
    with pytest.raises(ConfigError):
        conv.convert(wav, 16000, "sad")
    with pytest.raises(ConfigError):
        conv.convert(wav, 16000, "angry", source="happy")


def test_gl_source_phase_beats_random_phase() -> None:
    spec = SpecConfig(n_fft=512, hop_length=128)
    wav = synthesize(EMOTION_VOICES["angry"], duration=1.0, seed=6)
    log_mag, phase = analyze(wav, spec)
    mag = np.exp(log_mag)
    sc = {}
    for name, init in (("source", phase), ("random", None)):
        y = griffin_lim(mag, spec.stft, n_iter=8, momentum=0.99, init_phase=init, length=len(wav))
        sc[name] = spectral_convergence(mag, y, spec.stft)
    assert sc["source"] < 0.5 * sc["random"]


def _fake_ravdess(root: Path) -> Path:
    """Two actors (01 train, 17 validation) × calm/angry × 2 takes of synthetic speech."""
    for actor in (1, 17):
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        for code, emo in ((2, "calm"), (5, "angry")):
            for rep in (1, 2):
                wav = synthesize(EMOTION_VOICES[emo], duration=0.8, seed=actor * 10 + rep + code)
                sf.write(folder / f"03-01-{code:02d}-01-01-{rep:02d}-{actor:02d}.flac", wav, 16000)
    return root


def _tiny_cfg(data: Path, run: Path, max_steps: int):
    return build_config(str(data), str(run), "calm", "angry", "compact", max_steps=max_steps,
                        overrides={"generator": {"channels": [4, 8, 8], "n_res_blocks": 1},
                                   "discriminator": {"base_channels": 4}, "crop_frames": 32,
                                   "batch_size": 2, "ckpt_every": 2, "val_every": 2,
                                   "decay_from": 1.0, "n_val_clips": 1,
                                   "inference": {"gl_iters": 2}})


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sg")
    data = _fake_ravdess(root / "data")
    model = train(_tiny_cfg(data, root / "run", 4))
    return data, model


def test_training_writes_checkpoints_and_validation_audio(trained) -> None:
    _, model = trained
    run = model.parent
    assert model.is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "config.yaml").is_file()
    assert list((run / "val_audio" / "step_000004").glob("*.wav"))
    ckpt = load_checkpoint(model, "emotion-converter/spectrogan")
    assert ckpt["extra"]["iterations"] == 4
    assert not any(k.startswith("d_") for k in ckpt["state_dict"])


def test_save_load_round_trip_is_identical(trained) -> None:
    _, model = trained
    ckpt = load_checkpoint(model, "emotion-converter/spectrogan")
    a = SpectroGANConverter.from_checkpoint(ckpt)
    b = SpectroGANConverter.from_pretrained(str(model))
    for key, gen in a.generators.items():
        other = b.generators[key].state_dict()
        assert all(torch.equal(v, other[k]) for k, v in gen.state_dict().items())
    assert a.source_emotions == ["calm", "angry"]
    wav = synthesize(EMOTION_VOICES["calm"], duration=0.7, seed=9)
    np.testing.assert_array_equal(a.convert(wav, 16000, "angry"), b.convert(wav, 16000, "angry"))
    with pytest.raises(ConfigError, match="pitch level applies to models that convert F0"):
        a.convert(wav, 16000, "angry", pitch_level=0.5)  # no prosody stage: F0 is not its own
    from emovc.pipelines.conversion import EmotionConverter

    with pytest.raises(ConfigError, match="envelope gain applies to the WORLD-feature models"):
        EmotionConverter(a).convert(wav, 16000, "angry", envelope_gain=1.5)
    with pytest.raises(ConfigError, match="renderer applies to the WORLD-feature models"):
        EmotionConverter(a, renderer="source").convert(wav, 16000, "angry")
    with pytest.raises(ConfigError, match="voice quality applies to the WORLD-feature"):
        EmotionConverter(a).convert(wav, 16000, "angry", voice_quality=1.0)
    with pytest.raises(ConfigError, match="envelope smoothing applies to the WORLD-feature"):
        EmotionConverter(a, envelope_smoothing_ms=50).convert(wav, 16000, "angry")
    assert EmotionConverter(a).renderers == ()  # no choice offered (e.g. by the app)
    # training moved the generators away from the identity
    log_mag = analyze(wav, a.spec)[0]
    assert np.abs(a.convert_log_mag(log_mag, "angry") - log_mag).max() > 1e-4


def test_resume_is_exact(trained, tmp_path: Path, capsys, caplog, fit_sessions) -> None:
    data, model = trained
    run = tmp_path / "resumed"
    train(_tiny_cfg(data, run, 2))
    resumed = train(_tiny_cfg(data, run, 4), resume=True)
    out = capsys.readouterr().out  # progress counts iterations, not optimiser steps
    assert "step 2/2 (100%)" in out and "step 4/4 (100%)" in out, out
    assert "weights_only" not in caplog.text  # no stray Lightning note per checkpoint
    full = load_checkpoint(model)["state_dict"]
    part = load_checkpoint(resumed)["state_dict"]
    assert load_checkpoint(resumed)["extra"]["iterations"] == 4
    assert fit_sessions == [2, 2]  # the resume trained iterations 3 and 4 only
    assert all(torch.equal(v, part[k]) for k, v in full.items())


def test_a_stopped_run_resumes_exactly_from_its_timed_checkpoint(trained, tmp_path: Path,
                                                                  monkeypatch, capsys,
                                                                  fit_sessions) -> None:
    """last.ckpt is also written every ckpt_minutes between the ckpt_every saves; a run
    stopped at iteration 3 resumes from the timed save of iteration 2 and ends as the
    uninterrupted run (saved only every ckpt_every iterations) does."""
    import signal

    from emovc.training.spectrogan import SpectroGANModule

    data, model = trained
    run = tmp_path / "run"
    cfg = _tiny_cfg(data, run, 4)
    cfg.ckpt_every, cfg.ckpt_minutes = 100, 1e-9  # a timed save after every iteration
    real = SpectroGANModule._batch

    def stop_at_3(self, it):
        if it == 3:
            raise KeyboardInterrupt
        return real(self, it)

    monkeypatch.setattr(SpectroGANModule, "_batch", stop_at_3)
    handler = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):
            train(cfg)
    finally:
        signal.signal(signal.SIGINT, handler)  # Lightning ignores Ctrl-C once it had one
    # SpectroGAN's note said "from its last checkpoint", with or without one, and no step
    assert f"training interrupted: the same command resumes {run} from step 3" in \
        capsys.readouterr().err
    last = run / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 6  # 2 optimiser steps each
    monkeypatch.undo()
    resumed = load_checkpoint(train(cfg))["state_dict"]
    assert all(torch.equal(v, resumed[k]) for k, v in load_checkpoint(model)["state_dict"].items())
    assert fit_sessions == [3, 1]  # stopped at iteration 4; the resume trains it only


def test_resume_refuses_a_corpus_with_a_clip_edited(trained, tmp_path: Path) -> None:
    """The pooled statistics are refitted at every start: a resumed run on an edited clip
    used to pair them with generators trained under the old ones, without a word."""
    data = Path(shutil.copytree(trained[0], tmp_path / "data"))
    run = tmp_path / "run"
    train(_tiny_cfg(data, run, 1))
    clip = data / "Actor_01" / "03-01-05-01-01-02-01.flac"
    wav, sr = sf.read(clip, dtype="float32")
    sf.write(clip, 0.5 * wav, sr)
    with pytest.raises(ConfigError, match=r"other clips than .*\(1 changed: "
                                          r"Actor_01/03-01-05-01-01-02-01.flac\).*--force"):
        train(_tiny_cfg(data, run, 2), cli=True)  # as emovc train calls it
    with pytest.raises(ConfigError, match=r"other clips .*choose another run_dir, or pass "
                                          r"resume=False to train\(\)") as err:
        train(_tiny_cfg(data, run, 2))  # Python: no --force to name
    assert "--force" not in str(err.value)
    assert load_checkpoint(run / "model.pt")["extra"]["iterations"] == 1


def test_bad_preset_and_override_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="preset"):
        build_config(str(tmp_path), str(tmp_path), "calm", "angry", "huge")
    with pytest.raises(ConfigError, match="unknown SpectroGAN setting"):
        build_config(str(tmp_path), str(tmp_path), "calm", "angry", overrides={"lamda": 1})
    with pytest.raises(ConfigError, match="lambda_cycle must be a number, got 'abc'"):
        build_config(str(tmp_path), str(tmp_path), "calm", "angry",
                     overrides={"lambda_cycle": "abc"})
    with pytest.raises(ConfigError, match="batch_size must be an integer, got 1.5"):
        build_config(str(tmp_path), str(tmp_path), "calm", "angry", overrides={"batch_size": 1.5})
    cfg = build_config(str(tmp_path), str(tmp_path), "calm", "angry",
                       overrides={"lambda_cycle": 3, "generator": {"n_res_blocks": 3}})
    assert cfg.lambda_cycle == 3.0 and cfg.generator["n_res_blocks"] == 3
    with pytest.raises(ConfigError):
        build_config(str(tmp_path), str(tmp_path), "calm", "calm")


def test_faithful_preset_matches_the_published_system(tmp_path: Path) -> None:
    cfg = build_config(str(tmp_path), str(tmp_path / "run"), "calm", "angry", "full")
    assert (cfg.spec["n_fft"], cfg.spec["hop_length"], cfg.spec["freq_size"]) == (512, 256, 260)
    assert cfg.generator["channels"] == [64, 128, 256] and cfg.generator["n_res_blocks"] == 6
    assert not cfg.generator["residual"] and cfg.discriminator["norm"] == "instance"
    assert (cfg.lambda_cycle, cfg.lambda_identity, cfg.crop_frames) == (10.0, 5.0, 260)
    big = build_config(str(tmp_path), str(tmp_path / "run"), "calm", "angry", "faithful-520")
    assert (big.spec["n_fft"], big.spec["freq_size"]) == (1024, 520)


def test_paired_warm_start_then_gan(trained, tmp_path: Path) -> None:
    data, _ = trained
    cfg = _tiny_cfg(data, tmp_path / "paired", 4)
    cfg.paired_steps = 2
    ckpt = load_checkpoint(train(cfg))
    assert ckpt["extra"]["iterations"] == 4 and ckpt["extra"]["train"]["paired_steps"] == 2


def test_dtw_alignment_recovers_a_time_warp() -> None:
    from emovc.training.spectrogan_data import aligned_target

    rng = np.random.default_rng(0)
    src = rng.standard_normal((8, 30)).astype(np.float32)
    tgt = np.repeat(src, 2, axis=1)  # the same content, twice as slow
    np.testing.assert_allclose(aligned_target(src, tgt), src, atol=1e-6)


def test_ravdess_files_follow_symlinked_actor_folders(tmp_path):
    """A corpus view whose Actor_XX entries are links to folders (as the other methods'
    catalogs accept) is read, and non-audio files are ignored."""
    from emovc.training.spectrogan_data import ravdess_files

    real = tmp_path / "real" / "Actor_01"
    real.mkdir(parents=True)
    for name in ("03-01-02-01-01-01-01.wav", "03-01-05-01-01-01-01.wav", "03-01-02-notes.txt"):
        (real / name).write_bytes(b"")
    view = tmp_path / "view"
    view.mkdir()
    (view / "Actor_01").symlink_to(real, target_is_directory=True)
    assert [p.name for p in ravdess_files(view, "calm", [1])] == ["03-01-02-01-01-01-01.wav"]
    with pytest.raises(ConfigError, match="no RAVDESS 'sad' files for actors"):
        ravdess_files(view, "sad", [1])


def test_a_pairwise_run_knows_its_source_and_refuses_the_same_emotion(trained, tmp_path):
    """The pair fixes the source: the output's tag names it (not '?'), and asking for the
    source's own emotion is refused like on the command line."""
    from emovc.audio.io import read_comment
    from emovc.pipelines.conversion import EmotionConverter

    _, model = trained
    conv = EmotionConverter.from_pretrained(str(model))
    assert conv.fixed_source("angry") == "calm" and not conv.detects_source
    src = tmp_path / "calm.wav"
    sf.write(src, synthesize(EMOTION_VOICES["calm"], duration=0.7, seed=9), 16000)
    out, used = conv.convert_file(src, tmp_path / "o.wav", "angry")
    assert used == "calm" and "emotion calm->angry" in read_comment(out)
    wav = synthesize(EMOTION_VOICES["calm"], duration=0.7, seed=9)
    assert conv.convert_with_source(wav, 16000, "angry")[1] == "calm"
    with pytest.raises(ConfigError, match="source and target are both calm"):
        conv.convert(np.zeros(1), 16000, "Calm", source="calm")


@pytest.mark.parametrize(("setting", "said"), [
    ("generator={channels: 8}", "SpectroGAN setting generator.channels must be a list of 3 "
                                "integers such as [16, 32, 64], got 8"),
    ("generator={channels: [a, 1, 2]}", "generator.channels must be a list of 3 integers"),
    ("generator={n_res_blocks: x}", "generator.n_res_blocks must be an integer, got 'x'"),
    ("generator=3", "SpectroGAN setting generator must be a mapping"),
    ("train_actors=abc", "SpectroGAN setting train_actors must be a list of RAVDESS actor "
                         "numbers (integers from 1) such as train_actors=[1, 2], got 'abc'"),
    ("val_actors=[1, x]", "val_actors must be a list of RAVDESS actor numbers"),
])
def test_bad_nested_and_actor_settings_are_one_line_errors(setting, said, tmp_path: Path,
                                                           capsys) -> None:
    """They crashed with a traceback (exit 1) in GeneratorConfig or the actor filter."""
    from emovc.cli.main import main

    code = main(["train", str(tmp_path), "--method", "spectrogan", "--from", "neutral", "--to",
                 "angry", "-o", str(tmp_path / "run"), "--max-steps", "1", "--set", setting])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and said in err, err


def test_a_short_run_logs_every_iteration_to_tensorboard(trained) -> None:
    """log_every 20 left a 4-step run with the scalars of its first iteration only."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, model = trained
    tb = EventAccumulator(str(model.parent / "tb" / "version_0")).Reload()
    assert [e.step for e in tb.Scalars("loss/d")] == [0, 1, 2, 3]


@pytest.mark.parametrize("fails", [False, True])
def test_last_ckpt_is_written_atomically(tmp_path: Path, fails: bool) -> None:
    """last.ckpt goes through fileio.atomic_output: a save that fails half-way (a full disk)
    left a fixed-name ``.last.ckpt.tmp`` beside it, and leaves the old last.ckpt as it was."""
    from types import SimpleNamespace

    from emovc.training.common import SaveClock
    from emovc.training.spectrogan import RunCallback

    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    (ckpts / "last.ckpt").write_bytes(b"old")

    def save_checkpoint(path, weights_only=None):
        Path(path).write_bytes(b"new"[: 1 if fails else 3])
        if fails:
            raise OSError(28, "No space left on device")

    trainer = SimpleNamespace(is_global_zero=True, save_checkpoint=save_checkpoint)
    callback = SimpleNamespace(run=tmp_path, clock=SaveClock(0.0))
    if fails:
        with pytest.raises(OSError, match="No space"):
            RunCallback.save_state(callback, trainer)
    else:
        RunCallback.save_state(callback, trainer)
    assert [p.name for p in ckpts.iterdir()] == ["last.ckpt"]
    assert (ckpts / "last.ckpt").read_bytes() == (b"old" if fails else b"new")


def test_inconsistent_models_are_refused_when_built(tmp_path: Path) -> None:
    """A checkpoint of another kind, generators that do not match the emotion list and
    spectral offsets of another STFT size each give one line when the converter is built,
    not a shape error (or wrong audio) at the first conversion."""
    import re

    from emovc.models.conversion.normalizer import EmotionNormalizer
    from emovc.models.spectrogan.prosody import ProsodyShift
    from emovc.pretrained.registry import resolve

    good = _converter()
    g = good.generators[("calm", "angry")]
    stats = good.norm.stats
    with pytest.raises(ConfigError, match=r"^a pairwise SpectroGAN converts between exactly 2 "
                                          r"emotions$"):
        SpectroGANConverter(("calm", "angry", "sad"), g, g, good.spec, stats)
    m2m = Generator(GeneratorConfig(TINY, 1, residual=True, n_domains=3))
    with pytest.raises(ConfigError, match=r"^many-to-many generator has 3 conditions but 2 "
                                          r"emotions were given$"):
        SpectroGANConverter(("calm", "angry"), m2m, None, good.spec, stats)
    assert SpectroGANConverter(("calm", "angry", "sad"), m2m, None, good.spec, stats
                               ).many_to_many  # the matching list builds

    bundled = load_checkpoint(resolve("spectrogan-ravdess", "emotion-converter"))
    with pytest.raises(ConfigError, match=re.escape(
            "expected a 'emotion-converter/spectrogan' checkpoint, got "
            "'emotion-converter/stargan'")):
        SpectroGANConverter.from_checkpoint({**bundled, "kind": "emotion-converter/stargan"})
    prosody = ProsodyShift(EmotionNormalizer.from_dict(bundled["extra"]["prosody"]["normalizer"]))
    bins = prosody.spectrum_bins
    assert bins == SpecConfig.from_dict(bundled["config"]["spec"]).n_bins > 0
    emotions = tuple(bundled["config"]["emotions"])
    g8 = Generator(GeneratorConfig(TINY, 1, residual=True, n_domains=len(emotions)))
    spec = SpecConfig(n_fft=2 * (bins - 1) * 2, hop_length=128)  # twice the bundled FFT size
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.0, seed=3)
    stats = compute_stats([analyze(wav, spec)[0].T])  # statistics of that size
    with pytest.raises(ConfigError, match=re.escape(
            f"spectral offsets have {bins} bins, the STFT has {spec.n_bins}: model/feature "
            "mismatch")):
        SpectroGANConverter(emotions, g8, None, spec, stats, prosody=prosody)


def test_too_short_audio_is_one_line_naming_the_minimum() -> None:
    """257-511 samples at 16 kHz passed the old check (more than n_fft // 2 = 256) and crashed
    in the generator's reflect padding: 4 STFT frames are 1 column after its 4x downsampling."""
    conv = _converter()  # n_fft 512, hop 128: the generator needs 5 frames, 512 samples
    assert conv.min_model_samples == 512 and conv.min_samples(16000) == 512
    wav = synthesize(EMOTION_VOICES["calm"], duration=0.5, seed=7)
    for n in (257, 511, 256):
        with pytest.raises(AudioError, match=rf"^audio too short for SpectroGAN: {n} samples "
                                             r"at 16000 Hz \(need at least 512\)$"):
            conv.convert(wav[:n], 16000, "angry")
    out = conv.convert(wav[:512], 16000, "angry")
    assert out.shape == (512,) and np.isfinite(out).all()
    wav22 = synthesize(EMOTION_VOICES["calm"], 0.5, sr=22050, seed=7)
    assert conv.min_samples(22050) == 705  # 705 -> 512 samples at 16 kHz, 704 -> 511
    with pytest.raises(AudioError, match=r"^audio too short for SpectroGAN: 704 samples at "
                                         r"22050 Hz \(need at least 705\)$"):
        conv.convert(wav22[:704], 22050, "angry")
    assert conv.convert(wav22[:705], 22050, "angry").shape == (705,)
