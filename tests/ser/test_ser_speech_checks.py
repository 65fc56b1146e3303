"""SER input checks: the 0.5 s minimum applies to the speech left after trimming; the CSV of
``ser predict`` keeps each file's warnings."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from emovc.audio import save_audio
from emovc.data.synthetic import EMOTION_VOICES, synthesize
from emovc.errors import AudioError, EmovcError, EmovcWarning
from emovc.pipelines.recognition import EmotionRecognizer

LITTLE_SPEECH = r"only 0\.3\d s from its first to its last sound in 3\.00 s \(need at least 0\.5 s"


def _little_speech(path: Path) -> Path:
    """3 s file holding 0.2 s of (synthetic) speech in faint noise."""
    burst = synthesize(EMOTION_VOICES["angry"], duration=0.2, seed=1)
    x = 1e-4 * np.random.default_rng(0).standard_normal(48000).astype(np.float32)
    x[20000:20000 + len(burst)] += burst
    return save_audio(path, x, 16000)


def _cli():
    import typer

    from emovc.cli import ser_cmds

    app = typer.Typer()
    ser_cmds.register(app)
    return app


def test_predict_refuses_a_file_with_little_speech_after_trimming(ser_run: Path, tmp_path):
    """A 3 s file with 0.2 s of speech passed the whole-clip check and was classified from
    those 0.2 s; now it is refused in one line naming it and the speech found."""
    from typer.testing import CliRunner

    from emovc.pipelines.source_choice import recognise_long

    path = _little_speech(tmp_path / "short.wav")
    rec = EmotionRecognizer.from_pretrained(ser_run)
    with pytest.raises(AudioError, match=rf"short\.wav is too short: {LITTLE_SPEECH}"):
        rec.predict_file(path)
    from emovc.audio import load_audio

    wav = load_audio(path, 16000)
    with pytest.raises(AudioError, match=LITTLE_SPEECH):
        rec.predict(wav, 16000)
    # conversion's source detection keeps its whole-clip check (its results are unchanged)
    lenient = rec.with_min_speech(None).predict(wav, 16000)
    assert recognise_long(rec, wav, 16000) == lenient
    assert rec.min_speech_s == 0.5  # the detection did not change the recogniser itself
    res = CliRunner().invoke(_cli(), ["ser", "predict", str(path), "--model", str(ser_run)])
    assert isinstance(res.exception, EmovcError)
    message = str(res.exception)
    assert "short.wav" in message and "need at least 0.5 s" in message and "\n" not in message


def test_training_leaves_out_a_clip_with_little_speech(tmp_path):
    """SER training's feature extraction refuses the clip too (it is then left out of the
    run with its reason, as any unusable clip); a normal clip still passes."""
    from emovc.models.ser.cache import corpus_features
    from emovc.models.ser.features import SerFeatureConfig

    short = _little_speech(tmp_path / "short.wav")
    good = save_audio(tmp_path / "good.wav",
                      synthesize(EMOTION_VOICES["sad"], duration=1.0, seed=2), 16000)
    got = corpus_features([short, good], SerFeatureConfig(), "original", tmp_path / "cache",
                          progress=False, skip_errors=True)
    assert isinstance(got[0], str) and "short.wav is too short" in got[0]
    assert pytest.approx(0.3, abs=0.05) == float(got[0].split("only ")[1].split(" s")[0])
    assert isinstance(got[1], dict) and got[1]["mel"].shape[1] > 50


def test_predict_csv_notes_the_files_whose_labels_are_a_guess(ser_run: Path, tmp_path):
    """`ser predict --csv` lost the warning that a file may not be speech: its labels looked
    as good as any other file's."""
    from typer.testing import CliRunner

    folder = tmp_path / "in"
    noise = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    save_audio(folder / "hiss.wav", noise, 16000)
    save_audio(folder / "talk.wav", synthesize(EMOTION_VOICES["angry"], duration=1.2, seed=5),
               16000)
    out = tmp_path / "pred.csv"
    with pytest.warns(EmovcWarning, match="hiss.wav may not be speech"):
        res = CliRunner().invoke(_cli(), ["ser", "predict", str(folder), "--model",
                                          str(ser_run), "--csv", str(out)])
    assert res.exit_code == 0, res.output
    rows = {Path(r["file"]).name: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert list(next(iter(rows.values())))[-2:] == ["error", "note"]
    assert rows["hiss.wav"]["prediction"] and rows["hiss.wav"]["error"] == ""
    assert "hiss.wav may not be speech" in rows["hiss.wav"]["note"]
    assert "labels are a guess" in rows["hiss.wav"]["note"]
    assert rows["talk.wav"]["note"] == ""


def test_predict_paths_still_warns_what_it_notes(ser_run: Path, tmp_path):
    """The note is kept besides the warning, not instead of it (also under a filter that
    hides emovc's warnings, the note is kept)."""
    import warnings

    from emovc.pipelines.recognition import predict_paths

    noise = (0.05 * np.random.default_rng(1).standard_normal(32000)).astype(np.float32)
    path = save_audio(tmp_path / "hiss.wav", noise, 16000)
    rec = EmotionRecognizer.from_pretrained(ser_run)
    with pytest.warns(EmovcWarning, match="hiss.wav may not be speech"):
        (result,) = predict_paths(rec, [path])
    assert "may not be speech" in result.note
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("ignore", EmovcWarning)
        (result,) = predict_paths(rec, [path])
    assert "may not be speech" in result.note and not shown


def test_predict_notes_a_truncated_wav_and_skips_a_missing_path(ser_run: Path, tmp_path):
    """A WAV cut short read silently as a shorter file (a FLAC was noted as damaged); a
    missing path aborted the whole command before the others were classified, while an
    unreadable file is skipped and listed (exit 2): now a missing one is too."""
    from typer.testing import CliRunner

    whole = save_audio(tmp_path / "whole.wav",
                       synthesize(EMOTION_VOICES["angry"], duration=3.0, seed=5), 16000)
    data = whole.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    out = tmp_path / "pred.csv"
    with pytest.warns(EmovcWarning, match="cut.wav is damaged or truncated"):
        res = CliRunner().invoke(_cli(), ["ser", "predict", str(tmp_path / "cut.wav"),
                                          str(tmp_path / "missing.wav"), "--model",
                                          str(ser_run), "--csv", str(out)])
    assert isinstance(res.exception, EmovcError)  # exit 2 in emovc's main
    assert "1 of 2 file(s) could not be classified" in str(res.exception)
    rows = {Path(r["file"]).name: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["cut.wav"]["prediction"] and "damaged or truncated" in rows["cut.wav"]["note"]
    assert rows["missing.wav"]["error"].startswith("file or folder not found")


def test_train_refuses_epochs_for_the_linear_method(tmp_path):
    """`ser train --method linear --epochs 50` ignored --epochs without a word."""
    from typer.testing import CliRunner

    res = CliRunner().invoke(_cli(), ["ser", "train", str(tmp_path), "-o", str(tmp_path / "r"),
                                      "--method", "linear", "--epochs", "50"])
    assert isinstance(res.exception, EmovcError)
    assert "--method linear trains no CNN" in str(res.exception)
    assert not (tmp_path / "r").exists()
