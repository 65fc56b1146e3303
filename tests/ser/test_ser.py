"""SER: training on synthetic caricatures, exact save/load, input validation, bundled model."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from emovc.data.emotions import EMOTIONS
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, ConfigError, EmovcError
from emovc.models.ser.features import SerFeatureConfig
from emovc.models.ser.functional import fit_linear_head, speaker_znorm
from emovc.models.ser.metrics import classification_report
from emovc.models.ser.model import SerModel, load
from emovc.pipelines.recognition import EmotionRecognizer


def test_trained_recogniser_beats_chance_on_unseen_speaker(ser_run: Path):
    run = ser_run.parent
    assert (run / "config.yaml").is_file() and ser_run.is_file()
    metrics = json.loads((run / "metrics.json").read_text())
    val = metrics["validation"]["original/utterance"]
    assert val["n"] == 8
    assert val["unweighted_accuracy"] >= 0.75  # chance = 0.5
    rec = EmotionRecognizer.from_pretrained(ser_run)
    assert rec.labels == ("sad", "angry")  # canonical order of the emotions present
    wav = synthesize(EMOTION_VOICES["angry"].with_(f0_mean=170.0), duration=1.2, seed=999)
    probs = rec.predict(wav, 16000)
    assert set(probs) == {"sad", "angry"}
    assert abs(sum(probs.values()) - 1.0) < 1e-9
    assert rec.top_k(wav, 16000, k=1)[0][0] == "angry"


def test_linear_head_matches_sklearn_exactly(rng):
    from sklearn.linear_model import LogisticRegression

    x = rng.normal(size=(60, 5)) + np.repeat(np.eye(3, 5) * 2, 20, axis=0)
    y = np.repeat(np.arange(3), 20)
    head = fit_linear_head(x, y, np.zeros(60), "egemaps", "utterance", 1.0, 3)
    ref = LogisticRegression(C=1.0, max_iter=3000, random_state=0).fit(
        (x - x.mean(0)) / x.std(0), y)
    np.testing.assert_allclose(head.predict_proba(x),
                               ref.predict_proba((x - x.mean(0)) / x.std(0)), atol=1e-10)


def test_speaker_znorm_uses_each_speakers_statistics():
    x = np.array([[1.0], [3.0], [10.0], [30.0]])
    z = speaker_znorm(x, np.array(["a", "a", "b", "b"]))
    np.testing.assert_allclose(z[:, 0], [-1, 1, -1, 1])


def _features(n: int, seed: int) -> tuple[list[dict], np.ndarray]:
    from emovc.models.ser.cache import compute_clip_features

    emos = ("angry", "sad")
    feats, y = [], []
    for i in range(n):
        wav = synthesize(EMOTION_VOICES[emos[i % 2]], duration=0.8, seed=seed + i)
        feats.append(compute_clip_features(wav, SerFeatureConfig()))
        y.append(i % 2)
    return feats, np.array(y)


def test_ensemble_checkpoint_round_trip_is_exact(tmp_path: Path):
    from emovc.training.ser import build_config, fit_model

    feats, y = _features(8, seed=0)
    cfg = build_config("unused", str(tmp_path), {
        "method": "ensemble", "feature_set": "egemaps", "cache_dir": str(tmp_path),
        "net": {"channels": [4, 8]}, "cnn": {"epochs": 2, "batch_size": 4, "threads": 1}})
    spk = np.array(["a"] * 4 + ["b"] * 4)
    model = fit_model(cfg, ("angry", "sad"), feats, y, spk, world_feats=feats, progress=False)
    assert model.method == "ensemble"
    path = model.save(tmp_path / "m.pt")
    loaded, _ = load(path)
    test, _ = _features(4, seed=50)
    np.testing.assert_array_equal(model.predict_proba(test), loaded.predict_proba(test))
    np.testing.assert_array_equal(model.predict_proba(test, speaker_norm=True),
                                  loaded.predict_proba(test, speaker_norm=True))
    assert isinstance(loaded, SerModel) and loaded.labels == ("angry", "sad")
    cnn_only = fit_model(replace(cfg, method="cnn"), ("angry", "sad"), feats, y, spk,
                         progress=False)  # nothing to normalise by speaker: refused
    with pytest.raises(ConfigError, match="speaker_norm needs a linear or ensemble"):
        cnn_only.predict_proba(test, speaker_norm=True)


def test_bad_input_raises_audio_error(ser_run: Path, tmp_path: Path):
    rec = EmotionRecognizer.from_pretrained(ser_run)
    with pytest.raises(AudioError, match="too short"):
        rec.predict(np.zeros(1600, np.float32) + 0.1, 16000)
    with pytest.raises(AudioError, match="silent"):
        rec.predict(np.zeros(32000, np.float32), 16000)
    with pytest.raises(AudioError, match="not found"):
        rec.predict_file(tmp_path / "missing.wav")
    with pytest.raises(ConfigError):
        EmotionRecognizer.from_pretrained(tmp_path / "missing.pt")


def test_build_config_rejects_unknown_choices(tmp_path: Path):
    from emovc.training.ser import build_config

    with pytest.raises(ConfigError, match="valid choices"):
        build_config("d", str(tmp_path), {"method": "transformer"})
    with pytest.raises(ConfigError, match="valid choices"):
        build_config("d", str(tmp_path), {"learning_rate": 1.0})
    with pytest.raises(ConfigError, match="c_utterance must be a number, got 'abc'"):
        build_config("d", str(tmp_path), {"c_utterance": "abc"})
    assert build_config("d", str(tmp_path), {"seed": 3}).seed == 3


def test_build_config_rejects_bad_cnn_devices_before_any_work(tmp_path: Path):
    """Review 41 L1: these failed with Lightning's own exception after feature extraction."""
    from emovc.training.ser import build_config

    with pytest.raises(ConfigError, match="CNN accelerator 'tpu9'.*valid choices.*cpu"):
        build_config("d", str(tmp_path), {"cnn": {"accelerator": "tpu9"}})
    for bad in (0, -1):
        with pytest.raises(ConfigError, match="CNN devices must be a whole number"):
            build_config("d", str(tmp_path), {"cnn": {"devices": bad}})
    cfg = build_config("d", str(tmp_path), {"cnn": {"accelerator": "cpu", "devices": 2}})
    assert (cfg.cnn.accelerator, cfg.cnn.devices) == ("cpu", 2)


def test_classification_report_known_answer():
    proba = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    rep = classification_report(np.array([0, 1, 1, 2, 2, 2]), proba, ("a", "b", "c"))
    assert rep["weighted_accuracy"] == pytest.approx(5 / 6)
    assert rep["unweighted_accuracy"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert rep["confusion"] == [[1, 0, 0], [1, 1, 0], [0, 0, 3]]


def test_cli_predict_reports_skipped_files(ser_run: Path, ser_corpus: Path, tmp_path: Path):
    import shutil

    import typer
    from typer.testing import CliRunner

    from emovc.cli import ser_cmds

    folder = tmp_path / "in"
    folder.mkdir()
    for src in sorted((ser_corpus / "val" / "angry").glob("*.wav"))[:2]:
        shutil.copy(src, folder / src.name)
    (folder / "broken.wav").write_bytes(b"not audio at all")
    app = typer.Typer()
    ser_cmds.register(app)
    res = CliRunner().invoke(app, ["ser", "predict", str(folder), "--model", str(ser_run),
                                   "--top-k", "2"])
    # the good files are printed, the bad one named, and the command fails (exit 2 in emovc)
    assert isinstance(res.exception, EmovcError), res.output
    assert "1 of 3 file(s) could not be classified" in str(res.exception)
    lines = [ln for ln in res.stdout.splitlines() if "\t" in ln]
    assert len(lines) == 2 and all("angry" in ln and "sad" in ln for ln in lines)
    assert "skipped" in res.stderr and "broken.wav" in res.stderr
    one = CliRunner().invoke(app, ["ser", "predict", str(folder / "broken.wav"), "--model",
                                   str(ser_run)])
    # one file asked for: its own error, not a "skipped" line and a count as well
    assert isinstance(one.exception, EmovcError) and "not a readable audio file" in str(
        one.exception) and "skipped" not in one.stderr
    # --csv: every file once (named and inside the folder), each emotion's probability
    out = tmp_path / "pred.csv"
    good = sorted(folder.glob("*_0.wav"))[0]
    res = CliRunner().invoke(app, ["ser", "predict", str(good), str(folder), "--model",
                                   str(ser_run), "--csv", str(out)])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [Path(r["file"]).name for r in rows] == [good.name, "broken.wav",
                                                     sorted(folder.glob("*_1.wav"))[0].name]
    assert rows[0]["prediction"] in ("angry", "sad") and rows[1]["prediction"] == ""
    assert float(rows[0]["p_angry"]) + float(rows[0]["p_sad"]) == pytest.approx(1, abs=1e-3)
    assert "not a readable audio file" in rows[1]["error"] and rows[1]["p_sad"] == ""
    again = CliRunner().invoke(app, ["ser", "predict", str(good), "--model", str(ser_run),
                                     "--csv", str(out)])
    assert "output exists" in str(again.exception)


def test_bundled_default_returns_eight_emotions(speech: np.ndarray):
    rec = EmotionRecognizer.from_pretrained("default")
    probs = rec.predict(speech, 16000)
    assert tuple(probs) == EMOTIONS
    assert abs(sum(probs.values()) - 1.0) < 1e-6
    assert all(0.0 <= p <= 1.0 for p in probs.values())


def test_unknown_validation_speakers_are_refused(ser_corpus, tmp_path):
    """Held-out speakers the corpus does not have are an error naming the ones it has, not a
    run that silently holds out nobody."""
    from emovc.errors import EmovcError
    from emovc.training.ser import build_config, split_corpus

    cfg = build_config(str(ser_corpus), str(tmp_path / "run"), {"val_speakers": ["17", "val"]})
    with pytest.raises(EmovcError, match=r"speaker\(s\) 17 not in .*s1, s2, s3, s4, val"):
        split_corpus(cfg)
    train, val, _ = split_corpus(build_config(str(ser_corpus), str(tmp_path / "run"),
                                              {"val_speakers": []}))
    assert len(val) == 0 and len(train) > 0


def test_retraining_into_a_finished_run_needs_force(ser_run):
    """A run folder with a model is not silently retrained over."""
    import yaml

    from emovc.errors import EmovcError
    from emovc.training.ser import SerTrainConfig, train

    cfg = SerTrainConfig(**yaml.safe_load((ser_run.parent / "config.yaml").read_text()))
    before = ser_run.read_bytes()
    with pytest.raises(EmovcError, match="already holds a trained model"):
        train(cfg, progress=False)
    assert ser_run.read_bytes() == before


def test_fresh_and_cached_features_are_the_same(tmp_path, speech):
    """A fresh cache returned float32 log-mels, a warm one the stored float16: two runs of
    the same training gave different models."""
    from emovc.audio import save_audio
    from emovc.models.ser.cache import cached_clip_features

    path = save_audio(tmp_path / "a.wav", speech, 16000)
    cfg = SerFeatureConfig()
    fresh = cached_clip_features(path, cfg, "original", tmp_path / "cache")
    warm = cached_clip_features(path, cfg, "original", tmp_path / "cache")
    assert set(fresh) == set(warm)
    for k in fresh:
        assert fresh[k].dtype == warm[k].dtype and np.array_equal(fresh[k], warm[k]), k


def test_a_failed_cache_write_leaves_no_file(tmp_path, speech, monkeypatch):
    """A cache write that fails half-way (a full disk) left a ``.<pid>.tmp.npz`` file that
    nothing removed; it now goes with the failure (fileio.atomic_output)."""
    from emovc.audio import save_audio
    from emovc.models.ser.cache import cached_clip_features

    path = save_audio(tmp_path / "a.wav", speech, 16000)

    def half_save(file, **_):
        Path(file).write_bytes(b"PK\x03\x04")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", half_save)
    with pytest.raises(OSError, match="No space"):
        cached_clip_features(path, SerFeatureConfig(), "original", tmp_path / "cache")
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_unusable_clips_are_left_out_with_a_warning(ser_corpus, tmp_path):
    """A too-short clip in training and a silent one in validation are left out (warned,
    listed in metrics.json); the same model as without them is trained. Nothing is written
    into the run folder before the model is."""
    import json
    import shutil
    import warnings

    from emovc.audio import save_audio
    from emovc.errors import EmovcError, EmovcWarning
    from emovc.models.checkpoint import load_checkpoint
    from emovc.training.ser import build_config, train

    corpus = tmp_path / "corpus"
    shutil.copytree(ser_corpus, corpus)
    settings = {"val_speakers": ["val"], "method": "linear", "feature_set": "egemaps",
                "world_augment": False, "cache_dir": str(tmp_path / "cache"),
                "c_utterance": 0.1, "c_speaker": 0.1}
    clean = train(build_config(str(corpus), str(tmp_path / "clean"), settings), progress=False)
    save_audio(corpus / "s1" / "angry" / "short.wav", np.full(800, 0.1, np.float32), 16000)
    save_audio(corpus / "val" / "sad" / "quiet.wav", np.zeros(16000, np.float32), 16000)
    with pytest.warns(EmovcWarning, match=r"2 clip\(s\) left out of training and validation"):
        path = train(build_config(str(corpus), str(tmp_path / "run"), settings), progress=False)
    metrics = json.loads((path.parent / "metrics.json").read_text())
    assert sorted(Path(p).name for p in metrics["left_out"]) == ["quiet.wav", "short.wav"]
    assert "too short" in metrics["left_out"][str(corpus / "s1" / "angry" / "short.wav")]
    a, b = load_checkpoint(clean)["state_dict"], load_checkpoint(path)["state_dict"]
    assert all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)
    # every clip of one emotion unusable: an error, and no run folder
    for f in (corpus / "s1" / "sad").iterdir():
        f.write_bytes(b"not audio")
    for spk in ("s2", "s3", "s4"):
        shutil.rmtree(corpus / spk / "sad")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EmovcError, match="no usable training clip of sad"):
            train(build_config(str(corpus), str(tmp_path / "bad"), settings), progress=False)
    assert not (tmp_path / "bad").exists()


def test_cli_train_prints_the_validation_report(ser_corpus: Path, tmp_path: Path):
    import typer
    from typer.testing import CliRunner

    from emovc.cli import ser_cmds

    app = typer.Typer()
    ser_cmds.register(app)
    res = CliRunner().invoke(app, [
        "ser", "train", str(ser_corpus), "-o", str(tmp_path / "run"), "--val-speakers", "val",
        "--method", "linear", "--feature-set", "egemaps", "--no-world-augment", "-q",
        "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    assert "original/utterance: UA" in res.stdout
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("recall per emotion"))
    assert "angry" in line and "sad" in line
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.yaml", "metrics.json", "model.pt"]


def test_a_file_that_may_not_be_speech_is_labelled_with_a_warning(ser_run: Path, tmp_path: Path):
    """White noise got "angry 0.93" and nothing else said."""
    from emovc.audio import save_audio
    from emovc.errors import EmovcWarning

    rec = EmotionRecognizer.from_pretrained(str(ser_run))
    noise = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    path = save_audio(tmp_path / "hiss.wav", noise, 16000)
    with pytest.warns(EmovcWarning, match=r"hiss.wav may not be speech: .*labels are a guess"):
        probs = rec.predict_file(path)
    assert sum(probs.values()) == pytest.approx(1.0)


def _converter_run(root: Path, model: bool = True) -> Path:
    """A folder as `emovc train` leaves it (model.pt only once it has validated)."""
    import yaml

    from emovc.models.checkpoint import save_checkpoint

    for name in ("checkpoints/last.ckpt", "tb/version_0/events.out", "audio/step4.wav"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    (root / "config.yaml").write_text(yaml.safe_dump({"max_steps": 4, "lambda_cyc": 1.0}))
    if model:
        save_checkpoint(root / "model.pt", kind="emotion-converter/stargan", config={},
                        state_dict={})
    return root


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(("model", "said"), [
    (True, "holds an emotion converter run (its model.pt), not an emotion recogniser run"),
    (False, "holds another kind of run (its config.yaml has settings an emotion recogniser run "
            "does not: lambda_cyc, max_steps)"),
])
def test_ser_train_names_another_trainers_folder_and_force_clears_it(
        model, said, ser_corpus, tmp_path, monkeypatch):
    """`ser train` at a converter's run folder said "already holds a trained model" (without
    what kind), or with no model.pt yet overwrote its config.yaml; --force left the
    converter's checkpoints/ and tb/ (and a later `emovc train` there found last.ckpt)."""
    from emovc.training import ser as tser
    from emovc.training.ser import build_config, train

    run = _converter_run(tmp_path / "run", model)
    (run / "notes.txt").write_text("mine")
    before = _files(run)

    def cfg(**extra):
        return build_config(str(ser_corpus), str(run), {
            "val_speakers": ["val"], "method": "linear", "feature_set": "egemaps",
            "world_augment": False, "cache_dir": str(tmp_path / "cache"), **extra})

    with monkeypatch.context() as m:
        m.setattr(tser, "split_corpus", lambda c: pytest.fail("corpus read before the check"))
        with pytest.raises(ConfigError, match="choose another -o; --force would start this "
                                              "run there, deleting that run's model.pt") as e:
            train(cfg(), progress=False)
    assert said in str(e.value)
    with pytest.raises(EmovcError, match="validation speaker"):  # fails on its data: kept
        train(cfg(val_speakers=["99"]), progress=False, force=True)
    assert _files(run) == before
    train(cfg(), progress=False, force=True)
    assert _files(run) == ["config.yaml", "metrics.json", "model.pt", "notes.txt"]
    assert sorted(p.name for p in run.iterdir()) == _files(run)


def test_ser_train_refuses_a_folder_of_lightning_checkpoints(ser_corpus, tmp_path):
    """A folder holding only another trainer's checkpoints/last.ckpt is not a recogniser's."""
    from emovc.training.ser import build_config, train

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_text("x")
    with pytest.raises(ConfigError, match=r"holds another kind of run \(its "
                                          r"checkpoints/last.ckpt, an emovc train or train-voice "
                                          r"checkpoint\), not an emotion recogniser run"):
        train(build_config(str(ser_corpus), str(run), {"val_speakers": ["val"]}), progress=False)
