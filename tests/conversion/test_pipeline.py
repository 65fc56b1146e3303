"""EmotionConverter on tiny trained models: round trips, intensity, bad inputs, CLI."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.audio import load_audio, save_audio
from emovc.audio.processing import speech_bounds
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, ConfigError, EmovcError
from emovc.models.checkpoint import load_checkpoint, save_checkpoint
from emovc.models.conversion.features import analyze_for_conversion
from emovc.pipelines.conversion import EmotionConverter
from emovc.pipelines.source_choice import choose_source


def test_save_load_round_trip_is_identical(stargan_run, calm, tmp_path):
    a = EmotionConverter.from_pretrained(str(stargan_run))
    ck = load_checkpoint(stargan_run)
    copy = save_checkpoint(tmp_path / "copy.pt", kind=ck["kind"], config=ck["config"],
                           state_dict=ck["state_dict"], extra=ck["extra"])
    b = EmotionConverter.from_pretrained(str(copy))
    ya = a.convert(calm, 16000, "angry", source="calm")
    yb = b.convert(calm, 16000, "angry", source="calm")
    assert ya.dtype == np.float32 and np.array_equal(ya, yb)
    assert abs(ya.shape[0] - calm.shape[0]) < 0.5 * calm.shape[0]


def _distance(conv, feats, intensity):
    out = conv.backend.convert(feats, "calm", "angry", intensity)
    return out, float(np.abs(out.mcep - feats.mcep).mean() + np.abs(out.lf0 - feats.lf0).mean())


@pytest.mark.parametrize("run", ["stargan_run", "cyclegan_run"])
def test_intensity_zero_is_identity_and_effect_is_monotone(run, request, calm):
    conv = EmotionConverter.from_pretrained(str(request.getfixturevalue(run)))
    feats, _, _ = analyze_for_conversion(calm, conv.backend.world)
    out0, d0 = _distance(conv, feats, 0.0)
    np.testing.assert_allclose(out0.mcep, feats.mcep, atol=1e-4)
    np.testing.assert_allclose(out0.lf0, feats.lf0, atol=1e-4)
    assert out0.tempo == 1.0
    dists = [_distance(conv, feats, a)[1] for a in (0.25, 0.5, 1.0)]
    assert d0 < 1e-4 < dists[0] < dists[1] < dists[2]


def test_many_to_many_f0_level_follows_the_emotion_offsets(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    backend = conv.backend
    feats, _, _ = analyze_for_conversion(calm, backend.world)
    voiced = feats.vuv > 0
    off = backend.normalizer.off_lf0
    i, j = backend.emotions.index("calm"), backend.emotions.index("angry")
    assert abs(off[j] - off[i]) > 0.05  # the fake corpus's angry voice is higher
    for a in (0.5, 1.0):
        out = backend.convert(feats, "calm", "angry", a)
        want = feats.lf0[voiced].mean() + a * (off[j] - off[i])
        assert out.lf0[voiced].mean() == pytest.approx(want, abs=1e-4)
    backend.f0_offsets = False  # the generator's own level: only the level moves
    own = backend.convert(feats, "calm", "angry", 1.0).lf0
    backend.f0_offsets = True
    fixed = backend.convert(feats, "calm", "angry", 1.0).lf0
    np.testing.assert_allclose(fixed - own, (fixed - own)[0], atol=1e-5)


def test_tempo_changes_the_speech_and_keeps_the_pauses(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    norm = conv.backend.normalizer
    norm.log_tempo[norm.index("angry")] = norm.log_tempo[norm.index("calm")] + np.log(0.8)
    x = np.r_[np.zeros(8000, np.float32), calm, np.zeros(4000, np.float32)]
    x = x + 1e-4 * np.random.default_rng(1).standard_normal(len(x)).astype(np.float32)
    y = conv.convert(x, 16000, "angry", source="calm")
    (start, end), (y_start, y_end) = speech_bounds(x), speech_bounds(y)
    assert abs(y_start - start) <= 400 and abs((len(y) - y_end) - (len(x) - end)) <= 400
    assert (y_end - y_start) / (end - start) == pytest.approx(0.8, abs=0.05)


def _voiced_median_f0(wav: np.ndarray) -> float:
    import pyworld

    f0, _ = pyworld.dio(wav.astype(np.float64), 16000, frame_period=5.0)
    return float(np.median(f0[f0 > 0]))


def test_cyclegan_knows_its_pair(cyclegan_run, calm):
    conv = EmotionConverter.from_pretrained(str(cyclegan_run))
    assert conv.target_emotions == ["calm", "angry"]
    y = conv.convert(calm, 16000, "angry", keep_level=True)  # source implied by the pair
    assert np.isfinite(y).all() and y.size > 0
    # the synthetic angry voice is pitched higher (160 against 120 Hz): so is the conversion
    f0_in, f0_out = (_voiced_median_f0(w) for w in (calm, y))
    assert 1200 * np.log2(f0_out / f0_in) > 300
    with pytest.raises(EmovcError, match="valid"):
        conv.convert(calm, 16000, "sadd")


def test_an_emotion_the_model_lacks_is_not_called_unknown(cyclegan_run, calm, tmp_path,
                                                          capsys):
    """``--to sad`` on a calm/angry model said "unknown target emotion 'sad'", which reads as
    a typo; a misspelling still lists the model's emotions."""
    conv = EmotionConverter.from_pretrained(str(cyclegan_run))
    with pytest.raises(ConfigError, match=r"^this model converts to calm and angry only, not "
                                          r"to 'sad'$"):
        conv.convert(calm, 16000, "sad")
    with pytest.raises(ConfigError, match=r"^this model converts from calm and angry only, "
                                          r"not from 'Sadness'$"):
        conv.convert(calm, 16000, "angry", source="Sadness")
    with pytest.raises(ConfigError, match=r"^unknown target emotion 'angy'; valid choices: "
                                          r"calm, angry$"):
        conv.convert(calm, 16000, "angy")
    src = save_audio(tmp_path / "in.wav", calm, 16000)
    for option in ("--to", "--from"):
        args = {"--to": "angry", "--from": "calm", option: "sad"}
        assert _cli(["convert", str(src), "--to", args["--to"], "--from", args["--from"],
                     "--model", str(cyclegan_run), "-o", str(tmp_path / "o.wav")]) == 2
        way = option[2:]
        assert capsys.readouterr().err == ("emovc: error: this model converts "
                                           f"{way} calm and angry only, not {way} 'sad'\n")


def test_a_one_emotion_model_says_it_has_nothing_to_convert_from(stargan_run, calm, tmp_path):
    """A hand-made checkpoint of one emotion (training refuses such a list) asked for that
    emotion: the message blamed the emotion recogniser's labels."""
    ckpt = load_checkpoint(stargan_run)
    one = save_checkpoint(tmp_path / "one.pt", kind=ckpt["kind"], config=ckpt["config"],
                          state_dict=ckpt["state_dict"],
                          extra={**ckpt["extra"], "emotions": ["calm"]})
    conv = EmotionConverter.from_pretrained(str(one))
    with pytest.raises(EmovcError, match=r"^this model converts from calm only, and calm is "
                                         "the target: there is no other emotion to convert "
                                         "from$"):
        conv.convert(calm, 16000, "calm")


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_bad_inputs_give_one_line_errors(stargan_run, calm, tmp_path):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    with pytest.raises(EmovcError) as e:
        conv.convert(calm, 16000, "sleepy", source="calm")
    assert "angry" in _one_line(e)  # lists the valid emotions
    with pytest.raises(AudioError) as e:
        conv.convert(np.zeros(16000, np.float32), 16000, "angry", source="calm")
    _one_line(e)
    with pytest.raises(AudioError) as e:
        conv.convert(calm[:800], 16000, "angry", source="calm")
    _one_line(e)
    with pytest.raises(EmovcError) as e:
        conv.convert(calm, 16000, "angry", source="calm", intensity=1.5)
    _one_line(e)
    # a silent file without --from: the error names the file (before emotion detection)
    silent = save_audio(tmp_path / "quiet.wav", np.zeros(32000, np.float32), 16000)
    with pytest.raises(AudioError, match="quiet.wav is silent"):
        conv.convert_file(silent, tmp_path / "out.wav", "angry")
    assert not (tmp_path / "out.wav").exists()
    # noise alone: nothing to convert (it would be made louder, or fail deep in the analysis)
    noise = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    with pytest.raises(AudioError, match="no voiced speech found in audio") as e:
        conv.convert(noise, 16000, "angry", source="calm")
    _one_line(e)
    noisy = save_audio(tmp_path / "hiss.wav", noise, 16000)
    with pytest.raises(AudioError, match="no voiced speech found in .*hiss.wav"):
        conv.convert_file(noisy, tmp_path / "out.wav", "angry")
    assert not (tmp_path / "out.wav").exists()
    # model / feature mismatch: features coded with other settings than the model's
    feats, _, _ = analyze_for_conversion(calm, conv.backend.world)
    feats.mcep = feats.mcep[:, :20]
    with pytest.raises(ConfigError) as e:
        conv.backend.convert(feats, "calm", "angry")
    assert "mismatch" in _one_line(e)
    # a checkpoint that is not an emotion converter
    other = save_checkpoint(tmp_path / "ser.pt", kind="emotion-recognizer", config={},
                            state_dict={})
    with pytest.raises(ConfigError) as e:
        EmotionConverter.from_pretrained(str(other))
    _one_line(e)


def _cli(argv):
    from emovc.cli import main as cli_main

    if "emovc.cli.convert_cmds" not in cli_main.COMMAND_MODULES:
        cli_main.COMMAND_MODULES.append("emovc.cli.convert_cmds")
    return cli_main.main(argv)


def test_cli_file_and_folder_round_trip(stargan_run, calm, tmp_path, capsys, monkeypatch):
    src = save_audio(tmp_path / "in" / "sub" / "03-01-02-01-01-01-17.wav", calm, 16000)
    save_audio(tmp_path / "in" / "03-01-05-01-01-01-17.wav", calm, 16000)  # "real angry"
    out = tmp_path / "out.wav"
    args = ["convert", str(src), "--to", "angry", "--from", "calm", "--model", str(stargan_run),
            "-o", str(out)]
    assert _cli(args) == 0 and load_audio(out).size > 0
    (tmp_path / "outdir").mkdir()  # an existing folder takes the file under its own name
    assert _cli(args[:-1] + [str(tmp_path / "outdir")]) == 0
    assert (tmp_path / "outdir" / f"{src.stem}.wav").is_file()
    assert _cli(args) == 2  # refuses to overwrite
    assert "--force" in capsys.readouterr().err
    assert _cli(args + ["--force"]) == 0
    assert _cli(args + ["--force", "--pitch-level", "0.5"]) == 0  # reaches the library
    with sf.SoundFile(str(out)) as f:
        assert f.comment.endswith("intensity 1.0, pitch level 0.5)")
    assert _cli(args + ["--force", "--pitch-level", "2"]) == 2
    assert "pitch level must be between 0 and 1" in capsys.readouterr().err
    assert _cli(args + ["--force", "--smoothing-ms", "100"]) == 0
    with sf.SoundFile(str(out)) as f:
        assert f.comment.endswith("intensity 1.0, smoothing 100 ms)")
    assert _cli(args + ["--force", "--smoothing-ms", "-1"]) == 2
    assert "smoothing must be between 0 and 1000 ms" in capsys.readouterr().err
    assert _cli(args + ["--force", "--envelope-gain", "1.5"]) == 0
    with sf.SoundFile(str(out)) as f:
        assert f.comment.endswith("intensity 1.0, envelope gain 1.5)")
    assert _cli(args + ["--force", "--envelope-gain", "9"]) == 2
    assert "envelope gain must be between 0 and 3" in capsys.readouterr().err
    assert _cli(["convert", str(src), "--to", "bored", "--from", "calm", "--model",
                 str(stargan_run), "-o", str(tmp_path / "x.wav")]) == 2
    folder_out = tmp_path / "conv"
    assert _cli(["convert", str(tmp_path / "in"), "--to", "sad", "--from", "calm", "--model",
                 str(stargan_run), "-o", str(folder_out), "--intensity", "0.5"]) == 0
    assert (folder_out / "sub" / "03-01-02-01-01-01-17.wav").is_file()
    assert (folder_out / "03-01-05-01-01-01-17.wav").is_file()
    rows = list(csv.DictReader(open(folder_out / "conversions.csv")))
    assert len(rows) == 2 and {r["target_emotion"] for r in rows} == {"sad"}
    assert set(rows[0]) == {"source", "converted", "target_emotion", "source_emotion",
                            "reference", "text"}
    assert all((folder_out / r["converted"]).is_file() for r in rows)
    assert not any(Path(r["converted"]).is_absolute() for r in rows)
    import shutil

    from emovc.evaluation.manifest import read_manifest

    moved = shutil.move(folder_out, tmp_path / "moved")  # a moved run scores its own files
    assert all(Path(it.converted).is_relative_to(moved) and Path(it.converted).is_file()
               for it in read_manifest(moved))

    monkeypatch.chdir(tmp_path)  # relative paths on the command line: the table still reads
    assert _cli(["convert", "in", "--to", "sad", "--from", "calm", "--model", str(stargan_run),
                 "-o", "conv2"]) == 0
    items = read_manifest(tmp_path / "conv2")
    assert len(items) == 2 and all(Path(it.source).is_absolute() for it in items)


def test_folder_skips_bad_files_and_refuses_clashing_names(stargan_run, calm, tmp_path,
                                                            capsys):
    """A silent file in a folder is skipped with a message, the rest is converted and listed,
    and the command fails at the end; two inputs that map to one output are refused first."""
    folder = tmp_path / "in"
    save_audio(folder / "good.wav", calm, 16000)
    save_audio(folder / "quiet.wav", np.zeros(32000, np.float32), 16000)
    base = ["convert", str(folder), "--to", "sad", "--from", "calm", "--model",
            str(stargan_run), "-o"]
    assert _cli(base + [str(tmp_path / "out")]) == 2
    err = capsys.readouterr()
    assert "skipped" in err.out and "quiet.wav" in err.out
    assert "1 of 2 file(s) could not be converted" in err.err and "silent" in err.err
    rows = list(csv.DictReader(open(tmp_path / "out" / "conversions.csv", encoding="utf-8")))
    assert [Path(r["source"]).name for r in rows] == ["good.wav"]
    assert (tmp_path / "out" / "good.wav").is_file()
    assert not (tmp_path / "out" / "quiet.wav").exists()
    sf.write(str(folder / "good.flac"), calm, 16000)
    assert _cli(base + [str(tmp_path / "out2")]) == 2
    assert "would both be written to" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_folder_outputs_emotion_names_and_unwritable_folders(stargan_run, calm, tmp_path,
                                                              capsys, monkeypatch):
    """Emotion names are canonical in conversions.csv; a folder input needs a folder output; a
    file input with an extension-less output goes into that folder; an output folder that
    cannot be written is named before any conversion, not as a hidden temporary file."""
    folder = tmp_path / "in"
    save_audio(folder / "a.wav", calm, 16000)
    model = ["--model", str(stargan_run)]
    assert _cli(["convert", str(folder), "--to", "SAD", "--from", "Calm", *model,
                 "-o", str(tmp_path / "out")]) == 0
    (row,) = csv.DictReader(open(tmp_path / "out" / "conversions.csv", encoding="utf-8"))
    assert (row["target_emotion"], row["source_emotion"]) == ("sad", "calm")
    (tmp_path / "x.wav").write_bytes(b"mine")
    assert _cli(["convert", str(folder), "--to", "sad", "--from", "calm", *model,
                 "-o", str(tmp_path / "x.wav")]) == 2
    assert "the output must be a folder too" in capsys.readouterr().err
    assert _cli(["convert", str(folder / "a.wav"), "--to", "sad", "--from", "calm", *model,
                 "-o", str(tmp_path / "new")]) == 0
    assert (tmp_path / "new" / "a.wav").is_file()

    calls = []
    monkeypatch.setattr(EmotionConverter, "convert", lambda *a, **k: calls.append(a))
    monkeypatch.setattr("emovc.fileio._can_write", lambda folder: False)  # root writes anywhere
    assert _cli(["convert", str(folder), "--to", "sad", "--from", "calm", *model,
                 "-o", str(tmp_path / "locked")]) == 2
    err = capsys.readouterr().err
    assert f"write into {tmp_path}" in err and "locked" in err and calls == []


def test_atomic_output_names_the_output_when_its_folder_is_read_only(tmp_path, monkeypatch):
    import tempfile

    from emovc.errors import OutputPathError
    from emovc.fileio import atomic_output

    def denied(**kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".out.wav.x1y2"))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(OutputPathError) as exc, atomic_output(tmp_path / "out.wav"):
        pass
    assert str(exc.value) == (f"cannot write {tmp_path / 'out.wav'}: no permission to write "
                              f"into {tmp_path}")


def test_cli_train_cyclegan(corpus, cache_root, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOVC_CACHE", str(cache_root))
    run = tmp_path / "run"
    assert _cli(["train", str(corpus), "--method", "cyclegan", "--from", "calm", "--to", "sad",
                 "--max-steps", "2", "-o", str(run)]) == 0
    ck = load_checkpoint(run / "model.pt", "emotion-converter/cyclegan")
    assert ck["extra"]["emotions"] == ["calm", "sad"] and ck["extra"]["training"]["steps"] == 2
    assert list(cache_root.rglob("index.csv"))
    assert _cli(["train", str(corpus), "--method", "wavenet", "-o", str(run)]) == 2


def test_cli_train_settings_reach_the_config(corpus, tmp_path, monkeypatch):
    import emovc.training.cyclegan as trainer

    seen = []
    monkeypatch.setattr(trainer, "train",
                        lambda cfg, **kw: seen.append(cfg) or tmp_path / "model.pt")
    base = ["train", str(corpus), "--method", "cyclegan", "-o", str(tmp_path / "run")]
    assert _cli(base + ["--set", "energy_cwt=true", "--set", "segment=64"]) == 0
    assert seen[-1].energy_cwt is True and seen[-1].segment == 64
    assert _cli(base) == 0 and seen[-1].energy_cwt is False
    for bad in ("energy_cwt", "energy_cwt=maybe", "no_such_setting=1"):
        assert _cli(base + ["--set", bad]) == 2
    assert len(seen) == 2


def test_long_inputs_are_converted_in_windows(stargan_run):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    x = synthesize(EMOTION_VOICES["calm"], duration=3.0, seed=5)
    whole = conv.convert(x, 16000, "sad", source="calm")
    conv.window_s, conv.overlap_s = 1.0, 0.25  # force 4 windows
    tempo = conv.backend.convert(analyze_for_conversion(x, conv.backend.world)[0],
                                 "calm", "sad").tempo
    pieces = conv.convert(x, 16000, "sad", source="calm")
    assert np.isfinite(pieces).all()
    assert abs(pieces.shape[0] - round(x.shape[0] * tempo)) < 0.02 * x.shape[0]
    assert abs(pieces.shape[0] - whole.shape[0]) < 0.02 * x.shape[0]


def test_a_window_without_speech_is_kept_not_fatal(stargan_run):
    """A long input with a pause longer than a window: that window cannot be analysed (no
    voiced frame) and comes back as it was, time-stretched; the speech around it is
    converted. An input short enough for one window is still refused if silent."""
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    conv.window_s, conv.overlap_s = 1.0, 0.25
    speech = synthesize(EMOTION_VOICES["calm"], duration=1.0, seed=5)
    pause = (1e-3 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    x = np.concatenate([speech, pause, speech])
    y = conv.convert(x, 16000, "sad", source="calm", keep_level=True)
    tempo = conv.backend.tempo_factor("calm", "sad")
    assert np.isfinite(y).all()
    assert abs(y.shape[0] - round(x.shape[0] * tempo)) < 0.02 * x.shape[0]
    mid = y[int(1.4 * 16000 * tempo):int(2.6 * 16000 * tempo)]
    assert np.std(mid) < 3 * np.std(pause)
    with pytest.raises(AudioError):
        conv.convert(np.zeros(12000, np.float32), 16000, "sad", source="calm")


def test_output_level_follows_the_emotions_unless_kept(stargan_run, calm):
    from emovc.audio.processing import active_rms_dbfs

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    norm = conv.backend.normalizer
    assert norm.off_level.shape == (len(norm.emotions),)
    change = norm.level_change_db("calm", "angry")
    assert change > 1.0  # the synthetic angry voice is louder than the calm one
    quiet = (calm * 0.05).astype(np.float32)  # headroom: no peak limiting
    for a in (1.0, 0.5):
        y = conv.convert(quiet, 16000, "angry", source="calm", intensity=a)
        kept = conv.convert(quiet, 16000, "angry", source="calm", intensity=a, keep_level=True)
        assert abs(active_rms_dbfs(y, 16000) - active_rms_dbfs(kept, 16000) - a * change) < 0.05
        assert abs(active_rms_dbfs(kept, 16000) - active_rms_dbfs(quiet, 16000)) < 0.05


def test_louder_target_never_clips(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    loud = (calm / np.abs(calm).max() * 0.99).astype(np.float32)
    y = conv.convert(loud, 16000, "angry", source="calm")
    assert np.abs(y).max() <= 0.98


def test_loud_input_converted_to_a_louder_emotion_is_not_quieter(stargan_run, calm):
    from emovc.audio.processing import active_rms_dbfs

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    loud = (calm / np.abs(calm).max() * 0.9).astype(np.float32)
    y = conv.convert(loud, 16000, "angry", source="calm")
    assert active_rms_dbfs(y, 16000) >= active_rms_dbfs(loud, 16000) - 0.5


def test_deferred_aperiodicity_matches_the_plain_analysis(calm):
    from emovc.features.world import WorldConfig
    from emovc.models.conversion.features import DeferredWorld

    cfg = WorldConfig()
    feats, world, _ = analyze_for_conversion(calm, cfg, ap_stride=3, with_cap=False)
    f2, pending, _ = analyze_for_conversion(calm, cfg, ap_stride=3, with_cap=False,
                                            defer_ap=True)
    assert isinstance(pending, DeferredWorld) and pending.n_frames == world.n_frames
    assert np.array_equal(pending.ap, world.ap) and np.array_equal(pending.sp, world.sp)
    assert world.ap.shape == world.sp.shape and np.array_equal(f2.mcep, feats.mcep)
    with pytest.raises(ValueError, match="with_cap"):
        analyze_for_conversion(calm, cfg, defer_ap=True)


def test_half_size_synthesis_matches_full_size_and_stretches_with_tempo(calm):
    """Conversion synthesises at 512 points (16 kHz) from the 1024-point analysis: the output
    has the full-size synthesis's length and spectrum; a tempo factor stretches the duration."""
    import librosa

    from emovc.features.world import WorldConfig
    from emovc.models.conversion.features import synthesis_config
    from emovc.models.conversion.render import render

    cfg = WorldConfig()
    small = synthesis_config(cfg)
    assert small.fft_size == 512 and small.frame_period == cfg.frame_period
    assert synthesis_config(cfg, 4096) is cfg
    assert synthesis_config(WorldConfig(sample_rate=24000, fft_size=2048)).fft_size == 1024
    feats, full, _ = analyze_for_conversion(calm, cfg, with_cap=False)
    _, half, _ = analyze_for_conversion(calm, cfg, with_cap=False, ap_fft_size=512)
    assert half.ap.shape == (full.n_frames, 257) and np.array_equal(half.sp, full.sp)
    shifted = feats.lf0 + np.log(1.2)
    ref = render(feats, feats.mcep, shifted, cfg, world=full)
    y = render(feats, feats.mcep, shifted, cfg, world=half, synthesis_fft=512)
    assert y.shape == ref.shape

    def spectrum(w):  # long-term average log spectrum, dB
        return 10 * np.log10((np.abs(librosa.stft(w, n_fft=512)) ** 2).mean(1) + 1e-10)

    err = np.abs(spectrum(y) - spectrum(ref))[8:200]  # 250 Hz - 6.2 kHz
    assert err.mean() < 1.0, err.mean()
    for tempo in (0.8, 1.25):
        z = render(feats, feats.mcep, shifted, cfg, world=half, tempo=tempo, synthesis_fft=512)
        assert abs(z.shape[0] / ref.shape[0] - tempo) < 0.01
        assert np.abs(spectrum(z) - spectrum(ref))[8:200].mean() < 1.5


def test_unvoiced_stretches_keep_the_input_samples(stargan_run, calm):
    rng = np.random.default_rng(3)
    gap = 0.01 * rng.standard_normal(4800).astype(np.float32)  # 0.3 s breath-like noise
    x = np.r_[calm, gap, calm]
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    conv.backend.tempo = False  # same time axis in and out
    inner = slice(len(calm) + 1600, len(calm) + 3200)  # the middle of the gap

    def corr(y):
        return float(np.corrcoef(y[inner], x[inner])[0, 1])

    assert corr(conv.convert(x, 16000, "angry", source="calm")) > 0.999
    conv.keep_unvoiced = False  # WORLD's own noise: unrelated samples
    assert abs(corr(conv.convert(x, 16000, "angry", source="calm"))) < 0.2


def test_scale_f0_level_moves_only_the_mean():
    from emovc.models.conversion.converters import scale_f0_level

    rng = np.random.default_rng(0)
    src = np.log(120.0) + 0.1 * rng.standard_normal(200)
    conv = src + 0.5 + 0.2 * np.sin(np.arange(200) / 7.0)  # +0.5 level and a new contour
    vuv = np.ones(200)
    vuv[:20] = 0
    v = vuv > 0
    for frac in (0.0, 0.3, 1.0):
        out = scale_f0_level(conv, src, vuv, frac)
        change = out[v].mean() - src[v].mean()
        assert change == pytest.approx(frac * (conv[v].mean() - src[v].mean()), abs=1e-9)
        np.testing.assert_allclose(out - out[v].mean(), conv - conv[v].mean(), atol=1e-9)
    assert scale_f0_level(conv, src, np.zeros(200), 0.0) is conv  # no voiced frame: unchanged


def _mean_lf0(y: np.ndarray) -> float:
    from emovc.features.world import WorldConfig, analyze_f0

    f0 = analyze_f0(y.astype(np.float64), WorldConfig())[0]
    return float(np.log(f0[f0 > 0]).mean())


def test_pitch_level_scales_the_mean_f0_change_of_the_output(stargan_run, calm):
    conv = EmotionConverter.from_pretrained(str(stargan_run))
    norm = conv.backend.normalizer
    norm.off_lf0[norm.index("angry")] = norm.off_lf0[norm.index("calm")] + 0.4  # +693 cents
    rise = {p: _mean_lf0(conv.convert(calm, 16000, "angry", source="calm", pitch_level=p))
            - _mean_lf0(calm) for p in (0.0, 0.5, 1.0)}
    assert rise[1.0] == pytest.approx(0.4, abs=0.03)
    assert abs(rise[0.0]) < 0.03
    assert rise[0.5] == pytest.approx(0.2, abs=0.03)
    with pytest.raises(EmovcError, match="pitch level must be between 0 and 1") as e:
        conv.convert(calm, 16000, "angry", source="calm", pitch_level=1.5)
    _one_line(e)


def test_model_folder_meta_sets_the_default_pitch_level(stargan_run, calm, tmp_path):
    import shutil

    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copyfile(stargan_run, folder / "model.pt")
    assert EmotionConverter.from_pretrained(str(folder)).pitch_level == 1.0  # no meta.json
    (folder / "meta.json").write_text(json.dumps({"inference": {"pitch_level": 0.5}}))
    conv = EmotionConverter.from_pretrained(str(folder / "model.pt"))
    assert conv.pitch_level == 0.5
    y_default = conv.convert(calm, 16000, "angry", source="calm")
    np.testing.assert_array_equal(
        y_default, conv.convert(calm, 16000, "angry", source="calm", pitch_level=0.5))
    assert not np.array_equal(
        y_default, conv.convert(calm, 16000, "angry", source="calm", pitch_level=1.0))
    (folder / "meta.json").write_text(json.dumps({"inference": {"pitch_level": 3}}))
    with pytest.raises(EmovcError, match="pitch level must be between 0 and 1") as e:
        EmotionConverter.from_pretrained(str(folder))
    _one_line(e)
    (folder / "meta.json").write_text(json.dumps({"inference": [0.5]}))
    with pytest.raises(ConfigError, match="'inference' must map setting names") as e:
        EmotionConverter.from_pretrained(str(folder))
    _one_line(e)


def test_write_meta_records_the_inference_defaults(stargan_run, tmp_path):
    import shutil

    from emovc.pretrained.registry import inference_defaults, sha256_of, write_meta

    shutil.copyfile(stargan_run, tmp_path / "model.pt")
    write_meta(tmp_path, "emotion-converter/stargan", "tiny")
    assert inference_defaults(tmp_path / "model.pt") == {}
    write_meta(tmp_path, "emotion-converter/stargan", "tiny", inference={"pitch_level": 0.25})
    assert inference_defaults(tmp_path / "model.pt") == {"pitch_level": 0.25}
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["sha256"] == sha256_of(tmp_path / "model.pt")
    assert EmotionConverter.from_pretrained(str(tmp_path)).pitch_level == 0.25


def test_bundled_default_model_has_its_chosen_inference_settings():
    """m2m-ravdess's meta.json: an eighth of the pitch-level change, the envelope change 1.15
    times larger and smoothed over 100 ms, rendered on the input's own samples with its
    training speakers' voice quality (docs/conversion-experiments.md, "Choosing the default
    ...", "The source renderer, shipped" and "Voice quality")."""
    conv = EmotionConverter.from_pretrained()
    assert (conv.pitch_level, conv.envelope_gain, conv.envelope_smoothing_ms,
            conv.renderer, conv.voice_quality) == (0.125, 1.15, 100, "source", 1.0)
    stats = conv.voice_quality_stats
    assert set(stats) == set(conv.target_emotions)
    assert all(stats[e]["jitter"] > stats["calm"]["jitter"] for e in stats if e != "calm")


def test_detected_source_is_never_the_target(stargan_run, calm):
    """Without --from the source is chosen from the recogniser's probabilities over the
    model's emotions other than the target, by the model's level offsets (the toolbox's rule
    too); a given source is taken as it is."""
    probs = {"angry": 0.6, "sad": 0.3, "calm": 0.1}

    class Hears:
        def predict(self, wav, sr):
            return probs

    conv = EmotionConverter.from_pretrained(str(stargan_run))
    conv._recognizer = Hears()
    levels = {e: conv.source_level_db(e) for e in conv.source_emotions}
    assert len(set(levels.values())) == len(levels)  # the fixture's emotions differ in level
    for target in ("sad", "angry"):
        src, tgt = conv.resolve_emotions(calm, 16000, target, None)
        allowed = [e for e in conv.source_emotions if e != target]
        assert tgt == target and src != target
        assert src == choose_source(probs, allowed, levels.get, emotions=conv.source_emotions)
    assert conv.resolve_emotions(calm, 16000, "sad", None)[0] == "calm"  # unsure: the prior's
    probs.update(angry=0.9, sad=0.05, calm=0.05)  # a confident recogniser decides
    assert conv.resolve_emotions(calm, 16000, "sad", None) == ("angry", "sad")
    assert conv.resolve_emotions(calm, 16000, "angry", "calm") == ("calm", "angry")


def test_a_pairwise_model_is_not_said_to_detect_its_source(cyclegan_run, calm, tmp_path,
                                                            capsys):
    """cyclegan calm<->angry: no recogniser runs, so no '(detected calm -> angry)'."""
    save_audio(tmp_path / "in" / "a.wav", calm, 16000)
    assert _cli(["convert", str(tmp_path / "in"), "--to", "angry", "--model",
                 str(cyclegan_run), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "(calm -> angry)" in out and "detected" not in out


def test_cli_refuses_a_voice_quality_that_world_rendering_would_ignore(calm, tmp_path, capsys):
    src = save_audio(tmp_path / "calm.wav", calm, 16000)
    base = ["convert", str(src), "--to", "sad", "--from", "calm", "--renderer", "world"]
    assert _cli([*base, "--voice-quality", "1", "-o", str(tmp_path / "a.wav")]) == 2
    assert "voice quality applies to the source renderer" in capsys.readouterr().err
    assert not (tmp_path / "a.wav").exists()
    assert _cli([*base, "-o", str(tmp_path / "b.wav")]) == 0  # m2m's own default: fine
