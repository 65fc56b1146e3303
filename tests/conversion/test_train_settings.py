"""Training settings: dict settings merge key by key, every value is checked against its
range, and speaker ids stay text (each case used to give a traceback, or be accepted)."""

from __future__ import annotations

import importlib

import pytest

from emovc.cli.convert_cmds import parse_settings
from emovc.cli.main import main
from emovc.errors import ConfigError


def _build(method: str, tmp_path, **overrides):
    """``emovc train [--from calm --to angry] --set KEY=VALUE ...`` of ``method`` (the pair
    for the pairwise methods only)."""
    trainer = importlib.import_module(f"emovc.training.{method}")
    pair = () if method == "stargan" else ("calm", "angry")
    return trainer.build_config(str(tmp_path), str(tmp_path / "run"), *pair,
                                preset="compact", overrides=overrides)


@pytest.mark.parametrize("method", ["stargan", "cyclegan"])
def test_model_and_world_settings_merge_into_the_preset(method, tmp_path):
    """``--preset full --set model={width: 64}`` keeps full's other sizes (it used to get
    the dataclass defaults while config.yaml said full); a typo names the valid keys."""
    trainer = importlib.import_module(f"emovc.training.{method}")
    presets = importlib.import_module(f"emovc.models.conversion.{method}").PRESETS
    cfg = trainer.build_config(str(tmp_path), str(tmp_path / "run"), preset="full",
                               overrides={"model": {"width": 64},
                                          "world": {"frame_period": 10}})
    assert cfg.model == {**presets["full"], "width": 64}
    assert cfg.world["frame_period"] == 10.0 and cfg.world["mcep_dim"] == 36
    with pytest.raises(ConfigError, match=r"setting model\.widht; valid keys: c_width, "):
        _build(method, tmp_path, model={"widht": 32})
    with pytest.raises(ConfigError, match=r"model\.width must be an integer, got 'wide'"):
        _build(method, tmp_path, model={"width": "wide"})
    with pytest.raises(ConfigError, match="model must be a mapping such as model="):
        _build(method, tmp_path, model=5)


@pytest.mark.parametrize(("method", "kwargs", "message"), [
    ("stargan", {"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ("stargan", {"segment": 0}, "segment must be at least 16, got 0"),
    ("stargan", {"val_every": 0}, "val_every must be at least 1, got 0"),
    ("stargan", {"lr_g": -1}, "lr_g must be above 0, got -1.0"),
    ("stargan", {"max_steps": -3}, "max_steps must be at least 1, got -3"),
    ("stargan", {"same_prob": 2}, "same_prob must be between 0 and 1, got 2.0"),
    ("stargan", {"w_pair": -1}, "w_pair must be at least 0, got -1.0"),
    ("stargan", {"seed": -1}, "seed must be at least 0, got -1"),
    ("stargan", {"model": {"n_down": 0}}, r"model\.n_down must be at least 1, got 0"),
    ("cyclegan", {"target": "calm"}, "must differ, got 'calm' twice"),
    ("cyclegan", {"target": "bored"}, "unknown target emotion 'bored'"),
    ("cyclegan", {"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ("cyclegan", {"w_cyc": -1}, "w_cyc must be at least 0, got -1.0"),
    ("cyclegan", {"n_scales": 0}, "n_scales must be at least 1, got 0"),
    ("spectrogan", {"crop_frames": 4}, "crop_frames must be at least 24 .*, got 4"),
    ("spectrogan", {"crop_rows": 4}, "crop_rows must be 24 to 256 .*, got 4"),
    ("spectrogan", {"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ("spectrogan", {"lr": 0}, "lr must be above 0, got 0.0"),
    ("spectrogan", {"decay_from": 2}, "decay_from must be between 0 and 1, got 2.0"),
    ("spectrogan", {"beta1": 1}, "beta1 must be at least 0 and below 1, got 1.0"),
    ("spectrogan", {"target": "calm"}, "source and target emotion are both 'calm'"),
    ("spectrogan", {"inference": {"gl_itres": 2}},
         r"unknown SpectroGAN setting inference.gl_itres; valid keys: .*gl_iters"),
])
def test_out_of_range_settings_are_one_line_errors(method, kwargs, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        _build(method, tmp_path, **kwargs)


def test_cli_refuses_bad_values_in_one_line(corpus, cache_root, tmp_path, capsys):
    for extra in (["--max-steps", "-3"], ["--set", "model={widht: 32}"]):
        code = main(["train", str(corpus), "-o", str(tmp_path / "run"), "--set",
                     f"cache_dir={cache_root}", "--set", "emotions=[calm, angry]", *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("emovc: error: ") and "Traceback" not in err, err


def test_speaker_ids_stay_text(corpus, tmp_path):
    """``--set train_speakers=[01, 02]`` keeps the ids as written (YAML read 1, 2, and the
    run failed with a misleading message); an id the corpus lacks is named."""
    from emovc.features.world import WorldConfig
    from emovc.training.feature_cache import build_cache

    assert parse_settings(["train_speakers=[01, 02]", "val_speakers=null"]) == {
        "train_speakers": ["01", "02"], "val_speakers": None}
    assert _build("stargan", tmp_path, train_speakers=[1, 2]).train_speakers == ["1", "2"]
    with pytest.raises(ConfigError, match="unknown speaker '1' in .*; its speakers: 01, 02, 17"):
        build_cache(corpus, tmp_path / "cache", WorldConfig(), speakers=["1"], workers=1)


def test_set_values_in_exponent_notation_are_numbers():
    """PyYAML reads ``1e-4`` as text; the docs write learning rates so (conversion.md)."""
    got = parse_settings(["lr_g=1e-4", "lr_d=3E-5", "model={lr: 2.5e+3}", "name=e5",
                          "run=1e4x"])
    assert got == {"lr_g": 1e-4, "lr_d": 3e-5, "model": {"lr": 2500.0}, "name": "e5",
                   "run": "1e4x"}
    assert isinstance(got["lr_g"], float)


def test_stargan_refuses_a_pair_instead_of_ignoring_it(tmp_path, capsys):
    from emovc.cli.main import main

    code = main(["train", str(tmp_path), "--method", "stargan", "--from", "calm", "--to",
                 "angry", "-o", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "--set emotions=" in err and "cyclegan" in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("setting", "message"), [
    ("run_dir=elsewhere", "--set run_dir is not taken here: the run folder is set with -o"),
    ("data_dir=other", "--set data_dir is not taken here: the corpus is the DATA_DIR argument"),
    ("max_steps=5", "--set max_steps is not taken here: use --max-steps"),
    ("preset=full", "--set preset is not taken here: use --preset"),  # recorded, not applied
])
def test_train_refuses_settings_its_arguments_set(setting, message, tmp_path, capsys):
    """``--set run_dir=`` silently beat -o (and ``data_dir`` DATA_DIR); ``--set max_steps``
    lost to a resumed run's own length without a word."""
    code = main(["train", str(tmp_path), "-o", str(tmp_path / "run"), "--set", setting])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"emovc: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "run").exists() and not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize(("emotions", "message"), [
    (["calm"], r"emotions must be 2 or more distinct emotions, got \[calm\]; valid choices: "
               "neutral, calm"),
    (["calm", "calm", "angry"], r"got \[calm, calm, angry\] \(calm twice\)"),
    ("calm", r"got the single name 'calm'; write a list such as --set "
             r"'emotions=\[calm, angry\]'$"),
    (5, r"emotions must be a list of 2 or more emotions such as .*, got 5$"),
    (["calm", "bored"], "unknown emotion 'bored'; valid choices: neutral, calm"),
])
def test_stargan_refuses_emotion_lists_it_cannot_train(emotions, message, tmp_path):
    """One emotion trained a useless model for the whole run, a duplicate an untrained
    embedding row, and a single name was split into letters ("valid choices: c, a, l, m")."""
    with pytest.raises(ConfigError, match=message):
        _build("stargan", tmp_path, emotions=emotions)
    assert _build("stargan", tmp_path, emotions=["Calm", "anger"]).emotions == ["calm", "angry"]


def test_train_refuses_a_single_emotion_at_once(tmp_path, capsys):
    code = main(["train", str(tmp_path), "-o", str(tmp_path / "run"), "--set", "emotions=calm"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--set 'emotions=[calm, angry]'" in err, err
    assert not (tmp_path / "run").exists()


def test_a_one_emotion_corpus_is_not_told_to_list_its_one_emotion():
    """The corpus error suggested ``--set emotions=[...]`` among the emotions it has, even
    when that is one: a one-emotion list, which training refuses."""
    from emovc.training.datamodule import _missing_emotions

    one = _missing_emotions(["angry"], ["calm"])
    assert "emotions=[" not in one and "2 or more emotions" in one, one
    two = _missing_emotions(["sad"], ["angry", "calm"])
    assert two.endswith("--set 'emotions=[angry, calm]' (stargan; 2 or more of them)"), two


def test_stargan_train_from_python_refuses_a_one_emotion_config(tmp_path):
    """The emotions check ran in ``build_config`` only: a config made in Python with one
    emotion trained a useless model."""
    from emovc.training import stargan

    cfg = _build("stargan", tmp_path)
    cfg.emotions = ["calm"]
    with pytest.raises(ConfigError, match=r"emotions must be 2 or more distinct emotions"):
        stargan.train(cfg)
    assert not (tmp_path / "run").exists()


def test_an_unknown_spectrogan_setting_lists_only_what_a_set_may_change(tmp_path):
    with pytest.raises(ConfigError, match="valid keys: ") as err:
        _build("spectrogan", tmp_path, bogus=1)
    listed = str(err.value).split("valid keys: ")[1].split(", ")
    assert "lr" in listed and not {"run_dir", "data_dir", "max_steps", "preset"} & set(listed)


def test_the_feature_cache_does_not_follow_the_working_directory(tmp_path, monkeypatch):
    """With EMOVC_CACHE unset the conversion cache was ``.cache/conversion`` in the working
    directory (a run from another folder computed every feature again and left .cache/
    there); set, it was $EMOVC_CACHE itself, beside the ser/ and sv2tts/ caches. It is now
    <emovc cache>/conversion, as the other caches."""
    from emovc.training.stargan_config import build_config

    monkeypatch.delenv("EMOVC_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    cfg = build_config(str(tmp_path / "corpus"), str(tmp_path / "run"))
    assert cfg.cache_dir == str(tmp_path / "home" / ".cache" / "emovc" / "conversion")
    monkeypatch.setenv("EMOVC_CACHE", str(tmp_path / "cache"))
    cfg = build_config(str(tmp_path / "corpus"), str(tmp_path / "run"))
    assert cfg.cache_dir == str(tmp_path / "cache" / "conversion")
