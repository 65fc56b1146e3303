"""Many-to-many SpectroGAN: conditional networks, prosody stage, training and conversion."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from emovc.audio.processing import active_rms_dbfs
from emovc.data.synthetic import EMOTION_VOICES, SyntheticVoice, synthesize
from emovc.errors import AudioError, ConfigError
from emovc.features.world import WorldConfig, analyze_f0
from emovc.models.checkpoint import load_checkpoint
from emovc.models.conversion.converters import Converted
from emovc.models.spectrogan import DiscriminatorConfig, Generator, GeneratorConfig
from emovc.models.spectrogan.networks import PatchDiscriminator
from emovc.models.spectrogan.prosody import ProsodyShift, fit_prosody
from emovc.models.spectrogan.representation import activity, analyze
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.spectrogan import SpectroGANConverter, with_f0_model
from emovc.training.spectrogan import build_config, train

EMOS = ("calm", "angry", "sad")


def test_conditional_generator_starts_near_identity_and_depends_on_target() -> None:
    torch.manual_seed(0)
    g = Generator(GeneratorConfig((4, 8, 8), 2, residual=True, freq_coord=True, n_domains=3))
    x = torch.rand(2, 1, 32, 20) * 2 - 1
    assert (g(x, domain=torch.tensor([0, 2])) - x).abs().mean().item() < 0.02
    with pytest.raises(ConfigError, match="target index"):
        g(x)
    a, b = g(x, domain=torch.tensor([0, 0])), g(x, domain=torch.tensor([1, 1]))
    assert not torch.allclose(a, b, atol=1e-5)  # the per-emotion norms start apart
    with torch.no_grad():
        g.eq.weight[1] = 0.5  # the per-emotion frequency response acts on the output
    assert (g(x, domain=torch.tensor([1, 1])) - b).mean().item() > 0.1


def test_per_emotion_discriminator_returns_the_map_of_each_image() -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator(DiscriminatorConfig(4, 3, n_domains=3))
    x = torch.rand(2, 1, 64, 40) * 2 - 1
    full = d.net(x)
    out = d(x, domain=torch.tensor([2, 0]))
    assert out.shape == (2, 1, *full.shape[2:])
    assert torch.equal(out[0, 0], full[0, 2]) and torch.equal(out[1, 0], full[1, 0])
    with pytest.raises(ConfigError):
        d(x)


def test_fit_prosody_recovers_speaker_centred_offsets() -> None:
    f0 = {"calm": 100.0, "angry": 150.0}
    rows = []
    for spk, scale, gain in (("a", 1.0, 0.0), ("b", 2.0, -10.0)):  # different voices and gains
        for emo, hz in f0.items():
            track = np.zeros(400)
            span = 200 if emo == "calm" else 100  # angry is twice as fast
            track[50:50 + span] = hz * scale * (1 + 0.05 * np.sin(np.arange(span) / 9))
            rows.append((spk, emo, track, gain + (-30.0 if emo == "calm" else -20.0)))
    norm = fit_prosody(rows, ["calm", "angry"], 5.0)
    assert norm.off_lf0[1] - norm.off_lf0[0] == pytest.approx(np.log(1.5), abs=2e-3)
    assert norm.off_lstd[1] == pytest.approx(norm.off_lstd[0], abs=0.02)
    assert norm.level_change_db("calm", "angry") == pytest.approx(10.0)
    assert ProsodyShift(norm).tempo("calm", "angry") == pytest.approx(0.5, abs=0.01)
    assert ProsodyShift(norm).tempo("calm", "angry", 0.0) == 1.0


def test_fit_prosody_learns_speaker_centred_spectrum_offsets() -> None:
    rng = np.random.default_rng(0)
    tilt = np.linspace(-0.5, 0.5, 9)  # angry: less low band, more high band than calm
    rows = []
    for spk in ("a", "b"):
        voice = rng.normal(size=9)  # each speaker's own average spectrum
        for emo, shape in (("calm", 0.0), ("angry", 1.0)):
            track = np.r_[np.zeros(10), np.full(100, 120.0)]
            rows.append((spk, emo, track, -25.0, voice + shape * tilt))
    shift = ProsodyShift(fit_prosody(rows, ["calm", "angry"], 5.0))
    np.testing.assert_allclose(shift.spectral_shift("calm", "angry"), tilt, atol=1e-9)
    np.testing.assert_allclose(shift.spectral_shift("angry", "calm", 0.5), -0.5 * tilt, atol=1e-9)
    # without spectra (or with an unvoiced row, which F0 statistics skip) there is no shift
    rows_no_spec = [r[:4] for r in rows] + [("a", "calm", np.zeros(50), -25.0)]
    assert ProsodyShift(fit_prosody(rows_no_spec, ["calm", "angry"], 5.0)).spectral_shift(
        "calm", "angry") is None


def test_lifter_keeps_broad_shapes_and_smooths_spikes() -> None:
    from emovc.models.spectrogan.representation import lifter

    n = np.arange(257)
    broad = 0.3 * np.cos(np.pi * (n + 0.5) * 2 / 257)  # the third cosine of the DCT basis
    np.testing.assert_allclose(lifter(broad, 8), broad, atol=1e-12)
    spike = np.zeros(257)
    spike[-1] = -2.0
    assert np.abs(lifter(spike, 8)).max() < 0.2 and np.array_equal(lifter(spike, 0), spike)


def test_activity_marks_speech_frames_only() -> None:
    from emovc.models.spectrogan.representation import active_mean, activity

    lm = np.full((257, 12), np.log(1e-5))
    lm[:, 4:8] = np.log(0.1) + np.linspace(0, -1, 257)[:, None]
    w = activity(lm)
    assert w[4:8].min() == 1.0 and w[:4].max() == 0.0 and w[8:].max() == 0.0
    np.testing.assert_allclose(active_mean(lm), lm[:, 5])


def test_prosody_shift_moves_f0_and_duration() -> None:
    rows = [(s, e, np.r_[np.zeros(20), np.full(100 if e == "calm" else 80, hz * k)], -25.0)
            for s, k in (("a", 1.0), ("b", 1.3)) for e, hz in (("calm", 120.0), ("angry", 180.0))]
    shift = ProsodyShift(fit_prosody(rows, ["calm", "angry"], 5.0))
    wav = synthesize(SyntheticVoice(f0_mean=120.0, f0_range=1.0), duration=1.5, seed=1)
    out = shift.apply(wav, "calm", "angry")
    assert len(out) == round(len(wav) * 0.8)

    def median_f0(x: np.ndarray) -> float:
        f = analyze_f0(x.astype(np.float64), WorldConfig())[0]
        return float(np.median(f[f > 0]))

    assert median_f0(out) / median_f0(wav) == pytest.approx(1.5, rel=0.06)
    same = shift.apply(wav, "calm", "angry", 0.0)
    assert len(same) == len(wav)
    assert median_f0(same) / median_f0(wav) == pytest.approx(1.0, rel=0.03)
    half = shift.apply(wav, "calm", "angry", pitch_level=0.5)  # half the level change only
    assert len(half) == len(out)
    assert median_f0(half) / median_f0(wav) == pytest.approx(1.5 ** 0.5, rel=0.04)


class _OctaveUp:
    """Stand-in learned F0 model: the converted log-F0 is the source's one octave up, scaled
    by intensity (records the emotions it was asked for)."""

    def __init__(self, emotions=("calm", "angry"), world=WorldConfig()):
        self.emotions, self.world, self.calls = list(emotions), world, []

    def convert(self, feats, source, target, intensity=1.0):
        self.calls.append((source, target, intensity, feats.mcep.shape[1]))
        return Converted(feats.mcep, feats.lf0 + intensity * np.log(2.0), 1.0)


def test_prosody_stage_takes_the_contour_of_a_learned_f0_model() -> None:
    rows = [(s, e, np.r_[np.zeros(20), np.full(100, hz * k)], -25.0)
            for s, k in (("a", 1.0), ("b", 1.3)) for e, hz in (("calm", 120.0), ("angry", 180.0))]
    norm = fit_prosody(rows, ["calm", "angry"], 5.0)
    model = _OctaveUp()
    shift = ProsodyShift(norm, f0_model=model)
    wav = synthesize(SyntheticVoice(f0_mean=120.0, f0_range=1.0), duration=1.5, seed=1)

    def median_f0(x: np.ndarray) -> float:
        f = analyze_f0(x.astype(np.float64), WorldConfig())[0]
        return float(np.median(f[f > 0]))

    # the model's octave, not the fitted x1.5 mean shift
    assert median_f0(shift.apply(wav, "calm", "angry")) / median_f0(wav) == pytest.approx(
        2.0, rel=0.06)
    assert median_f0(shift.apply(wav, "calm", "angry", 0.5)) / median_f0(wav) == pytest.approx(
        2 ** 0.5, rel=0.06)
    # it is given the envelope it needs (mcep) and the emotions and intensity asked for
    assert [c[:3] for c in model.calls] == [("calm", "angry", 1.0), ("calm", "angry", 0.5)]
    assert model.calls[0][3] == WorldConfig().mcep_dim
    with pytest.raises(ConfigError, match="frame"):
        ProsodyShift(norm, f0_model=_OctaveUp(world=WorldConfig(frame_period=10.0)))
    with pytest.raises(ConfigError, match="angry"):
        ProsodyShift(norm, f0_model=_OctaveUp(emotions=("calm", "sad")))


class _LouderBrighter(_OctaveUp):
    """Stand-in F0 model that also converts the envelope: c0 + log 2 (twice the power) and
    c1 - 1 (a brighter tilt) on every frame, the pitch kept."""

    def convert(self, feats, source, target, intensity=1.0):
        mcep = feats.mcep.copy()
        mcep[:, 0] += intensity * np.log(2.0)
        mcep[:, 1] -= intensity
        return Converted(mcep, feats.lf0, 1.0)


def test_prosody_stage_takes_the_low_order_envelope_of_the_f0_model() -> None:
    rows = [(s, e, np.r_[np.zeros(20), np.full(100, hz * k)], -25.0)
            for s, k in (("a", 1.0), ("b", 1.3)) for e, hz in (("calm", 120.0), ("angry", 180.0))]
    norm = fit_prosody(rows, ["calm", "angry"], 5.0)
    wav = synthesize(SyntheticVoice(f0_mean=120.0, f0_range=1.0), duration=1.5, seed=1)
    outs = {k: ProsodyShift(norm, f0_model=_LouderBrighter(), envelope_coefs=k).apply(
        wav, "calm", "angry") for k in (0, 1, 2)}

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))

    def centroid(x: np.ndarray) -> float:
        mag = np.abs(np.fft.rfft(x.astype(np.float64)))
        return float((mag * np.arange(mag.size)).sum() / mag.sum())

    # c0 only: twice the power (WORLD's envelope is a power spectrum), the same spectral balance
    assert rms(outs[1]) / rms(outs[0]) == pytest.approx(np.sqrt(2.0), rel=0.05)
    assert centroid(outs[1]) == pytest.approx(centroid(outs[0]), rel=0.05)
    assert centroid(outs[2]) > 1.2 * centroid(outs[1])  # c1 too: the brighter tilt
    half = ProsodyShift(norm, f0_model=_LouderBrighter(), envelope_coefs=1,
                        envelope_strength=0.5).apply(wav, "calm", "angry")
    assert rms(half) / rms(outs[0]) == pytest.approx(2.0 ** 0.25, rel=0.05)  # half the change
    with pytest.raises(ConfigError, match="needs an F0 model"):
        ProsodyShift(norm, envelope_coefs=2)
    with pytest.raises(ConfigError, match="exceeds"):
        ProsodyShift(norm, f0_model=_OctaveUp(), envelope_coefs=WorldConfig().mcep_dim + 1)
    with pytest.raises(ConfigError, match=">= 0"):
        ProsodyShift(norm, f0_model=_OctaveUp(), envelope_coefs=-1)
    with pytest.raises(ConfigError, match=">= 0"):
        ProsodyShift(norm, f0_model=_OctaveUp(), envelope_coefs=2, envelope_strength=-0.5)


def test_f0_model_setting_loads_a_many_to_many_world_converter(m2m_model: Path) -> None:
    ckpt = load_checkpoint(m2m_model)
    assert ckpt["extra"]["inference"]["f0_model"] == "m2m-ravdess"  # the m2m preset's
    conv = SpectroGANConverter.from_checkpoint(ckpt)
    assert conv.prosody.f0_model is not None and "angry" in conv.prosody.f0_model.emotions
    assert conv.prosody.envelope_coefs == 5 and conv.prosody.envelope_strength == 0.6
    plain = SpectroGANConverter.from_checkpoint(
        ckpt, replace(conv.inference, f0_model="", f0_model_envelope=0))
    assert plain.prosody.f0_model is None
    with pytest.raises(ConfigError, match="not a 'emotion-converter/stargan'"):
        SpectroGANConverter.from_checkpoint(ckpt, replace(conv.inference, f0_model=str(m2m_model)))
    with pytest.raises(ConfigError, match="bundled models"):
        SpectroGANConverter.from_checkpoint(ckpt, replace(conv.inference, f0_model="nope"))
    with pytest.raises(ConfigError, match="prosody stage"):
        with_f0_model(None, "m2m-ravdess")
    with pytest.raises(ConfigError, match="needs an F0 model"):
        with_f0_model(conv.prosody, "", envelope_coefs=3)
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.2, seed=5) * 0.3
    a = conv.convert(wav, 16000, "angry", source="calm")
    b = plain.convert(wav, 16000, "angry", source="calm")
    assert a.shape == b.shape and np.isfinite(a).all() and not np.allclose(a, b, atol=1e-3)


def _fake_ravdess(root: Path) -> Path:
    """Two training actors (01, 02) and one validation actor (17), 3 emotions × 2 takes,
    with louder angry takes (vocal effort)."""
    codes = {"calm": 2, "sad": 4, "angry": 5}
    for actor in (1, 2, 17):
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        for emo in EMOS:
            for rep in (1, 2):
                wav = synthesize(EMOTION_VOICES[emo], duration=0.9, seed=actor * 10 + rep)
                wav = wav * (1.0 if emo == "angry" else 0.3)
                name = f"03-01-{codes[emo]:02d}-01-01-{rep:02d}-{actor:02d}.flac"
                sf.write(folder / name, wav, 16000)
    return root


def _mean_level(data: Path, code: str, actors=("01", "02")) -> float:
    return float(np.mean([active_rms_dbfs(sf.read(p, dtype="float32")[0], 16000)
                          for a in actors for p in data.glob(f"Actor_{a}/03-01-{code}-*")]))


def _m2m_cfg(data: Path, run: Path, steps: int):
    return build_config(str(data), str(run), "calm", None, "m2m", max_steps=steps,
                        overrides={"emotions": list(EMOS), "train_actors": [1, 2],
                                  "val_actors": [17], "crop_frames": 32, "n_val_clips": 1,
                                  "generator": {"channels": [4, 8, 8], "n_res_blocks": 1},
                                  "discriminator": {"base_channels": 4}, "ckpt_every": 3,
                                  "val_every": 3, "inference": {"gl_iters": 2}})


@pytest.fixture(scope="module")
def m2m_model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("m2m")
    return train(_m2m_cfg(_fake_ravdess(root / "data"), root / "run", 3))


def test_m2m_resume_is_exact(m2m_model: Path, tmp_path: Path, fit_sessions) -> None:
    data = Path(load_checkpoint(m2m_model)["extra"]["train"]["data_dir"])
    run = tmp_path / "resumed"
    train(_m2m_cfg(data, run, 2))
    part = load_checkpoint(train(_m2m_cfg(data, run, 3), resume=True))
    full = load_checkpoint(m2m_model)["state_dict"]
    assert part["extra"]["iterations"] == 3
    assert all(torch.equal(v, part["state_dict"][k]) for k, v in full.items())
    assert fit_sessions == [2, 1]  # the resume trained iteration 3 only


def test_m2m_resume_follows_a_moved_corpus_and_refuses_an_added_clip(m2m_model: Path,
                                                                    tmp_path: Path) -> None:
    """The corpus is known by its clips, not its path: a renamed folder with the same files
    resumes, one with a clip more is refused (the prosody stage and statistics are refitted
    from the clips at every start)."""
    first = Path(load_checkpoint(m2m_model)["extra"]["train"]["data_dir"])
    data = Path(shutil.copytree(first, tmp_path / "data"))
    run = tmp_path / "run"
    train(_m2m_cfg(data, run, 1))
    moved = Path(shutil.move(data, tmp_path / "renamed"))
    assert load_checkpoint(train(_m2m_cfg(moved, run, 2)))["extra"]["iterations"] == 2
    shutil.copy(moved / "Actor_02" / "03-01-04-01-01-01-02.flac",
                moved / "Actor_02" / "03-01-04-01-01-03-02.flac")
    with pytest.raises(ConfigError, match=r"\(1 added: Actor_02/03-01-04-01-01-03-02.flac\)"):
        train(_m2m_cfg(moved, run, 3))


def test_finished_run_re_exports_with_new_inference_settings(m2m_model: Path,
                                                             tmp_path: Path) -> None:
    data = Path(load_checkpoint(m2m_model)["extra"]["train"]["data_dir"])
    first = load_checkpoint(train(_m2m_cfg(data, tmp_path / "run", 2)))
    cfg = _m2m_cfg(data, tmp_path / "run", 2)
    cfg.inference = {**cfg.inference, "spectrum_shift": 0.25}
    again = load_checkpoint(train(cfg, resume=True))  # nothing left to train: re-export only
    assert again["extra"]["inference"]["spectrum_shift"] == 0.25
    assert again["extra"]["iterations"] == 2
    assert all(torch.equal(v, again["state_dict"][k]) for k, v in first["state_dict"].items())
    # a many-to-many run does not use its target: one an earlier emovc stored (angry, even
    # for a run without it) does not stop it resuming
    stored = tmp_path / "run" / "config.yaml"
    text = stored.read_text()
    assert "target: angry" in text
    stored.write_text(text.replace("target: angry", "target: happy"))
    assert train(cfg, resume=True).is_file()
    cfg.lambda_cycle += 1.0  # a setting that changes what is learned still refuses to resume
    with pytest.raises(ConfigError, match="different settings"):
        train(cfg, resume=True)


def test_m2m_training_writes_one_conditional_generator_and_prosody(m2m_model: Path) -> None:
    ckpt = load_checkpoint(m2m_model, "emotion-converter/spectrogan")
    assert ckpt["config"]["emotions"] == list(EMOS)
    assert ckpt["config"]["generator"]["n_domains"] == 3
    assert all(k.startswith("g.") for k in ckpt["state_dict"])
    assert ckpt["extra"]["iterations"] == 3 and ckpt["extra"]["train"]["lambda_paired"] > 0
    norm = ckpt["extra"]["prosody"]["normalizer"]
    data = Path(ckpt["extra"]["train"]["data_dir"])
    louder = _mean_level(data, "05") - _mean_level(data, "02")  # angry - calm, measured
    assert louder > 10 and norm["off_level"][1] - norm["off_level"][0] == pytest.approx(louder)
    val = m2m_model.parent / "val_audio" / "step_000003"
    assert sorted(p.name.split("_to_")[1] for p in val.glob("*.wav")) == ["angry.wav", "sad.wav"]


def test_m2m_validation_audio_is_what_convert_makes_beside_its_source(m2m_model: Path) -> None:
    """Validation clips skipped the level change and edge pauses `emovc convert` applies
    (peak -18 dBFS for a conversion to angry), and the take itself was not written."""
    from emovc.audio import load_audio
    from emovc.pipelines.conversion import EmotionConverter

    val = m2m_model.parent / "val_audio"
    [source] = sorted(val.glob("source_*.wav"))
    take = load_audio(source, 16000)
    name = source.stem.removeprefix("source_")
    want = EmotionConverter.from_pretrained(m2m_model).convert(take, 16000, "angry",
                                                               source="calm")
    got = load_audio(val / "step_000003" / f"{name}_to_angry.wav", 16000)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2e-3)


def test_m2m_converter_needs_a_source_and_applies_tempo(m2m_model: Path) -> None:
    conv = SpectroGANConverter.from_pretrained(str(m2m_model))
    assert conv.many_to_many and conv.target_emotions == list(EMOS)
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.2, seed=5) * 0.3
    with pytest.raises(ConfigError, match="source"):
        conv.convert(wav, 16000, "angry")
    with pytest.raises(ConfigError, match="converts to calm, angry and sad only, not to 'happy'"):
        conv.convert(wav, 16000, "happy", source="calm")
    with pytest.raises(ConfigError, match="unknown target emotion 'hapy'; valid choices: calm"):
        conv.convert(wav, 16000, "hapy", source="calm")
    out = conv.convert(wav, 16000, "angry", source="calm")
    assert len(out) == round(len(wav) * conv.prosody.tempo("calm", "angry"))
    assert np.isfinite(out).all()


def test_m2m_minimum_length_counts_the_tempo_change(m2m_model: Path, monkeypatch) -> None:
    """A prosody stage that speeds speech up shortens what reaches the STFT and generator:
    the minimum named is of the input before it."""
    conv = SpectroGANConverter.from_pretrained(str(m2m_model))
    monkeypatch.setattr(conv.prosody, "tempo", lambda source, target, intensity=1.0: 0.5)
    need, m = conv.min_model_samples, conv.min_samples(16000, 0.5)
    assert round(m * 0.5) >= need > round((m - 1) * 0.5)
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.0, seed=5) * 0.3
    with pytest.raises(AudioError, match=rf"^audio too short for SpectroGAN: {m - 1} samples "
                                         rf"at 16000 Hz \(need at least {m}\)$"):
        conv.convert(wav[:m - 1], 16000, "angry", source="calm")


def test_m2m_converter_adds_the_spectrum_shift_on_speech(m2m_model: Path) -> None:
    conv = SpectroGANConverter.from_pretrained(str(m2m_model))
    assert conv.inference.shift_input  # the m2m preset trains with input_shift
    conv.inference = replace(conv.inference, shift_input=False)  # shift after the generator
    shift = conv.prosody.spectral_shift("calm", "angry")
    assert shift is not None and shift.shape == (conv.spec.n_bins,)
    assert np.abs(shift).max() > 0.05  # angry and calm voices of the fake corpus differ
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.2, seed=5) * 0.3
    from emovc.models.spectrogan.representation import activity, analyze, lifter

    log_mag = analyze(np.r_[np.zeros(8000, np.float32), wav], conv.spec)[0]
    smooth = conv.inference.spectrum_shift * lifter(shift, conv.inference.spectrum_lifter)
    base = conv.convert_log_mag(log_mag, "angry", "calm") - smooth[:, None] * activity(log_mag)
    conv.prosody.normalizer.off_mcep[:] = 0.0  # no offsets: generator change only
    np.testing.assert_allclose(conv.convert_log_mag(log_mag, "angry", "calm"), base, atol=1e-5)
    w = activity(log_mag)
    assert w[:50].max() == 0.0 and np.median(w[70:]) == 1.0  # leading silence is left alone


def test_image_offset_matches_a_log_magnitude_shift(m2m_model: Path) -> None:
    conv = SpectroGANConverter.from_pretrained(str(m2m_model))
    norm = conv.norm
    log_mag = analyze(synthesize(EMOTION_VOICES["calm"], duration=0.8, seed=3) * 0.3,
                      conv.spec)[0]
    d = 0.05 * np.cos(np.linspace(0, 3, conv.spec.n_bins))
    moved = norm.to_image(log_mag + d[:, None])
    base = norm.to_image(log_mag)
    direct = base + norm.image_offset(d)[:, None]
    inside = (np.abs(moved) < 0.999) & (np.abs(base) < 0.999)
    np.testing.assert_allclose(moved[inside], direct[inside], atol=1e-5)
    np.testing.assert_allclose(norm.image_activity(norm.to_image(log_mag)),
                               activity(log_mag), atol=0.02)


def test_input_shift_training_exports_a_model_that_shifts_its_input(m2m_model: Path,
                                                                    tmp_path: Path) -> None:
    data = Path(load_checkpoint(m2m_model)["extra"]["train"]["data_dir"])
    cfg = _m2m_cfg(data, tmp_path / "run", 2)
    cfg.input_shift = True
    ckpt = load_checkpoint(train(cfg))
    assert ckpt["extra"]["inference"]["shift_input"] is True
    conv = SpectroGANConverter.from_checkpoint(ckpt)
    assert conv.inference.shift_input
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.2, seed=5) * 0.3
    log_mag = analyze(np.r_[np.zeros(8000, np.float32), wav], conv.spec)[0]
    shifted = conv.convert_log_mag(log_mag, "angry", "calm")
    conv.inference = replace(conv.inference, shift_input=False)
    after = conv.convert_log_mag(log_mag, "angry", "calm")
    assert np.isfinite(shifted).all() and not np.allclose(shifted, after, atol=1e-4)
    # an untrained (identity) generator gives the same result either way: the shift is the
    # whole change, added before or after it
    for g in conv.generators.values():
        for prm in g.parameters():
            prm.data.zero_()
    assert conv.generators["angry"].cfg.residual
    conv.inference = replace(conv.inference, shift_input=True)
    a = conv.convert_log_mag(log_mag, "angry", "calm")
    conv.inference = replace(conv.inference, shift_input=False)
    np.testing.assert_allclose(a, conv.convert_log_mag(log_mag, "angry", "calm"), atol=1e-3)
    cfg = _m2m_cfg(data, tmp_path / "no_prosody", 1)
    cfg.input_shift, cfg.prosody = True, False
    with pytest.raises(ConfigError, match="spectrum offsets"):
        train(cfg)


def test_emotion_converter_adds_the_level_change(m2m_model: Path) -> None:
    conv = EmotionConverter.from_pretrained(str(m2m_model))
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.2, seed=5) * 0.3
    change = conv.backend.normalizer.level_change_db("calm", "angry")
    loud = conv.convert(wav, 16000, "angry", source="calm")
    same = conv.convert(wav, 16000, "angry", source="calm", keep_level=True)
    level = active_rms_dbfs(wav, 16000)
    assert active_rms_dbfs(same, 16000) == pytest.approx(level, abs=0.5)
    expected = min(level + change, max(level, -16.0))
    assert active_rms_dbfs(loud, 16000) == pytest.approx(expected, abs=1.0)


def test_long_inputs_are_converted_in_windows_by_spectrogan_too(m2m_model: Path) -> None:
    conv = EmotionConverter.from_pretrained(str(m2m_model))
    wav = synthesize(EMOTION_VOICES["calm"], duration=3.0, seed=6) * 0.3
    whole = conv.convert(wav, 16000, "angry", source="calm")
    lengths = []
    inner = conv.backend.convert
    conv.backend.convert = lambda w, *a, **k: (lengths.append(len(w)), inner(w, *a, **k))[1]
    conv.window_s, conv.overlap_s = 1.0, 0.25  # 4 windows of 0.94 s
    pieces = conv.convert(wav, 16000, "angry", source="calm")
    assert lengths == [15000] * 4
    assert np.isfinite(pieces).all() and abs(len(pieces) - len(whole)) <= 2
    assert active_rms_dbfs(pieces, 16000) == pytest.approx(active_rms_dbfs(whole, 16000), abs=1.0)


def test_spectrogan_keeps_a_window_without_speech(m2m_model: Path) -> None:
    """A pause longer than a window is kept (time-stretched by the prosody stage's tempo)
    instead of failing the whole conversion with 'no voiced frames'."""
    conv = EmotionConverter.from_pretrained(str(m2m_model))
    conv.window_s, conv.overlap_s = 1.0, 0.25
    speech = synthesize(EMOTION_VOICES["calm"], duration=1.0, seed=5) * 0.3
    pause = (1e-3 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    y = conv.convert(np.concatenate([speech, pause, speech]), 16000, "angry", source="calm")
    tempo = conv.backend.prosody.tempo("calm", "angry", 1.0)
    assert np.isfinite(y).all() and abs(len(y) - round(64000 * tempo)) < 0.02 * 64000


def test_m2m_config_checks_its_emotions(tmp_path: Path) -> None:
    cfg = build_config(str(tmp_path), str(tmp_path / "r"), None, None, "m2m")
    assert len(cfg.emotions) == 8 and cfg.generator["n_domains"] == 8
    with pytest.raises(ConfigError, match="--to names the target of a pairwise model"):
        build_config(str(tmp_path), str(tmp_path / "r"), None, "sad", "m2m")  # was ignored
    assert cfg.discriminator["n_domains"] == 8
    with pytest.raises(ConfigError, match="validation source"):
        build_config(str(tmp_path), str(tmp_path / "r"), "happy", None, "m2m",
                     overrides={"emotions": ["calm", "angry"]})
    with pytest.raises(ConfigError, match="distinct"):
        build_config(str(tmp_path), str(tmp_path / "r"), None, None, "m2m",
                     overrides={"emotions": ["calm", "calm"]})
    with pytest.raises(ConfigError, match="f0_model"):  # the F0 model lives in the prosody stage
        build_config(str(tmp_path), str(tmp_path / "r"), None, None, "m2m",
                     overrides={"prosody": False, "input_shift": False})
    with pytest.raises(ConfigError, match="f0_model_envelope: 0"):  # it takes the F0 model's
        build_config(str(tmp_path), str(tmp_path / "r"), None, None, "m2m",
                     overrides={"prosody": False, "input_shift": False,
                                "inference": {"f0_model": ""}})
    cfg = build_config(str(tmp_path), str(tmp_path / "r"), None, None, "m2m",
                       overrides={"prosody": False, "input_shift": False,
                                  "inference": {"f0_model": "", "f0_model_envelope": 0}})
    assert cfg.inference["f0_model"] == "" and cfg.inference["spectrum_shift"] == 1.0


def test_m2m_takes_its_validation_pair_from_its_own_emotions(tmp_path: Path) -> None:
    """A hidden --from calm / --to angry: ``--set 'emotions=[angry, sad]'`` said "unknown
    validation source emotion 'calm'", and ``--from angry`` then "both 'angry'"."""
    def pair(source, emotions):
        cfg = build_config(str(tmp_path), str(tmp_path / "r"), source, None, "m2m",
                           overrides={"emotions": emotions} if emotions else None)
        return cfg.source, cfg.target

    assert pair(None, None) == ("calm", "angry")  # the shipped recipe's, as before
    assert pair("sad", None) == ("sad", "angry")
    assert pair(None, ["angry", "sad"]) == ("angry", "sad")
    assert pair(None, ["sad", "neutral", "happy"]) == ("neutral", "sad")
    assert pair(None, ["angry", "calm", "sad"]) == ("calm", "angry")
    assert pair("angry", ["calm", "angry"]) == ("angry", "calm")
    with pytest.raises(ConfigError, match="unknown validation source emotion 'sad'; valid "
                                          "choices: calm, angry"):
        pair("sad", ["calm", "angry"])
    with pytest.raises(ConfigError, match=r"single name 'sad'; write a list such as --set "
                                          r"'emotions=\[calm, angry\]'"):
        pair(None, "sad")
    with pytest.raises(ConfigError, match="--to names the target of a pairwise model"):
        build_config(str(tmp_path), str(tmp_path / "r"), None, "calm", "m2m")


def test_convert_file_reports_the_source_the_prosody_stage_used(m2m_model: Path,
                                                                 tmp_path: Path) -> None:
    conv = EmotionConverter.from_pretrained(str(m2m_model))
    assert conv.uses_source
    wav = synthesize(EMOTION_VOICES["calm"], duration=1.2, seed=5) * 0.3
    sf.write(tmp_path / "in.wav", wav, 16000)
    out, src = conv.convert_file(tmp_path / "in.wav", tmp_path / "out.wav", "sad", source="calm")
    assert src == "calm" and out.is_file()
